/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The threshold signer's requests and outputs as bytes, and its names.
 */

#include <assert.h>
#include <string.h>
#include <nettle/sha2.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/tsign_internal.h"
#include "coordinator/proto/wire.h"

#define REQUEST_HDR	(8 + 1 + 2)

uint64_t tsign_id_make(uint64_t batch, uint32_t position)
{
	assert(batch < (UINT64_C(1) << (64 - TSIGN_ID_POSITION_BITS)));
	assert(position < (UINT32_C(1) << TSIGN_ID_POSITION_BITS));
	return batch << TSIGN_ID_POSITION_BITS | position;
}

bool tsign_designated(uint16_t n, uint16_t f, uint64_t id, bft_node_t node)
{
	assert(n >= 1 && (unsigned)f + 1 <= n);
	/* The batch and the position both move the window, so consecutive
	 * batches and the changes of one batch land on different replicas. */
	uint64_t batch = id >> TSIGN_ID_POSITION_BITS;
	uint64_t position = id & ((UINT64_C(1) << TSIGN_ID_POSITION_BITS) - 1);
	uint64_t first = (batch % n + position % n) % n;
	uint64_t offset = (node + n - first) % n;
	return node < n && offset <= f;
}

/* The digest size of req's algorithm, or 0 if req is not a valid request. */
static size_t request_digest_size(const tsign_request_t *req, uint16_t msgs_max)
{
	const bftdns_alg_t *alg = bftdns_alg_by_number(req->alg);
	if (alg == NULL || req->count < 1 || req->count > msgs_max) {
		return 0;
	}
	assert(alg->digest_size <= TSIGN_DIGEST_MAX);
	return alg->digest_size;
}

size_t tsign_request_size(const tsign_request_t *req)
{
	size_t digest_size = request_digest_size(req, TSIGN_MSGS_MAX);
	if (digest_size == 0 || req->digests == NULL) {
		return 0;
	}
	return REQUEST_HDR + (size_t)req->count * digest_size;
}

int tsign_request_encode(const tsign_request_t *req, uint8_t *buf, size_t cap, size_t *len)
{
	size_t size = tsign_request_size(req);
	if (size == 0) {
		return BFT_EINVAL;
	}
	bft_wire_w_t w;
	bft_wire_w_init(&w, buf, cap);
	bft_wire_put_u64(&w, req->id);
	bft_wire_put_u8(&w, req->alg);
	bft_wire_put_u16(&w, req->count);
	bft_wire_put_raw(&w, req->digests, size - REQUEST_HDR);
	if (!bft_wire_w_ok(&w)) {
		return BFT_ESPACE;
	}
	assert(w.len == size);
	*len = w.len;
	return BFT_EOK;
}

int tsign_request_decode(const uint8_t *buf, size_t len, uint16_t msgs_max, tsign_request_t *req)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, buf, len);
	memset(req, 0, sizeof(*req));
	req->id = bft_wire_get_u64(&r);
	req->alg = bft_wire_get_u8(&r);
	req->count = bft_wire_get_u16(&r);
	size_t digest_size = request_digest_size(req, msgs_max);
	if (digest_size == 0) {
		bft_wire_r_fail(&r);
	}
	bft_wire_get_raw(&r, (size_t)req->count * digest_size, &req->digests);
	if (!bft_wire_r_done(&r)) {
		memset(req, 0, sizeof(*req));
		return BFT_EMALF;
	}
	return BFT_EOK;
}

void tsign_request_digest(const tsign_request_t *req, uint8_t out[TSIGN_RDIGEST_LEN])
{
	size_t digest_size = request_digest_size(req, TSIGN_MSGS_MAX);
	assert(digest_size > 0);
	uint8_t hdr[REQUEST_HDR];
	bft_wire_w_t w;
	bft_wire_w_init(&w, hdr, sizeof(hdr));
	bft_wire_put_u64(&w, req->id);
	bft_wire_put_u8(&w, req->alg);
	bft_wire_put_u16(&w, req->count);
	assert(bft_wire_w_ok(&w) && w.len == sizeof(hdr));

	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, sizeof(hdr), hdr);
	sha256_update(&ctx, (size_t)req->count * digest_size, req->digests);
	sha256_digest(&ctx, TSIGN_RDIGEST_LEN, out);
}

int tsign_output_decode(const uint8_t *buf, size_t len, uint64_t *id, uint16_t *count,
                        size_t *sig_len, const uint8_t **sigs)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, buf, len);
	*id = bft_wire_get_u64(&r);
	*count = bft_wire_get_u16(&r);
	*sig_len = bft_wire_get_u16(&r);
	if (*count < 1 || *count > TSIGN_MSGS_MAX ||
	    *sig_len < SHOUP_BITS_MIN / 8 || *sig_len > SHOUP_BITS_MAX / 8) {
		bft_wire_r_fail(&r);
	}
	bft_wire_get_raw(&r, (size_t)*count * *sig_len, sigs);
	return bft_wire_r_done(&r) ? BFT_EOK : BFT_EMALF;
}

static const char *const mode_names[TSIGN_MODES] = {
	[TSIGN_MODE_HONEST]        = "honest",
	[TSIGN_MODE_INVERT_SHARES] = "invert-shares",
	[TSIGN_MODE_RANDOM_SHARES] = "random-shares",
	[TSIGN_MODE_SILENT_SIGNER] = "silent-signer",
};

const char *tsign_mode_name(tsign_mode_t mode)
{
	return (unsigned)mode < TSIGN_MODES ? mode_names[mode] : NULL;
}

int tsign_mode_parse(const char *name, tsign_mode_t *out)
{
	for (unsigned i = 0; name != NULL && i < TSIGN_MODES; i++) {
		if (strcmp(name, mode_names[i]) == 0) {
			*out = (tsign_mode_t)i;
			return BFT_EOK;
		}
	}
	return BFT_EINVAL;
}

const char *tsign_fault_name(uint16_t kind)
{
	return kind == TSIGN_FAULT_MISMATCH ? "request differs from ours" : NULL;
}
