/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The atomic broadcast's misbehaviour modes (abc.h, abc_mode_t):
 * - names: abc_mode_name()/abc_mode_parse() round trip, unknown names and
 *   out-of-range modes refused, abc_create() refuses a bad mode;
 * - one node by hand: a silent node addresses every message to itself
 *   only; an equivocating node sends its proposal (RBC VALUE) to half of
 *   the nodes and another well-formed proposal (same requests, clock + 1)
 *   to the other half, and forwards requests unchanged;
 * - the RBC rule that catches it: f + 1 ECHOs for each of two values blame
 *   the proposer (EQUIVOCATION, once), f ECHOs for another value do not;
 * - the simulator (bftdns-sim --mode): n = 4, f = 1 and n = 7, f = 2 with
 *   f faulty nodes silent, equivocating, or (n = 7) one of each, over many
 *   seeds with delays, partitions and a starved node: the scenario's
 *   checks (honest nodes deliver the same batches, every request given to
 *   a correct node is delivered at every correct node before the step
 *   bound, no correct node blamed) and here: silent nodes sent nothing to
 *   anyone, an equivocator is blamed in some seeds (the protocol can see
 *   it) and only faulty nodes are blamed. A control run with the same
 *   faulty nodes honest shows that they do talk and are never blamed, so
 *   the checks can tell the difference.
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/abc.h"
#include "coordinator/proto/acs.h"
#include "coordinator/proto/batch.h"
#include "coordinator/proto/rbc.h"
#include "tests/proto/bcast_sim.h"

static void test_names(void)
{
	CHECK(strcmp(abc_mode_name(ABC_MODE_HONEST), "honest") == 0);
	CHECK(strcmp(abc_mode_name(ABC_MODE_SILENT), "silent") == 0);
	CHECK(strcmp(abc_mode_name(ABC_MODE_EQUIVOCATE), "equivocate") == 0);
	CHECK(abc_mode_name(ABC_MODES) == NULL);
	CHECK(abc_mode_name((abc_mode_t)-1) == NULL);
	for (unsigned m = 0; m < ABC_MODES; m++) {
		abc_mode_t got = ABC_MODES;
		CHECK_EQ(abc_mode_parse(abc_mode_name((abc_mode_t)m), &got), BFT_EOK);
		CHECK_EQ(got, m);
	}
	static const char *const bad[] = { "", "Silent", "silent ", "mix", "equivocating", "1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		abc_mode_t got = ABC_MODE_EQUIVOCATE;
		CHECK_EQ(abc_mode_parse(bad[i], &got), BFT_EINVAL);
		CHECK_EQ(got, ABC_MODE_EQUIVOCATE);  /* untouched */
	}
	abc_mode_t got = ABC_MODE_SILENT;
	CHECK_EQ(abc_mode_parse(NULL, &got), BFT_EINVAL);
	CHECK_EQ(got, ABC_MODE_SILENT);
}

#define N	4
#define SELF	1

static int test_random(void *ctx, uint8_t *out, size_t len)
{
	return bft_prng_random(ctx, out, len);
}

/* Node SELF of 4 in `mode`, started, then given one request: its step. */
static abc_t *one_node(const test_coin_keys_t *keys, abc_mode_t mode, bft_step_t *step)
{
	abc_conf_t conf = {
		.coin = keys->keys, .session = (const uint8_t *)"modes", .session_len = 5,
		.mode = mode,
	};
	bft_params_t params = { .n = N, .f = 1, .self = SELF, .conf = &conf };
	abc_t *abc = NULL;
	CHECK_EQ(abc_create(&params, &abc), BFT_EOK);
	if (abc == NULL) {
		return NULL;
	}
	bft_prng_t prng;
	bft_prng_seed(&prng, 7);
	bft_env_t env = { .now_ms = 1700000000000ull, .random = test_random, .random_ctx = &prng };
	CHECK_EQ(abc_start(abc, false, &env, step), BFT_EOK);
	static const char req[] = "update example.com. A 192.0.2.1";
	CHECK_EQ(abc_handle_input(abc, (const uint8_t *)req, sizeof(req) - 1, &env, step), BFT_EOK);
	return abc;
}

/* Message k if it is our RBC VALUE of epoch 0: its value. */
static const uint8_t *own_value(const bft_step_t *step, size_t k, size_t *len)
{
	const uint8_t *m = bft_step_msg_data(step, k);
	size_t mlen = step->msgs[k].len;
	static const uint8_t epoch0[9] = { 1, 0, 0, 0, 0, 0, 0, 0, 0 };
	if (mlen < 16 || memcmp(m, epoch0, 9) != 0 || m[9] != ACS_SUB_RBC || m[10] != SELF ||
	    m[11] != RBC_VALUE) {
		return NULL;
	}
	*len = mlen - 16;
	return m + 16;
}

static void test_bad_conf(const test_coin_keys_t *keys)
{
	abc_conf_t conf = {
		.coin = keys->keys, .session = (const uint8_t *)"modes", .session_len = 5,
		.mode = ABC_MODES,
	};
	bft_params_t params = { .n = N, .f = 1, .self = 0, .conf = &conf };
	abc_t *abc = NULL;
	CHECK_EQ(abc_create(&params, &abc), BFT_EINVAL);
	CHECK(abc == NULL);
}

static void test_one_silent(const test_coin_keys_t *keys, bft_step_t *step)
{
	bft_step_clear(step);
	abc_t *abc = one_node(keys, ABC_MODE_SILENT, step);
	size_t values = 0, len = 0;
	for (size_t k = 0; k < step->msg_count; k++) {
		CHECK_EQ(step->msgs[k].to, bft_nodeset_one(SELF));
		values += own_value(step, k, &len) != NULL ? 1u : 0u;
	}
	/* It proposed (to itself): it runs the honest state machine. */
	CHECK_EQ(values, 1);
	abc_destroy(abc);

	/* The same calls in honest mode do reach the others. */
	bft_step_clear(step);
	abc = one_node(keys, ABC_MODE_HONEST, step);
	bft_nodeset_t to = 0;
	for (size_t k = 0; k < step->msg_count; k++) {
		to |= step->msgs[k].to;
	}
	CHECK_EQ(to, bft_nodeset_all(N));
	abc_destroy(abc);
}

static void test_one_equivocate(const test_coin_keys_t *keys, bft_step_t *step)
{
	bft_step_clear(step);
	abc_t *abc = one_node(keys, ABC_MODE_EQUIVOCATE, step);
	const uint8_t *val[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	bft_nodeset_t to[2] = { 0, 0 };
	size_t values = 0;
	bool forwarded = false;
	for (size_t k = 0; k < step->msg_count; k++) {
		size_t l = 0;
		const uint8_t *v = own_value(step, k, &l);
		if (v != NULL && values < 2) {
			val[values] = v;
			len[values] = l;
			to[values++] = step->msgs[k].to;
		}
		const uint8_t *m = bft_step_msg_data(step, k);
		if (m[0] == 2) {  /* REQUEST: to every other node, unchanged */
			forwarded = true;
			CHECK_EQ(step->msgs[k].to, bft_nodeset_all(N) & ~bft_nodeset_one(SELF));
		}
	}
	CHECK(forwarded);
	CHECK_EQ(values, 2);
	if (values != 2) {
		abc_destroy(abc);
		return;
	}
	/* Half B of epoch 0: the peers with an odd index; the rest and we get the real one. */
	bft_nodeset_t half = bft_nodeset_one(3);
	int real = bft_nodeset_has(to[0], SELF) ? 0 : 1;
	CHECK_EQ(to[real], bft_nodeset_all(N) & ~half);
	CHECK_EQ(to[1 - real], half);
	CHECK(len[0] == len[1] && memcmp(val[0], val[1], len[0]) != 0);
	batch_proposal_t a, b;
	CHECK_EQ(batch_proposal_open(&a, val[real], len[real], N), BFT_EOK);
	CHECK_EQ(batch_proposal_open(&b, val[1 - real], len[1 - real], N), BFT_EOK);
	CHECK_EQ(b.time_ms, a.time_ms + 1);
	CHECK_EQ(a.count, 1);
	CHECK_EQ(b.count, 1);
	abc_destroy(abc);
}

/* ECHO(value) from `from` into rbc; returns the faults it caused. */
static size_t rbc_echo(rbc_t *rbc, bft_node_t from, const char *value, bft_step_t *step)
{
	rbc_msg_t msg = { .kind = RBC_ECHO, .value = (const uint8_t *)value,
	                  .value_len = strlen(value) };
	uint8_t buf[64];
	size_t len = 0;
	CHECK_EQ(rbc_msg_encode(&msg, buf, sizeof(buf), &len), BFT_EOK);
	bft_step_clear(step);
	CHECK_EQ(rbc_handle_message(rbc, from, buf, len, NULL, step), BFT_EOK);
	return step->fault_count;
}

static void test_rbc_split(bft_step_t *step)
{
	rbc_conf_t conf = { .proposer = 0 };
	bft_params_t params = { .n = N, .f = 1, .self = 1, .conf = &conf };
	rbc_t *rbc = NULL;

	/* A correct proposer: one faulty node echoes another value: no blame. */
	CHECK_EQ(rbc_create(&params, &rbc), BFT_EOK);
	CHECK_EQ(rbc_echo(rbc, 3, "B", step), 0);
	CHECK_EQ(rbc_echo(rbc, 0, "A", step), 0);
	CHECK_EQ(rbc_echo(rbc, 1, "A", step), 0);
	CHECK_EQ(rbc_echo(rbc, 2, "A", step), 0);
	rbc_destroy(rbc);

	/* Proposer 0 told node 3 (and echoed to us) B, nodes 1 and 2 A. */
	CHECK_EQ(rbc_create(&params, &rbc), BFT_EOK);
	CHECK_EQ(rbc_echo(rbc, 1, "A", step), 0);
	CHECK_EQ(rbc_echo(rbc, 3, "B", step), 0);
	CHECK_EQ(rbc_echo(rbc, 2, "A", step), 0);   /* A 2, B 1 */
	CHECK_EQ(rbc_echo(rbc, 0, "B", step), 1);   /* f + 1 = 2 for each */
	CHECK_EQ(step->faults[0].node, 0);
	CHECK_EQ(step->faults[0].kind, BFT_FAULT_EQUIVOCATION);
	rbc_destroy(rbc);

	/* n = 7, f = 2: f ECHOs for B are not enough; f + 1 are, and once. */
	params.n = 7;
	params.f = 2;
	CHECK_EQ(rbc_create(&params, &rbc), BFT_EOK);
	CHECK_EQ(rbc_echo(rbc, 1, "A", step), 0);
	CHECK_EQ(rbc_echo(rbc, 2, "A", step), 0);
	CHECK_EQ(rbc_echo(rbc, 4, "B", step), 0);
	CHECK_EQ(rbc_echo(rbc, 3, "A", step), 0);
	CHECK_EQ(rbc_echo(rbc, 5, "B", step), 0);   /* A 3, B 2 = f */
	CHECK_EQ(rbc_echo(rbc, 0, "B", step), 1);   /* B 3 = f + 1 */
	CHECK_EQ(step->faults[0].node, 0);
	CHECK_EQ(step->faults[0].kind, BFT_FAULT_EQUIVOCATION);
	CHECK_EQ(rbc_echo(rbc, 6, "A", step), 0);   /* blamed once */
	rbc_destroy(rbc);
}

typedef struct {
	const char *proto;
	uint16_t n, f;
	const char *mode;         /* NULL: the faulty nodes run honestly (control) */
	uint64_t seeds;
} run_t;

/* The k-th faulty node (index order) of a mode: silent, equivocating (mix: alternately). */
static bool run_is(const run_t *run, unsigned k, const char *what)
{
	if (run->mode == NULL) {
		return false;
	}
	if (strcmp(run->mode, "mix") == 0) {
		return strcmp(what, k % 2 == 0 ? "silent" : "equivocate") == 0;
	}
	return strcmp(run->mode, what) == 0;
}

static void test_sim(const run_t *run)
{
	const sim_protocol_t *proto = sim_protocol_find(run->proto);
	CHECK(proto != NULL);
	if (proto == NULL) {
		return;
	}
	sim_opts_t opts;
	sim_opts_default(&opts, run->n, run->f);
	opts.byz = SIM_BYZ_HONEST;    /* the core misbehaves, not the network */
	opts.faulty = run->f;
	opts.steps_max = 200000;      /* liveness: everything delivered within this */
	if (run->mode != NULL) {
		opts.mode = sim_mode_find(proto, run->mode);
		CHECK(opts.mode != 0);
	}
	unsigned failures = 0, silent_talked = 0, equivocators_blamed = 0, honest_blamed = 0;
	unsigned faulty_talked = 0;
	uint64_t steps_max = 0;
	for (uint64_t seed = 0; seed < run->seeds; seed++) {
		sim_result_t res;
		int ret = sim_run_seed(proto, &opts, seed, &res);
		CHECK_EQ(ret, BFT_EOK);
		if (ret != BFT_EOK) {
			break;
		}
		char cmd[512];
		sim_replay_command(proto, &opts, seed, cmd, sizeof(cmd));
		if (!res.ok) {
			fprintf(stderr, "%s n=%u mode %s seed %" PRIu64 ": %s\n  scenario: %s\n  replay: %s\n",
			        run->proto, run->n, run->mode, seed, res.why, res.scenario, cmd);
			failures++;
		}
		steps_max = res.stats.steps > steps_max ? res.stats.steps : steps_max;
		bft_nodeset_t silent = 0, equivocators = 0;
		unsigned k = 0;
		for (bft_node_t i = 0; i < run->n; i++) {
			if (bft_nodeset_has(res.faulty, i)) {
				silent |= run_is(run, k, "silent") ? bft_nodeset_one(i) : 0;
				equivocators |= run_is(run, k, "equivocate") ? bft_nodeset_one(i) : 0;
				k++;
			}
		}
		if ((res.stats.talkers & silent) != 0) {
			fprintf(stderr, "seed %" PRIu64 ": silent node(s) 0x%x sent messages\n  replay: %s\n",
			        seed, res.stats.talkers & silent, cmd);
			silent_talked++;
		}
		if ((res.blamed & ~res.faulty) != 0) {
			fprintf(stderr, "seed %" PRIu64 ": non-faulty node(s) 0x%x blamed\n  replay: %s\n",
			        seed, res.blamed & ~res.faulty, cmd);
			honest_blamed++;
		}
		equivocators_blamed += (res.blamed & equivocators) != 0 ? 1u : 0u;
		faulty_talked += (res.stats.talkers & res.faulty) == res.faulty ? 1u : 0u;
	}
	printf("%s n=%u f=%u mode=%s: %" PRIu64 " seeds, %u violations, at most %" PRIu64
	       " steps; seeds with an equivocator blamed %u, with all faulty nodes talking %u\n",
	       run->proto, run->n, run->f, run->mode != NULL ? run->mode : "none (control)",
	       run->seeds, failures, steps_max, equivocators_blamed, faulty_talked);
	CHECK_EQ(failures, 0);
	CHECK_EQ(silent_talked, 0);
	CHECK_EQ(honest_blamed, 0);
	if (run->mode == NULL) {
		/* Control: honest "faulty" nodes talk in every seed, nobody is blamed. */
		CHECK_EQ(faulty_talked, run->seeds);
		CHECK_EQ(equivocators_blamed, 0);
	} else if (strcmp(run->mode, "silent") != 0) {
		/* The split VALUE is visible in most seeds (f + 1 ECHOs of each). */
		CHECK(equivocators_blamed > run->seeds / 4);
	}
}

int main(int argc, char **argv)
{
	uint64_t scale = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
	if (coin_init() != COIN_EOK) {
		return 1;
	}
	test_names();
	test_coin_keys_t keys;
	CHECK_EQ(test_coin_deal(&keys, N, 1), COIN_EOK);
	bft_step_t step;
	CHECK_EQ(bft_step_init(&step, BFT_MSG_MAX), BFT_EOK);
	test_bad_conf(&keys);
	test_one_silent(&keys, &step);
	test_one_equivocate(&keys, &step);
	test_rbc_split(&step);
	bft_step_deinit(&step);

	static const run_t runs[] = {
		{ "abc", 4, 1, NULL, 200 },
		{ "abc", 4, 1, "silent", 600 },
		{ "abc", 4, 1, "equivocate", 600 },
		{ "abc", 7, 2, NULL, 100 },
		{ "abc", 7, 2, "silent", 200 },
		{ "abc", 7, 2, "equivocate", 200 },
		{ "abc", 7, 2, "mix", 200 },
		/* Every agreement round with the threshold coin: lies in BVAL,
		 * AUX, CONF and TERM meet random coins. */
		{ "abc-coin", 4, 1, "equivocate", 60 },
	};
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		run_t run = runs[i];
		run.seeds *= scale;
		test_sim(&run);
	}
	return check_result("test_abc_modes");
}
