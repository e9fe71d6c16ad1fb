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
 * A peer's bounded send queue of encoded frames. It outlives connections:
 * what is queued while a link is down goes out after the reconnect. When
 * the bound is reached new frames are refused (and counted), so a peer that
 * does not read costs at most bytes_max of memory.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include "coordinator/net/frame.h"

typedef struct bft_sendq_item bft_sendq_item_t;

typedef struct {
	bft_sendq_item_t *head;
	bft_sendq_item_t *tail;
	size_t head_off;      /*!< Bytes of the head frame already handed out. */
	size_t bytes;         /*!< Frame bytes held (headers included). */
	size_t count;
	size_t bytes_max;
	uint64_t refused;     /*!< Frames refused because the queue was full. */
	size_t bytes_peak;    /*!< Most bytes ever held (for stats and tests). */
} bft_sendq_t;

void bft_sendq_init(bft_sendq_t *q, size_t bytes_max);
/*! Frees every frame. */
void bft_sendq_clear(bft_sendq_t *q);

/*!
 * Queues one frame (kind, payload). BFT_ESPACE if it would pass bytes_max
 * (then counted in refused, nothing queued), BFT_ENOMEM.
 */
int bft_sendq_push(bft_sendq_t *q, bft_frame_kind_t kind, const uint8_t *payload, uint32_t len);

/*! Copies up to cap queued bytes into out, frees what was fully copied; returns the count. */
size_t bft_sendq_fill(bft_sendq_t *q, uint8_t *out, size_t cap);

/*!
 * After a connection dies: a frame that was handed out in part can never
 * be completed on a new connection, so it goes.
 */
void bft_sendq_drop_partial(bft_sendq_t *q);

static inline size_t bft_sendq_bytes(const bft_sendq_t *q) { return q->bytes - q->head_off; }
