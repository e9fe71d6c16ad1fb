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

#include "coordinator/proto/dedup.h"
#include "coordinator/proto/error.h"

/* Keys live in a ring (oldest at `head`); the table maps a key's hash to
 * its ring position + 1 (0: empty), with linear probing and backward-shift
 * deletion, so no tombstones pile up. */
struct dedup {
	size_t window;
	size_t count;
	size_t head;
	uint8_t (*ring)[DEDUP_KEY_LEN];
	uint32_t *table;
	size_t mask;
};

int dedup_create(size_t window, dedup_t **out)
{
	if (out == NULL || window == 0 || window > DEDUP_WINDOW_MAX) {
		return BFT_EINVAL;
	}
	dedup_t *dedup = calloc(1, sizeof(*dedup));
	if (dedup == NULL) {
		return BFT_ENOMEM;
	}
	size_t size = 1;
	while (size < 2 * window) {
		size *= 2;
	}
	dedup->window = window;
	dedup->mask = size - 1;
	dedup->ring = calloc(window, DEDUP_KEY_LEN);
	dedup->table = calloc(size, sizeof(uint32_t));
	if (dedup->ring == NULL || dedup->table == NULL) {
		dedup_destroy(dedup);
		return BFT_ENOMEM;
	}
	*out = dedup;
	return BFT_EOK;
}

void dedup_destroy(dedup_t *dedup)
{
	if (dedup == NULL) {
		return;
	}
	free(dedup->ring);
	free(dedup->table);
	free(dedup);
}

size_t dedup_count(const dedup_t *dedup)
{
	return dedup->count;
}

static size_t dedup_hash(const dedup_t *dedup, const uint8_t *key)
{
	uint64_t h;
	memcpy(&h, key, sizeof(h));
	return (size_t)h & dedup->mask;
}

/* The table slot holding key, or the empty slot where it would go. */
static size_t dedup_find(const dedup_t *dedup, const uint8_t *key)
{
	size_t i = dedup_hash(dedup, key);
	/* The table is at most half full: an empty slot is always reached. */
	for (size_t probes = 0; probes <= dedup->mask; probes++) {
		uint32_t at = dedup->table[i];
		if (at == 0 || memcmp(dedup->ring[at - 1], key, DEDUP_KEY_LEN) == 0) {
			return i;
		}
		i = (i + 1) & dedup->mask;
	}
	assert(0 && "dedup table full");
	return 0;
}

bool dedup_contains(const dedup_t *dedup, const uint8_t key[DEDUP_KEY_LEN])
{
	return dedup->table[dedup_find(dedup, key)] != 0;
}

/* Removes the entry in slot i, shifting later entries of its probe run back. */
static void dedup_remove_slot(dedup_t *dedup, size_t i)
{
	size_t j = i;
	dedup->table[i] = 0;
	for (size_t probes = 0; probes <= dedup->mask; probes++) {
		j = (j + 1) & dedup->mask;
		uint32_t at = dedup->table[j];
		if (at == 0) {
			return;
		}
		size_t home = dedup_hash(dedup, dedup->ring[at - 1]);
		/* Move it back unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			dedup->table[i] = at;
			dedup->table[j] = 0;
			i = j;
		}
	}
}

void dedup_insert(dedup_t *dedup, const uint8_t key[DEDUP_KEY_LEN])
{
	assert(!dedup_contains(dedup, key));
	size_t pos;
	if (dedup->count == dedup->window) {
		pos = dedup->head;
		size_t slot = dedup_find(dedup, dedup->ring[pos]);
		assert(dedup->table[slot] == pos + 1);
		dedup_remove_slot(dedup, slot);
		dedup->head = (dedup->head + 1) % dedup->window;
	} else {
		pos = (dedup->head + dedup->count) % dedup->window;
		dedup->count++;
	}
	memcpy(dedup->ring[pos], key, DEDUP_KEY_LEN);
	size_t slot = dedup_find(dedup, key);
	assert(dedup->table[slot] == 0);
	dedup->table[slot] = (uint32_t)(pos + 1);
}
