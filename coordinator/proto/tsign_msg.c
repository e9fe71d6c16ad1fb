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
#include "coordinator/proto/tsign_msg.h"
#include "coordinator/proto/wire.h"

void tsign_sizes_init(tsign_sizes_t *sizes, unsigned bits, uint16_t msgs_max)
{
	assert(bits >= SHOUP_BITS_MIN && bits <= SHOUP_BITS_MAX);
	assert(msgs_max >= 1 && msgs_max <= TSIGN_MSGS_MAX);
	sizes->value_len = (bits + 7) / 8;
	sizes->z_len = (bits + TSIGN_Z_EXTRA_BITS + 7) / 8;
	sizes->msgs_max = msgs_max;
}

static bool kind_valid(uint8_t kind)
{
	return kind == TSIGN_MSG_SHARES || kind == TSIGN_MSG_PROOF_REQ || kind == TSIGN_MSG_SIGS ||
	       kind == TSIGN_MSG_HELP || kind == TSIGN_MSG_RESEND;
}

size_t tsign_entry_size(const tsign_sizes_t *sizes, tsign_kind_t kind, uint8_t flags)
{
	switch (kind) {
	case TSIGN_MSG_SHARES:
		return 2 + sizes->value_len +
		       ((flags & TSIGN_FLAG_PROOFS) ? sizes->z_len + TSIGN_C_LEN : 0);
	case TSIGN_MSG_PROOF_REQ:
	case TSIGN_MSG_HELP:
		return 2;
	case TSIGN_MSG_SIGS:
		return sizes->value_len;
	case TSIGN_MSG_RESEND:
		return 0;
	}
	assert(0 && "unknown kind");
	return 0;
}

static size_t header_size(tsign_kind_t kind)
{
	switch (kind) {
	case TSIGN_MSG_SHARES:    return 1 + 8 + 1 + TSIGN_RDIGEST_LEN + 2 + 2;
	case TSIGN_MSG_PROOF_REQ:
	case TSIGN_MSG_HELP:      return 1 + 8 + 2 + 2;
	case TSIGN_MSG_SIGS:
	case TSIGN_MSG_RESEND:    return 1 + 8 + 2;
	}
	assert(0 && "unknown kind");
	return 0;
}

size_t tsign_msg_size(const tsign_sizes_t *sizes, tsign_kind_t kind, uint8_t flags,
                      uint16_t count)
{
	return header_size(kind) + (size_t)count * tsign_entry_size(sizes, kind, flags);
}

uint16_t tsign_msg_index(const tsign_sizes_t *sizes, const tsign_msg_t *msg, uint16_t i)
{
	assert(i < msg->count);
	if (msg->kind == TSIGN_MSG_SIGS) {
		return i;
	}
	const uint8_t *at = msg->entries + (size_t)i * tsign_entry_size(sizes, msg->kind, msg->flags);
	return (uint16_t)(at[0] << 8 | at[1]);
}

/* The rules both sides enforce: ranges of m, count, flags and indexes. */
static bool msg_fields_valid(const tsign_sizes_t *sizes, const tsign_msg_t *msg)
{
	if (!kind_valid(msg->kind) || msg->m < 1 || msg->m > sizes->msgs_max) {
		return false;
	}
	if (msg->kind == TSIGN_MSG_SIGS) {
		return msg->flags == 0 && msg->count == msg->m;
	}
	if (msg->kind == TSIGN_MSG_RESEND) {
		return msg->flags == 0 && msg->count == 0;
	}
	if (msg->kind != TSIGN_MSG_SHARES && msg->flags != 0) {
		return false;
	}
	if ((msg->flags & ~TSIGN_FLAGS_ALL) != 0 || msg->count < 1 || msg->count > msg->m) {
		return false;
	}
	int prev = -1;
	for (uint16_t i = 0; i < msg->count; i++) {
		int index = tsign_msg_index(sizes, msg, i);
		if (index <= prev || index >= msg->m) {
			return false;
		}
		prev = index;
	}
	return true;
}

int tsign_msg_encode_header(const tsign_sizes_t *sizes, const tsign_msg_t *msg,
                            uint8_t *buf, size_t cap, size_t *len)
{
	if ((msg->entries == NULL && msg->count > 0) || !msg_fields_valid(sizes, msg) ||
	    (msg->kind == TSIGN_MSG_SHARES && msg->rdigest == NULL)) {
		return BFT_EINVAL;
	}
	bft_wire_w_t w;
	bft_wire_w_init(&w, buf, cap);
	bft_wire_put_u8(&w, (uint8_t)msg->kind);
	bft_wire_put_u64(&w, msg->id);
	if (msg->kind == TSIGN_MSG_SHARES) {
		bft_wire_put_u8(&w, msg->flags);
		bft_wire_put_raw(&w, msg->rdigest, TSIGN_RDIGEST_LEN);
	}
	bft_wire_put_u16(&w, msg->m);
	if (msg->kind != TSIGN_MSG_SIGS && msg->kind != TSIGN_MSG_RESEND) {
		bft_wire_put_u16(&w, msg->count);
	}
	if (!bft_wire_w_ok(&w)) {
		return BFT_ESPACE;
	}
	assert(w.len == header_size(msg->kind));
	*len = w.len;
	return BFT_EOK;
}

int tsign_msg_encode(const tsign_sizes_t *sizes, const tsign_msg_t *msg,
                     uint8_t *buf, size_t cap, size_t *len)
{
	size_t hdr_len = 0;
	int ret = tsign_msg_encode_header(sizes, msg, buf, cap, &hdr_len);
	if (ret != BFT_EOK) {
		return ret;
	}
	size_t body = (size_t)msg->count * tsign_entry_size(sizes, msg->kind, msg->flags);
	if (body > cap - hdr_len) {
		return BFT_ESPACE;
	}
	memcpy(buf + hdr_len, msg->entries, body);
	*len = hdr_len + body;
	assert(*len == tsign_msg_size(sizes, msg->kind, msg->flags, msg->count));
	return BFT_EOK;
}

int tsign_msg_decode(const tsign_sizes_t *sizes, const uint8_t *buf, size_t len,
                     tsign_msg_t *msg)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, buf, len);
	memset(msg, 0, sizeof(*msg));
	uint8_t kind = bft_wire_get_u8(&r);
	if (!kind_valid(kind)) {
		return BFT_EMALF;
	}
	msg->kind = (tsign_kind_t)kind;
	msg->id = bft_wire_get_u64(&r);
	if (kind == TSIGN_MSG_SHARES) {
		msg->flags = bft_wire_get_u8(&r);
		bft_wire_get_raw(&r, TSIGN_RDIGEST_LEN, &msg->rdigest);
	}
	msg->m = bft_wire_get_u16(&r);
	msg->count = kind == TSIGN_MSG_SIGS ? msg->m :
	             kind == TSIGN_MSG_RESEND ? 0 : bft_wire_get_u16(&r);
	/* Bound the entries by m before taking them: count <= m <= msgs_max. */
	bool empty_ok = kind == TSIGN_MSG_RESEND;
	if (msg->m < 1 || msg->m > sizes->msgs_max || (msg->count < 1 && !empty_ok) ||
	    msg->count > msg->m ||
	    (msg->flags & ~TSIGN_FLAGS_ALL) != 0) {
		bft_wire_r_fail(&r);
	}
	size_t body = (size_t)msg->count * tsign_entry_size(sizes, msg->kind, msg->flags);
	bft_wire_get_raw(&r, body, &msg->entries);
	if (!bft_wire_r_done(&r) || !msg_fields_valid(sizes, msg)) {
		memset(msg, 0, sizeof(*msg));
		return BFT_EMALF;
	}
	return BFT_EOK;
}

void tsign_msg_share(const tsign_sizes_t *sizes, const tsign_msg_t *msg, uint16_t i,
                     unsigned id, shoup_share_t *share)
{
	assert(msg->kind == TSIGN_MSG_SHARES && i < msg->count);
	size_t esize = tsign_entry_size(sizes, msg->kind, msg->flags);
	const uint8_t *at = msg->entries + (size_t)i * esize + 2;
	share->id = id;
	mpz_import(share->value, sizes->value_len, 1, 1, 1, 0, at);
	share->has_proof = (msg->flags & TSIGN_FLAG_PROOFS) != 0;
	if (share->has_proof) {
		at += sizes->value_len;
		mpz_import(share->proof_z, sizes->z_len, 1, 1, 1, 0, at);
		mpz_import(share->proof_c, TSIGN_C_LEN, 1, 1, 1, 0, at + sizes->z_len);
	} else {
		mpz_set_ui(share->proof_z, 0);
		mpz_set_ui(share->proof_c, 0);
	}
}

void tsign_msg_signature(const tsign_sizes_t *sizes, const tsign_msg_t *msg, uint16_t i,
                         mpz_t sig)
{
	assert(msg->kind == TSIGN_MSG_SIGS && i < msg->count);
	mpz_import(sig, sizes->value_len, 1, 1, 1, 0, msg->entries + (size_t)i * sizes->value_len);
}

bool tsign_put_fixed(uint8_t *out, size_t len, const mpz_t v)
{
	if (mpz_sgn(v) < 0) {
		return false;
	}
	size_t need = mpz_sgn(v) == 0 ? 0 : (mpz_sizeinbase(v, 2) + 7) / 8;
	if (need > len) {
		return false;
	}
	memset(out, 0, len - need);
	if (need > 0) {
		size_t written = 0;
		mpz_export(out + len - need, &written, 1, 1, 1, 0, v);
		assert(written == need);
	}
	return true;
}

bool tsign_entry_put_share(const tsign_sizes_t *sizes, uint8_t *out, uint16_t index,
                           const shoup_share_t *share, bool proofs)
{
	assert(!proofs || share->has_proof);
	out[0] = (uint8_t)(index >> 8);
	out[1] = (uint8_t)index;
	out += 2;
	if (!tsign_put_fixed(out, sizes->value_len, share->value)) {
		return false;
	}
	if (!proofs) {
		return true;
	}
	out += sizes->value_len;
	return tsign_put_fixed(out, sizes->z_len, share->proof_z) &&
	       tsign_put_fixed(out + sizes->z_len, TSIGN_C_LEN, share->proof_c);
}
