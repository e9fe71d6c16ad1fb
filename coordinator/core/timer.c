/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/core/timer.h"
#include "coordinator/proto/error.h"

#define TIMER_NONE	UINT32_MAX

int bft_timers_init(bft_timers_t *timers, size_t cap)
{
	memset(timers, 0, sizeof(*timers));
	if (cap == 0 || cap >= TIMER_NONE) {
		return BFT_EINVAL;
	}
	timers->heap = calloc(cap, sizeof(*timers->heap));
	timers->pos = malloc(cap * sizeof(*timers->pos));
	timers->deadline = calloc(cap, sizeof(*timers->deadline));
	if (timers->heap == NULL || timers->pos == NULL || timers->deadline == NULL) {
		bft_timers_deinit(timers);
		return BFT_ENOMEM;
	}
	timers->cap = cap;
	for (size_t i = 0; i < cap; i++) {
		timers->pos[i] = TIMER_NONE;
	}
	return BFT_EOK;
}

void bft_timers_deinit(bft_timers_t *timers)
{
	free(timers->heap);
	free(timers->pos);
	free(timers->deadline);
	memset(timers, 0, sizeof(*timers));
}

static bool timer_less(const bft_timers_t *t, size_t a, size_t b)
{
	return t->deadline[t->heap[a]] < t->deadline[t->heap[b]];
}

static void timer_swap(bft_timers_t *t, size_t a, size_t b)
{
	uint32_t ida = t->heap[a], idb = t->heap[b];
	t->heap[a] = idb;
	t->heap[b] = ida;
	t->pos[idb] = (uint32_t)a;
	t->pos[ida] = (uint32_t)b;
}

static void timer_up(bft_timers_t *t, size_t i)
{
	while (i > 0 && timer_less(t, i, (i - 1) / 2)) {
		timer_swap(t, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void timer_down(bft_timers_t *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->count && timer_less(t, l, m)) {
			m = l;
		}
		if (r < t->count && timer_less(t, r, m)) {
			m = r;
		}
		if (m == i) {
			return;
		}
		timer_swap(t, i, m);
		i = m;
	}
}

void bft_timers_cancel(bft_timers_t *t, uint32_t id)
{
	assert(id < t->cap);
	uint32_t i = t->pos[id];
	if (i == TIMER_NONE) {
		return;
	}
	t->count--;
	if (i != t->count) {
		timer_swap(t, i, t->count);
		timer_down(t, i);
		timer_up(t, i);
	}
	t->pos[id] = TIMER_NONE;
}

void bft_timers_set(bft_timers_t *t, uint32_t id, uint64_t deadline_ms)
{
	assert(id < t->cap);
	if (deadline_ms == UINT64_MAX) {
		bft_timers_cancel(t, id);
		return;
	}
	t->deadline[id] = deadline_ms;
	uint32_t i = t->pos[id];
	if (i == TIMER_NONE) {
		assert(t->count < t->cap);
		i = (uint32_t)t->count++;
		t->heap[i] = id;
		t->pos[id] = i;
	}
	timer_down(t, i);
	timer_up(t, t->pos[id]);
}

uint64_t bft_timers_next(const bft_timers_t *t, uint32_t *id)
{
	if (t->count == 0) {
		return UINT64_MAX;
	}
	if (id != NULL) {
		*id = t->heap[0];
	}
	return t->deadline[t->heap[0]];
}

bool bft_timers_pop_due(bft_timers_t *t, uint64_t now_ms, uint32_t *id)
{
	uint32_t first = 0;
	if (bft_timers_next(t, &first) > now_ms) {
		return false;
	}
	bft_timers_cancel(t, first);
	*id = first;
	return true;
}
