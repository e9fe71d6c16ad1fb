/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Epoch messages held back for lagging peers (after hbbft's sender queue).
 * A peer drops messages more than ABC_EPOCHS_AHEAD epochs beyond its own,
 * so sending them would lose them: a slow correct peer would then miss the
 * very messages it needs once it gets there. We hold them instead, per
 * peer and bounded, and send them when the peer announces an epoch close
 * enough. A peer that announced a later epoch than the message's has
 * delivered that epoch and gets nothing for it.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/abc_internal.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/wire.h"

static void hold_drop_head(abc_t *abc, abc_peer_t *peer)
{
	abc_held_t *h = peer->held_head;
	assert(h != NULL && peer->held_count > 0);
	peer->held_head = h->next;
	if (peer->held_head == NULL) {
		peer->held_tail = NULL;
	}
	peer->held_count--;
	peer->held_bytes -= h->len;
	free(h);
}

/* Holds one copy for peer j; the oldest go when the bounds are reached
 * (the newest epochs are the ones a peer catching up needs live). */
static int hold_add(abc_t *abc, bft_node_t j, uint64_t epoch, const uint8_t *hdr,
                    size_t hdr_len, const uint8_t *body, size_t body_len)
{
	abc_peer_t *peer = &abc->peers[j];
	size_t len = hdr_len + body_len;
	if (len > ABC_HOLD_BYTES_MAX) {
		abc->stats.held_dropped++;
		return BFT_EOK;
	}
	abc_held_t *h = malloc(sizeof(*h) + len);
	if (h == NULL) {
		return BFT_ENOMEM;
	}
	h->next = NULL;
	h->epoch = epoch;
	h->len = (uint32_t)len;
	memcpy(h->data, hdr, hdr_len);
	memcpy(h->data + hdr_len, body, body_len);
	while (peer->held_count > 0 && (peer->held_count >= ABC_HOLD_MSGS_MAX ||
	                                peer->held_bytes + len > ABC_HOLD_BYTES_MAX)) {
		hold_drop_head(abc, peer);
		abc->stats.held_dropped++;
	}
	if (peer->held_tail != NULL) {
		peer->held_tail->next = h;
	} else {
		peer->held_head = h;
	}
	peer->held_tail = h;
	peer->held_count++;
	peer->held_bytes += len;
	abc->stats.held++;
	return BFT_EOK;
}

/* Who gets one message of `epoch` now (targets in `to`); others are held. */
static int hold_route(abc_t *abc, uint64_t epoch, bft_nodeset_t to, const uint8_t *hdr,
                      size_t hdr_len, const uint8_t *body, size_t body_len,
                      bft_nodeset_t *now)
{
	*now = 0;
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		if (!bft_nodeset_has(to, j)) {
			continue;
		}
		const abc_peer_t *peer = &abc->peers[j];
		if (j != abc->params.self && abc_silent(abc, epoch)) {
			continue;  /* See abc_internal.h: restarted. */
		}
		if (j == abc->params.self || (epoch >= peer->epoch &&
		                              epoch - peer->epoch <= ABC_EPOCHS_AHEAD)) {
			*now |= bft_nodeset_one(j);
		} else if (epoch > peer->epoch) {
			int ret = hold_add(abc, j, epoch, hdr, hdr_len, body, body_len);
			if (ret != BFT_EOK) {
				return ret;
			}
		}
		/* else: it announced a later epoch, so it delivered this one. */
	}
	return BFT_EOK;
}

int abc_hold_lift(abc_t *abc, uint64_t epoch, bft_step_t *step)
{
	bft_step_t *child = &abc->scratch;
	uint8_t hdr[9];
	bft_wire_w_t w;
	bft_wire_w_init(&w, hdr, sizeof(hdr));
	bft_wire_put_u8(&w, ABC_MSG_EPOCH);
	bft_wire_put_u64(&w, epoch);
	assert(bft_wire_w_ok(&w));
	int ret = BFT_EOK;
	for (size_t i = 0; i < child->msg_count && ret == BFT_EOK; i++) {
		const uint8_t *body = bft_step_msg_data(child, i);
		size_t len = child->msgs[i].len;
		bft_nodeset_t now = 0;
		ret = hold_route(abc, epoch, child->msgs[i].to, hdr, sizeof(hdr), body, len, &now);
		if (ret == BFT_EOK && now != 0) {
			ret = bft_step_send2(step, now, hdr, sizeof(hdr), body, len);
		}
	}
	for (size_t i = 0; i < child->fault_count; i++) {
		bft_step_fault(step, child->faults[i].node, child->faults[i].kind);
	}
	step->faults_dropped += child->faults_dropped;
	bft_step_clear(child);
	return ret;
}

int abc_hold_release(abc_t *abc, bft_node_t j, bft_step_t *step)
{
	abc_peer_t *peer = &abc->peers[j];
	abc_held_t **link = &peer->held_head;
	abc_held_t *prev = NULL;
	int ret = BFT_EOK;
	/* At most held_count entries: each is sent, dropped or stepped over. */
	while (*link != NULL && ret == BFT_EOK) {
		abc_held_t *h = *link;
		bool behind = h->epoch < peer->epoch;
		bool fits = !behind && h->epoch - peer->epoch <= ABC_EPOCHS_AHEAD;
		if (fits) {
			ret = bft_step_send(step, bft_nodeset_one(j), h->data, h->len);
			if (ret != BFT_EOK) {
				break;  /* A full step: it stays held. */
			}
		}
		if (!fits && !behind) {
			prev = h;
			link = &h->next;
			continue;
		}
		abc->stats.held_dropped += behind ? 1u : 0u;
		*link = h->next;
		if (peer->held_tail == h) {
			peer->held_tail = prev;
		}
		peer->held_count--;
		peer->held_bytes -= h->len;
		free(h);
	}
	return ret;
}

void abc_hold_free(abc_t *abc)
{
	for (bft_node_t j = 0; j < BFT_NODES_MAX; j++) {
		while (abc->peers[j].held_head != NULL) {
			hold_drop_head(abc, &abc->peers[j]);
		}
	}
}
