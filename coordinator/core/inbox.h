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
 * Work from any thread to the event loop: a liburcu wait-free queue
 * (cds wfcqueue: enqueue never blocks and never takes a lock) plus an
 * eventfd that wakes the loop's epoll. The number of items waiting is
 * bounded: past max, a push is refused with BFT_EAGAIN (backpressure to
 * Knot's workers instead of unbounded memory).
 */

#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <urcu/wfcqueue.h>

typedef struct {
	struct cds_wfcq_node node;
	/*! Release/acquire pair on the item itself: the queue's own barriers
	 *  order it too, but live in liburcu where C11 tools cannot see them. */
	atomic_bool published;
	size_t len;
	uint8_t data[];
} bft_inbox_item_t;

typedef struct {
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	int efd;                   /*!< eventfd, non-blocking. */
	atomic_size_t count;
	size_t max;
} bft_inbox_t;

int bft_inbox_init(bft_inbox_t *inbox, size_t max);
/*! Frees whatever is still queued. Only once no thread pushes any more. */
void bft_inbox_deinit(bft_inbox_t *inbox);

/*! Any thread: copies data in and wakes the loop. BFT_EAGAIN if full. */
int bft_inbox_push(bft_inbox_t *inbox, const uint8_t *data, size_t len);
/*! The same for hdr followed by data, as one item (a tag byte in front). */
int bft_inbox_push2(bft_inbox_t *inbox, const uint8_t *hdr, size_t hdr_len,
                    const uint8_t *data, size_t len);

/*! Any thread: wakes the loop without an item (used to stop it). */
void bft_inbox_wake(bft_inbox_t *inbox);

/*!
 * The loop thread only: the next item (free() it), or NULL if none is
 * ready now (also while a push is halfway: it is taken next round).
 */
bft_inbox_item_t *bft_inbox_pop(bft_inbox_t *inbox);

/*! The loop thread: clears the eventfd's counter after a wake-up. */
void bft_inbox_ack(bft_inbox_t *inbox);
