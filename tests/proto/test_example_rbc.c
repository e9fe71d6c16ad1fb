/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The example protocol (Bracha RBC): its message codec, and small runs with
 * an in-order queue (the simulator runs it under every schedule).
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/example_rbc.h"
#include "coordinator/proto/prng.h"
#include "tests/common/check.h"

static void check_round_trip(const exrbc_msg_t *msg)
{
	uint8_t buf[256];
	size_t len = 0;
	CHECK_EQ(exrbc_msg_encode(msg, buf, sizeof(buf), &len), BFT_EOK);
	CHECK_EQ(len, exrbc_msg_size(msg));
	exrbc_msg_t back;
	CHECK_EQ(exrbc_msg_decode(buf, len, &back), BFT_EOK);
	CHECK_EQ(back.kind, msg->kind);
	if (msg->kind == EXRBC_READY) {
		CHECK(memcmp(back.digest, msg->digest, EXRBC_DIGEST_LEN) == 0);
	} else {
		CHECK(back.value_len == msg->value_len);
		CHECK(msg->value_len == 0 || memcmp(back.value, msg->value, msg->value_len) == 0);
	}
	/* Every strict prefix, and one byte more, are refused. */
	for (size_t cut = 0; cut < len; cut++) {
		CHECK_EQ(exrbc_msg_decode(buf, cut, &back), BFT_EMALF);
	}
	buf[len] = 0;
	CHECK_EQ(exrbc_msg_decode(buf, len + 1, &back), BFT_EMALF);
	/* The encoder refuses a buffer one byte short. */
	CHECK_EQ(exrbc_msg_encode(msg, buf, len - 1, &len), BFT_ESPACE);
}

static void test_codec(void)
{
	exrbc_msg_t msg = { .kind = EXRBC_VALUE, .value = (const uint8_t *)"value", .value_len = 5 };
	check_round_trip(&msg);
	msg.kind = EXRBC_ECHO;
	check_round_trip(&msg);
	msg.value_len = 0;
	check_round_trip(&msg);
	exrbc_msg_t ready = { .kind = EXRBC_READY };
	memset(ready.digest, 0x5a, sizeof(ready.digest));
	check_round_trip(&ready);

	exrbc_msg_t out;
	const uint8_t bad_kind[] = { 4, 0, 0, 0, 0 };
	CHECK_EQ(exrbc_msg_decode(bad_kind, sizeof(bad_kind), &out), BFT_EMALF);
	const uint8_t zero_kind[] = { 0 };
	CHECK_EQ(exrbc_msg_decode(zero_kind, 1, &out), BFT_EMALF);
	CHECK_EQ(exrbc_msg_decode(NULL, 0, &out), BFT_EMALF);
	/* A length above EXRBC_VALUE_MAX is refused before any copy. */
	const uint8_t too_long[] = { EXRBC_ECHO, 0xff, 0xff, 0xff, 0xff, 1 };
	CHECK_EQ(exrbc_msg_decode(too_long, sizeof(too_long), &out), BFT_EMALF);
	exrbc_msg_t huge = { .kind = EXRBC_VALUE, .value = too_long, .value_len = EXRBC_VALUE_MAX + 1 };
	size_t len;
	uint8_t buf[8];
	CHECK_EQ(exrbc_msg_encode(&huge, buf, sizeof(buf), &len), BFT_EINVAL);
}

/* Random bytes never crash the decoder, and what decodes re-encodes identically. */
static void test_codec_random(void)
{
	bft_prng_t prng;
	bft_prng_seed(&prng, 7);
	uint8_t buf[48], again[64];
	int decoded = 0;
	for (int i = 0; i < 200000; i++) {
		size_t len = bft_prng_below(&prng, sizeof(buf) + 1);
		bft_prng_random(&prng, buf, len);
		buf[0] = (uint8_t)bft_prng_below(&prng, 5);   /* mostly valid kinds */
		if (len > 4 && buf[0] != EXRBC_READY) {
			buf[1] = buf[2] = buf[3] = 0;           /* plausible lengths */
		}
		exrbc_msg_t msg;
		if (exrbc_msg_decode(buf, len, &msg) != BFT_EOK) {
			continue;
		}
		decoded++;
		size_t len2 = 0;
		CHECK_EQ(exrbc_msg_encode(&msg, again, sizeof(again), &len2), BFT_EOK);
		CHECK(len2 == len && memcmp(again, buf, len) == 0);
	}
	CHECK(decoded > 1000);
}

#define N 4
#define F 1

typedef struct {
	bft_node_t from, to;
	size_t len;
	uint8_t data[128];
} test_msg_t;

static test_msg_t queue[4096];
static size_t queue_head, queue_tail;
static bft_step_t step;

/* Moves a step's messages to the queue, one copy per target. */
static void enqueue_step(bft_node_t from)
{
	for (size_t i = 0; i < step.msg_count; i++) {
		for (bft_node_t to = 0; to < N; to++) {
			if (!bft_nodeset_has(step.msgs[i].to, to)) {
				continue;
			}
			CHECK(queue_tail < 4096 && step.msgs[i].len <= 128);
			test_msg_t *m = &queue[queue_tail++ % 4096];
			m->from = from;
			m->to = to;
			m->len = step.msgs[i].len;
			memcpy(m->data, bft_step_msg_data(&step, i), m->len);
		}
	}
}

/* Runs the queue in FIFO order; returns which nodes output `want`. */
static bft_nodeset_t run_queue(exrbc_t **nodes, bft_nodeset_t silent, const char *want,
                               unsigned *faults)
{
	bft_nodeset_t outputs = 0;
	bft_prng_t prng;
	bft_prng_seed(&prng, 1);
	bft_env_t env = { .now_ms = 0, .random = bft_prng_random, .random_ctx = &prng };
	while (queue_head < queue_tail) {
		test_msg_t *m = &queue[queue_head++ % 4096];
		if (bft_nodeset_has(silent, m->to)) {
			continue;
		}
		bft_step_clear(&step);
		CHECK_EQ(exrbc_handle_message(nodes[m->to], m->from, m->data, m->len, &env, &step), BFT_EOK);
		*faults += (unsigned)step.fault_count;
		for (size_t i = 0; i < step.output_count; i++) {
			CHECK(step.outputs[i].len == strlen(want));
			CHECK(memcmp(bft_step_output_data(&step, i), want, strlen(want)) == 0);
			CHECK(!bft_nodeset_has(outputs, m->to));
			outputs |= bft_nodeset_one(m->to);
		}
		enqueue_step(m->to);
	}
	return outputs;
}

static void make_nodes(exrbc_t **nodes)
{
	for (bft_node_t i = 0; i < N; i++) {
		bft_params_t p = { .n = N, .f = F, .self = i };
		CHECK_EQ(exrbc_create(&p, &nodes[i]), BFT_EOK);
	}
	queue_head = queue_tail = 0;
}

static void free_nodes(exrbc_t **nodes)
{
	for (int i = 0; i < N; i++) {
		exrbc_destroy(nodes[i]);
	}
}

static void test_run_correct(void)
{
	exrbc_t *nodes[N];
	make_nodes(nodes);
	bft_env_t env = { 0 };
	bft_step_clear(&step);
	/* Only the proposer takes input, and only once. */
	CHECK_EQ(exrbc_handle_input(nodes[1], (const uint8_t *)"x", 1, &env, &step), BFT_EINVAL);
	CHECK_EQ(exrbc_handle_input(nodes[0], (const uint8_t *)"zone update", 11, &env, &step), BFT_EOK);
	CHECK_EQ(exrbc_handle_input(nodes[0], (const uint8_t *)"again", 5, &env, &step), BFT_EINVAL);
	enqueue_step(0);
	unsigned faults = 0;
	/* Node 3 crashed from the start: n - f = 3 correct nodes still deliver. */
	bft_nodeset_t out = run_queue(nodes, bft_nodeset_one(3), "zone update", &faults);
	CHECK_EQ(out, 0x7);
	CHECK_EQ(faults, 0);
	CHECK(exrbc_terminated(nodes[0]) && !exrbc_terminated(nodes[3]));
	free_nodes(nodes);
}

/* A proposer that sends one value to two nodes and another to the third. */
static void test_run_equivocating_proposer(void)
{
	exrbc_t *nodes[N];
	make_nodes(nodes);
	uint8_t buf[64];
	size_t len;
	exrbc_msg_t a = { .kind = EXRBC_VALUE, .value = (const uint8_t *)"AAAA", .value_len = 4 };
	exrbc_msg_t b = { .kind = EXRBC_VALUE, .value = (const uint8_t *)"BBBB", .value_len = 4 };
	bft_step_clear(&step);
	CHECK_EQ(exrbc_msg_encode(&a, buf, sizeof(buf), &len), BFT_EOK);
	CHECK_EQ(bft_step_send(&step, 0x2 | 0x4, buf, len), BFT_EOK);
	CHECK_EQ(exrbc_msg_encode(&b, buf, sizeof(buf), &len), BFT_EOK);
	CHECK_EQ(bft_step_send(&step, 0x8, buf, len), BFT_EOK);
	enqueue_step(0);
	/* Node 0 is faulty and silent afterwards; a garbage message from it too. */
	CHECK(queue_tail < 4096);
	queue[queue_tail].from = 0;
	queue[queue_tail].to = 1;
	queue[queue_tail].len = 3;
	memcpy(queue[queue_tail].data, "\x07\x01\x02", 3);
	queue_tail++;
	unsigned faults = 0;
	bft_nodeset_t out = run_queue(nodes, bft_nodeset_one(0), "AAAA", &faults);
	/* Only 2 correct nodes echo AAAA (< n - f): nobody may deliver BBBB;
	 * nobody delivers at all here, which Bracha allows for a faulty proposer. */
	CHECK_EQ(out, 0);
	CHECK_EQ(faults, 1);   /* the garbage */
	free_nodes(nodes);
}

int main(void)
{
	CHECK_EQ(bft_step_init(&step, 1 << 20), BFT_EOK);
	test_codec();
	test_codec_random();
	test_run_correct();
	test_run_equivocating_proposer();
	bft_step_deinit(&step);
	return check_result("test_example_rbc");
}
