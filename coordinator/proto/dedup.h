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
 * A bounded window of the most recent keys (SHA-256 digests of delivered
 * requests): insert evicts the oldest key once the window is full, lookup
 * is a hash-table probe. Memory is fixed at create: 32 bytes per key plus
 * a table of twice the window's size.
 *
 * Keys are digests, so their first bytes hash well; an attacker would need
 * SHA-256 preimages to crowd a bucket.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEDUP_KEY_LEN		32
#define DEDUP_WINDOW_MAX	(1u << 20)

typedef struct dedup dedup_t;

/*! A window of `window` keys, 1..DEDUP_WINDOW_MAX. */
int dedup_create(size_t window, dedup_t **out);
void dedup_destroy(dedup_t *dedup);
bool dedup_contains(const dedup_t *dedup, const uint8_t key[DEDUP_KEY_LEN]);
/*! Adds a key that is not in the window, evicting the oldest if full. */
void dedup_insert(dedup_t *dedup, const uint8_t key[DEDUP_KEY_LEN]);
size_t dedup_count(const dedup_t *dedup);
