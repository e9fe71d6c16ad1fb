/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * What the threshold signer sends: its shares (spoiled here if a test mode
 * says so), proof requests, signatures; and how a finished request answers
 * peers that are still missing it.
 */

#include <string.h>
#include <nettle/sha2.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/tsign_internal.h"
#include "coordinator/proto/wire.h"

void tsign_blame_report(const tsign_blame_t *blame, bft_step_t *step)
{
	for (bft_node_t i = 0; i < BFT_NODES_MAX; i++) {
		if (bft_nodeset_has(blame->equivocation, i)) {
			bft_step_fault(step, i, BFT_FAULT_EQUIVOCATION);
		} else if (bft_nodeset_has(blame->invalid, i)) {
			bft_step_fault(step, i, BFT_FAULT_INVALID);
		}
	}
}

int tsign_send(tsign_t *ts, bft_nodeset_t to, const uint8_t *hdr, size_t hdr_len,
               const uint8_t *body, size_t body_len, bft_step_t *step)
{
	/* Our own copy never travels: our collectors take our shares directly. */
	assert(to != 0 && (to & ~ts->others) == 0);
	if (ts->conf.mode == TSIGN_MODE_SILENT_SIGNER) {
		return BFT_EOK;
	}
	int ret = bft_step_send2(step, to, hdr, hdr_len, body, body_len);
	if (ret == BFT_EOK) {
		ts->stats.msgs_sent++;
		ts->stats.bytes_sent += (uint64_t)(hdr_len + body_len) * bft_nodeset_count(to);
	}
	return ret;
}

/*
 * random-shares: a value in [1, N) that depends on (node, id, index) only,
 * so a replayed run spoils the same way and the core still reads no
 * randomness source: SHA-256 in counter mode, 128 bits more than N, mod N.
 */
static void mode_random_value(const tsign_t *ts, const tsign_inst_t *inst, uint16_t index,
                              uint8_t *value)
{
	static const char label[] = "bftdns/tsign/random-share/v1";
	uint8_t stream[SHOUP_BITS_MAX / 8 + 16 + SHA256_DIGEST_SIZE];
	size_t need = ts->sizes.value_len + 16;
	assert(need + SHA256_DIGEST_SIZE <= sizeof(stream));
	for (uint32_t block = 0; block * SHA256_DIGEST_SIZE < need; block++) {
		uint8_t tag[2 + 8 + 2 + 4];
		bft_wire_w_t w;
		bft_wire_w_init(&w, tag, sizeof(tag));
		bft_wire_put_u16(&w, ts->params.self);
		bft_wire_put_u64(&w, inst->id);
		bft_wire_put_u16(&w, index);
		bft_wire_put_u32(&w, block);
		assert(bft_wire_w_ok(&w));
		struct sha256_ctx ctx;
		sha256_init(&ctx);
		sha256_update(&ctx, sizeof(label), (const uint8_t *)label);
		sha256_update(&ctx, sizeof(tag), tag);
		sha256_digest(&ctx, SHA256_DIGEST_SIZE, stream + block * SHA256_DIGEST_SIZE);
	}
	mpz_t v;
	mpz_init(v);
	mpz_import(v, need, 1, 1, 1, 0, stream);
	mpz_mod(v, v, ts->pub->modulus);
	if (mpz_sgn(v) == 0) {
		mpz_set_ui(v, 1);
	}
	bool ok = tsign_put_fixed(value, ts->sizes.value_len, v);
	assert(ok);
	(void)ok;
	mpz_clear(v);
}

/* Applies a misbehaviour mode to one encoded share value (L bytes). */
static void mode_spoil(const tsign_t *ts, const tsign_inst_t *inst, uint16_t index,
                       uint8_t *value)
{
	switch (ts->conf.mode) {
	case TSIGN_MODE_INVERT_SHARES:
		/* The paper's corrupted server: all bits of the share inverted
		 * (as L bytes; the result may even be >= N). */
		for (size_t i = 0; i < ts->sizes.value_len; i++) {
			value[i] ^= 0xff;
		}
		break;
	case TSIGN_MODE_RANDOM_SHARES:
		mode_random_value(ts, inst, index, value);
		break;
	default:
		break;
	}
}

int tsign_send_shares(tsign_t *ts, tsign_inst_t *inst, const tsign_bits_t *which,
                      bool proofs, bft_nodeset_t to, bft_step_t *step)
{
	assert(inst->state == TSIGN_INST_ACTIVE);
	unsigned count = tsign_bits_count(which);
	assert(count >= 1 && count <= inst->m);
	uint8_t flags = (proofs ? TSIGN_FLAG_PROOFS : 0) | (inst->resend ? TSIGN_FLAG_RESEND : 0);
	size_t esize = tsign_entry_size(&ts->sizes, TSIGN_MSG_SHARES, flags);
	assert(count * esize <= ts->scratch_cap);

	uint8_t *at = ts->scratch;
	for (uint16_t idx = 0; idx < inst->m; idx++) {
		if (!tsign_bits_has(which, idx)) {
			continue;
		}
		bool ok = tsign_entry_put_share(&ts->sizes, at, idx, &inst->own[idx], proofs);
		assert(ok && "our own share does not fit its width");
		(void)ok;
		mode_spoil(ts, inst, idx, at + 2);
		at += esize;
	}
	tsign_msg_t msg = {
		.kind = TSIGN_MSG_SHARES, .id = inst->id, .flags = flags, .rdigest = inst->rdigest,
		.m = inst->m, .count = (uint16_t)count, .entries = ts->scratch,
	};
	uint8_t hdr[TSIGN_HEADER_MAX];
	size_t hdr_len = 0;
	int ret = tsign_msg_encode_header(&ts->sizes, &msg, hdr, sizeof(hdr), &hdr_len);
	assert(ret == BFT_EOK);
	return tsign_send(ts, to, hdr, hdr_len, ts->scratch, count * esize, step);
}

int tsign_send_proof_req(tsign_t *ts, tsign_inst_t *inst, tsign_kind_t kind,
                         const tsign_bits_t *which, bft_step_t *step)
{
	assert(kind == TSIGN_MSG_PROOF_REQ || kind == TSIGN_MSG_HELP);
	unsigned count = tsign_bits_count(which);
	assert(count >= 1 && count <= inst->m && 2 * count <= ts->scratch_cap);
	uint8_t *at = ts->scratch;
	for (uint16_t idx = 0; idx < inst->m; idx++) {
		if (tsign_bits_has(which, idx)) {
			*at++ = (uint8_t)(idx >> 8);
			*at++ = (uint8_t)idx;
		}
	}
	tsign_msg_t msg = {
		.kind = kind, .id = inst->id, .m = inst->m,
		.count = (uint16_t)count, .entries = ts->scratch,
	};
	uint8_t hdr[TSIGN_HEADER_MAX];
	size_t hdr_len = 0;
	int ret = tsign_msg_encode_header(&ts->sizes, &msg, hdr, sizeof(hdr), &hdr_len);
	assert(ret == BFT_EOK);
	*(kind == TSIGN_MSG_HELP ? &ts->stats.help_requests : &ts->stats.proof_requests) += 1;
	return tsign_send(ts, ts->others, hdr, hdr_len, ts->scratch, 2 * count, step);
}

int tsign_send_resend(tsign_t *ts, tsign_inst_t *inst, bft_step_t *step)
{
	tsign_msg_t msg = { .kind = TSIGN_MSG_RESEND, .id = inst->id, .m = inst->m };
	uint8_t hdr[TSIGN_HEADER_MAX];
	size_t hdr_len = 0;
	int ret = tsign_msg_encode_header(&ts->sizes, &msg, hdr, sizeof(hdr), &hdr_len);
	assert(ret == BFT_EOK);
	return tsign_send(ts, ts->others, hdr, hdr_len, NULL, 0, step);
}

int tsign_send_sigs(tsign_t *ts, tsign_inst_t *inst, bft_nodeset_t to, bft_step_t *step)
{
	assert(inst->state == TSIGN_INST_FINISHED && inst->output != NULL);
	size_t body_len = (size_t)inst->m * ts->sizes.value_len;
	assert(inst->output_len == TSIGN_OUTPUT_HDR + body_len);
	const uint8_t *body = inst->output + TSIGN_OUTPUT_HDR;
	tsign_msg_t msg = {
		.kind = TSIGN_MSG_SIGS, .id = inst->id, .m = inst->m, .count = inst->m, .entries = body,
	};
	uint8_t hdr[TSIGN_HEADER_MAX];
	size_t hdr_len = 0;
	int ret = tsign_msg_encode_header(&ts->sizes, &msg, hdr, sizeof(hdr), &hdr_len);
	assert(ret == BFT_EOK);
	inst->sigs_to |= to;
	ts->stats.sigs_sent++;
	return tsign_send(ts, to, hdr, hdr_len, body, body_len, step);
}

int tsign_finished_on_message(tsign_t *ts, tsign_inst_t *inst, bft_node_t from,
                              const tsign_msg_t *msg, bft_step_t *step)
{
	assert(inst->state == TSIGN_INST_FINISHED && msg->id == inst->id);
	bft_nodeset_t one = bft_nodeset_one(from);
	if (msg->m != inst->m || (msg->kind == TSIGN_MSG_SHARES &&
	    memcmp(msg->rdigest, inst->rdigest, TSIGN_RDIGEST_LEN) != 0)) {
		bft_step_fault(step, from, TSIGN_FAULT_MISMATCH);
		return BFT_EOK;
	}
	switch (msg->kind) {
	case TSIGN_MSG_SIGS:
		/* Not verified: a false claim only costs its sender our answers. */
		inst->finished_peers |= one;
		return BFT_EOK;
	case TSIGN_MSG_PROOF_REQ:
	case TSIGN_MSG_HELP:
		/* It is stuck in OPTPROOF's fallback, or the designated signers
		 * were not enough for it; our signatures end that, unless they
		 * are already on their way (so at most once per peer). */
		if ((inst->finished_peers | inst->sigs_to) & one) {
			return BFT_EOK;
		}
		ts->stats.helps_answered += msg->kind == TSIGN_MSG_HELP;
		return tsign_send_sigs(ts, inst, one, step);
	case TSIGN_MSG_SHARES:
	case TSIGN_MSG_RESEND:
		/* Late shares are normal; only a RESEND says our SIGS went missing
		 * (or a restarted peer lost them). Answered at most
		 * TSIGN_RESEND_ANSWERS times per peer, so a liar cannot make us
		 * talk on. */
		if ((msg->kind == TSIGN_MSG_SHARES && !(msg->flags & TSIGN_FLAG_RESEND)) ||
		    inst->resend_answers[from] >= TSIGN_RESEND_ANSWERS) {
			return BFT_EOK;
		}
		inst->resend_answers[from]++;
		ts->stats.resends++;
		return tsign_send_sigs(ts, inst, one, step);
	}
	assert(0 && "decode returned an unknown kind");
	return BFT_EINVAL;
}
