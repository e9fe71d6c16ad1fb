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
 * The last batches a zone's module applied, kept in the knotd process
 * across module instances (replicas > 1). Why: on `knotc reload` Knot loads
 * a new instance of the module (with a new coordinator) before it unloads
 * the old one, and the old one may have applied batches the new one must
 * not apply again, and may have had batches delivered it could not apply.
 *
 * Where the new coordinator goes on is decided by the durable position
 * (position.h: the last batch whose change Knot committed, stored with it);
 * the bytes of the batches up to it come from the batch store on disk
 * (batchstore.h, which a knotd restart keeps too) and, if the store has
 * none (no state directory, a damaged store), from these: if they end at
 * that position, they are replayed into the broadcast (abc_restore(): its
 * dedup window and the batches it keeps for lagging peers), else it
 * resumes at the position alone (abc_restore_at()). Either way it takes
 * part again only after the epochs its predecessor may have spoken in, and
 * fetches what it missed from its peers. A knotd restart loses these
 * bytes, not the position nor the store.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "knot/module.h"

/*! Batches kept per zone: enough for abc_restore() to go on from the last. */
#define BFTDNS_HISTORY_MAX	16

/*! Records the bytes of an applied batch (as the broadcast delivered them). */
int bftdns_history_record(const knot_dname_t *zone, const uint8_t *batch, size_t len);

/*!
 * Copies the zone's kept batches, oldest first, into out (each malloc'ed;
 * free with bftdns_history_free()). Returns how many, or -1 if out of
 * memory (nothing copied).
 */
ssize_t bftdns_history_copy(const knot_dname_t *zone, uint8_t *out[BFTDNS_HISTORY_MAX],
                           size_t out_len[BFTDNS_HISTORY_MAX]);

void bftdns_history_free(uint8_t *batches[BFTDNS_HISTORY_MAX], size_t count);
