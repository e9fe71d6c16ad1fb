/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The simulator: replay (same seed, same trace), the example protocols'
 * invariants over many seeds and every Byzantine behaviour, a broken
 * protocol that the checks must catch, crash/restart, bounds, and custom
 * adversary hooks.
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/example_rbc.h"
#include "coordinator/sim/scenario.h"
#include "tests/common/check.h"

/* Runs seeds [first, first + count); returns failures, printing each with its replay. */
static unsigned run_seeds(const sim_protocol_t *proto, const sim_opts_t *opts,
                          uint64_t first, unsigned count, bool quiet)
{
	unsigned failed = 0;
	for (uint64_t seed = first; seed < first + count; seed++) {
		sim_result_t res;
		CHECK_EQ(sim_run_seed(proto, opts, seed, &res), BFT_EOK);
		if (!res.ok) {
			failed++;
			if (!quiet && failed <= 3) {
				char cmd[512];
				sim_replay_command(proto, opts, seed, cmd, sizeof(cmd));
				fprintf(stderr, "seed %llu failed: %s\n  %s\n  replay: %s\n",
				        (unsigned long long)seed, res.why, res.scenario, cmd);
			}
		}
	}
	return failed;
}

static void test_replay(void)
{
	const sim_protocol_t *proto = sim_protocol_find("example-multi");
	CHECK(proto != NULL);
	sim_opts_t opts;
	sim_opts_default(&opts, 7, 2);
	for (uint64_t seed = 100; seed < 110; seed++) {
		sim_result_t a, b, c;
		CHECK_EQ(sim_run_seed(proto, &opts, seed, &a), BFT_EOK);
		CHECK_EQ(sim_run_seed(proto, &opts, seed, &b), BFT_EOK);
		CHECK_EQ(sim_run_seed(proto, &opts, seed + 1000, &c), BFT_EOK);
		CHECK(memcmp(a.trace, b.trace, SIM_TRACE_LEN) == 0);
		CHECK(memcmp(&a.stats, &b.stats, sizeof(a.stats)) == 0);
		CHECK(strcmp(a.scenario, b.scenario) == 0);
		CHECK(memcmp(a.trace, c.trace, SIM_TRACE_LEN) != 0);
		CHECK(a.ok && b.ok && c.ok);
	}
}

static void test_invariants(void)
{
	static const struct { const char *proto; uint16_t n, f; unsigned seeds; } runs[] = {
		{ "example-rbc", 4, 1, 10000 },
		{ "example-rbc", 7, 2, 4000 },
		{ "example-rbc", 10, 3, 1000 },
		{ "example-rbc", 5, 1, 1000 },
		{ "example-multi", 4, 1, 2000 },
		{ "example-multi", 7, 2, 500 },
	};
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		const sim_protocol_t *proto = sim_protocol_find(runs[i].proto);
		sim_opts_t opts;
		sim_opts_default(&opts, runs[i].n, runs[i].f);
		CHECK_EQ(run_seeds(proto, &opts, 0, runs[i].seeds, false), 0);
		/* Every behaviour on its own, with the most faulty nodes allowed. */
		for (int kind = 0; kind < SIM_BYZ_KINDS; kind++) {
			opts.byz = (sim_byz_t)kind;
			opts.faulty = runs[i].f;
			CHECK_EQ(run_seeds(proto, &opts, 50000, runs[i].seeds / 20, false), 0);
		}
	}
}

/*
 * A broken broadcast: every node outputs the first VALUE it gets, without
 * echoes. An equivocating proposer must make the agreement check fail.
 */
static int naive_create(const bft_params_t *p, void **out)
{
	bft_params_t *copy = malloc(sizeof(*copy) + 1);
	if (copy == NULL) {
		return BFT_ENOMEM;
	}
	*copy = *p;
	((uint8_t *)(copy + 1))[0] = 0;
	*out = copy;
	return BFT_EOK;
}

static void naive_destroy(void *proto) { free(proto); }

static int naive_input(void *proto, const uint8_t *in, size_t len, const bft_env_t *env,
                       bft_step_t *step)
{
	const bft_params_t *p = proto;
	return bft_step_send(step, bft_nodeset_all(p->n), in, len);
}

static int naive_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                         const bft_env_t *env, bft_step_t *step)
{
	uint8_t *done = (uint8_t *)((bft_params_t *)proto + 1);
	if (*done || from != 0) {
		return BFT_EOK;
	}
	*done = 1;
	return bft_step_output(step, 1, msg, len);
}

static bool naive_terminated(const void *proto)
{
	return ((const uint8_t *)((const bft_params_t *)proto + 1))[0] != 0;
}

static const bft_protocol_ops_t naive_ops = {
	.name = "naive", .create = naive_create, .destroy = naive_destroy,
	.handle_input = naive_input, .handle_message = naive_message,
	.terminated = naive_terminated,
};

static int naive_inputs(sim_t *sim)
{
	return sim_input(sim, 0, (const uint8_t *)"proposal", 8);
}

static void test_checker_catches_broken_protocol(void)
{
	sim_protocol_t naive = {
		.name = "naive", .ops = &naive_ops, .agree = SIM_AGREE_SEQUENCE,
		.expect_termination = false, .inputs = naive_inputs,
	};
	sim_opts_t opts;
	sim_opts_default(&opts, 4, 1);
	opts.byz = SIM_BYZ_EQUIVOCATE;
	opts.faulty = 1;
	unsigned failed = run_seeds(&naive, &opts, 0, 400, true);
	/* The faulty node is the proposer in about 1/4 of the seeds, and
	 * equivocation then splits the nodes in most of them. */
	CHECK(failed > 20);
	opts.byz = SIM_BYZ_HONEST;
	CHECK_EQ(run_seeds(&naive, &opts, 0, 400, true), 0);

	/* The failing seed's message names the invariant and the replay. */
	for (uint64_t seed = 0; seed < 400; seed++) {
		sim_result_t res;
		opts.byz = SIM_BYZ_EQUIVOCATE;
		CHECK_EQ(sim_run_seed(&naive, &opts, seed, &res), BFT_EOK);
		if (!res.ok) {
			CHECK(strstr(res.why, "agreement") != NULL);
			char cmd[512];
			sim_replay_command(&naive, &opts, seed, cmd, sizeof(cmd));
			CHECK(strstr(cmd, "--byz equivocate --faulty 1") != NULL);
			CHECK(strstr(cmd, "--seed ") != NULL);
			break;
		}
	}
}

/* Crash and restart with amnesia: the node is impaired, the others deliver. */
static void test_crash_restart(void)
{
	exrbc_conf_t rbc_conf = { .proposer = 0 };
	sim_conf_t conf = {
		.ops = &exrbc_ops, .proto_conf = &rbc_conf, .n = 4, .f = 1, .seed = 9,
		.delay_max_ms = 10, .crashed = 0x4, .crash_ms = 0, .restart_ms = 1000,
		.steps_max = 10000,
	};
	sim_t *sim = NULL;
	CHECK_EQ(sim_create(&conf, &sim), BFT_EOK);
	CHECK_EQ(sim_input(sim, 0, (const uint8_t *)"v", 1), BFT_EOK);
	CHECK_EQ(sim_run(sim), BFT_EOK);
	CHECK_EQ(sim_correct(sim), 0xb);
	CHECK_EQ(sim_impaired(sim), 0x4);
	for (bft_node_t i = 0; i < 4; i++) {
		CHECK(sim_node_terminated(sim, i) == (i != 2));
	}
	sim_stats_t stats;
	sim_stats(sim, &stats);
	CHECK(stats.dropped > 0);
	CHECK(stats.end_ms >= 1000);   /* the restart happened */
	sim_destroy(sim);

	/* Too small a step bound is a failure, not a hang. */
	conf.crashed = 0;
	conf.steps_max = 5;
	CHECK_EQ(sim_create(&conf, &sim), BFT_EOK);
	CHECK_EQ(sim_input(sim, 0, (const uint8_t *)"v", 1), BFT_EOK);
	CHECK_EQ(sim_run(sim), BFT_ESPACE);
	CHECK(strstr(sim_failure(sim), "step bound") != NULL);
	sim_destroy(sim);

	/* Bad configurations are refused. */
	conf.steps_max = 100;
	conf.n = 3;
	CHECK_EQ(sim_create(&conf, &sim), BFT_EINVAL);
	conf.n = 4;
	conf.faulty = 0x10;
	CHECK_EQ(sim_create(&conf, &sim), BFT_EINVAL);
}

/* Custom hooks: tamper sees only faulty senders; pre_crank picks the LIFO event. */
typedef struct {
	unsigned tampered;
	bool wrong_sender;
} hook_state_t;

static void hook_tamper(void *ctx, sim_t *sim, bft_node_t from, bft_node_t to,
                        const uint8_t *msg, size_t len)
{
	hook_state_t *st = ctx;
	st->tampered++;
	st->wrong_sender |= from != 3;
	sim_inject(sim, from, to, msg, len);
}

static size_t hook_lifo(void *ctx, const sim_t *sim)
{
	size_t best = 0;
	for (size_t k = 1; k < sim_pending_count(sim); k++) {
		if (sim_pending(sim, k)->seq > sim_pending(sim, best)->seq) {
			best = k;
		}
	}
	return best;
}

static void test_hooks(void)
{
	hook_state_t st = { 0 };
	sim_conf_t conf = {
		.ops = &exrbc_ops, .n = 4, .f = 1, .seed = 5, .faulty = 0x8,
		.adversary = { .ctx = &st, .tamper = hook_tamper, .pre_crank = hook_lifo },
		.delay_max_ms = 100, .steps_max = 10000,
	};
	sim_t *sim = NULL;
	CHECK_EQ(sim_create(&conf, &sim), BFT_EOK);
	CHECK_EQ(sim_input(sim, 0, (const uint8_t *)"lifo", 4), BFT_EOK);
	CHECK_EQ(sim_run(sim), BFT_EOK);
	CHECK(st.tampered == 8);     /* node 3: 4 ECHO + 4 READY */
	CHECK(!st.wrong_sender);
	for (bft_node_t i = 0; i < 4; i++) {
		CHECK(sim_node_terminated(sim, i));
		CHECK_EQ(sim_node_blamed(sim, i), 0);
	}
	sim_destroy(sim);
}

int main(void)
{
	test_replay();
	test_invariants();
	test_checker_catches_broken_protocol();
	test_crash_restart();
	test_hooks();
	return check_result("test_sim");
}
