/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The vote guard (doc/broadcast.md, "Restart"): every epoch message this
 * node sends passes abc_guard_check(), which keeps it (abc_votes.h) and,
 * with durable votes, outputs its record before the message, and refuses
 * a vote whose slot holds another message already: after a restart with
 * the earlier incarnation's records (abc_restore_vote()) the node can
 * then not contradict what it said before the crash, which is all the
 * quorum arguments of RBC and ABA need from a correct node.
 *
 * The kept messages also rebuild a restarted peer's received state: a
 * peer's HELLO (or, after our own restart, its first announcement) starts
 * a re-send of what we sent in the epochs from the one it announced on,
 * and after our restart our restored messages go back to ourselves as
 * their epochs enter our window. Re-sends are bounded per call
 * (ABC_VOTES_RESEND_*) and go on in the next calls, abc_tick() among them:
 * a group idle after a crash of all replicas may wait for the rest, and
 * then no other call comes.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/abc_internal.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/wire.h"

int abc_guard_check(abc_t *abc, uint64_t epoch, bft_nodeset_t to, const uint8_t *msg,
                    size_t len, bft_step_t *step, bool *send)
{
	*send = false;
	assert(epoch >= abc->epoch && epoch - abc->epoch <= ABC_EPOCHS_AHEAD);
	uint64_t key = 0;
	bool vote = false;
	int ret = abc_vote_key(msg, len, abc->params.n, &key, &vote);
	/* The ACS makes only well-formed messages for its n instances. */
	assert(ret == BFT_EOK);
	if (ret != BFT_EOK) {
		*send = true;
		return BFT_EOK;
	}
	const abc_vote_t *old = NULL;
	switch (abc_votes_check(&abc->votes, epoch, key, vote, msg, len)) {
	case ABC_VOTE_CONFLICT:
		/* Possible only after a restart: the earlier incarnation voted
		 * otherwise in this slot, and that vote stands. */
		abc->stats.votes_suppressed++;
		return BFT_EOK;
	case ABC_VOTE_RELAY_OTHER:
		*send = true;   /* A relay never contradicts; the first one is kept. */
		return BFT_EOK;
	case ABC_VOTE_SAME:
		old = abc_votes_find(&abc->votes, epoch, key);
		assert(old != NULL);
		if ((to & ~old->to) == 0) {
			*send = true;   /* A retransmission (after a restart), already durable. */
			return BFT_EOK;
		}
		break;          /* More targets than kept: a new record. */
	case ABC_VOTE_NEW:
		break;
	}
	/* Durable before it is sent: the driver carries the step's outputs
	 * out before its messages (abc.h, ABC_OUTPUT_VOTE). */
	bft_nodeset_t all_to = to | (old != NULL ? old->to : 0);
	if (abc->votes_durable) {
		ret = abc_vote_record_output(step, ABC_OUTPUT_VOTE, epoch, all_to, msg, len);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	ret = abc_votes_add(&abc->votes, epoch, key, all_to, msg, len);
	assert(ret != BFT_EEXIST);
	*send = ret == BFT_EOK;
	return ret;
}

int abc_restore_vote(abc_t *abc, const uint8_t *rec, size_t len)
{
	if (abc == NULL || abc->used) {
		return BFT_EINVAL;
	}
	uint64_t epoch = 0, key = 0;
	bft_nodeset_t to = 0;
	const uint8_t *msg = NULL;
	size_t msg_len = 0;
	bool vote = false;
	int ret = abc_vote_record_read(rec, len, abc->params.n, &epoch, &to, &msg, &msg_len,
	                               &key, &vote);
	if (ret != BFT_EOK) {
		return ret;
	}
	abc->stats.votes_restored++;
	if (epoch + ABC_VOTES_KEEP < abc->epoch) {
		return BFT_EOK;   /* Long finished: nobody will need it. */
	}
	ret = abc_votes_add(&abc->votes, epoch, key, to, msg, msg_len);
	if (ret == BFT_EEXIST) {
		abc->stats.votes_restored--;
		return BFT_EINVAL;
	}
	if (ret != BFT_EOK) {
		abc->stats.votes_restored--;
	}
	return ret;
}

void abc_guard_restart(abc_t *abc)
{
	assert(abc->votes_durable);
	bft_node_t self = abc->params.self;
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		abc->peers[j].votes_owed = j != self;
	}
	abc_peer_t *me = &abc->peers[self];
	me->resend = abc->votes.count > 0;
	me->resend_epoch = abc->epoch;
	me->resend_index = 0;
}

void abc_guard_dup_ok(abc_t *abc, bft_node_t j, uint64_t epoch)
{
	for (bft_node_t k = 0; k < abc->params.n; k++) {
		abc_peer_t *peer = &abc->peers[k];
		if ((j == BFT_NODES_MAX || j == k) && peer->dup_ok_until < epoch) {
			peer->dup_ok_until = epoch;
		}
	}
}

void abc_guard_resend_to(abc_t *abc, bft_node_t j, uint64_t epoch)
{
	assert(j < abc->params.n && j != abc->params.self);
	abc_peer_t *peer = &abc->peers[j];
	peer->votes_owed = false;
	if (abc->votes.count == 0) {
		return;
	}
	/* Another restart of the peer while a re-send runs: from its new epoch. */
	peer->resend = true;
	peer->resend_epoch = epoch;
	peer->resend_index = 0;
}

/* Where our own restored messages stop for now: the end of our window. */
static bool pump_self_waits(const abc_t *abc, bft_node_t j, uint64_t epoch)
{
	return j == abc->params.self && epoch - abc->epoch > ABC_EPOCHS_AHEAD;
}

/* Re-sends to j what is due, within the call's budget (*msgs, *bytes). */
static int pump_one(abc_t *abc, bft_node_t j, bft_step_t *step, size_t *msgs, size_t *bytes)
{
	abc_peer_t *peer = &abc->peers[j];
	bft_node_t self = abc->params.self;
	if (j == self && peer->resend_epoch < abc->epoch) {
		/* Finished epochs: our own state no longer needs them. */
		peer->resend_epoch = abc->epoch;
		peer->resend_index = 0;
	}
	for (size_t i = abc_votes_seek(&abc->votes, peer->resend_epoch); i < abc->votes.count; i++) {
		const abc_vote_epoch_t *e = &abc->votes.epochs[i];
		if (e->epoch != peer->resend_epoch) {
			peer->resend_epoch = e->epoch;
			peer->resend_index = 0;
		}
		if (pump_self_waits(abc, j, e->epoch)) {
			return BFT_EOK;   /* Taken up again as our epoch moves. */
		}
		for (; peer->resend_index < e->count; peer->resend_index++) {
			const abc_vote_t *v = &e->votes[peer->resend_index];
			if (!bft_nodeset_has(v->to, j)) {
				continue;
			}
			if (*msgs >= abc->resend_msgs_max ||
			    (*msgs > 0 && *bytes + v->len > ABC_VOTES_RESEND_BYTES)) {
				return BFT_EOK;
			}
			/* Held back for a peer too far behind, like any epoch message. */
			int ret = abc_hold_send(abc, e->epoch, bft_nodeset_one(j), v->msg, v->len, step);
			if (ret != BFT_EOK) {
				return ret;
			}
			(*msgs)++;
			*bytes += v->len;
			abc->stats.votes_resent++;
		}
		peer->resend_epoch = e->epoch + 1;
		peer->resend_index = 0;
	}
	peer->resend = false;
	return BFT_EOK;
}

int abc_guard_pump(abc_t *abc, bft_step_t *step)
{
	size_t msgs = 0, bytes = 0;
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		if (!abc->peers[j].resend) {
			continue;
		}
		int ret = pump_one(abc, j, step, &msgs, &bytes);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	return BFT_EOK;
}

void abc_guard_gc(abc_t *abc)
{
	uint64_t oldest = abc->epoch > ABC_VOTES_KEEP ? abc->epoch - ABC_VOTES_KEEP : 0;
	abc_votes_drop_before(&abc->votes, oldest);
	abc_votes_trim(&abc->votes, ABC_VOTES_BYTES_MAX, abc->epoch);
}
