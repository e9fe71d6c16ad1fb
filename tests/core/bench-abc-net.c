/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bench-abc-net (./run.sh bench abc-net): the atomic broadcast over the TLS
 * links, n coordinators as threads of this one process on 127.0.0.1 (so
 * they share this machine's CPUs: the figures are for the whole replica
 * group on one box, not for one replica on its own machine).
 *
 * For each n (default 4, 7, 10, 16):
 * - latency: LAT requests one after another, each given to replica
 *   k mod n and awaited there; the time from submit to its delivery at
 *   that replica (median, p95);
 * - load: REQ requests of SIZE bytes given as fast as the inboxes take
 *   them, round robin over the replicas; requests/s until every replica
 *   delivered all of them, submit-to-delivery latency under that load
 *   (median, p95), batches, and the messages and bytes all replicas sent
 *   per batch (from the links' counters, TLS framing excluded).
 *
 *   bench-abc-net [--n 4,7,10,16] [--latency 100] [--requests 5000]
 *                 [--size 200] [--batch 64]
 * Figures are printed, never asserted.
 */

#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>

#include "coordinator/proto/batch.h"
#include "tests/core/cluster.h"

#define REQ_MAX		200000
#define SIZE_MIN	16

typedef struct {
	unsigned self;
	atomic_uint_fast64_t delivered;     /* requests seen (all origins) */
	atomic_uint_fast64_t batches;
} node_t;

static uint64_t submit_ns[REQ_MAX];
static _Atomic uint64_t deliver_ns[REQ_MAX];   /* at the replica it was given to */
static node_t nodes[BFT_NODES_MAX];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Requests are "bench <id> " padded to the size; the origin's delivery time counts. */
static void bench_deliver(void *ctx, uint32_t tag, const uint8_t *data, size_t len)
{
	node_t *node = ctx;
	batch_reader_t br;
	if (tag != BFTDNS_CORE_OUT_BATCH || batch_reader_open(&br, data, len) != BFT_EOK) {
		return;
	}
	uint64_t t = now_ns();
	bft_node_t proposer, origin;
	const uint8_t *req;
	size_t req_len;
	while (batch_reader_next(&br, &proposer, &origin, &req, &req_len)) {
		unsigned id = 0;
		char head[24];
		size_t l = req_len < sizeof(head) - 1 ? req_len : sizeof(head) - 1;
		memcpy(head, req, l);
		head[l] = '\0';
		if (origin == node->self && sscanf(head, "bench %u", &id) == 1 && id < REQ_MAX) {
			atomic_store(&deliver_ns[id], t);
		}
		atomic_fetch_add(&node->delivered, 1);
	}
	atomic_fetch_add(&node->batches, 1);
}

static void bench_log(void *ctx, int level, const char *line)
{
	if (level <= LOG_WARNING) {
		fprintf(stderr, "bench-abc-net: %s\n", line);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Median and p95 of the latencies of ids [first, first + count), in ms. */
static void percentiles(unsigned first, unsigned count, double *median, double *p95)
{
	uint64_t *lat = calloc(count, sizeof(*lat));
	unsigned got = 0;
	for (unsigned i = 0; lat != NULL && i < count; i++) {
		uint64_t d = atomic_load(&deliver_ns[first + i]);
		if (d >= submit_ns[first + i] && d != 0) {
			lat[got++] = d - submit_ns[first + i];
		}
	}
	*median = *p95 = 0;
	if (got > 0) {
		qsort(lat, got, sizeof(*lat), cmp_u64);
		*median = (double)lat[(got - 1) / 2] / 1e6;
		*p95 = (double)lat[(got * 95 + 99) / 100 - 1] / 1e6;
	}
	free(lat);
}

static bool submit_one(cluster_t *c, unsigned id, size_t size)
{
	char req[65536];
	unsigned i = id % c->n;
	int head = snprintf(req, sizeof(req), "bench %u ", id);
	memset(req + head, 'x', size - (size_t)head);
	submit_ns[id] = now_ns();
	for (int tries = 0; tries < 100000; tries++) {
		int ret = bftdns_core_submit(c->cores[i], (const uint8_t *)req, size);
		if (ret == BFT_EOK) {
			return true;
		}
		if (ret != BFT_EAGAIN) {
			return false;
		}
		cluster_pause_ms(1);
		submit_ns[id] = now_ns();   /* back-pressure is not the protocol's latency */
	}
	return false;
}

static bool all_delivered(cluster_t *c, uint64_t want)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (atomic_load(&nodes[i].delivered) < want) {
			return false;
		}
	}
	return true;
}

static bool wait_all(cluster_t *c, uint64_t want, unsigned limit_ms)
{
	uint64_t end = cluster_now_ms() + limit_ms;
	while (!all_delivered(c, want)) {
		if (cluster_now_ms() >= end) {
			return false;
		}
		cluster_pause_ms(1);
	}
	return true;
}

static void link_totals(cluster_t *c, uint64_t *msgs, uint64_t *bytes)
{
	*msgs = *bytes = 0;
	for (unsigned i = 0; i < c->n; i++) {
		bftdns_core_stats_t st;
		bftdns_core_stats(c->cores[i], &st);
		for (unsigned j = 0; j < c->n; j++) {
			*msgs += st.peers[j].msgs_out;
			*bytes += st.peers[j].bytes_out;
		}
	}
}

static bool links_up(void *ctx)
{
	cluster_t *c = ctx;
	for (unsigned i = 0; i < c->n; i++) {
		if (bftdns_core_links_up(c->cores[i]) != (bft_nodeset_all(c->n) & ~bft_nodeset_one((bft_node_t)i))) {
			return false;
		}
	}
	return true;
}

static unsigned wait_ms = 600000;

static int bench_n(unsigned n, unsigned lat_count, unsigned requests, size_t size, uint32_t batch)
{
	cluster_t *c = calloc(1, sizeof(*c));
	if (c == NULL || cluster_make(c, n, 0) != BFT_EOK || cluster_make_coin(c) != BFT_EOK) {
		return 1;
	}
	memset(nodes, 0, sizeof(nodes));
	memset(submit_ns, 0, sizeof(submit_ns));
	for (unsigned i = 0; i < REQ_MAX; i++) {
		atomic_store(&deliver_ns[i], 0);
	}
	int failed = 0;
	for (unsigned i = 0; i < n && !failed; i++) {
		bftdns_core_conf_t conf;
		cluster_conf_abc(c, i, &conf);
		nodes[i].self = i;
		conf.deliver = bench_deliver;
		conf.deliver_ctx = &nodes[i];
		conf.log.fn = bench_log;
		conf.log.level_max = LOG_WARNING;
		conf.batch_max = batch;
		failed = bftdns_core_start(&conf, &c->cores[i]) != BFT_EOK;
	}
	if (failed || !cluster_wait(links_up, c, 30000)) {
		fprintf(stderr, "n=%u: the cluster did not come up\n", n);
		cluster_destroy(c);
		free(c);
		return 1;
	}
	/* Latency: one request at a time. */
	uint64_t m0, b0, m1, b1;
	unsigned id = 0;
	for (; id < lat_count && !failed; id++) {
		failed = !submit_one(c, id, size) || !wait_all(c, id + 1, 60000);
	}
	double lat_med, lat_p95;
	percentiles(0, lat_count, &lat_med, &lat_p95);
	/* Load: everything at once. */
	uint64_t batches0 = atomic_load(&nodes[0].batches);
	link_totals(c, &m0, &b0);
	double cpu0 = cpu_seconds();
	uint64_t t0 = now_ns();
	for (unsigned k = 0; k < requests && !failed; k++) {
		failed = !submit_one(c, lat_count + k, size);
	}
	failed = failed || !wait_all(c, lat_count + requests, wait_ms);
	double secs = (double)(now_ns() - t0) / 1e9, cpu = cpu_seconds() - cpu0;
	link_totals(c, &m1, &b1);
	uint64_t batches = atomic_load(&nodes[0].batches) - batches0;
	double load_med, load_p95;
	percentiles(lat_count, requests, &load_med, &load_p95);
	printf("n=%2u f=%u: latency %6.1f ms median %6.1f p95 | load %u x %zu B: %7.0f req/s, "
	       "latency %6.1f ms median %6.1f p95, %4" PRIu64 " batches, %6.0f msgs/batch, "
	       "%8.0f B/batch, CPU %.1f s%s\n",
	       n, (n - 1) / 3, lat_med, lat_p95, requests, size,
	       secs > 0 ? requests / secs : 0.0, load_med, load_p95, batches,
	       batches > 0 ? (double)(m1 - m0) / (double)batches : 0.0,
	       batches > 0 ? (double)(b1 - b0) / (double)batches : 0.0, cpu,
	       failed ? " (FAILED: not everything was delivered)" : "");
	for (unsigned i = 0; failed && i < n; i++) {
		bftdns_core_stats_t st;
		bftdns_core_stats(c->cores[i], &st);
		printf("  replica %u: batch %" PRIu64 ", %zu pending, %" PRIu64 " requests delivered, "
		       "%" PRIu64 " inputs, %" PRIu64 " faults, %" PRIu64 " ignored\n", i + 1,
		       st.abc.epoch, st.abc.pending, (uint64_t)atomic_load(&nodes[i].delivered),
		       st.inputs, st.faults, st.abc.inputs_ignored);
	}
	fflush(stdout);
	cluster_destroy(c);
	free(c);
	return failed;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "latency", required_argument, NULL, 'l' },
		{ "requests", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	char ns_text[128] = "4,7,10,16";
	unsigned lat_count = 100, requests = 5000;
	size_t size = 200;
	uint32_t batch = 64;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': snprintf(ns_text, sizeof(ns_text), "%s", optarg); break;
		case 'l': lat_count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': requests = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': size = strtoul(optarg, NULL, 10); break;
		case 'b': batch = (uint32_t)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (getenv("BENCH_WAIT_MS") != NULL) {
		wait_ms = (unsigned)strtoul(getenv("BENCH_WAIT_MS"), NULL, 10);
	}
	if (lat_count == 0 || requests == 0 || lat_count + requests > REQ_MAX || size < SIZE_MIN ||
	    size > BATCH_REQUEST_MAX || batch == 0 || batch > BATCH_PROPOSAL_REQUESTS_MAX) {
		fprintf(stderr, "usage: bench-abc-net [--n 4,7,10,16] [--latency L] [--requests R] "
		                "[--size %u..%u] [--batch 1..%u]\n", SIZE_MIN, BATCH_REQUEST_MAX,
		        BATCH_PROPOSAL_REQUESTS_MAX);
		return 2;
	}
	printf("bench-abc-net: n coordinators as threads of one process on 127.0.0.1 (%ld CPUs), "
	       "proposals of up to %u requests\n", sysconf(_SC_NPROCESSORS_ONLN), batch);
	int failed = 0;
	for (char *save = NULL, *tok = strtok_r(ns_text, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned n = (unsigned)strtoul(tok, NULL, 10);
		if (n < 1 || n > BFT_NODES_MAX) {
			fprintf(stderr, "bench-abc-net: n must be 1..%u\n", BFT_NODES_MAX);
			return 2;
		}
		failed |= bench_n(n, lat_count, requests, size, batch);
	}
	return failed;
}
