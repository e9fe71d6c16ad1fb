/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "module/history.h"

typedef struct zone_history {
	struct zone_history *next;
	knot_dname_t *zone;
	uint8_t *batch[BFTDNS_HISTORY_MAX];   /*!< Ring, oldest at first. */
	size_t len[BFTDNS_HISTORY_MAX];
	size_t first, count;
} zone_history_t;

/* Process-wide on purpose: it must outlive module instances. One entry per
 * replicated zone ever loaded, freed at process exit. */
static pthread_mutex_t history_lock = PTHREAD_MUTEX_INITIALIZER;
static zone_history_t *histories;

static zone_history_t *history_find(const knot_dname_t *zone, bool create)
{
	for (zone_history_t *h = histories; h != NULL; h = h->next) {
		if (knot_dname_is_equal(h->zone, zone)) {
			return h;
		}
	}
	if (!create) {
		return NULL;
	}
	zone_history_t *h = calloc(1, sizeof(*h));
	if (h == NULL || (h->zone = knot_dname_copy(zone, NULL)) == NULL) {
		free(h);
		return NULL;
	}
	h->next = histories;
	histories = h;
	return h;
}

int bftdns_history_record(const knot_dname_t *zone, const uint8_t *batch, size_t len)
{
	uint8_t *copy = malloc(len);
	if (copy == NULL) {
		return KNOT_ENOMEM;
	}
	memcpy(copy, batch, len);

	pthread_mutex_lock(&history_lock);
	zone_history_t *h = history_find(zone, true);
	if (h == NULL) {
		pthread_mutex_unlock(&history_lock);
		free(copy);
		return KNOT_ENOMEM;
	}
	if (h->count == BFTDNS_HISTORY_MAX) {
		free(h->batch[h->first]);
		h->first = (h->first + 1) % BFTDNS_HISTORY_MAX;
		h->count--;
	}
	size_t slot = (h->first + h->count) % BFTDNS_HISTORY_MAX;
	h->batch[slot] = copy;
	h->len[slot] = len;
	h->count++;
	pthread_mutex_unlock(&history_lock);
	return KNOT_EOK;
}

ssize_t bftdns_history_copy(const knot_dname_t *zone, uint8_t *out[BFTDNS_HISTORY_MAX],
                           size_t out_len[BFTDNS_HISTORY_MAX])
{
	ssize_t copied = 0;
	pthread_mutex_lock(&history_lock);
	zone_history_t *h = history_find(zone, false);
	for (size_t i = 0; h != NULL && i < h->count; i++) {
		size_t slot = (h->first + i) % BFTDNS_HISTORY_MAX;
		out[copied] = malloc(h->len[slot]);
		if (out[copied] == NULL) {
			/* A resume without the newest batches would re-apply
			 * them: all or nothing (the caller tries again). */
			bftdns_history_free(out, copied);
			pthread_mutex_unlock(&history_lock);
			return -1;
		}
		memcpy(out[copied], h->batch[slot], h->len[slot]);
		out_len[copied] = h->len[slot];
		copied++;
	}
	pthread_mutex_unlock(&history_lock);
	return copied;
}

void bftdns_history_free(uint8_t *batches[BFTDNS_HISTORY_MAX], size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(batches[i]);
	}
}
