/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Misbehaviour modes of the atomic broadcast (abc.h, doc/broadcast.md),
 * for tests and demonstrations. The node runs the honest state machine;
 * what it sends is changed afterwards, on the messages of one call
 * (abc_mode_apply() from abc_finish()). Working on the outgoing step,
 * rather than at every place that sends, means no message kind can be
 * forgotten (a new one is silenced too) and the honest cores (rbc, aba,
 * acs) carry no test code.
 *
 * SILENT keeps the copies to ourselves only. EQUIVOCATE decodes our own
 * epoch messages (ABC header, ACS header, RBC or ABA message) and sends
 * half of their targets another, still well-formed version. Everything
 * here reads our own messages, which are well-formed; a layout it does
 * not know is sent unchanged.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/aba.h"
#include "coordinator/proto/abc_internal.h"
#include "coordinator/proto/acs.h"
#include "coordinator/proto/batch.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/rbc.h"
#include "coordinator/proto/wire.h"

/* Offsets in an EPOCH message: kind, u64 epoch, ACS sub and instance, child. */
#define MODE_EPOCH_SUB		9
#define MODE_EPOCH_J		10
#define MODE_CHILD		11
/* RBC VALUE/ECHO: kind, u32 length, value; READY: kind, digest. */
#define MODE_RBC_VALUE		(MODE_CHILD + 5)
/* BATCH: kind, then the batch: u64 epoch, u64 time. */
#define MODE_BATCH_TIME		9

static const char *mode_names[ABC_MODES] = { "honest", "silent", "equivocate" };

const char *abc_mode_name(abc_mode_t mode)
{
	return (unsigned)mode < ABC_MODES ? mode_names[mode] : NULL;
}

int abc_mode_parse(const char *name, abc_mode_t *out)
{
	for (unsigned i = 0; name != NULL && i < ABC_MODES; i++) {
		if (strcmp(name, mode_names[i]) == 0) {
			*out = (abc_mode_t)i;
			return BFT_EOK;
		}
	}
	return BFT_EINVAL;
}

void abc_mode_free(abc_t *abc)
{
	free(abc->alt);
	abc->alt = NULL;
	free(abc->lie);
	abc->lie = NULL;
	abc->lie_cap = 0;
}

void abc_mode_propose(abc_t *abc, uint64_t epoch, const uint8_t *real, size_t len)
{
	assert(abc->mode == ABC_MODE_EQUIVOCATE && abc->alt != NULL);
	batch_proposal_t prop;
	int ret = batch_proposal_open(&prop, real, len, abc->params.n);
	assert(ret == BFT_EOK);  /* Our own proposal. */
	struct {
		bft_node_t origin;
		const uint8_t *req;
		size_t len;
	} reqs[BATCH_PROPOSAL_REQUESTS_MAX];
	size_t count = 0;
	while (count < BATCH_PROPOSAL_REQUESTS_MAX &&
	       batch_proposal_next(&prop, &reqs[count].origin, &reqs[count].req, &reqs[count].len)) {
		count++;
	}
	/* The same requests in reverse order and another clock: the same
	 * size, well-formed, and always different from the real one. */
	batch_writer_t bw;
	batch_proposal_begin(&bw, abc->alt, BATCH_PROPOSAL_MAX, prop.time_ms + 1);
	for (size_t i = count; i > 0; i--) {
		bool fits = batch_proposal_add(&bw, reqs[i - 1].origin, reqs[i - 1].req,
		                               reqs[i - 1].len);
		assert(fits);
		(void)fits;
	}
	abc->alt_len = batch_proposal_end(&bw);
	assert(abc->alt_len == len);
	abc_digest(real, len, abc->real_digest);
	abc_digest(abc->alt, abc->alt_len, abc->alt_digest);
	abc->alt_epoch = epoch;
	abc->alt_valid = true;
	(void)ret;
}

/* Half B of epoch: the peers j with j + epoch odd (never ourselves), so
 * that the split moves from epoch to epoch. */
static bft_nodeset_t mode_half(const abc_t *abc, uint64_t epoch)
{
	bft_nodeset_t half = 0;
	for (bft_node_t j = 0; j < abc->params.n; j++) {
		if (j != abc->params.self && ((j + epoch) & 1) != 0) {
			half |= bft_nodeset_one(j);
		}
	}
	return half;
}

/* The epoch a message is about, if it is one we lie in. */
static bool mode_epoch(const uint8_t *msg, size_t len, uint64_t *epoch)
{
	bft_wire_r_t r;
	if (len >= MODE_CHILD + 1 && msg[0] == ABC_MSG_EPOCH) {
		bft_wire_r_init(&r, msg + 1, 8);
	} else if (len >= 1 + 16 && msg[0] == ABC_MSG_BATCH) {
		bft_wire_r_init(&r, msg + 1, 8);
	} else {
		return false;
	}
	*epoch = bft_wire_get_u64(&r);
	return !r.error;
}

static int mode_lie_buf(abc_t *abc, size_t len)
{
	if (len <= abc->lie_cap) {
		return BFT_EOK;
	}
	uint8_t *grown = realloc(abc->lie, len);
	if (grown == NULL) {
		return BFT_ENOMEM;
	}
	abc->lie = grown;
	abc->lie_cap = len;
	return BFT_EOK;
}

/* Our own proposal's VALUE or ECHO for half B: the other proposal. */
static bool mode_lie_own_value(abc_t *abc, const uint8_t *msg, size_t len, size_t *out_len)
{
	uint8_t digest[DEDUP_KEY_LEN];
	abc_digest(msg + MODE_RBC_VALUE, len - MODE_RBC_VALUE, digest);
	if (memcmp(digest, abc->real_digest, DEDUP_KEY_LEN) != 0) {
		return false;
	}
	memcpy(abc->lie, msg, MODE_CHILD + 1);
	bft_wire_w_t w;
	bft_wire_w_init(&w, abc->lie + MODE_CHILD + 1, abc->lie_cap - MODE_CHILD - 1);
	bft_wire_put_bytes(&w, abc->alt, abc->alt_len);
	assert(bft_wire_w_ok(&w));
	*out_len = MODE_CHILD + 1 + w.len;
	return true;
}

/* An RBC message for half B in abc->lie; false: send it unchanged. */
static bool mode_lie_rbc(abc_t *abc, uint64_t epoch, const uint8_t *msg, size_t len,
                         size_t *out_len)
{
	bool own = msg[MODE_EPOCH_J] == abc->params.self && abc->alt_valid &&
	           abc->alt_epoch == epoch;
	uint8_t kind = msg[MODE_CHILD];
	if (kind == RBC_VALUE || kind == RBC_ECHO) {
		if (len < MODE_RBC_VALUE) {
			return false;
		}
		if (own && mode_lie_own_value(abc, msg, len, out_len)) {
			return true;
		}
		if (len == MODE_RBC_VALUE) {
			return false;  /* An empty value has no byte to change. */
		}
		memcpy(abc->lie, msg, len);
		abc->lie[len - 1] ^= 0x01;
		*out_len = len;
		return true;
	}
	if (kind != RBC_READY || len != MODE_CHILD + 1 + RBC_DIGEST_LEN) {
		return false;
	}
	memcpy(abc->lie, msg, len);
	uint8_t *digest = abc->lie + MODE_CHILD + 1;
	if (own && memcmp(digest, abc->real_digest, RBC_DIGEST_LEN) == 0) {
		memcpy(digest, abc->alt_digest, RBC_DIGEST_LEN);
	} else if (own && memcmp(digest, abc->alt_digest, RBC_DIGEST_LEN) == 0) {
		memcpy(digest, abc->real_digest, RBC_DIGEST_LEN);
	} else {
		digest[RBC_DIGEST_LEN - 1] ^= 0x01;
	}
	*out_len = len;
	return true;
}

/* An ABA message for half B: the other bit, another set; coin shares are
 * verifiable, so a changed one would only be dropped. */
static bool mode_lie_aba(abc_t *abc, const uint8_t *msg, size_t len, size_t *out_len)
{
	aba_msg_t m;
	if (aba_msg_decode(msg + MODE_CHILD, len - MODE_CHILD, &m) != BFT_EOK) {
		return false;
	}
	switch (m.kind) {
	case ABA_BVAL: case ABA_AUX: case ABA_TERM:
		m.value ^= 1;
		break;
	case ABA_CONF:
		m.value = m.value == 1 ? 2 : 1;  /* {0} -> {1}; {1} and {0, 1} -> {0} */
		break;
	default:
		return false;
	}
	memcpy(abc->lie, msg, MODE_CHILD);
	size_t child_len = 0;
	int ret = aba_msg_encode(&m, abc->lie + MODE_CHILD, abc->lie_cap - MODE_CHILD, &child_len);
	assert(ret == BFT_EOK && child_len == len - MODE_CHILD);
	(void)ret;
	*out_len = MODE_CHILD + child_len;
	return true;
}

/* A served batch for half B: another agreed time. */
static bool mode_lie_batch(abc_t *abc, const uint8_t *msg, size_t len, size_t *out_len)
{
	memcpy(abc->lie, msg, len);
	uint8_t *time = abc->lie + MODE_BATCH_TIME;
	for (int i = 7; i >= 0 && ++time[i] == 0; i--) {
		/* +1 in big-endian with carry */
	}
	*out_len = len;
	return true;
}

/* Message k of step: half B of its targets gets a lie, appended to step. */
static int mode_equivocate(abc_t *abc, bft_step_t *step, size_t k)
{
	const uint8_t *msg = bft_step_msg_data(step, k);
	size_t len = step->msgs[k].len;
	uint64_t epoch = 0;
	if (!mode_epoch(msg, len, &epoch)) {
		return BFT_EOK;
	}
	bft_nodeset_t half = step->msgs[k].to & mode_half(abc, epoch);
	if (half == 0) {
		return BFT_EOK;
	}
	int ret = mode_lie_buf(abc, len > MODE_RBC_VALUE + BATCH_PROPOSAL_MAX ?
	                            len : MODE_RBC_VALUE + BATCH_PROPOSAL_MAX);
	if (ret != BFT_EOK) {
		return ret;
	}
	bool lie = false;
	size_t lie_len = 0;
	if (msg[0] == ABC_MSG_BATCH) {
		lie = mode_lie_batch(abc, msg, len, &lie_len);
	} else if (msg[MODE_EPOCH_SUB] == ACS_SUB_RBC) {
		lie = mode_lie_rbc(abc, epoch, msg, len, &lie_len);
	} else if (msg[MODE_EPOCH_SUB] == ACS_SUB_ABA) {
		lie = mode_lie_aba(abc, msg, len, &lie_len);
	}
	if (!lie) {
		return BFT_EOK;
	}
	/* msg may move when the arena grows: it is not used after this. A
	 * step too full for the lie sends the truth instead: a test mode must
	 * not turn into an error the driver would treat as our bug. */
	ret = bft_step_send(step, half, abc->lie, lie_len);
	if (ret == BFT_EOK) {
		step->msgs[k].to &= ~half;
	}
	return ret == BFT_ESPACE ? BFT_EOK : ret;
}

int abc_mode_apply(abc_t *abc, int ret, bft_step_t *step, size_t first)
{
	assert(abc->mode != ABC_MODE_HONEST && first <= step->msg_count);
	bft_nodeset_t self = bft_nodeset_one(abc->params.self);
	size_t end = step->msg_count;
	for (size_t k = first; k < end; k++) {
		if (abc->mode == ABC_MODE_SILENT) {
			step->msgs[k].to &= self;
			continue;
		}
		int lied = mode_equivocate(abc, step, k);
		if (lied != BFT_EOK && ret == BFT_EOK) {
			ret = lied;
		}
	}
	/* Drop the entries left without a target (their bytes stay in the
	 * arena until the step is cleared); a message has at least one. */
	size_t kept = first;
	for (size_t k = first; k < step->msg_count; k++) {
		if (step->msgs[k].to != 0) {
			step->msgs[kept++] = step->msgs[k];
		}
	}
	step->msg_count = kept;
	for (size_t k = first; k < step->msg_count; k++) {
		assert(abc->mode != ABC_MODE_SILENT || step->msgs[k].to == self);
	}
	return ret;
}
