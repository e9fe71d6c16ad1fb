/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Catch-up of the atomic broadcast (abc.h), directed cases over a small
 * hand-driven network (abc_net.h: FIFO, messages to or from a cut-off node are lost):
 * - a node that lost every message of 8 epochs fetches them and then
 *   takes part again: same batches as the others, bytes for bytes;
 * - while it is behind, the others hold back what it could not take;
 * - a node restarted from its delivered batches (abc_restore) stays
 *   silent in the epochs its old incarnation may have spoken in, fetches
 *   them, and delivers new requests like the others;
 * - a peer that sends a wrong batch is blamed and does not stop catch-up;
 * - a node behind more batches than its peers keep is told so (GONE) and
 *   delivers nothing wrong; the others go on;
 * - a node's own pending requests are bounded (BFT_EAGAIN beyond);
 * - abc_restore() refuses bytes that are not a batch, batches out of
 *   order, and use after start.
 */

#include "tests/proto/abc_net.h"

/* A node loses every message of 8 epochs, then fetches them. */
static void test_lost_messages(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 0);
	net_epochs(net, "warm-up", 1);
	net->cut = bft_nodeset_one(3);
	net_epochs(net, "cut", 8);
	CHECK_EQ(net_epoch(net, 3), 1);
	abc_stats_t st;
	net->cut = 0;
	net_epochs(net, "after", 2);
	abc_stats(net->abc[3], &st);
	printf("lost messages: node 3 at epoch %llu, fetched %llu batches with %llu FETCHes\n",
	       (unsigned long long)st.epoch, (unsigned long long)st.batches_fetched,
	       (unsigned long long)st.fetches_sent);
	CHECK(st.batches_fetched >= 8);
	CHECK_EQ(st.epoch, net_epoch(net, 0));
	CHECK_EQ(net->out_count[3], net->out_count[0]);
	for (bft_node_t i = 1; i < NODES; i++) {
		CHECK(net_same(net, 0, i, 0));
	}
	/* Only lost messages, nobody faulty: nobody blamed anybody. */
	for (bft_node_t i = 0; i < NODES; i++) {
		CHECK_EQ(net->blamed[i], 0);
	}
	net_stop(net);
	free(net);
}

/* A node whose announcement is old: the others hold its messages back. */
static void test_hold(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 0);
	/* Node 3 hears everything but says nothing, so the others believe it
	 * is still at epoch 0 while they run ahead. */
	bft_node_t quiet = 3;
	abc_t *saved = net->abc[quiet];
	net->abc[quiet] = NULL;          /* messages to it are dropped for now */
	net_epochs(net, "ahead", 7);
	net->abc[quiet] = saved;
	abc_stats_t st;
	abc_stats(net->abc[0], &st);
	printf("hold: node 1 at epoch %llu held %llu messages for node 4\n",
	       (unsigned long long)st.epoch, (unsigned long long)st.held);
	CHECK(st.held > 0);
	net_stop(net);
	free(net);
}

/* Restart from the delivered batches; silent in the risky epochs; catch up. */
static void test_restart(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 0);
	net_epochs(net, "before", 3);
	size_t had = net->out_count[3];
	CHECK(had >= 3);
	abc_destroy(net->abc[3]);
	net->abc[3] = NULL;
	net_epochs(net, "down", 6);
	bft_params_t p = { .n = net->n, .f = net->f, .self = 3, .conf = &net->conf };
	CHECK_EQ(abc_create(&p, &net->abc[3]), BFT_EOK);
	for (size_t k = 0; k < had; k++) {
		CHECK_EQ(abc_restore(net->abc[3], net->outs[3][k], net->out_len[3][k]), BFT_EOK);
	}
	CHECK_EQ(net_epoch(net, 3), had);
	net->watch = 3;
	net->watch_until = had + ABC_EPOCHS_AHEAD;
	bft_env_t env = net_env(net);
	CHECK_EQ(abc_start(net->abc[3], true, &env, &net->step), BFT_EOK);
	net_apply(net, 3);
	net_run(net);
	abc_stats_t st;
	abc_stats(net->abc[3], &st);
	CHECK_EQ(st.epoch, net_epoch(net, 0));  /* HELLO, answers, FETCH, batches. */
	net_epochs(net, "back", 3);
	net_input(net, 3, "from the restarted node");
	abc_stats(net->abc[3], &st);
	printf("restart: node 4 restored %zu batches, fetched %llu, now at epoch %llu\n",
	       had, (unsigned long long)st.batches_fetched, (unsigned long long)st.epoch);
	CHECK(st.batches_fetched >= 6);
	CHECK_EQ(net->watch_epoch_msgs, 0);
	CHECK_EQ(net->out_count[3], net->out_count[0]);
	for (bft_node_t i = 1; i < NODES; i++) {
		CHECK(net_same(net, 0, i, 0));
	}
	/* Its own request went through, once, at every node. */
	bool found = false;
	for (size_t k = 0; k < net->out_count[0]; k++) {
		found |= memmem(net->outs[0][k], net->out_len[0][k], "from the restarted node", 23) != NULL;
	}
	CHECK(found);
	for (bft_node_t i = 0; i < NODES; i++) {
		CHECK_EQ(net->blamed[i], 0);
	}
	net_stop(net);
	free(net);
}

/* A peer sends a wrong batch: blamed; the right one still comes from f + 1. */
static void test_liar(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 0);
	net->cut = bft_nodeset_one(3);
	net_epochs(net, "cut", 5);
	net->cut = 0;
	net->lie = true;
	net->liar = 1;
	net->victim = 3;
	net_epochs(net, "after", 2);
	CHECK_EQ(net_epoch(net, 3), net_epoch(net, 0));
	CHECK(net_same(net, 0, 3, 0));
	CHECK_EQ(net->blamed[3], bft_nodeset_one(1));
	CHECK_EQ(net->blamed_kind[3], ABC_FAULT_BAD_BATCH);
	printf("liar: node 2's altered batches blamed (%s); node 4 caught up anyway\n",
	       abc_ops.fault_name(ABC_FAULT_BAD_BATCH));
	net_stop(net);
	free(net);
}

/* Further behind than the peers keep: GONE, nothing wrong delivered. */
static void test_beyond_retention(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 4);
	net->cut = bft_nodeset_one(3);
	net_epochs(net, "cut", 10);
	net->cut = 0;
	size_t before = net->out_count[3];
	net_epochs(net, "after", 2);
	abc_stats_t st;
	abc_stats(net->abc[3], &st);
	printf("beyond retention: node 4 at epoch %llu, %u peers say GONE, others at %llu "
	       "keeping %zu batches\n", (unsigned long long)st.epoch, st.gone,
	       (unsigned long long)net_epoch(net, 0), (size_t)4);
	CHECK(st.gone >= net->f + 1u);
	CHECK_EQ(net->out_count[3], before);
	CHECK(net_epoch(net, 0) >= 12);
	CHECK(net_same(net, 0, 3, 0));
	abc_stats(net->abc[0], &st);
	CHECK_EQ(st.kept, 4);
	CHECK_EQ(st.kept_first, st.epoch - 4);
	net_stop(net);
	free(net);
}

/* A node's own pending requests are bounded below what its peers keep of
 * them: beyond, BFT_EAGAIN; once they are delivered it takes more. */
static void test_own_bound(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 0);
	unsigned taken = 0;
	int ret = BFT_EOK;
	for (unsigned k = 0; k < ABC_QUEUE_MAX && ret == BFT_EOK; k++) {
		char req[32];
		int len = snprintf(req, sizeof(req), "own %u", k);
		bft_env_t env = net_env(net);
		ret = abc_handle_input(net->abc[0], (const uint8_t *)req, (size_t)len, &env, &net->step);
		taken += ret == BFT_EOK ? 1u : 0u;
		net_apply(net, 0);   /* queued, not delivered yet */
	}
	CHECK_EQ(ret, BFT_EAGAIN);
	CHECK_EQ(taken, ABC_QUEUE_MAX / 2 / NODES / 2);
	net_run(net);
	abc_stats_t st;
	abc_stats(net->abc[0], &st);
	CHECK_EQ(st.requests_delivered, taken);
	CHECK_EQ(st.pending, 0);
	net_input(net, 0, "one more");
	for (bft_node_t i = 0; i < NODES; i++) {
		CHECK(net_same(net, 0, i, 0));
		CHECK_EQ(net->blamed[i], 0);
	}
	printf("own bound: node 1 took %u requests of its own, then BFT_EAGAIN; all delivered in "
	       "%llu batches, then it takes more\n", taken, (unsigned long long)st.epoch);
	net_stop(net);
	free(net);
}

static void test_restore_errors(void)
{
	net_t *net = calloc(1, sizeof(*net));
	net_start(net, NODES, 0);
	net_epochs(net, "x", 3);
	bft_params_t p = { .n = net->n, .f = net->f, .self = 3, .conf = &net->conf };
	abc_t *fresh = NULL;
	CHECK_EQ(abc_create(&p, &fresh), BFT_EOK);
	CHECK_EQ(abc_restore(fresh, (const uint8_t *)"garbage", 7), BFT_EMALF);
	CHECK_EQ(abc_restore(fresh, net->outs[0][1], net->out_len[0][1]), BFT_EOK);
	CHECK_EQ(abc_restore(fresh, net->outs[0][1], net->out_len[0][1]), BFT_EINVAL);
	CHECK_EQ(abc_restore(fresh, net->outs[0][0], net->out_len[0][0]), BFT_EINVAL);
	CHECK_EQ(abc_restore(fresh, net->outs[0][2], net->out_len[0][2]), BFT_EOK);
	abc_stats_t st;
	abc_stats(fresh, &st);
	CHECK_EQ(st.epoch, 3);
	CHECK_EQ(st.kept, 2);
	CHECK_EQ(st.kept_first, 1);
	bft_env_t env = net_env(net);
	CHECK_EQ(abc_start(fresh, true, &env, &net->step), BFT_EOK);
	bft_step_clear(&net->step);
	CHECK_EQ(abc_restore(fresh, net->outs[0][2], net->out_len[0][2]), BFT_EINVAL);
	abc_destroy(fresh);
	net_stop(net);
	free(net);
}

int main(void)
{
	if (coin_init() != COIN_EOK) {
		return 1;
	}
	test_lost_messages();
	test_hold();
	test_restart();
	test_liar();
	test_beyond_retention();
	test_own_bound();
	test_restore_errors();
	return check_result("test_abc_catchup");
}
