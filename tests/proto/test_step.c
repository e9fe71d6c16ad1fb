/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* The step: bounded lists, arena, lifting a child's step into a parent's. */

#include <string.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/protocol.h"
#include "coordinator/proto/step.h"
#include "tests/common/check.h"

static bft_step_t step_a, step_b;

static void test_basic(void)
{
	bft_step_t *s = &step_a;
	CHECK_EQ(bft_step_init(s, 1 << 20), BFT_EOK);
	CHECK(bft_step_is_empty(s));
	CHECK_EQ(bft_step_send(s, 0x5, (const uint8_t *)"hello", 5), BFT_EOK);
	CHECK_EQ(bft_step_output(s, 7, (const uint8_t *)"out", 3), BFT_EOK);
	CHECK_EQ(bft_step_output(s, 8, NULL, 0), BFT_EOK);
	bft_step_fault(s, 3, BFT_FAULT_DUPLICATE);
	CHECK_EQ(s->msg_count, 1);
	CHECK_EQ(s->msgs[0].to, 0x5);
	CHECK(memcmp(bft_step_msg_data(s, 0), "hello", 5) == 0);
	CHECK_EQ(s->outputs[0].tag, 7);
	CHECK(memcmp(bft_step_output_data(s, 0), "out", 3) == 0);
	CHECK_EQ(s->outputs[1].len, 0);
	CHECK_EQ(s->faults[0].node, 3);
	CHECK_EQ(s->faults[0].kind, BFT_FAULT_DUPLICATE);
	CHECK(!bft_step_is_empty(s));
	/* Our misuse is an error and changes nothing. */
	CHECK_EQ(bft_step_send(s, 0, (const uint8_t *)"x", 1), BFT_EINVAL);
	CHECK_EQ(bft_step_send(s, 1, (const uint8_t *)"x", 0), BFT_EINVAL);
	CHECK_EQ(s->msg_count, 1);
	bft_step_clear(s);
	CHECK(bft_step_is_empty(s));
	bft_step_deinit(s);
}

static void test_bounds(void)
{
	bft_step_t *s = &step_a;
	uint8_t big[100];
	memset(big, 0xaa, sizeof(big));
	CHECK_EQ(bft_step_init(s, 250), BFT_EOK);
	CHECK_EQ(bft_step_send(s, 1, big, 100), BFT_EOK);
	CHECK_EQ(bft_step_send(s, 1, big, 100), BFT_EOK);
	CHECK_EQ(bft_step_send(s, 1, big, 100), BFT_ESPACE);  /* arena bound */
	CHECK_EQ(s->msg_count, 2);
	CHECK_EQ(s->buf_len, 200);
	bft_step_deinit(s);

	CHECK_EQ(bft_step_init(s, 1 << 20), BFT_EOK);
	int ret = BFT_EOK;
	for (int i = 0; i < BFT_STEP_MSGS_MAX && ret == BFT_EOK; i++) {
		ret = bft_step_send(s, 1, big, 1);
	}
	CHECK_EQ(ret, BFT_EOK);
	CHECK_EQ(bft_step_send(s, 1, big, 1), BFT_ESPACE);   /* list bound */
	for (int i = 0; i < BFT_STEP_FAULTS_MAX + 10; i++) {
		bft_step_fault(s, 1, BFT_FAULT_MALFORMED);
	}
	CHECK_EQ(s->fault_count, BFT_STEP_FAULTS_MAX);
	CHECK_EQ(s->faults_dropped, 10);
	bft_step_deinit(s);
}

static void test_lift(void)
{
	bft_step_t *child = &step_a, *parent = &step_b;
	CHECK_EQ(bft_step_init(child, 1 << 16), BFT_EOK);
	CHECK_EQ(bft_step_init(parent, 1 << 16), BFT_EOK);
	CHECK_EQ(bft_step_send(child, 0x3, (const uint8_t *)"ab", 2), BFT_EOK);
	CHECK_EQ(bft_step_send(child, 0x8, (const uint8_t *)"cde", 3), BFT_EOK);
	CHECK_EQ(bft_step_output(child, 1, (const uint8_t *)"o", 1), BFT_EOK);
	bft_step_fault(child, 2, BFT_FAULT_EQUIVOCATION);
	const uint8_t hdr[] = { 9, 0, 0, 0, 4 };
	CHECK_EQ(bft_step_lift(parent, child, hdr, sizeof(hdr)), BFT_EOK);
	CHECK_EQ(parent->msg_count, 2);
	CHECK_EQ(parent->msgs[0].to, 0x3);
	CHECK_EQ(parent->msgs[0].len, 7);
	CHECK(memcmp(bft_step_msg_data(parent, 0), "\x09\x00\x00\x00\x04" "ab", 7) == 0);
	CHECK_EQ(parent->msgs[1].to, 0x8);
	CHECK(memcmp(bft_step_msg_data(parent, 1), "\x09\x00\x00\x00\x04" "cde", 8) == 0);
	CHECK_EQ(parent->output_count, 0);  /* the parent interprets outputs */
	CHECK_EQ(parent->fault_count, 1);
	CHECK_EQ(parent->faults[0].node, 2);
	bft_step_deinit(child);
	bft_step_deinit(parent);
}

static void test_nodeset_params(void)
{
	CHECK_EQ(bft_nodeset_all(4), 0xf);
	CHECK(bft_nodeset_all(32) == UINT32_MAX);
	CHECK(bft_nodeset_has(0x10, 4));
	CHECK(!bft_nodeset_has(0x10, 40));
	CHECK_EQ(bft_nodeset_count(0xf0f), 8);
	bft_params_t p = { .n = 4, .f = 1, .self = 3 };
	CHECK_EQ(bft_params_check(&p), BFT_EOK);
	p.f = 2;
	CHECK_EQ(bft_params_check(&p), BFT_EINVAL);
	p.f = 1;
	p.self = 4;
	CHECK_EQ(bft_params_check(&p), BFT_EINVAL);
	p.n = BFT_NODES_MAX + 1;
	p.self = 0;
	CHECK_EQ(bft_params_check(&p), BFT_EINVAL);
	CHECK(strcmp(bft_protocol_fault_name(NULL, 0x1234), "fault") == 0);
	CHECK(strcmp(bft_protocol_fault_name(NULL, BFT_FAULT_DUPLICATE), "duplicate message") == 0);
}

int main(void)
{
	test_basic();
	test_bounds();
	test_lift();
	test_nodeset_params();
	return check_result("test_step");
}
