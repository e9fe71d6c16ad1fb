/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Re-sends after a crash of all replicas in an idle group (abc_tick();
 * doc/broadcast.md, "Catch-up" item 8), n = 16 over the hand-driven
 * network of abc_net.h with durable votes: epochs delivered under load,
 * then one more epoch half run (its first messages handled, the rest lost
 * with the crash), every node crashed and restarted from its batches and
 * vote records (also with one node behind before the crash, and with f
 * nodes staying down, so fewer messages come), and no request after: the restarted nodes rebuild the
 * half-run epoch only from re-sent kept messages, each call re-sending at
 * most ABC_VOTES_RESEND_MSGS.
 *
 * Phase 1 runs the network until no message is left, without ticks, and
 * prints what is still pending (re-sends, the epoch each node is at).
 * Phase 2 then ticks every node (bounded) until no re-send is pending and
 * the network is quiet: every node must be at the same epoch with the
 * same batches, and past the half-run one if any node was. The same for
 * one replica restarting into a group of n = 4 that waits for it (one
 * other node down). With the real
 * bound and with 1 re-send per call (conf.resend_msgs_max) phase 1 left
 * nothing pending in these cases (every node re-sends to every other, and
 * each message received is a call that goes on): test_abc_votes shows a
 * tail that only the tick sends.
 */

#include <stdio.h>
#include <stdlib.h>

#define NODES	16
#include "tests/proto/abc_net.h"

#define LOAD_EPOCHS	12
#define TICKS_MAX	1000

/* Handles the next `count` messages of the queue (fewer if it runs dry). */
static void run_some(net_t *net, size_t count)
{
	size_t stop = net->head + count;
	while (net->head < net->tail && net->head < stop) {
		net_msg_t *m = &net->queue[net->head++];
		bft_env_t env = net_env(net);
		CHECK_EQ(abc_handle_message(net->abc[m->to], m->from, m->data, m->len, &env,
		                            &net->step), BFT_EOK);
		net_apply(net, m->to);
		free(m->data);
		m->data = NULL;
	}
}

static void node_create(net_t *net, bft_node_t i)
{
	bft_params_t p = { .n = net->n, .f = net->f, .self = i, .conf = &net->conf };
	CHECK_EQ(abc_create(&p, &net->abc[i]), BFT_EOK);
}

/* Every node stops at once; in-flight messages are lost. */
static void crash_all(net_t *net)
{
	for (size_t k = net->head; k < net->tail; k++) {
		free(net->queue[k].data);
	}
	net->head = net->tail = 0;
	for (bft_node_t i = 0; i < net->n; i++) {
		abc_destroy(net->abc[i]);
		net->abc[i] = NULL;
	}
}

/* Node i again from what it kept: its batches, then its vote records. */
static void restart(net_t *net, bft_node_t i)
{
	node_create(net, i);
	for (size_t k = 0; k < net->out_count[i]; k++) {
		CHECK_EQ(abc_restore(net->abc[i], net->outs[i][k], net->out_len[i][k]), BFT_EOK);
	}
	for (size_t k = 0; k < net->vote_count[i]; k++) {
		CHECK_EQ(abc_restore_vote(net->abc[i], net->votes[i][k], net->vote_len[i][k]),
		         BFT_EOK);
	}
}

typedef struct {
	unsigned pending;       /* Nodes with a re-send not finished. */
	uint64_t epoch_min, epoch_max, resent;
} view_t;

static view_t view(const net_t *net)
{
	view_t v = { .epoch_min = UINT64_MAX };
	for (bft_node_t i = 0; i < net->n; i++) {
		if (net->abc[i] == NULL || bft_nodeset_has(net->cut, i)) {
			continue;   /* Down. */
		}
		abc_stats_t st;
		abc_stats(net->abc[i], &st);
		v.pending += st.resends_pending > 0 ? 1u : 0u;
		v.epoch_min = st.epoch < v.epoch_min ? st.epoch : v.epoch_min;
		v.epoch_max = st.epoch > v.epoch_max ? st.epoch : v.epoch_max;
		v.resent += st.votes_resent;
	}
	return v;
}

/* Returns the highest epoch any node reached before the crash. */
static uint64_t run_before_crash(net_t *net, size_t half, unsigned lag)
{
	net_epochs(net, "load", LOAD_EPOCHS - lag);
	/* The last node misses the last `lag` epochs (cut off) and catches up
	 * in the half-run one. */
	net->cut = lag > 0 ? bft_nodeset_one((bft_node_t)(net->n - 1)) : 0;
	net_epochs(net, "lag", lag);
	net->cut = 0;
	/* One more epoch, proposed by every node, half run. */
	for (bft_node_t i = 0; i < net->n; i++) {
		char req[32];
		snprintf(req, sizeof(req), "last %u", i);
		bft_env_t env = net_env(net);
		CHECK_EQ(abc_handle_input(net->abc[i], (const uint8_t *)req, strlen(req), &env,
		                          &net->step), BFT_EOK);
		net_apply(net, i);
	}
	run_some(net, half);
	return view(net).epoch_max;
}

static void scenario(size_t half, uint32_t cap, unsigned lag, unsigned down)
{
	net_t net;
	net_start(&net, NODES, 0);
	net.keep_votes = true;
	net.conf.votes_durable = true;
	net.conf.resend_msgs_max = cap;
	for (bft_node_t i = 0; i < net.n; i++) {
		abc_destroy(net.abc[i]);
		node_create(&net, i);
	}
	uint64_t before = run_before_crash(&net, half, lag);
	size_t records = 0;
	for (bft_node_t i = 0; i < net.n; i++) {
		records += net.vote_count[i];
	}
	crash_all(&net);
	/* The last `down` nodes stay down (up to f): fewer messages to go on with. */
	bft_node_t up = (bft_node_t)(net.n - down);
	for (bft_node_t i = up; i < net.n; i++) {
		net.cut |= bft_nodeset_one(i);
	}
	for (bft_node_t i = 0; i < up; i++) {
		restart(&net, i);
	}
	for (bft_node_t i = 0; i < up; i++) {
		bft_env_t env = net_env(&net);
		CHECK_EQ(abc_start(net.abc[i], true, &env, &net.step), BFT_EOK);
		net_apply(&net, i);
	}
	net_run(&net);
	view_t idle = view(&net);

	unsigned ticks = 0;
	view_t v = idle;
	for (; ticks < TICKS_MAX && (v.pending > 0 || v.epoch_min != v.epoch_max); ticks++) {
		net_tick(&net);
		v = view(&net);
	}
	printf("n=%u cap=%u lag=%u down=%u half=%zu: %zu vote records before the crash, epochs %llu..%llu (max before "
	       "%llu); idle without ticks: %u nodes with re-sends pending, epochs %llu..%llu, "
	       "%llu re-sent; after %u ticks: %u pending, epochs %llu..%llu, %llu re-sent\n",
	       net.n, cap, lag, down, half, records, (unsigned long long)idle.epoch_min,
	       (unsigned long long)idle.epoch_max, (unsigned long long)before, idle.pending,
	       (unsigned long long)idle.epoch_min, (unsigned long long)idle.epoch_max,
	       (unsigned long long)idle.resent, ticks, v.pending,
	       (unsigned long long)v.epoch_min, (unsigned long long)v.epoch_max,
	       (unsigned long long)v.resent);
	CHECK(ticks < TICKS_MAX);
	CHECK_EQ(v.pending, 0);
	CHECK_EQ(v.epoch_min, v.epoch_max);
	CHECK(v.epoch_min >= before);
	for (bft_node_t i = 1; i < up; i++) {
		CHECK(net_same(&net, 0, i, 0));
	}
	net_stop(&net);
}

/*
 * One replica restarts into a group that waits for it: n = 4 with node 3
 * down for good, an epoch half run by nodes 0..2, node 2 crashed; nodes 0
 * and 1 handle what is in flight and wait (2 of the n - f = 3 needed).
 * Node 2 restarts from its batches and vote records; the others re-send it
 * their kept messages of the epoch, at most `cap` per call.
 */
static void scenario_one(size_t half, uint32_t cap)
{
	net_t net;
	net_start(&net, 4, 0);
	net.keep_votes = true;
	net.conf.votes_durable = true;
	net.conf.resend_msgs_max = cap;
	for (bft_node_t i = 0; i < net.n; i++) {
		abc_destroy(net.abc[i]);
		node_create(&net, i);
	}
	net_epochs(&net, "load", LOAD_EPOCHS);
	net.cut = bft_nodeset_one(3);
	for (bft_node_t i = 0; i < 3; i++) {
		char req[32];
		snprintf(req, sizeof(req), "last %u", i);
		bft_env_t env = net_env(&net);
		CHECK_EQ(abc_handle_input(net.abc[i], (const uint8_t *)req, strlen(req), &env,
		                          &net.step), BFT_EOK);
		net_apply(&net, i);
	}
	run_some(&net, half);
	uint64_t before = view(&net).epoch_max;
	abc_destroy(net.abc[2]);
	net.abc[2] = NULL;
	net_run(&net);               /* What was sent to node 2 is lost. */
	restart(&net, 2);
	bft_env_t env = net_env(&net);
	CHECK_EQ(abc_start(net.abc[2], true, &env, &net.step), BFT_EOK);
	net_apply(&net, 2);
	net_run(&net);
	view_t idle = view(&net);
	unsigned ticks = 0;
	view_t v = idle;
	for (; ticks < TICKS_MAX && (v.pending > 0 || v.epoch_min != v.epoch_max ||
	                             v.epoch_min <= before); ticks++) {
		net_tick(&net);
		v = view(&net);
	}
	printf("n=4 one restart cap=%u half=%zu: epoch before %llu; idle without ticks: %u nodes "
	       "with re-sends pending, epochs %llu..%llu, %llu re-sent; after %u ticks: %u pending, "
	       "epochs %llu..%llu, %llu re-sent\n", cap, half, (unsigned long long)before,
	       idle.pending, (unsigned long long)idle.epoch_min, (unsigned long long)idle.epoch_max,
	       (unsigned long long)idle.resent, ticks, v.pending, (unsigned long long)v.epoch_min,
	       (unsigned long long)v.epoch_max, (unsigned long long)v.resent);
	CHECK(ticks < TICKS_MAX);
	CHECK_EQ(v.pending, 0);
	CHECK_EQ(v.epoch_min, v.epoch_max);
	for (bft_node_t i = 1; i < 3; i++) {
		CHECK(net_same(&net, 0, i, 0));
	}
	net_stop(&net);
}

int main(void)
{
	CHECK_EQ(coin_init(), COIN_EOK);
	size_t halves[] = { 200, 3000 };
	uint32_t caps[] = { 0, 1 };
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		for (size_t k = 0; k < sizeof(halves) / sizeof(halves[0]); k++) {
			scenario(halves[k], caps[c], 0, 0);
			scenario(halves[k], caps[c], 3, 0);
			scenario(halves[k], caps[c], 0, (NODES - 1) / 3);
		}
	}
	for (size_t half = 10; half <= 80; half += 35) {
		scenario_one(half, 1);
		scenario_one(half, 0);
	}
	return check_result("test_abc_resend");
}
