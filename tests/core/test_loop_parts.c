/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The event loop's parts: the timer heap against a plain array model under
 * random operations, the send queue's bound and partial-frame rule, and the
 * inbox with four producer threads (every item arrives once, the bound
 * refuses the excess, the eventfd wakes).
 */

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/core/inbox.h"
#include "coordinator/core/timer.h"
#include "coordinator/net/sendq.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "tests/common/check.h"

#define TIMERS 50

static void test_timers(void)
{
	bft_timers_t t;
	uint64_t model[TIMERS];
	CHECK_EQ(bft_timers_init(&t, TIMERS), BFT_EOK);
	for (int i = 0; i < TIMERS; i++) {
		model[i] = UINT64_MAX;
	}
	bft_prng_t prng;
	bft_prng_seed(&prng, 11);
	uint64_t now = 0;
	for (int step = 0; step < 200000; step++) {
		uint32_t id = (uint32_t)bft_prng_below(&prng, TIMERS);
		uint64_t op = bft_prng_below(&prng, 10);
		if (op < 6) {
			uint64_t when = now + bft_prng_below(&prng, 1000);
			bft_timers_set(&t, id, when);
			model[id] = when;
		} else if (op < 7) {
			bft_timers_cancel(&t, id);
			model[id] = UINT64_MAX;
		} else {
			now += bft_prng_below(&prng, 100);
			uint32_t due;
			while (bft_timers_pop_due(&t, now, &due)) {
				CHECK(due < TIMERS && model[due] <= now);
				/* The heap gives the earliest first. */
				for (int i = 0; i < TIMERS; i++) {
					CHECK(model[i] >= model[due]);
				}
				model[due] = UINT64_MAX;
			}
			for (int i = 0; i < TIMERS; i++) {
				CHECK(model[i] > now);
			}
		}
		uint64_t least = UINT64_MAX;
		for (int i = 0; i < TIMERS; i++) {
			least = model[i] < least ? model[i] : least;
		}
		CHECK(bft_timers_next(&t, NULL) == least);
	}
	bft_timers_deinit(&t);
}

static void test_sendq(void)
{
	bft_sendq_t q;
	bft_sendq_init(&q, 100);
	uint8_t payload[60] = { 0 }, out[200];
	CHECK_EQ(bft_sendq_push(&q, BFT_FRAME_DATA, payload, 40), BFT_EOK);   /* 46 bytes */
	CHECK_EQ(bft_sendq_push(&q, BFT_FRAME_DATA, payload, 40), BFT_EOK);   /* 92 */
	CHECK_EQ(bft_sendq_push(&q, BFT_FRAME_DATA, payload, 3), BFT_ESPACE); /* 101 > 100 */
	CHECK_EQ(q.refused, 1);
	CHECK_EQ(q.count, 2);
	/* Half of the first frame goes out; then the connection dies. */
	CHECK_EQ(bft_sendq_fill(&q, out, 20), 20);
	CHECK_EQ(bft_sendq_bytes(&q), 72);
	bft_sendq_drop_partial(&q);
	CHECK_EQ(q.count, 1);
	CHECK_EQ(bft_sendq_bytes(&q), 46);
	/* The next connection starts at a frame boundary. */
	CHECK_EQ(bft_sendq_fill(&q, out, sizeof(out)), 46);
	CHECK(out[0] == BFT_FRAME_VERSION && out[1] == BFT_FRAME_DATA && out[5] == 40);
	CHECK_EQ(q.count, 0);
	bft_sendq_drop_partial(&q);   /* nothing partial: nothing happens */
	CHECK_EQ(bft_sendq_push(&q, BFT_FRAME_DATA, payload, 60), BFT_EOK);
	bft_sendq_clear(&q);
	CHECK_EQ(q.bytes, 0);
}

#define PRODUCERS	4
#define PER_PRODUCER	20000

static bft_inbox_t inbox;
static atomic_uint_fast64_t refused;

static void *producer(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;
	for (uint32_t k = 0; k < PER_PRODUCER; k++) {
		uint8_t item[8];
		memcpy(item, &id, 4);
		memcpy(item + 4, &k, 4);
		int ret;
		for (int tries = 0; (ret = bft_inbox_push(&inbox, item, sizeof(item))) == BFT_EAGAIN; tries++) {
			atomic_fetch_add(&refused, 1);
			if (tries > 10000000) {
				return NULL;
			}
		}
		if (ret != BFT_EOK) {
			return NULL;
		}
	}
	return NULL;
}

static void test_inbox(void)
{
	CHECK_EQ(bft_inbox_init(&inbox, 64), BFT_EOK);
	pthread_t threads[PRODUCERS];
	for (uintptr_t i = 0; i < PRODUCERS; i++) {
		CHECK(pthread_create(&threads[i], NULL, producer, (void *)i) == 0);
	}
	uint32_t next[PRODUCERS] = { 0 };
	uint64_t got = 0;
	bool ordered = true;
	/* The consumer sleeps in poll() on the eventfd, as the loop does in epoll. */
	for (int rounds = 0; got < PRODUCERS * PER_PRODUCER && rounds < 10000000; rounds++) {
		struct pollfd pfd = { .fd = inbox.efd, .events = POLLIN };
		if (poll(&pfd, 1, 1000) < 0) {
			break;
		}
		bft_inbox_ack(&inbox);
		bft_inbox_item_t *item;
		while ((item = bft_inbox_pop(&inbox)) != NULL) {
			uint32_t id, k;
			memcpy(&id, item->data, 4);
			memcpy(&k, item->data + 4, 4);
			ordered &= item->len == 8 && id < PRODUCERS && k == next[id];
			next[id < PRODUCERS ? id : 0]++;
			got++;
			free(item);
		}
	}
	for (int i = 0; i < PRODUCERS; i++) {
		pthread_join(threads[i], NULL);
	}
	CHECK_EQ(got, PRODUCERS * PER_PRODUCER);
	CHECK(ordered);   /* FIFO per producer */
	CHECK(atomic_load(&refused) > 0);   /* the bound was hit and held */
	CHECK(bft_inbox_push(&inbox, (const uint8_t *)"x", 1) == BFT_EOK);
	bft_inbox_deinit(&inbox);   /* frees the one left */
}

int main(void)
{
	test_timers();
	test_sendq();
	test_inbox();
	return check_result("test_loop_parts");
}
