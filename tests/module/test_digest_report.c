/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The DIGEST report of mod-bftdns (module/digest_report.h), the bytes a
 * peer's envelope of kind DIGEST carries: signed with a link key and read
 * back with that key's pin; every malformed length, batch 0, another key,
 * another zone and every flipped byte refused without writing anything.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coordinator/net/link_key.h"
#include "coordinator/proto/error.h"
#include "module/digest_report.h"
#include "tests/common/check.h"

static char dir[] = "/tmp/test_digest_report.XXXXXX";

/* Batch K's agreed time in these tests (any value is signed as given). */
#define TIME_OF(batch)	((batch) * 1000 + 7)

/* The report of batch with digest and TIME_OF(batch). */
static int report_sign(const bftdns_digest_signer_t *signer, const uint8_t *z, size_t z_len,
                       uint64_t batch, const uint8_t *digest, uint8_t *out)
{
	bftdns_digest_claim_t claim = { .batch = batch, .time_ms = TIME_OF(batch) };
	memcpy(claim.digest, digest, BFTDNS_DIGEST_SIZE);
	return bftdns_digest_report_sign(signer, z, z_len, &claim, out);
}

/* Reads a report; its time must be TIME_OF(batch). */
static bool report_read(const uint8_t *in, size_t len, const uint8_t *z, size_t z_len,
                        const bft_pin_t *pin, uint64_t *batch, uint8_t *digest)
{
	bftdns_digest_claim_t claim;
	if (!bftdns_digest_report_read(in, len, z, z_len, pin, &claim)) {
		return false;
	}
	CHECK(claim.time_ms == TIME_OF(claim.batch));
	*batch = claim.batch;
	memcpy(digest, claim.digest, BFTDNS_DIGEST_SIZE);
	return true;
}
static bftdns_digest_signer_t signer1, signer2;
static bft_pin_t pin1, pin2;

/* example.com. and example.org. in wire format. */
static const uint8_t zone[] = "\x07""example\x03""com";
static const uint8_t other_zone[] = "\x07""example\x03""org";
#define ZONE_LEN	sizeof(zone)  /* With the root label's 0. */

/* The report must be refused, and batch and digest left as they were. */
static void check_refused(const uint8_t *in, size_t len, const uint8_t *z, size_t z_len,
                          const bft_pin_t *pin, int line)
{
	uint64_t batch = 99;
	uint8_t out[BFTDNS_DIGEST_SIZE];
	memset(out, 0xee, sizeof(out));
	bool ok = report_read(in, len, z, z_len, pin, &batch, out);
	if (ok || batch != 99 || out[0] != 0xee || out[BFTDNS_DIGEST_SIZE - 1] != 0xee) {
		fprintf(stderr, "line %d: a bad report was taken\n", line);
	}
	CHECK(!ok && batch == 99 && out[0] == 0xee && out[BFTDNS_DIGEST_SIZE - 1] == 0xee);
}
#define REFUSED(in, len, z, z_len, pin) check_refused(in, len, z, z_len, pin, __LINE__)

static void test_round_trip(void)
{
	uint8_t digest[BFTDNS_DIGEST_SIZE], report[BFTDNS_DIGEST_REPORT_SIZE];
	for (size_t i = 0; i < sizeof(digest); i++) {
		digest[i] = (uint8_t)(0xa0 + i);
	}
	CHECK_EQ(report_sign(&signer1, zone, ZONE_LEN, 0x0102030405060708ull,
	                                   digest, report), BFT_EOK);
	/* Big endian batch and time, the digest, the public key whose pin is pin1. */
	CHECK(report[0] == 0x01 && report[7] == 0x08);
	bftdns_digest_claim_t claim;
	bftdns_digest_report_claim(report, &claim);
	CHECK(claim.batch == 0x0102030405060708ull &&
	      claim.time_ms == TIME_OF(0x0102030405060708ull));
	CHECK(memcmp(report + 16, digest, sizeof(digest)) == 0);
	bft_pin_t got;
	bft_pin_of_spki(report + BFTDNS_DIGEST_CLAIM_SIZE, BFTDNS_DIGEST_SPKI_SIZE, &got);
	CHECK(bft_pin_equal(&got, &pin1));

	uint64_t batch = 0;
	uint8_t out[BFTDNS_DIGEST_SIZE] = { 0 };
	CHECK(report_read(report, sizeof(report), zone, ZONE_LEN, &pin1,
	                                &batch, out));
	CHECK(batch == 0x0102030405060708ull);
	CHECK(memcmp(out, digest, sizeof(digest)) == 0);

	CHECK_EQ(report_sign(&signer1, zone, ZONE_LEN, UINT64_MAX, digest,
	                                   report), BFT_EOK);
	CHECK(report_read(report, sizeof(report), zone, ZONE_LEN, &pin1,
	                                &batch, out));
	CHECK(batch == UINT64_MAX);

	/* What cannot be signed: batch 0, no zone, a name over 255 bytes. */
	uint8_t long_zone[300];
	memset(long_zone, 1, sizeof(long_zone));
	CHECK_EQ(report_sign(&signer1, zone, ZONE_LEN, 0, digest, report),
	         BFT_EINVAL);
	CHECK_EQ(report_sign(&signer1, zone, 0, 1, digest, report), BFT_EINVAL);
	CHECK_EQ(report_sign(&signer1, long_zone, sizeof(long_zone), 1, digest,
	                                   report), BFT_EINVAL);
}

static void test_malformed(void)
{
	uint8_t digest[BFTDNS_DIGEST_SIZE];
	memset(digest, 0x5a, sizeof(digest));
	/* A valid report at the start of a buffer as large as any request. */
	static uint8_t buf[65535];
	CHECK_EQ(report_sign(&signer1, zone, ZONE_LEN, 7, digest, buf), BFT_EOK);

	/* Every length but the exact one: short, long, empty, header only. */
	const size_t lengths[] = { 0, 1, 8, 9, 8 + BFTDNS_DIGEST_SIZE, BFTDNS_DIGEST_CLAIM_SIZE,
	                           8 + BFTDNS_DIGEST_SIZE + BFTDNS_DIGEST_SPKI_SIZE +
	                           BFTDNS_DIGEST_SIG_SIZE,  /* Version 1's length. */
	                           BFTDNS_DIGEST_REPORT_SIZE - 1, BFTDNS_DIGEST_REPORT_SIZE + 1,
	                           BFTDNS_DIGEST_REPORT_SIZE + 16, sizeof(buf) };
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		REFUSED(buf, lengths[i], zone, ZONE_LEN, &pin1);
	}
	REFUSED(NULL, BFTDNS_DIGEST_REPORT_SIZE, zone, ZONE_LEN, &pin1);
	REFUSED(buf, BFTDNS_DIGEST_REPORT_SIZE, zone, ZONE_LEN, NULL);

	/* The same bytes at the exact length are fine. */
	uint64_t batch = 0;
	uint8_t out[BFTDNS_DIGEST_SIZE];
	CHECK(report_read(buf, BFTDNS_DIGEST_REPORT_SIZE, zone, ZONE_LEN, &pin1,
	                                &batch, out));
	CHECK_EQ(batch, 7);

	/* Another replica's pin, another zone. */
	REFUSED(buf, BFTDNS_DIGEST_REPORT_SIZE, zone, ZONE_LEN, &pin2);
	REFUSED(buf, BFTDNS_DIGEST_REPORT_SIZE, other_zone, sizeof(other_zone), &pin1);

	/* Any byte flipped: batch (to 0 too), time, digest, public key, signature. */
	for (size_t i = 0; i < BFTDNS_DIGEST_REPORT_SIZE; i++) {
		uint8_t bad[BFTDNS_DIGEST_REPORT_SIZE];
		memcpy(bad, buf, sizeof(bad));
		bad[i] ^= 0x01;
		REFUSED(bad, sizeof(bad), zone, ZONE_LEN, &pin1);
	}
	uint8_t zero[BFTDNS_DIGEST_REPORT_SIZE];
	memcpy(zero, buf, sizeof(zero));
	memset(zero, 0, 8);
	REFUSED(zero, sizeof(zero), zone, ZONE_LEN, &pin1);

	/* Replica 2's signature under replica 1's key: the pin matches, the
	 * signature does not. */
	uint8_t forged[BFTDNS_DIGEST_REPORT_SIZE];
	CHECK_EQ(report_sign(&signer2, zone, ZONE_LEN, 7, digest, forged), BFT_EOK);
	memcpy(forged + BFTDNS_DIGEST_CLAIM_SIZE, signer1.spki, BFTDNS_DIGEST_SPKI_SIZE);
	REFUSED(forged, sizeof(forged), zone, ZONE_LEN, &pin1);
	/* Replica 2's own report reads with its own pin only. */
	CHECK_EQ(report_sign(&signer2, zone, ZONE_LEN, 7, digest, forged), BFT_EOK);
	REFUSED(forged, sizeof(forged), zone, ZONE_LEN, &pin1);
	CHECK(report_read(forged, sizeof(forged), zone, ZONE_LEN, &pin2,
	                                &batch, out));
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	char why[BFT_WHY_MAX], pin_text[BFT_PIN_STR_MAX], path[256];
	for (unsigned id = 1; id <= 2; id++) {
		CHECK_EQ(bft_link_key_generate(dir, id, false, pin_text, why, sizeof(why)), BFT_EOK);
		CHECK_EQ(bft_pin_parse(pin_text, id == 1 ? &pin1 : &pin2), BFT_EOK);
		CHECK_EQ(bft_link_key_path(dir, id, path, sizeof(path)), BFT_EOK);
		bftdns_digest_signer_t *s = (id == 1) ? &signer1 : &signer2;
		CHECK_EQ(bftdns_digest_signer_load(s, path, why, sizeof(why)), BFT_EOK);
		CHECK(bft_pin_equal(&s->pin, id == 1 ? &pin1 : &pin2));
	}
	/* Not a key file. */
	bftdns_digest_signer_t none;
	CHECK(bftdns_digest_signer_load(&none, "/nonexistent/link-1.key", why,
	                                sizeof(why)) != BFT_EOK);

	if (signer1.key != NULL && signer2.key != NULL) {
		test_round_trip();
		test_malformed();
	}

	bftdns_digest_signer_clear(&signer1);
	bftdns_digest_signer_clear(&signer2);
	for (unsigned id = 1; id <= 2; id++) {
		if (bft_link_key_path(dir, id, path, sizeof(path)) == BFT_EOK) {
			unlink(path);
		}
	}
	rmdir(dir);
	return check_result("test_digest_report");
}
