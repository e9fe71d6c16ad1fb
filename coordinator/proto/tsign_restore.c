/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Finished requests given back after a restart (tsign_restore(), tsign.h):
 * the signatures this replica's earlier incarnation output, read back from
 * its batch store, kept like those of a request finished in this process
 * so that a catching-up peer's RESEND is answered with SIGS.
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/tsign_internal.h"

/* Every signature must verify for its digest: what comes from disk may be
 * damaged or planted, and a restored instance hands its signatures out.
 * (Receivers verify each forwarded signature against their own digests
 * anyway, tsign.h "on SIGS"; this check keeps a bad one from leaving.) */
static bool restore_verify(const tsign_t *ts, const bftdns_alg_t *alg,
                           const tsign_request_t *req, const uint8_t *sigs)
{
	const size_t sig_len = ts->sizes.value_len;
	mpz_t x, sig;
	mpz_inits(x, sig, NULL);
	bool ok = true;
	for (uint16_t i = 0; ok && i < req->count; i++) {
		mpz_import(sig, sig_len, 1, 1, 1, 0, sigs + (size_t)i * sig_len);
		ok = bftdns_alg_encode_digest(alg, req->digests + (size_t)i * alg->digest_size,
		                              sig_len, x) == SHOUP_EOK &&
		     shoup_signature_verify(ts->pub, x, sig);
	}
	mpz_clears(x, sig, NULL);
	return ok;
}

/* Room for one more finished instance of id: the oldest kept goes if the
 * bounds are reached (as trimming after a finish does), unless it is newer
 * than id, which then is the one not kept. */
static bool restore_make_room(tsign_t *ts, uint64_t id, size_t len)
{
	while (ts->finished_count > 0 && (ts->finished_count >= ts->conf.keep_max ||
	       ts->finished_bytes + len > ts->conf.keep_bytes_max)) {
		tsign_inst_t *oldest = NULL;
		for (uint32_t i = 0; i < ts->inst_cap; i++) {
			tsign_inst_t *inst = &ts->insts[i];
			if (inst->state == TSIGN_INST_FINISHED &&
			    (oldest == NULL || inst->id < oldest->id)) {
				oldest = inst;
			}
		}
		if (oldest == NULL || oldest->id > id) {
			return false;
		}
		ts->finished_bytes -= oldest->output_len;
		ts->finished_count--;
		tsign_inst_release(oldest);
	}
	return true;
}

int tsign_restore(tsign_t *ts, const tsign_request_t *req, size_t sig_len, const uint8_t *sigs)
{
	if (ts == NULL || req == NULL || req->digests == NULL || sigs == NULL) {
		return BFT_EINVAL;
	}
	/* Only before the first request, and only ids before it: a restored
	 * instance never stands for one this process starts. */
	const bftdns_alg_t *alg = bftdns_alg_by_number(req->alg);
	if (ts->started || req->id >= ts->conf.start_id || alg == NULL ||
	    req->count < 1 || req->count > ts->conf.msgs_max || sig_len != ts->sizes.value_len) {
		return BFT_EINVAL;
	}
	for (uint32_t i = 0; i < ts->inst_cap; i++) {
		if (ts->insts[i].state != TSIGN_INST_FREE && ts->insts[i].id == req->id) {
			return BFT_EEXIST;
		}
	}
	if (!restore_verify(ts, alg, req, sigs)) {
		return BFT_EINVAL;
	}
	size_t len = TSIGN_OUTPUT_HDR + (size_t)req->count * sig_len;
	if (!restore_make_room(ts, req->id, len)) {
		return BFT_ESPACE;
	}
	tsign_inst_t *inst = NULL;
	for (uint32_t i = 0; inst == NULL && i < ts->inst_cap; i++) {
		inst = (ts->insts[i].state == TSIGN_INST_FREE) ? &ts->insts[i] : NULL;
	}
	uint8_t *out = malloc(len);
	if (inst == NULL || out == NULL) {
		free(out);
		return BFT_ENOMEM;
	}
	/* The output's layout (tsign_inst.c): u64 id, u16 m, u16 L, signatures. */
	for (unsigned i = 0; i < 8; i++) {
		out[i] = (uint8_t)(req->id >> (56 - 8 * i));
	}
	out[8] = (uint8_t)(req->count >> 8);
	out[9] = (uint8_t)req->count;
	out[10] = (uint8_t)(sig_len >> 8);
	out[11] = (uint8_t)sig_len;
	memcpy(out + TSIGN_OUTPUT_HDR, sigs, (size_t)req->count * sig_len);

	memset(inst, 0, sizeof(*inst));
	inst->state = TSIGN_INST_FINISHED;
	inst->id = req->id;
	inst->m = req->count;
	tsign_request_digest(req, inst->rdigest);
	inst->output = out;
	inst->output_len = len;
	ts->finished_count++;
	ts->finished_bytes += len;
	ts->stats.restored++;
	return BFT_EOK;
}
