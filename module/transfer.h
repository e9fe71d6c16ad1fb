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
 * State transfer in the module (doc/knot-integration.md, "State transfer"):
 * the driver of the coordinator's xfer member (coordinator/proto/xfer.h).
 *
 * A replica that f + 1 peers answer with GONE (the broadcast's FETCH: it is
 * behind the oldest batch they keep; a replica whose storage was wiped is
 * at batch 0) asks its peers for the snapshot of their latest stable
 * checkpoint K. The coordinator checks each offered certificate (f + 1
 * signed reports, checkpoint_cert.h) and hands the bytes of one peer's
 * snapshot here (core thread, copied); the apply thread, the zone's only
 * writer, installs them with knotd_zone_install() at the certified digest
 * with the position (K, agreed time of K), or rejects them (the coordinator
 * then takes another peer's). After an install the order thread restarts
 * the coordinator at that position, and live batches after K come from the
 * peers' kept batches as in any catch-up. No progress for a while: the
 * apply thread asks the coordinator to try another peer (RETRY).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/xfer.h"
#include "module/bftdns.h"

/*! No snapshot byte for this long: another peer. */
#define BFTDNS_TRANSFER_RETRY_MS	5000
/*!
 * A source may take this long for a snapshot, plus a second per MiB of it
 * (a slow drip of chunks is progress, but not enough): then another peer.
 */
#define BFTDNS_TRANSFER_SOURCE_MS	60000
#define BFTDNS_TRANSFER_MS_PER_MIB	1000
/*! After a failed install (not the source's fault), wait before asking again. */
#define BFTDNS_TRANSFER_BACKOFF_MS	10000

typedef struct bftdns_transfer bftdns_transfer_t;

/*!
 * Whether this instance serves and takes state transfers: replicas > 1,
 * digest-interval > 0 (checkpoints), state-transfer on, a state directory.
 */
bool bftdns_transfer_on(const bftdns_t *ctx);

/*! Load (bftdns_transfer_on()). */
int bftdns_transfer_init(bftdns_t *ctx);

void bftdns_transfer_free(bftdns_t *ctx);

/*! Core thread: an xfer output (BFTDNS_CORE_OUT_XFER_*), copied. */
void bftdns_transfer_output(bftdns_t *ctx, uint32_t tag, const uint8_t *data, size_t len);

/*! Core thread: the coordinator's certificate check (xfer_verify_fn; ctx: bftdns_t). */
bool bftdns_transfer_verify(void *ctx, const uint8_t *cert, size_t len, uint64_t *k);

/*!
 * Apply thread, when idle or between batches: starts a transfer when f + 1
 * peers said GONE, installs a complete snapshot, retries a stalled one.
 */
void bftdns_transfer_tick(bftdns_t *ctx);
