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
			/* See abc_internal.h: restarted. Held, not sent, until the
			 * silence ends (abc_resume_check()), if it does. */
			int ret = hold_add(abc, j, epoch, hdr, hdr_len, body, body_len);
			if (ret != BFT_EOK) {
				return ret;
			}
			continue;
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

int abc_hold_send(abc_t *abc, uint64_t epoch, bft_nodeset_t to, const uint8_t *msg, size_t len,
                  bft_step_t *step)
{
	uint8_t hdr[9];
	bft_wire_w_t w;
	bft_wire_w_init(&w, hdr, sizeof(hdr));
	bft_wire_put_u8(&w, ABC_MSG_EPOCH);
	bft_wire_put_u64(&w, epoch);
	assert(bft_wire_w_ok(&w));
	bft_nodeset_t now = 0;
	int ret = hold_route(abc, epoch, to, hdr, sizeof(hdr), msg, len, &now);
	if (ret == BFT_EOK && now != 0) {
		ret = bft_step_send2(step, now, hdr, sizeof(hdr), msg, len);
	}
	return ret;
}

int abc_hold_lift(abc_t *abc, uint64_t epoch, bft_step_t *step)
{
	bft_step_t *child = &abc->scratch;
	int ret = BFT_EOK;
	for (size_t i = 0; i < child->msg_count && ret == BFT_EOK; i++) {
		const uint8_t *body = bft_step_msg_data(child, i);
		size_t len = child->msgs[i].len;
		bool send = false;
		ret = abc_guard_check(abc, epoch, child->msgs[i].to, body, len, step, &send);
		if (ret == BFT_EOK && send) {
			ret = abc_hold_send(abc, epoch, child->msgs[i].to, body, len, step);
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
		/* Said while silent after a restart: not before the silence ends. */
		bool fits = !behind && h->epoch - peer->epoch <= ABC_EPOCHS_AHEAD &&
		            !abc_silent(abc, h->epoch);
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

/*
 * The other side: epoch messages a peer sent us for epochs beyond our
 * window. A correct peer sends them only before it heard how far behind we
 * are, typically while we were down: its send queue gives them to our new
 * instance, which starts at epoch 0 (or at its log's end), catches up by
 * fetching, and then needs exactly those messages in the epoch the others
 * wait in. Dropping them stalled the group for good when f + 1 restarted
 * (doc/broadcast.md, "Catch-up", 5). Kept per peer and bounded; a faulty
 * peer fills only its own share.
 */
int abc_park_add(abc_t *abc, bft_node_t from, uint64_t epoch, const uint8_t *msg, size_t len)
{
	assert(from < abc->params.n && from != abc->params.self);
	assert(epoch > abc->epoch && epoch - abc->epoch > ABC_EPOCHS_AHEAD);
	abc_peer_t *peer = &abc->peers[from];
	if (peer->parked_count >= ABC_PARK_MSGS_MAX || len > ABC_PARK_BYTES_MAX - peer->parked_bytes) {
		abc->stats.future_dropped++;   /* The oldest are the ones we need first. */
		return BFT_EOK;
	}
	abc_held_t *h = malloc(sizeof(*h) + len);
	if (h == NULL) {
		return BFT_ENOMEM;
	}
	h->next = NULL;
	h->epoch = epoch;
	h->len = (uint32_t)len;
	memcpy(h->data, msg, len);
	if (peer->parked_tail != NULL) {
		peer->parked_tail->next = h;
	} else {
		peer->parked_head = h;
	}
	peer->parked_tail = h;
	peer->parked_count++;
	peer->parked_bytes += len;
	if (abc->parked_total++ == 0 || epoch < abc->parked_min) {
		abc->parked_min = epoch;
	}
	abc->stats.parked++;
	return BFT_EOK;
}

/* Takes *link (h) off peer's parked list; prev is the entry before it. */
static void park_unlink(abc_t *abc, abc_peer_t *peer, abc_held_t **link, abc_held_t *prev)
{
	abc_held_t *h = *link;
	assert(h != NULL && peer->parked_count > 0 && abc->parked_total > 0 &&
	       peer->parked_bytes >= h->len);
	*link = h->next;
	if (peer->parked_tail == h) {
		peer->parked_tail = prev;
	}
	peer->parked_count--;
	peer->parked_bytes -= h->len;
	abc->parked_total--;
}

abc_held_t *abc_park_next(abc_t *abc, bft_node_t *from)
{
	/* Nothing due yet (parked_min is at most every parked epoch): the
	 * usual case while anything is parked at all. */
	if (abc->parked_total == 0 ||
	    (abc->parked_min > abc->epoch && abc->parked_min - abc->epoch > ABC_EPOCHS_AHEAD)) {
		return NULL;
	}
	/* At most parked_total entries are looked at: each is returned, freed
	 * or stepped over; a scan that returns nothing finds the new minimum. */
	uint64_t min = UINT64_MAX;
	for (bft_node_t j = 0; j < abc->params.n && abc->parked_total > 0; j++) {
		abc_peer_t *peer = &abc->peers[j];
		abc_held_t **link = &peer->parked_head;
		abc_held_t *prev = NULL;
		while (*link != NULL) {
			abc_held_t *h = *link;
			if (h->epoch < abc->epoch) {
				park_unlink(abc, peer, link, prev);   /* Finished (fetched). */
				free(h);
				continue;
			}
			if (h->epoch - abc->epoch <= ABC_EPOCHS_AHEAD) {
				park_unlink(abc, peer, link, prev);
				*from = j;
				return h;
			}
			min = h->epoch < min ? h->epoch : min;
			prev = h;
			link = &h->next;
		}
	}
	abc->parked_min = min;
	return NULL;
}

void abc_hold_free(abc_t *abc)
{
	for (bft_node_t j = 0; j < BFT_NODES_MAX; j++) {
		abc_peer_t *peer = &abc->peers[j];
		while (peer->held_head != NULL) {
			hold_drop_head(abc, peer);
		}
		while (peer->parked_head != NULL) {
			abc_held_t *h = peer->parked_head;
			park_unlink(abc, peer, &peer->parked_head, NULL);
			free(h);
		}
	}
}
