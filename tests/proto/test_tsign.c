/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The threshold signing core (tsign.h) driven by hand, message by message,
 * for the cases a random schedule reaches only by luck: argument checks,
 * early messages and the window, the per-sender budget, forgotten
 * requests, duplicates and equivocation, mismatched requests, the OPTPROOF
 * fallback round, forwarded and forged signatures, RESEND, and what each
 * misbehaviour mode really sends.
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/tsign_msg.h"
#include "tests/common/check.h"
#include "tests/proto/tsign_net.h"

#define N	4
#define F	1

static tnet_key_t key;
static bft_step_t step;
static tsign_sizes_t sizes;
static uint8_t digests[4][32];   /* request r: one SHA-256 digest */

typedef struct {
	tsign_t *ts[N];
	tsign_conf_t conf[N];
} group_t;

static tsign_conf_t conf_default(shoup_strategy_t strategy)
{
	return (tsign_conf_t){
		.pub = &key.pub, .secrets = key.sec, .secret_count = N, .strategy = strategy,
		.start_id = 1,
		/* These single-step tests script every replica's shares; designated
		 * signers are tested by test_designated() and the tnet runs. */
		.designated = TSIGN_DESIGNATED_OFF,
	};
}

static void group_make(group_t *g, shoup_strategy_t strategy)
{
	memset(g, 0, sizeof(*g));
	for (bft_node_t i = 0; i < N; i++) {
		g->conf[i] = conf_default(strategy);
	}
}

static void group_start(group_t *g)
{
	for (bft_node_t i = 0; i < N; i++) {
		bft_params_t params = { .n = N, .f = F, .self = i, .conf = &g->conf[i] };
		CHECK_EQ(tsign_create(&params, &g->ts[i]), BFT_EOK);
	}
}

static void group_free(group_t *g)
{
	for (bft_node_t i = 0; i < N; i++) {
		tsign_destroy(g->ts[i]);
	}
}

static tsign_request_t request(uint64_t id, unsigned r)
{
	return (tsign_request_t){ .id = id, .alg = 8, .count = 1, .digests = digests[r] };
}

/* Copies of the step's messages, so that the step can be reused. */
typedef struct {
	size_t count;
	bft_nodeset_t to[16];
	uint8_t *data[16];
	size_t len[16];
} sent_t;

static void sent_take(sent_t *s)
{
	for (size_t i = 0; i < step.msg_count && s->count < 16; i++) {
		s->to[s->count] = step.msgs[i].to;
		s->len[s->count] = step.msgs[i].len;
		s->data[s->count] = malloc(step.msgs[i].len);
		memcpy(s->data[s->count], bft_step_msg_data(&step, i), step.msgs[i].len);
		s->count++;
	}
}

static void sent_free(sent_t *s)
{
	for (size_t i = 0; i < s->count; i++) {
		free(s->data[i]);
	}
	memset(s, 0, sizeof(*s));
}

/* The first sent message of kind, or -1. */
static int sent_find(const sent_t *s, tsign_kind_t kind)
{
	for (size_t i = 0; i < s->count; i++) {
		if (s->data[i][0] == kind) {
			return (int)i;
		}
	}
	return -1;
}

static int start(tsign_t *ts, uint64_t id, unsigned r, sent_t *s)
{
	bft_step_clear(&step);
	tsign_request_t req = request(id, r);
	int ret = tsign_start(ts, &req, &step);
	if (s != NULL) {
		sent_take(s);
	}
	return ret;
}

static int deliver(tsign_t *ts, bft_node_t from, const uint8_t *data, size_t len, sent_t *s)
{
	bft_step_clear(&step);
	int ret = tsign_handle_message(ts, from, data, len, NULL, &step);
	if (s != NULL) {
		sent_take(s);
	}
	return ret;
}

static unsigned faults_of(bft_node_t node, uint16_t kind)
{
	unsigned count = 0;
	for (size_t i = 0; i < step.fault_count; i++) {
		count += step.faults[i].node == node && step.faults[i].kind == kind;
	}
	return count;
}

/* The output of the step checks against plain RSA for request r. */
static bool output_valid(uint64_t id, unsigned r)
{
	if (step.output_count != 1) {
		return false;
	}
	uint64_t out_id;
	uint16_t count;
	size_t sig_len;
	const uint8_t *sigs;
	if (tsign_output_decode(bft_step_output_data(&step, 0), step.outputs[0].len,
	                        &out_id, &count, &sig_len, &sigs) != BFT_EOK ||
	    out_id != id || count != 1 || sig_len != sizes.value_len) {
		return false;
	}
	mpz_t x, sig;
	mpz_inits(x, sig, NULL);
	mpz_import(sig, sig_len, 1, 1, 1, 0, sigs);
	bool ok = bftdns_alg_encode_digest(bftdns_alg_by_number(8), digests[r], sig_len, x) == SHOUP_EOK &&
	          shoup_signature_verify(&key.pub, x, sig);
	mpz_clears(x, sig, NULL);
	return ok;
}

static void test_create(void)
{
	tsign_t *ts = NULL;
	tsign_conf_t conf = conf_default(SHOUP_STRATEGY_OPTTE);
	bft_params_t params = { .n = N, .f = F, .self = 2, .conf = &conf };
	CHECK_EQ(tsign_create(&params, &ts), BFT_EOK);
	tsign_destroy(ts);
	/* One own secret, as in production. */
	conf.secrets = &key.sec[2];
	conf.secret_count = 1;
	CHECK_EQ(tsign_create(&params, &ts), BFT_EOK);
	tsign_destroy(ts);
	params.self = 1;  /* another node's secret */
	CHECK_EQ(tsign_create(&params, &ts), BFT_EINVAL);
	params.self = 2;
	conf.secret_count = 3;
	CHECK_EQ(tsign_create(&params, &ts), BFT_EINVAL);

	tsign_conf_t bad = conf_default(SHOUP_STRATEGY_OPTTE);
	bft_params_t p = { .n = N, .f = F, .self = 0, .conf = &bad };
	bad.strategy = (shoup_strategy_t)7;
	CHECK_EQ(tsign_create(&p, &ts), BFT_EINVAL);
	bad = conf_default(SHOUP_STRATEGY_OPTTE);
	bad.mode = TSIGN_MODES;
	CHECK_EQ(tsign_create(&p, &ts), BFT_EINVAL);
	bad = conf_default(SHOUP_STRATEGY_OPTTE);
	bad.msgs_max = TSIGN_MSGS_MAX + 1;
	CHECK_EQ(tsign_create(&p, &ts), BFT_EINVAL);
	bad = conf_default(SHOUP_STRATEGY_OPTTE);
	bad.active_max = TSIGN_ACTIVE_MAX + 1;
	CHECK_EQ(tsign_create(&p, &ts), BFT_EINVAL);
	bad = conf_default(SHOUP_STRATEGY_OPTTE);
	bad.pub = NULL;
	CHECK_EQ(tsign_create(&p, &ts), BFT_EINVAL);
	bad = conf_default(SHOUP_STRATEGY_OPTTE);
	p.n = 5;  /* the key is for n = 4 */
	CHECK_EQ(tsign_create(&p, &ts), BFT_EINVAL);
	p.n = N;
	p.conf = NULL;
	CHECK_EQ(tsign_create(&p, &ts), BFT_EINVAL);
	CHECK_EQ(tsign_create(NULL, &ts), BFT_EINVAL);
}

static void test_start_errors(void)
{
	group_t g;
	group_make(&g, SHOUP_STRATEGY_OPTTE);
	g.conf[0].active_max = 1;
	g.conf[0].start_id = 10;
	group_start(&g);
	tsign_t *ts = g.ts[0];
	CHECK_EQ(start(ts, 9, 0, NULL), BFT_EINVAL);   /* below start_id */
	tsign_request_t req = request(10, 0);
	req.alg = 13;
	bft_step_clear(&step);
	CHECK_EQ(tsign_start(ts, &req, &step), BFT_EINVAL);
	req = request(10, 0);
	req.count = 0;
	CHECK_EQ(tsign_start(ts, &req, &step), BFT_EINVAL);
	CHECK(tsign_idle(ts));
	CHECK_EQ(start(ts, 10, 0, NULL), BFT_EOK);
	CHECK(!tsign_idle(ts) && !tsign_terminated(ts));
	CHECK_EQ(start(ts, 10, 0, NULL), BFT_EINVAL);  /* ids only grow */
	CHECK_EQ(start(ts, 11, 1, NULL), BFT_EAGAIN);  /* active_max = 1 */
	CHECK_EQ(tsign_handle_input(ts, (const uint8_t *)"junk", 4, NULL, &step), BFT_EINVAL);
	CHECK_EQ(deliver(ts, 0, (const uint8_t *)"x", 1, NULL), BFT_EOK);  /* from itself: ignored */
	CHECK(bft_step_is_empty(&step));
	CHECK_EQ(deliver(ts, N, (const uint8_t *)"x", 1, NULL), BFT_EINVAL);
	CHECK_EQ(deliver(ts, 1, (const uint8_t *)"x", 1, NULL), BFT_EOK);
	CHECK_EQ(faults_of(1, BFT_FAULT_MALFORMED), 1);
	group_free(&g);
}

/* A replica alone (n = 1, f = 0) signs with its one share at once. */
static void test_alone(void)
{
	tnet_key_t one;
	tnet_key_deal(&one, 1, 0, 99);
	tsign_conf_t conf = { .pub = &one.pub, .secrets = one.sec, .secret_count = 1,
	                      .strategy = SHOUP_STRATEGY_BASIC };
	bft_params_t params = { .n = 1, .f = 0, .self = 0, .conf = &conf };
	tsign_t *ts;
	CHECK_EQ(tsign_create(&params, &ts), BFT_EOK);
	sent_t s = { 0 };
	CHECK_EQ(start(ts, 1, 0, &s), BFT_EOK);
	CHECK_EQ(s.count, 0);
	CHECK(step.output_count == 1 && tsign_finished(ts, 1) && tsign_idle(ts));
	tsign_destroy(ts);
	tnet_key_clear(&one);
}

/*
 * OPTTE in a fixed order: node 1 gets node 0's shares before its own
 * request (kept), starts, combines at once, outputs and forwards SIGS;
 * node 2 finishes from those SIGS alone, without making a share.
 */
static void test_early_and_forward(void)
{
	group_t g;
	group_make(&g, SHOUP_STRATEGY_OPTTE);
	group_start(&g);
	sent_t s0 = { 0 }, s1 = { 0 }, s2 = { 0 };
	CHECK_EQ(start(g.ts[0], 5, 0, &s0), BFT_EOK);
	CHECK(s0.count == 1 && s0.to[0] == 0xe && s0.data[0][0] == TSIGN_MSG_SHARES);
	CHECK(step.output_count == 0);

	CHECK_EQ(deliver(g.ts[1], 0, s0.data[0], s0.len[0], NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));
	tsign_stats_t st;
	tsign_stats(g.ts[1], &st);
	CHECK_EQ(st.future_kept, 1);

	CHECK_EQ(start(g.ts[1], 5, 0, &s1), BFT_EOK);
	CHECK(output_valid(5, 0));
	/* Its shares to all, then SIGS to all it has not seen finish. */
	int shares = sent_find(&s1, TSIGN_MSG_SHARES), sigs = sent_find(&s1, TSIGN_MSG_SIGS);
	CHECK(shares >= 0 && sigs > shares && s1.to[shares] == 0xd && s1.to[sigs] == 0xd);
	CHECK(tsign_finished(g.ts[1], 5) && tsign_idle(g.ts[1]));

	CHECK_EQ(deliver(g.ts[2], 1, s1.data[sigs], s1.len[sigs], NULL), BFT_EOK);
	CHECK_EQ(start(g.ts[2], 5, 0, &s2), BFT_EOK);
	CHECK(output_valid(5, 0));
	/* Node 1 is seen finished; 0 and 3 get SIGS, nobody gets shares. */
	CHECK(s2.count == 1 && s2.data[0][0] == TSIGN_MSG_SIGS && s2.to[0] == 0x9);
	tsign_stats(g.ts[2], &st);
	CHECK(st.shares_made == 0 && st.finished_by_sigs == 1);

	/* Late messages for the finished request: nothing, and no blame. */
	CHECK_EQ(deliver(g.ts[2], 0, s0.data[0], s0.len[0], NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));
	/* Node 0 saw node 2 finish (its SIGS), then finishes from node 1's
	 * shares: SIGS to 1 and 3 only. */
	CHECK_EQ(deliver(g.ts[0], 2, s2.data[0], s2.len[0], NULL), BFT_EOK);
	CHECK(output_valid(5, 0));
	sent_t s3 = { 0 };
	sent_take(&s3);
	CHECK(s3.count == 1 && s3.data[0][0] == TSIGN_MSG_SIGS && s3.to[0] == 0xa);
	CHECK_EQ(deliver(g.ts[0], 1, s1.data[shares], s1.len[shares], NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));
	sent_free(&s0);
	sent_free(&s1);
	sent_free(&s2);
	sent_free(&s3);
	group_free(&g);
}

/* The window, the per-sender budget, forgotten requests, RESEND. */
static void test_window(void)
{
	group_t g;
	group_make(&g, SHOUP_STRATEGY_OPTTE);
	g.conf[0].window = 10;
	g.conf[0].future_msgs_max = 2;
	g.conf[0].keep_max = 1;
	group_start(&g);
	sent_t s = { 0 };
	/* Node 1's shares of ids 2, 3, 4 (signed by a separate instance). */
	uint8_t *msg[5] = { 0 };
	size_t len[5] = { 0 };
	group_t h;
	group_make(&h, SHOUP_STRATEGY_OPTTE);
	group_start(&h);
	for (uint64_t id = 2; id <= 4; id++) {
		sent_t t = { 0 };
		CHECK_EQ(start(h.ts[1], id, (unsigned)id % 4, &t), BFT_EOK);
		msg[id] = t.data[0];
		len[id] = t.len[0];
		t.data[0] = NULL;
		sent_free(&t);
	}
	CHECK_EQ(deliver(g.ts[0], 1, msg[2], len[2], NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));
	CHECK_EQ(deliver(g.ts[0], 1, msg[3], len[3], NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));
	/* The third early message from node 1 is over its budget. */
	CHECK_EQ(deliver(g.ts[0], 1, msg[4], len[4], NULL), BFT_EOK);
	CHECK_EQ(faults_of(1, BFT_FAULT_FUTURE), 1);

	/* A message of id 4 was dropped, and of which lower ids too is not
	 * known: every id up to 4 starts with RESEND. */
	CHECK_EQ(start(g.ts[0], 2, 2, &s), BFT_EOK);
	CHECK(output_valid(2, 2));  /* node 1's kept share made it */
	CHECK(s.count == 2 && s.data[0][0] == TSIGN_MSG_SHARES && (s.data[0][9] & TSIGN_FLAG_RESEND));
	sent_free(&s);
	CHECK_EQ(start(g.ts[0], 4, 0, &s), BFT_EOK);
	CHECK(step.output_count == 0);
	CHECK(s.count == 1 && (s.data[0][9] & TSIGN_FLAG_RESEND));
	/* Id 3 was never started: its kept message was freed, late ones ignored. */
	CHECK_EQ(deliver(g.ts[0], 1, msg[3], len[3], NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));

	/* Beyond the window: 11 ids ahead of the last started one. */
	uint8_t *far = malloc(len[2]);
	memcpy(far, msg[2], len[2]);
	for (unsigned b = 0; b < 8; b++) {
		far[1 + b] = (uint8_t)((UINT64_C(4) + 11) >> (56 - 8 * b));
	}
	CHECK_EQ(deliver(g.ts[0], 2, far, len[2], NULL), BFT_EOK);
	CHECK_EQ(faults_of(2, BFT_FAULT_FUTURE), 1);
	free(far);

	/* h's node 1 finishes id 4 with node 2's share, then answers node 0's
	 * RESEND with SIGS (though it forwarded them already), at most
	 * TSIGN_RESEND_ANSWERS times: a restarted node 0 that lost them sends
	 * the same bytes again and must be answered again. */
	sent_t a = { 0 };
	CHECK_EQ(start(h.ts[2], 4, 0, &a), BFT_EOK);
	CHECK_EQ(deliver(h.ts[1], 2, a.data[0], a.len[0], NULL), BFT_EOK);
	CHECK(tsign_finished(h.ts[1], 4));
	sent_free(&a);
	CHECK_EQ(deliver(h.ts[1], 0, s.data[0], s.len[0], &a), BFT_EOK);
	int sigs = sent_find(&a, TSIGN_MSG_SIGS);
	CHECK(sigs >= 0 && a.to[sigs] == 0x1);
	CHECK_EQ(deliver(g.ts[0], 1, a.data[sigs], a.len[sigs], NULL), BFT_EOK);
	CHECK(output_valid(4, 0));
	sent_free(&a);
	for (unsigned again = 1; again < TSIGN_RESEND_ANSWERS; again++) {
		CHECK_EQ(deliver(h.ts[1], 0, s.data[0], s.len[0], &a), BFT_EOK);
		sigs = sent_find(&a, TSIGN_MSG_SIGS);
		CHECK(a.count == 1 && sigs == 0 && a.to[0] == 0x1);
		sent_free(&a);
	}
	CHECK_EQ(deliver(h.ts[1], 0, s.data[0], s.len[0], &a), BFT_EOK);
	CHECK_EQ(a.count, 0);  /* the bound: a liar cannot make it talk on */
	sent_free(&a);

	/* keep_max = 1: id 2 is forgotten now; its messages are ignored. */
	CHECK(!tsign_finished(g.ts[0], 2) && tsign_finished(g.ts[0], 4));
	CHECK_EQ(deliver(g.ts[0], 1, msg[2], len[2], NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));
	tsign_stats_t st;
	tsign_stats(g.ts[0], &st);
	CHECK(st.late_ignored >= 2 && st.future_dropped == 2);
	sent_free(&s);
	for (unsigned i = 2; i <= 4; i++) {
		free(msg[i]);
	}
	group_free(&h);
	group_free(&g);
}

/* Finished requests kept for peers that catch up: keep_max of them, at most
 * keep_bytes_max bytes of signatures (the newest always). The driver keeps
 * more than the default 64 (stack.c): a replica restarted 100 batches
 * behind signs each of them again and needs its peers' SIGS. */
static void test_keep(void)
{
	group_t g;
	group_make(&g, SHOUP_STRATEGY_OPTTE);
	g.conf[0].catchup_until = 100;
	g.conf[1].keep_max = 100;
	g.conf[2].keep_bytes_max = 1;  /* below one output */
	group_start(&g);
	/* Nodes 1 and 2 finish ids 1..80 with each other's shares. */
	for (uint64_t id = 1; id <= 80; id++) {
		sent_t a = { 0 }, b = { 0 };
		CHECK_EQ(start(g.ts[1], id, (unsigned)id % 4, &a), BFT_EOK);
		CHECK_EQ(start(g.ts[2], id, (unsigned)id % 4, &b), BFT_EOK);
		CHECK_EQ(deliver(g.ts[1], 2, b.data[0], b.len[0], NULL), BFT_EOK);
		CHECK_EQ(deliver(g.ts[2], 1, a.data[0], a.len[0], NULL), BFT_EOK);
		CHECK(tsign_finished(g.ts[1], id) && tsign_finished(g.ts[2], id));
		sent_free(&a);
		sent_free(&b);
	}
	CHECK(tsign_finished(g.ts[1], 1));
	CHECK(!tsign_finished(g.ts[2], 79) && tsign_finished(g.ts[2], 80));

	/* Node 0 catches up from id 1 (RESEND): node 1 answers with SIGS,
	 * which finish it; node 2 forgot id 1 and ignores it. */
	sent_t s = { 0 }, a = { 0 };
	CHECK_EQ(start(g.ts[0], 1, 1, &s), BFT_EOK);
	CHECK(s.count >= 1 && s.data[0][0] == TSIGN_MSG_SHARES && (s.data[0][9] & TSIGN_FLAG_RESEND));
	CHECK_EQ(deliver(g.ts[1], 0, s.data[0], s.len[0], &a), BFT_EOK);
	int sigs = sent_find(&a, TSIGN_MSG_SIGS);
	CHECK(sigs >= 0 && a.to[sigs] == 0x1);
	CHECK_EQ(deliver(g.ts[0], 1, a.data[sigs], a.len[sigs], NULL), BFT_EOK);
	CHECK(output_valid(1, 1));
	sent_free(&a);
	CHECK_EQ(deliver(g.ts[2], 0, s.data[0], s.len[0], &a), BFT_EOK);
	CHECK_EQ(a.count, 0);
	sent_free(&a);
	sent_free(&s);
	group_free(&g);
}

/* tsign_restore(): a replica restarted after finishing requests gets their
 * signatures back and answers a catching-up peer's RESEND with SIGS; what
 * it is given is checked (ids, sizes, every signature) and bounded. */
static void test_restore(void)
{
	group_t g;
	group_make(&g, SHOUP_STRATEGY_OPTTE);
	g.conf[0].catchup_until = 100;
	group_start(&g);
	/* Nodes 1 and 2 finish ids 1..3; node 1's outputs are kept. */
	uint8_t kept[4][1024];
	size_t sig_len = 0;
	for (uint64_t id = 1; id <= 3; id++) {
		sent_t a = { 0 }, b = { 0 };
		CHECK_EQ(start(g.ts[1], id, (unsigned)id, &a), BFT_EOK);
		CHECK_EQ(start(g.ts[2], id, (unsigned)id, &b), BFT_EOK);
		CHECK_EQ(deliver(g.ts[1], 2, b.data[0], b.len[0], NULL), BFT_EOK);
		CHECK(output_valid(id, (unsigned)id));
		uint64_t out_id;
		uint16_t count;
		const uint8_t *sigs;
		CHECK_EQ(tsign_output_decode(bft_step_output_data(&step, 0), step.outputs[0].len,
		                             &out_id, &count, &sig_len, &sigs), BFT_EOK);
		CHECK(sig_len <= 1024);
		memcpy(kept[id], sigs, sig_len);
		sent_free(&a);
		sent_free(&b);
	}

	/* Node 1 restarts after id 3: start_id 10, room for two finished. */
	tsign_destroy(g.ts[1]);
	g.conf[1].start_id = 10;
	g.conf[1].keep_max = 2;
	bft_params_t params = { .n = N, .f = F, .self = 1, .conf = &g.conf[1] };
	CHECK_EQ(tsign_create(&params, &g.ts[1]), BFT_EOK);
	tsign_t *ts = g.ts[1];

	/* Refused, changing nothing: an id it may start, bad sizes, an unknown
	 * algorithm, a damaged signature, a signature of another digest. */
	tsign_request_t req = request(10, 2);
	CHECK_EQ(tsign_restore(ts, &req, sig_len, kept[2]), BFT_EINVAL);
	req = request(1, 1);
	CHECK_EQ(tsign_restore(ts, &req, sig_len - 1, kept[1]), BFT_EINVAL);
	CHECK_EQ(tsign_restore(ts, NULL, sig_len, kept[1]), BFT_EINVAL);
	CHECK_EQ(tsign_restore(ts, &req, sig_len, NULL), BFT_EINVAL);
	req.count = 0;
	CHECK_EQ(tsign_restore(ts, &req, sig_len, kept[1]), BFT_EINVAL);
	req = request(1, 1);
	req.alg = 99;
	CHECK_EQ(tsign_restore(ts, &req, sig_len, kept[1]), BFT_EINVAL);
	req = request(1, 1);
	uint8_t damaged[1024];
	memcpy(damaged, kept[1], sig_len);
	damaged[sig_len / 2] ^= 0x01;
	CHECK_EQ(tsign_restore(ts, &req, sig_len, damaged), BFT_EINVAL);
	req = request(1, 2);  /* id 1's signature, another request's digest */
	CHECK_EQ(tsign_restore(ts, &req, sig_len, kept[1]), BFT_EINVAL);
	CHECK(!tsign_finished(ts, 1));

	/* Kept like finished requests: the oldest goes beyond keep_max. */
	for (uint64_t id = 1; id <= 3; id++) {
		req = request(id, (unsigned)id);
		CHECK_EQ(tsign_restore(ts, &req, sig_len, kept[id]), BFT_EOK);
	}
	CHECK(!tsign_finished(ts, 1) && tsign_finished(ts, 2) && tsign_finished(ts, 3));
	req = request(1, 1);
	CHECK_EQ(tsign_restore(ts, &req, sig_len, kept[1]), BFT_ESPACE);
	req = request(2, 2);
	CHECK_EQ(tsign_restore(ts, &req, sig_len, kept[2]), BFT_EEXIST);
	tsign_stats_t st;
	tsign_stats(ts, &st);
	CHECK_EQ(st.restored, 3);

	/* Node 0 catches up on id 3 (RESEND): the restored node 1 answers with
	 * SIGS, which finish it. */
	sent_t s = { 0 }, a = { 0 };
	CHECK_EQ(start(g.ts[0], 3, 3, &s), BFT_EOK);
	CHECK(s.count >= 1 && s.data[0][0] == TSIGN_MSG_SHARES && (s.data[0][9] & TSIGN_FLAG_RESEND));
	CHECK_EQ(deliver(ts, 0, s.data[0], s.len[0], &a), BFT_EOK);
	int sigs = sent_find(&a, TSIGN_MSG_SIGS);
	CHECK(sigs >= 0 && a.to[sigs] == 0x1);
	CHECK_EQ(deliver(g.ts[0], 1, a.data[sigs], a.len[sigs], NULL), BFT_EOK);
	CHECK(output_valid(3, 3));
	sent_free(&a);
	sent_free(&s);

	/* A RESEND for a restored id with other digests is a mismatch, not answered. */
	group_t h;
	group_make(&h, SHOUP_STRATEGY_OPTTE);
	h.conf[0].catchup_until = 100;
	group_start(&h);
	CHECK_EQ(start(h.ts[0], 2, 0, &s), BFT_EOK);
	CHECK_EQ(deliver(ts, 0, s.data[0], s.len[0], &a), BFT_EOK);
	CHECK_EQ(sent_find(&a, TSIGN_MSG_SIGS), -1);
	CHECK_EQ(faults_of(0, TSIGN_FAULT_MISMATCH), 1);
	sent_free(&a);
	sent_free(&s);
	group_free(&h);

	/* Once it started a request, nothing more is restored. */
	CHECK_EQ(start(ts, 10, 0, NULL), BFT_EOK);
	req = request(1, 1);
	CHECK_EQ(tsign_restore(ts, &req, sig_len, kept[1]), BFT_EINVAL);
	group_free(&g);
}

/* Duplicates, equivocation, a different request, a misplaced PROOF_REQ, garbage. */
static void test_faults(void)
{
	group_t g;
	group_make(&g, SHOUP_STRATEGY_OPTTE);
	group_start(&g);
	sent_t s1 = { 0 }, s2 = { 0 };
	CHECK_EQ(start(g.ts[0], 5, 0, NULL), BFT_EOK);
	CHECK_EQ(start(g.ts[1], 5, 0, &s1), BFT_EOK);
	CHECK_EQ(start(g.ts[2], 5, 1, &s2), BFT_EOK);  /* another digest: diverged */
	CHECK_EQ(deliver(g.ts[0], 2, s2.data[0], s2.len[0], NULL), BFT_EOK);
	CHECK_EQ(faults_of(2, TSIGN_FAULT_MISMATCH), 1);
	CHECK(step.output_count == 0);

	/* Node 1's share with one value byte changed, then the true one. */
	uint8_t *bad = malloc(s1.len[0]);
	memcpy(bad, s1.data[0], s1.len[0]);
	bad[s1.len[0] - 5] ^= 0x40;
	CHECK_EQ(deliver(g.ts[0], 1, bad, s1.len[0], NULL), BFT_EOK);
	CHECK(step.fault_count == 0 && step.output_count == 0);  /* OPTTE blames no subset */
	CHECK_EQ(deliver(g.ts[0], 1, bad, s1.len[0], NULL), BFT_EOK);
	CHECK(step.fault_count == 0);  /* an identical duplicate */
	CHECK_EQ(deliver(g.ts[0], 1, s1.data[0], s1.len[0], NULL), BFT_EOK);
	CHECK_EQ(faults_of(1, BFT_FAULT_EQUIVOCATION), 1);
	CHECK(step.output_count == 0);

	/* A different m is a different request. */
	uint8_t *other_m = malloc(s1.len[0]);
	memcpy(other_m, s1.data[0], s1.len[0]);
	other_m[1 + 8 + 1 + 32 + 1] = 2;
	CHECK_EQ(deliver(g.ts[0], 3, other_m, s1.len[0], NULL), BFT_EOK);
	CHECK_EQ(faults_of(3, TSIGN_FAULT_MISMATCH), 1);

	/* OPTTE has no proof requests. */
	uint8_t req[] = { TSIGN_MSG_PROOF_REQ, 0, 0, 0, 0, 0, 0, 0, 5, 0, 1, 0, 1, 0, 0 };
	CHECK_EQ(deliver(g.ts[0], 3, req, sizeof(req), NULL), BFT_EOK);
	CHECK_EQ(faults_of(3, BFT_FAULT_UNEXPECTED), 1);
	/* Malformed: a byte short. */
	CHECK_EQ(deliver(g.ts[0], 3, s1.data[0], s1.len[0] - 1, NULL), BFT_EOK);
	CHECK_EQ(faults_of(3, BFT_FAULT_MALFORMED), 1);
	CHECK(!tsign_finished(g.ts[0], 5));
	free(bad);
	free(other_m);
	sent_free(&s1);
	sent_free(&s2);
	group_free(&g);
}

/* Forged SIGS never finish a request; a true one does. */
static void test_forged_sigs(void)
{
	group_t g;
	group_make(&g, SHOUP_STRATEGY_BASIC);
	group_start(&g);
	sent_t s0 = { 0 }, s1 = { 0 };
	CHECK_EQ(start(g.ts[0], 5, 0, &s0), BFT_EOK);
	CHECK_EQ(start(g.ts[1], 5, 0, NULL), BFT_EOK);
	CHECK_EQ(deliver(g.ts[1], 0, s0.data[0], s0.len[0], &s1), BFT_EOK);
	CHECK(output_valid(5, 0));
	int at = sent_find(&s1, TSIGN_MSG_SIGS);
	CHECK(at >= 0);
	CHECK_EQ(start(g.ts[2], 5, 0, NULL), BFT_EOK);

	size_t len = s1.len[at];
	uint8_t *forged = malloc(len);
	mpz_t sig;
	mpz_init(sig);
	for (int how = 0; how < 3; how++) {
		memcpy(forged, s1.data[at], len);
		uint8_t *field = forged + 11;
		mpz_import(sig, sizes.value_len, 1, 1, 1, 0, field);
		if (how == 0) {
			mpz_add(sig, sig, key.pub.modulus);   /* congruent, out of range */
		} else if (how == 1) {
			mpz_sub(sig, key.pub.modulus, sig);
		} else {
			mpz_set_ui(sig, 0);
		}
		if (!tsign_put_fixed(field, sizes.value_len, sig)) {
			field[sizes.value_len - 1] ^= 1;
		}
		CHECK_EQ(deliver(g.ts[2], 3, forged, len, NULL), BFT_EOK);
		CHECK_EQ(faults_of(3, BFT_FAULT_INVALID), 1);
		CHECK(step.output_count == 0 && !tsign_finished(g.ts[2], 5));
	}
	CHECK_EQ(deliver(g.ts[2], 1, s1.data[at], len, NULL), BFT_EOK);
	CHECK(step.fault_count == 0 && output_valid(5, 0));
	/* A finished request does not even look (late SIGS are cheap)... */
	CHECK_EQ(deliver(g.ts[2], 3, forged, len, NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));
	/* ...an unfinished one blames the forger and takes nothing. */
	CHECK_EQ(deliver(g.ts[0], 3, forged, len, NULL), BFT_EOK);
	CHECK_EQ(faults_of(3, BFT_FAULT_INVALID), 1);
	CHECK(step.output_count == 0);
	mpz_clear(sig);
	free(forged);
	sent_free(&s0);
	sent_free(&s1);
	group_free(&g);
}

/*
 * OPTPROOF with node 1 sending random shares (always in [1, N), unlike an
 * inverted one, which may be out of range and refused before combining):
 * node 0 combines the bad one,
 * falls back (PROOF_REQ + its proven shares), node 2 answers with proofs,
 * node 0 finishes and blames node 1 once its proof fails. A finished
 * node answers a late PROOF_REQ with SIGS.
 */
static void test_optproof_fallback(void)
{
	group_t g;
	group_make(&g, SHOUP_STRATEGY_OPTPROOF);
	g.conf[1].mode = TSIGN_MODE_RANDOM_SHARES;
	group_start(&g);
	sent_t s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, fb = { 0 }, ans = { 0 };
	CHECK_EQ(start(g.ts[0], 5, 0, &s0), BFT_EOK);
	CHECK_EQ(start(g.ts[1], 5, 0, &s1), BFT_EOK);
	CHECK_EQ(start(g.ts[2], 5, 0, &s2), BFT_EOK);
	CHECK_EQ(deliver(g.ts[0], 1, s1.data[0], s1.len[0], &fb), BFT_EOK);
	CHECK(step.output_count == 0);
	int req = sent_find(&fb, TSIGN_MSG_PROOF_REQ), proven = sent_find(&fb, TSIGN_MSG_SHARES);
	CHECK(req >= 0 && proven >= 0 && fb.to[req] == 0xe);
	CHECK(proven >= 0 && (fb.data[proven][9] & TSIGN_FLAG_PROOFS));

	/* Node 2 answers the request once with its proven shares. */
	CHECK_EQ(deliver(g.ts[2], 0, fb.data[req], fb.len[req], &ans), BFT_EOK);
	CHECK(ans.count == 1 && (ans.data[0][9] & TSIGN_FLAG_PROOFS) && ans.to[0] == 0xb);
	CHECK_EQ(deliver(g.ts[2], 0, fb.data[req], fb.len[req], NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));

	/* Node 1 answers too, with its bad value: the proof fails at node 0. */
	sent_t ans1 = { 0 };
	CHECK_EQ(deliver(g.ts[1], 0, fb.data[req], fb.len[req], &ans1), BFT_EOK);
	CHECK(ans1.count == 1);
	CHECK_EQ(deliver(g.ts[0], 1, ans1.data[0], ans1.len[0], NULL), BFT_EOK);
	CHECK_EQ(faults_of(1, BFT_FAULT_INVALID), 1);
	CHECK(step.output_count == 0);
	CHECK_EQ(deliver(g.ts[0], 2, ans.data[0], ans.len[0], NULL), BFT_EOK);
	CHECK(output_valid(5, 0));
	tsign_stats_t st;
	tsign_stats(g.ts[0], &st);
	CHECK(st.proof_requests == 1 && st.proofs_made == 1 && st.shares_made == 1);

	/* Node 3 falls back too, later: finished node 0 answers with SIGS,
	 * unless it already sent them to node 3 (it did: forwarded at finish). */
	sent_t late = { 0 };
	CHECK_EQ(start(g.ts[3], 5, 0, NULL), BFT_EOK);
	CHECK_EQ(deliver(g.ts[3], 1, s1.data[0], s1.len[0], &late), BFT_EOK);
	req = sent_find(&late, TSIGN_MSG_PROOF_REQ);
	CHECK(req >= 0);
	CHECK_EQ(deliver(g.ts[0], 3, late.data[req], late.len[req], NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));
	/* Node 2 has not finished: it already sent its proofs, nothing more. */
	CHECK_EQ(deliver(g.ts[2], 3, late.data[req], late.len[req], NULL), BFT_EOK);
	CHECK(bft_step_is_empty(&step));
	CHECK_EQ(deliver(g.ts[3], 2, ans.data[0], ans.len[0], NULL), BFT_EOK);
	CHECK(output_valid(5, 0));
	sent_free(&s0);
	sent_free(&s1);
	sent_free(&s2);
	sent_free(&fb);
	sent_free(&ans);
	sent_free(&ans1);
	sent_free(&late);
	group_free(&g);
}

/* What the modes send: the complement of the true share, a fixed
 * pseudo-random value, nothing. */
static void test_modes(void)
{
	shoup_share_t truth;
	shoup_share_init(&truth);
	mpz_t x, v;
	mpz_inits(x, v, NULL);
	CHECK(bftdns_alg_encode_digest(bftdns_alg_by_number(8), digests[0], sizes.value_len, x) == SHOUP_EOK);
	CHECK(shoup_share_sign(&key.pub, &key.sec[1], x, false, &truth) == SHOUP_EOK);
	uint8_t want[512];
	CHECK(tsign_put_fixed(want, sizes.value_len, truth.value));
	size_t value_at = 1 + 8 + 1 + 32 + 2 + 2 + 2;

	uint8_t first_random[512];
	for (int round = 0; round < 2; round++) {
		for (int mode = TSIGN_MODE_HONEST; mode < TSIGN_MODES; mode++) {
			group_t g;
			group_make(&g, SHOUP_STRATEGY_OPTTE);
			g.conf[1].mode = (tsign_mode_t)mode;
			group_start(&g);
			sent_t s = { 0 };
			CHECK_EQ(start(g.ts[1], 5, 0, &s), BFT_EOK);
			if (mode == TSIGN_MODE_SILENT_SIGNER) {
				CHECK_EQ(s.count, 0);
				/* ...but it still collects and outputs. */
				sent_t t = { 0 };
				CHECK_EQ(start(g.ts[0], 5, 0, &t), BFT_EOK);
				CHECK_EQ(deliver(g.ts[1], 0, t.data[0], t.len[0], &s), BFT_EOK);
				CHECK(output_valid(5, 0) && s.count == 0);
				sent_free(&t);
			} else {
				CHECK(s.count == 1);
				const uint8_t *got = s.data[0] + value_at;
				bool same = true, complement = true;
				for (size_t i = 0; i < sizes.value_len; i++) {
					same &= got[i] == want[i];
					complement &= (got[i] ^ want[i]) == 0xff;
				}
				CHECK(same == (mode == TSIGN_MODE_HONEST));
				CHECK(complement == (mode == TSIGN_MODE_INVERT_SHARES));
				if (mode == TSIGN_MODE_RANDOM_SHARES) {
					mpz_import(v, sizes.value_len, 1, 1, 1, 0, got);
					CHECK(mpz_sgn(v) > 0 && mpz_cmp(v, key.pub.modulus) < 0);
					if (round == 0) {
						memcpy(first_random, got, sizes.value_len);
					} else {
						CHECK(memcmp(first_random, got, sizes.value_len) == 0);
					}
				}
			}
			sent_free(&s);
			group_free(&g);
		}
	}
	mpz_clears(x, v, NULL);
	shoup_share_clear(&truth);
}

/* A flood of early (well-formed) messages from one sender stays in its budget. */
static void test_budget(void)
{
	group_t g;
	group_make(&g, SHOUP_STRATEGY_OPTTE);
	g.conf[0].future_bytes_max = 1000;
	group_start(&g);
	uint8_t msg[1 + 8 + 2 + 2 + 2] = { TSIGN_MSG_PROOF_REQ };
	unsigned dropped = 0;
	for (uint64_t id = 2; id < 400; id++) {
		for (unsigned b = 0; b < 8; b++) {
			msg[1 + b] = (uint8_t)(id >> (56 - 8 * b));
		}
		msg[10] = 1;
		msg[12] = 1;
		CHECK_EQ(deliver(g.ts[0], 3, msg, sizeof(msg), NULL), BFT_EOK);
		dropped += faults_of(3, BFT_FAULT_UNEXPECTED);  /* OPTTE: refused before keeping */
	}
	CHECK_EQ(dropped, 398);
	group_free(&g);
	group_make(&g, SHOUP_STRATEGY_OPTPROOF);
	g.conf[0].future_bytes_max = 1000;
	g.conf[0].future_msgs_max = 1000;
	group_start(&g);
	unsigned future = 0;
	for (uint64_t id = 2; id < 400; id++) {
		for (unsigned b = 0; b < 8; b++) {
			msg[1 + b] = (uint8_t)(id >> (56 - 8 * b));
		}
		CHECK_EQ(deliver(g.ts[0], 3, msg, sizeof(msg), NULL), BFT_EOK);
		future += faults_of(3, BFT_FAULT_FUTURE);
	}
	tsign_stats_t st;
	tsign_stats(g.ts[0], &st);
	CHECK_EQ(st.future_kept, 1000 / sizeof(msg));
	CHECK_EQ(future, 398 - 1000 / sizeof(msg));
	group_free(&g);
}

int main(void)
{
	tnet_key_deal(&key, N, F, 0x7e57);
	tsign_sizes_init(&sizes, key.pub.bits, TSIGN_MSGS_MAX);
	for (unsigned r = 0; r < 4; r++) {
		char data[32];
		int len = snprintf(data, sizeof(data), "directed request %u", r);
		CHECK(bftdns_alg_digest(bftdns_alg_by_number(8), (const uint8_t *)data, (size_t)len,
		                        digests[r]) == SHOUP_EOK);
	}
	CHECK_EQ(bft_step_init(&step, 16u << 20), BFT_EOK);
	test_create();
	test_start_errors();
	test_alone();
	test_early_and_forward();
	test_window();
	test_keep();
	test_restore();
	test_faults();
	test_forged_sigs();
	test_optproof_fallback();
	test_modes();
	test_budget();
	bft_step_deinit(&step);
	tnet_key_clear(&key);
	return check_result("test_tsign");
}
