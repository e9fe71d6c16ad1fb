/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The protocols `bftdns-sim --protocol NAME` can run, with their inputs and
 * their own invariants. A new protocol core adds an entry here.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/example_multi.h"
#include "coordinator/proto/example_rbc.h"
#include "coordinator/sim/protocols_bcast.h"
#include "coordinator/sim/protocols_tsign.h"
#include "coordinator/sim/scenario.h"

/* A value derived from the seed and a node, so that runs differ and replay. */
static size_t seed_value(uint64_t seed, bft_node_t node, uint8_t *buf, size_t cap)
{
	int len = snprintf((char *)buf, cap, "value of node %u, seed %" PRIu64, node, seed);
	return len > 0 && (size_t)len < cap ? (size_t)len : 0;
}

static bool output_is(const sim_t *sim, bft_node_t node, uint32_t tag,
                      const uint8_t *want, size_t want_len)
{
	for (size_t k = 0; k < sim_node_output_count(sim, node); k++) {
		uint32_t got_tag;
		size_t len;
		const uint8_t *data = sim_node_output(sim, node, k, &got_tag, &len);
		if (got_tag == tag) {
			return len == want_len && memcmp(data, want, len) == 0;
		}
	}
	return false;
}

/* example-rbc: node 0 proposes. */

static const exrbc_conf_t exrbc_sim_conf = { .proposer = 0 };

static int exrbc_inputs(sim_t *sim)
{
	uint8_t value[64];
	size_t len = seed_value(sim_conf(sim)->seed, 0, value, sizeof(value));
	return sim_input(sim, exrbc_sim_conf.proposer, value, len);
}

/* Validity (correct proposer: its value everywhere) and totality (one
 * correct output means all). */
static bool exrbc_check(const sim_t *sim, char *why, size_t why_len)
{
	const sim_conf_t *conf = sim_conf(sim);
	bft_nodeset_t correct = sim_correct(sim);
	bool proposer_ok = bft_nodeset_has(correct, exrbc_sim_conf.proposer);
	uint8_t value[64];
	size_t len = seed_value(conf->seed, 0, value, sizeof(value));
	unsigned outputs = 0;
	for (bft_node_t i = 0; i < conf->n; i++) {
		if (bft_nodeset_has(correct, i) && sim_node_output_count(sim, i) > 0) {
			outputs++;
		}
	}
	for (bft_node_t i = 0; i < conf->n; i++) {
		if (!bft_nodeset_has(correct, i)) {
			continue;
		}
		if (proposer_ok && !output_is(sim, i, EXRBC_OUTPUT_VALUE, value, len)) {
			snprintf(why, why_len, "validity: node %u did not output the correct proposer's value", i);
			return false;
		}
		if (outputs > 0 && sim_node_output_count(sim, i) != 1) {
			snprintf(why, why_len, "totality: node %u has %zu outputs, another correct node has one",
			         i, sim_node_output_count(sim, i));
			return false;
		}
	}
	return true;
}

static const sim_protocol_t sim_exrbc = {
	.name = "example-rbc",
	.ops = &exrbc_ops,
	.conf = &exrbc_sim_conf,
	.agree = SIM_AGREE_SEQUENCE,
	.expect_termination = false,   /* not with a faulty proposer; see exrbc_check */
	.inputs = exrbc_inputs,
	.check = exrbc_check,
};

/* example-multi: every node broadcasts its value. */

static int exmulti_inputs(sim_t *sim)
{
	const sim_conf_t *conf = sim_conf(sim);
	int ret = BFT_EOK;
	for (bft_node_t i = 0; ret == BFT_EOK && i < conf->n; i++) {
		uint8_t value[64];
		size_t len = seed_value(conf->seed, i, value, sizeof(value));
		ret = sim_input(sim, i, value, len);
	}
	return ret;
}

/* Every correct node has every correct proposer's value, under its tag. */
static bool exmulti_check(const sim_t *sim, char *why, size_t why_len)
{
	const sim_conf_t *conf = sim_conf(sim);
	bft_nodeset_t correct = sim_correct(sim);
	for (bft_node_t p = 0; p < conf->n; p++) {
		if (!bft_nodeset_has(correct, p)) {
			continue;
		}
		uint8_t value[64];
		size_t len = seed_value(conf->seed, p, value, sizeof(value));
		for (bft_node_t i = 0; i < conf->n; i++) {
			if (bft_nodeset_has(correct, i) && !output_is(sim, i, p, value, len)) {
				snprintf(why, why_len, "validity: node %u lacks correct node %u's value", i, p);
				return false;
			}
		}
	}
	return true;
}

static const sim_protocol_t sim_exmulti = {
	.name = "example-multi",
	.ops = &exmulti_ops,
	.conf = NULL,
	.agree = SIM_AGREE_BY_TAG,
	.expect_termination = false,   /* a silent proposer's broadcast never ends */
	.inputs = exmulti_inputs,
	.check = exmulti_check,
};

const sim_protocol_t *const sim_protocols[] = {
	&sim_exrbc,
	&sim_exmulti,
	&sim_abc,
	&sim_abc_coin_every_round,
	&sim_abc_silent,
	&sim_tsign_basic,
	&sim_tsign_optproof,
	&sim_tsign_optte,
	NULL,
};
