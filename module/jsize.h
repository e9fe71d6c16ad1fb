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
 * Whether a signing pass can be stored in the zone's journal. A replicated
 * zone is kept whole in Knot's journal and an ordered change is stored
 * there as one changeset; Knot refuses a change (and the zone kept with
 * it) larger than the zone's journal-max-usage, after every signature of
 * the pass is made. The first pass over an unsigned zone is the largest
 * change (an RRSIG for every RRset, an NSEC for every name): this estimate
 * says so before a replica proposes it, in the changeset sizes Knot counts
 * (journal/serialization.c).
 *
 * What it decides is local (whether this replica proposes a pass); nothing
 * applied depends on it.
 */

#pragma once

#include <stdint.h>

#include "module/bftdns.h"

typedef struct {
	uint64_t zone;      /*!< The zone as the journal stores it, bytes. */
	uint64_t change;    /*!< What a pass would add: missing RRSIGs and NSECs. */
	uint64_t limit;     /*!< The zone's journal-max-usage. */
	uint64_t suggested; /*!< journal-max-usage to set: twice the signed zone, MiB. */
} bftdns_jsize_t;

/*!
 * Estimates the zone's next signing pass (a pass over the zone, locked
 * meanwhile: order thread only, registered with liburcu).
 *
 * \retval KNOT_EOK     It fits: zone + change below journal-max-usage.
 * \retval KNOT_ESPACE  It does not; out says by how much.
 * \return KNOT_ENOZONE, KNOT_EEMPTYZONE, KNOT_EBUSY  Not loaded yet: later.
 */
int bftdns_jsize_check(bftdns_t *ctx, bftdns_jsize_t *out);
