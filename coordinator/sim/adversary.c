/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <string.h>

#include "coordinator/proto/error.h"
#include "coordinator/sim/adversary.h"

static const char *byz_names[SIM_BYZ_KINDS] = {
	"honest", "silent", "garbage", "replay", "equivocate", "bitflip", "mix",
};

const char *sim_byz_name(sim_byz_t kind)
{
	return kind < SIM_BYZ_KINDS ? byz_names[kind] : NULL;
}

int sim_byz_parse(const char *name, sim_byz_t *out)
{
	for (int i = 0; i < SIM_BYZ_KINDS; i++) {
		if (strcmp(name, byz_names[i]) == 0) {
			*out = (sim_byz_t)i;
			return BFT_EOK;
		}
	}
	return BFT_EINVAL;
}

static void byz_garbage(sim_t *sim, bft_node_t from, bft_node_t to,
                        const uint8_t *msg, size_t len)
{
	uint8_t junk[64];
	size_t junk_len = 1 + sim_random(sim) % sizeof(junk);
	for (size_t i = 0; i < junk_len; i++) {
		junk[i] = (uint8_t)sim_random(sim);
	}
	/* Keep a valid first byte half the time, to get past kind checks. */
	if (sim_random(sim) % 2 == 0) {
		junk[0] = msg[0];
	}
	sim_inject(sim, from, to, junk, junk_len);
	if (sim_random(sim) % 2 == 0) {
		sim_inject(sim, from, to, msg, len);
	}
}

static void byz_replay(sim_byz_state_t *st, sim_t *sim, bft_node_t from, bft_node_t to,
                       const uint8_t *msg, size_t len)
{
	sim_inject(sim, from, to, msg, len);
	if (st->ring_count > 0 && sim_random(sim) % 2 == 0) {
		size_t k = sim_random(sim) % st->ring_count;
		bft_node_t target = (bft_node_t)(sim_random(sim) % sim_conf(sim)->n);
		/* A faulty node can only speak as itself: TLS authenticates the sender. */
		sim_inject(sim, from, target, st->ring[k].data, st->ring[k].len);
	}
	if (len <= SIM_REPLAY_LEN) {
		st->ring[st->ring_next].from = from;
		st->ring[st->ring_next].len = len;
		memcpy(st->ring[st->ring_next].data, msg, len);
		st->ring_next = (st->ring_next + 1) % SIM_REPLAY_RING;
		if (st->ring_count < SIM_REPLAY_RING) {
			st->ring_count++;
		}
	}
}

/* Sends msg with one byte changed: at `pos`, xor `mask` (not 0). */
static void byz_send_changed(sim_t *sim, bft_node_t from, bft_node_t to,
                             const uint8_t *msg, size_t len, size_t pos, uint8_t mask)
{
	uint8_t buf[SIM_REPLAY_LEN];
	if (len > sizeof(buf)) {
		sim_inject(sim, from, to, msg, len);  /* too long to copy here: pass on */
		return;
	}
	memcpy(buf, msg, len);
	buf[pos] ^= mask;
	sim_inject(sim, from, to, buf, len);
}

static void byz_tamper(void *ctx, sim_t *sim, bft_node_t from, bft_node_t to,
                       const uint8_t *msg, size_t len)
{
	sim_byz_state_t *st = ctx;
	assert(len > 0);
	sim_byz_t kind = st->kind;
	if (kind == SIM_BYZ_MIX) {
		kind = (sim_byz_t)(sim_random(sim) % SIM_BYZ_MIX);
	}
	switch (kind) {
	case SIM_BYZ_HONEST:
		sim_inject(sim, from, to, msg, len);
		break;
	case SIM_BYZ_SILENT:
		break;
	case SIM_BYZ_GARBAGE:
		byz_garbage(sim, from, to, msg, len);
		break;
	case SIM_BYZ_REPLAY:
		byz_replay(st, sim, from, to, msg, len);
		break;
	case SIM_BYZ_EQUIVOCATE:
		/* The last byte is usually payload: the result often still decodes. */
		if (bft_nodeset_has(st->half, to)) {
			byz_send_changed(sim, from, to, msg, len, len - 1, 0x01);
		} else {
			sim_inject(sim, from, to, msg, len);
		}
		break;
	case SIM_BYZ_BITFLIP:
		byz_send_changed(sim, from, to, msg, len, sim_random(sim) % len,
		                 (uint8_t)(1u << (sim_random(sim) % 8)));
		break;
	default:
		assert(0);
	}
}

/* Earliest event not addressed to the victim; SIZE_MAX if there is none. */
static size_t byz_pre_crank(void *ctx, const sim_t *sim)
{
	const sim_byz_state_t *st = ctx;
	if (!st->starve) {
		return SIZE_MAX;
	}
	size_t best = SIZE_MAX;
	for (size_t k = 0; k < sim_pending_count(sim); k++) {
		const sim_event_t *ev = sim_pending(sim, k);
		if (ev->kind == SIM_EV_MESSAGE && ev->to == st->victim) {
			continue;
		}
		const sim_event_t *b = best == SIZE_MAX ? NULL : sim_pending(sim, best);
		if (b == NULL || ev->at_ms < b->at_ms || (ev->at_ms == b->at_ms && ev->seq < b->seq)) {
			best = k;
		}
	}
	return best;
}

void sim_byz_hooks(sim_byz_state_t *state, sim_adversary_t *adv)
{
	adv->ctx = state;
	adv->tamper = byz_tamper;
	adv->pre_crank = byz_pre_crank;
}
