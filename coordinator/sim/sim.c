/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nettle/sha2.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "coordinator/sim/sim.h"

typedef struct {
	uint32_t tag;
	uint32_t len;
	uint8_t *data;
} sim_output_t;

typedef struct {
	void *proto;            /*!< NULL while crashed. */
	bool down;
	uint64_t skew_ms;
	bft_prng_t prng;        /*!< The node's env->random. */
	bft_nodeset_t blamed;
	sim_output_t *outputs;
	size_t output_count;
} sim_node_t;

struct sim {
	sim_conf_t conf;
	bft_prng_t prng;        /*!< Scheduler: delays. */
	bft_prng_t adversary;   /*!< Handed out by sim_random(). */
	sim_node_t nodes[BFT_NODES_MAX];
	sim_event_t **pending;
	size_t pending_count;
	size_t pending_cap;
	uint64_t now_ms;
	uint64_t seq;
	bft_step_t step;
	struct sha256_ctx trace;
	sim_stats_t stats;
	bft_nodeset_t impaired;
	char failure[256];
};

static void sim_fail(sim_t *sim, const char *fmt, ...)
{
	if (sim->failure[0] != '\0') {
		return;  /* The first failure is the interesting one. */
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sim->failure, sizeof(sim->failure), fmt, ap);
	va_end(ap);
}

/* Feeds a tagged record into the trace hash (fixed-width header, then bytes). */
static void sim_trace(sim_t *sim, uint8_t what, uint64_t a, uint64_t b, uint64_t c,
                      const uint8_t *data, size_t len)
{
	uint8_t hdr[1 + 8 * 4];
	hdr[0] = what;
	uint64_t v[4] = { a, b, c, len };
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 8; j++) {
			hdr[1 + 8 * i + j] = (uint8_t)(v[i] >> (56 - 8 * j));
		}
	}
	sha256_update(&sim->trace, sizeof(hdr), hdr);
	if (len > 0) {
		sha256_update(&sim->trace, len, data);
	}
}

static int sim_push(sim_t *sim, sim_event_t *ev)
{
	if (sim->pending_count == sim->pending_cap) {
		if (sim->pending_cap >= SIM_PENDING_MAX) {
			sim_fail(sim, "more than %u events pending", SIM_PENDING_MAX);
			return BFT_ESPACE;
		}
		size_t cap = sim->pending_cap > 0 ? sim->pending_cap * 2 : 256;
		sim_event_t **grown = realloc(sim->pending, cap * sizeof(*grown));
		if (grown == NULL) {
			return BFT_ENOMEM;
		}
		sim->pending = grown;
		sim->pending_cap = cap;
	}
	ev->seq = sim->seq++;
	sim->pending[sim->pending_count++] = ev;
	return BFT_EOK;
}

static int sim_push_control(sim_t *sim, sim_event_kind_t kind, bft_node_t node, uint64_t at_ms)
{
	sim_event_t *ev = calloc(1, sizeof(*ev));
	if (ev == NULL) {
		return BFT_ENOMEM;
	}
	ev->kind = kind;
	ev->to = node;
	ev->from = node;
	ev->at_ms = at_ms;
	int ret = sim_push(sim, ev);
	if (ret != BFT_EOK) {
		free(ev);
	}
	return ret;
}

/* True if a partition separates a and b at the current time. */
static bool sim_cut(const sim_t *sim, bft_node_t a, bft_node_t b)
{
	if (sim->now_ms >= sim->conf.heal_ms) {
		return false;
	}
	return bft_nodeset_has(sim->conf.isolated, a) != bft_nodeset_has(sim->conf.isolated, b);
}

int sim_inject(sim_t *sim, bft_node_t from, bft_node_t to, const uint8_t *msg, size_t len)
{
	if (from >= sim->conf.n || to >= sim->conf.n || len == 0 || len > BFT_MSG_MAX) {
		return BFT_EINVAL;
	}
	sim->stats.talkers |= from != to ? bft_nodeset_one(from) : 0;
	uint64_t delay = bft_prng_below(&sim->prng, (uint64_t)sim->conf.delay_max_ms + 1);
	uint64_t at = sim->now_ms + delay;
	if (sim_cut(sim, from, to)) {
		if (sim->conf.partition_drops) {
			sim->stats.dropped++;
			sim_trace(sim, 'L', from, to, sim->now_ms, msg, len);
			return BFT_EOK;
		}
		at = sim->conf.heal_ms + delay;   /* held by the partition */
	}
	sim_event_t *ev = malloc(sizeof(*ev) + len);
	if (ev == NULL) {
		return BFT_ENOMEM;
	}
	memset(ev, 0, sizeof(*ev));
	ev->kind = SIM_EV_MESSAGE;
	ev->at_ms = at;
	ev->from = from;
	ev->to = to;
	ev->len = (uint32_t)len;
	memcpy(ev->data, msg, len);
	int ret = sim_push(sim, ev);
	if (ret != BFT_EOK) {
		free(ev);
	}
	return ret;
}

int sim_input_at(sim_t *sim, bft_node_t node, uint64_t at_ms, const uint8_t *input, size_t len)
{
	if (node >= sim->conf.n || input == NULL || len == 0 || len > BFT_MSG_MAX) {
		return BFT_EINVAL;
	}
	sim_event_t *ev = malloc(sizeof(*ev) + len);
	if (ev == NULL) {
		return BFT_ENOMEM;
	}
	memset(ev, 0, sizeof(*ev));
	ev->kind = SIM_EV_INPUT;
	ev->at_ms = at_ms;
	ev->from = node;
	ev->to = node;
	ev->len = (uint32_t)len;
	memcpy(ev->data, input, len);
	int ret = sim_push(sim, ev);
	if (ret != BFT_EOK) {
		free(ev);
	}
	return ret;
}

/* A timed input: to the node, or after its restart if it is down. */
static int sim_input_due(sim_t *sim, const sim_event_t *ev)
{
	if (!sim->nodes[ev->to].down) {
		return sim_input(sim, ev->to, ev->data, ev->len);
	}
	if (!bft_nodeset_has(sim->conf.crashed, ev->to) || sim->now_ms > sim->conf.restart_ms) {
		sim_trace(sim, 'x', ev->to, 0, ev->at_ms, ev->data, ev->len);
		return BFT_EOK;   /* Down for good: the client gives up. */
	}
	return sim_input_at(sim, ev->to, sim->conf.restart_ms + 1 +
	                    bft_prng_below(&sim->prng, (uint64_t)sim->conf.delay_max_ms + 1),
	                    ev->data, ev->len);
}

static int sim_node_start(sim_t *sim, bft_node_t i)
{
	bft_params_t params = {
		.n = sim->conf.n, .f = sim->conf.f, .self = i,
		.conf = sim->conf.node_conf[i] != NULL ? sim->conf.node_conf[i] : sim->conf.proto_conf,
	};
	sim_node_t *node = &sim->nodes[i];
	assert(node->proto == NULL);
	int ret = sim->conf.ops->create(&params, &node->proto);
	if (ret != BFT_EOK) {
		sim_fail(sim, "node %u: create failed: %s", i, bft_strerror(ret));
		node->proto = NULL;
		return ret;
	}
	node->down = false;
	return BFT_EOK;
}

static void sim_node_stop(sim_t *sim, bft_node_t i)
{
	sim_node_t *node = &sim->nodes[i];
	if (node->proto != NULL) {
		sim->conf.ops->destroy(node->proto);
		node->proto = NULL;
	}
	node->down = true;
}

static int sim_check_conf(const sim_conf_t *conf)
{
	bft_params_t params = { .n = conf->n, .f = conf->f, .self = 0 };
	if (conf->ops == NULL || bft_params_check(&params) != BFT_EOK || conf->steps_max == 0) {
		return BFT_EINVAL;
	}
	bft_nodeset_t all = bft_nodeset_all(conf->n);
	if ((conf->faulty | conf->isolated | conf->crashed) & ~all) {
		return BFT_EINVAL;
	}
	if (conf->crashed != 0 && conf->restart_ms < conf->crash_ms) {
		return BFT_EINVAL;
	}
	return BFT_EOK;
}

static int sim_setup(sim_t *sim)
{
	const sim_conf_t *conf = &sim->conf;
	bft_prng_seed(&sim->prng, conf->seed);
	bft_prng_seed(&sim->adversary, conf->seed ^ 0xadd5e11e5ull);
	sha256_init(&sim->trace);
	int ret = bft_step_init(&sim->step, BFT_MSG_MAX * 4ull);
	for (bft_node_t i = 0; ret == BFT_EOK && i < conf->n; i++) {
		sim_node_t *node = &sim->nodes[i];
		node->skew_ms = bft_prng_below(&sim->prng, (uint64_t)conf->clock_skew_max_ms + 1);
		bft_prng_seed(&node->prng, conf->seed * 0x9e3779b97f4a7c15ull + i + 1);
		ret = sim_node_start(sim, i);
		if (ret == BFT_EOK && bft_nodeset_has(conf->crashed, i)) {
			ret = sim_push_control(sim, SIM_EV_CRASH, i, conf->crash_ms);
			if (ret == BFT_EOK) {
				ret = sim_push_control(sim, SIM_EV_RESTART, i, conf->restart_ms);
			}
		}
	}
	sim->impaired = conf->crashed | (conf->partition_drops ? conf->isolated : 0);
	return ret;
}

int sim_create(const sim_conf_t *conf, sim_t **out)
{
	if (conf == NULL || out == NULL || sim_check_conf(conf) != BFT_EOK) {
		return BFT_EINVAL;
	}
	sim_t *sim = calloc(1, sizeof(*sim));
	if (sim == NULL) {
		return BFT_ENOMEM;
	}
	sim->conf = *conf;
	int ret = sim_setup(sim);
	if (ret != BFT_EOK) {
		sim_destroy(sim);
		return ret;
	}
	*out = sim;
	return BFT_EOK;
}

void sim_destroy(sim_t *sim)
{
	if (sim == NULL) {
		return;
	}
	for (bft_node_t i = 0; i < sim->conf.n; i++) {
		sim_node_stop(sim, i);
		for (size_t k = 0; k < sim->nodes[i].output_count; k++) {
			free(sim->nodes[i].outputs[k].data);
		}
		free(sim->nodes[i].outputs);
	}
	for (size_t k = 0; k < sim->pending_count; k++) {
		free(sim->pending[k]);
	}
	free(sim->pending);
	bft_step_deinit(&sim->step);
	free(sim);
}

static int sim_keep_output(sim_t *sim, bft_node_t i, uint32_t tag, const uint8_t *data, size_t len)
{
	sim_node_t *node = &sim->nodes[i];
	if (node->output_count >= SIM_OUTPUTS_MAX) {
		sim_fail(sim, "node %u: more than %u outputs", i, SIM_OUTPUTS_MAX);
		return BFT_ESPACE;
	}
	/* Doubling from 16: vote records make thousands of outputs per node. */
	size_t count = node->output_count;
	if (count >= 16 && (count & (count - 1)) == 0) {
		sim_output_t *grown = realloc(node->outputs, 2 * count * sizeof(*grown));
		if (grown == NULL) {
			return BFT_ENOMEM;
		}
		node->outputs = grown;
	} else if (count == 0) {
		sim_output_t *grown = realloc(node->outputs, 16 * sizeof(*grown));
		if (grown == NULL) {
			return BFT_ENOMEM;
		}
		node->outputs = grown;
	}
	sim_output_t *out = &node->outputs[node->output_count];
	out->data = malloc(len > 0 ? len : 1);
	if (out->data == NULL) {
		return BFT_ENOMEM;
	}
	if (len > 0) {
		memcpy(out->data, data, len);
	}
	out->tag = tag;
	out->len = (uint32_t)len;
	node->output_count++;
	sim_trace(sim, 'O', i, tag, sim->now_ms, data, len);
	return BFT_EOK;
}

/* Sends one copy of message k of the step to `to`, through tamper if faulty. */
static int sim_send_copy(sim_t *sim, bft_node_t from, bft_node_t to, size_t k)
{
	const uint8_t *data = bft_step_msg_data(&sim->step, k);
	size_t len = sim->step.msgs[k].len;
	const sim_adversary_t *adv = &sim->conf.adversary;
	if (bft_nodeset_has(sim->conf.faulty, from) && adv->tamper != NULL) {
		uint64_t before = sim->seq;
		adv->tamper(adv->ctx, sim, from, to, data, len);
		sim->stats.injected += sim->seq - before;
		return BFT_EOK;
	}
	return sim_inject(sim, from, to, data, len);
}

/* Applies the step node i just produced: outputs, faults, messages. */
static int sim_apply_step(sim_t *sim, bft_node_t i)
{
	bft_step_t *step = &sim->step;
	int ret = BFT_EOK;
	for (size_t k = 0; ret == BFT_EOK && k < step->output_count; k++) {
		ret = sim_keep_output(sim, i, step->outputs[k].tag,
		                      bft_step_output_data(step, k), step->outputs[k].len);
	}
	for (size_t k = 0; k < step->fault_count; k++) {
		bft_node_t who = step->faults[k].node;
		sim->nodes[i].blamed |= bft_nodeset_one(who);
		sim->stats.faults++;
		sim_trace(sim, 'F', i, who, step->faults[k].kind, NULL, 0);
	}
	if (step->faults_dropped > 0) {
		sim->nodes[i].blamed |= bft_nodeset_all(sim->conf.n);  /* unknown: assume the worst */
	}
	for (size_t k = 0; ret == BFT_EOK && k < step->msg_count; k++) {
		for (bft_node_t to = 0; ret == BFT_EOK && to < sim->conf.n; to++) {
			if (bft_nodeset_has(step->msgs[k].to, to)) {
				ret = sim_send_copy(sim, i, to, k);
			}
		}
	}
	bft_step_clear(step);
	return ret;
}

static bft_env_t sim_env(sim_t *sim, bft_node_t i)
{
	bft_env_t env = {
		.now_ms = sim->now_ms + sim->nodes[i].skew_ms,
		.random = bft_prng_random,
		.random_ctx = &sim->nodes[i].prng,
	};
	return env;
}

int sim_input(sim_t *sim, bft_node_t i, const uint8_t *input, size_t len)
{
	if (i >= sim->conf.n || sim->nodes[i].proto == NULL) {
		return BFT_EINVAL;
	}
	bft_env_t env = sim_env(sim, i);
	sim_trace(sim, 'I', i, 0, sim->now_ms, input, len);
	bft_step_clear(&sim->step);
	int ret = sim->conf.ops->handle_input(sim->nodes[i].proto, input, len, &env, &sim->step);
	if (ret != BFT_EOK) {
		sim_fail(sim, "node %u: handle_input: %s", i, bft_strerror(ret));
		bft_step_clear(&sim->step);
		return ret;
	}
	return sim_apply_step(sim, i);
}

static int sim_deliver(sim_t *sim, const sim_event_t *ev)
{
	sim_node_t *node = &sim->nodes[ev->to];
	if (node->down && sim->conf.queue_while_down &&
	    bft_nodeset_has(sim->conf.crashed, ev->to) && sim->now_ms <= sim->conf.restart_ms) {
		/* Queued by the sender until the node is back (after its RESTART,
		 * which has the same or an earlier time and a lower seq). */
		size_t size = sizeof(*ev) + ev->len;
		sim_event_t *again = malloc(size);
		if (again == NULL) {
			return BFT_ENOMEM;
		}
		memcpy(again, ev, size);
		again->at_ms = sim->conf.restart_ms +
		               bft_prng_below(&sim->prng, (uint64_t)sim->conf.delay_max_ms + 1);
		int ret = sim_push(sim, again);
		if (ret != BFT_EOK) {
			free(again);
		}
		return ret;
	}
	if (node->down) {
		sim->stats.dropped++;
		sim_trace(sim, 'X', ev->from, ev->to, ev->at_ms, ev->data, ev->len);
		return BFT_EOK;
	}
	sim->stats.delivered++;
	sim_trace(sim, 'M', ev->from, ev->to, ev->at_ms, ev->data, ev->len);
	bft_env_t env = sim_env(sim, ev->to);
	bft_step_clear(&sim->step);
	int ret = sim->conf.ops->handle_message(node->proto, ev->from, ev->data, ev->len,
	                                        &env, &sim->step);
	if (ret != BFT_EOK) {
		sim_fail(sim, "node %u: handle_message from %u: %s", ev->to, ev->from, bft_strerror(ret));
		bft_step_clear(&sim->step);
		return ret;
	}
	return sim_apply_step(sim, ev->to);
}

/* A crashed node comes back: a fresh instance, then the protocol's restart hook. */
static int sim_node_restart(sim_t *sim, bft_node_t i)
{
	int ret = sim_node_start(sim, i);
	if (ret != BFT_EOK || sim->conf.restart == NULL) {
		return ret;
	}
	bft_env_t env = sim_env(sim, i);
	bft_step_clear(&sim->step);
	ret = sim->conf.restart(sim, i, sim->nodes[i].proto, &env, &sim->step);
	if (ret != BFT_EOK) {
		sim_fail(sim, "node %u: restart hook: %s", i, bft_strerror(ret));
		bft_step_clear(&sim->step);
		return ret;
	}
	return sim_apply_step(sim, i);
}

static int sim_process(sim_t *sim, const sim_event_t *ev)
{
	switch (ev->kind) {
	case SIM_EV_MESSAGE:
		return sim_deliver(sim, ev);
	case SIM_EV_CRASH:
		sim_trace(sim, 'C', ev->to, 0, ev->at_ms, NULL, 0);
		sim_node_stop(sim, ev->to);
		return BFT_EOK;
	case SIM_EV_RESTART:
		sim_trace(sim, 'R', ev->to, 0, ev->at_ms, NULL, 0);
		if (!sim->nodes[ev->to].down) {
			return BFT_EOK;
		}
		return sim_node_restart(sim, ev->to);
	case SIM_EV_INPUT:
		return sim_input_due(sim, ev);
	}
	return BFT_EINVAL;
}

/* The earliest pending event: smallest (at_ms, seq). */
static size_t sim_earliest(const sim_t *sim)
{
	size_t best = 0;
	for (size_t k = 1; k < sim->pending_count; k++) {
		const sim_event_t *a = sim->pending[k], *b = sim->pending[best];
		if (a->at_ms < b->at_ms || (a->at_ms == b->at_ms && a->seq < b->seq)) {
			best = k;
		}
	}
	return best;
}

/* Takes the next event off the list (the adversary may choose it). */
static sim_event_t *sim_next(sim_t *sim)
{
	assert(sim->pending_count > 0);
	size_t k = SIZE_MAX;
	if (sim->conf.adversary.pre_crank != NULL) {
		k = sim->conf.adversary.pre_crank(sim->conf.adversary.ctx, sim);
	}
	if (k >= sim->pending_count) {
		k = sim_earliest(sim);
	}
	sim_event_t *ev = sim->pending[k];
	/* Order of the rest does not matter: selection is by (at_ms, seq). */
	sim->pending[k] = sim->pending[--sim->pending_count];
	return ev;
}

static bool sim_due(const sim_t *sim, uint64_t until_ms)
{
	return sim->pending_count > 0 && sim->pending[sim_earliest(sim)]->at_ms <= until_ms;
}

int sim_run_until(sim_t *sim, uint64_t until_ms)
{
	while (sim_due(sim, until_ms)) {
		if (sim->stats.steps >= sim->conf.steps_max) {
			sim_fail(sim, "step bound %llu reached with %zu events pending",
			         (unsigned long long)sim->conf.steps_max, sim->pending_count);
			return BFT_ESPACE;
		}
		sim_event_t *ev = sim_next(sim);
		if (ev->at_ms > until_ms) {
			/* The adversary chose a later event: take the earliest instead. */
			sim->pending[sim->pending_count++] = ev;
			size_t k = sim_earliest(sim);
			ev = sim->pending[k];
			sim->pending[k] = sim->pending[--sim->pending_count];
		}
		if (ev->at_ms > sim->now_ms) {
			sim->now_ms = ev->at_ms;
		}
		sim->stats.steps++;
		int ret = sim_process(sim, ev);
		free(ev);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	if (until_ms > sim->now_ms) {
		sim->now_ms = until_ms;
	}
	sim->stats.end_ms = sim->now_ms;
	return BFT_EOK;
}

int sim_run(sim_t *sim)
{
	while (sim->pending_count > 0) {
		if (sim->stats.steps >= sim->conf.steps_max) {
			sim_fail(sim, "step bound %llu reached with %zu events pending",
			         (unsigned long long)sim->conf.steps_max, sim->pending_count);
			return BFT_ESPACE;
		}
		sim_event_t *ev = sim_next(sim);
		/* Time never goes back, even when the adversary picks a late event. */
		if (ev->at_ms > sim->now_ms) {
			sim->now_ms = ev->at_ms;
		}
		sim->stats.steps++;
		int ret = sim_process(sim, ev);
		free(ev);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	sim->stats.end_ms = sim->now_ms;
	return BFT_EOK;
}

size_t sim_pending_count(const sim_t *sim) { return sim->pending_count; }

const sim_event_t *sim_pending(const sim_t *sim, size_t i)
{
	assert(i < sim->pending_count);
	return sim->pending[i];
}

uint64_t sim_now(const sim_t *sim) { return sim->now_ms; }
const sim_conf_t *sim_conf(const sim_t *sim) { return &sim->conf; }
uint64_t sim_random(sim_t *sim) { return bft_prng_next(&sim->adversary); }
bft_nodeset_t sim_impaired(const sim_t *sim) { return sim->impaired; }

bft_nodeset_t sim_correct(const sim_t *sim)
{
	return bft_nodeset_all(sim->conf.n) & ~sim->conf.faulty & ~sim->impaired;
}

bool sim_node_terminated(const sim_t *sim, bft_node_t i)
{
	assert(i < sim->conf.n);
	const sim_node_t *node = &sim->nodes[i];
	return node->proto != NULL && sim->conf.ops->terminated(node->proto);
}

const void *sim_node_proto(const sim_t *sim, bft_node_t i)
{
	assert(i < sim->conf.n);
	return sim->nodes[i].proto;
}

bft_nodeset_t sim_node_blamed(const sim_t *sim, bft_node_t i)
{
	assert(i < sim->conf.n);
	return sim->nodes[i].blamed;
}

size_t sim_node_output_count(const sim_t *sim, bft_node_t i)
{
	assert(i < sim->conf.n);
	return sim->nodes[i].output_count;
}

const uint8_t *sim_node_output(const sim_t *sim, bft_node_t i, size_t k,
                               uint32_t *tag, size_t *len)
{
	assert(i < sim->conf.n && k < sim->nodes[i].output_count);
	const sim_output_t *out = &sim->nodes[i].outputs[k];
	*tag = out->tag;
	*len = out->len;
	return out->data;
}

void sim_trace_hash(const sim_t *sim, uint8_t out[SIM_TRACE_LEN])
{
	struct sha256_ctx copy = sim->trace;  /* digest() resets; keep the running one */
	sha256_digest(&copy, SIM_TRACE_LEN, out);
}

void sim_stats(const sim_t *sim, sim_stats_t *out)
{
	*out = sim->stats;
	out->end_ms = sim->now_ms;
}

const char *sim_failure(const sim_t *sim)
{
	return sim->failure;
}
