/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <nettle/sha2.h>

#include "coordinator/proto/abc_internal.h"
#include "coordinator/proto/batch.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/wire.h"

void abc_digest(const uint8_t *data, size_t len, uint8_t out[DEDUP_KEY_LEN])
{
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, DEDUP_KEY_LEN, out);
}

static int abc_copy_conf(abc_t *abc, const bft_params_t *params)
{
	const abc_conf_t *conf = params->conf;
	if (conf == NULL || conf->session == NULL || conf->session_len == 0 ||
	    conf->session_len > ABC_SESSION_MAX || conf->batch_max > BATCH_PROPOSAL_REQUESTS_MAX ||
	    conf->retain_max > ABC_RETAIN_MAX || (unsigned)conf->mode >= ABC_MODES ||
	    pcoin_keys_secret(&conf->coin, params) == NULL) {
		return BFT_EINVAL;
	}
	abc->params = *params;
	abc->params.conf = NULL;
	abc->keys = conf->coin;
	memcpy(abc->session, conf->session, conf->session_len);
	abc->session_len = conf->session_len;
	abc->batch_max = conf->batch_max > 0 ? conf->batch_max : ABC_BATCH_DEFAULT;
	abc->coin_every_round = conf->coin_every_round;
	abc->mode = conf->mode;
	abc->votes_durable = conf->votes_durable;
	abc->votes_incomplete = conf->votes_incomplete;
	abc->resend_msgs_max = conf->resend_msgs_max > 0 && conf->resend_msgs_max < ABC_VOTES_RESEND_MSGS
	                       ? conf->resend_msgs_max : ABC_VOTES_RESEND_MSGS;
	return abc_kept_init(abc, conf->retain_max > 0 ? conf->retain_max : ABC_RETAIN_DEFAULT);
}

int abc_create(const bft_params_t *params, abc_t **out)
{
	if (out == NULL || bft_params_check(params) != BFT_EOK) {
		return BFT_EINVAL;
	}
	abc_t *abc = calloc(1, sizeof(*abc));
	if (abc == NULL) {
		return BFT_ENOMEM;
	}
	int ret = abc_copy_conf(abc, params);
	if (ret == BFT_EOK) {
		ret = bft_step_init(&abc->scratch, BFT_MSG_MAX);
	}
	if (ret == BFT_EOK) {
		ret = dedup_create(ABC_DEDUP_WINDOW, &abc->delivered);
	}
	if (ret == BFT_EOK && (abc->proposal = malloc(BATCH_PROPOSAL_MAX)) == NULL) {
		ret = BFT_ENOMEM;
	}
	if (ret == BFT_EOK && abc->mode == ABC_MODE_EQUIVOCATE &&
	    (abc->alt = malloc(BATCH_PROPOSAL_MAX)) == NULL) {
		ret = BFT_ENOMEM;
	}
	if (ret != BFT_EOK) {
		abc_destroy(abc);
		return ret;
	}
	*out = abc;
	return BFT_EOK;
}

void abc_destroy(abc_t *abc)
{
	if (abc == NULL) {
		return;
	}
	for (unsigned i = 0; i < ABC_RING; i++) {
		acs_destroy(abc->acs[i]);
	}
	for (size_t i = 0; i < abc->queue_count; i++) {
		free(abc->queue[i].data);
	}
	abc_hold_free(abc);
	abc_offers_free(abc);
	abc_kept_free(abc);
	abc_votes_free(&abc->votes);
	dedup_destroy(abc->delivered);
	bft_step_deinit(&abc->scratch);
	free(abc->proposal);
	abc_mode_free(abc);
	free(abc);
}

bool abc_terminated(const abc_t *abc)
{
	return false;
}

void abc_stats(const abc_t *abc, abc_stats_t *out)
{
	*out = abc->stats;
	out->epoch = abc->epoch;
	out->pending = abc->queue_count;
	out->last_time_ms = abc->last_time_ms;
	out->kept_first = abc->kept_first;
	out->kept = abc->kept_count;
	out->dedup_keys = dedup_count(abc->delivered);
	out->votes_kept = abc->votes.entries;
	out->votes_bytes = abc->votes.bytes;
	out->gone = 0;
	out->resends_pending = 0;
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		out->gone += abc->peers[j].gone ? 1u : 0u;
		out->resends_pending += abc->peers[j].resend ? 1u : 0u;
	}
}

static acs_t **abc_slot(abc_t *abc, uint64_t epoch)
{
	assert(epoch >= abc->epoch && epoch - abc->epoch <= ABC_EPOCHS_AHEAD);
	return &abc->acs[epoch % ABC_RING];
}

/* The epoch's ACS, made on first need. Its coins are named by (session, epoch). */
static int abc_get_acs(abc_t *abc, uint64_t epoch, acs_t **out)
{
	acs_t **slot = abc_slot(abc, epoch);
	if (*slot == NULL) {
		uint8_t name[3 + ABC_SESSION_MAX + 8];
		bft_wire_w_t w;
		bft_wire_w_init(&w, name, sizeof(name));
		bft_wire_put_raw(&w, (const uint8_t *)"abc", 3);
		bft_wire_put_raw(&w, abc->session, abc->session_len);
		bft_wire_put_u64(&w, epoch);
		assert(bft_wire_w_ok(&w));
		acs_conf_t conf = {
			.coin = abc->keys, .name = name, .name_len = w.len,
			.value_max = BATCH_PROPOSAL_MAX, .coin_every_round = abc->coin_every_round,
		};
		bft_params_t params = abc->params;
		params.conf = &conf;
		int ret = acs_create(&params, slot);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	*out = *slot;
	return BFT_EOK;
}

/* Own requests at once; forwarded ones only once their origin failed to
 * get them in for ABC_FORWARD_DELAY epochs, so that a request is normally
 * proposed by its origin alone, and by everyone only if that fails. */
static bool abc_eligible(const abc_t *abc, const abc_req_t *req)
{
	return req->origin == abc->params.self || req->waited >= ABC_FORWARD_DELAY;
}

/*
 * After epoch `abc->epoch` was agreed: a forwarded request waited one more
 * epoch unless its origin's proposal was in the subset and full (no room
 * for it: the origin drains its queue oldest first, and this request's
 * turn comes). Counting only epochs where the origin could have proposed
 * it keeps a busy correct origin's requests from being proposed n times,
 * and still lets everyone step in for an origin that is left out of the
 * subsets or withholds it. props is NULL when the subset is unknown (a
 * fetched batch): then every forwarded request waited.
 */
static void abc_queue_age(abc_t *abc, const batch_proposal_t *props, const size_t *lens,
                          bft_nodeset_t good)
{
	for (size_t i = 0; i < abc->queue_count; i++) {
		abc_req_t *req = &abc->queue[i];
		bft_node_t o = req->origin;
		if (o == abc->params.self) {
			continue;
		}
		bool full = props != NULL && bft_nodeset_has(good, o) &&
		            (props[o].count >= abc->batch_max ||
		             lens[o] + BATCH_REQUEST_HDR + req->len > BATCH_PROPOSAL_MAX);
		req->waited += full ? 0u : 1u;
	}
}

/* Our proposal for the current epoch: the oldest pending requests that fit. */
static int abc_propose(abc_t *abc, const bft_env_t *env, bft_step_t *step)
{
	acs_t *acs = NULL;
	int ret = abc_get_acs(abc, abc->epoch, &acs);
	if (ret != BFT_EOK) {
		return ret;
	}
	assert(!abc->proposed && !acs_proposed(acs));
	batch_writer_t bw;
	batch_proposal_begin(&bw, abc->proposal, BATCH_PROPOSAL_MAX, env->now_ms);
	for (size_t i = 0; i < abc->queue_count && bw.count < abc->batch_max; i++) {
		const abc_req_t *req = &abc->queue[i];
		if (abc_eligible(abc, req) &&
		    !batch_proposal_add(&bw, req->origin, req->data, req->len)) {
			break;
		}
	}
	size_t len = batch_proposal_end(&bw);
	abc->proposed = true;
	if (abc->mode == ABC_MODE_EQUIVOCATE) {
		abc_mode_propose(abc, abc->epoch, abc->proposal, len);
	}
	ret = acs_handle_input(acs, abc->proposal, len, env, &abc->scratch);
	int lifted = abc_hold_lift(abc, abc->epoch, step);
	return ret != BFT_EOK ? ret : lifted;
}

/* Drops pending requests that were just delivered. */
static void abc_queue_sweep(abc_t *abc)
{
	size_t kept = 0;
	for (size_t i = 0; i < abc->queue_count; i++) {
		abc_req_t *req = &abc->queue[i];
		if (dedup_contains(abc->delivered, req->key)) {
			abc->queue_bytes -= req->len;
			assert(abc->queued_from[req->origin] > 0);
			assert(abc->queued_bytes_from[req->origin] >= req->len);
			abc->queued_from[req->origin]--;
			abc->queued_bytes_from[req->origin] -= req->len;
			free(req->data);
		} else {
			abc->queue[kept++] = *req;
		}
	}
	abc->queue_count = kept;
}

/* Puts the keys of a batch that did not come out of our own ACS (fetched
 * or restored) into the dedup window. */
static void abc_commit_keys(abc_t *abc, batch_reader_t *br)
{
	bft_node_t proposer, origin;
	const uint8_t *req;
	size_t len;
	while (batch_reader_next(br, &proposer, &origin, &req, &len)) {
		uint8_t key[DEDUP_KEY_LEN];
		abc_digest(req, len, key);
		/* A correct batch holds no key of the window; one that does means
		 * our restored history was incomplete: the batch wins. */
		if (!dedup_contains(abc->delivered, key)) {
			dedup_insert(abc->delivered, key);
		}
	}
}

int abc_commit(abc_t *abc, const uint8_t *batch, size_t len, bool keys_done, bft_step_t *step)
{
	batch_reader_t br;
	if (batch_reader_open(&br, batch, len) != BFT_EOK || br.epoch != abc->epoch) {
		return BFT_EINVAL;
	}
	if (!keys_done) {
		batch_reader_t keys = br;
		abc_commit_keys(abc, &keys);
		abc_queue_age(abc, NULL, NULL, 0);
	}
	int ret = BFT_EOK;
	if (step != NULL) {
		ret = bft_step_output(step, ABC_OUTPUT_BATCH, batch, len);
	}
	if (ret == BFT_EOK) {
		ret = abc_kept_add(abc, abc->epoch, batch, len);
	}
	if (ret != BFT_EOK) {
		return ret;
	}
	abc->last_time_ms = br.time_ms;
	abc->stats.requests_delivered += br.count;
	acs_t **slot = abc_slot(abc, abc->epoch);
	acs_destroy(*slot);
	*slot = NULL;
	abc->epoch++;
	abc->proposed = false;
	abc_guard_gc(abc);
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		abc->peers[j].gone = false;
	}
	abc_offers_drop_old(abc);
	abc_queue_sweep(abc);
	return BFT_EOK;
}

/* Appends one proposal's new requests to the batch being written; their
 * keys enter the window at once, so a repeat later in the batch is left out. */
static void abc_deliver_proposal(abc_t *abc, bft_node_t j, batch_proposal_t *prop,
                                 bft_wire_w_t *w, uint32_t *count)
{
	const uint8_t *req;
	size_t len;
	bft_node_t origin;
	while (batch_proposal_next(prop, &origin, &req, &len)) {
		uint8_t key[DEDUP_KEY_LEN];
		abc_digest(req, len, key);
		if (dedup_contains(abc->delivered, key)) {
			abc->stats.duplicates_dropped++;
			continue;
		}
		dedup_insert(abc->delivered, key);
		bft_wire_put_u8(w, (uint8_t)j);
		bft_wire_put_u8(w, (uint8_t)origin);
		bft_wire_put_bytes(w, req, len);
		(*count)++;
	}
}

/* The output of a finished epoch: the subset's requests in proposer order. */
static int abc_deliver(abc_t *abc, acs_t *acs, bft_step_t *step)
{
	unsigned n = abc->params.n;
	bft_nodeset_t subset = acs_subset(acs);
	batch_proposal_t props[BFT_NODES_MAX];
	uint64_t times[BFT_NODES_MAX];
	size_t lens[BFT_NODES_MAX] = { 0 };
	size_t well_formed = 0, bytes = 20;
	bft_nodeset_t good = 0;
	for (bft_node_t j = 0; j < n; j++) {
		size_t len = 0;
		const uint8_t *value = bft_nodeset_has(subset, j) ? acs_value(acs, j, &len) : NULL;
		if (value == NULL) {
			continue;
		}
		if (batch_proposal_open(&props[j], value, len, n) != BFT_EOK) {
			/* Every correct node sees the same bytes and skips them alike. */
			bft_step_fault(step, j, ABC_FAULT_BAD_PROPOSAL);
			continue;
		}
		good |= bft_nodeset_one(j);
		lens[j] = len;
		times[well_formed++] = props[j].time_ms;
		bytes += len + props[j].count;
	}
	/* With at most f faulty nodes f + 1 >= 1 proposals are good; should
	 * more be faulty, time stands still rather than trust a bad clock. */
	uint64_t time_ms = abc->last_time_ms;
	if (well_formed > 0) {
		time_ms = batch_agreed_time(abc->last_time_ms, times, well_formed);
	}

	uint8_t *out = malloc(bytes);
	if (out == NULL) {
		return BFT_ENOMEM;
	}
	bft_wire_w_t w;
	bft_wire_w_init(&w, out, bytes);
	bft_wire_put_u64(&w, abc->epoch);
	bft_wire_put_u64(&w, time_ms);
	bft_wire_put_u32(&w, 0);
	uint32_t count = 0;
	for (bft_node_t j = 0; j < n; j++) {
		if (bft_nodeset_has(good, j)) {
			abc_deliver_proposal(abc, j, &props[j], &w, &count);
		}
	}
	assert(bft_wire_w_ok(&w));
	out[16] = (uint8_t)(count >> 24);
	out[17] = (uint8_t)(count >> 16);
	out[18] = (uint8_t)(count >> 8);
	out[19] = (uint8_t)count;
	abc_queue_age(abc, props, lens, good);
	abc->fetching = false;
	int ret = abc_commit(abc, out, w.len, true, step);
	assert(ret != BFT_EINVAL);
	free(out);
	return ret;
}

/* f + 1 peers announced a later epoch than `epoch`: a correct node has
 * delivered it, and our proposal for it could only be late. */
static bool abc_passed_by(const abc_t *abc, uint64_t epoch)
{
	unsigned ahead = 0;
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		ahead += j != abc->params.self && abc->peers[j].epoch > epoch ? 1u : 0u;
	}
	return ahead >= abc->params.f + 1u;
}

static int abc_epoch_msg(abc_t *abc, bft_node_t from, uint64_t epoch, const uint8_t *msg,
                         size_t len, const bft_env_t *env, bft_step_t *step);

/* Parked messages (abc_park_add()) whose epoch our window reached. */
static int abc_park_take(abc_t *abc, const bft_env_t *env, bft_step_t *step)
{
	bft_node_t from = 0;
	abc_held_t *h;
	while ((h = abc_park_next(abc, &from)) != NULL) {
		assert(h->epoch >= abc->epoch && h->epoch - abc->epoch <= ABC_EPOCHS_AHEAD);
		int ret = abc_epoch_msg(abc, from, h->epoch, h->data, h->len, env, step);
		free(h);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	return BFT_EOK;
}

/* Delivers finished epochs in order (own or fetched) and proposes where due.
 * Each round delivers one epoch or returns, so the bound covers a full
 * fetch window and a full ring of finished epochs. */
static int abc_advance(abc_t *abc, const bft_env_t *env, bft_step_t *step)
{
	unsigned f = abc->params.f;
	for (unsigned k = 0; k <= ABC_RING + ABC_FETCH_BATCHES; k++) {
		int ret = abc_park_take(abc, env, step);
		if (ret != BFT_EOK) {
			return ret;
		}
		bool took = false;
		ret = abc_catchup_take(abc, step, &took);
		if (ret != BFT_EOK || took) {
			if (ret != BFT_EOK) {
				return ret;
			}
			continue;
		}
		acs_t **slot = abc_slot(abc, abc->epoch);
		/* We want an epoch while requests are pending; f + 1 proposers
		 * mean a correct node wants it. One faulty node alone cannot
		 * make the correct ones run empty epochs for ever. */
		bft_nodeset_t proposers = *slot != NULL ? acs_proposers(*slot) : 0;
		if (!abc->proposed && !abc_passed_by(abc, abc->epoch) && !abc_silent(abc, abc->epoch) &&
		    (abc->queue_count > 0 || bft_nodeset_count(proposers) >= f + 1)) {
			ret = abc_propose(abc, env, step);
			if (ret != BFT_EOK) {
				return ret;
			}
		}
		if (*slot == NULL || !acs_terminated(*slot)) {
			return BFT_EOK;
		}
		ret = abc_deliver(abc, *slot, step);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	return BFT_EOK;
}

static bool abc_pending(const abc_t *abc, const uint8_t key[DEDUP_KEY_LEN])
{
	for (size_t i = 0; i < abc->queue_count; i++) {
		if (memcmp(abc->queue[i].key, key, DEDUP_KEY_LEN) == 0) {
			return true;
		}
	}
	return false;
}

/* Queues a request (not pending, not delivered) from origin. */
static int abc_enqueue(abc_t *abc, bft_node_t origin, const uint8_t *req, size_t len,
                       const uint8_t key[DEDUP_KEY_LEN])
{
	if (abc->queue_count >= ABC_QUEUE_MAX || len > ABC_QUEUE_BYTES_MAX - abc->queue_bytes) {
		return BFT_EAGAIN;
	}
	uint8_t *copy = malloc(len);
	if (copy == NULL) {
		return BFT_ENOMEM;
	}
	memcpy(copy, req, len);
	abc_req_t *slot = &abc->queue[abc->queue_count++];
	slot->data = copy;
	slot->len = (uint32_t)len;
	memcpy(slot->key, key, DEDUP_KEY_LEN);
	slot->origin = origin;
	slot->waited = 0;
	abc->queue_bytes += len;
	abc->queued_from[origin]++;
	abc->queued_bytes_from[origin] += len;
	return BFT_EOK;
}

/*
 * Per-origin bounds. Liveness needs every correct node to hold every
 * pending request of a correct origin (then all want the same epochs), so
 * a correct origin must never forward more than its peers keep for it: it
 * takes at most half of their per-origin quota of its own clients'
 * requests (input beyond: BFT_EAGAIN), the other half being slack for a
 * peer that is behind and still holds requests the origin saw delivered.
 * Both fit in the queue: own + (n - 1) quotas < ABC_QUEUE_MAX, in count
 * and in bytes.
 */
static bool abc_within(const abc_t *abc, bft_node_t origin, size_t len, unsigned share)
{
	size_t n = abc->params.n;
	size_t count_max = ABC_QUEUE_MAX / 2 / n / share;
	size_t bytes_max = ABC_QUEUE_BYTES_MAX / 2 / n / share;
	return abc->queued_from[origin] < count_max &&
	       len <= bytes_max - abc->queued_bytes_from[origin];
}

static bool abc_known(const abc_t *abc, const uint8_t key[DEDUP_KEY_LEN])
{
	return dedup_contains(abc->delivered, key) || abc_pending(abc, key);
}

/* The end of every entry point: progress, then our announcement and
 * fetches; a test mode then changes what this call sends (from `first`). */
static int abc_finish(abc_t *abc, int ret, const bft_env_t *env, bft_step_t *step,
                      size_t first)
{
	if (ret == BFT_EOK) {
		ret = abc_advance(abc, env, step);
	}
	if (ret == BFT_EOK) {
		ret = abc_catchup_after(abc, step);
	}
	if (ret == BFT_EOK) {
		ret = abc_guard_pump(abc, step);
	}
	if (abc->mode != ABC_MODE_HONEST) {
		ret = abc_mode_apply(abc, ret, step, first);
	}
	return ret;
}

int abc_handle_input(abc_t *abc, const uint8_t *req, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	assert(abc != NULL && step != NULL);
	if (req == NULL || len == 0 || len > BATCH_REQUEST_MAX) {
		return BFT_EINVAL;
	}
	size_t first = step->msg_count;
	abc->used = true;
	uint8_t key[DEDUP_KEY_LEN];
	abc_digest(req, len, key);
	if (abc_known(abc, key)) {
		abc->stats.inputs_ignored++;
		return abc_finish(abc, BFT_EOK, env, step, first);
	}
	if (!abc_within(abc, abc->params.self, len, 2)) {
		return BFT_EAGAIN;
	}
	int ret = abc_enqueue(abc, abc->params.self, req, len, key);
	if (ret != BFT_EOK) {
		return ret;
	}
	/* Everyone learns of it: the others then want an epoch too, and
	 * propose it themselves if we do not get it into one. */
	bft_nodeset_t others = bft_nodeset_all(abc->params.n) & ~bft_nodeset_one(abc->params.self);
	if (others != 0) {
		const uint8_t hdr = ABC_MSG_REQUEST;
		ret = bft_step_send2(step, others, &hdr, 1, req, len);
	}
	return abc_finish(abc, ret, env, step, first);
}

/* A request forwarded by its origin: queued within the origin's quota. */
static int abc_on_request(abc_t *abc, bft_node_t from, const uint8_t *req, size_t len,
                          bft_step_t *step)
{
	if (len == 0 || len > BATCH_REQUEST_MAX || from == abc->params.self) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return BFT_EOK;
	}
	uint8_t key[DEDUP_KEY_LEN];
	abc_digest(req, len, key);
	/* Over quota: dropped without blame (only a faulty origin, or one
	 * far ahead of us, sends that many; see abc_within()). */
	if (abc_known(abc, key) || !abc_within(abc, from, len, 1)) {
		return BFT_EOK;
	}
	int ret = abc_enqueue(abc, from, req, len, key);
	return ret == BFT_EAGAIN ? BFT_EOK : ret;
}

/* An epoch's ACS message: within the window it goes to that epoch's ACS. */
static int abc_on_epoch(abc_t *abc, bft_node_t from, const uint8_t *msg, size_t len,
                        const bft_env_t *env, bft_step_t *step)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, msg, len);
	bft_wire_get_u8(&r);
	uint64_t epoch = bft_wire_get_u64(&r);
	if (r.error) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return BFT_EOK;
	}
	if (epoch < abc->epoch) {
		return BFT_EOK;  /* A finished epoch: a slow correct node, or a replay. */
	}
	if (epoch - abc->epoch > ABC_EPOCHS_AHEAD) {
		/* Correct senders hold such messages back until we announce a
		 * later epoch; one that had not heard of our restart yet may
		 * still send them, and not again. No blame: we catch up by
		 * fetching, and keep them for when we get there. */
		return from == abc->params.self ? BFT_EOK : abc_park_add(abc, from, epoch, msg, len);
	}
	return abc_epoch_msg(abc, from, epoch, msg, len, env, step);
}

/* After a restart (ours or the sender's) an exact repeat is no fault: a
 * re-send (abc_guard.c) crossed the original. Drops DUPLICATE faults about
 * the sender recorded from index `first` on; another message in the same
 * slot is still blamed (EQUIVOCATION). */
static void abc_forgive_duplicates(bft_step_t *scratch, size_t first, bft_node_t from)
{
	size_t kept = first;
	for (size_t i = first; i < scratch->fault_count; i++) {
		const bft_fault_t *fault = &scratch->faults[i];
		if (fault->node != from || fault->kind != BFT_FAULT_DUPLICATE) {
			scratch->faults[kept++] = *fault;
		}
	}
	scratch->fault_count = kept;
}

/* An epoch message within our window: to the epoch's ACS. */
static int abc_epoch_msg(abc_t *abc, bft_node_t from, uint64_t epoch, const uint8_t *msg,
                         size_t len, const bft_env_t *env, bft_step_t *step)
{
	acs_t *acs = NULL;
	int ret = abc_get_acs(abc, epoch, &acs);
	if (ret != BFT_EOK) {
		return ret;
	}
	size_t faults = abc->scratch.fault_count;
	ret = acs_handle_message(acs, from, msg + 9, len - 9, env, &abc->scratch);
	if (epoch < abc->peers[from].dup_ok_until) {
		abc_forgive_duplicates(&abc->scratch, faults, from);
	}
	int lifted = abc_hold_lift(abc, epoch, step);
	return ret != BFT_EOK ? ret : lifted;
}

int abc_handle_message(abc_t *abc, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	assert(abc != NULL && step != NULL);
	if (from >= abc->params.n || (msg == NULL && len > 0)) {
		return BFT_EINVAL;
	}
	size_t first = step->msg_count;
	abc->used = true;
	uint8_t kind = len >= 1 ? msg[0] : 0;
	int ret = BFT_EOK;
	switch (kind) {
	case ABC_MSG_EPOCH:
		abc_catchup_heard(abc, from, msg, len);
		ret = abc_on_epoch(abc, from, msg, len, env, step);
		break;
	case ABC_MSG_REQUEST:
		ret = abc_on_request(abc, from, msg + 1, len - 1, step);
		break;
	case ABC_MSG_STARTED:
	case ABC_MSG_FETCH:
	case ABC_MSG_BATCH:
	case ABC_MSG_GONE:
		ret = abc_catchup_message(abc, from, kind, msg + 1, len - 1, step);
		break;
	default:
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		break;
	}
	return abc_finish(abc, ret, env, step, first);
}

int abc_restore(abc_t *abc, const uint8_t *batch, size_t len)
{
	batch_reader_t br;
	if (abc == NULL || abc->used) {
		return BFT_EINVAL;
	}
	if (batch == NULL || batch_reader_open(&br, batch, len) != BFT_EOK) {
		return BFT_EMALF;
	}
	if (!abc->restored) {
		abc->epoch = br.epoch;   /* The log may begin anywhere. */
	} else if (br.epoch != abc->epoch) {
		return BFT_EINVAL;
	}
	int ret = abc_commit(abc, batch, len, false, NULL);
	if (ret == BFT_EOK) {
		abc->restored = true;
	}
	return ret;
}

bool abc_silent(const abc_t *abc, uint64_t epoch)
{
	return abc->restarted && epoch <= abc->silent_until;
}

int abc_start(abc_t *abc, bool restarted, const bft_env_t *env, bft_step_t *step)
{
	assert(abc != NULL && step != NULL);
	size_t first = step->msg_count;
	abc->used = true;
	/* Restored batches or votes: an earlier incarnation ran. */
	abc->restarted = restarted || abc->restored || abc->stats.votes_restored > 0;
	abc->silent_until = abc->epoch + ABC_EPOCHS_AHEAD;
	if (abc->restarted && abc->votes_durable && !abc->votes_incomplete) {
		/* Our restored votes keep us from contradicting the earlier
		 * incarnation: no silence. Fetch at a lag of one as after an
		 * early end of the silence (abc_catchup.c). */
		abc->restarted = false;
		abc->resumed_early = true;
		abc_guard_restart(abc);
	}
	abc->hello = true;
	/* Peers answer our HELLO with re-sends that cross their queued
	 * originals; after a restart with votes we repeat ours, to ourselves too. */
	abc_guard_dup_ok(abc, BFT_NODES_MAX, abc->epoch + ABC_DUP_SPAN);
	return abc_finish(abc, BFT_EOK, env, step, first);
}

int abc_tick(abc_t *abc, const bft_env_t *env, bft_step_t *step)
{
	assert(abc != NULL && env != NULL && step != NULL);
	size_t first = step->msg_count;
	/* Only messages sent before go out: nothing that is decided depends
	 * on the tick, or on when it comes. */
	int ret = abc_guard_pump(abc, step);
	if (abc->mode != ABC_MODE_HONEST) {
		ret = abc_mode_apply(abc, ret, step, first);
	}
	return ret;
}

/* The generic view: input is one request. */

static int ops_create(const bft_params_t *params, void **proto)
{
	return abc_create(params, (abc_t **)proto);
}

static void ops_destroy(void *proto)
{
	abc_destroy(proto);
}

static int ops_input(void *proto, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	return abc_handle_input(proto, input, len, env, step);
}

static int ops_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	return abc_handle_message(proto, from, msg, len, env, step);
}

static bool ops_terminated(const void *proto)
{
	return abc_terminated(proto);
}

static const char *ops_fault_name(uint16_t kind)
{
	switch (kind) {
	case ACS_FAULT_BAD_INSTANCE: return "no such sub-protocol instance";
	case ABC_FAULT_BAD_PROPOSAL: return "malformed proposal in the agreed subset";
	case ABC_FAULT_BAD_BATCH:    return "fetched batch differs from the agreed one";
	default:                     return NULL;
	}
}

const bft_protocol_ops_t abc_ops = {
	.name = "abc",
	.create = ops_create,
	.destroy = ops_destroy,
	.handle_input = ops_input,
	.handle_message = ops_message,
	.terminated = ops_terminated,
	.fault_name = ops_fault_name,
};
