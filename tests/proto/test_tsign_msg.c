/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The threshold signer's wire format (tsign_msg.h), requests and outputs
 * (tsign.h): round trips, every field bound refused on both sides, and
 * random or damaged bytes that never crash the decoder and decode only
 * if they are the encoding of what they decode to.
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "coordinator/proto/tsign_msg.h"
#include "tests/common/check.h"

#define BUF_MAX	(TSIGN_MSGS_MAX * (2 + 512 + 600 + 32) + 64)

static uint8_t buf[BUF_MAX], again[BUF_MAX], entries[BUF_MAX];
static const uint8_t rdigest[TSIGN_RDIGEST_LEN] = { 1, 2, 3, 4, 5 };

/* A message of kind with random entries over indexes drawn from 0..m-1. */
static void make_msg(bft_prng_t *prng, const tsign_sizes_t *sizes, tsign_kind_t kind,
                     uint8_t flags, uint16_t m, tsign_msg_t *msg)
{
	memset(msg, 0, sizeof(*msg));
	msg->kind = kind;
	msg->id = bft_prng_next(prng);
	msg->flags = kind == TSIGN_MSG_SHARES ? flags : 0;
	msg->rdigest = kind == TSIGN_MSG_SHARES ? rdigest : NULL;
	msg->m = m;
	size_t esize = tsign_entry_size(sizes, kind, msg->flags);
	uint16_t count = 0;
	for (uint16_t idx = 0; idx < m; idx++) {
		if (kind == TSIGN_MSG_SIGS || bft_prng_below(prng, 2) || (idx == m - 1 && count == 0)) {
			uint8_t *at = entries + (size_t)count * esize;
			bft_prng_random(prng, at, esize);
			if (kind != TSIGN_MSG_SIGS) {
				at[0] = (uint8_t)(idx >> 8);
				at[1] = (uint8_t)idx;
			}
			count++;
		}
	}
	msg->count = count;
	msg->entries = entries;
}

static void check_round_trip(const tsign_sizes_t *sizes, const tsign_msg_t *msg)
{
	size_t len = 0;
	CHECK_EQ(tsign_msg_encode(sizes, msg, buf, sizeof(buf), &len), BFT_EOK);
	CHECK_EQ(len, tsign_msg_size(sizes, msg->kind, msg->flags, msg->count));
	tsign_msg_t back;
	CHECK_EQ(tsign_msg_decode(sizes, buf, len, &back), BFT_EOK);
	CHECK(back.kind == msg->kind && back.id == msg->id && back.flags == msg->flags);
	CHECK(back.m == msg->m && back.count == msg->count);
	CHECK(msg->kind != TSIGN_MSG_SHARES || memcmp(back.rdigest, rdigest, TSIGN_RDIGEST_LEN) == 0);
	size_t body = (size_t)msg->count * tsign_entry_size(sizes, msg->kind, msg->flags);
	CHECK(memcmp(back.entries, msg->entries, body) == 0);
	for (uint16_t i = 0; i < back.count; i++) {
		CHECK_EQ(tsign_msg_index(sizes, &back, i), tsign_msg_index(sizes, msg, i));
	}
	/* Every prefix, and one byte more, are refused. */
	for (size_t cut = 0; cut < len; cut += 1 + cut / 8) {
		CHECK_EQ(tsign_msg_decode(sizes, buf, cut, &back), BFT_EMALF);
	}
	buf[len] = 0;
	CHECK_EQ(tsign_msg_decode(sizes, buf, len + 1, &back), BFT_EMALF);
	CHECK_EQ(tsign_msg_encode(sizes, msg, buf, len - 1, &len), BFT_ESPACE);
}

static void test_round_trips(void)
{
	bft_prng_t prng;
	bft_prng_seed(&prng, 11);
	static const unsigned bits[] = { 1024, 2048, 3072, 4096 };
	for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]); b++) {
		tsign_sizes_t sizes;
		tsign_sizes_init(&sizes, bits[b], TSIGN_MSGS_MAX);
		CHECK_EQ(sizes.value_len, bits[b] / 8);
		CHECK_EQ(sizes.z_len, (bits[b] + 513 + 7) / 8);
		static const uint16_t ms[] = { 1, 2, 20, TSIGN_MSGS_MAX };
		for (size_t k = 0; k < sizeof(ms) / sizeof(ms[0]); k++) {
			for (uint8_t flags = 0; flags <= TSIGN_FLAGS_ALL; flags++) {
				tsign_msg_t msg;
				make_msg(&prng, &sizes, TSIGN_MSG_SHARES, flags, ms[k], &msg);
				check_round_trip(&sizes, &msg);
			}
			tsign_msg_t msg;
			make_msg(&prng, &sizes, TSIGN_MSG_PROOF_REQ, 0, ms[k], &msg);
			check_round_trip(&sizes, &msg);
			make_msg(&prng, &sizes, TSIGN_MSG_HELP, 0, ms[k], &msg);
			check_round_trip(&sizes, &msg);
			make_msg(&prng, &sizes, TSIGN_MSG_SIGS, 0, ms[k], &msg);
			check_round_trip(&sizes, &msg);
		}
	}
}

/* Encodes a header by hand (the encoder would refuse the bad fields). */
static size_t raw_shares(uint8_t *out, uint8_t flags, uint16_t m, uint16_t count,
                         const uint16_t *idx, size_t esize)
{
	size_t at = 0;
	out[at++] = TSIGN_MSG_SHARES;
	memset(out + at, 0, 8);
	at += 8;
	out[at++] = flags;
	memset(out + at, 7, TSIGN_RDIGEST_LEN);
	at += TSIGN_RDIGEST_LEN;
	out[at++] = (uint8_t)(m >> 8);
	out[at++] = (uint8_t)m;
	out[at++] = (uint8_t)(count >> 8);
	out[at++] = (uint8_t)count;
	for (uint16_t i = 0; i < count; i++) {
		memset(out + at, 0x33, esize);
		out[at] = (uint8_t)(idx[i] >> 8);
		out[at + 1] = (uint8_t)idx[i];
		at += esize;
	}
	return at;
}

/* Each bound, on the decoder (hand-made bytes) and on the encoder. */
static void test_bounds(void)
{
	tsign_sizes_t sizes;
	tsign_sizes_init(&sizes, 1024, 20);
	size_t esize = tsign_entry_size(&sizes, TSIGN_MSG_SHARES, 0);
	tsign_msg_t msg;
	uint16_t idx[24] = { 0, 1, 2, 3 };
	size_t len = raw_shares(buf, 0, 4, 4, idx, esize);
	CHECK_EQ(tsign_msg_decode(&sizes, buf, len, &msg), BFT_EOK);

	struct { uint8_t flags; uint16_t m, count; uint16_t idx[4]; } bad[] = {
		{ 0x04, 4, 4, { 0, 1, 2, 3 } },  /* unknown flag */
		{ 0x80, 4, 4, { 0, 1, 2, 3 } },
		{ 0, 0, 0, { 0 } },              /* m = 0 */
		{ 0, 21, 1, { 0 } },             /* m > msgs_max */
		{ 0, 4, 0, { 0 } },              /* count = 0 */
		{ 0, 2, 3, { 0, 1, 2 } },        /* count > m */
		{ 0, 4, 2, { 1, 1 } },           /* repeated index */
		{ 0, 4, 2, { 2, 1 } },           /* decreasing */
		{ 0, 4, 1, { 4 } },              /* index >= m */
		{ 0, 4, 1, { 0xffff } },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t e = tsign_entry_size(&sizes, TSIGN_MSG_SHARES, bad[i].flags & TSIGN_FLAGS_ALL);
		len = raw_shares(buf, bad[i].flags, bad[i].m, bad[i].count, bad[i].idx, e);
		CHECK_EQ(tsign_msg_decode(&sizes, buf, len, &msg), BFT_EMALF);
		tsign_msg_t enc = {
			.kind = TSIGN_MSG_SHARES, .flags = bad[i].flags, .rdigest = rdigest,
			.m = bad[i].m, .count = bad[i].count, .entries = buf + 1 + 8 + 1 + 32 + 4,
		};
		size_t out_len;
		CHECK_EQ(tsign_msg_encode(&sizes, &enc, again, sizeof(again), &out_len), BFT_EINVAL);
	}
	/* A count that claims more entries than there are bytes. */
	len = raw_shares(buf, 0, 4, 4, idx, esize);
	CHECK_EQ(tsign_msg_decode(&sizes, buf, len - 1, &msg), BFT_EMALF);

	/* Unknown kinds; SIGS and PROOF_REQ carry no flags; SIGS count = m. */
	uint8_t kind0[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0 };
	CHECK_EQ(tsign_msg_decode(&sizes, kind0, sizeof(kind0), &msg), BFT_EMALF);
	kind0[0] = 6;
	CHECK_EQ(tsign_msg_decode(&sizes, kind0, sizeof(kind0), &msg), BFT_EMALF);
	/* RESEND: its first 11 bytes and nothing more; m in range. */
	kind0[0] = TSIGN_MSG_RESEND;
	CHECK_EQ(tsign_msg_decode(&sizes, kind0, sizeof(kind0), &msg), BFT_EMALF);
	CHECK_EQ(tsign_msg_decode(&sizes, kind0, 11, &msg), BFT_EOK);
	CHECK(msg.kind == TSIGN_MSG_RESEND && msg.m == 1 && msg.count == 0 && msg.flags == 0);
	CHECK_EQ(tsign_msg_decode(&sizes, kind0, 10, &msg), BFT_EMALF);
	kind0[10] = 0;  /* m = 0 */
	CHECK_EQ(tsign_msg_decode(&sizes, kind0, 11, &msg), BFT_EMALF);
	kind0[10] = 1;
	tsign_msg_t resend = { .kind = TSIGN_MSG_RESEND, .id = 7, .m = 3 };
	uint8_t rbuf[16];
	size_t rlen = 0;
	CHECK_EQ(tsign_msg_encode(&sizes, &resend, rbuf, sizeof(rbuf), &rlen), BFT_EOK);
	CHECK_EQ(rlen, 11);
	CHECK_EQ(tsign_msg_decode(&sizes, rbuf, rlen, &msg), BFT_EOK);
	CHECK(msg.kind == TSIGN_MSG_RESEND && msg.id == 7 && msg.m == 3);
	resend.count = 1;
	CHECK_EQ(tsign_msg_encode(&sizes, &resend, rbuf, sizeof(rbuf), &rlen), BFT_EINVAL);
	/* The same bytes are a well-formed HELP for message 0 of 1. */
	kind0[0] = TSIGN_MSG_HELP;
	CHECK_EQ(tsign_msg_decode(&sizes, kind0, sizeof(kind0), &msg), BFT_EOK);
	CHECK(msg.kind == TSIGN_MSG_HELP && msg.m == 1 && msg.count == 1 &&
	      tsign_msg_index(&sizes, &msg, 0) == 0);
	kind0[14] = 1;  /* index 1 of m = 1 */
	CHECK_EQ(tsign_msg_decode(&sizes, kind0, sizeof(kind0), &msg), BFT_EMALF);
	CHECK_EQ(tsign_msg_decode(&sizes, NULL, 0, &msg), BFT_EMALF);
	tsign_msg_t sigs = { .kind = TSIGN_MSG_SIGS, .m = 2, .count = 1, .entries = entries };
	size_t out_len;
	CHECK_EQ(tsign_msg_encode(&sizes, &sigs, again, sizeof(again), &out_len), BFT_EINVAL);
	sigs.count = 2;
	sigs.flags = TSIGN_FLAG_RESEND;
	CHECK_EQ(tsign_msg_encode(&sizes, &sigs, again, sizeof(again), &out_len), BFT_EINVAL);
	sigs.flags = 0;
	CHECK_EQ(tsign_msg_encode(&sizes, &sigs, again, sizeof(again), &out_len), BFT_EOK);
	tsign_msg_t req = { .kind = TSIGN_MSG_PROOF_REQ, .m = 2, .count = 1,
	                    .flags = TSIGN_FLAG_PROOFS, .entries = (const uint8_t *)"\0\1" };
	CHECK_EQ(tsign_msg_encode(&sizes, &req, again, sizeof(again), &out_len), BFT_EINVAL);
	req.flags = 0;
	CHECK_EQ(tsign_msg_encode(&sizes, &req, again, sizeof(again), &out_len), BFT_EOK);
	req.kind = TSIGN_MSG_HELP;
	CHECK_EQ(tsign_msg_encode(&sizes, &req, again, sizeof(again), &out_len), BFT_EOK);
	req.flags = TSIGN_FLAG_RESEND;
	CHECK_EQ(tsign_msg_encode(&sizes, &req, again, sizeof(again), &out_len), BFT_EINVAL);
	tsign_msg_t shares = { .kind = TSIGN_MSG_SHARES, .m = 1, .count = 1, .entries = entries };
	CHECK_EQ(tsign_msg_encode(&sizes, &shares, again, sizeof(again), &out_len), BFT_EINVAL);
}

/* Random bytes and damaged messages: no crash, and canonical when accepted. */
static void test_random_bytes(void)
{
	bft_prng_t prng;
	bft_prng_seed(&prng, 12);
	tsign_sizes_t sizes;
	tsign_sizes_init(&sizes, 1024, 8);
	unsigned decoded = 0;
	for (unsigned round = 0; round < 200000; round++) {
		size_t len;
		if (round % 2 == 0) {
			len = (size_t)bft_prng_below(&prng, 64);
			bft_prng_random(&prng, buf, len);
			if (len > 0) {
				buf[0] = (uint8_t)(1 + bft_prng_below(&prng, 3));
			}
		} else {
			tsign_msg_t msg;
			tsign_kind_t kind = (tsign_kind_t)(1 + bft_prng_below(&prng, 3));
			make_msg(&prng, &sizes, kind, (uint8_t)bft_prng_below(&prng, 4),
			         (uint16_t)(1 + bft_prng_below(&prng, 8)), &msg);
			CHECK_EQ(tsign_msg_encode(&sizes, &msg, buf, sizeof(buf), &len), BFT_EOK);
			size_t bit = (size_t)bft_prng_below(&prng, len * 8);
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		tsign_msg_t msg;
		if (tsign_msg_decode(&sizes, buf, len, &msg) != BFT_EOK) {
			continue;
		}
		decoded++;
		size_t again_len = 0;
		CHECK_EQ(tsign_msg_encode(&sizes, &msg, again, sizeof(again), &again_len), BFT_EOK);
		CHECK(again_len == len && memcmp(again, buf, len) == 0);
	}
	printf("# %u of 200000 random or damaged messages decoded (each re-encoded identically)\n",
	       decoded);
	CHECK(decoded > 1000);
}

static void test_values(void)
{
	tsign_sizes_t sizes;
	tsign_sizes_init(&sizes, 1024, 4);
	shoup_share_t in, out;
	shoup_share_init(&in);
	shoup_share_init(&out);
	in.id = 3;
	mpz_set_str(in.value, "123456789abcdef", 16);
	mpz_setbit(in.proof_z, 1024 + 512);  /* the widest z */
	mpz_set_str(in.proof_c, "ff", 16);
	in.has_proof = true;
	size_t esize = tsign_entry_size(&sizes, TSIGN_MSG_SHARES, TSIGN_FLAG_PROOFS);
	CHECK(tsign_entry_put_share(&sizes, entries, 2, &in, true));
	tsign_msg_t msg = { .kind = TSIGN_MSG_SHARES, .flags = TSIGN_FLAG_PROOFS, .rdigest = rdigest,
	                    .m = 4, .count = 1, .entries = entries };
	size_t len;
	CHECK_EQ(tsign_msg_encode(&sizes, &msg, buf, sizeof(buf), &len), BFT_EOK);
	tsign_msg_t back;
	CHECK_EQ(tsign_msg_decode(&sizes, buf, len, &back), BFT_EOK);
	CHECK_EQ(tsign_msg_index(&sizes, &back, 0), 2);
	tsign_msg_share(&sizes, &back, 0, 3, &out);
	CHECK(out.id == 3 && out.has_proof);
	CHECK(mpz_cmp(out.value, in.value) == 0 && mpz_cmp(out.proof_z, in.proof_z) == 0 &&
	      mpz_cmp(out.proof_c, in.proof_c) == 0);
	CHECK(esize == 2 + 128 + sizes.z_len + 32);
	/* A value that does not fit its width is refused, never truncated. */
	mpz_setbit(in.value, 1024);
	CHECK(!tsign_entry_put_share(&sizes, entries, 0, &in, false));
	mpz_t v;
	mpz_init_set_si(v, -1);
	CHECK(!tsign_put_fixed(buf, 8, v));
	mpz_set_ui(v, 0);
	CHECK(tsign_put_fixed(buf, 4, v) && buf[0] == 0 && buf[3] == 0);
	mpz_set_ui(v, 0x1ff);
	CHECK(!tsign_put_fixed(buf, 1, v));
	CHECK(tsign_put_fixed(buf, 3, v) && buf[0] == 0 && buf[1] == 1 && buf[2] == 0xff);
	mpz_clear(v);
	shoup_share_clear(&in);
	shoup_share_clear(&out);
}

static void test_requests(void)
{
	uint8_t digests[3 * 32];
	for (size_t i = 0; i < sizeof(digests); i++) {
		digests[i] = (uint8_t)i;
	}
	tsign_request_t req = { .id = tsign_id_make(7, 3), .alg = 8, .count = 3, .digests = digests };
	CHECK(req.id == (UINT64_C(7) << 16 | 3));
	size_t len = 0;
	CHECK_EQ(tsign_request_size(&req), 11 + 96);
	CHECK_EQ(tsign_request_encode(&req, buf, sizeof(buf), &len), BFT_EOK);
	CHECK_EQ(len, 11 + 96);
	tsign_request_t back;
	CHECK_EQ(tsign_request_decode(buf, len, TSIGN_MSGS_MAX, &back), BFT_EOK);
	CHECK(back.id == req.id && back.alg == 8 && back.count == 3 &&
	      memcmp(back.digests, digests, 96) == 0);
	CHECK_EQ(tsign_request_decode(buf, len, 2, &back), BFT_EMALF);  /* above msgs_max */
	CHECK_EQ(tsign_request_decode(buf, len - 1, TSIGN_MSGS_MAX, &back), BFT_EMALF);
	CHECK_EQ(tsign_request_decode(buf, len + 1, TSIGN_MSGS_MAX, &back), BFT_EMALF);
	CHECK_EQ(tsign_request_encode(&req, buf, len - 1, &len), BFT_ESPACE);
	/* SHA-512 digests are 64 bytes: the same bytes are one digest and a half. */
	buf[8] = 10;
	CHECK_EQ(tsign_request_decode(buf, 11 + 96, TSIGN_MSGS_MAX, &back), BFT_EMALF);
	buf[8] = 9;  /* not an RSA algorithm of ours */
	CHECK_EQ(tsign_request_decode(buf, 11 + 96, TSIGN_MSGS_MAX, &back), BFT_EMALF);
	tsign_request_t bad = req;
	bad.alg = 13;
	CHECK_EQ(tsign_request_encode(&bad, buf, sizeof(buf), &len), BFT_EINVAL);
	bad = req;
	bad.count = 0;
	CHECK_EQ(tsign_request_encode(&bad, buf, sizeof(buf), &len), BFT_EINVAL);
	bad.count = TSIGN_MSGS_MAX + 1;
	CHECK_EQ(tsign_request_encode(&bad, buf, sizeof(buf), &len), BFT_EINVAL);

	/* Outputs: u64 id, u16 m, u16 L, m * L bytes. */
	uint8_t out[12 + 2 * 128] = { 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 0, 128 };
	uint64_t id;
	uint16_t count;
	size_t sig_len;
	const uint8_t *sigs;
	CHECK_EQ(tsign_output_decode(out, sizeof(out), &id, &count, &sig_len, &sigs), BFT_EOK);
	CHECK(id == 9 && count == 2 && sig_len == 128 && sigs == out + 12);
	CHECK_EQ(tsign_output_decode(out, sizeof(out) - 1, &id, &count, &sig_len, &sigs), BFT_EMALF);
	out[11] = 127;
	CHECK_EQ(tsign_output_decode(out, 12 + 2 * 127, &id, &count, &sig_len, &sigs), BFT_EMALF);
}

static void test_names(void)
{
	for (unsigned i = 0; i < TSIGN_MODES; i++) {
		tsign_mode_t mode = TSIGN_MODE_SILENT_SIGNER;
		CHECK(tsign_mode_name((tsign_mode_t)i) != NULL);
		CHECK_EQ(tsign_mode_parse(tsign_mode_name((tsign_mode_t)i), &mode), BFT_EOK);
		CHECK_EQ(mode, i);
	}
	tsign_mode_t mode;
	CHECK_EQ(tsign_mode_parse("invert", &mode), BFT_EINVAL);
	CHECK_EQ(tsign_mode_parse("", &mode), BFT_EINVAL);
	CHECK_EQ(tsign_mode_parse(NULL, &mode), BFT_EINVAL);
	CHECK(tsign_mode_name(TSIGN_MODES) == NULL);
	CHECK(strcmp(tsign_mode_name(TSIGN_MODE_INVERT_SHARES), "invert-shares") == 0);
	CHECK(tsign_fault_name(TSIGN_FAULT_MISMATCH) != NULL);
	CHECK(tsign_fault_name(BFT_FAULT_INVALID) == NULL);
	CHECK(bft_protocol_fault_name(&tsign_ops, TSIGN_FAULT_MISMATCH) != NULL);
}

int main(void)
{
	test_round_trips();
	test_bounds();
	test_random_bytes();
	test_values();
	test_requests();
	test_names();
	return check_result("test_tsign_msg");
}
