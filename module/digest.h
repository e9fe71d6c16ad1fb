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
 * Consistency checks between replicas (doc/knot-integration.md,
 * "Consistency checks").
 *
 * The apply thread is the only writer of the zone, so right after it
 * applied batch K the zone is the state after K on every correct replica.
 * Every digest-interval batches (K a multiple of it, and batch K more than
 * DIGEST reports) it hashes the zone (knotd_zone_digest(), knot-patch/0008:
 * SHA-384 over the canonical zone, a function of the contents only) and
 * orders a DIGEST report "after K, D" through the atomic broadcast. Every
 * replica sees the same reports in the same order and compares each peer's
 * with its own: a mismatch is logged (LOG_ERR, naming the peer) and counted.
 * Once 2f + 1 replicas reported on K and f + 1 of them agree, that digest is
 * the checkpoint of K (at most f lie, so f + 1 equal reports include a
 * correct one); the checkpoint depends on the delivered reports only, so
 * correct replicas form the same one. Once 2f + 1 agree (digest and the
 * agreed time of K), it is a stable checkpoint with those signed reports
 * as its certificate (checkpoint.h). A replica whose own digest differs
 * from a checkpoint that f + 1 other replicas agree on is in the minority:
 * it says so loudly and, with consistency: strict, answers SERVFAIL for the
 * zone until it is restarted. Nothing here changes the zone.
 *
 * A report is signed with its replica's link key and checked against that
 * replica's pin (digest_report.h): a request names its origin on its
 * proposer's word only, and a faulty proposer must not speak for a correct
 * replica.
 */

#pragma once

#include "coordinator/net/link_key.h"
#include "knot/module.h"
#include "module/batch.h"
#include "module/bftdns.h"

/*! Checkpoints whose reports are followed at once (the latest ones). */
#define BFTDNS_DIGEST_ROUNDS	8
/*! Length of a digest as text in the log and in status (a prefix). */
#define BFTDNS_DIGEST_HEX	16

typedef struct bftdns_digest bftdns_digest_t;

/*! Load: the state of the checks (ctx->digest). */
int bftdns_digest_init(bftdns_t *ctx);

void bftdns_digest_free(bftdns_t *ctx);

/*!
 * Core thread: a DIGEST report delivered by the broadcast, as a request for
 * the apply thread (replica.c). NULL (left out, as other bad envelopes are)
 * if malformed or not signed by the link key pinned for origin (0-based),
 * or if this replica does no checks.
 */
bftdns_request_t *bftdns_digest_request(bftdns_t *ctx, unsigned origin,
                                        const uint8_t *payload, size_t len);

/*!
 * Apply thread, once batch has been applied (ret: what apply gave): its
 * DIGEST reports are compared, then, if the batch is a checkpoint, the
 * zone is hashed and this replica's report goes to the order thread.
 */
void bftdns_digest_after_batch(bftdns_t *ctx, const bftdns_batch_t *batch, int ret);

/*!
 * The link key pins of the n replicas by index (0-based), which their
 * DIGEST reports are checked against; NULL if this replica does no checks
 * (replicas 1 or digest-interval 0).
 */
const bft_pin_t *bftdns_digest_pins(const bftdns_t *ctx);

/*! Any thread: the last checkpoint (or own digest) and mismatches, as text. */
void bftdns_digest_status(bftdns_t *ctx, char *out, size_t size);

/*!
 * BEGIN hook: SERVFAIL for every query of the zone once this replica found
 * itself in the minority with consistency: strict; else one atomic read.
 */
knotd_state_t bftdns_digest_hook(knotd_state_t state, knot_pkt_t *pkt,
                                 knotd_qdata_t *qdata, knotd_mod_t *mod);
