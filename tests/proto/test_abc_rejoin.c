/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * f + 1 replicas that lose everything come back to a group that waits for
 * them (doc/broadcast.md, "Catch-up", 5), in the simulator, over many
 * seeds. n = 7, f = 2:
 * - a history of H batches (one request each, at the nodes in turn):
 *   30..45, 8 (one FETCH answer), and 17, 33, 49 (one batch past full
 *   ABC_FETCH_BATCHES answers);
 * - f + 1 = 3 random nodes crash and lose all state; requests at two of
 *   the running ones: nothing may be delivered (n - f = 5 are needed);
 * - what the running ones send meanwhile waits in their send queues and
 *   reaches the fresh instances (sim_conf_t.queue_while_down, like the
 *   links); those start as a replica without a batch log does
 *   (abc_start(restarted = false)).
 * Checked after the run reaches quiescence: every node, the restarted ones
 * (their outputs since the restart) too, delivered the same batches, bytes
 * for bytes, both new requests among them, each once; nobody blamed anyone.
 * Before the fix every seed stalled: the restarted nodes dropped the
 * proposals and echoes of the waiting epoch (they came while they were at
 * epoch 0, far beyond their window) and, with H one past full FETCH
 * answers, stopped fetching one batch short of the others.
 * Also the bound on parked messages, one node by hand.
 *
 * Then the same with durable votes (doc/broadcast.md, "Catch-up", 8): the
 * f + 1 restart from their batches and vote records, also when they crash
 * in the middle of an epoch (busy): the group goes on, nobody is blamed.
 *
 * By hand: REJOIN_VERBOSE=1 prints each node's counters for a failing
 * seed; arguments FIRST COUNT choose the seeds. REJOIN_BUSY=1 crashes the
 * nodes in the middle of an epoch, REJOIN_DURABLE=1 restarts them from
 * their batches (without votes, the silent restart). A known limit without
 * votes (doc/broadcast.md "Known limits"): REJOIN_BUSY=1, with or without
 * REJOIN_DURABLE=1, stalls in about half of the seeds (amnesia mid-epoch,
 * or f + 1 silent in the epoch the others wait in).
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/abc.h"
#include "coordinator/proto/batch.h"
#include "coordinator/sim/sim.h"
#include "tests/proto/bcast_sim.h"

#define N		7
#define F		2
#define GAP_MS		10000
#define CRASH_MS	1000000
#define RESTART_MS	1200000

static test_coin_keys_t keys;
static abc_conf_t abc_conf;

/* A replica without a batch log: a fresh node that announces itself. */
static int restart_fresh(const sim_t *sim, bft_node_t node, void *proto, const bft_env_t *env,
                         bft_step_t *step)
{
	(void)sim;
	(void)node;
	return abc_start(proto, false, env, step);
}

/* Batches a node delivered (its other outputs are vote records). */
static size_t batches(const sim_t *sim, bft_node_t node)
{
	size_t count = 0;
	for (size_t k = 0; k < sim_node_output_count(sim, node); k++) {
		uint32_t tag;
		size_t len;
		sim_node_output(sim, node, k, &tag, &len);
		count += tag == ABC_OUTPUT_BATCH ? 1u : 0u;
	}
	return count;
}

/* The node's batch number k (k below batches()). */
static const uint8_t *batch_at(const sim_t *sim, bft_node_t node, size_t k, uint32_t *tag,
                               size_t *len)
{
	for (size_t i = 0; i < sim_node_output_count(sim, node); i++) {
		const uint8_t *out = sim_node_output(sim, node, i, tag, len);
		if (*tag == ABC_OUTPUT_BATCH && k-- == 0) {
			return out;
		}
	}
	return NULL;
}

/* A replica with a batch log, as test_abc_sim's restart hook: its batches
 * before the crash, its vote records if it keeps them (votes mode), then
 * abc_start(restarted). By hand without votes (REJOIN_DURABLE). */
static int restart_durable(const sim_t *sim, bft_node_t node, void *proto, const bft_env_t *env,
                           bft_step_t *step)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < sim_node_output_count(sim, node); k++) {
			uint32_t tag;
			size_t len;
			const uint8_t *out = sim_node_output(sim, node, k, &tag, &len);
			int ret = BFT_EOK;
			if (pass == 0 && tag == ABC_OUTPUT_BATCH) {
				ret = abc_restore(proto, out, len);
			} else if (pass == 1 && tag == ABC_OUTPUT_VOTE) {
				ret = abc_restore_vote(proto, out, len);
			}
			if (ret != BFT_EOK) {
				return ret;
			}
		}
	}
	return abc_start(proto, true, env, step);
}

static size_t request(uint64_t seed, unsigned k, uint8_t *buf, size_t cap)
{
	int len = snprintf((char *)buf, cap, "rejoin seed %" PRIu64 " request %u", seed, k);
	return (size_t)len;
}

/* Times request `req` occurs in node's outputs from index `from` on. */
static unsigned delivered(const sim_t *sim, bft_node_t node, size_t from,
                          const uint8_t *req, size_t req_len)
{
	unsigned seen = 0;
	for (size_t k = from; k < batches(sim, node); k++) {
		uint32_t tag;
		size_t len;
		const uint8_t *out = batch_at(sim, node, k, &tag, &len);
		batch_reader_t br;
		if (tag != ABC_OUTPUT_BATCH || batch_reader_open(&br, out, len) != BFT_EOK) {
			return 99;
		}
		bft_node_t proposer, origin;
		const uint8_t *r;
		size_t rl;
		while (batch_reader_next(&br, &proposer, &origin, &r, &rl)) {
			seen += rl == req_len && memcmp(r, req, rl) == 0 ? 1u : 0u;
		}
	}
	return seen;
}

/* One seed; returns "" or what broke. durable: restart from the batches
 * (and the vote records, if abc_conf keeps them). */
static const char *run_seed(uint64_t seed, unsigned history, bool busy, bool durable)
{
	static char why[256];
	bft_prng_t prng;
	bft_prng_seed(&prng, seed * 0x5eedull + history);
	bft_nodeset_t crashed = 0;
	while (bft_nodeset_count(crashed) < F + 1) {
		crashed |= bft_nodeset_one((bft_node_t)bft_prng_below(&prng, N));
	}
	bft_node_t running[N];
	unsigned nrun = 0;
	for (bft_node_t i = 0; i < N; i++) {
		if (!bft_nodeset_has(crashed, i)) {
			running[nrun++] = i;
		}
	}
	sim_conf_t conf = {
		.ops = &abc_ops, .proto_conf = &abc_conf, .n = N, .f = F, .seed = seed,
		.delay_max_ms = 1 + (uint32_t)bft_prng_below(&prng, 30),
		.clock_skew_max_ms = (uint32_t)bft_prng_below(&prng, 500),
		.crashed = crashed, .crash_ms = CRASH_MS, .restart_ms = RESTART_MS,
		.steps_max = 20000000, .queue_while_down = true,
		.restart = durable ? restart_durable : restart_fresh,
	};
	sim_t *sim = NULL;
	if (sim_create(&conf, &sim) != BFT_EOK) {
		return "sim_create failed";
	}
	uint8_t req[64];
	size_t len;
	why[0] = '\0';
	/* The history: one batch per request. */
	for (unsigned k = 0; k < history && why[0] == '\0'; k++) {
		len = request(seed, k, req, sizeof(req));
		if (sim_input(sim, (bft_node_t)(k % N), req, len) != BFT_EOK ||
		    sim_run_until(sim, sim_now(sim) + GAP_MS) != BFT_EOK) {
			snprintf(why, sizeof(why), "history %u: %s", k, sim_failure(sim));
		}
		for (bft_node_t i = 0; i < N && why[0] == '\0'; i++) {
			if (batches(sim, i) != k + 1) {
				snprintf(why, sizeof(why), "history %u: node %u has %zu batches", k, i,
				         batches(sim, i));
			}
		}
	}
	/* Busy: a request just before the crash, so an epoch is in flight. */
	unsigned extra = busy ? 1 : 0;
	if (busy && why[0] == '\0') {
		len = request(seed, 1000, req, sizeof(req));
		uint64_t at = CRASH_MS - 1 - bft_prng_below(&prng, 200);
		if (sim_run_until(sim, at) != BFT_EOK ||
		    sim_input(sim, running[bft_prng_below(&prng, nrun)], req, len) != BFT_EOK) {
			snprintf(why, sizeof(why), "busy: %s", sim_failure(sim));
		}
	}
	size_t before[N];
	if (why[0] == '\0' && sim_run_until(sim, CRASH_MS) != BFT_EOK) {
		snprintf(why, sizeof(why), "to the crash: %s", sim_failure(sim));
	}
	for (bft_node_t i = 0; i < N; i++) {
		before[i] = batches(sim, i);
	}
	/* f + 1 down: requests at two running nodes wait. */
	bft_node_t a = running[bft_prng_below(&prng, nrun)];
	bft_node_t b = running[bft_prng_below(&prng, nrun)];
	uint8_t ra[64], rb[64];
	size_t la = request(seed, 2000, ra, sizeof(ra)), lb = request(seed, 2001, rb, sizeof(rb));
	if (why[0] == '\0' &&
	    (sim_input(sim, a, ra, la) != BFT_EOK || sim_input(sim, b, rb, lb) != BFT_EOK ||
	     sim_run_until(sim, RESTART_MS - 1) != BFT_EOK)) {
		snprintf(why, sizeof(why), "while down: %s", sim_failure(sim));
	}
	size_t waiting = before[running[0]];
	for (unsigned r = 0; r < nrun && why[0] == '\0'; r++) {
		size_t now = batches(sim, running[r]);
		if (now > before[running[r]] && now > history + extra) {
			snprintf(why, sizeof(why), "node %u delivered with f + 1 down", running[r]);
		}
		waiting = now > waiting ? now : waiting;
	}
	/* Back, fresh; the run must end with everyone on the same batches. */
	if (why[0] == '\0' && sim_run(sim) != BFT_EOK) {
		snprintf(why, sizeof(why), "after the restart: %s", sim_failure(sim));
	}
	bft_node_t ref = running[0];
	size_t total = batches(sim, ref);
	if (why[0] == '\0' && total <= waiting) {
		snprintf(why, sizeof(why), "stalled: node %u still at %zu batches", ref, total);
	}
	for (bft_node_t i = 0; i < N && why[0] == '\0'; i++) {
		/* A restarted node's outputs since its restart: from epoch 0 again. */
		size_t from = bft_nodeset_has(crashed, i) && conf.restart == restart_fresh ? before[i] : 0;
		size_t count = batches(sim, i) - from;
		if (count != total) {
			snprintf(why, sizeof(why), "node %u%s has %zu batches, node %u %zu", i,
			         bft_nodeset_has(crashed, i) ? " (restarted)" : "", count, ref, total);
			break;
		}
		for (size_t k = 0; k < total; k++) {
			uint32_t t1, t2;
			size_t l1, l2;
			const uint8_t *o1 = batch_at(sim, ref, k, &t1, &l1);
			const uint8_t *o2 = batch_at(sim, i, from + k, &t2, &l2);
			if (t1 != t2 || l1 != l2 || memcmp(o1, o2, l1) != 0) {
				snprintf(why, sizeof(why), "node %u: batch %zu differs", i, k);
				break;
			}
		}
		if (why[0] == '\0' && (delivered(sim, i, from, ra, la) != 1 ||
		                       delivered(sim, i, from, rb, lb) != 1)) {
			snprintf(why, sizeof(why), "node %u: a new request not delivered exactly once", i);
		}
		if (why[0] == '\0' && sim_node_blamed(sim, i) != 0) {
			snprintf(why, sizeof(why), "node %u blamed 0x%x", i, (unsigned)sim_node_blamed(sim, i));
		}
	}
	if (why[0] != '\0' && getenv("REJOIN_VERBOSE") != NULL) {
		for (bft_node_t i = 0; i < N; i++) {
			abc_stats_t st;
			abc_stats(sim_node_proto(sim, i), &st);
			fprintf(stderr, "  node %u%s: epoch %" PRIu64 ", pending %zu, fetched %" PRIu64
			        ", fetches %" PRIu64 ", served %" PRIu64 ", held %" PRIu64
			        ", held dropped %" PRIu64 ", future dropped %" PRIu64 "\n",
			        i, bft_nodeset_has(crashed, i) ? " (restarted)" : "", st.epoch, st.pending,
			        st.batches_fetched, st.fetches_sent, st.batches_served, st.held,
			        st.held_dropped, st.future_dropped);
		}
	}
	sim_destroy(sim);
	return why;
}

/* Histories: 30..45; 8 (one FETCH answer); one batch past a full answer. */
enum { HIST_SPREAD, HIST_SHORT, HIST_EDGE };

static unsigned run_range(uint64_t first, uint64_t count, bool busy, int mode, bool durable)
{
	unsigned failures = 0;
	for (uint64_t seed = first; seed < first + count; seed++) {
		unsigned history = mode == HIST_SHORT ? 8 :
		                   mode == HIST_EDGE ? 1 + ABC_FETCH_BATCHES * (1 + (unsigned)(seed % 3)) :
		                   30 + (unsigned)(seed % 16);
		const char *why = run_seed(seed, history, busy, durable);
		if (why[0] != '\0') {
			fprintf(stderr, "rejoin seed %" PRIu64 " (history %u%s%s): %s\n", seed, history,
			        busy ? ", busy" : "", abc_conf.votes_durable ? ", votes" : "", why);
			failures++;
		}
	}
	return failures;
}

/*
 * The bound on parked messages, one node by hand (n = 4): a peer's epoch
 * messages far beyond our window are kept, up to ABC_PARK_MSGS_MAX, then
 * dropped (future_dropped); nobody is blamed and nothing is answered;
 * those of another peer still get their own share.
 */
static void test_park_bound(void)
{
	test_coin_keys_t k4;
	CHECK_EQ(test_coin_deal(&k4, 4, 1), COIN_EOK);
	abc_conf_t conf = { .coin = k4.keys, .session = (const uint8_t *)"park", .session_len = 4 };
	bft_params_t params = { .n = 4, .f = 1, .self = 0, .conf = &conf };
	abc_t *abc = NULL;
	CHECK_EQ(abc_create(&params, &abc), BFT_EOK);
	bft_step_t step;
	CHECK_EQ(bft_step_init(&step, BFT_MSG_MAX), BFT_EOK);
	bft_env_t env = { .now_ms = 1700000000000ull };
	CHECK_EQ(abc_start(abc, false, &env, &step), BFT_EOK);   /* its HELLO */
	bft_step_clear(&step);
	uint8_t msg[64] = { 1 };   /* EPOCH, u64 epoch, then an ACS message we never read */
	for (unsigned i = 0; i < ABC_PARK_MSGS_MAX + 10; i++) {
		uint64_t epoch = ABC_EPOCHS_AHEAD + 1 + i;
		for (int b = 0; b < 8; b++) {
			msg[1 + b] = (uint8_t)(epoch >> (56 - 8 * b));
		}
		CHECK_EQ(abc_handle_message(abc, 1, msg, sizeof(msg), &env, &step), BFT_EOK);
	}
	CHECK_EQ(abc_handle_message(abc, 2, msg, sizeof(msg), &env, &step), BFT_EOK);
	abc_stats_t st;
	abc_stats(abc, &st);
	CHECK_EQ(st.parked, ABC_PARK_MSGS_MAX + 1);
	CHECK_EQ(st.future_dropped, 10);
	CHECK_EQ(st.epoch, 0);
	CHECK_EQ(step.fault_count, 0);
	CHECK_EQ(step.msg_count, 0);
	bft_step_deinit(&step);
	abc_destroy(abc);   /* frees what is parked (ASan / valgrind runs) */
}

int main(int argc, char **argv)
{
	test_park_bound();
	CHECK_EQ(test_coin_deal(&keys, N, F), COIN_EOK);
	abc_conf = (abc_conf_t){
		.coin = keys.keys, .session = (const uint8_t *)"rejoin", .session_len = 6,
	};
	uint64_t first = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
	uint64_t count = argc > 2 ? strtoull(argv[2], NULL, 10) : 48;
	bool busy = getenv("REJOIN_BUSY") != NULL;   /* By hand: beyond the model, see above. */
	bool durable = getenv("REJOIN_DURABLE") != NULL;
	unsigned bad = run_range(first, count, busy, HIST_SPREAD, durable);
	printf("history 30..45%s: %u of %" PRIu64 " seeds failed\n", busy ? ", busy" : "", bad, count);
	CHECK_EQ(bad, 0u);
	bad = run_range(first, count / 4, busy, HIST_SHORT, durable);
	printf("history 8%s: %u of %" PRIu64 " seeds failed\n", busy ? ", busy" : "", bad, count / 4);
	CHECK_EQ(bad, 0u);
	bad = run_range(first, count / 4, busy, HIST_EDGE, durable);
	printf("history 17, 33, 49%s: %u of %" PRIu64 " seeds failed\n", busy ? ", busy" : "", bad,
	       count / 4);
	CHECK_EQ(bad, 0u);
	/* The two limits by hand above, with durable votes (doc/broadcast.md,
	 * "Catch-up", 8): f + 1 replicas restarted from their batches and vote
	 * records are not silent, so the group goes on, also when they crashed
	 * in the middle of an epoch (busy). */
	abc_conf.votes_durable = true;
	for (int b = 0; b < 2; b++) {
		bad = run_range(first, count / 2, b == 1, HIST_SPREAD, true);
		printf("history 30..45, batches and votes kept%s: %u of %" PRIu64 " seeds failed\n",
		       b == 1 ? ", busy" : "", bad, count / 2);
		CHECK_EQ(bad, 0u);
	}
	return check_result("test_abc_rejoin");
}
