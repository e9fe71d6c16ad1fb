/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/crypto/coin.h"
#include "coordinator/proto/abc.h"
#include "coordinator/proto/batch.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "coordinator/sim/protocols_bcast.h"

#define REQUESTS_MAX	8
/* With a stream of requests (sim_conf_t.load_until_ms): how many. */
#define REQUESTS_LOAD	32

/* Coin keys per (n, f), dealt on first use from a fixed seed. */
typedef struct {
	bool dealt;
	coin_public_t pub;
	coin_secret_t secrets[COIN_PLAYERS_MAX];
} sim_coin_keys_t;

static sim_coin_keys_t *sim_keys_get(uint16_t n, uint16_t f)
{
	static sim_coin_keys_t *table[BFT_NODES_MAX + 1][BFT_NODES_MAX / 3 + 1];
	if (n == 0 || n > BFT_NODES_MAX || f > BFT_NODES_MAX / 3 || n < 3 * f + 1) {
		return NULL;
	}
	if (table[n][f] == NULL) {
		sim_coin_keys_t *keys = calloc(1, sizeof(*keys));
		bft_prng_t prng;
		bft_prng_seed(&prng, 0xc014ull << 16 | (uint64_t)n << 8 | f);
		if (keys == NULL || coin_deal(n, f, bft_prng_random, &prng, &keys->pub,
		                              keys->secrets) != COIN_EOK) {
			free(keys);
			return NULL;
		}
		table[n][f] = keys;
	}
	return table[n][f];
}

/*
 * Misbehaviour modes of faulty nodes (bftdns-sim --mode, sim_opts_t.mode):
 * the core's own (abc_mode_t) and "mix", in which the faulty nodes take
 * turns (the first silent, the second equivocating, ...). A node's conf
 * (params->conf) is then a pointer to its abc_mode_t.
 */
#define SIM_ABC_MODE_MIX	ABC_MODES

static const char *abc_sim_mode_name(unsigned mode)
{
	if (mode == SIM_ABC_MODE_MIX) {
		return "mix";
	}
	return mode > ABC_MODE_HONEST && mode < ABC_MODES ? abc_mode_name((abc_mode_t)mode) : NULL;
}

static const void *abc_sim_mode_conf(unsigned mode, unsigned k)
{
	static const abc_mode_t modes[ABC_MODES] = {
		ABC_MODE_HONEST, ABC_MODE_SILENT, ABC_MODE_EQUIVOCATE,
	};
	if (mode == SIM_ABC_MODE_MIX) {
		mode = k % 2 == 0 ? ABC_MODE_SILENT : ABC_MODE_EQUIVOCATE;
	}
	return abc_sim_mode_name(mode) != NULL ? &modes[mode] : NULL;
}

static int abc_sim_create(const bft_params_t *params, void **proto, bool every_round,
                          bool votes_durable)
{
	const abc_mode_t *mode = params->conf;
	sim_coin_keys_t *keys = sim_keys_get(params->n, params->f);
	if (keys == NULL) {
		return BFT_EINVAL;
	}
	abc_conf_t conf = {
		.coin = { .pub = &keys->pub, .secrets = keys->secrets, .secret_count = params->n },
		.session = (const uint8_t *)"sim", .session_len = 3,
		.batch_max = 4,   /* Small batches: more epochs per run. */
		.coin_every_round = every_round,
		.mode = mode != NULL ? *mode : ABC_MODE_HONEST,
		.votes_durable = votes_durable,
	};
	bft_params_t p = *params;
	p.conf = &conf;
	return abc_ops.create(&p, proto);
}

/* Request k of a seed and the nodes it is given to. */
static size_t request_bytes(uint64_t seed, unsigned k, uint8_t *buf, size_t cap)
{
	int len = snprintf((char *)buf, cap, "request %u of seed %" PRIu64, k, seed);
	return len > 0 && (size_t)len < cap ? (size_t)len : 0;
}

static unsigned request_count(const sim_conf_t *conf)
{
	if (conf->load_until_ms > 0) {
		return REQUESTS_LOAD;
	}
	bft_prng_t prng;
	bft_prng_seed(&prng, conf->seed ^ 0xabcull);
	return 1 + (unsigned)bft_prng_below(&prng, REQUESTS_MAX);
}

/* When request k is given: at 0, or spread over the load (k < 32). */
static uint64_t request_time(const sim_conf_t *conf, unsigned k)
{
	return conf->load_until_ms * k / REQUESTS_LOAD;
}

static bft_nodeset_t request_nodes(uint64_t seed, unsigned k, uint16_t n)
{
	bft_prng_t prng;
	bft_prng_seed(&prng, seed * 977 + k);
	bft_nodeset_t to = (bft_nodeset_t)bft_prng_next(&prng) & bft_nodeset_all(n);
	/* Mostly one node, sometimes several (dedup), never none. */
	if (bft_prng_chance(&prng, 700000)) {
		to = bft_nodeset_one((bft_node_t)bft_prng_below(&prng, n));
	}
	return to != 0 ? to : 1;
}

static int abc_sim_inputs(sim_t *sim)
{
	const sim_conf_t *conf = sim_conf(sim);
	unsigned count = request_count(conf);
	int ret = BFT_EOK;
	for (unsigned k = 0; ret == BFT_EOK && k < count; k++) {
		uint8_t req[64];
		size_t len = request_bytes(conf->seed, k, req, sizeof(req));
		bft_nodeset_t to = request_nodes(conf->seed, k, conf->n);
		for (bft_node_t i = 0; ret == BFT_EOK && i < conf->n; i++) {
			if (!bft_nodeset_has(to, i)) {
				continue;
			}
			ret = conf->load_until_ms > 0 ? sim_input_at(sim, i, request_time(conf, k), req, len)
			                              : sim_input(sim, i, req, len);
		}
	}
	return ret;
}

/* Index of a request among the seed's inputs, or -1. */
static int request_index(const sim_conf_t *conf, const uint8_t *req, size_t len)
{
	for (unsigned k = 0; k < request_count(conf); k++) {
		uint8_t want[64];
		size_t want_len = request_bytes(conf->seed, k, want, sizeof(want));
		if (want_len == len && memcmp(want, req, len) == 0) {
			return (int)k;
		}
	}
	return -1;
}

typedef struct {
	char *why;
	size_t why_len;
	uint32_t seen;            /*!< Bit k: request k delivered at this node. */
} abc_check_t;

/* Output `at` of node i, its batch number `index`: framing, epoch order,
 * time, integrity. */
static bool abc_check_batch(const sim_t *sim, bft_node_t i, size_t at, size_t index,
                            uint64_t *prev_time, abc_check_t *chk)
{
	const sim_conf_t *conf = sim_conf(sim);
	uint32_t tag;
	size_t len;
	const uint8_t *data = sim_node_output(sim, i, at, &tag, &len);
	batch_reader_t br;
	if (tag != ABC_OUTPUT_BATCH || batch_reader_open(&br, data, len) != BFT_EOK ||
	    br.epoch != index) {
		snprintf(chk->why, chk->why_len, "node %u output %zu is not batch %zu", i, index, index);
		return false;
	}
	uint64_t clock_max = sim_now(sim) + conf->clock_skew_max_ms;
	if (br.time_ms < *prev_time || br.time_ms > clock_max) {
		snprintf(chk->why, chk->why_len, "time: node %u batch %zu has time %" PRIu64
		         " (previous %" PRIu64 ", latest clock %" PRIu64 ")",
		         i, index, br.time_ms, *prev_time, clock_max);
		return false;
	}
	*prev_time = br.time_ms;
	bft_node_t proposer, origin;
	const uint8_t *req;
	size_t req_len;
	while (batch_reader_next(&br, &proposer, &origin, &req, &req_len)) {
		int k = request_index(conf, req, req_len);
		/* Invented: only a faulty proposer, or a faulty origin that
		 * forwarded it, can be behind it. */
		if (k < 0 && !bft_nodeset_has(conf->faulty, proposer) &&
		    !bft_nodeset_has(conf->faulty, origin)) {
			snprintf(chk->why, chk->why_len, "integrity: node %u delivered a request nobody "
			         "gave, from non-faulty %u via %u", i, origin, proposer);
			return false;
		}
		if (k >= 0 && (chk->seen >> k & 1)) {
			snprintf(chk->why, chk->why_len, "integrity: node %u delivered request %d twice",
			         i, k);
			return false;
		}
		chk->seen |= k >= 0 ? (uint32_t)1 << k : 0;
	}
	return true;
}

static bool abc_sim_check(const sim_t *sim, char *why, size_t why_len)
{
	const sim_conf_t *conf = sim_conf(sim);
	bft_nodeset_t honest = bft_nodeset_all(conf->n) & ~conf->faulty;
	bft_nodeset_t correct = sim_correct(sim);
	/* Given to a correct node, or to an honest one after every crashed
	 * node was back (the stream of requests of --crash-all). */
	uint32_t wanted = 0;
	for (unsigned k = 0; k < request_count(conf); k++) {
		bft_nodeset_t to = request_nodes(conf->seed, k, conf->n);
		bool after = conf->load_until_ms > 0 && conf->crashed != 0 &&
		             request_time(conf, k) > conf->restart_ms && (to & honest) != 0;
		wanted |= (to & correct) != 0 || after ? (uint32_t)1 << k : 0;
	}
	for (bft_node_t i = 0; i < conf->n; i++) {
		if (!bft_nodeset_has(honest, i)) {
			continue;
		}
		abc_check_t chk = { .why = why, .why_len = why_len };
		uint64_t prev_time = 0;
		size_t index = 0;
		for (size_t k = 0; k < sim_node_output_count(sim, i); k++) {
			uint32_t tag;
			size_t len;
			sim_node_output(sim, i, k, &tag, &len);
			if (tag == ABC_OUTPUT_VOTE) {
				continue;   /* Its own vote records: kept for its restart. */
			}
			if (!abc_check_batch(sim, i, k, index++, &prev_time, &chk)) {
				return false;
			}
		}
		/* A restarted node must have caught up too (abc_sim_restart). */
		if ((bft_nodeset_has(correct, i) || bft_nodeset_has(conf->crashed, i)) &&
		    (wanted & ~chk.seen) != 0) {
			snprintf(why, why_len, "validity: %s node %u lacks requests 0x%x",
			         bft_nodeset_has(correct, i) ? "correct" : "restarted", i,
			         wanted & ~chk.seen);
			return false;
		}
	}
	return true;
}

/* Only batches are the same everywhere; vote records are a node's own. */
static bool abc_sim_agreed(uint32_t tag)
{
	return tag == ABC_OUTPUT_BATCH;
}

/*
 * A crashed node restarts as a replica does (the driver contract, abc.h):
 * its delivered batches are durable (the module's batch log), and so are
 * its vote records (the simulator keeps every output before it sends the
 * step's messages, as drive.c does), so it replays the batches into the
 * fresh instance, gives back its votes (abc-silent: none, the restart
 * without them) and announces its epoch; what it missed it then fetches,
 * or agrees on again.
 */
static int abc_sim_restart_with(const sim_t *sim, bft_node_t node, void *proto,
                                const bft_env_t *env, bft_step_t *step, bool votes)
{
	for (size_t k = 0; k < sim_node_output_count(sim, node); k++) {
		uint32_t tag;
		size_t len;
		const uint8_t *data = sim_node_output(sim, node, k, &tag, &len);
		int ret = tag == ABC_OUTPUT_BATCH ? abc_restore(proto, data, len) : BFT_EOK;
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	for (size_t k = 0; votes && k < sim_node_output_count(sim, node); k++) {
		uint32_t tag;
		size_t len;
		const uint8_t *data = sim_node_output(sim, node, k, &tag, &len);
		int ret = tag == ABC_OUTPUT_VOTE ? abc_restore_vote(proto, data, len) : BFT_EOK;
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	return abc_start(proto, true, env, step);
}

static int abc_sim_restart(const sim_t *sim, bft_node_t node, void *proto, const bft_env_t *env,
                           bft_step_t *step)
{
	return abc_sim_restart_with(sim, node, proto, env, step, true);
}

static int abc_sim_restart_silent(const sim_t *sim, bft_node_t node, void *proto,
                                  const bft_env_t *env, bft_step_t *step)
{
	return abc_sim_restart_with(sim, node, proto, env, step, false);
}

/* abc_ops with coin keys dealt for the run's (n, f): only create differs. */
static int proxy_create_fixed(const bft_params_t *params, void **proto)
{
	return abc_sim_create(params, proto, false, true);
}

static int proxy_create_every(const bft_params_t *params, void **proto)
{
	return abc_sim_create(params, proto, true, true);
}

static int proxy_create_silent(const bft_params_t *params, void **proto)
{
	return abc_sim_create(params, proto, false, false);
}

static void proxy_destroy(void *proto)
{
	abc_ops.destroy(proto);
}

static int proxy_input(void *proto, const uint8_t *input, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	return abc_ops.handle_input(proto, input, len, env, step);
}

static int proxy_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                         const bft_env_t *env, bft_step_t *step)
{
	return abc_ops.handle_message(proto, from, msg, len, env, step);
}

static bool proxy_terminated(const void *proto)
{
	return abc_ops.terminated(proto);
}

static const char *proxy_fault_name(uint16_t kind)
{
	return abc_ops.fault_name(kind);
}

static const bft_protocol_ops_t abc_proxy_fixed = {
	.name = "abc", .create = proxy_create_fixed, .destroy = proxy_destroy,
	.handle_input = proxy_input, .handle_message = proxy_message,
	.terminated = proxy_terminated, .fault_name = proxy_fault_name,
};

static const bft_protocol_ops_t abc_proxy_silent = {
	.name = "abc-silent", .create = proxy_create_silent, .destroy = proxy_destroy,
	.handle_input = proxy_input, .handle_message = proxy_message,
	.terminated = proxy_terminated, .fault_name = proxy_fault_name,
};

static const bft_protocol_ops_t abc_proxy_every = {
	.name = "abc-coin", .create = proxy_create_every, .destroy = proxy_destroy,
	.handle_input = proxy_input, .handle_message = proxy_message,
	.terminated = proxy_terminated, .fault_name = proxy_fault_name,
};

const sim_protocol_t sim_abc = {
	.name = "abc",
	.ops = &abc_proxy_fixed,
	.conf = NULL,
	.agree = SIM_AGREE_SEQUENCE,
	.agreed = abc_sim_agreed,
	.expect_termination = false,   /* a service: never terminates; see the check */
	.inputs = abc_sim_inputs,
	.check = abc_sim_check,
	.restart = abc_sim_restart,
	.mode_name = abc_sim_mode_name,
	.mode_conf = abc_sim_mode_conf,
};

const sim_protocol_t sim_abc_coin_every_round = {
	.name = "abc-coin",
	.ops = &abc_proxy_every,
	.conf = NULL,
	.agree = SIM_AGREE_SEQUENCE,
	.agreed = abc_sim_agreed,
	.expect_termination = false,
	.inputs = abc_sim_inputs,
	.check = abc_sim_check,
	.restart = abc_sim_restart,
	.mode_name = abc_sim_mode_name,
	.mode_conf = abc_sim_mode_conf,
};

const sim_protocol_t sim_abc_silent = {
	.name = "abc-silent",
	.ops = &abc_proxy_silent,
	.conf = NULL,
	.agree = SIM_AGREE_SEQUENCE,
	.agreed = abc_sim_agreed,
	.expect_termination = false,
	.inputs = abc_sim_inputs,
	.check = abc_sim_check,
	.restart = abc_sim_restart_silent,
	.mode_name = abc_sim_mode_name,
	.mode_conf = abc_sim_mode_conf,
};
