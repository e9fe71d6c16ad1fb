/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "coordinator/sim/scenario.h"

#define SIM_STEPS_DEFAULT	2000000

void sim_opts_default(sim_opts_t *opts, uint16_t n, uint16_t f)
{
	memset(opts, 0, sizeof(*opts));
	opts->n = n;
	opts->f = f;
	opts->byz = SIM_BYZ_KINDS;
	opts->faulty = -1;
	opts->crashes = true;
	opts->partitions = true;
	opts->starve = true;
}

const sim_protocol_t *sim_protocol_find(const char *name)
{
	for (size_t i = 0; sim_protocols[i] != NULL; i++) {
		if (strcmp(sim_protocols[i]->name, name) == 0) {
			return sim_protocols[i];
		}
	}
	return NULL;
}

/* k distinct random nodes out of `from`. */
static bft_nodeset_t draw_nodes(bft_prng_t *prng, bft_nodeset_t from, unsigned k)
{
	bft_nodeset_t set = 0;
	for (unsigned guard = 0; bft_nodeset_count(set) < k && guard < 10000; guard++) {
		bft_node_t i = (bft_node_t)bft_prng_below(prng, 32);
		if (bft_nodeset_has(from, i)) {
			set |= bft_nodeset_one(i);
		}
	}
	assert(bft_nodeset_count(set) == k);
	return set;
}

/* Draws the run's scenario; the fault budget f covers faulty + impaired nodes. */
static void draw_scenario(const sim_opts_t *opts, uint64_t seed, sim_conf_t *conf,
                          sim_byz_state_t *byz)
{
	bft_prng_t prng;
	bft_prng_seed(&prng, seed ^ 0x5ce7a10ull);
	bft_nodeset_t all = bft_nodeset_all(opts->n);
	unsigned k = opts->faulty >= 0 ? (unsigned)opts->faulty : (unsigned)bft_prng_below(&prng, opts->f + 1u);
	if (k > opts->f) {
		k = opts->f;
	}
	conf->faulty = draw_nodes(&prng, all, k);
	unsigned budget = opts->f - k;

	byz->kind = opts->byz < SIM_BYZ_KINDS ? opts->byz : (sim_byz_t)bft_prng_below(&prng, SIM_BYZ_KINDS);
	byz->half = (bft_nodeset_t)bft_prng_next(&prng) & all;

	static const uint32_t delays[] = { 0, 1, 10, 100 };
	conf->delay_max_ms = delays[bft_prng_below(&prng, 4)];
	conf->clock_skew_max_ms = (uint32_t)bft_prng_below(&prng, 1001);

	if (opts->crash_all) {
		/* Within the first epochs of the stream of requests, and back
		 * while it still runs. */
		conf->crashed = all & ~conf->faulty;
		conf->crash_ms = 20 + bft_prng_below(&prng, 300);
		conf->restart_ms = conf->crash_ms + 1 + bft_prng_below(&prng, 300);
		conf->load_until_ms = conf->restart_ms + 300;
	} else if (opts->crashes && budget > 0 && bft_prng_chance(&prng, 300000)) {
		unsigned c = 1 + (unsigned)bft_prng_below(&prng, budget);
		conf->crashed = draw_nodes(&prng, all & ~conf->faulty, c);
		conf->crash_ms = bft_prng_below(&prng, 200);
		conf->restart_ms = conf->crash_ms + bft_prng_below(&prng, 300);
		budget -= c;
	}
	if (opts->partitions && bft_prng_chance(&prng, 300000)) {
		conf->partition_drops = budget > 0 && bft_prng_chance(&prng, 500000);
		unsigned most = conf->partition_drops ? budget : opts->n - 1u;
		bft_nodeset_t avail = all & ~conf->faulty & ~conf->crashed;
		unsigned size = 1 + (unsigned)bft_prng_below(&prng, most);
		if (size > bft_nodeset_count(avail)) {
			size = bft_nodeset_count(avail);
		}
		conf->isolated = draw_nodes(&prng, avail, size);
		conf->heal_ms = bft_prng_below(&prng, 500);
	}
	bft_nodeset_t correct = all & ~conf->faulty & ~conf->crashed &
	                        ~(conf->partition_drops ? conf->isolated : 0);
	if (opts->starve && correct != 0 && bft_prng_chance(&prng, 200000)) {
		byz->starve = true;
		byz->victim = (bft_node_t)__builtin_ctz(draw_nodes(&prng, correct, 1));
	}
}

unsigned sim_mode_find(const sim_protocol_t *proto, const char *name)
{
	/* Bounded by the node budget: no protocol has more modes than that. */
	for (unsigned m = 1; proto->mode_name != NULL && m <= BFT_NODES_MAX; m++) {
		const char *known = proto->mode_name(m);
		if (known == NULL) {
			break;
		}
		if (strcmp(known, name) == 0) {
			return m;
		}
	}
	return 0;
}

/* Gives every faulty node the protocol's conf for the run's mode. */
static int apply_mode(const sim_protocol_t *proto, const sim_opts_t *opts, sim_conf_t *conf)
{
	if (opts->mode == 0) {
		return BFT_EOK;
	}
	if (proto->mode_conf == NULL || proto->mode_name == NULL ||
	    proto->mode_name(opts->mode) == NULL) {
		return BFT_EINVAL;
	}
	unsigned k = 0;
	for (bft_node_t i = 0; i < conf->n; i++) {
		if (bft_nodeset_has(conf->faulty, i)) {
			conf->node_conf[i] = proto->mode_conf(opts->mode, k++);
			if (conf->node_conf[i] == NULL) {
				return BFT_EINVAL;
			}
		}
	}
	return BFT_EOK;
}

static void describe(const sim_protocol_t *proto, const sim_opts_t *opts, const sim_conf_t *conf,
                     const sim_byz_state_t *byz, char *buf, size_t len)
{
	const char *mode = opts->mode != 0 ? proto->mode_name(opts->mode) : NULL;
	snprintf(buf, len, "faulty=0x%x(%s%s%s) delay<=%ums skew<=%ums crashed=0x%x@%" PRIu64 "-%" PRIu64
	         " isolated=0x%x until %" PRIu64 "%s starve=%s%u load<=%" PRIu64 "ms",
	         conf->faulty, mode != NULL ? mode : "", mode != NULL ? ", " : "",
	         sim_byz_name(byz->kind), conf->delay_max_ms, conf->clock_skew_max_ms,
	         conf->crashed, conf->crash_ms, conf->restart_ms, conf->isolated, conf->heal_ms,
	         conf->partition_drops ? " (drops)" : "", byz->starve ? "" : "no,", byz->victim,
	         conf->load_until_ms);
}

/* The next output of node from index *k on that the agreement compares. */
static bool next_agreed(const sim_protocol_t *proto, const sim_t *sim, bft_node_t node, size_t *k)
{
	size_t count = sim_node_output_count(sim, node);
	for (; *k < count; (*k)++) {
		uint32_t tag;
		size_t len;
		sim_node_output(sim, node, *k, &tag, &len);
		if (proto->agreed == NULL || proto->agreed(tag)) {
			return true;
		}
	}
	return false;
}

/* Outputs a and b agree: as sequences (prefix) or per tag. */
static bool outputs_agree(const sim_protocol_t *proto, const sim_t *sim, bft_node_t a,
                          bft_node_t b)
{
	sim_agree_t how = proto->agree;
	size_t seq_b = 0;   /* SEQUENCE: b's counterpart of a's next compared output. */
	for (size_t i = 0; next_agreed(proto, sim, a, &i); i++) {
		uint32_t tag_a, tag_b;
		size_t len_a, len_b;
		const uint8_t *da = sim_node_output(sim, a, i, &tag_a, &len_a);
		size_t j = how == SIM_AGREE_SEQUENCE ? seq_b : 0;
		for (; next_agreed(proto, sim, b, &j); j++) {
			const uint8_t *db = sim_node_output(sim, b, j, &tag_b, &len_b);
			if (how == SIM_AGREE_BY_TAG && tag_a != tag_b) {
				continue;
			}
			seq_b = j + 1;
			if (tag_a != tag_b || len_a != len_b || (len_a > 0 && memcmp(da, db, len_a) != 0)) {
				return false;
			}
			break;  /* compared the counterpart */
		}
	}
	return true;
}

static bool check_run(const sim_protocol_t *proto, const sim_t *sim, char *why, size_t len)
{
	const sim_conf_t *conf = sim_conf(sim);
	bft_nodeset_t correct = sim_correct(sim);
	bft_nodeset_t honest = bft_nodeset_all(conf->n) & ~conf->faulty;
	for (bft_node_t a = 0; a < conf->n; a++) {
		for (bft_node_t b = 0; b < conf->n; b++) {
			if (a != b && bft_nodeset_has(honest, a) && bft_nodeset_has(honest, b) &&
			    !outputs_agree(proto, sim, a, b)) {
				snprintf(why, len, "agreement: outputs of nodes %u and %u differ", a, b);
				return false;
			}
		}
		if (!bft_nodeset_has(correct, a)) {
			continue;
		}
		bft_nodeset_t wrong = sim_node_blamed(sim, a) & correct;
		if (wrong != 0) {
			snprintf(why, len, "node %u blamed correct node(s) 0x%x", a, wrong);
			return false;
		}
		if (proto->expect_termination && !sim_node_terminated(sim, a)) {
			snprintf(why, len, "termination: correct node %u did not terminate", a);
			return false;
		}
	}
	return proto->check == NULL || proto->check(sim, why, len);
}

void sim_replay_command(const sim_protocol_t *proto, const sim_opts_t *opts, uint64_t seed,
                        char *buf, size_t len)
{
	char faulty[32] = "", mode[64] = "";
	if (opts->faulty >= 0) {
		snprintf(faulty, sizeof(faulty), " --faulty %d", opts->faulty);
	}
	if (opts->mode != 0 && proto->mode_name != NULL && proto->mode_name(opts->mode) != NULL) {
		snprintf(mode, sizeof(mode), " --mode %s", proto->mode_name(opts->mode));
	}
	snprintf(buf, len, "./run.sh sim --protocol %s --n %u --f %u --byz %s%s%s%s%s%s%s"
	         " --steps-max %" PRIu64 " --seed %" PRIu64 " --verbose",
	         proto->name, opts->n, opts->f,
	         opts->byz < SIM_BYZ_KINDS ? sim_byz_name(opts->byz) : "any", faulty, mode,
	         opts->crashes ? "" : " --no-crashes", opts->crash_all ? " --crash-all" : "",
	         opts->partitions ? "" : " --no-partitions",
	         opts->starve ? "" : " --no-starve",
	         opts->steps_max ? opts->steps_max : SIM_STEPS_DEFAULT, seed);
}

int sim_run_seed(const sim_protocol_t *proto, const sim_opts_t *opts, uint64_t seed,
                 sim_result_t *res)
{
	memset(res, 0, sizeof(*res));
	sim_byz_state_t byz;
	memset(&byz, 0, sizeof(byz));
	sim_conf_t conf = {
		.ops = proto->ops, .proto_conf = proto->conf, .n = opts->n, .f = opts->f,
		.seed = seed, .steps_max = opts->steps_max ? opts->steps_max : SIM_STEPS_DEFAULT,
		.restart = proto->restart,
	};
	draw_scenario(opts, seed, &conf, &byz);
	int ret = apply_mode(proto, opts, &conf);
	if (ret != BFT_EOK) {
		return ret;
	}
	sim_byz_hooks(&byz, &conf.adversary);
	describe(proto, opts, &conf, &byz, res->scenario, sizeof(res->scenario));
	res->faulty = conf.faulty;

	sim_t *sim = NULL;
	ret = sim_create(&conf, &sim);
	if (ret != BFT_EOK) {
		return ret;
	}
	ret = proto->inputs != NULL ? proto->inputs(sim) : BFT_EOK;
	if (ret == BFT_EOK) {
		ret = sim_run(sim);
	}
	if (ret != BFT_EOK) {
		snprintf(res->why, sizeof(res->why), "run failed: %s (%s)", sim_failure(sim), bft_strerror(ret));
	} else {
		res->ok = check_run(proto, sim, res->why, sizeof(res->why));
	}
	res->correct = sim_correct(sim);
	for (bft_node_t i = 0; i < conf.n; i++) {
		if (bft_nodeset_has(res->correct, i)) {
			res->blamed |= sim_node_blamed(sim, i);
		}
	}
	sim_trace_hash(sim, res->trace);
	sim_stats(sim, &res->stats);
	sim_destroy(sim);
	return BFT_EOK;
}
