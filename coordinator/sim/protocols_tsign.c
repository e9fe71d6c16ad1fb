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

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "coordinator/proto/tsign.h"
#include "coordinator/sim/protocols_tsign.h"

#define SIM_TSIGN_BITS		1024
#define SIM_TSIGN_MSGS_MAX	8

/* A key per (n, f), dealt on first use from a fixed seed. */
typedef struct {
	shoup_public_t pub;
	shoup_secret_t secrets[SHOUP_PLAYERS_MAX];
} sim_tsign_key_t;

static const sim_tsign_key_t *sim_tsign_key(uint16_t n, uint16_t f)
{
	static sim_tsign_key_t *table[BFT_NODES_MAX + 1][BFT_NODES_MAX / 3 + 1];
	if (n > BFT_NODES_MAX || f > BFT_NODES_MAX / 3) {
		return NULL;
	}
	if (table[n][f] == NULL) {
		sim_tsign_key_t *key = calloc(1, sizeof(*key));
		if (key == NULL) {
			return NULL;
		}
		shoup_public_init(&key->pub);
		for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
			shoup_secret_init(&key->secrets[i]);
		}
		bft_prng_t prng;
		bft_prng_seed(&prng, 0x75160000u + n * 64u + f);
		if (shoup_deal(SIM_TSIGN_BITS, n, f, bft_prng_random, &prng, NULL, NULL,
		               &key->pub, key->secrets) != SHOUP_EOK) {
			shoup_public_clear(&key->pub);
			for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
				shoup_secret_clear(&key->secrets[i]);
			}
			free(key);
			return NULL;
		}
		table[n][f] = key;  /* kept for the life of the process */
	}
	return table[n][f];
}

static int sim_tsign_create(const bft_params_t *params, void **proto, shoup_strategy_t strategy)
{
	const sim_tsign_key_t *key = sim_tsign_key(params->n, params->f);
	if (key == NULL) {
		return BFT_EINVAL;
	}
	tsign_conf_t conf = {
		.pub = &key->pub, .secrets = key->secrets, .secret_count = params->n,
		.strategy = strategy,
		/* The simulator has no periodic time input (tsign_tick()), which
		 * designated signing needs when a member of D is crashed; every
		 * replica signs here. tests/proto/tsign_net.c runs designated
		 * signers with a virtual clock. */
		.designated = TSIGN_DESIGNATED_OFF,
	};
	bft_params_t p = *params;
	p.conf = &conf;
	return tsign_ops.create(&p, proto);
}

static int create_basic(const bft_params_t *params, void **proto)
{
	return sim_tsign_create(params, proto, SHOUP_STRATEGY_BASIC);
}

static int create_optproof(const bft_params_t *params, void **proto)
{
	return sim_tsign_create(params, proto, SHOUP_STRATEGY_OPTPROOF);
}

static int create_optte(const bft_params_t *params, void **proto)
{
	return sim_tsign_create(params, proto, SHOUP_STRATEGY_OPTTE);
}

/* The seed's request: its id, m and digests (SHA-256 of seeded text). */
static void sim_tsign_request(uint64_t seed, uint8_t digests[][32], tsign_request_t *req)
{
	req->id = tsign_id_make(1 + seed % 1000, (uint32_t)(seed % 7));
	req->alg = BFTDNS_ALG_RSASHA256;
	req->count = (uint16_t)(1 + seed % SIM_TSIGN_MSGS_MAX);
	for (uint16_t j = 0; j < req->count; j++) {
		char data[64];
		int len = snprintf(data, sizeof(data), "tsign sim seed %" PRIu64 " message %u", seed, j);
		bftdns_alg_digest(bftdns_alg_by_number(req->alg), (const uint8_t *)data, (size_t)len,
		                  digests[j]);
	}
	req->digests = &digests[0][0];
}

static int sim_tsign_inputs(sim_t *sim)
{
	const sim_conf_t *conf = sim_conf(sim);
	uint8_t digests[SIM_TSIGN_MSGS_MAX][32];
	tsign_request_t req;
	sim_tsign_request(conf->seed, digests, &req);
	uint8_t input[16 + SIM_TSIGN_MSGS_MAX * 32];
	size_t len = 0;
	int ret = tsign_request_encode(&req, input, sizeof(input), &len);
	for (bft_node_t i = 0; ret == BFT_EOK && i < conf->n; i++) {
		ret = sim_input(sim, i, input, len);
	}
	return ret;
}

/* The output of a node, verified against the seed's request. */
static bool sim_tsign_output_ok(const sim_t *sim, bft_node_t node, const tsign_request_t *req,
                                char *why, size_t why_len)
{
	const sim_tsign_key_t *key = sim_tsign_key(sim_conf(sim)->n, sim_conf(sim)->f);
	if (sim_node_output_count(sim, node) != 1) {
		snprintf(why, why_len, "node %u has %zu outputs, not 1", node, sim_node_output_count(sim, node));
		return false;
	}
	uint32_t tag;
	size_t len, sig_len;
	const uint8_t *data = sim_node_output(sim, node, 0, &tag, &len), *sigs;
	uint64_t id;
	uint16_t count;
	if (key == NULL || tag != TSIGN_OUTPUT_SIGS ||
	    tsign_output_decode(data, len, &id, &count, &sig_len, &sigs) != BFT_EOK ||
	    id != req->id || count != req->count) {
		snprintf(why, why_len, "node %u: output is not the request's", node);
		return false;
	}
	bool ok = true;
	mpz_t x, sig;
	mpz_inits(x, sig, NULL);
	for (uint16_t j = 0; ok && j < count; j++) {
		mpz_import(sig, sig_len, 1, 1, 1, 0, sigs + (size_t)j * sig_len);
		ok = bftdns_alg_encode_digest(bftdns_alg_by_number(req->alg), req->digests + 32 * j,
		                              sig_len, x) == SHOUP_EOK &&
		     shoup_signature_verify(&key->pub, x, sig);
	}
	mpz_clears(x, sig, NULL);
	if (!ok) {
		snprintf(why, why_len, "node %u output a signature that does not verify", node);
	}
	return ok;
}

/* Every correct node signed the request (at most f nodes are faulty or impaired). */
static bool sim_tsign_check(const sim_t *sim, char *why, size_t why_len)
{
	const sim_conf_t *conf = sim_conf(sim);
	uint8_t digests[SIM_TSIGN_MSGS_MAX][32];
	tsign_request_t req;
	sim_tsign_request(conf->seed, digests, &req);
	for (bft_node_t i = 0; i < conf->n; i++) {
		if (bft_nodeset_has(sim_correct(sim), i) && !sim_tsign_output_ok(sim, i, &req, why, why_len)) {
			return false;
		}
	}
	return true;
}

static void proxy_destroy(void *proto)
{
	tsign_ops.destroy(proto);
}

static int proxy_input(void *proto, const uint8_t *input, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	return tsign_ops.handle_input(proto, input, len, env, step);
}

static int proxy_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                         const bft_env_t *env, bft_step_t *step)
{
	return tsign_ops.handle_message(proto, from, msg, len, env, step);
}

static bool proxy_terminated(const void *proto)
{
	return tsign_ops.terminated(proto);
}

#define SIM_TSIGN_OPS(strategy) { \
	.name = "tsign-" #strategy, .create = create_##strategy, .destroy = proxy_destroy, \
	.handle_input = proxy_input, .handle_message = proxy_message, \
	.terminated = proxy_terminated, .fault_name = tsign_fault_name, \
}

static const bft_protocol_ops_t ops_basic = SIM_TSIGN_OPS(basic);
static const bft_protocol_ops_t ops_optproof = SIM_TSIGN_OPS(optproof);
static const bft_protocol_ops_t ops_optte = SIM_TSIGN_OPS(optte);

#define SIM_TSIGN_PROTOCOL(strategy) { \
	.name = "tsign-" #strategy, .ops = &ops_##strategy, .conf = NULL, \
	.agree = SIM_AGREE_SEQUENCE, \
	.expect_termination = false,  /* a service; see the check */ \
	.inputs = sim_tsign_inputs, .check = sim_tsign_check, \
}

const sim_protocol_t sim_tsign_basic = SIM_TSIGN_PROTOCOL(basic);
const sim_protocol_t sim_tsign_optproof = SIM_TSIGN_PROTOCOL(optproof);
const sim_protocol_t sim_tsign_optte = SIM_TSIGN_PROTOCOL(optte);
