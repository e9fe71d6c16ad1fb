/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * One unfinished signing request at one replica: m collectors (one per
 * message, coordinator/crypto/shoup.h), our own m shares, and the OPTPROOF
 * fallback. Shares of the m messages travel together, so the m collectors
 * move in step and a request costs one round, not m.
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/tsign_internal.h"

static uint32_t player_bit(bft_node_t node)
{
	assert(node < SHOUP_PLAYERS_MAX);
	return UINT32_C(1) << node;
}

void tsign_inst_release(tsign_inst_t *inst)
{
	if (inst->cols != NULL) {
		for (uint16_t i = 0; i < inst->m; i++) {
			if (inst->cols[i].pub != NULL) {
				shoup_collector_clear(&inst->cols[i]);
			}
		}
	}
	if (inst->own != NULL) {
		for (uint16_t i = 0; i < inst->m; i++) {
			shoup_share_clear(&inst->own[i]);
		}
	}
	free(inst->cols);
	free(inst->own);
	free(inst->output);
	memset(inst, 0, sizeof(*inst));
}

int tsign_inst_open(tsign_t *ts, tsign_inst_t *inst, const tsign_request_t *req)
{
	assert(inst->state == TSIGN_INST_FREE);
	const bftdns_alg_t *alg = bftdns_alg_by_number(req->alg);
	if (alg == NULL || req->count < 1 || req->count > ts->conf.msgs_max ||
	    req->digests == NULL) {
		return BFT_EINVAL;
	}
	inst->cols = calloc(req->count, sizeof(*inst->cols));
	inst->own = calloc(req->count, sizeof(*inst->own));
	if (inst->cols == NULL || inst->own == NULL) {
		free(inst->cols);
		free(inst->own);
		memset(inst, 0, sizeof(*inst));
		return BFT_ENOMEM;
	}
	inst->m = req->count;
	for (uint16_t i = 0; i < inst->m; i++) {
		shoup_share_init(&inst->own[i]);
	}
	int ret = BFT_EOK;
	mpz_t x;
	mpz_init(x);
	for (uint16_t i = 0; ret == BFT_EOK && i < inst->m; i++) {
		const uint8_t *digest = req->digests + (size_t)i * alg->digest_size;
		if (bftdns_alg_encode_digest(alg, digest, ts->sizes.value_len, x) != SHOUP_EOK ||
		    shoup_collector_init(&inst->cols[i], ts->pub, x, ts->conf.strategy) != SHOUP_EOK) {
			ret = BFT_EINVAL;  /* the encoding does not fit this key */
		}
	}
	mpz_clear(x);
	if (ret != BFT_EOK) {
		tsign_inst_release(inst);
		return ret;
	}
	inst->state = TSIGN_INST_ACTIVE;
	inst->id = req->id;
	for (bft_node_t i = 0; i < ts->params.n; i++) {
		if (ts->conf.designated == TSIGN_DESIGNATED_OFF ||
		    tsign_designated(ts->params.n, ts->params.f, req->id, i)) {
			inst->dset |= bft_nodeset_one(i);
		}
	}
	inst->designated = bft_nodeset_has(inst->dset, ts->params.self);
	tsign_request_digest(req, inst->rdigest);
	return BFT_EOK;
}

/* Our share of message idx, with a proof if proof (recomputed once if an
 * earlier one had none: the value is the same, shares are deterministic). */
static int inst_sign_own(tsign_t *ts, tsign_inst_t *inst, uint16_t idx, bool proof)
{
	shoup_share_t *own = &inst->own[idx];
	if (own->id != 0 && (own->has_proof || !proof)) {
		return BFT_EOK;
	}
	if (shoup_share_sign(ts->pub, ts->secret, inst->cols[idx].x, proof, own) != SHOUP_EOK) {
		return BFT_EINVAL;  /* a checked key and x in [1, N): our bug */
	}
	assert(own->id == (unsigned)ts->params.self + 1 && own->has_proof == proof);
	if (proof) {
		tsign_bits_set(&inst->own_proven, idx);
		ts->stats.proofs_made++;
	} else {
		ts->stats.shares_made++;
	}
	ts->stats.help_shares += !inst->designated;
	return BFT_EOK;
}

/*
 * Feeds one share from node from to collector idx. Blame goes to whoever
 * the collector newly marks faulty: the sender (equivocation if it had
 * sent a different value before), or, when OPTPROOF falls back and checks
 * the proofs it was holding, the senders of those.
 */
static void inst_add_share(tsign_inst_t *inst, uint16_t idx, bft_node_t from,
                           const shoup_share_t *share, tsign_blame_t *blame,
                           tsign_bits_t *need)
{
	shoup_collector_t *col = &inst->cols[idx];
	assert(share->id == (unsigned)from + 1);
	if (tsign_bits_has(&inst->done, idx)) {
		return;
	}
	bool differs = false;
	for (unsigned i = 0; (col->seen & player_bit(from)) && i < col->count; i++) {
		if (col->shares[i].id == share->id) {
			differs = mpz_cmp(col->shares[i].value, share->value) != 0;
		}
	}
	uint32_t faulty_before = col->faulty;
	shoup_collect_t verdict = shoup_collector_add(col, share);
	uint32_t fresh = col->faulty & ~faulty_before;
	for (bft_node_t i = 0; fresh != 0 && i < SHOUP_PLAYERS_MAX; i++) {
		if (fresh & player_bit(i)) {
			bool equivocated = i == from && differs;
			*(equivocated ? &blame->equivocation : &blame->invalid) |= bft_nodeset_one(i);
		}
	}
	if (verdict == SHOUP_COLLECT_DONE) {
		tsign_bits_set(&inst->done, idx);
	} else if (verdict == SHOUP_COLLECT_NEED_PROOFS) {
		tsign_bits_set(need, idx);
	}
}

/* Our own share of idx into our collector: once, and again with its proof
 * when OPTPROOF's fallback waits for proven shares. */
static void inst_feed_own(tsign_t *ts, tsign_inst_t *inst, uint16_t idx, tsign_blame_t *blame,
                          tsign_bits_t *need)
{
	bool proven = tsign_bits_has(&inst->own_proven, idx);
	if (tsign_bits_has(&inst->fed, idx) && !(proven && inst->cols[idx].proofs_requested)) {
		return;
	}
	tsign_bits_set(&inst->fed, idx);
	inst_add_share(inst, idx, ts->params.self, &inst->own[idx], blame, need);
}

/*
 * Our proven shares of the messages in which go to every peer, once per
 * message, and into our own collectors that are waiting for proven shares
 * (OPTPROOF after its fallback) or do not have our share yet (we are not
 * in D). A collector may fall back on our share: need says which.
 */
static int inst_give_proofs(tsign_t *ts, tsign_inst_t *inst, const tsign_bits_t *which,
                            tsign_blame_t *blame, tsign_bits_t *need)
{
	tsign_bits_t todo;
	tsign_bits_minus(&todo, which, &inst->proofs_sent);
	if (tsign_bits_count(&todo) == 0) {
		return BFT_EOK;
	}
	for (uint16_t idx = 0; idx < inst->m; idx++) {
		if (tsign_bits_has(&todo, idx)) {
			int ret = inst_sign_own(ts, inst, idx, true);
			if (ret != BFT_EOK) {
				return ret;
			}
		}
	}
	tsign_bits_add(&inst->proofs_sent, &todo);
	for (uint16_t idx = 0; idx < inst->m; idx++) {
		if (tsign_bits_has(&todo, idx)) {
			inst_feed_own(ts, inst, idx, blame, need);
		}
	}
	return BFT_EOK;
}

/* inst_give_proofs, then the new proven shares to every peer. */
static int inst_send_proofs(tsign_t *ts, tsign_inst_t *inst, const tsign_bits_t *which,
                            tsign_blame_t *blame, tsign_bits_t *need, bft_step_t *step)
{
	tsign_bits_t todo;
	tsign_bits_minus(&todo, which, &inst->proofs_sent);
	int ret = inst_give_proofs(ts, inst, which, blame, need);
	if (ret != BFT_EOK || tsign_bits_count(&todo) == 0 || ts->others == 0) {
		return ret;
	}
	return tsign_send_shares(ts, inst, &todo, true, ts->others, step);
}

/* OPTPROOF: the collectors in need combined wrong shares. Ask every peer
 * for proofs (once per message) and answer that request ourselves. */
static int inst_fall_back(tsign_t *ts, tsign_inst_t *inst, const tsign_bits_t *need,
                          tsign_blame_t *blame, bft_step_t *step)
{
	assert(ts->conf.strategy == SHOUP_STRATEGY_OPTPROOF);
	tsign_bits_t ask;
	tsign_bits_minus(&ask, need, &inst->requested);
	if (tsign_bits_count(&ask) > 0) {
		tsign_bits_add(&inst->requested, &ask);
		int ret = tsign_send_proof_req(ts, inst, TSIGN_MSG_PROOF_REQ, &ask, step);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	/* Every collector in need is in its fallback now: ours go in proven,
	 * and none of them says NEED_PROOFS again. */
	tsign_bits_t unused = { { 0 } };
	int ret = inst_send_proofs(ts, inst, need, blame, &unused, step);
	assert(tsign_bits_count(&unused) == 0);
	return ret;
}

/*
 * Our shares of the messages in which that have not gone out yet (with
 * proofs under BASIC; under OPTPROOF the ones in a fallback went out with
 * their proofs already): computed, sent to all, fed to our collectors.
 */
static int inst_give_shares(tsign_t *ts, tsign_inst_t *inst, const tsign_bits_t *which,
                            tsign_blame_t *blame, tsign_bits_t *need, bft_step_t *step)
{
	bool proofs = ts->conf.strategy == SHOUP_STRATEGY_BASIC;
	if (proofs) {
		return inst_send_proofs(ts, inst, which, blame, need, step);
	}
	tsign_bits_t todo;
	tsign_bits_minus(&todo, which, &inst->shares_sent);
	tsign_bits_minus(&todo, &todo, &inst->proofs_sent);
	if (tsign_bits_count(&todo) == 0) {
		return BFT_EOK;
	}
	for (uint16_t idx = 0; idx < inst->m; idx++) {
		if (tsign_bits_has(&todo, idx)) {
			int ret = inst_sign_own(ts, inst, idx, false);
			if (ret != BFT_EOK) {
				return ret;
			}
		}
	}
	tsign_bits_add(&inst->shares_sent, &todo);
	if (ts->others != 0) {
		int ret = tsign_send_shares(ts, inst, &todo, false, ts->others, step);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	for (uint16_t idx = 0; idx < inst->m; idx++) {
		if (tsign_bits_has(&todo, idx)) {
			inst_feed_own(ts, inst, idx, blame, need);
		}
	}
	return BFT_EOK;
}

/*
 * The messages D was not enough for: the collector has a share from every
 * member of D, or blamed it, and no signature (a bad share); every one not
 * done if the request is overdue (a silent member). OPTPROOF's fallback
 * asks everyone for proofs already, so those are left to it.
 */
static void inst_stuck(const tsign_t *ts, const tsign_inst_t *inst, tsign_bits_t *out)
{
	*out = (tsign_bits_t){ { 0 } };
	if (ts->conf.designated == TSIGN_DESIGNATED_OFF) {
		return;
	}
	uint32_t d = 0;
	for (bft_node_t i = 0; i < ts->params.n; i++) {
		d |= bft_nodeset_has(inst->dset, i) ? player_bit(i) : 0;
	}
	for (uint16_t idx = 0; idx < inst->m; idx++) {
		const shoup_collector_t *col = &inst->cols[idx];
		if (tsign_bits_has(&inst->done, idx) || col->proofs_requested) {
			continue;
		}
		if (inst->overdue || ((col->seen | col->faulty) & d) == d) {
			tsign_bits_set(out, idx);
		}
	}
}

/*
 * After an event: OPTPROOF's fallback where a collector needs it, help
 * where D was not enough (our shares, and HELP to all, once per message),
 * then the blame, then the output if every collector is done. Each pass
 * grows requested or help_asked, so this ends.
 */
static int inst_progress(tsign_t *ts, tsign_inst_t *inst, tsign_bits_t *need,
                         tsign_blame_t *blame, bft_step_t *step)
{
	int ret = BFT_EOK;
	for (unsigned pass = 0; ret == BFT_EOK && pass < 4; pass++) {
		if (tsign_bits_count(need) > 0) {
			ret = inst_fall_back(ts, inst, need, blame, step);
			*need = (tsign_bits_t){ { 0 } };
			continue;
		}
		tsign_bits_t stuck;
		inst_stuck(ts, inst, &stuck);
		tsign_bits_minus(&stuck, &stuck, &inst->help_asked);
		if (tsign_bits_count(&stuck) == 0) {
			break;
		}
		tsign_bits_add(&inst->help_asked, &stuck);
		ret = inst_give_shares(ts, inst, &stuck, blame, need, step);
		if (ret == BFT_EOK && ts->others != 0) {
			ret = tsign_send_proof_req(ts, inst, TSIGN_MSG_HELP, &stuck, step);
		}
	}
	assert(ret != BFT_EOK || tsign_bits_count(need) == 0);
	tsign_blame_report(blame, step);
	return ret == BFT_EOK ? tsign_inst_try_finish(ts, inst, step) : ret;
}

int tsign_inst_begin(tsign_t *ts, tsign_inst_t *inst, bft_step_t *step)
{
	assert(inst->state == TSIGN_INST_ACTIVE);
	if (!inst->designated) {
		/* D signs; we collect, and help only if it is not enough. If we
		 * may have lost messages of it (a restart, FUTURE drops), RESEND
		 * makes finished peers send their SIGS again and unfinished ones
		 * their shares, as the flag on our SHARES would. */
		return inst->resend && ts->others != 0 ? tsign_send_resend(ts, inst, step) : BFT_EOK;
	}
	tsign_bits_t all;
	tsign_bits_all(&all, inst->m);
	tsign_blame_t blame = { 0 };
	tsign_bits_t need = { { 0 } };
	int ret = inst_give_shares(ts, inst, &all, &blame, &need, step);
	/* Our true shares come first (peers' early shares are fed after
	 * them), so nobody is blamed and no combination has failed yet. */
	assert(blame.invalid == 0 && blame.equivocation == 0);
	assert(tsign_bits_count(&need) == 0);
	return ret == BFT_EOK ? tsign_inst_try_finish(ts, inst, step) : ret;
}

int tsign_inst_on_overdue(tsign_t *ts, tsign_inst_t *inst, bft_step_t *step)
{
	assert(inst->state == TSIGN_INST_ACTIVE && !inst->overdue);
	inst->overdue = true;
	tsign_blame_t blame = { 0 };
	tsign_bits_t need = { { 0 } };
	return inst_progress(ts, inst, &need, &blame, step);
}

/* A RESEND from a peer that may have lost our shares: at most
 * TSIGN_RESEND_ANSWERS times per peer (tsign.h). */
static int inst_answer_resend(tsign_t *ts, tsign_inst_t *inst, bft_node_t from,
                              bft_step_t *step)
{
	bft_nodeset_t one = bft_nodeset_one(from);
	if (inst->resend_answers[from] >= TSIGN_RESEND_ANSWERS) {
		return BFT_EOK;
	}
	inst->resend_answers[from]++;
	ts->stats.resends++;
	/* What we sent, and only that: outside D we may have no shares. */
	tsign_bits_t plain;
	tsign_bits_minus(&plain, &inst->shares_sent, &inst->proofs_sent);
	int ret = BFT_EOK;
	if (tsign_bits_count(&plain) > 0) {
		ret = tsign_send_shares(ts, inst, &plain, false, one, step);
	}
	if (ret == BFT_EOK && tsign_bits_count(&inst->proofs_sent) > 0) {
		ret = tsign_send_shares(ts, inst, &inst->proofs_sent, true, one, step);
	}
	return ret;
}

static int inst_on_shares(tsign_t *ts, tsign_inst_t *inst, bft_node_t from,
                          const tsign_msg_t *msg, bft_step_t *step)
{
	if (memcmp(msg->rdigest, inst->rdigest, TSIGN_RDIGEST_LEN) != 0) {
		bft_step_fault(step, from, TSIGN_FAULT_MISMATCH);
		return BFT_EOK;
	}
	if (msg->flags & TSIGN_FLAG_RESEND) {
		int ret = inst_answer_resend(ts, inst, from, step);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	if (!inst->timing && bft_nodeset_has(inst->dset, from) &&
	    ts->conf.designated != TSIGN_DESIGNATED_OFF) {
		/* D has begun here: from now on a missing share is late, not
		 * just not made yet because we are ahead (tsign.h). */
		inst->timing = true;
		inst->clocked = ts->clocked;
		inst->start_ms = ts->now_ms;
		uint64_t due = inst->clocked ? inst->start_ms + ts->conf.help_delay_ms : ts->now_ms;
		ts->next_check_ms = due < ts->next_check_ms ? due : ts->next_check_ms;
	}
	tsign_blame_t blame = { 0 };
	tsign_bits_t need = { { 0 } };
	shoup_share_t share;
	shoup_share_init(&share);
	for (uint16_t i = 0; i < msg->count; i++) {
		uint16_t idx = tsign_msg_index(&ts->sizes, msg, i);
		if (!tsign_bits_has(&inst->done, idx)) {
			tsign_msg_share(&ts->sizes, msg, i, (unsigned)from + 1, &share);
			inst_add_share(inst, idx, from, &share, &blame, &need);
		}
	}
	shoup_share_clear(&share);
	return inst_progress(ts, inst, &need, &blame, step);
}

static void msg_indexes(const tsign_t *ts, const tsign_msg_t *msg, tsign_bits_t *which)
{
	*which = (tsign_bits_t){ { 0 } };
	for (uint16_t i = 0; i < msg->count; i++) {
		tsign_bits_set(which, tsign_msg_index(&ts->sizes, msg, i));
	}
}

static int inst_on_proof_req(tsign_t *ts, tsign_inst_t *inst, bft_node_t from,
                             const tsign_msg_t *msg, bft_step_t *step)
{
	assert(ts->conf.strategy == SHOUP_STRATEGY_OPTPROOF);
	tsign_bits_t which;
	msg_indexes(ts, msg, &which);
	tsign_blame_t blame = { 0 };
	tsign_bits_t need = { { 0 } };
	int ret = inst_send_proofs(ts, inst, &which, &blame, &need, step);
	return ret == BFT_EOK ? inst_progress(ts, inst, &need, &blame, step) : ret;
}

/* D was not enough for a peer: our shares of what it names. Each share is
 * computed and sent at most once, so HELPs repeated (or lied) cost us no
 * more than signing at input did before D (tsign.h). */
static int inst_on_help(tsign_t *ts, tsign_inst_t *inst, const tsign_msg_t *msg,
                        bft_step_t *step)
{
	tsign_bits_t which;
	msg_indexes(ts, msg, &which);
	tsign_blame_t blame = { 0 };
	tsign_bits_t need = { { 0 } };
	uint64_t sent = ts->stats.msgs_sent;
	int ret = inst_give_shares(ts, inst, &which, &blame, &need, step);
	ts->stats.helps_answered += ts->stats.msgs_sent != sent;
	return ret == BFT_EOK ? inst_progress(ts, inst, &need, &blame, step) : ret;
}

/* Forwarded signatures: each one is used only if it verifies. */
static int inst_on_sigs(tsign_t *ts, tsign_inst_t *inst, bft_node_t from,
                        const tsign_msg_t *msg, bft_step_t *step)
{
	bool bad = false;
	mpz_t sig;
	mpz_init(sig);
	for (uint16_t idx = 0; idx < msg->count; idx++) {
		tsign_msg_signature(&ts->sizes, msg, idx, sig);
		shoup_collector_t *col = &inst->cols[idx];
		if (tsign_bits_has(&inst->done, idx)) {
			/* Unique: any valid signature equals ours. */
			bad |= mpz_cmp(sig, col->signature) != 0;
		} else if (shoup_collector_add_signature(col, sig) == SHOUP_COLLECT_DONE) {
			assert(mpz_cmp(sig, col->signature) == 0);
			tsign_bits_set(&inst->done, idx);
			inst->used_sigs = true;
		} else {
			bad = true;
		}
	}
	mpz_clear(sig);
	if (bad) {
		bft_step_fault(step, from, BFT_FAULT_INVALID);
	} else {
		inst->finished_peers |= bft_nodeset_one(from);
	}
	return tsign_inst_try_finish(ts, inst, step);
}

int tsign_inst_on_message(tsign_t *ts, tsign_inst_t *inst, bft_node_t from,
                          const tsign_msg_t *msg, bft_step_t *step)
{
	assert(inst->state == TSIGN_INST_ACTIVE && msg->id == inst->id);
	assert(from != ts->params.self);
	if (msg->m != inst->m) {
		bft_step_fault(step, from, TSIGN_FAULT_MISMATCH);
		return BFT_EOK;
	}
	switch (msg->kind) {
	case TSIGN_MSG_SHARES:    return inst_on_shares(ts, inst, from, msg, step);
	case TSIGN_MSG_PROOF_REQ: return inst_on_proof_req(ts, inst, from, msg, step);
	case TSIGN_MSG_SIGS:      return inst_on_sigs(ts, inst, from, msg, step);
	case TSIGN_MSG_HELP:      return inst_on_help(ts, inst, msg, step);
	case TSIGN_MSG_RESEND:    return inst_answer_resend(ts, inst, from, step);
	}
	assert(0 && "decode returned an unknown kind");
	return BFT_EINVAL;
}

/* The output: u64 id, u16 m, u16 L, then the m signatures of L bytes. */
static int inst_make_output(tsign_t *ts, tsign_inst_t *inst)
{
	size_t sig_len = ts->sizes.value_len;
	size_t len = TSIGN_OUTPUT_HDR + (size_t)inst->m * sig_len;
	uint8_t *out = malloc(len);
	if (out == NULL) {
		return BFT_ENOMEM;
	}
	for (unsigned i = 0; i < 8; i++) {
		out[i] = (uint8_t)(inst->id >> (56 - 8 * i));
	}
	out[8] = (uint8_t)(inst->m >> 8);
	out[9] = (uint8_t)inst->m;
	out[10] = (uint8_t)(sig_len >> 8);
	out[11] = (uint8_t)sig_len;
	for (uint16_t idx = 0; idx < inst->m; idx++) {
		const shoup_collector_t *col = &inst->cols[idx];
		/* Never output what does not verify: the collector checked it,
		 * and this is the one place a wrong signature could leave. */
		assert(col->done && shoup_signature_verify(ts->pub, col->x, col->signature));
		bool ok = tsign_put_fixed(out + TSIGN_OUTPUT_HDR + idx * sig_len, sig_len,
		                          col->signature);
		assert(ok);
		(void)ok;
		ts->stats.combine_attempts += col->combine_attempts;
	}
	inst->output = out;
	inst->output_len = len;
	return BFT_EOK;
}

/* Drops what only an unfinished request needs. */
static void inst_shrink(tsign_inst_t *inst)
{
	for (uint16_t i = 0; i < inst->m; i++) {
		shoup_collector_clear(&inst->cols[i]);
		shoup_share_clear(&inst->own[i]);
	}
	free(inst->cols);
	free(inst->own);
	inst->cols = NULL;
	inst->own = NULL;
}

int tsign_inst_try_finish(tsign_t *ts, tsign_inst_t *inst, bft_step_t *step)
{
	assert(inst->state == TSIGN_INST_ACTIVE);
	if (tsign_bits_count(&inst->done) < inst->m) {
		return BFT_EOK;
	}
	int ret = inst_make_output(ts, inst);
	if (ret != BFT_EOK) {
		return ret;
	}
	ret = bft_step_output(step, TSIGN_OUTPUT_SIGS, inst->output, inst->output_len);
	if (ret != BFT_EOK) {
		free(inst->output);
		inst->output = NULL;
		return ret;
	}
	inst_shrink(inst);
	inst->state = TSIGN_INST_FINISHED;
	assert(ts->active_count > 0);
	ts->active_count--;
	ts->finished_count++;
	ts->finished_bytes += inst->output_len;
	ts->stats.finished++;
	ts->stats.finished_by_sigs += inst->used_sigs;
	/* Peers that finished stopped sending shares: whoever has not been
	 * seen finishing may be waiting for what we have. */
	bft_nodeset_t to = ts->others & ~inst->finished_peers;
	return to != 0 ? tsign_send_sigs(ts, inst, to, step) : BFT_EOK;
}
