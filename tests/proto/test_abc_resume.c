/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Resuming the atomic broadcast at a durable position without the bytes of
 * earlier batches (abc_restore_at(), doc/broadcast.md "Catch-up" 6 and 7),
 * over the hand-driven network of test_abc_catchup.c (copied):
 * - one node restarted at its position fetches what it missed, is silent
 *   in the epochs its earlier incarnation may have spoken in, and then
 *   delivers like the others, bytes for bytes; it keeps no older batch;
 * - all nodes restarted at once at the same position: none is ahead, the
 *   silence ends once every peer's HELLO arrived, and what was said while
 *   silent goes out (one node proposes while two others still wait for a
 *   late HELLO): a new request is delivered by all, not before the last
 *   agreed time although the clocks went back;
 * - f + 1 nodes restarted, the others idle: those answer CLEAN and the
 *   restarted ones speak again (the opposite, a peer that holds a message
 *   of the earlier incarnation and does not answer CLEAN, is not tested
 *   here);
 * - abc_restore_at() refuses a second call, a call after abc_restore()
 *   and one after start.
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/abc.h"
#include "coordinator/proto/batch.h"
#include "tests/proto/bcast_sim.h"

#define NODES		4
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

static int net_random(void *ctx, uint8_t *out, size_t len)
{
	return bft_prng_random(ctx, out, len);
}

static bft_env_t net_env(net_t *net)
{
	bft_env_t env = { .now_ms = 1700000000000ull + net->clock_ms++, .random = net_random,
	                  .random_ctx = &net->prng };
	return env;
}

static void net_push(net_t *net, bft_node_t from, bft_node_t to, const uint8_t *data, size_t len)
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
static void net_apply(net_t *net, bft_node_t i)
{
	bft_step_t *step = &net->step;
	for (size_t k = 0; k < step->output_count; k++) {
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

static void net_run(net_t *net)
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

static void net_input(net_t *net, bft_node_t i, const char *text)
{
	bft_env_t env = net_env(net);
	CHECK_EQ(abc_handle_input(net->abc[i], (const uint8_t *)text, strlen(text), &env,
	                          &net->step), BFT_EOK);
	net_apply(net, i);
	net_run(net);
}

static void net_start(net_t *net, unsigned n, uint32_t retain)
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

static void net_stop(net_t *net)
{
	for (bft_node_t i = 0; i < net->n; i++) {
		abc_destroy(net->abc[i]);
		for (size_t k = 0; k < net->out_count[i]; k++) {
			free(net->outs[i][k]);
		}
	}
	free(net->queue);
	for (size_t k = 0; k < net->late_count; k++) {
		free(net->late[k].data);
	}
	free(net->late);
	bft_step_deinit(&net->step);
}

/* Node i's outputs equal node j's, batch for batch (as far as both go). */
static bool net_same(const net_t *net, bft_node_t i, bft_node_t j, size_t from)
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

static uint64_t net_epoch(const net_t *net, bft_node_t i)
{
	abc_stats_t st;
	abc_stats(net->abc[i], &st);
	return st.epoch;
}

/* Requests "tag k" at node 0 until the others delivered `epochs` more batches. */
static void net_epochs(net_t *net, const char *tag, unsigned epochs)
{
	uint64_t want = net_epoch(net, 0) + epochs;
	for (unsigned k = 0; k < 4 * epochs && net_epoch(net, 0) < want; k++) {
		char req[64];
		snprintf(req, sizeof(req), "%s %u", tag, k);
		net_input(net, 0, req);
	}
	CHECK(net_epoch(net, 0) >= want);
}

/* The delayed messages arrive now, in their order, and what follows them. */
static void net_flush_late(net_t *net)
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

/* The agreed time in a delivered batch. */
static uint64_t out_time(const net_t *net, bft_node_t i, size_t k)
{
	batch_reader_t br;
	CHECK_EQ(batch_reader_open(&br, net->outs[i][k], net->out_len[i][k]), BFT_EOK);
	return br.time_ms;
}

static void restart_at(net_t *net, bft_node_t i, uint64_t epoch, uint64_t time_ms)
{
	abc_destroy(net->abc[i]);
	bft_params_t p = { .n = net->n, .f = net->f, .self = i, .conf = &net->conf };
	CHECK_EQ(abc_create(&p, &net->abc[i]), BFT_EOK);
	CHECK_EQ(abc_restore_at(net->abc[i], epoch, time_ms), BFT_EOK);
	CHECK_EQ(net_epoch(net, i), epoch);
}

static void start_restarted(net_t *net, bft_node_t i)
{
	bft_env_t env = net_env(net);
	CHECK_EQ(abc_start(net->abc[i], true, &env, &net->step), BFT_EOK);
	net_apply(net, i);
}

/* One node restarted at its position, the others ran on without it. */
static void test_one(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 0);
	net_epochs(net, "before", 3);
	size_t had = net->out_count[3];
	CHECK(had >= 3);
	uint64_t last_time = out_time(net, 3, had - 1);
	abc_t *gone = net->abc[3];
	net->abc[3] = NULL;
	net_epochs(net, "down", 6);
	net->abc[3] = gone;
	restart_at(net, 3, had, last_time);
	net->watch = 3;
	net->watch_until = had + ABC_EPOCHS_AHEAD;
	start_restarted(net, 3);
	net_run(net);
	CHECK_EQ(net_epoch(net, 3), net_epoch(net, 0));
	net_epochs(net, "back", 3);
	net_input(net, 3, "from the resumed node");
	abc_stats_t st;
	abc_stats(net->abc[3], &st);
	printf("one: node 4 resumed at epoch %zu without bytes, fetched %llu, now at epoch %llu, "
	       "keeps %zu batches from %llu\n", had, (unsigned long long)st.batches_fetched,
	       (unsigned long long)st.epoch, st.kept, (unsigned long long)st.kept_first);
	CHECK(st.batches_fetched >= 6);
	CHECK_EQ(st.kept_first, had);            /* Nothing before the position. */
	CHECK_EQ(net->watch_epoch_msgs, 0);      /* Silent where it may have spoken. */
	CHECK_EQ(net->out_count[3], net->out_count[0]);
	for (bft_node_t i = 1; i < NODES; i++) {
		CHECK(net_same(net, 0, i, had));
	}
	bool found = false;
	for (size_t k = had; k < net->out_count[3]; k++) {
		found |= memmem(net->outs[3][k], net->out_len[3][k], "from the resumed node", 21) != NULL;
	}
	CHECK(found);
	for (bft_node_t i = 0; i < NODES; i++) {
		CHECK_EQ(net->blamed[i], 0);
	}
	net_stop(net);
	free(net);
}

/* Every node restarted at once at the same position. */
static void test_all(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 0);
	net_epochs(net, "before", 3);
	size_t had = net->out_count[0];
	uint64_t last_time = out_time(net, 0, had - 1);
	for (bft_node_t i = 0; i < NODES; i++) {
		CHECK_EQ(net->out_count[i], had);
		restart_at(net, i, had, last_time);
	}
	/* The clock went back: the next agreed time must still not be earlier. */
	net->clock_ms = 0;
	/* Node 4's messages to nodes 2 and 3 are late: node 1 hears every HELLO
	 * and proposes while 2 and 3 are still silent (what they say then is
	 * held until their silence ends; here the epoch would also complete
	 * without it, through their own ECHOs and the others' READYs, while
	 * tests/cluster/restart.sh stalled without it). */
	net->slow = 3;
	net->slowed = bft_nodeset_one(1) | bft_nodeset_one(2);
	for (bft_node_t i = 0; i < NODES; i++) {
		start_restarted(net, i);
	}
	bft_env_t env = net_env(net);
	CHECK_EQ(abc_handle_input(net->abc[0], (const uint8_t *)"after the restart of all", 24,
	                          &env, &net->step), BFT_EOK);
	net_apply(net, 0);
	net_run(net);
	CHECK_EQ(net_epoch(net, 1), had);        /* Still silent, waiting for node 4. */
	net_flush_late(net);
	for (bft_node_t i = 0; i < NODES; i++) {
		CHECK_EQ(net_epoch(net, i), had + 1);
		CHECK_EQ(net->out_count[i], had + 1);
		CHECK(net_same(net, 0, i, had));
		CHECK_EQ(net->blamed[i], 0);
	}
	if (net->out_count[0] == had + 1) {
		CHECK(memmem(net->outs[0][had], net->out_len[0][had], "after the restart of all",
		             24) != NULL);
		CHECK(out_time(net, 0, had) >= last_time);
		printf("all: 4 nodes resumed at epoch %zu, delivered epoch %zu at time %llu "
		       "(last before: %llu)\n", had, had, (unsigned long long)out_time(net, 0, had),
		       (unsigned long long)last_time);
	}
	net_stop(net);
	free(net);
}

/* Half of the nodes (f + 1) restarted, the others ran on but idle: the
 * running ones answer CLEAN (they hold nothing the restarted ones said in
 * the epochs they restart in), so the restarted ones speak again. */
static void test_half(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 0);
	net_epochs(net, "before", 3);
	size_t had = net->out_count[0];
	uint64_t last_time = out_time(net, 0, had - 1);
	restart_at(net, 2, had, last_time);
	restart_at(net, 3, had, last_time);
	start_restarted(net, 2);
	start_restarted(net, 3);
	net_run(net);
	net_input(net, 0, "after the restart of two");
	for (bft_node_t i = 0; i < NODES; i++) {
		CHECK_EQ(net->out_count[i], had + 1);
		CHECK(net_same(net, 0, i, had));
		CHECK_EQ(net->blamed[i], 0);
	}
	printf("half: nodes 3 and 4 resumed at epoch %zu, the others answered CLEAN, epoch %llu "
	       "delivered by all\n", had, (unsigned long long)net_epoch(net, 0) - 1);
	net_stop(net);
	free(net);
}

static void test_errors(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 0);
	net_epochs(net, "x", 2);
	CHECK_EQ(abc_restore_at(net->abc[0], 5, 0), BFT_EINVAL);   /* In use. */
	bft_params_t p = { .n = net->n, .f = net->f, .self = 3, .conf = &net->conf };
	abc_t *fresh = NULL;
	CHECK_EQ(abc_create(&p, &fresh), BFT_EOK);
	CHECK_EQ(abc_restore(fresh, net->outs[0][0], net->out_len[0][0]), BFT_EOK);
	CHECK_EQ(abc_restore_at(fresh, 5, 0), BFT_EINVAL);         /* After abc_restore(). */
	abc_destroy(fresh);
	CHECK_EQ(abc_create(&p, &fresh), BFT_EOK);
	CHECK_EQ(abc_restore_at(fresh, 5, 7), BFT_EOK);
	CHECK_EQ(abc_restore_at(fresh, 6, 7), BFT_EINVAL);         /* Twice. */
	abc_stats_t st;
	abc_stats(fresh, &st);
	CHECK_EQ(st.epoch, 5);
	CHECK_EQ(st.last_time_ms, 7);
	CHECK_EQ(st.kept, 0);
	abc_destroy(fresh);
	net_stop(net);
	free(net);
}

int main(void)
{
	if (coin_init() != COIN_EOK) {
		return 1;
	}
	test_one();
	test_all();
	test_half();
	test_errors();
	return check_result("test_abc_resume");
}
