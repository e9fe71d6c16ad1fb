/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The certificate of a stable checkpoint (module/checkpoint_cert.h) and the
 * atomic state file it is kept in (module/statefile.h). n = 4, f = 1: three
 * signed DIGEST reports of one batch, time and digest verify with 2f + 1 =
 * 3 (how it is formed) and with f + 1 = 2 (what a state-transfer receiver
 * needs); refused: too few reports, a report checked against another
 * replica's pin, another zone, a report of another digest or time or
 * batch, a replica twice, an index beyond n, a flipped signature. The
 * encoding round-trips; a flipped byte, a cut or a long file are
 * malformed. The state file is 0600 and replaced whole.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/net/link_key.h"
#include "coordinator/proto/error.h"
#include "libknot/errcode.h"
#include "module/checkpoint_cert.h"
#include "module/statefile.h"
#include "tests/common/check.h"

#define N	4
#define F	1

static char dir[] = "/tmp/test_checkpoint_cert.XXXXXX";
static bftdns_digest_signer_t signers[N];
static bft_pin_t pins[N];

static const uint8_t zone[] = "\x07""example\x03""com";
static const uint8_t other_zone[] = "\x07""example\x03""org";
#define ZONE_LEN	sizeof(zone)

static bftdns_digest_claim_t claim_of(uint64_t batch, uint64_t time_ms, uint8_t fill)
{
	bftdns_digest_claim_t claim = { .batch = batch, .time_ms = time_ms };
	memset(claim.digest, fill, sizeof(claim.digest));
	return claim;
}

/* A certificate of claim by the replicas in ids (0-based). */
static void cert_make(bftdns_checkpoint_t *cp, const bftdns_digest_claim_t *claim,
                      const unsigned *ids, unsigned count)
{
	memset(cp, 0, sizeof(*cp));
	cp->claim = *claim;
	for (unsigned i = 0; i < count; i++) {
		cp->origin[i] = (uint8_t)ids[i];
		CHECK_EQ(bftdns_digest_report_sign(&signers[ids[i]], zone, ZONE_LEN, claim,
		                                   cp->report[i]), BFT_EOK);
	}
	cp->count = count;
}

static int verify(const bftdns_checkpoint_t *cp, unsigned need, char *why, size_t len)
{
	why[0] = '\0';
	return bftdns_checkpoint_verify(cp, zone, ZONE_LEN, pins, N, need, why, len);
}

static void test_verify(void)
{
	const unsigned ids[] = { 0, 2, 3 };
	bftdns_digest_claim_t claim = claim_of(64, 1790000000123ull, 0x42);
	bftdns_checkpoint_t cp, bad;
	char why[160];
	cert_make(&cp, &claim, ids, 3);
	CHECK_EQ(verify(&cp, 2 * F + 1, why, sizeof(why)), KNOT_EOK);
	CHECK_EQ(verify(&cp, F + 1, why, sizeof(why)), KNOT_EOK);

	/* Too few: two reports are enough for f + 1, not for 2f + 1. */
	bad = cp;
	bad.count = 2;
	CHECK_ERR(verify(&bad, 2 * F + 1, why, sizeof(why)), KNOT_EMALF, why, "2 reports, 3 needed");
	CHECK_EQ(verify(&bad, F + 1, why, sizeof(why)), KNOT_EOK);
	bad.count = 0;
	CHECK_ERR(verify(&bad, F + 1, why, sizeof(why)), KNOT_EMALF, why, "0 reports");

	/* Wrong pin: replica 1's report said to be replica 2's. */
	bad = cp;
	bad.origin[0] = 1;
	CHECK_ERR(verify(&bad, 2 * F + 1, why, sizeof(why)), KNOT_EMALF, why, "pinned link key");
	/* The right reports checked against pins that are all another's. */
	bft_pin_t wrong[N] = { pins[1], pins[1], pins[1], pins[1] };
	CHECK_EQ(bftdns_checkpoint_verify(&cp, zone, ZONE_LEN, wrong, N, 3, why, sizeof(why)),
	         KNOT_EMALF);

	/* Wrong zone. */
	CHECK_EQ(bftdns_checkpoint_verify(&cp, other_zone, sizeof(other_zone), pins, N, 3, why,
	                                  sizeof(why)), KNOT_EMALF);

	/* Mismatched reports: one of another digest, of another time, of
	 * another batch; or the certificate's claim is not what they say. */
	const bftdns_digest_claim_t others[] = {
		claim_of(64, 1790000000123ull, 0x43),
		claim_of(64, 1790000000124ull, 0x42),
		claim_of(65, 1790000000123ull, 0x42),
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		bad = cp;
		CHECK_EQ(bftdns_digest_report_sign(&signers[ids[1]], zone, ZONE_LEN, &others[i],
		                                   bad.report[1]), BFT_EOK);
		CHECK_ERR(verify(&bad, F + 1, why, sizeof(why)), KNOT_EMALF, why,
		          "claims another batch, time or digest");
		bad = cp;
		bad.claim = others[i];
		CHECK_EQ(verify(&bad, F + 1, why, sizeof(why)), KNOT_EMALF);
	}

	/* One replica twice, an index beyond n, no batch. */
	bad = cp;
	bad.origin[1] = 0;
	memcpy(bad.report[1], bad.report[0], BFTDNS_DIGEST_REPORT_SIZE);
	CHECK_ERR(verify(&bad, 2, why, sizeof(why)), KNOT_EMALF, why, "reports twice");
	bad = cp;
	bad.origin[2] = N;
	CHECK_EQ(verify(&bad, 2, why, sizeof(why)), KNOT_EMALF);
	bad = cp;
	bad.claim.batch = 0;
	CHECK_EQ(verify(&bad, 2, why, sizeof(why)), KNOT_EMALF);

	/* A flipped bit of a signature. */
	bad = cp;
	bad.report[2][BFTDNS_DIGEST_REPORT_SIZE - 1] ^= 0x80;
	CHECK_EQ(verify(&bad, 2, why, sizeof(why)), KNOT_EMALF);

	/* The caller's misuse. */
	CHECK_EQ(verify(&cp, 0, why, sizeof(why)), KNOT_EINVAL);
	CHECK_EQ(verify(&cp, N + 1, why, sizeof(why)), KNOT_EINVAL);
}

static void test_encoding(void)
{
	const unsigned ids[] = { 1, 2, 3 };
	bftdns_digest_claim_t claim = claim_of(1024, 1790000004567ull, 0x17);
	bftdns_checkpoint_t cp, back;
	cert_make(&cp, &claim, ids, 3);
	uint8_t buf[BFTDNS_CHECKPOINT_SIZE_MAX + 8];
	CHECK_EQ(bftdns_checkpoint_encode(&cp, buf, BFTDNS_CHECKPOINT_SIZE(3) - 1), 0);
	size_t len = bftdns_checkpoint_encode(&cp, buf, sizeof(buf));
	CHECK_EQ(len, BFTDNS_CHECKPOINT_SIZE(3));
	memset(&back, 0, sizeof(back));
	CHECK_EQ(bftdns_checkpoint_decode(buf, len, &back), KNOT_EOK);
	CHECK(back.claim.batch == 1024 && back.claim.time_ms == 1790000004567ull &&
	      back.count == 3 && back.origin[0] == 1 && back.origin[2] == 3);
	CHECK(memcmp(back.report, cp.report, sizeof(cp.report[0]) * 3) == 0);
	char why[160];
	CHECK_EQ(verify(&back, 3, why, sizeof(why)), KNOT_EOK);

	/* Every byte flipped, cut short, one byte more: malformed, out untouched. */
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x04;
		back.claim.batch = 77;
		CHECK_EQ(bftdns_checkpoint_decode(buf, len, &back), KNOT_EMALF);
		CHECK(back.claim.batch == 77);
		buf[i] ^= 0x04;
	}
	for (size_t cut = 0; cut < len; cut += 37) {
		CHECK_EQ(bftdns_checkpoint_decode(buf, cut, &back), KNOT_EMALF);
	}
	CHECK_EQ(bftdns_checkpoint_decode(buf, len + 1, &back), KNOT_EMALF);

	/* Kept in a state file: 0600, read back the same, replaced whole. */
	CHECK_EQ(bftdns_statefile_write(dir, "checkpoint", buf, len), KNOT_EOK);
	char path[300];
	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	uint8_t *data = NULL;
	size_t data_len = 0;
	CHECK_EQ(bftdns_statefile_read(dir, "checkpoint", BFTDNS_CHECKPOINT_SIZE_MAX, &data,
	                               &data_len), KNOT_EOK);
	CHECK(data != NULL && data_len == len && memcmp(data, buf, len) == 0);
	free(data);
	CHECK_EQ(bftdns_statefile_write(dir, "checkpoint", (const uint8_t *)"x", 1), KNOT_EOK);
	CHECK_EQ(bftdns_statefile_read(dir, "checkpoint", 10, &data, &data_len), KNOT_EOK);
	CHECK(data_len == 1 && data[0] == 'x');
	free(data);
	CHECK_EQ(bftdns_statefile_read(dir, "checkpoint", 0, &data, &data_len), KNOT_ESPACE);
	CHECK_EQ(bftdns_statefile_read(dir, "none", 10, &data, &data_len), KNOT_ENOENT);
	unlink(path);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	char why[BFT_WHY_MAX], pin_text[BFT_PIN_STR_MAX], path[256];
	bool keys = true;
	for (unsigned id = 1; id <= N; id++) {
		CHECK_EQ(bft_link_key_generate(dir, id, false, pin_text, why, sizeof(why)), BFT_EOK);
		CHECK_EQ(bft_pin_parse(pin_text, &pins[id - 1]), BFT_EOK);
		CHECK_EQ(bft_link_key_path(dir, id, path, sizeof(path)), BFT_EOK);
		keys &= bftdns_digest_signer_load(&signers[id - 1], path, why, sizeof(why)) ==
		        BFT_EOK;
	}
	if (keys) {
		test_verify();
		test_encoding();
	}
	for (unsigned id = 1; id <= N; id++) {
		bftdns_digest_signer_clear(&signers[id - 1]);
		if (bft_link_key_path(dir, id, path, sizeof(path)) == BFT_EOK) {
			unlink(path);
		}
	}
	CHECK(rmdir(dir) == 0);
	return check_result("test_checkpoint_cert");
}
