/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* The atomic broadcast's pieces: dedup window, proposal and batch formats,
 * agreed time. */

#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/batch.h"
#include "coordinator/proto/dedup.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "tests/common/check.h"

static void key_of(unsigned i, uint8_t key[DEDUP_KEY_LEN])
{
	bft_prng_t prng;
	bft_prng_seed(&prng, i);
	bft_prng_random(&prng, key, DEDUP_KEY_LEN);
	/* Every fourth key shares its table hash with the previous one. */
	if (i % 4 == 3) {
		uint8_t prev[DEDUP_KEY_LEN];
		key_of(i - 1, prev);
		memcpy(key, prev, 8);
	}
}

static void test_dedup(void)
{
	dedup_t *d = NULL;
	CHECK_EQ(dedup_create(0, &d), BFT_EINVAL);
	CHECK_EQ(dedup_create(100, &d), BFT_EOK);
	uint8_t key[DEDUP_KEY_LEN];
	for (unsigned i = 0; i < 1000; i++) {
		key_of(i, key);
		CHECK(!dedup_contains(d, key));
		dedup_insert(d, key);
		CHECK(dedup_contains(d, key));
		/* Exactly the last 100 keys are in the window. */
		if (i % 97 == 0) {
			for (unsigned j = 0; j <= i; j++) {
				key_of(j, key);
				CHECK_EQ(dedup_contains(d, key), j + 100 > i);
			}
		}
	}
	CHECK_EQ(dedup_count(d), 100);
	dedup_destroy(d);
}

static void test_proposal(void)
{
	uint8_t buf[BATCH_PROPOSAL_MAX];
	batch_writer_t bw;
	batch_proposal_begin(&bw, buf, sizeof(buf), 1234567);
	CHECK(batch_proposal_add(&bw, 2, (const uint8_t *)"alpha", 5));
	CHECK(batch_proposal_add(&bw, 0, (const uint8_t *)"b", 1));
	size_t len = batch_proposal_end(&bw);
	batch_proposal_t prop;
	CHECK_EQ(batch_proposal_open(&prop, buf, len, 4), BFT_EOK);
	CHECK_EQ(prop.time_ms, 1234567);
	CHECK_EQ(prop.count, 2);
	bft_node_t origin;
	const uint8_t *req;
	size_t req_len;
	CHECK(batch_proposal_next(&prop, &origin, &req, &req_len));
	CHECK(origin == 2 && req_len == 5 && memcmp(req, "alpha", 5) == 0);
	CHECK(batch_proposal_next(&prop, &origin, &req, &req_len));
	CHECK(origin == 0 && req_len == 1);
	CHECK(!batch_proposal_next(&prop, &origin, &req, &req_len));
	/* Strict: an origin beyond n, a short or long buffer, a wrong count. */
	CHECK_EQ(batch_proposal_open(&prop, buf, len, 2), BFT_EMALF);
	for (size_t cut = 0; cut < len; cut++) {
		CHECK_EQ(batch_proposal_open(&prop, buf, cut, 4), BFT_EMALF);
	}
	buf[len] = 0;
	CHECK_EQ(batch_proposal_open(&prop, buf, len + 1, 4), BFT_EMALF);
	buf[11] = 3;
	CHECK_EQ(batch_proposal_open(&prop, buf, len, 4), BFT_EMALF);
	/* An empty request is refused. */
	batch_proposal_begin(&bw, buf, sizeof(buf), 0);
	len = batch_proposal_end(&bw);
	CHECK_EQ(batch_proposal_open(&prop, buf, len, 4), BFT_EOK);
	uint8_t empty[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0 };
	CHECK_EQ(batch_proposal_open(&prop, empty, sizeof(empty), 4), BFT_EMALF);
	/* A full proposal stops taking requests and stays decodable. */
	static uint8_t big[BATCH_REQUEST_MAX];
	batch_proposal_begin(&bw, buf, sizeof(buf), 0);
	CHECK(batch_proposal_add(&bw, 1, big, sizeof(big)));
	CHECK(!batch_proposal_add(&bw, 1, big, sizeof(big)));
	len = batch_proposal_end(&bw);
	CHECK(len <= BATCH_PROPOSAL_MAX);
	CHECK_EQ(batch_proposal_open(&prop, buf, len, 4), BFT_EOK);
}

static void test_agreed_time(void)
{
	/* n = 4, f = 1: three proposals, one faulty clock far off either way. */
	uint64_t t1[] = { 1000, UINT64_MAX, 1010 };
	CHECK_EQ(batch_agreed_time(0, t1, 3), 1010);
	uint64_t t2[] = { 1000, 0, 1010 };
	CHECK_EQ(batch_agreed_time(0, t2, 3), 1000);
	uint64_t t3[] = { 1000, 0, 1010 };
	CHECK_EQ(batch_agreed_time(5000, t3, 3), 5000);   /* Never backwards. */
	uint64_t t4[] = { 7, 3, 9, 1 };
	CHECK_EQ(batch_agreed_time(0, t4, 4), 3);          /* Lower median. */
}

static void test_batch_reader(void)
{
	/* epoch 5, time 9, two requests. */
	uint8_t buf[] = { 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 2,
	                  1, 3, 0, 0, 0, 1, 'x',
	                  2, 2, 0, 0, 0, 2, 'y', 'z' };
	batch_reader_t br;
	CHECK_EQ(batch_reader_open(&br, buf, sizeof(buf)), BFT_EOK);
	CHECK(br.epoch == 5 && br.time_ms == 9 && br.count == 2);
	bft_node_t proposer, origin;
	const uint8_t *req;
	size_t len;
	CHECK(batch_reader_next(&br, &proposer, &origin, &req, &len));
	CHECK(proposer == 1 && origin == 3 && len == 1 && req[0] == 'x');
	CHECK(batch_reader_next(&br, &proposer, &origin, &req, &len));
	CHECK(proposer == 2 && origin == 2 && len == 2);
	CHECK(!batch_reader_next(&br, &proposer, &origin, &req, &len));
	CHECK_EQ(batch_reader_open(&br, buf, sizeof(buf) - 1), BFT_EMALF);
}

int main(void)
{
	test_dedup();
	test_proposal();
	test_agreed_time();
	test_batch_reader();
	return check_result("test_abc_parts");
}
