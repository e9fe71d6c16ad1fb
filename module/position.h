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
 * The durable position of a replicated zone (replicas > 1): the last batch
 * applied to it. Knot stores it with the journal entry of that batch's
 * change, in the same transaction (knot-patch/0009, knotd_change_t.position),
 * so after a crash the zone and its position agree: a batch is either in
 * both or in neither. At load the coordinator resumes after it, and the
 * apply thread never applies a batch at or below it again.
 *
 * Format (the module's; Knot keeps it as opaque bytes): u8 version 1,
 * u64 batch number, u64 agreed time of that batch in ms (what the atomic
 * broadcast needs to agree on the next batch's time), big endian.
 */

#pragma once

#include <stdint.h>

#include "module/batch.h"
#include "module/bftdns.h"

#define BFTDNS_POSITION_LEN	17

typedef struct {
	uint64_t seq;       /*!< Last batch applied (from 1), 0: none yet. */
	uint64_t time_ms;   /*!< Its agreed time (Unix ms). */
} bftdns_position_t;

/*! The position after a delivered batch (replicas > 1: from its bytes). */
int bftdns_position_of_batch(const bftdns_batch_t *batch, bftdns_position_t *out);

void bftdns_position_encode(const bftdns_position_t *pos, uint8_t out[BFTDNS_POSITION_LEN]);

/*! KNOT_EMALF for bytes that are not a position of this format. */
int bftdns_position_decode(const uint8_t *in, size_t len, bftdns_position_t *out);

/*!
 * Reads the zone's durable position (knotd_zone_position()). No position
 * stored yet gives seq 0 and KNOT_EOK. KNOT_EEMPTYZONE, KNOT_ENOZONE,
 * KNOT_EBUSY: the zone is not ready, try again; KNOT_ESEMCHECK: the zone's
 * contents are not the state after the stored batch (logged).
 */
int bftdns_position_load(bftdns_t *ctx, bftdns_position_t *out);
