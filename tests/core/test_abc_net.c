/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The atomic broadcast for real: n coordinators in one process (threads),
 * each with its own link key and coin key file, over TLS on 127.0.0.1.
 * - n = 4 and n = 7: four threads submit requests concurrently at
 *   different replicas, every fifth one at two replicas; every replica
 *   delivers the same batches (bytes: batch numbers 0, 1, 2... without a
 *   gap, agreed times, requests and their order), each request once, with
 *   agreed times that never go back and lie within the test's wall clock;
 * - 3000 requests at one replica: back-pressure (the core keeps what the
 *   protocol cannot take yet), none lost;
 * - f replicas stopped: the others keep delivering, identically;
 * - a replica stopped and started again from the batches it delivered
 *   (conf.resume) catches up with what it missed (it fetches, it does not
 *   replay the protocol) and then delivers new requests like the others,
 *   its own included;
 * - a replica that missed more batches than its peers keep says it needs
 *   a state transfer and delivers nothing wrong (only the batches it could
 *   still agree on from messages queued for it); the others go on;
 * - every replica stopped and started again from its batches and its vote
 *   log (conf.vote_dir) gives its votes back, takes part at once, and all
 *   go on delivering the same batches;
 * - no replica reports a fault of another (all are correct).
 * Usage: test_abc_net [quick]   (quick: n = 4 only)
 */

#include <inttypes.h>

#include "coordinator/proto/batch.h"
#include "tests/core/cluster.h"
#include "tests/common/check.h"

#define WAIT_MS		60000
#define THREADS		4
#define IDS_MAX		4096
/* Batches a stopped replica misses (see test_restart). */
#define MISSED		16

typedef struct {
	unsigned batches;
	unsigned requests;          /* delivered, counting repeats */
	unsigned distinct;
	bool ok;                    /* numbering, time and no repeat all fine */
	char why[160];
} scan_t;

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t test_start_wall;

/* Request ids: "req <id>" with id < IDS_MAX. */
static int request_id(const uint8_t *req, size_t len)
{
	char text[32];
	unsigned id = 0;
	if (len >= sizeof(text)) {
		return -1;
	}
	memcpy(text, req, len);
	text[len] = '\0';
	return sscanf(text, "req %u", &id) == 1 && id < IDS_MAX ? (int)id : -1;
}

/* Reads every batch replica rec delivered: numbering, time, repeats. */
static void scan(cluster_rec_t *rec, scan_t *out)
{
	static uint8_t seen[IDS_MAX];
	memset(out, 0, sizeof(*out));
	memset(seen, 0, sizeof(seen));
	out->ok = true;
	uint64_t prev_time = 0, now = wall_ms();
	pthread_mutex_lock(&rec->lock);
	for (unsigned k = 0; k < rec->count && out->ok; k++) {
		batch_reader_t br;
		if (rec->tags[k] != BFTDNS_CORE_OUT_BATCH || rec->data[k] == NULL ||
		    batch_reader_open(&br, (const uint8_t *)rec->data[k], rec->lens[k]) != BFT_EOK ||
		    br.epoch != k) {
			snprintf(out->why, sizeof(out->why), "output %u is not batch %u", k, k);
			out->ok = false;
			break;
		}
		if (br.time_ms < prev_time || br.time_ms + 5000 < test_start_wall || br.time_ms > now + 5000) {
			snprintf(out->why, sizeof(out->why), "batch %u: time %" PRIu64 " (previous %"
			         PRIu64 ", test began %" PRIu64 ")", k, br.time_ms, prev_time, test_start_wall);
			out->ok = false;
		}
		prev_time = br.time_ms;
		bft_node_t proposer, origin;
		const uint8_t *req;
		size_t len;
		while (batch_reader_next(&br, &proposer, &origin, &req, &len)) {
			int id = request_id(req, len);
			out->requests++;
			if (id < 0 || seen[id]++ > 0) {
				snprintf(out->why, sizeof(out->why), "batch %u: request '%.*s' unknown or "
				         "delivered twice", k, (int)(len < 20 ? len : 20), (const char *)req);
				out->ok = false;
			} else {
				out->distinct++;
			}
		}
		out->batches++;
	}
	pthread_mutex_unlock(&rec->lock);
}

/* Replicas a and b delivered the same bytes as far as both went. */
static bool same_batches(cluster_t *c, unsigned a, unsigned b)
{
	if (a == b) {
		return true;
	}
	cluster_rec_t *ra = &c->rec[a < b ? a : b], *rb = &c->rec[a < b ? b : a];
	bool same = true;
	pthread_mutex_lock(&ra->lock);
	pthread_mutex_lock(&rb->lock);
	unsigned count = ra->count < rb->count ? ra->count : rb->count;
	for (unsigned k = 0; k < count && same; k++) {
		same = ra->tags[k] == rb->tags[k] && ra->lens[k] == rb->lens[k] &&
		       memcmp(ra->data[k], rb->data[k], ra->lens[k]) == 0;
	}
	pthread_mutex_unlock(&rb->lock);
	pthread_mutex_unlock(&ra->lock);
	return same;
}

typedef struct {
	cluster_t *c;
	bft_nodeset_t who;
	unsigned want;              /* distinct requests */
} wait_t;

static bool delivered_all(void *ctx)
{
	wait_t *w = ctx;
	for (unsigned i = 0; i < w->c->n; i++) {
		scan_t s;
		if (!bft_nodeset_has(w->who, (bft_node_t)i)) {
			continue;
		}
		scan(&w->c->rec[i], &s);
		if (!s.ok || s.distinct < w->want) {
			return false;
		}
	}
	return true;
}

static bool wait_delivered(cluster_t *c, bft_nodeset_t who, unsigned want)
{
	wait_t w = { .c = c, .who = who, .want = want };
	return cluster_wait(delivered_all, &w, WAIT_MS);
}

/* Submits "req id" at replica i; the inbox is bounded, so a full one is
 * retried (bounded). Any thread: the caller checks the result. */
static int submit_at(cluster_t *c, unsigned i, unsigned id)
{
	char text[32];
	int len = snprintf(text, sizeof(text), "req %u", id);
	int ret = BFT_EAGAIN;
	for (int tries = 0; ret == BFT_EAGAIN && tries < 5000; tries++) {
		ret = bftdns_core_submit(c->cores[i], (const uint8_t *)text, (size_t)len);
		if (ret == BFT_EAGAIN) {
			cluster_pause_ms(1);
		}
	}
	return ret;
}

static void submit(cluster_t *c, unsigned i, unsigned id)
{
	CHECK_EQ(submit_at(c, i, id), BFT_EOK);
}

typedef struct {
	cluster_t *c;
	unsigned thread;
	unsigned first, count;      /* ids first .. first + count - 1 */
	bft_nodeset_t at;           /* replicas to submit at */
	unsigned failed;            /* submissions refused (checked by the main thread) */
} submitter_t;

static void *submitter_main(void *arg)
{
	submitter_t *s = arg;
	unsigned n = s->c->n, live = bft_nodeset_count(s->at), k = 0;
	bft_node_t order[BFT_NODES_MAX];
	for (bft_node_t i = 0; i < n; i++) {
		if (bft_nodeset_has(s->at, i)) {
			order[k++] = i;
		}
	}
	for (unsigned j = 0; j < s->count; j++) {
		unsigned id = s->first + j;
		unsigned i = order[(s->thread + j) % live];
		s->failed += submit_at(s->c, i, id) != BFT_EOK ? 1u : 0u;
		/* Every fifth request reaches a second replica too: once in the order. */
		if (j % 5 == 0 && live > 1) {
			s->failed += submit_at(s->c, order[(s->thread + j + 1) % live], id) != BFT_EOK;
		}
	}
	return NULL;
}

/* THREADS threads submit `per_thread` requests each, ids from `first`, at replicas `at`. */
static void submit_concurrently(cluster_t *c, bft_nodeset_t at, unsigned first, unsigned per_thread)
{
	pthread_t threads[THREADS];
	submitter_t subs[THREADS];
	for (unsigned t = 0; t < THREADS; t++) {
		subs[t] = (submitter_t){ .c = c, .thread = t, .first = first + t * per_thread,
		                         .count = per_thread, .at = at };
		CHECK_EQ(pthread_create(&threads[t], NULL, submitter_main, &subs[t]), 0);
	}
	for (unsigned t = 0; t < THREADS; t++) {
		pthread_join(threads[t], NULL);
		CHECK_EQ(subs[t].failed, 0);
	}
}

static void start_one(cluster_t *c, unsigned i, uint32_t retain, const bftdns_core_batch_t *resume,
                      size_t resume_count)
{
	bftdns_core_conf_t conf;
	cluster_conf_abc(c, i, &conf);
	conf.retain_max = retain;
	conf.resume = resume;
	conf.resume_count = resume_count;
	conf.batch_max = 16;
	CHECK_EQ(bftdns_core_start(&conf, &c->cores[i]), BFT_EOK);
}

static cluster_t *start_cluster(unsigned n, uint32_t retain)
{
	cluster_t *c = calloc(1, sizeof(*c));
	CHECK(c != NULL);
	CHECK_EQ(cluster_make(c, n, 0), BFT_EOK);
	CHECK_EQ(cluster_make_coin(c), BFT_EOK);
	for (unsigned i = 0; i < n; i++) {
		start_one(c, i, retain, NULL, 0);
	}
	return c;
}

/* All of `who` agree byte for byte, and none reported a fault. */
static void check_agree(cluster_t *c, bft_nodeset_t who)
{
	unsigned first = (unsigned)__builtin_ctz(who);
	for (unsigned i = 0; i < c->n; i++) {
		if (!bft_nodeset_has(who, (bft_node_t)i)) {
			continue;
		}
		scan_t s;
		scan(&c->rec[i], &s);
		if (!s.ok) {
			fprintf(stderr, "replica %u: %s\n", i + 1, s.why);
		}
		CHECK(s.ok);
		CHECK(same_batches(c, first, i));
		if (c->cores[i] != NULL) {
			bftdns_core_stats_t st;
			bftdns_core_stats(c->cores[i], &st);
			CHECK_EQ(st.faults, 0);
		}
	}
}

static void stop_cluster(cluster_t *c)
{
	cluster_destroy(c);
	free(c);
}

static void test_order(unsigned n, unsigned per_thread)
{
	cluster_t *c = start_cluster(n, 0);
	bft_nodeset_t all = bft_nodeset_all(n);
	submit_concurrently(c, all, 0, per_thread);
	CHECK(wait_delivered(c, all, THREADS * per_thread));
	check_agree(c, all);
	scan_t s;
	scan(&c->rec[0], &s);
	bftdns_core_stats_t st;
	bftdns_core_stats(c->cores[0], &st);
	printf("order n=%u: %u requests (%u submitted twice) in %u identical batches at every "
	       "replica; replica 1 left out %llu proposed twice, ignored %llu inputs it had\n", n,
	       s.distinct, THREADS * ((per_thread + 4) / 5), s.batches,
	       (unsigned long long)st.abc.duplicates_dropped,
	       (unsigned long long)st.abc.inputs_ignored);
	CHECK_EQ(s.requests, THREADS * per_thread);
	stop_cluster(c);
}

/* Far more requests at one replica than the protocol holds of its own:
 * the core keeps the one it refused, the inbox fills, submit says
 * BFT_EAGAIN, and nothing is lost. */
static void test_backpressure(void)
{
	const unsigned n = 4, count = 3000;
	cluster_t *c = start_cluster(n, 0);
	bft_nodeset_t all = bft_nodeset_all(n);
	for (unsigned id = 0; id < count; id++) {
		submit(c, 0, id);
	}
	CHECK(wait_delivered(c, all, count));
	check_agree(c, all);
	bftdns_core_stats_t st;
	bftdns_core_stats(c->cores[0], &st);
	scan_t s;
	scan(&c->rec[0], &s);
	printf("back-pressure: %u requests at replica 1 (it holds at most %u of its own): all "
	       "delivered in %u batches; inputs waited %llu times\n", count,
	       ABC_QUEUE_MAX / 2 / n / 2, s.batches, (unsigned long long)st.inputs_deferred);
	CHECK(st.inputs_deferred > 0);
	CHECK_EQ(st.inputs, count);
	stop_cluster(c);
}

/* f replicas stop; the rest keep delivering. */
static void test_silent(unsigned n)
{
	cluster_t *c = start_cluster(n, 0);
	unsigned f = (n - 1) / 3;
	bft_nodeset_t all = bft_nodeset_all(n);
	submit_concurrently(c, all, 0, 10);
	CHECK(wait_delivered(c, all, THREADS * 10));
	bft_nodeset_t live = all;
	for (unsigned k = 0; k < f; k++) {
		unsigned i = n - 1 - k;
		bftdns_core_stop(c->cores[i]);
		c->cores[i] = NULL;
		live &= ~bft_nodeset_one((bft_node_t)i);
	}
	submit_concurrently(c, live, 1000, 20);
	CHECK(wait_delivered(c, live, THREADS * 30));
	check_agree(c, live);
	scan_t s;
	scan(&c->rec[0], &s);
	printf("silent n=%u: %u replicas stopped, the other %u delivered %u requests in %u "
	       "identical batches\n", n, f, n - f, s.distinct, s.batches);
	stop_cluster(c);
}

/* The batches replica i delivered so far, as a resume list (copies). */
static bftdns_core_batch_t *copy_batches(cluster_rec_t *rec, size_t *count)
{
	pthread_mutex_lock(&rec->lock);
	bftdns_core_batch_t *list = calloc(rec->count + 1, sizeof(*list));
	for (unsigned k = 0; list != NULL && k < rec->count; k++) {
		uint8_t *copy = malloc(rec->lens[k]);
		memcpy(copy, rec->data[k], rec->lens[k]);
		list[k] = (bftdns_core_batch_t){ .data = copy, .len = rec->lens[k] };
	}
	*count = rec->count;
	pthread_mutex_unlock(&rec->lock);
	return list;
}

static void free_batches(bftdns_core_batch_t *list, size_t count)
{
	for (size_t k = 0; k < count; k++) {
		free((void *)list[k].data);
	}
	free(list);
}

/* Requests one at a time at replica `at`, each awaited: about one batch each. */
static void submit_one_by_one(cluster_t *c, bft_nodeset_t who, unsigned at, unsigned first,
                              unsigned count, unsigned already)
{
	for (unsigned k = 0; k < count; k++) {
		submit(c, at, first + k);
		CHECK(wait_delivered(c, who, already + k + 1));
	}
}

static void test_restart(void)
{
	const unsigned n = 4, r = 3;
	cluster_t *c = start_cluster(n, 0);
	bft_nodeset_t all = bft_nodeset_all(n), others = all & ~bft_nodeset_one(r);
	submit_concurrently(c, all, 0, 5);
	CHECK(wait_delivered(c, all, THREADS * 5));
	bftdns_core_stop(c->cores[r]);
	c->cores[r] = NULL;
	size_t had = 0;
	bftdns_core_batch_t *resume = copy_batches(&c->rec[r], &had);
	/* It misses batches while it is down: more than the epochs its peers'
	 * send queues hold for it (ABC_EPOCHS_AHEAD + 1) and more messages than
	 * they hold back for it (ABC_HOLD_MSGS_MAX), so it must fetch. */
	submit_one_by_one(c, others, 0, 100, MISSED, THREADS * 5);
	scan_t s;
	scan(&c->rec[0], &s);
	CHECK(s.batches >= had + MISSED);
	start_one(c, r, 0, resume, had);
	free_batches(resume, had);
	/* New requests everywhere, the restarted replica's own among them. */
	submit_concurrently(c, all, 200, 5);
	CHECK(wait_delivered(c, all, THREADS * 5 + MISSED + THREADS * 5));
	check_agree(c, all);
	bftdns_core_stats_t st;
	bftdns_core_stats(c->cores[r], &st);
	scan(&c->rec[r], &s);
	printf("restart: replica 4 resumed from %zu batches, took %llu from its peers, and "
	       "delivered all %u batches like the others\n", had,
	       (unsigned long long)st.abc.batches_fetched, s.batches);
	CHECK(st.abc.batches_fetched >= 1);
	CHECK(cluster_log_has(&c->rec[r], "resumed from"));
	stop_cluster(c);
}

/* Replica i with a vote log in the cluster's directory (conf.vote_dir). */
static void start_voting(cluster_t *c, unsigned i, const bftdns_core_batch_t *resume,
                         size_t resume_count)
{
	char dir[160];
	snprintf(dir, sizeof(dir), "%s/votes-%u", c->dir, i + 1);
	bftdns_core_conf_t conf;
	cluster_conf_abc(c, i, &conf);
	conf.vote_dir = dir;
	conf.resume = resume;
	conf.resume_count = resume_count;
	conf.batch_max = 16;
	CHECK_EQ(bftdns_core_start(&conf, &c->cores[i]), BFT_EOK);
}

/*
 * Every replica stopped and started again from its delivered batches and
 * its vote log: each gives its logged votes back to the broadcast and
 * takes part at once (no silent restart), and all go on delivering the
 * same batches. The records never reach the deliver callback (the
 * recorders hold batches only, scan() checks).
 */
static void test_votes_restart_all(void)
{
	const unsigned n = 4;
	cluster_t *c = calloc(1, sizeof(*c));
	CHECK(c != NULL);
	CHECK_EQ(cluster_make(c, n, 0), BFT_EOK);
	CHECK_EQ(cluster_make_coin(c), BFT_EOK);
	bft_nodeset_t all = bft_nodeset_all(n);
	for (unsigned i = 0; i < n; i++) {
		start_voting(c, i, NULL, 0);
	}
	submit_concurrently(c, all, 0, 5);
	CHECK(wait_delivered(c, all, THREADS * 5));
	bftdns_core_stats_t st;
	for (unsigned i = 0; i < n; i++) {
		bftdns_core_stats(c->cores[i], &st);
		/* Published once per loop iteration: poll (bounded). */
		for (int k = 0; k < 500 && st.votelog.appended == 0; k++) {
			cluster_pause_ms(10);
			bftdns_core_stats(c->cores[i], &st);
		}
		CHECK(st.votelog_on && st.votes_durable && !st.votes_muted);
		CHECK(st.votelog.appended > 0 && st.votelog.bytes > 0);
	}
	bftdns_core_batch_t *resume[BFT_NODES_MAX];
	size_t had[BFT_NODES_MAX];
	for (unsigned i = 0; i < n; i++) {
		bftdns_core_stop(c->cores[i]);
		c->cores[i] = NULL;
	}
	for (unsigned i = 0; i < n; i++) {
		resume[i] = copy_batches(&c->rec[i], &had[i]);
		start_voting(c, i, resume[i], had[i]);
		free_batches(resume[i], had[i]);
	}
	uint64_t restored = 0;
	for (unsigned i = 0; i < n; i++) {
		bftdns_core_stats(c->cores[i], &st);
		for (int k = 0; k < 500 && !st.votelog_on; k++) {
			cluster_pause_ms(10);
			bftdns_core_stats(c->cores[i], &st);
		}
		CHECK(st.votes_durable && st.votes_restored > 0 && st.votes_refused == 0);
		CHECK(cluster_log_has(&c->rec[i], "given back to the broadcast"));
		restored += st.votes_restored;
	}
	submit_concurrently(c, all, 200, 5);
	CHECK(wait_delivered(c, all, THREADS * 10));
	check_agree(c, all);
	scan_t s;
	scan(&c->rec[0], &s);
	printf("votes: all 4 stopped after %zu batches and started again on their vote logs "
	       "(%llu votes given back in all): %u batches, the same at every replica\n", had[0],
	       (unsigned long long)restored, s.batches);
	stop_cluster(c);
}

static void test_beyond_retention(void)
{
	const unsigned n = 4, r = 3, retain = 3;
	cluster_t *c = start_cluster(n, retain);
	bft_nodeset_t all = bft_nodeset_all(n), others = all & ~bft_nodeset_one(r);
	submit_one_by_one(c, all, 0, 0, 2, 0);
	bftdns_core_stop(c->cores[r]);
	c->cores[r] = NULL;
	size_t had = 0;
	bftdns_core_batch_t *resume = copy_batches(&c->rec[r], &had);
	submit_one_by_one(c, others, 0, 100, MISSED, 2);
	start_one(c, r, retain, resume, had);
	free_batches(resume, had);
	submit_one_by_one(c, others, 1, 200, 3, 2 + MISSED);
	bool said = false;
	for (int i = 0; i < 1000 && !said; i++) {
		said = cluster_log_has(&c->rec[r], "needs a state transfer");
		cluster_pause_ms(10);
	}
	CHECK(said);
	/* What it got it got right (the epochs its peers' send queues still
	 * held for it): a prefix of the others' batches, and no more. */
	scan_t s, s0;
	scan(&c->rec[r], &s);
	scan(&c->rec[0], &s0);
	CHECK(s.ok);
	CHECK(s.batches >= had && s.batches < s0.batches);
	check_agree(c, others);
	CHECK(same_batches(c, 0, r));
	printf("beyond retention: peers keep %u batches; replica 4 missed %u, got %u from the "
	       "queued messages, then says it needs a state transfer; the others delivered %u\n",
	       retain, MISSED, s.batches - (unsigned)had, s0.batches);
	stop_cluster(c);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "quick") == 0;
	test_start_wall = wall_ms();
	test_order(4, 50);
	test_backpressure();
	test_silent(4);
	test_restart();
	test_beyond_retention();
	test_votes_restart_all();
	if (!quick) {
		test_order(7, 30);
		test_silent(7);
	}
	return check_result("test_abc_net");
}
