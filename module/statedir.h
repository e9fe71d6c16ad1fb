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
 * The module state directory of a replicated zone (replicas > 1):
 * <database storage>/bftdns/<zone name>, next to Knot's journal (whose
 * entries carry the durable position, position.h), mode 0700. It holds the
 * latest stable checkpoint (checkpoint.h, file `checkpoint`), the
 * delivered-batch store (batchstore.h, files `batches-*.seg`) and the
 * coordinator's vote log (coordinator/core/votelog.h, directory `votes`);
 * doc/operations.md says what may be deleted.
 *
 * The zone name is its text form, with '/', '%' and other bytes outside
 * [A-Za-z0-9._-] written as %XX (and the root zone as %2e), so that any
 * name is one safe path component.
 */

#pragma once

#include "module/bftdns.h"

/*!
 * Finds and creates (mkdir -p, 0700) the zone's directory into
 * ctx->state_dir. An error is logged; the replica runs without it.
 */
int bftdns_statedir_init(bftdns_t *ctx);
