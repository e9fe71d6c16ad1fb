/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* The canonical encoding helpers and the seeded PRNG. */

#include <string.h>

#include "coordinator/proto/prng.h"
#include "coordinator/proto/wire.h"
#include "tests/common/check.h"

static void test_round_trip(void)
{
	uint8_t buf[64];
	bft_wire_w_t w;
	bft_wire_w_init(&w, buf, sizeof(buf));
	bft_wire_put_u8(&w, 0xab);
	bft_wire_put_u16(&w, 0x1234);
	bft_wire_put_u32(&w, 0xdeadbeef);
	bft_wire_put_u64(&w, 0x0102030405060708ull);
	bft_wire_put_bytes(&w, (const uint8_t *)"xyz", 3);
	CHECK(bft_wire_w_ok(&w));
	CHECK_EQ(w.len, 1 + 2 + 4 + 8 + 4 + 3);
	/* Big-endian on the wire, whatever the host. */
	CHECK_EQ(buf[1], 0x12);
	CHECK_EQ(buf[3], 0xde);

	bft_wire_r_t r;
	bft_wire_r_init(&r, buf, w.len);
	CHECK_EQ(bft_wire_get_u8(&r), 0xab);
	CHECK_EQ(bft_wire_get_u16(&r), 0x1234);
	CHECK_EQ(bft_wire_get_u32(&r), 0xdeadbeef);
	CHECK(bft_wire_get_u64(&r) == 0x0102030405060708ull);
	const uint8_t *p = NULL;
	size_t len = 0;
	bft_wire_get_bytes(&r, 16, &p, &len);
	CHECK(p != NULL && len == 3 && memcmp(p, "xyz", 3) == 0);
	CHECK(bft_wire_r_done(&r));
}

static void test_bounds(void)
{
	uint8_t buf[5];
	bft_wire_w_t w;
	bft_wire_w_init(&w, buf, sizeof(buf));
	bft_wire_put_u32(&w, 1);
	bft_wire_put_u16(&w, 2);  /* does not fit */
	CHECK(!bft_wire_w_ok(&w));
	CHECK_EQ(w.len, 4);
	bft_wire_put_u8(&w, 3);   /* sticky: still refused */
	CHECK_EQ(w.len, 4);

	/* A length prefix larger than the input, or than the limit. */
	const uint8_t lie[] = { 0, 0, 0, 9, 'a', 'b' };
	bft_wire_r_t r;
	const uint8_t *p = NULL;
	size_t len = 7;
	bft_wire_r_init(&r, lie, sizeof(lie));
	bft_wire_get_bytes(&r, 100, &p, &len);
	CHECK(p == NULL && len == 0 && !bft_wire_r_done(&r));
	const uint8_t big[] = { 0, 0, 0, 2, 'a', 'b' };
	bft_wire_r_init(&r, big, sizeof(big));
	bft_wire_get_bytes(&r, 1, &p, &len);
	CHECK(p == NULL && !bft_wire_r_done(&r));
	/* Trailing bytes are not a clean end. */
	bft_wire_r_init(&r, big, sizeof(big));
	bft_wire_get_u32(&r);
	CHECK(!bft_wire_r_done(&r));
	CHECK_EQ(bft_wire_r_left(&r), 2);
	/* Reads past the end return 0 and stay failed. */
	bft_wire_r_init(&r, big, 3);
	CHECK_EQ(bft_wire_get_u32(&r), 0);
	CHECK_EQ(bft_wire_get_u8(&r), 0);
	CHECK(!bft_wire_r_done(&r));
}

static void test_prng(void)
{
	bft_prng_t a, b;
	bft_prng_seed(&a, 42);
	bft_prng_seed(&b, 42);
	for (int i = 0; i < 1000; i++) {
		CHECK(bft_prng_next(&a) == bft_prng_next(&b));
	}
	bft_prng_seed(&b, 43);
	CHECK(bft_prng_next(&a) != bft_prng_next(&b));
	/* below() stays in range and reaches every value of a small range. */
	unsigned seen[7] = { 0 };
	for (int i = 0; i < 7000; i++) {
		uint64_t x = bft_prng_below(&a, 7);
		CHECK(x < 7);
		seen[x < 7 ? x : 0]++;
	}
	for (int i = 0; i < 7; i++) {
		CHECK(seen[i] > 800 && seen[i] < 1200);
	}
	/* Fixed output for a fixed seed: the replay promise across machines. */
	bft_prng_seed(&a, 0);
	CHECK(bft_prng_next(&a) == 0x99ec5f36cb75f2b4ull);
}

int main(void)
{
	test_round_trip();
	test_bounds();
	test_prng();
	return check_result("test_wire");
}
