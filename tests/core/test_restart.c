/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Replicas 1-3 run in this process, replica 4 is a separate bftdns-node
 * process. Traffic flows both ways; replica 4 is killed (SIGKILL, by PID):
 * the others see its links go down and carry on; it is started again: the
 * links come back (replica 4 is the higher index, so 1-3 redial it) and
 * traffic resumes both ways. Then replica 4 is stopped (SIGSTOP) while the
 * others keep sending 64 KiB messages: their send queues to it stay within
 * the bound and refuse the excess; after SIGCONT it catches up. Last, it
 * stays stopped past the idle limit: the others ping it, drop the silent
 * links, and get them back once it continues.
 * Usage: test_restart PATH-TO-bftdns-node
 */

#include <errno.h>

#include "coordinator/proto/example_send.h"
#include "tests/core/cluster.h"
#include "tests/core/node_proc.h"
#include "tests/common/check.h"

#define N		4
#define CHILD		3
#define SENDQ_MAX	(1u << 20)
#define PING_MS		200
#define IDLE_MS		1500

/* Messages replica 4 printed ("out TAG ..."), per sender. */
static unsigned node_from[N];

static cluster_t *c;
static node_proc_t node;
static const char *node_path;

static void node_spawn(void)
{
	static const char *const extra[] = { "--every", "20", "--lifetime", "100", NULL };
	node_proc_spawn(&node, node_path, c, CHILD, extra);
	memset(node_from, 0, sizeof(node_from));
}

static void node_line(void *ctx, const char *line)
{
	(void)ctx;
	unsigned tag = 0;
	if (sscanf(line, "out %u", &tag) == 1 && tag < N) {
		node_from[tag]++;
	}
}

static void node_read(void)
{
	node_proc_read(&node, node_line, NULL);
}

static unsigned k_sent;

/* Replicas 1-3 send "i:k" to every other replica. */
static void send_round(void)
{
	for (unsigned i = 0; i < CHILD; i++) {
		char text[32];
		uint8_t input[64];
		size_t len = 0;
		int tlen = snprintf(text, sizeof(text), "%u:%u", i, k_sent);
		bft_nodeset_t others = bft_nodeset_all(N) & ~bft_nodeset_one((bft_node_t)i);
		if (exsend_input(others, (const uint8_t *)text, (size_t)tlen, input, sizeof(input), &len) == BFT_EOK) {
			bftdns_core_submit(c->cores[i], input, len);
		}
	}
	k_sent++;
}

/* Traffic both ways with the child: base counts + want more, within limit_ms. */
static bool traffic_both_ways(const unsigned *cores_base, const unsigned *node_base,
                              unsigned want, unsigned limit_ms)
{
	uint64_t end = cluster_now_ms() + limit_ms;
	while (cluster_now_ms() < end) {
		send_round();
		node_read();
		bool ok = true;
		for (unsigned i = 0; i < CHILD; i++) {
			ok &= cluster_count(&c->rec[i], CHILD) >= cores_base[i] + want;
			ok &= node_from[i] >= node_base[i] + want;
		}
		if (ok) {
			return true;
		}
		cluster_pause_ms(20);
	}
	return false;
}

static void snapshot(unsigned *cores_base, unsigned *node_base)
{
	node_read();
	for (unsigned i = 0; i < CHILD; i++) {
		cores_base[i] = cluster_count(&c->rec[i], CHILD);
		node_base[i] = node_from[i];
	}
}

static void test_kill_restart(void)
{
	unsigned cores_base[N] = { 0 }, node_base[N] = { 0 };
	node_spawn();
	CHECK(traffic_both_ways(cores_base, node_base, 5, 20000));
	printf("replica 4 (pid %d) exchanges messages with replicas 1-3\n", (int)node.pid);

	node_proc_reap(&node, SIGKILL);
	CHECK(node_proc_links(c, CHILD, CHILD, false, 10000));
	printf("replica 4 killed; its links are down\n");
	/* The others carry on among themselves meanwhile. */
	unsigned before = cluster_count(&c->rec[0], 1);
	for (int i = 0; i < 5; i++) {
		send_round();
	}
	bool others_ok = false;
	for (int i = 0; i < 500 && !others_ok; i++) {
		others_ok = cluster_count(&c->rec[0], 1) >= before + 5;
		cluster_pause_ms(10);
	}
	CHECK(others_ok);

	node_spawn();
	CHECK(node_proc_links(c, CHILD, CHILD, true, 20000));
	snapshot(cores_base, node_base);
	CHECK(traffic_both_ways(cores_base, node_base, 5, 20000));
	printf("replica 4 restarted (pid %d); links up, traffic resumed both ways\n", (int)node.pid);
}

static void test_stopped_peer(void)
{
	static uint8_t big[64 << 10];
	uint8_t *input = malloc(sizeof(big) + 4);
	CHECK(input != NULL);
	memset(big, 'x', sizeof(big));
	kill(node.pid, SIGSTOP);
	for (unsigned k = 0; k < 400; k++) {
		size_t len = 0;
		CHECK_EQ(exsend_input(bft_nodeset_one(CHILD), big, sizeof(big), input, sizeof(big) + 4, &len), BFT_EOK);
		int ret = bftdns_core_submit(c->cores[0], input, len);
		if (ret == BFT_EAGAIN) {
			cluster_pause_ms(5);
		}
	}
	free(input);
	bftdns_core_stats_t stats;
	bool refused = false;
	for (int i = 0; i < 1000 && !refused; i++) {
		bftdns_core_stats(c->cores[0], &stats);
		refused = stats.peers[CHILD].refused > 0;
		cluster_pause_ms(10);
	}
	uint64_t queued_max = stats.peers[CHILD].queued_peak;
	CHECK(refused);
	/* It filled up (a refusal means a 64 KiB frame no longer fit) and held. */
	CHECK(queued_max <= SENDQ_MAX && queued_max > SENDQ_MAX - (65u << 10));
	/* What left the queue sits in the kernel's socket buffers, which it bounds. */
	printf("replica 4 stopped: replica 1 queued at most %llu bytes for it (bound %u), "
	       "refused %llu of 400 messages\n", (unsigned long long)queued_max, SENDQ_MAX,
	       (unsigned long long)stats.peers[CHILD].refused);
	kill(node.pid, SIGCONT);
	unsigned cores_base[N], node_base[N];
	snapshot(cores_base, node_base);
	CHECK(traffic_both_ways(cores_base, node_base, 5, 30000));
	printf("replica 4 continued: traffic flows both ways again\n");
}

static void test_silent_peer(void)
{
	kill(node.pid, SIGSTOP);
	CHECK(node_proc_links(c, CHILD, CHILD, false, IDLE_MS * 5));
	CHECK(cluster_log_has(&c->rec[0], "replica 4 (127.0.0.1:") &&
	      cluster_log_has(&c->rec[0], "silent for too long"));
	printf("replica 4 stopped past the idle limit: links dropped as silent\n");
	kill(node.pid, SIGCONT);
	CHECK(node_proc_links(c, CHILD, CHILD, true, 20000));
	unsigned cores_base[N], node_base[N];
	snapshot(cores_base, node_base);
	CHECK(traffic_both_ways(cores_base, node_base, 5, 30000));
	printf("replica 4 continued: links back, traffic both ways\n");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_restart PATH-TO-bftdns-node\n");
		return 2;
	}
	node_path = argv[1];
	signal(SIGPIPE, SIG_IGN);
	c = calloc(1, sizeof(*c));
	CHECK(c != NULL && cluster_make(c, N, 0) == BFT_EOK);
	for (unsigned i = 0; i < CHILD; i++) {
		bftdns_core_conf_t conf;
		cluster_conf(c, i, &exsend_ops, &conf);
		conf.sendq_bytes_max = SENDQ_MAX;
		conf.ping_ms = PING_MS;
		conf.idle_ms = IDLE_MS;
		CHECK_EQ(bftdns_core_start(&conf, &c->cores[i]), BFT_EOK);
	}
	test_kill_restart();
	test_stopped_peer();
	test_silent_peer();
	node_proc_reap(&node, SIGTERM);
	cluster_destroy(c);
	free(c);
	return check_result("test_restart");
}
