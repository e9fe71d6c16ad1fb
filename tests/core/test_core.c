/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * n coordinators in one process over real TLS links on 127.0.0.1:
 * - n = 4 and n = 7 run the example broadcast (every replica's value
 *   reaches every replica) and plain sends in both directions (order per
 *   sender kept);
 * - an intruder with an unpinned key is refused and logged, the cluster
 *   carries on; a replica given another replica's key does not start;
 * - start/stop leave nothing behind (run under valgrind by meson too).
 * Usage: test_core [quick]   (quick: n = 4 only, for valgrind)
 */

#include "coordinator/proto/example_multi.h"
#include "coordinator/proto/example_send.h"
#include "tests/core/cluster.h"
#include "tests/common/check.h"

#define WAIT_MS	30000

typedef struct {
	cluster_t *c;
	unsigned want;
	int tag;
} wait_outputs_t;

/* Every core has at least want outputs (with tag, or any tag if tag < 0). */
static bool all_have(void *ctx)
{
	wait_outputs_t *w = ctx;
	for (unsigned i = 0; i < w->c->n; i++) {
		if (w->c->cores[i] != NULL && cluster_count(&w->c->rec[i], w->tag) < w->want) {
			return false;
		}
	}
	return true;
}

static bool all_links_up(void *ctx)
{
	cluster_t *c = ctx;
	for (unsigned i = 0; i < c->n; i++) {
		bft_nodeset_t want = bft_nodeset_all(c->n) & ~bft_nodeset_one((bft_node_t)i);
		if (bftdns_core_links_up(c->cores[i]) != want) {
			return false;
		}
	}
	return true;
}

static void start_all(cluster_t *c, const bft_protocol_ops_t *ops)
{
	for (unsigned i = 0; i < c->n; i++) {
		bftdns_core_conf_t conf;
		cluster_conf(c, i, ops, &conf);
		CHECK_EQ(bftdns_core_start(&conf, &c->cores[i]), BFT_EOK);
	}
}

/* The example broadcast: each replica's value reaches all, intact. */
static void test_broadcast(unsigned n)
{
	cluster_t *c = calloc(1, sizeof(*c));
	CHECK(c != NULL);
	CHECK_EQ(cluster_make(c, n, 0), BFT_EOK);
	start_all(c, &exmulti_ops);
	for (unsigned i = 0; i < n; i++) {
		char value[64];
		int len = snprintf(value, sizeof(value), "value of replica %u", i + 1);
		CHECK_EQ(bftdns_core_submit(c->cores[i], (const uint8_t *)value, (size_t)len), BFT_EOK);
	}
	wait_outputs_t w = { .c = c, .want = n, .tag = -1 };
	CHECK(cluster_wait(all_have, &w, WAIT_MS));
	for (unsigned i = 0; i < n; i++) {
		cluster_rec_t *rec = &c->rec[i];
		pthread_mutex_lock(&rec->lock);
		CHECK_EQ(rec->count, n);
		for (unsigned k = 0; k < rec->count; k++) {
			char want[64];
			snprintf(want, sizeof(want), "value of replica %u", rec->tags[k] + 1);
			CHECK(rec->data[k] != NULL && strcmp(rec->data[k], want) == 0);
		}
		pthread_mutex_unlock(&rec->lock);
	}
	bftdns_core_stats_t stats;
	bftdns_core_stats(c->cores[0], &stats);
	CHECK_EQ(stats.inputs, 1);
	CHECK_EQ(stats.outputs, n);
	CHECK_EQ(stats.faults, 0);
	printf("broadcast n=%u: every replica delivered %u values\n", n, n);
	cluster_destroy(c);
	free(c);
}

/* Plain sends, every pair, both directions; per-sender order is kept. */
static void test_sends(unsigned n, unsigned per_peer)
{
	cluster_t *c = calloc(1, sizeof(*c));
	CHECK(c != NULL);
	CHECK_EQ(cluster_make(c, n, 0), BFT_EOK);
	start_all(c, &exsend_ops);
	CHECK(cluster_wait(all_links_up, c, WAIT_MS));
	for (unsigned k = 0; k < per_peer; k++) {
		for (unsigned i = 0; i < n; i++) {
			char text[64];
			uint8_t input[80];
			size_t len = 0;
			int tlen = snprintf(text, sizeof(text), "%u:%u", i, k);
			bft_nodeset_t others = bft_nodeset_all(n) & ~bft_nodeset_one((bft_node_t)i);
			CHECK_EQ(exsend_input(others, (const uint8_t *)text, (size_t)tlen, input, sizeof(input), &len), BFT_EOK);
			int ret;
			/* The inbox is bounded: wait while it is full (bounded). */
			for (int tries = 0; (ret = bftdns_core_submit(c->cores[i], input, len)) == BFT_EAGAIN && tries < 1000; tries++) {
				cluster_pause_ms(1);
			}
			CHECK_EQ(ret, BFT_EOK);
		}
	}
	wait_outputs_t w = { .c = c, .want = (n - 1) * per_peer, .tag = -1 };
	CHECK(cluster_wait(all_have, &w, WAIT_MS));
	for (unsigned i = 0; i < n; i++) {
		cluster_rec_t *rec = &c->rec[i];
		unsigned next[BFT_NODES_MAX] = { 0 };
		bool ordered = true;
		pthread_mutex_lock(&rec->lock);
		CHECK_EQ(rec->count, (n - 1) * per_peer);
		for (unsigned k = 0; k < rec->count; k++) {
			unsigned from = 0, seq = 0;
			ordered &= rec->data[k] != NULL && sscanf(rec->data[k], "%u:%u", &from, &seq) == 2 &&
			           from == rec->tags[k] && from < n && seq == next[from]++;
		}
		pthread_mutex_unlock(&rec->lock);
		CHECK(ordered);
	}
	printf("sends n=%u: %u messages each way per pair, in order\n", n, per_peer);
	cluster_destroy(c);
	free(c);
}

/* An intruder whose key is not pinned dials replicas 2..4: refused, logged. */
static void test_intruder(void)
{
	cluster_t *c = calloc(1, sizeof(*c));
	CHECK(c != NULL);
	CHECK_EQ(cluster_make(c, 4, 1), BFT_EOK);
	start_all(c, &exsend_ops);
	CHECK(cluster_wait(all_links_up, c, WAIT_MS));
	/* It claims to be replica 1 with its own key, at its own port. */
	bftdns_core_conf_t conf;
	cluster_conf(c, 0, &exsend_ops, &conf);
	conf.key_file = c->keys[4];
	conf.peers[0].pin = c->pins[4];
	conf.peers[0].port = c->ports[4];
	conf.deliver_ctx = &c->rec[4];
	conf.log.ctx = &c->rec[4];
	bftdns_core_t *intruder = NULL;
	CHECK_EQ(bftdns_core_start(&conf, &intruder), BFT_EOK);
	char expect[128];
	snprintf(expect, sizeof(expect), "key %s is not pinned", c->pins[4]);
	bool refused = false;
	for (int i = 0; i < 3000 && !refused; i++) {
		refused = cluster_log_has(&c->rec[1], expect) && cluster_log_has(&c->rec[3], expect);
		cluster_pause_ms(10);
	}
	CHECK(refused);
	CHECK_EQ(bftdns_core_links_up(intruder), 0);
	/* The cluster is unharmed: replica 2 still reaches replica 1. */
	uint8_t input[16];
	size_t len = 0;
	CHECK_EQ(exsend_input(bft_nodeset_one(0), (const uint8_t *)"still here", 10, input, sizeof(input), &len), BFT_EOK);
	CHECK_EQ(bftdns_core_submit(c->cores[1], input, len), BFT_EOK);
	bool got = false;
	for (int i = 0; i < 3000 && !got; i++) {
		got = cluster_count(&c->rec[0], 1) >= 1;
		cluster_pause_ms(10);
	}
	CHECK(got);
	bftdns_core_stop(intruder);
	/* A replica started with another replica's key is refused at start. */
	cluster_conf(c, 2, &exsend_ops, &conf);
	conf.key_file = c->keys[1];
	bftdns_core_t *wrong = NULL;
	CHECK_EQ(bftdns_core_start(&conf, &wrong), BFT_EAUTH);
	CHECK(wrong == NULL);
	CHECK(cluster_log_has(&c->rec[2], "is not the key pinned for replica 3"));
	/* Bad configs: n < 3f + 1, no protocol, a host name. */
	cluster_conf(c, 2, &exsend_ops, &conf);
	conf.f = 2;
	CHECK_EQ(bftdns_core_start(&conf, &wrong), BFT_EINVAL);
	cluster_conf(c, 2, NULL, &conf);
	CHECK_EQ(bftdns_core_start(&conf, &wrong), BFT_EINVAL);
	cluster_conf(c, 2, &exsend_ops, &conf);
	conf.peers[0].host = "localhost";
	CHECK_EQ(bftdns_core_start(&conf, &wrong), BFT_EINVAL);
	/* Our own port taken (replica 1 holds it): a clear error. */
	cluster_conf(c, 2, &exsend_ops, &conf);
	conf.peers[2].port = c->ports[0];
	CHECK_EQ(bftdns_core_start(&conf, &wrong), BFT_EIO);
	CHECK(cluster_log_has(&c->rec[2], "cannot listen"));
	cluster_destroy(c);
	free(c);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "quick") == 0;
	test_broadcast(4);
	test_sends(4, quick ? 20 : 500);
	test_intruder();
	if (!quick) {
		test_broadcast(7);
		test_sends(7, 300);
	}
	return check_result("test_core");
}
