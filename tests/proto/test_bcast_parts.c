/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The sub-protocols of the atomic broadcast (coin, RBC, ABA, ACS), each
 * run on its own in the simulator over many seeds with every Byzantine
 * kind, partitions, crashes and a starved node: agreement, validity,
 * termination, and no correct node blamed.
 */

#include <stdlib.h>

#include "coordinator/proto/aba.h"
#include "coordinator/proto/acs.h"
#include "coordinator/proto/rbc.h"
#include "tests/proto/bcast_sim.h"

static test_coin_keys_t keys;

static size_t seed_value(uint64_t seed, bft_node_t node, uint8_t *buf, size_t cap)
{
	int len = snprintf((char *)buf, cap, "proposal of node %u, seed %" PRIu64, node, seed);
	return len > 0 && (size_t)len < cap ? (size_t)len : 0;
}

static bool output_tag(const sim_t *sim, bft_node_t node, uint32_t tag,
                       const uint8_t **data, size_t *len)
{
	for (size_t k = 0; k < sim_node_output_count(sim, node); k++) {
		uint32_t got;
		const uint8_t *d = sim_node_output(sim, node, k, &got, len);
		if (got == tag) {
			*data = d;
			return true;
		}
	}
	return false;
}

/* coin: every node starts; all output the same bit (agreement by tag). */

static pcoin_conf_t coin_conf = { .name = (const uint8_t *)"test coin", .name_len = 9 };

static int coin_inputs(sim_t *sim)
{
	int ret = BFT_EOK;
	for (bft_node_t i = 0; ret == BFT_EOK && i < sim_conf(sim)->n; i++) {
		ret = sim_input(sim, i, (const uint8_t *)"go", 2);
	}
	return ret;
}

static const sim_protocol_t proto_coin = {
	.name = "coin", .ops = &pcoin_ops, .conf = &coin_conf,
	.agree = SIM_AGREE_BY_TAG, .expect_termination = true, .inputs = coin_inputs,
};

/* rbc: node 0 proposes; validity if it is correct, totality always. */

static const rbc_conf_t rbc_conf = { .proposer = 0 };

static int rbc_inputs(sim_t *sim)
{
	uint8_t value[64];
	size_t len = seed_value(sim_conf(sim)->seed, 0, value, sizeof(value));
	return sim_input(sim, 0, value, len);
}

static bool rbc_check(const sim_t *sim, char *why, size_t why_len)
{
	const sim_conf_t *conf = sim_conf(sim);
	bft_nodeset_t correct = sim_correct(sim);
	uint8_t value[64];
	size_t want = seed_value(conf->seed, 0, value, sizeof(value));
	unsigned outputs = 0;
	for (bft_node_t i = 0; i < conf->n; i++) {
		outputs += bft_nodeset_has(correct, i) && sim_node_output_count(sim, i) > 0;
	}
	for (bft_node_t i = 0; i < conf->n; i++) {
		const uint8_t *data;
		size_t len;
		if (!bft_nodeset_has(correct, i)) {
			continue;
		}
		bool got = output_tag(sim, i, RBC_OUTPUT_VALUE, &data, &len);
		if (bft_nodeset_has(correct, 0) &&
		    (!got || len != want || memcmp(data, value, len) != 0)) {
			snprintf(why, why_len, "validity: node %u lacks the correct proposer's value", i);
			return false;
		}
		if (outputs > 0 && sim_node_output_count(sim, i) != 1) {
			snprintf(why, why_len, "totality: node %u has %zu outputs", i,
			         sim_node_output_count(sim, i));
			return false;
		}
	}
	return true;
}

static const sim_protocol_t proto_rbc = {
	.name = "rbc", .ops = &rbc_ops, .conf = &rbc_conf,
	.agree = SIM_AGREE_SEQUENCE, .expect_termination = false,
	.inputs = rbc_inputs, .check = rbc_check,
};

/* aba: inputs drawn from the seed (all equal in one seed of four). */

static aba_conf_t aba_conf = { .coin_name = (const uint8_t *)"test aba", .coin_name_len = 8 };

static uint8_t aba_input_of(uint64_t seed, bft_node_t i)
{
	if (seed % 4 == 0) {
		return (uint8_t)(seed / 4 % 2);
	}
	bft_prng_t prng;
	bft_prng_seed(&prng, seed * 131 + i);
	return (uint8_t)(bft_prng_next(&prng) & 1);
}

static int aba_inputs(sim_t *sim)
{
	int ret = BFT_EOK;
	for (bft_node_t i = 0; ret == BFT_EOK && i < sim_conf(sim)->n; i++) {
		uint8_t b = aba_input_of(sim_conf(sim)->seed, i);
		ret = sim_input(sim, i, &b, 1);
	}
	return ret;
}

/* Validity: a decision is the input of some correct node... when all
 * correct inputs are equal, it is that input. */
static bool aba_check(const sim_t *sim, char *why, size_t why_len)
{
	const sim_conf_t *conf = sim_conf(sim);
	bft_nodeset_t honest = bft_nodeset_all(conf->n) & ~conf->faulty;
	unsigned seen[2] = { 0, 0 };
	for (bft_node_t i = 0; i < conf->n; i++) {
		if (bft_nodeset_has(honest, i)) {
			seen[aba_input_of(conf->seed, i)]++;
		}
	}
	for (bft_node_t i = 0; i < conf->n; i++) {
		const uint8_t *data;
		size_t len;
		if (!bft_nodeset_has(honest, i) || !output_tag(sim, i, ABA_OUTPUT_DECISION, &data, &len)) {
			continue;
		}
		if (len != 1 || data[0] > 1 || seen[data[0]] == 0) {
			snprintf(why, why_len, "validity: node %u decided a value no honest node proposed", i);
			return false;
		}
	}
	return true;
}

static const sim_protocol_t proto_aba = {
	.name = "aba", .ops = &aba_ops, .conf = &aba_conf,
	.agree = SIM_AGREE_BY_TAG, .expect_termination = true,
	.inputs = aba_inputs, .check = aba_check,
};

/* acs: every node proposes; all agree on a subset of >= n - f proposals,
 * and every output of a correct proposer is its proposal. */

static acs_conf_t acs_conf = { .name = (const uint8_t *)"test acs", .name_len = 8 };

static int acs_inputs(sim_t *sim)
{
	int ret = BFT_EOK;
	for (bft_node_t i = 0; ret == BFT_EOK && i < sim_conf(sim)->n; i++) {
		uint8_t value[64];
		size_t len = seed_value(sim_conf(sim)->seed, i, value, sizeof(value));
		ret = sim_input(sim, i, value, len);
	}
	return ret;
}

static bool acs_check(const sim_t *sim, char *why, size_t why_len)
{
	const sim_conf_t *conf = sim_conf(sim);
	bft_nodeset_t correct = sim_correct(sim);
	bft_nodeset_t honest = bft_nodeset_all(conf->n) & ~conf->faulty;
	for (bft_node_t i = 0; i < conf->n; i++) {
		size_t count = sim_node_output_count(sim, i);
		if (!bft_nodeset_has(correct, i)) {
			continue;
		}
		if (count < (size_t)(conf->n - conf->f)) {
			snprintf(why, why_len, "node %u output %zu proposals, fewer than n - f", i, count);
			return false;
		}
		for (size_t k = 0; k < count; k++) {
			uint32_t tag;
			size_t len;
			const uint8_t *data = sim_node_output(sim, i, k, &tag, &len);
			uint8_t value[64];
			size_t want = seed_value(conf->seed, (bft_node_t)tag, value, sizeof(value));
			if (bft_nodeset_has(honest, (bft_node_t)tag) &&
			    (len != want || memcmp(data, value, len) != 0)) {
				snprintf(why, why_len, "node %u output a wrong value for honest %u", i, tag);
				return false;
			}
		}
	}
	return true;
}

static const sim_protocol_t proto_acs = {
	.name = "acs", .ops = &acs_ops, .conf = &acs_conf,
	.agree = SIM_AGREE_BY_TAG, .expect_termination = true,
	.inputs = acs_inputs, .check = acs_check,
};

typedef struct {
	const sim_protocol_t *proto;
	uint16_t n, f;
	uint64_t seeds;
	bool every_round;
} run_t;

int main(int argc, char **argv)
{
	/* Seeds per run scale with an optional factor (CI: 1). */
	uint64_t scale = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
	static const run_t runs[] = {
		{ &proto_coin, 4, 1, 300, false },
		{ &proto_coin, 7, 2, 200, false },
		{ &proto_rbc, 4, 1, 1000, false },
		{ &proto_rbc, 10, 3, 300, false },
		{ &proto_aba, 4, 1, 1000, false },
		{ &proto_aba, 4, 1, 500, true },
		{ &proto_aba, 7, 2, 400, true },
		{ &proto_aba, 10, 3, 200, false },
		{ &proto_acs, 4, 1, 400, false },
		{ &proto_acs, 4, 1, 200, true },
		{ &proto_acs, 7, 2, 100, false },
	};
	if (coin_init() != COIN_EOK) {
		return 1;
	}
	static test_coin_keys_t dealt[11];
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		const run_t *run = &runs[i];
		CHECK_EQ(test_coin_deal(&dealt[run->n], run->n, run->f), COIN_EOK);
		keys = dealt[run->n];
		keys.keys.pub = &dealt[run->n].pub;
		keys.keys.secrets = dealt[run->n].secrets;
		coin_conf.keys = keys.keys;
		aba_conf.coin = keys.keys;
		aba_conf.coin_every_round = run->every_round;
		acs_conf.coin = keys.keys;
		acs_conf.coin_every_round = run->every_round;
		sim_opts_t opts;
		sim_opts_default(&opts, run->n, run->f);
		unsigned failures = test_run_seeds(run->proto, &opts, 0, run->seeds * scale);
		printf("%s n=%u f=%u%s: %" PRIu64 " seeds, %u violations\n", run->proto->name,
		       run->n, run->f, run->every_round ? " (coin every round)" : "",
		       run->seeds * scale, failures);
		CHECK_EQ(failures, 0);
	}
	return check_result("test_bcast_parts");
}
