/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*!
 * \file
 *
 * Timers of the event loop: an indexed binary min-heap of deadlines, one
 * slot per timer id (0..cap-1), so setting, moving and cancelling a timer
 * are O(log cap) and the heap never holds stale entries. Sized once.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
	size_t cap;
	size_t count;
	uint32_t *heap;       /*!< Timer ids, heap-ordered by deadline. */
	uint32_t *pos;        /*!< pos[id]: index in heap, or UINT32_MAX if not set. */
	uint64_t *deadline;   /*!< deadline[id]. */
} bft_timers_t;

int bft_timers_init(bft_timers_t *timers, size_t cap);
void bft_timers_deinit(bft_timers_t *timers);

/*! Sets or moves timer id to deadline_ms (UINT64_MAX cancels it). */
void bft_timers_set(bft_timers_t *timers, uint32_t id, uint64_t deadline_ms);
void bft_timers_cancel(bft_timers_t *timers, uint32_t id);

/*! The earliest deadline (UINT64_MAX if none) and its id. */
uint64_t bft_timers_next(const bft_timers_t *timers, uint32_t *id);

/*! Takes off and returns (in *id) a timer due at now_ms; false if none. */
bool bft_timers_pop_due(bft_timers_t *timers, uint64_t now_ms, uint32_t *id);
