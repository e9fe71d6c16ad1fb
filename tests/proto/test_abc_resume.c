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
 * over the hand-driven network of abc_net.h:
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

#include "tests/proto/abc_net.h"

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
