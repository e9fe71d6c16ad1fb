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
 * Applying an ordered change whose signatures need f + 1 replicas
 * (doc/signing.md, "The apply path"):
 *
 *   1. dry run (KNOTD_CHANGE_DRY_RUN) with a recording signer: Knot makes
 *      the change and asks for every RRSIG; nothing is committed
 *   2. the digests, sorted, go to the group's threshold signing in
 *      requests of at most TSIGN_MSGS_MAX, instance ids
 *      tsign_id_make(batch, 0), (batch, 1), ...: every honest replica
 *      derives the same requests from the same zone and batch
 *   3. the real apply with a signer that looks the signatures up
 *
 * Applying is a function of the zone and the change, so step 3 asks for
 * the digests of step 1 again. Should it ask for one more (Knot re-signs
 * less once the first signatures verify, never more, but this is not
 * assumed), the apply fails without committing, that digest is signed
 * under the next position, and step 3 runs again: a bounded number of
 * times, the same on every replica.
 */

#pragma once

#include "knot/module.h"
#include "module/bftdns.h"

/*!
 * Apply thread: applies change (its signer is set here) as batch seq,
 * threshold-signed by the group. Returns what knotd_zone_apply() returns
 * for the real apply (the rcodes are set by it), or KNOT_ECONNABORTED if
 * the module stopped while waiting for signatures.
 */
int bftdns_threshold_apply(bftdns_t *ctx, knotd_change_t *change, uint64_t seq,
                           int (*apply)(bftdns_t *, knotd_change_t *, uint64_t));
