/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The threshold signing core (tsign.h) under random delivery orders, for
 * each strategy, with up to f replicas in each misbehaviour mode, wire
 * adversaries, replicas that are held off or late or restarted: every
 * correct replica outputs the reference signatures (which verify with
 * plain RSA and, for some runs, nettle), and no correct replica blames a
 * correct one. Prints messages and bytes per request.
 *
 *   test_tsign_sim N [SCALE [STRATEGY [PLAN SEED]]]
 *
 * N is 4 or 7 (f = 1 or 2); SCALE multiplies the seed counts (default 1;
 * n = 7 runs a third of them, BASIC a quarter: it is 4 to 5 times slower);
 * STRATEGY is basic, optproof, optte or all (default); PLAN and SEED replay
 * one run (a failure prints the command).
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coordinator/proto/prng.h"
#include "coordinator/proto/tsign_msg.h"
#include "tests/common/check.h"
#include "tests/proto/tsign_net.h"

typedef enum {
	FAM_HONEST,       /*!< Nobody faulty. */
	FAM_MODES,        /*!< 1..f replicas in one misbehaviour mode of the core. */
	FAM_WIRE,         /*!< 1..f replicas under wire adversaries. */
	FAM_MIXED,        /*!< f replicas, each any of the above. */
	FAM_HELD_QUORUM,  /*!< 2f + 1 held off: only f sign; nothing until they come back. */
	FAM_HELD_BAD,     /*!< f + 1 held off, f send inverted shares only: nothing until they come back. */
	FAM_HELD_SOME,    /*!< f + 1 held off: the 2f others still sign (k = f + 1). */
	FAM_LATE,         /*!< 1..f + 1 replicas get their requests after all others finished. */
	FAM_LOSSY,        /*!< 1..f restarted replicas lost everything before their request. */
	FAM_WINDOW,       /*!< Late replicas with a one-request window: FUTURE, then RESEND. */
} family_t;

typedef struct {
	const char *name;
	family_t family;
	int mode;             /*!< FAM_MODES: the mode; else -1. */
	uint16_t m;
	unsigned requests;
	unsigned seeds;       /*!< At SCALE 1, n = 4, optimistic strategies. */
	bool nettle;
} plan_t;

static const plan_t plans[] = {
	{ "honest-m1",         FAM_HONEST,      -1,  1, 3, 300, true },
	{ "honest-m20",        FAM_HONEST,      -1, 20, 2,  20, true },
	{ "invert-m1",         FAM_MODES,       TSIGN_MODE_INVERT_SHARES, 1, 3, 300, false },
	{ "invert-m20",        FAM_MODES,       TSIGN_MODE_INVERT_SHARES, 20, 2, 20, false },
	{ "random-m1",         FAM_MODES,       TSIGN_MODE_RANDOM_SHARES, 1, 3, 300, false },
	{ "random-m20",        FAM_MODES,       TSIGN_MODE_RANDOM_SHARES, 20, 2, 20, false },
	{ "silent-m1",         FAM_MODES,       TSIGN_MODE_SILENT_SIGNER, 1, 3, 300, false },
	{ "silent-m20",        FAM_MODES,       TSIGN_MODE_SILENT_SIGNER, 20, 2, 20, false },
	{ "wire-m3",           FAM_WIRE,        -1,  3, 3, 200, false },
	{ "mixed-m3",          FAM_MIXED,       -1,  3, 3, 200, false },
	{ "held-2f+1",         FAM_HELD_QUORUM, -1,  2, 2,  60, false },
	{ "held-f+1-f-bad",    FAM_HELD_BAD,    -1,  2, 2,  60, false },
	{ "held-f+1",          FAM_HELD_SOME,   -1,  2, 2,  60, false },
	{ "late",              FAM_LATE,        -1,  2, 3, 100, false },
	{ "lossy-restart",     FAM_LOSSY,       -1,  2, 3, 100, false },
	{ "window-late",       FAM_WINDOW,      -1,  1, 4, 100, false },
};

#define PLAN_COUNT (sizeof(plans) / sizeof(plans[0]))

static const shoup_strategy_t strategies[] = {
	SHOUP_STRATEGY_BASIC, SHOUP_STRATEGY_OPTPROOF, SHOUP_STRATEGY_OPTTE,
};

/* count distinct nodes drawn from `from`, as a set. */
static bft_nodeset_t draw_nodes(bft_prng_t *prng, unsigned n, unsigned count, bft_nodeset_t from)
{
	bft_nodeset_t set = 0;
	while (bft_nodeset_count(set) < count) {
		bft_node_t i = (bft_node_t)bft_prng_below(prng, n);
		if (bft_nodeset_has(from, i)) {
			set |= bft_nodeset_one(i);
		}
	}
	return set;
}

static unsigned draw_between(bft_prng_t *prng, unsigned lo, unsigned hi)
{
	return lo + (unsigned)bft_prng_below(prng, hi - lo + 1);
}

/* Gives a faulty node a random misbehaviour: a core mode or a wire adversary. */
static void draw_any(bft_prng_t *prng, tnet_conf_t *conf, bft_node_t i)
{
	unsigned pick = (unsigned)bft_prng_below(prng, 3 + (TNET_WIRE_KINDS - 1));
	if (pick < 3) {
		conf->mode[i] = (tsign_mode_t)(TSIGN_MODE_INVERT_SHARES + pick);
	} else {
		conf->wire[i] = (tnet_wire_t)(TNET_WIRE_GARBAGE + (pick - 3));
	}
}

/* Draws the scenario of one seed. */
static void scenario(const plan_t *plan, const tnet_key_t *key, shoup_strategy_t strategy,
                     uint64_t seed, tnet_conf_t *conf)
{
	unsigned n = key->n, f = key->f;
	bft_nodeset_t all = bft_nodeset_all(n);
	bft_prng_t prng;
	bft_prng_seed(&prng, seed ^ 0x7516a3c5u);
	memset(conf, 0, sizeof(*conf));
	conf->key = key;
	conf->strategy = strategy;
	conf->seed = seed;
	conf->m = plan->m;
	conf->requests = plan->requests;
	conf->nettle_check = plan->nettle;
	/* Some runs sign with the other algorithms. */
	static const uint8_t algs[] = { 8, 8, 8, 5, 10 };
	conf->alg = algs[bft_prng_below(&prng, sizeof(algs))];
	bft_nodeset_t set;
	switch (plan->family) {
	case FAM_HONEST:
		break;
	case FAM_MODES:
		set = draw_nodes(&prng, n, draw_between(&prng, 1, f), all);
		for (bft_node_t i = 0; i < n; i++) {
			conf->mode[i] = bft_nodeset_has(set, i) ? (tsign_mode_t)plan->mode : TSIGN_MODE_HONEST;
		}
		break;
	case FAM_WIRE:
		set = draw_nodes(&prng, n, draw_between(&prng, 1, f), all);
		for (bft_node_t i = 0; i < n; i++) {
			if (bft_nodeset_has(set, i)) {
				conf->wire[i] = (tnet_wire_t)draw_between(&prng, 1, TNET_WIRE_KINDS - 1);
			}
		}
		break;
	case FAM_MIXED:
		set = draw_nodes(&prng, n, f, all);
		for (bft_node_t i = 0; i < n; i++) {
			if (bft_nodeset_has(set, i)) {
				draw_any(&prng, conf, i);
			}
		}
		break;
	case FAM_HELD_QUORUM:
		conf->held = draw_nodes(&prng, n, 2 * f + 1, all);
		conf->expect_none_before_heal = true;
		break;
	case FAM_HELD_BAD:
		/* Inverted shares and nothing else: a replica that also forwards
		 * the signatures it combined from our shares would help. */
		set = draw_nodes(&prng, n, f, all);
		for (bft_node_t i = 0; i < n; i++) {
			if (bft_nodeset_has(set, i)) {
				conf->mode[i] = TSIGN_MODE_INVERT_SHARES;
				conf->wire[i] = TNET_WIRE_SHARES_ONLY;
			}
		}
		conf->held = draw_nodes(&prng, n, f + 1, all & ~set);
		conf->expect_none_before_heal = true;
		break;
	case FAM_HELD_SOME:
		conf->held = draw_nodes(&prng, n, f + 1, all);
		break;
	case FAM_LATE:
		conf->late = draw_nodes(&prng, n, draw_between(&prng, 1, f + 1), all);
		break;
	case FAM_LOSSY: {
		unsigned lossy = draw_between(&prng, 1, f);
		conf->lossy = draw_nodes(&prng, n, lossy, all);
		set = draw_nodes(&prng, n, f - lossy, all & ~conf->lossy);
		for (bft_node_t i = 0; i < n; i++) {
			conf->mode[i] = bft_nodeset_has(set, i) ? TSIGN_MODE_INVERT_SHARES : TSIGN_MODE_HONEST;
		}
		break;
	}
	case FAM_WINDOW:
		conf->late = draw_nodes(&prng, n, draw_between(&prng, 1, f + 1), all);
		conf->window = 3;  /* ids are 3 apart: only the next request fits */
		conf->future_blame_ok = true;
		break;
	}
}

typedef struct {
	unsigned runs, failures;
	tnet_result_t sum;
	uint64_t requests;
} total_t;

static void total_add(total_t *t, const tnet_conf_t *conf, const tnet_result_t *res)
{
	t->runs++;
	t->failures += !res->ok;
	t->requests += conf->requests;
	for (unsigned k = 0; k < 6; k++) {
		t->sum.kind[k].msgs += res->kind[k].msgs;
		t->sum.kind[k].bytes += res->kind[k].bytes;
	}
	t->sum.faults += res->faults;
	t->sum.finished_by_sigs += res->finished_by_sigs;
	t->sum.proof_requests += res->proof_requests;
	t->sum.resends += res->resends;
	t->sum.outputs_before_heal += res->outputs_before_heal;
}

/* Family-level expectations that one seed cannot show alone. */
static void plan_expect(const plan_t *plan, shoup_strategy_t strategy, const total_t *t)
{
	switch (plan->family) {
	case FAM_HELD_SOME:
		CHECK(t->sum.outputs_before_heal > 0);  /* 2f replicas hold k shares */
		CHECK(t->sum.finished_by_sigs > 0);     /* the held ones catch up */
		break;
	case FAM_LATE:
		CHECK(t->sum.finished_by_sigs > 0);
		break;
	case FAM_LOSSY:
	case FAM_WINDOW:
		CHECK(t->sum.resends > 0);
		break;
	case FAM_MODES:
		if (strategy == SHOUP_STRATEGY_OPTPROOF && plan->mode != TSIGN_MODE_SILENT_SIGNER) {
			CHECK(t->sum.proof_requests > 0);   /* the fallback ran */
		}
		break;
	default:
		break;
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void plan_print(const plan_t *plan, const tnet_key_t *key, shoup_strategy_t strategy,
                       const total_t *t, double seconds)
{
	double per = t->requests ? (double)t->requests : 1;
	printf("%-15s n=%u %-8s m=%-2u %4u runs %u failed %5.1f s | per request: %6.1f msgs %8.0f bytes"
	       " (shares %5.1f/%7.0f B, proof-req %4.1f, help %4.1f, sigs %4.1f/%6.0f B)"
	       " | proof-req sent %" PRIu64 ", SIGS-finished %" PRIu64 ", resends %" PRIu64 "\n",
	       plan->name, key->n, shoup_strategy_name(strategy), plan->m, t->runs, t->failures, seconds,
	       t->sum.kind[0].msgs / per, t->sum.kind[0].bytes / per,
	       t->sum.kind[TSIGN_MSG_SHARES].msgs / per, t->sum.kind[TSIGN_MSG_SHARES].bytes / per,
	       t->sum.kind[TSIGN_MSG_PROOF_REQ].msgs / per, t->sum.kind[TSIGN_MSG_HELP].msgs / per,
	       t->sum.kind[TSIGN_MSG_SIGS].msgs / per,
	       t->sum.kind[TSIGN_MSG_SIGS].bytes / per,
	       t->sum.proof_requests, t->sum.finished_by_sigs, t->sum.resends);
	fflush(stdout);
}

static bool run_one(const plan_t *plan, const tnet_key_t *key, shoup_strategy_t strategy,
                    uint64_t seed, total_t *t)
{
	tnet_conf_t conf;
	tnet_result_t res;
	scenario(plan, key, strategy, seed, &conf);
	tnet_run(&conf, &res);
	total_add(t, &conf, &res);
	CHECK(res.ok);
	if (!res.ok) {
		char what[512];
		tnet_describe(&conf, what, sizeof(what));
		fprintf(stderr, "FAILED %s: %s\n  scenario: %s\n  replay: test_tsign_sim %u 1 %s %s %" PRIu64 "\n",
		        plan->name, res.why, what, key->n, shoup_strategy_name(strategy), plan->name, seed);
	}
	return res.ok;
}

/* The first count members of D(id), as a set. */
static bft_nodeset_t designated_first(const tnet_key_t *key, uint64_t id, unsigned count)
{
	bft_nodeset_t set = 0;
	for (bft_node_t i = 0; i < key->n; i++) {
		bool in = tsign_designated((uint16_t)key->n, (uint16_t)key->f, id, i);
		if (in && bft_nodeset_count(set) < count) {
			set |= bft_nodeset_one(i);
		}
	}
	return set;
}

static void designated_conf(const tnet_key_t *key, shoup_strategy_t strategy, uint64_t seed,
                            tnet_conf_t *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->key = key;
	conf->strategy = strategy;
	conf->seed = seed;
	conf->m = 4;
	conf->requests = 3;
}

static bool designated_run(const tnet_conf_t *conf, tnet_result_t *res, const char *what)
{
	tnet_run(conf, res);
	CHECK(res->ok);
	if (!res->ok) {
		fprintf(stderr, "FAILED designated %s (seed %" PRIu64 "): %s\n", what, conf->seed, res->why);
	}
	return res->ok;
}

/*
 * Designated signers (tsign.h): honest runs cost exactly the shares of D;
 * f faulty members of D in each mode still finish, with help that is
 * counted; a silent member is overcome by the delay (virtual time); a
 * peer that asks for help all the time costs at most one share per
 * message per request, the all-sign cost.
 */
static void test_designated(const tnet_key_t *key, shoup_strategy_t strategy)
{
	unsigned n = key->n, f = key->f;
	tnet_conf_t conf;
	tnet_result_t res;
	/* Honest: exactly D signs, nobody helps, no time has to pass. */
	for (uint64_t seed = 1; seed <= 10; seed++) {
		designated_conf(key, strategy, seed, &conf);
		if (!designated_run(&conf, &res, "honest")) {
			continue;
		}
		uint64_t total = 0;
		for (bft_node_t i = 0; i < n; i++) {
			uint64_t expect = 0;
			for (unsigned r = 0; r < conf.requests; r++) {
				expect += tsign_designated((uint16_t)n, (uint16_t)f, tnet_request_id(r), i) ? conf.m : 0;
			}
			CHECK_EQ(res.shares[i], expect);
			CHECK_EQ(res.help_shares[i], 0);
			total += res.shares[i];
		}
		CHECK_EQ(total, (uint64_t)(f + 1) * conf.m * conf.requests);
		CHECK_EQ(res.help_requests, 0);
		CHECK_EQ(res.kind[TSIGN_MSG_HELP].msgs, 0);
		CHECK_EQ(res.ticks, 0);
	}
	/* Designated signers off: every replica signs at input, unless the
	 * signatures reached it first (early SIGS are replayed before). */
	designated_conf(key, strategy, 1, &conf);
	conf.all_sign = true;
	if (designated_run(&conf, &res, "all-sign")) {
		uint64_t total = 0;
		for (bft_node_t i = 0; i < n; i++) {
			CHECK(res.shares[i] <= (uint64_t)conf.m * conf.requests);
			CHECK_EQ(res.help_shares[i], 0);
			total += res.shares[i];
		}
		CHECK(total > (uint64_t)(f + 1) * conf.m * conf.requests);
	}
	/* f faulty replicas, all in D of the first request, in each mode. */
	static const tsign_mode_t modes[] = {
		TSIGN_MODE_INVERT_SHARES, TSIGN_MODE_RANDOM_SHARES, TSIGN_MODE_SILENT_SIGNER,
	};
	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		uint64_t help = 0, ticks = 0, runs_ok = 0;
		for (uint64_t seed = 1; seed <= 10; seed++) {
			designated_conf(key, strategy, seed, &conf);
			bft_nodeset_t bad = designated_first(key, tnet_request_id(0), f);
			for (bft_node_t i = 0; i < n; i++) {
				conf.mode[i] = bft_nodeset_has(bad, i) ? modes[k] : TSIGN_MODE_HONEST;
			}
			if (designated_run(&conf, &res, tsign_mode_name(modes[k]))) {
				runs_ok++;
				for (bft_node_t i = 0; i < n; i++) {
					help += res.help_shares[i];
				}
				ticks += res.ticks;
			}
		}
		printf("designated n=%u %-8s %-13s f in D: 10 runs, %" PRIu64 " ok, %" PRIu64
		       " help shares, %" PRIu64 " delays that helped\n", n, shoup_strategy_name(strategy),
		       tsign_mode_name(modes[k]), runs_ok, help, ticks);
		CHECK(help > 0);
		if (modes[k] == TSIGN_MODE_SILENT_SIGNER) {
			CHECK(ticks > 0);  /* only the delay shows a silent member */
		}
	}
	/* A faulty replica that sends HELP for everything, all the time (and
	 * whose own core is honest): everything finishes, and no correct
	 * replica computes more than its share of each message once (and its
	 * proof under OPTPROOF). */
	for (uint64_t seed = 1; seed <= 5; seed++) {
		designated_conf(key, strategy, seed, &conf);
		conf.help_spam = bft_nodeset_one((bft_node_t)(seed % n));
		if (!designated_run(&conf, &res, "help-spam")) {
			continue;
		}
		uint64_t bound = (uint64_t)conf.m * conf.requests *
		                 (strategy == SHOUP_STRATEGY_OPTPROOF ? 2 : 1);
		for (bft_node_t i = 0; i < n; i++) {
			if (!bft_nodeset_has(conf.help_spam, i)) {
				CHECK(res.shares[i] <= bound);
			}
		}
		CHECK(res.kind[TSIGN_MSG_HELP].msgs > 0);
	}
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
	double scale = argc > 2 ? atof(argv[2]) : 1.0;
	const char *only_strategy = argc > 3 && strcmp(argv[3], "all") != 0 ? argv[3] : NULL;
	const char *only_plan = argc > 5 ? argv[4] : NULL;
	shoup_strategy_t parsed = SHOUP_STRATEGY_BASIC;
	if ((n != 4 && n != 7) || scale <= 0 || argc == 5 ||
	    (only_strategy != NULL && shoup_strategy_parse(only_strategy, &parsed) != SHOUP_EOK)) {
		fprintf(stderr, "usage: test_tsign_sim 4|7 [SCALE [basic|optproof|optte|all [PLAN SEED]]]\n");
		return 2;
	}
	tnet_key_t key;
	tnet_key_deal(&key, n, (n - 1) / 3, 0x75160000u + n);
	for (size_t s = 0; only_plan == NULL && s < sizeof(strategies) / sizeof(strategies[0]); s++) {
		if (only_strategy == NULL || strategies[s] == parsed) {
			test_designated(&key, strategies[s]);
		}
	}
	for (size_t p = 0; p < PLAN_COUNT; p++) {
		const plan_t *plan = &plans[p];
		for (size_t s = 0; s < sizeof(strategies) / sizeof(strategies[0]); s++) {
			shoup_strategy_t strategy = strategies[s];
			if ((only_strategy != NULL && strategy != parsed) ||
			    (only_plan != NULL && strcmp(only_plan, plan->name) != 0)) {
				continue;
			}
			total_t t = { 0 };
			double start = now_s();
			if (only_plan != NULL) {
				run_one(plan, &key, strategy, strtoull(argv[5], NULL, 10), &t);
				plan_print(plan, &key, strategy, &t, now_s() - start);
				continue;
			}
			/* BASIC costs 4 to 5 times more (every share has a proof). */
			double share = (n == 7 ? 3 : 1) * (strategy == SHOUP_STRATEGY_BASIC ? 4 : 1);
			unsigned seeds = (unsigned)(plan->seeds * scale / share);
			seeds = seeds > 0 ? seeds : 1;
			for (unsigned i = 0; i < seeds; i++) {
				run_one(plan, &key, strategy, 1000 * (p + 1) + i, &t);
			}
			plan_expect(plan, strategy, &t);
			plan_print(plan, &key, strategy, &t, now_s() - start);
		}
	}
	tnet_key_clear(&key);
	return check_result(argv[0]);
}
