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
 * The latest stable checkpoint of a replicated zone (replicas > 1, with a
 * digest-interval): a batch K on which 2f + 1 replicas' signed DIGEST
 * reports agree (digest.h), with those reports as its certificate
 * (checkpoint_cert.h). At least f + 1 correct replicas hold the zone of K,
 * so what came before K is no longer needed to serve the group: the batch
 * store forgets it (batchstore.h), and a replica further behind must get
 * the state of K instead (state transfer), whose receiver checks it with
 * bftdns_checkpoint_verify() and f + 1 reports.
 *
 * Formed on the apply thread by the delivered reports only, so the same K
 * on every correct replica; kept durably in the file `checkpoint` of the
 * zone's state directory (statedir.h; replaced atomically, 0600) and read
 * back, and checked against the pins, at load.
 */

#pragma once

#include "module/bftdns.h"
#include "module/checkpoint_cert.h"

typedef struct bftdns_checkpoints bftdns_checkpoints_t;

/*! Load (replicas > 1, after bftdns_digest_init()): reads the file if any. */
int bftdns_checkpoint_init(bftdns_t *ctx);

void bftdns_checkpoint_free(bftdns_t *ctx);

/*!
 * Apply thread: cp is stable (2f + 1 equal reports). If it is newer than
 * the latest, it is written to disk and becomes the latest, and the batch
 * store forgets what it no longer needs.
 */
void bftdns_checkpoint_stable(bftdns_t *ctx, const bftdns_checkpoint_t *cp);

/*!
 * Any thread: the latest stable checkpoint with its certificate.
 * KNOT_EOK, KNOT_ENOENT if there is none yet, KNOT_EINVAL without checks.
 */
int bftdns_checkpoint_latest(bftdns_t *ctx, bftdns_checkpoint_t *out);

/*! Any thread: "batch K: <16 hex digits> (R reports)", or "none yet", or "off". */
void bftdns_checkpoint_status(bftdns_t *ctx, char *out, size_t size);
