/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The DIGEST report of mod-bftdns (module/digest_report.h), the bytes a
 * peer's envelope of kind DIGEST carries: written and read back, and every
 * malformed length or batch refused without writing anything.
 */

#include <stdint.h>
#include <string.h>

#include "module/digest_report.h"
#include "tests/common/check.h"

static void test_round_trip(void)
{
	uint8_t digest[BFTDNS_DIGEST_SIZE], report[BFTDNS_DIGEST_REPORT_SIZE];
	for (size_t i = 0; i < sizeof(digest); i++) {
		digest[i] = (uint8_t)(0xa0 + i);
	}
	bftdns_digest_report_write(report, 0x0102030405060708ull, digest);
	/* Big endian batch, then the digest. */
	CHECK(report[0] == 0x01 && report[7] == 0x08);
	CHECK(memcmp(report + 8, digest, sizeof(digest)) == 0);

	uint64_t batch = 0;
	uint8_t out[BFTDNS_DIGEST_SIZE] = { 0 };
	CHECK(bftdns_digest_report_read(report, sizeof(report), &batch, out));
	CHECK(batch == 0x0102030405060708ull);
	CHECK(memcmp(out, digest, sizeof(digest)) == 0);

	bftdns_digest_report_write(report, 1, digest);
	CHECK(bftdns_digest_report_read(report, sizeof(report), &batch, out));
	CHECK_EQ(batch, 1);
	bftdns_digest_report_write(report, UINT64_MAX, digest);
	CHECK(bftdns_digest_report_read(report, sizeof(report), &batch, out));
	CHECK(batch == UINT64_MAX);
}

static void test_malformed(void)
{
	uint8_t digest[BFTDNS_DIGEST_SIZE];
	memset(digest, 0x5a, sizeof(digest));
	/* A well-formed report at the start of a buffer as large as any request. */
	static uint8_t buf[65535];
	bftdns_digest_report_write(buf, 7, digest);

	/* Every length but the exact one: short, long, empty, header only. */
	const size_t lengths[] = { 0, 1, 8, 9, BFTDNS_DIGEST_REPORT_SIZE - 1,
	                           BFTDNS_DIGEST_REPORT_SIZE + 1,
	                           BFTDNS_DIGEST_REPORT_SIZE + 16, sizeof(buf) };
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		uint64_t batch = 99;
		uint8_t out[BFTDNS_DIGEST_SIZE];
		memset(out, 0xee, sizeof(out));
		CHECK(!bftdns_digest_report_read(buf, lengths[i], &batch, out));
		CHECK_EQ(batch, 99);
		CHECK(out[0] == 0xee && out[BFTDNS_DIGEST_SIZE - 1] == 0xee);
	}
	/* The same bytes at the exact length are fine. */
	uint64_t batch = 0;
	uint8_t out[BFTDNS_DIGEST_SIZE];
	CHECK(bftdns_digest_report_read(buf, BFTDNS_DIGEST_REPORT_SIZE, &batch, out));
	CHECK_EQ(batch, 7);

	/* Batch 0 names no state. */
	bftdns_digest_report_write(buf, 0, digest);
	batch = 99;
	CHECK(!bftdns_digest_report_read(buf, BFTDNS_DIGEST_REPORT_SIZE, &batch, out));
	CHECK_EQ(batch, 99);

	CHECK(!bftdns_digest_report_read(NULL, BFTDNS_DIGEST_REPORT_SIZE, &batch, out));
}

int main(void)
{
	test_round_trip();
	test_malformed();
	return check_result("test_digest_report");
}
