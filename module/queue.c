/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "knot/module.h"
#include "module/queue.h"

int bftdns_queue_init(bftdns_queue_t *queue)
{
	cds_wfcq_init(&queue->head, &queue->tail);
	queue->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return (queue->event_fd >= 0) ? KNOT_EOK : knot_map_errno();
}

void bftdns_queue_deinit(bftdns_queue_t *queue)
{
	if (queue->event_fd >= 0) {
		close(queue->event_fd);
		queue->event_fd = -1;
	}
	cds_wfcq_destroy(&queue->head, &queue->tail);
}

void bftdns_queue_wake(bftdns_queue_t *queue)
{
	/* Fails only if the counter would overflow, and then it is set anyway. */
	uint64_t one = 1;
	(void)!write(queue->event_fd, &one, sizeof(one));
}

void bftdns_queue_push(bftdns_queue_t *queue, struct cds_wfcq_node *node)
{
	cds_wfcq_node_init(node);
	cds_wfcq_enqueue(&queue->head, &queue->tail, node);
	bftdns_queue_wake(queue);
}

struct cds_wfcq_node *bftdns_queue_pop(bftdns_queue_t *queue)
{
	/* One consumer per queue, so the blocking dequeue never waits on
	 * another dequeuer; it only spins over an enqueue in progress. */
	return cds_wfcq_dequeue_blocking(&queue->head, &queue->tail);
}

bool bftdns_queue_wait(bftdns_queue_t *queue, int timeout_ms)
{
	struct pollfd pfd = { .fd = queue->event_fd, .events = POLLIN };
	int ret = poll(&pfd, 1, timeout_ms);
	if (ret <= 0) {
		return false;
	}

	uint64_t count;
	(void)!read(queue->event_fd, &count, sizeof(count));
	return true;
}
