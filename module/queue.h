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
 * A multi-producer, single-consumer queue between threads: a liburcu
 * wait-free concurrent queue (producers never block, so Knot's workers
 * never wait on the coordinator) and an eventfd the consumer sleeps on.
 */

#pragma once

#include <stdbool.h>
#include <urcu/wfcqueue.h>

typedef struct {
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	int event_fd;
} bftdns_queue_t;

int bftdns_queue_init(bftdns_queue_t *queue);
void bftdns_queue_deinit(bftdns_queue_t *queue);

/*! Appends a node and wakes the consumer. Wait-free; any thread. */
void bftdns_queue_push(bftdns_queue_t *queue, struct cds_wfcq_node *node);

/*! Takes the oldest node, or NULL if the queue is empty. Consumer only. */
struct cds_wfcq_node *bftdns_queue_pop(bftdns_queue_t *queue);

/*!
 * Sleeps until a push or a wake, or until timeout_ms passed (-1: no limit).
 * Returns true if woken, false on timeout.
 */
bool bftdns_queue_wait(bftdns_queue_t *queue, int timeout_ms);

/*! Wakes the consumer without a node (e.g. to stop). */
void bftdns_queue_wake(bftdns_queue_t *queue);
