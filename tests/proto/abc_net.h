/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The hand-driven network of the atomic broadcast's directed tests
 * (test_abc_catchup.c, test_abc_resume.c): NODES instances, one FIFO queue,
 * messages to or from a cut-off node lost, a liar that alters the agreed
 * time in its BATCH messages to a victim, a watched node's epoch messages
 * counted, and messages of a slow node to some peers held back until
 * net_flush_late(). Each node's delivered batches are kept (outs), with
 * keep_votes its vote records (votes), and the nodes it blamed (blamed).
 * NODES (4) may be defined larger before the include.
 */

#pragma once

#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/abc.h"
#include "coordinator/proto/batch.h"
#include "tests/proto/bcast_sim.h"

#ifndef NODES
#define NODES		4
#endif
#define QUEUE_MAX	(1u << 20)
#define OUTS_MAX	256

typedef struct {
	bft_node_t from, to;
	uint32_t len;
	uint8_t *data;
} net_msg_t;

typedef struct {
	abc_t *abc[NODES];
	uint16_t n, f;
	net_msg_t *queue;
	size_t head, tail;
	bft_nodeset_t cut;               /* messages to or from these are lost */
	bft_node_t liar;                 /* its BATCH messages to `victim` are altered */
	bft_node_t victim;
	bool lie;
	/* With keep_votes, ABC_OUTPUT_VOTE records go to votes (a vote log). */
	bool keep_votes;
	uint8_t **votes[NODES];
	size_t *vote_len[NODES];
	size_t vote_count[NODES];
	uint8_t *outs[NODES][OUTS_MAX];
	size_t out_len[NODES][OUTS_MAX];
	size_t out_count[NODES];
	bft_nodeset_t blamed[NODES];
	uint16_t blamed_kind[NODES];
	/* Epoch messages node `watch` sent to others for epochs <= watch_until. */
	bft_node_t watch;
	uint64_t watch_until;
	unsigned watch_epoch_msgs;
	/* Messages from `slow` to `slowed` wait in `late` until net_flush_late(). */
	bft_node_t slow;
	bft_nodeset_t slowed;
	net_msg_t *late;
	size_t late_count;
	bft_prng_t prng;
	uint64_t clock_ms;
	bft_step_t step;
	abc_conf_t conf;
	test_coin_keys_t keys;
} net_t;

static inline int net_random(void *ctx, uint8_t *out, size_t len)
{
	return bft_prng_random(ctx, out, len);
}

static inline bft_env_t net_env(net_t *net)
{
	bft_env_t env = { .now_ms = 1700000000000ull + net->clock_ms++, .random = net_random,
	                  .random_ctx = &net->prng };
	return env;
}

static inline void net_push(net_t *net, bft_node_t from, bft_node_t to, const uint8_t *data, size_t len)
{
	if (bft_nodeset_has(net->cut, from) || bft_nodeset_has(net->cut, to)) {
		return;
	}
	bool late = (from == net->slow && bft_nodeset_has(net->slowed, to));
	size_t *count = late ? &net->late_count : &net->tail;
	CHECK(*count < QUEUE_MAX);
	if (*count >= QUEUE_MAX) {
		return;
	}
	net_msg_t *m = late ? &net->late[(*count)++] : &net->queue[(*count)++];
	m->from = from;
	m->to = to;
	m->len = (uint32_t)len;
	m->data = malloc(len);
	memcpy(m->data, data, len);
	/* A lying peer changes the agreed time inside every batch it sends. */
	if (net->lie && from == net->liar && to == net->victim && len > 17 && data[0] == 5) {
		m->data[16] ^= 0x01;
	}
	if (from == net->watch && to != from && len >= 9 && data[0] == 1) {
		uint64_t epoch = 0;
		for (int i = 1; i <= 8; i++) {
			epoch = epoch << 8 | data[i];
		}
		net->watch_epoch_msgs += epoch <= net->watch_until ? 1u : 0u;
	}
}

/* Carries out node i's step: outputs kept, faults noted, messages queued. */
static inline void net_apply(net_t *net, bft_node_t i)
{
	bft_step_t *step = &net->step;
	for (size_t k = 0; k < step->output_count; k++) {
		if (net->keep_votes && step->outputs[k].tag == ABC_OUTPUT_VOTE) {
			size_t c = net->vote_count[i]++;
			net->votes[i] = realloc(net->votes[i], (c + 1) * sizeof(*net->votes[i]));
			net->vote_len[i] = realloc(net->vote_len[i], (c + 1) * sizeof(size_t));
			CHECK(net->votes[i] != NULL && net->vote_len[i] != NULL);
			net->vote_len[i][c] = step->outputs[k].len;
			net->votes[i][c] = malloc(step->outputs[k].len);
			memcpy(net->votes[i][c], bft_step_output_data(step, k), step->outputs[k].len);
			continue;
		}
		CHECK(net->out_count[i] < OUTS_MAX);
		if (net->out_count[i] < OUTS_MAX) {
			size_t len = step->outputs[k].len;
			uint8_t *copy = malloc(len);
			memcpy(copy, bft_step_output_data(step, k), len);
			net->outs[i][net->out_count[i]] = copy;
			net->out_len[i][net->out_count[i]++] = len;
		}
	}
	for (size_t k = 0; k < step->fault_count; k++) {
		net->blamed[i] |= bft_nodeset_one(step->faults[k].node);
		net->blamed_kind[i] = step->faults[k].kind;
	}
	for (size_t k = 0; k < step->msg_count; k++) {
		for (bft_node_t to = 0; to < net->n; to++) {
			if (bft_nodeset_has(step->msgs[k].to, to)) {
				net_push(net, i, to, bft_step_msg_data(step, k), step->msgs[k].len);
			}
		}
	}
	bft_step_clear(step);
}

static inline void net_run(net_t *net)
{
	while (net->head < net->tail) {
		net_msg_t *m = &net->queue[net->head++];
		if (net->abc[m->to] != NULL && !bft_nodeset_has(net->cut, m->to)) {
			bft_env_t env = net_env(net);
			CHECK_EQ(abc_handle_message(net->abc[m->to], m->from, m->data, m->len, &env,
			                            &net->step), BFT_EOK);
			net_apply(net, m->to);
		}
		free(m->data);
		m->data = NULL;
	}
	net->head = net->tail = 0;
}

static inline void net_input(net_t *net, bft_node_t i, const char *text)
{
	bft_env_t env = net_env(net);
	CHECK_EQ(abc_handle_input(net->abc[i], (const uint8_t *)text, strlen(text), &env,
	                          &net->step), BFT_EOK);
	net_apply(net, i);
	net_run(net);
}

static inline void net_start(net_t *net, unsigned n, uint32_t retain)
{
	memset(net, 0, sizeof(*net));
	net->n = (uint16_t)n;
	net->f = (uint16_t)((n - 1) / 3);
	net->queue = calloc(QUEUE_MAX, sizeof(*net->queue));
	net->late = calloc(QUEUE_MAX, sizeof(*net->late));
	CHECK(net->queue != NULL && net->late != NULL);
	net->slow = BFT_NODES_MAX;
	bft_prng_seed(&net->prng, 42);
	CHECK_EQ(bft_step_init(&net->step, BFT_MSG_MAX * 4ull), BFT_EOK);
	CHECK_EQ(test_coin_deal(&net->keys, n, net->f), COIN_EOK);
	net->conf = (abc_conf_t){ .coin = net->keys.keys, .session = (const uint8_t *)"test",
	                          .session_len = 4, .batch_max = 2, .retain_max = retain };
	net->watch = BFT_NODES_MAX;
	for (bft_node_t i = 0; i < n; i++) {
		bft_params_t p = { .n = net->n, .f = net->f, .self = i, .conf = &net->conf };
		CHECK_EQ(abc_create(&p, &net->abc[i]), BFT_EOK);
	}
}

static inline void net_stop(net_t *net)
{
	for (bft_node_t i = 0; i < net->n; i++) {
		abc_destroy(net->abc[i]);
		for (size_t k = 0; k < net->out_count[i]; k++) {
			free(net->outs[i][k]);
		}
		for (size_t k = 0; k < net->vote_count[i]; k++) {
			free(net->votes[i][k]);
		}
		free(net->votes[i]);
		free(net->vote_len[i]);
	}
	free(net->queue);
	for (size_t k = 0; k < net->late_count; k++) {
		free(net->late[k].data);
	}
	free(net->late);
	bft_step_deinit(&net->step);
}

/* Node i's outputs equal node j's, batch for batch (as far as both go). */
static inline bool net_same(const net_t *net, bft_node_t i, bft_node_t j, size_t from)
{
	size_t count = net->out_count[i] < net->out_count[j] ? net->out_count[i] : net->out_count[j];
	for (size_t k = from; k < count; k++) {
		if (net->out_len[i][k] != net->out_len[j][k] ||
		    memcmp(net->outs[i][k], net->outs[j][k], net->out_len[i][k]) != 0) {
			return false;
		}
	}
	return true;
}

static inline uint64_t net_epoch(const net_t *net, bft_node_t i)
{
	abc_stats_t st;
	abc_stats(net->abc[i], &st);
	return st.epoch;
}

/* Requests "tag k" at node 0 until the others delivered `epochs` more batches. */
static inline void net_epochs(net_t *net, const char *tag, unsigned epochs)
{
	uint64_t want = net_epoch(net, 0) + epochs;
	for (unsigned k = 0; k < 4 * epochs && net_epoch(net, 0) < want; k++) {
		char req[64];
		snprintf(req, sizeof(req), "%s %u", tag, k);
		net_input(net, 0, req);
	}
	CHECK(net_epoch(net, 0) >= want);
}

/* The driver's periodic time input at every node, then what follows. */
static inline void net_tick(net_t *net)
{
	for (bft_node_t i = 0; i < net->n; i++) {
		if (net->abc[i] == NULL) {
			continue;
		}
		bft_env_t env = net_env(net);
		CHECK_EQ(abc_tick(net->abc[i], &env, &net->step), BFT_EOK);
		net_apply(net, i);
	}
	net_run(net);
}

/* The delayed messages arrive now, in their order, and what follows them. */
static inline void net_flush_late(net_t *net)
{
	net->slowed = 0;
	for (size_t k = 0; k < net->late_count; k++) {
		net_msg_t *m = &net->late[k];
		net_push(net, m->from, m->to, m->data, m->len);
		free(m->data);
	}
	net->late_count = 0;
	net_run(net);
}
