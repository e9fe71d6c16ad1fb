/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Catch-up of a lagging node (doc/broadcast.md): announcements of the
 * epoch each node works on (STARTED), the last delivered batches kept for
 * others, FETCH and its answers (BATCH, or GONE when we no longer keep
 * them), and the rule that makes a fetched batch safe to deliver: f + 1
 * peers sent the same bytes, so one of them is correct, and every correct
 * node delivered exactly that batch for that epoch.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/abc_internal.h"
#include "coordinator/proto/batch.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/wire.h"

/* Kept batches. */

int abc_kept_init(abc_t *abc, uint32_t retain_max)
{
	assert(retain_max >= 1);
	abc->kept = calloc(retain_max, sizeof(*abc->kept));
	abc->kept_cap = retain_max;
	return abc->kept != NULL ? BFT_EOK : BFT_ENOMEM;
}

static void kept_drop_oldest(abc_t *abc)
{
	assert(abc->kept_count > 0);
	abc_kept_t *k = &abc->kept[abc->kept_head];
	abc->kept_bytes -= k->len;
	free(k->data);
	k->data = NULL;
	abc->kept_head = (abc->kept_head + 1) % abc->kept_cap;
	abc->kept_count--;
	abc->kept_first++;
}

void abc_kept_free(abc_t *abc)
{
	while (abc->kept_count > 0) {
		kept_drop_oldest(abc);
	}
	free(abc->kept);
	abc->kept = NULL;
}

int abc_kept_add(abc_t *abc, uint64_t epoch, const uint8_t *batch, size_t len)
{
	if (abc->kept_count == 0) {
		abc->kept_first = epoch;
	}
	assert(epoch == abc->kept_first + abc->kept_count);
	uint8_t *copy = malloc(len);
	if (copy == NULL) {
		return BFT_ENOMEM;
	}
	memcpy(copy, batch, len);
	/* The newest batch is always kept, whatever its size. */
	while (abc->kept_count > 0 && (abc->kept_count >= abc->kept_cap ||
	                               abc->kept_bytes + len > ABC_RETAIN_BYTES_MAX)) {
		kept_drop_oldest(abc);
	}
	if (abc->kept_count == 0) {
		abc->kept_first = epoch;
	}
	abc_kept_t *k = &abc->kept[(abc->kept_head + abc->kept_count) % abc->kept_cap];
	k->data = copy;
	k->len = (uint32_t)len;
	abc->kept_count++;
	abc->kept_bytes += len;
	return BFT_EOK;
}

static const abc_kept_t *kept_get(const abc_t *abc, uint64_t epoch)
{
	if (abc->kept_count == 0 || epoch < abc->kept_first ||
	    epoch - abc->kept_first >= abc->kept_count) {
		return NULL;
	}
	return &abc->kept[(abc->kept_head + (epoch - abc->kept_first)) % abc->kept_cap];
}

/* Offers: batches peers sent us for epochs we have not delivered. */

static void offer_free(abc_t *abc, unsigned s, bft_node_t j)
{
	abc_offer_t *o = &abc->offers[s][j];
	if (o->data != NULL) {
		assert(abc->peers[j].offer_bytes >= o->len);
		abc->peers[j].offer_bytes -= o->len;
		free(o->data);
		memset(o, 0, sizeof(*o));
	}
}

static void offers_clear_slot(abc_t *abc, unsigned s)
{
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		offer_free(abc, s, j);
	}
}

void abc_offers_drop_old(abc_t *abc)
{
	for (unsigned s = 0; s < ABC_FETCH_BATCHES; s++) {
		if (abc->offer_epoch[s] < abc->epoch) {
			offers_clear_slot(abc, s);
		}
	}
}

void abc_offers_free(abc_t *abc)
{
	for (unsigned s = 0; s < ABC_FETCH_BATCHES; s++) {
		offers_clear_slot(abc, s);
	}
}

static int send_u64(bft_step_t *step, bft_node_t to, uint8_t kind, uint64_t value)
{
	uint8_t msg[9];
	bft_wire_w_t w;
	bft_wire_w_init(&w, msg, sizeof(msg));
	bft_wire_put_u8(&w, kind);
	bft_wire_put_u64(&w, value);
	assert(bft_wire_w_ok(&w));
	return bft_step_send(step, bft_nodeset_one(to), msg, sizeof(msg));
}

static bool read_u64(const uint8_t *body, size_t len, uint64_t *value)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, body, len);
	*value = bft_wire_get_u64(&r);
	return bft_wire_r_done(&r);
}

static int send_started(bft_step_t *step, bft_nodeset_t to, uint64_t epoch, uint8_t flags)
{
	uint8_t msg[10];
	bft_wire_w_t w;
	bft_wire_w_init(&w, msg, sizeof(msg));
	bft_wire_put_u8(&w, ABC_MSG_STARTED);
	bft_wire_put_u64(&w, epoch);
	bft_wire_put_u8(&w, flags);
	assert(bft_wire_w_ok(&w));
	return bft_step_send(step, to, msg, sizeof(msg));
}

/* A peer works on `epoch` now. */
static int on_started(abc_t *abc, bft_node_t from, const uint8_t *body, size_t len,
                      bft_step_t *step)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, body, len);
	uint64_t epoch = bft_wire_get_u64(&r);
	uint8_t flags = bft_wire_get_u8(&r);
	if (!bft_wire_r_done(&r) || (flags & ~(ABC_STARTED_HELLO | ABC_STARTED_CLEAN)) != 0) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return BFT_EOK;
	}
	abc_peer_t *peer = &abc->peers[from];
	bool hello = (flags & ABC_STARTED_HELLO) != 0;
	/* A HELLO: its earlier incarnation said nothing we hold in the epochs
	 * it restarts in (we hold epochs from ours on) if nothing it sent
	 * since its previous HELLO reaches there. Its answer (CLEAN) ends its
	 * silence sooner (abc_resume_check()). */
	bool clean = hello && (!peer->heard || peer->heard_max < (epoch > abc->epoch ? epoch : abc->epoch));
	if (hello) {
		peer->heard = false;
	} else if (flags & ABC_STARTED_CLEAN) {
		peer->clean = true;
	}
	/* Only a restart (HELLO) moves a peer back; an older announcement
	 * that arrives late (reordered) does not. */
	if (hello || epoch > peer->epoch) {
		peer->epoch = epoch;
	}
	int ret = BFT_EOK;
	/* Someone who just started has heard nothing from us: tell it where
	 * we are, so it can fetch; and one behind us may have missed our
	 * announcement (a broken link). Each at most once per epoch of ours:
	 * our answer asks for none, but a faulty pair could otherwise turn
	 * answers into questions and keep each other (and us) busy. */
	bool answer = false;
	if (hello && (!peer->hello_answered || peer->hello_answered_at != abc->epoch)) {
		peer->hello_answered = true;
		peer->hello_answered_at = abc->epoch;
		answer = true;
	} else if (!hello && epoch < abc->epoch && (!peer->replied || peer->replied_at != abc->epoch)) {
		peer->replied = true;
		peer->replied_at = abc->epoch;
		answer = true;
	}
	/* A restarted peer lost what we sent it: our kept messages from its
	 * epoch on (as often as we answer its HELLO). After our own restart
	 * with durable votes, each peer gets ours once it told us its epoch.
	 * Not to a peer further behind than ABC_EPOCHS_AHEAD + 1: every epoch
	 * we delivered had f + 1 correct READYs from nodes at most that far
	 * behind it, which are all ahead of that peer, so it fetches instead
	 * (doc/broadcast.md, "Restart"). */
	bool near = peer->epoch + ABC_EPOCHS_AHEAD + 1 >= abc->epoch;
	if (hello) {
		/* It may re-send what it sent before (durable votes). */
		uint64_t base = peer->epoch > abc->epoch ? peer->epoch : abc->epoch;
		abc_guard_dup_ok(abc, from, base + ABC_DUP_SPAN);
	}
	if (((hello && answer) || peer->votes_owed) && near) {
		abc_guard_resend_to(abc, from, peer->epoch);
	}
	peer->votes_owed = false;
	if (hello || (flags & ABC_STARTED_CLEAN)) {
		ret = abc_resume_check(abc, step);
	}
	if (ret == BFT_EOK && answer) {
		ret = send_started(step, bft_nodeset_one(from), abc->epoch,
		                   clean ? ABC_STARTED_CLEAN : 0);
	}
	return ret == BFT_EOK ? abc_hold_release(abc, from, step) : ret;
}

/* Resuming without the bytes of earlier batches (abc_restore_at()). */

int abc_restore_at(abc_t *abc, uint64_t epoch, uint64_t last_time_ms)
{
	if (abc == NULL || abc->used || abc->restored) {
		return BFT_EINVAL;
	}
	/* What the replay of the batches before `epoch` would leave: the epoch
	 * and the last agreed time (the next one is at least that, and every
	 * replica must compute it alike); no kept batch (a peer asking for an
	 * older one gets GONE) and an empty dedup window (abc.h). */
	abc->epoch = epoch;
	abc->last_time_ms = last_time_ms;
	abc->restored = true;
	return BFT_EOK;
}

void abc_catchup_heard(abc_t *abc, bft_node_t from, const uint8_t *msg, size_t len)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, msg, len);
	bft_wire_get_u8(&r);
	uint64_t epoch = bft_wire_get_u64(&r);
	abc_peer_t *peer = &abc->peers[from];
	if (!r.error && (!peer->heard || epoch > peer->heard_max)) {
		peer->heard = true;
		peer->heard_max = epoch;
	}
}

/* Our silence after a restart protects peers that hold what our earlier
 * incarnation said in the epochs we restart in. A peer holds nothing of it
 * if its HELLO reached this incarnation (on_started() recorded it as
 * hello_answered): a HELLO is the first thing a node queues for us after it
 * started, so had that peer been connected to our earlier incarnation, the
 * HELLO would have gone there. Or if it answered our HELLO with CLEAN: it
 * got no epoch message of ours for those epochs since our previous HELLO.
 * Once every peer is one of these, nothing we say can contradict anything
 * anyone holds, and staying silent would only stop a group of which more
 * than f restarted (all silent in the same epochs, none ahead). A faulty
 * peer's word does not matter here (what it holds does not), but one that
 * never answers keeps us silent: liveness, as a crashed peer would. */
int abc_resume_check(abc_t *abc, bft_step_t *step)
{
	if (!abc->restarted) {
		return BFT_EOK;
	}
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		if (j != abc->params.self && !abc->peers[j].hello_answered && !abc->peers[j].clean) {
			return BFT_EOK;
		}
	}
	abc->restarted = false;
	abc->resumed_early = true;
	/* What we said while silent was held back (abc_hold.c): it goes out now. */
	int ret = BFT_EOK;
	for (bft_node_t j = 0; j < abc->params.n && ret == BFT_EOK; j++) {
		if (j != abc->params.self) {
			ret = abc_hold_release(abc, j, step);
		}
	}
	return ret;
}

/* Batches from `first` on, for a peer that lags. A repeat of a range we
 * sent is answered only after we moved on, so a faulty peer cannot make
 * us send the same batches in a loop. */
static int on_fetch(abc_t *abc, bft_node_t from, uint64_t first, bft_step_t *step)
{
	abc_peer_t *peer = &abc->peers[from];
	if (first >= abc->epoch) {
		return BFT_EOK;
	}
	if (kept_get(abc, first) == NULL) {
		return send_u64(step, from, ABC_MSG_GONE, abc->kept_count > 0 ? abc->kept_first : abc->epoch);
	}
	if (peer->served && first < peer->served_end && peer->served_at == abc->epoch) {
		return BFT_EOK;
	}
	const uint8_t kind = ABC_MSG_BATCH;
	size_t bytes = 0;
	uint64_t e = first;
	for (; e < abc->epoch && e - first < ABC_FETCH_BATCHES; e++) {
		const abc_kept_t *k = kept_get(abc, e);
		if (k == NULL || (bytes > 0 && bytes + k->len > ABC_FETCH_BYTES_MAX)) {
			break;
		}
		int ret = bft_step_send2(step, bft_nodeset_one(from), &kind, 1, k->data, k->len);
		if (ret != BFT_EOK) {
			return ret;
		}
		bytes += k->len;
		abc->stats.batches_served++;
	}
	peer->served = true;
	peer->served_end = e;
	peer->served_at = abc->epoch;
	return BFT_EOK;
}

/* A batch a peer says it delivered: kept until f + 1 peers agree on epoch's batch. */
static int on_batch(abc_t *abc, bft_node_t from, const uint8_t *body, size_t len,
                    bft_step_t *step)
{
	batch_reader_t br;
	if (batch_reader_open(&br, body, len) != BFT_EOK) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return BFT_EOK;
	}
	if (br.epoch < abc->epoch || br.epoch - abc->epoch >= ABC_FETCH_BATCHES ||
	    from == abc->params.self) {
		return BFT_EOK;  /* Late, or beyond what we collect now: asked again later. */
	}
	unsigned s = (unsigned)(br.epoch % ABC_FETCH_BATCHES);
	if (abc->offer_epoch[s] != br.epoch) {
		offers_clear_slot(abc, s);
		abc->offer_epoch[s] = br.epoch;
	}
	abc_offer_t *o = &abc->offers[s][from];
	uint8_t digest[DEDUP_KEY_LEN];
	abc_digest(body, len, digest);
	if (o->data != NULL) {
		/* The same batch again answers a repeated FETCH; another one
		 * for the same epoch is a lie. */
		if (memcmp(o->digest, digest, sizeof(digest)) != 0) {
			bft_step_fault(step, from, BFT_FAULT_EQUIVOCATION);
		}
		return BFT_EOK;
	}
	abc_peer_t *peer = &abc->peers[from];
	if (len > ABC_OFFER_BYTES_MAX - peer->offer_bytes) {
		return BFT_EOK;  /* Its budget is full; asked again later. */
	}
	if ((o->data = malloc(len)) == NULL) {
		return BFT_ENOMEM;
	}
	memcpy(o->data, body, len);
	o->len = (uint32_t)len;
	memcpy(o->digest, digest, sizeof(digest));
	peer->offer_bytes += len;
	return BFT_EOK;
}

int abc_catchup_message(abc_t *abc, bft_node_t from, uint8_t kind, const uint8_t *body,
                        size_t len, bft_step_t *step)
{
	uint64_t value = 0;
	if (kind == ABC_MSG_BATCH) {
		return on_batch(abc, from, body, len, step);
	}
	if (kind == ABC_MSG_STARTED && from != abc->params.self) {
		return on_started(abc, from, body, len, step);
	}
	if (!read_u64(body, len, &value) || from == abc->params.self) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return BFT_EOK;
	}
	switch (kind) {
	case ABC_MSG_FETCH:
		return on_fetch(abc, from, value, step);
	case ABC_MSG_GONE:
		/* It no longer keeps our epoch (it keeps from `value` on). */
		abc->peers[from].gone = value > abc->epoch;
		return BFT_EOK;
	default:
		assert(false);
		return BFT_EINVAL;
	}
}

int abc_catchup_take(abc_t *abc, bft_step_t *step, bool *took)
{
	*took = false;
	unsigned s = (unsigned)(abc->epoch % ABC_FETCH_BATCHES);
	if (abc->offer_epoch[s] != abc->epoch) {
		return BFT_EOK;
	}
	unsigned n = abc->params.n;
	const abc_offer_t *row = abc->offers[s];
	for (bft_node_t j = 0; j < n; j++) {
		if (row[j].data == NULL) {
			continue;
		}
		bft_nodeset_t same = 0;
		for (bft_node_t k = 0; k < n; k++) {
			if (row[k].data != NULL && memcmp(row[k].digest, row[j].digest, DEDUP_KEY_LEN) == 0) {
				same |= bft_nodeset_one(k);
			}
		}
		if (bft_nodeset_count(same) < abc->params.f + 1u) {
			continue;
		}
		/* One of them is correct, so this is the batch: who sent another lied. */
		for (bft_node_t k = 0; k < n; k++) {
			if (row[k].data != NULL && !bft_nodeset_has(same, k)) {
				bft_step_fault(step, k, ABC_FAULT_BAD_BATCH);
			}
		}
		int ret = abc_commit(abc, row[j].data, row[j].len, false, step);
		if (ret == BFT_EOK) {
			abc->stats.batches_fetched++;
			abc->fetching = true;
			*took = true;
		}
		/* EINVAL: a batch whose epoch field lies cannot reach here (the
		 * slot is by epoch), so anything else is ours. */
		return ret;
	}
	return BFT_EOK;
}

/* f + 1 peers announced epochs at least `lag` beyond ours: a correct one
 * delivered our epoch. Ask those ahead (again when they moved on). The lag
 * is 1 once we are catching up (our last batch was fetched) or silent
 * after a restart: the others may be waiting for us in the next epoch,
 * where we cannot propose before we have this one (doc/broadcast.md,
 * "Catch-up", 5). */
static int catchup_fetch(abc_t *abc, bft_step_t *step)
{
	/* Right after a restart a peer one epoch ahead may be the last word on
	 * it (we may have missed it for good), also once we speak again. */
	bool restart = abc_silent(abc, abc->epoch) ||
	               (abc->resumed_early && abc->epoch <= abc->silent_until);
	uint64_t lag = restart || abc->fetching ? 1 : ABC_FETCH_LAG;
	assert(lag >= 1);   /* Safety: a correct one of the f + 1 delivered our epoch. */
	bft_nodeset_t ahead = 0, ask = 0;
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		if (j != abc->params.self && abc->peers[j].epoch >= abc->epoch + lag) {
			ahead |= bft_nodeset_one(j);
		}
	}
	if (bft_nodeset_count(ahead) < abc->params.f + 1u) {
		return BFT_EOK;
	}
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		abc_peer_t *peer = &abc->peers[j];
		if (bft_nodeset_has(ahead, j) &&
		    (!peer->asked || peer->asked_epoch != abc->epoch || peer->asked_its_epoch != peer->epoch)) {
			ask |= bft_nodeset_one(j);
			peer->asked = true;
			peer->asked_epoch = abc->epoch;
			peer->asked_its_epoch = peer->epoch;
		}
	}
	if (ask == 0) {
		return BFT_EOK;
	}
	uint8_t msg[9];
	bft_wire_w_t w;
	bft_wire_w_init(&w, msg, sizeof(msg));
	bft_wire_put_u8(&w, ABC_MSG_FETCH);
	bft_wire_put_u64(&w, abc->epoch);
	abc->stats.fetches_sent++;
	return bft_step_send(step, ask, msg, sizeof(msg));
}

int abc_catchup_after(abc_t *abc, bft_step_t *step)
{
	bft_nodeset_t others = bft_nodeset_all(abc->params.n) & ~bft_nodeset_one(abc->params.self);
	if (others != 0 && (abc->hello || !abc->announced_any || abc->announced != abc->epoch)) {
		int ret = send_started(step, others, abc->epoch, abc->hello ? ABC_STARTED_HELLO : 0);
		if (ret != BFT_EOK) {
			return ret;
		}
		abc->hello = false;
		abc->announced_any = true;
		abc->announced = abc->epoch;
	}
	return catchup_fetch(abc, step);
}
