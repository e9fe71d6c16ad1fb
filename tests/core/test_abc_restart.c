/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The atomic broadcast with a replica in its own process, killed and
 * restarted. Replicas 1-3 run in this process, replica 4 is bftdns-node
 * with a coin key and a batch log. All four submit requests; replica 4 is
 * killed (SIGKILL, by PID) while requests flow; the other three keep
 * delivering more batches than replica 4's peers can hold messages for;
 * replica 4 is started again on the same log: it resumes after its last
 * logged batch, catches up, and its log ends up byte for byte the batches
 * replicas 1-3 delivered, including requests it submitted after the
 * restart. Nobody reports a fault.
 * Usage: test_abc_restart PATH-TO-bftdns-node
 */

#include "coordinator/proto/batch.h"
#include "tests/core/cluster.h"
#include "tests/core/node_proc.h"
#include "tests/common/check.h"

#define N		4
#define CHILD		3
#define WAIT_MS		60000
#define MISSED		20
#define LOG_MAX		4096

static cluster_t *c;
static node_proc_t node;
static unsigned node_batches;     /* "batch" lines printed */
static long node_resumed = -1;    /* "resumed N", -1 before */
static const char *node_path;
static char log_path[160];
static unsigned k_sent;

static void node_spawn(void)
{
	const char *const extra[] = { "--coin", c->coins[CHILD], "--log", log_path,
	                              "--every", "40", "--lifetime", "100", NULL };
	node_proc_spawn(&node, node_path, c, CHILD, extra);
	node_batches = 0;
	node_resumed = -1;
}

static void node_line(void *ctx, const char *line)
{
	(void)ctx;
	long count = 0;
	node_batches += strncmp(line, "batch ", 6) == 0 ? 1u : 0u;
	if (sscanf(line, "resumed %ld", &count) == 1) {
		node_resumed = count;
	}
}

static void node_read(void)
{
	node_proc_read(&node, node_line, NULL);
}

/* One request at each of replicas 1-3 (unique names: "req 9<i>:<k>"). */
static void send_round(void)
{
	for (unsigned i = 0; i < CHILD; i++) {
		char req[32];
		int len = snprintf(req, sizeof(req), "req 9%u:%u", i, k_sent);
		bftdns_core_submit(c->cores[i], (const uint8_t *)req, (size_t)len);
	}
	k_sent++;
}

static unsigned batches_of(unsigned i)
{
	return cluster_count(&c->rec[i], -1);
}

/* The log file's batches; true if they are a prefix of replica 1's, count in *count. */
static bool log_matches(unsigned *count)
{
	static uint8_t buf[1 << 20];
	*count = 0;
	FILE *in = fopen(log_path, "rb");
	if (in == NULL) {
		return false;
	}
	bool same = true;
	cluster_rec_t *rec = &c->rec[0];
	pthread_mutex_lock(&rec->lock);
	for (;;) {
		uint8_t hdr[4];
		if (fread(hdr, 1, 4, in) != 4) {
			break;
		}
		size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
		if (len > sizeof(buf) || fread(buf, 1, len, in) != len) {
			break;  /* cut short: the node is writing it now */
		}
		unsigned k = (*count)++;
		same &= k < rec->count && rec->lens[k] == len && memcmp(rec->data[k], buf, len) == 0;
	}
	pthread_mutex_unlock(&rec->lock);
	fclose(in);
	return same;
}

/* Requests that replica 1 delivered and that start with prefix, after batch `from`. */
static unsigned delivered_with(const char *prefix, unsigned from)
{
	unsigned found = 0;
	cluster_rec_t *rec = &c->rec[0];
	pthread_mutex_lock(&rec->lock);
	for (unsigned k = from; k < rec->count; k++) {
		batch_reader_t br;
		if (batch_reader_open(&br, (const uint8_t *)rec->data[k], rec->lens[k]) != BFT_EOK) {
			continue;
		}
		bft_node_t p, o;
		const uint8_t *req;
		size_t len;
		while (batch_reader_next(&br, &p, &o, &req, &len)) {
			found += len >= strlen(prefix) && memcmp(req, prefix, strlen(prefix)) == 0;
		}
	}
	pthread_mutex_unlock(&rec->lock);
	return found;
}

static void test_kill_restart(void)
{
	node_spawn();
	uint64_t end = cluster_now_ms() + WAIT_MS;
	while (cluster_now_ms() < end && (node_batches < 5 || batches_of(0) < 5)) {
		send_round();
		node_read();
		cluster_pause_ms(20);
	}
	CHECK(node_batches >= 5);
	printf("replica 4 (pid %d) delivered %u batches with replicas 1-3\n", (int)node.pid,
	       node_batches);

	node_proc_reap(&node, SIGKILL);
	CHECK(node_proc_links(c, CHILD, CHILD, false, 10000));
	/* Its log may hold a batch replica 1 has not delivered yet: wait for it. */
	unsigned logged = 0;
	bool matches = false;
	end = cluster_now_ms() + WAIT_MS;
	while (!(matches = log_matches(&logged)) && cluster_now_ms() < end) {
		cluster_pause_ms(10);
	}
	CHECK(matches);
	/* The others go on: MISSED more batches, one request at a time. */
	unsigned base = batches_of(0);
	end = cluster_now_ms() + WAIT_MS;
	while (cluster_now_ms() < end && batches_of(0) < base + MISSED) {
		unsigned before = batches_of(0);
		send_round();
		for (int i = 0; i < 500 && batches_of(0) == before; i++) {
			cluster_pause_ms(2);
		}
	}
	CHECK(batches_of(0) >= base + MISSED);
	printf("replica 4 killed after logging %u batches; replicas 1-3 delivered %u more\n",
	       logged, batches_of(0) - base);

	unsigned restart_at = batches_of(0);
	node_spawn();
	char own[32];
	snprintf(own, sizeof(own), "req %u:", CHILD);
	unsigned count = 0;
	bool caught_up = false;
	end = cluster_now_ms() + WAIT_MS;
	while (cluster_now_ms() < end && !caught_up) {
		send_round();
		node_read();
		cluster_pause_ms(20);
		caught_up = log_matches(&count) && count >= restart_at + 3 &&
		            delivered_with(own, restart_at) >= 3;
	}
	CHECK(caught_up);
	CHECK_EQ(node_resumed, logged);
	printf("replica 4 restarted (pid %d): resumed after %ld batches; its log now holds %u "
	       "batches, identical to replicas 1-3's, with %u of its new requests\n",
	       (int)node.pid, node_resumed, count, delivered_with(own, restart_at));
	for (unsigned i = 0; i < CHILD; i++) {
		bftdns_core_stats_t st;
		bftdns_core_stats(c->cores[i], &st);
		CHECK_EQ(st.faults, 0);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_abc_restart PATH-TO-bftdns-node\n");
		return 2;
	}
	node_path = argv[1];
	signal(SIGPIPE, SIG_IGN);
	c = calloc(1, sizeof(*c));
	CHECK(c != NULL && cluster_make(c, N, 0) == BFT_EOK && cluster_make_coin(c) == BFT_EOK);
	snprintf(log_path, sizeof(log_path), "%s/batches-4.log", c->dir);
	for (unsigned i = 0; i < CHILD; i++) {
		bftdns_core_conf_t conf;
		cluster_conf_abc(c, i, &conf);
		CHECK_EQ(bftdns_core_start(&conf, &c->cores[i]), BFT_EOK);
	}
	test_kill_restart();
	node_proc_reap(&node, SIGTERM);
	cluster_destroy(c);
	free(c);
	return check_result("test_abc_restart");
}
