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
#include <sys/eventfd.h>
#include <unistd.h>

#include "coordinator/core/inbox.h"
#include "coordinator/proto/error.h"

int bft_inbox_init(bft_inbox_t *inbox, size_t max)
{
	memset(inbox, 0, sizeof(*inbox));
	if (max == 0) {
		return BFT_EINVAL;
	}
	inbox->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (inbox->efd < 0) {
		return BFT_EIO;
	}
	cds_wfcq_init(&inbox->head, &inbox->tail);
	atomic_init(&inbox->count, 0);
	inbox->max = max;
	return BFT_EOK;
}

void bft_inbox_deinit(bft_inbox_t *inbox)
{
	bft_inbox_item_t *item;
	/* No pusher is left, so nothing is halfway: a NULL means empty. */
	while ((item = bft_inbox_pop(inbox)) != NULL) {
		free(item);
	}
	cds_wfcq_destroy(&inbox->head, &inbox->tail);
	if (inbox->efd >= 0) {
		close(inbox->efd);
	}
	inbox->efd = -1;
}

void bft_inbox_wake(bft_inbox_t *inbox)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is saturated: the loop is awake anyway. */
	ssize_t ret = write(inbox->efd, &one, sizeof(one));
	(void)ret;
}

int bft_inbox_push2(bft_inbox_t *inbox, const uint8_t *hdr, size_t hdr_len,
                    const uint8_t *data, size_t len)
{
	if (len > SIZE_MAX - sizeof(bft_inbox_item_t) - hdr_len) {
		return BFT_EINVAL;
	}
	if (atomic_fetch_add_explicit(&inbox->count, 1, memory_order_relaxed) >= inbox->max) {
		atomic_fetch_sub_explicit(&inbox->count, 1, memory_order_relaxed);
		return BFT_EAGAIN;
	}
	bft_inbox_item_t *item = malloc(sizeof(*item) + hdr_len + len);
	if (item == NULL) {
		atomic_fetch_sub_explicit(&inbox->count, 1, memory_order_relaxed);
		return BFT_ENOMEM;
	}
	cds_wfcq_node_init(&item->node);
	item->len = hdr_len + len;
	if (hdr_len > 0) {
		memcpy(item->data, hdr, hdr_len);
	}
	if (len > 0) {
		memcpy(item->data + hdr_len, data, len);
	}
	atomic_store_explicit(&item->published, true, memory_order_release);
	cds_wfcq_enqueue(&inbox->head, &inbox->tail, &item->node);
	bft_inbox_wake(inbox);
	return BFT_EOK;
}

int bft_inbox_push(bft_inbox_t *inbox, const uint8_t *data, size_t len)
{
	return bft_inbox_push2(inbox, NULL, 0, data, len);
}

bft_inbox_item_t *bft_inbox_pop(bft_inbox_t *inbox)
{
	struct cds_wfcq_node *node = __cds_wfcq_dequeue_nonblocking(&inbox->head, &inbox->tail);
	if (node == NULL || node == CDS_WFCQ_WOULDBLOCK) {
		return NULL;
	}
	atomic_fetch_sub_explicit(&inbox->count, 1, memory_order_relaxed);
	bft_inbox_item_t *item = caa_container_of(node, bft_inbox_item_t, node);
	bool published = atomic_load_explicit(&item->published, memory_order_acquire);
	assert(published);
	(void)published;
	return item;
}

void bft_inbox_ack(bft_inbox_t *inbox)
{
	uint64_t value;
	ssize_t ret = read(inbox->efd, &value, sizeof(value));
	(void)ret;
}
