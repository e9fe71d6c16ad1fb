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
 * Snapshots of a replicated zone at its checkpoints, for state transfer
 * (doc/knot-integration.md, "State transfer"; replicas > 1 with a
 * digest-interval).
 *
 * At checkpoint batch K the apply thread (the zone's only writer, so the
 * zone is the state after K) walks the zone with knotd_zone_snapshot()
 * (knot-patch/0012), which also gives the digest of the same state: the
 * digest that this replica then reports for K. The RRsets go into a
 * snapshot, kept in memory (the last two: the newest is usually not stable
 * yet when a peer asks) and written to the zone's state directory as
 * `snapshot-<K>` (0600, replaced atomically; older files removed), so that
 * a restarted replica still serves. A peer is offered the snapshot of the
 * latest stable checkpoint (checkpoint.h), if this replica holds it and its
 * digest is the checkpoint's (a replica in the minority offers nothing).
 *
 * Format (big endian):
 *   16 bytes "BFTDNS-SNAPSHOT1"
 *   u64 K, u64 agreed time of K (ms), u32 SOA serial, 48 bytes digest
 *   u32 RRsets, then each: u16 RRs, then the RRs in DNS wire format
 *   (uncompressed owner, type, class, TTL, RDLENGTH, RDATA)
 *
 * A received snapshot is untrusted: its header must name the certified K,
 * time and digest, every RR is parsed by libknot, each RRset's RRs must
 * share owner, type and class, and knotd_zone_install() commits it only if
 * the zone built from it has the certified digest.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/xfer.h"
#include "module/bftdns.h"
#include "module/digest_report.h"

/*! Largest snapshot made or taken. */
#define BFTDNS_SNAPSHOT_MAX	XFER_SNAPSHOT_DEFAULT
#define BFTDNS_SNAPSHOT_HDR	(16 + 8 + 8 + 4 + BFTDNS_DIGEST_SIZE + 4)

typedef struct bftdns_snapshots bftdns_snapshots_t;

/*! Load (replicas > 1, after the state directory): reads the kept files. */
int bftdns_snapshot_init(bftdns_t *ctx);

void bftdns_snapshot_free(bftdns_t *ctx);

/*!
 * Apply thread, right after batch applied: the zone's snapshot and its
 * digest (written into digest, serial). KNOT_EOK, or an error of
 * knotd_zone_snapshot() (the zone not ready) or of memory; a snapshot that
 * cannot be written to disk is still kept in memory (logged). A zone over
 * BFTDNS_SNAPSHOT_MAX in wire format gets its digest and no snapshot
 * (logged once: this replica serves no state transfer).
 */
int bftdns_snapshot_take(bftdns_t *ctx, uint64_t batch, uint64_t time_ms,
                         uint8_t digest[BFTDNS_DIGEST_SIZE], uint32_t *serial);

/*! The coordinator's store (xfer.h); its ctx is the bftdns_t. */
extern const xfer_store_ops_t bftdns_snapshot_store;

/*!
 * Apply thread: installs untrusted snapshot bytes as the state of the
 * certified claim (knotd_zone_install() with the claim's digest and the
 * position of its batch). KNOT_EOK with rrs and serial; KNOT_EMALF (the
 * bytes are not a snapshot of that claim, or their digest is another: the
 * source lied), or another error of knotd_zone_install().
 */
int bftdns_snapshot_install(bftdns_t *ctx, const uint8_t *data, size_t len,
                            const bftdns_digest_claim_t *claim, size_t *rrs,
                            uint32_t *serial);
