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
 * --votes on gives every coordinator a vote log (conf.vote_dir, in the
 * cluster's temporary directory, so on the disk /tmp is on) and adds the
 * vote records and bytes written per batch; --votes both runs each n four
 * times, off, on, on, off (alternating, so that a change of the machine's
 * load during the runs weighs on both alike), and prints the means of each
 * and the ratios on/off. --summary FILE then writes the ratios as
 * "metric<TAB>value" lines (tests/bench/summary.sh).
 *
 *   bench-abc-net [--n 4,7,10,16] [--latency 100] [--requests 5000]
 *                 [--size 200] [--batch 64] [--votes off|on|both]
 *                 [--summary FILE]
 * Figures are printed, never asserted.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <string.h>

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

typedef struct {
	unsigned lat_count, requests;
	size_t size;
	uint32_t batch;
} bench_opts_t;

/* The figures of one run of one n. */
typedef struct {
	double lat_med, lat_p95;      /* ms, idle */
	double rps;                   /* load */
	double load_med, load_p95;    /* ms, under load */
	double cpu;                   /* s, the whole process, load phase */
	uint64_t batches;             /* load phase, at replica 1 */
	uint64_t msgs, bytes;         /* load phase, all replicas */
	uint64_t vote_recs, vote_bytes;  /* load phase, all replicas' vote logs */
	bool failed;
} bench_run_t;

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

/* Records and bytes appended to the vote logs of all replicas (0 without). */
static void votelog_totals(cluster_t *c, uint64_t *recs, uint64_t *bytes)
{
	*recs = *bytes = 0;
	for (unsigned i = 0; i < c->n; i++) {
		bftdns_core_stats_t st;
		bftdns_core_stats(c->cores[i], &st);
		if (st.votelog_on) {
			*recs += st.votelog.appended;
			*bytes += st.votelog.appended_bytes;
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

static double per_batch(uint64_t count, uint64_t batches)
{
	return batches > 0 ? (double)count / (double)batches : 0.0;
}

static void run_print(unsigned n, const bench_opts_t *o, bool votes, const bench_run_t *r)
{
	printf("n=%2u f=%u votes %-3s: latency %6.1f ms median %6.1f p95 | load %u x %zu B: "
	       "%7.0f req/s, latency %6.1f ms median %6.1f p95, %4" PRIu64 " batches, "
	       "%6.0f msgs/batch, %8.0f B/batch, CPU %.0f ms",
	       n, (n - 1) / 3, votes ? "on" : "off", r->lat_med, r->lat_p95, o->requests, o->size,
	       r->rps, r->load_med, r->load_p95, r->batches, per_batch(r->msgs, r->batches),
	       per_batch(r->bytes, r->batches), r->cpu * 1e3);
	if (votes) {
		printf(", %.0f vote records/batch, %.0f vote B/batch",
		       per_batch(r->vote_recs, r->batches), per_batch(r->vote_bytes, r->batches));
	}
	printf("%s\n", r->failed ? " (FAILED: not everything was delivered)" : "");
	fflush(stdout);
}

/* One run of n coordinators, each with a vote log if votes; figures in *r. */
static int bench_n(unsigned n, const bench_opts_t *o, bool votes, bench_run_t *r)
{
	memset(r, 0, sizeof(*r));
	cluster_t *c = calloc(1, sizeof(*c));
	if (c == NULL || cluster_make(c, n, 0) != BFT_EOK || cluster_make_coin(c) != BFT_EOK) {
		free(c);
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
		char vote_dir[160];
		cluster_conf_abc(c, i, &conf);
		nodes[i].self = i;
		conf.deliver = bench_deliver;
		conf.deliver_ctx = &nodes[i];
		conf.log.fn = bench_log;
		conf.log.level_max = LOG_WARNING;
		conf.batch_max = o->batch;
		if (votes) {
			snprintf(vote_dir, sizeof(vote_dir), "%s/votes-%u", c->dir, i + 1);
			conf.vote_dir = vote_dir;   /* read during the start only */
		}
		failed = bftdns_core_start(&conf, &c->cores[i]) != BFT_EOK;
	}
	if (failed || !cluster_wait(links_up, c, 30000)) {
		fprintf(stderr, "n=%u: the cluster did not come up\n", n);
		cluster_destroy(c);
		free(c);
		return 1;
	}
	/* Latency: one request at a time. */
	unsigned id = 0;
	for (; id < o->lat_count && !failed; id++) {
		failed = !submit_one(c, id, o->size) || !wait_all(c, id + 1, 60000);
	}
	percentiles(0, o->lat_count, &r->lat_med, &r->lat_p95);
	/* Load: everything at once. */
	uint64_t m0, b0, m1, b1, v0, vb0, v1, vb1;
	uint64_t batches0 = atomic_load(&nodes[0].batches);
	link_totals(c, &m0, &b0);
	votelog_totals(c, &v0, &vb0);
	double cpu0 = cpu_seconds();
	uint64_t t0 = now_ns();
	for (unsigned k = 0; k < o->requests && !failed; k++) {
		failed = !submit_one(c, o->lat_count + k, o->size);
	}
	failed = failed || !wait_all(c, o->lat_count + o->requests, wait_ms);
	double secs = (double)(now_ns() - t0) / 1e9;
	r->cpu = cpu_seconds() - cpu0;
	link_totals(c, &m1, &b1);
	votelog_totals(c, &v1, &vb1);
	r->batches = atomic_load(&nodes[0].batches) - batches0;
	r->rps = secs > 0 ? o->requests / secs : 0.0;
	r->msgs = m1 - m0;
	r->bytes = b1 - b0;
	r->vote_recs = v1 - v0;
	r->vote_bytes = vb1 - vb0;
	r->failed = failed;
	percentiles(o->lat_count, o->requests, &r->load_med, &r->load_p95);
	run_print(n, o, votes, r);
	for (unsigned i = 0; failed && i < n; i++) {
		bftdns_core_stats_t st;
		bftdns_core_stats(c->cores[i], &st);
		printf("  replica %u: batch %" PRIu64 ", %zu pending, %" PRIu64 " requests delivered, "
		       "%" PRIu64 " inputs, %" PRIu64 " faults, %" PRIu64 " ignored%s\n", i + 1,
		       st.abc.epoch, st.abc.pending, (uint64_t)atomic_load(&nodes[i].delivered),
		       st.inputs, st.faults, st.abc.inputs_ignored,
		       st.votes_muted ? ", muted (a vote could not be logged)" : "");
	}
	fflush(stdout);
	cluster_destroy(c);
	free(c);
	return failed;
}

static void run_add(bench_run_t *sum, const bench_run_t *r)
{
	sum->lat_med += r->lat_med;
	sum->lat_p95 += r->lat_p95;
	sum->rps += r->rps;
	sum->load_med += r->load_med;
	sum->load_p95 += r->load_p95;
	sum->cpu += r->cpu;
	sum->batches += r->batches;
	sum->msgs += r->msgs;
	sum->bytes += r->bytes;
	sum->vote_recs += r->vote_recs;
	sum->vote_bytes += r->vote_bytes;
}

static double ratio(double on, double off)
{
	return off > 0 ? on / off : 0.0;
}

static double load_avg(void)
{
	double avg = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f != NULL) {
		if (fscanf(f, "%lf", &avg) != 1) {
			avg = -1;
		}
		fclose(f);
	}
	return avg;
}

/*
 * n without and with vote logs, alternately (off, on, on, off): the means of
 * each and the ratios on/off (req/s below 1 and CPU per request above 1 are
 * the log's cost). Latencies are means of the runs' medians.
 */
static int bench_votes_both(unsigned n, const bench_opts_t *o, FILE *summary)
{
	static const bool order[] = { false, true, true, false };
	bench_run_t sum[2] = { { 0 } }, r;
	unsigned runs[2] = { 0, 0 };
	int failed = 0;
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		failed |= bench_n(n, o, order[k], &r);
		run_add(&sum[order[k]], &r);
		runs[order[k]]++;
	}
	const bench_run_t *off = &sum[0], *on = &sum[1];
	double cpu_req_off = off->cpu / runs[0] / o->requests * 1e6;
	double cpu_req_on = on->cpu / runs[1] / o->requests * 1e6;
	printf("n=%2u votes on/off (means of %u and %u runs): %7.0f / %7.0f req/s = %.3f, "
	       "CPU %.1f / %.1f us/request = %.3f, latency idle %.2f / %.2f ms = %.3f, "
	       "under load %.1f / %.1f ms = %.3f, %.0f vote records and %.0f vote B per batch "
	       "(all replicas)%s\n",
	       n, runs[0], runs[1], on->rps / runs[1], off->rps / runs[0],
	       ratio(on->rps / runs[1], off->rps / runs[0]),
	       cpu_req_on, cpu_req_off, ratio(cpu_req_on, cpu_req_off),
	       on->lat_med / runs[1], off->lat_med / runs[0],
	       ratio(on->lat_med / runs[1], off->lat_med / runs[0]),
	       on->load_med / runs[1], off->load_med / runs[0],
	       ratio(on->load_med / runs[1], off->load_med / runs[0]),
	       per_batch(on->vote_recs, on->batches), per_batch(on->vote_bytes, on->batches),
	       failed ? " (FAILED: a run did not deliver everything)" : "");
	fflush(stdout);
	if (summary != NULL && !failed) {
		fprintf(summary, "abc_net_votelog_ratio_n%u\t%.3f\n", n,
		        ratio(on->rps / runs[1], off->rps / runs[0]));
		fprintf(summary, "abc_net_votelog_cpu_ratio_n%u\t%.3f\n", n,
		        ratio(cpu_req_on, cpu_req_off));
		fprintf(summary, "abc_net_votelog_records_per_batch_n%u\t%.0f\n", n,
		        per_batch(on->vote_recs, on->batches));
		fprintf(summary, "abc_net_votelog_bytes_per_batch_n%u\t%.0f\n", n,
		        per_batch(on->vote_bytes, on->batches));
	}
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
		{ "votes", required_argument, NULL, 'v' },
		{ "summary", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	char ns_text[128] = "4,7,10,16";
	bench_opts_t o = { .lat_count = 100, .requests = 5000, .size = 200, .batch = 64 };
	const char *votes = "off", *summary_path = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': snprintf(ns_text, sizeof(ns_text), "%s", optarg); break;
		case 'l': o.lat_count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.requests = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': o.size = strtoul(optarg, NULL, 10); break;
		case 'b': o.batch = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'v': votes = optarg; break;
		case 'S': summary_path = optarg; break;
		default: return 2;
		}
	}
	if (getenv("BENCH_WAIT_MS") != NULL) {
		wait_ms = (unsigned)strtoul(getenv("BENCH_WAIT_MS"), NULL, 10);
	}
	bool votes_on = strcmp(votes, "on") == 0, votes_both = strcmp(votes, "both") == 0;
	if (o.lat_count == 0 || o.requests == 0 || o.lat_count + o.requests > REQ_MAX ||
	    o.size < SIZE_MIN || o.size > BATCH_REQUEST_MAX || o.batch == 0 ||
	    o.batch > BATCH_PROPOSAL_REQUESTS_MAX ||
	    (!votes_on && !votes_both && strcmp(votes, "off") != 0)) {
		fprintf(stderr, "usage: bench-abc-net [--n 4,7,10,16] [--latency L] [--requests R] "
		                "[--size %u..%u] [--batch 1..%u] [--votes off|on|both] "
		                "[--summary FILE]\n", SIZE_MIN, BATCH_REQUEST_MAX,
		        BATCH_PROPOSAL_REQUESTS_MAX);
		return 2;
	}
	FILE *summary = NULL;
	if (summary_path != NULL && (summary = fopen(summary_path, "w")) == NULL) {
		fprintf(stderr, "bench-abc-net: cannot write %s: %s\n", summary_path, strerror(errno));
		return 2;
	}
	double load0 = load_avg();
	printf("bench-abc-net: n coordinators as threads of one process on 127.0.0.1 (%ld CPUs), "
	       "proposals of up to %u requests, vote logs %s, load average %.2f\n",
	       sysconf(_SC_NPROCESSORS_ONLN), o.batch, votes, load0);
	int failed = 0;
	for (char *save = NULL, *tok = strtok_r(ns_text, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned n = (unsigned)strtoul(tok, NULL, 10);
		if (n < 1 || n > BFT_NODES_MAX) {
			fprintf(stderr, "bench-abc-net: n must be 1..%u\n", BFT_NODES_MAX);
			return 2;
		}
		if (votes_both) {
			failed |= bench_votes_both(n, &o, summary);
		} else {
			bench_run_t r;
			failed |= bench_n(n, &o, votes_on, &r);
		}
	}
	double load1 = load_avg();
	printf("bench-abc-net: load average %.2f at the start, %.2f at the end\n", load0, load1);
	if (summary != NULL) {
		if (votes_both && !failed) {
			fprintf(summary, "abc_net_votelog_load_avg\t%.2f\n", (load0 + load1) / 2);
		}
		fclose(summary);
	}
	return failed;
}
