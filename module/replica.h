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
 * A replica of a group (replicas > 1): the coordinator core (its own thread
 * inside knotd: TLS links and the atomic broadcast) started at load and
 * stopped at unload, and the two ends of ordering through it.
 *
 *   order thread    bftdns_replica_submit(): a request (a taken-over
 *                   UPDATE, or this replica's signing proposal) goes to
 *                   the broadcast as an envelope; a local client waits in
 *                   the pending table under its handle
 *   core thread     every delivered batch becomes a bftdns_batch_t for the
 *                   apply thread, with the batch's agreed time; a request
 *                   that came in here gets its client back from the table
 *
 *   apply thread    bftdns_replica_sign_start()/_wait(): the digests of a
 *                   change go to the group's threshold signing (threshold.h)
 *                   and their signatures come back
 *
 * Envelope (the request bytes the broadcast orders; peers' envelopes are
 * untrusted and checked): u8 version 2, u8 kind (bftdns_op_kind_t), u64
 * handle (big endian; unique per replica incarnation), the client's address
 * (u8 family 0/4/6, 16 bytes address, zero-padded, u16 port, network
 * order: what the replica it came in at saw, for the update ACL on every
 * replica), then the UPDATE message (kind UPDATE: 12..65535 bytes, an
 * address; kind SIGN: nothing, no address; kind DIGEST: the report of
 * digest_report.h, signed by its origin's link key, no address).
 */

#pragma once

#include <stdbool.h>

#include "coordinator/core/core.h"
#include "coordinator/proto/tsign.h"
#include "module/batch.h"
#include "module/bftdns.h"

/*! Load: checks the link key and prepares the core's configuration. */
int bftdns_replica_start(bftdns_t *ctx);

/*!
 * Order thread: starts the core if it is not running, resuming after the
 * zone's last applied batch (history.h). Fails while the previous module
 * instance (knotc reload) still holds the link port: the caller retries.
 */
int bftdns_replica_run_core(bftdns_t *ctx);

/*! Stops the core; local requests still pending are answered SERVFAIL. */
void bftdns_replica_stop(bftdns_t *ctx);

/*! After the apply thread stopped: stops the core if needed and frees the rest. */
void bftdns_replica_free(bftdns_t *ctx);

/*!
 * Order thread: hands a request to the broadcast. KNOT_EOK (the request
 * is now the replica's), KNOT_EBUSY (inbox full: keep it, try later), or
 * another error (the caller answers it).
 */
int bftdns_replica_submit(bftdns_t *ctx, bftdns_request_t *request);

/*! Any thread: an input for a coordinator member (MUX_XFER). KNOT_EOK, KNOT_EBUSY. */
int bftdns_replica_submit_to(bftdns_t *ctx, uint8_t member, const uint8_t *data, size_t len);

/*!
 * Apply thread, after a state transfer installed a checkpoint: asks the
 * order thread to restart the coordinator at the new durable position.
 */
void bftdns_replica_restart(bftdns_t *ctx);

/*! Any thread: a restart was asked for and is not done yet. */
bool bftdns_replica_restarting(const bftdns_t *ctx);

/*!
 * Order thread: if a restart was asked for, stops the coordinator (local
 * requests still pending are answered SERVFAIL) and starts it again after
 * the zone's durable position. KNOT_EOK when it runs (again).
 */
int bftdns_replica_restart_core(bftdns_t *ctx);

/*! Number of peers whose links are up now. */
unsigned bftdns_replica_links_up(const bftdns_t *ctx);

/*!
 * Apply thread: batch `seq` is applied and durable with the journal commit
 * of its change (position.h): the coordinator's vote log no longer needs
 * the epochs before it (bftdns_core_set_durable()).
 */
void bftdns_replica_set_durable(bftdns_t *ctx, uint64_t seq);

/*! Any thread: the coordinator's counters; false if it is not running. */
bool bftdns_replica_stats(const bftdns_t *ctx, bftdns_core_stats_t *out);

/*! Signing requests that may wait at once (bftdns_replica_sign_start()). */
#define BFTDNS_REPLICA_SIGN_WAVE	16

/*!
 * Apply thread: hands a signing request (ids increasing) to the group.
 * KNOT_EBUSY if BFTDNS_REPLICA_SIGN_WAVE wait already, KNOT_ECONNABORTED if
 * the module is stopping.
 */
int bftdns_replica_sign_start(bftdns_t *ctx, const tsign_request_t *req);

/*!
 * Apply thread: waits for the count signatures of request id (sig_len bytes
 * each, in the request's order) and copies them into sigs. Waits as long as
 * it takes (f + 1 replicas must take part: while fewer run, the change
 * waits) unless the module stops (KNOT_ECONNABORTED).
 */
int bftdns_replica_sign_wait(bftdns_t *ctx, uint64_t id, uint8_t *sigs, size_t count,
                             size_t sig_len);
