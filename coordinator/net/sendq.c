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

#include "coordinator/net/sendq.h"
#include "coordinator/proto/error.h"

struct bft_sendq_item {
	bft_sendq_item_t *next;
	size_t len;
	uint8_t data[];
};

void bft_sendq_init(bft_sendq_t *q, size_t bytes_max)
{
	memset(q, 0, sizeof(*q));
	q->bytes_max = bytes_max;
}

static void sendq_pop(bft_sendq_t *q)
{
	bft_sendq_item_t *item = q->head;
	assert(item != NULL);
	q->head = item->next;
	if (q->head == NULL) {
		q->tail = NULL;
	}
	q->bytes -= item->len;
	q->count--;
	q->head_off = 0;
	free(item);
}

void bft_sendq_clear(bft_sendq_t *q)
{
	while (q->head != NULL) {
		sendq_pop(q);
	}
	assert(q->bytes == 0 && q->count == 0);
}

int bft_sendq_push(bft_sendq_t *q, bft_frame_kind_t kind, const uint8_t *payload, uint32_t len)
{
	size_t size = BFT_FRAME_HEADER + (size_t)len;
	if (size > q->bytes_max - q->bytes || q->bytes > q->bytes_max) {
		q->refused++;
		return BFT_ESPACE;
	}
	bft_sendq_item_t *item = malloc(sizeof(*item) + size);
	if (item == NULL) {
		return BFT_ENOMEM;
	}
	item->next = NULL;
	item->len = size;
	bft_frame_header(item->data, kind, len);
	if (len > 0) {
		memcpy(item->data + BFT_FRAME_HEADER, payload, len);
	}
	if (q->tail != NULL) {
		q->tail->next = item;
	} else {
		q->head = item;
	}
	q->tail = item;
	q->bytes += size;
	q->count++;
	if (q->bytes > q->bytes_peak) {
		q->bytes_peak = q->bytes;
	}
	return BFT_EOK;
}

size_t bft_sendq_fill(bft_sendq_t *q, uint8_t *out, size_t cap)
{
	size_t done = 0;
	while (q->head != NULL && done < cap) {
		size_t left = q->head->len - q->head_off;
		size_t take = left < cap - done ? left : cap - done;
		memcpy(out + done, q->head->data + q->head_off, take);
		done += take;
		q->head_off += take;
		if (q->head_off == q->head->len) {
			sendq_pop(q);
		}
	}
	return done;
}

void bft_sendq_drop_partial(bft_sendq_t *q)
{
	if (q->head != NULL && q->head_off > 0) {
		sendq_pop(q);
	}
}
