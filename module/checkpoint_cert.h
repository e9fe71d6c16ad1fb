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
 * The certificate of a stable checkpoint (checkpoint.h): signed DIGEST
 * reports (digest_report.h) of the same batch K by distinct replicas, all
 * saying the same agreed time T of K and the same zone digest D. Anyone
 * holding the replicas' pinned link keys (knot.conf `peer` pins) can check
 * it, whoever handed it over.
 *
 * How many reports make it trustworthy depends on who asks:
 * - a stable checkpoint is formed with 2f + 1 equal reports: at least
 *   f + 1 of them are correct replicas, so any later quorum of 2f + 1
 *   includes a correct replica that holds the state of K (what lets a
 *   replica forget what it delivered before K);
 * - a replica that receives a certificate to install the state of K (state
 *   transfer) needs only f + 1 valid, equal reports: at most f replicas
 *   lie, so one of them is correct, and a correct replica's zone after K
 *   is the zone after K. It then checks the state it received against D.
 * The caller says which (need).
 *
 * Bytes (the file `checkpoint` in the zone's state directory, and what a
 * state transfer carries), big endian:
 *   8 bytes  "BFTDNSCK"
 *   u8       version 1
 *   u64 K, u64 T, BFTDNS_DIGEST_SIZE bytes D
 *   u8       count of reports
 *   count x  u8 replica index (0-based), BFTDNS_DIGEST_REPORT_SIZE bytes report
 *   u32      CRC-32C of everything before (finds a torn or damaged file;
 *            the signatures are what make it authentic)
 *
 * Without knotd, so that the unit tests use it.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/crypto/shoup.h"
#include "module/digest_report.h"

#define BFTDNS_CHECKPOINT_REPORTS_MAX	SHOUP_PLAYERS_MAX
/*! Bytes of an encoded certificate with count reports. */
#define BFTDNS_CHECKPOINT_SIZE(count)	(8 + 1 + BFTDNS_DIGEST_CLAIM_SIZE + 1 + \
					 (count) * (1 + BFTDNS_DIGEST_REPORT_SIZE) + 4)
#define BFTDNS_CHECKPOINT_SIZE_MAX	BFTDNS_CHECKPOINT_SIZE(BFTDNS_CHECKPOINT_REPORTS_MAX)

/*! A checkpoint and its certificate. */
typedef struct {
	bftdns_digest_claim_t claim;   /*!< K (0: none), T, D. */
	unsigned count;                /*!< Reports below. */
	uint8_t origin[BFTDNS_CHECKPOINT_REPORTS_MAX];   /*!< Replica index (0-based) of each. */
	uint8_t report[BFTDNS_CHECKPOINT_REPORTS_MAX][BFTDNS_DIGEST_REPORT_SIZE];
} bftdns_checkpoint_t;

/*!
 * Checks a certificate for the zone (wire name) against the pins of the n
 * replicas (index 0-based): at least need reports, each by a distinct
 * replica below n, read with that replica's pin (digest_report_read()), each
 * claiming exactly cp->claim. KNOT_EOK; KNOT_EINVAL for bad arguments
 * (need 0 or above n); KNOT_EMALF if the certificate does not hold, with a
 * sentence in why (may be NULL).
 */
int bftdns_checkpoint_verify(const bftdns_checkpoint_t *cp, const uint8_t *zone,
                             size_t zone_len, const bft_pin_t *pins, unsigned n,
                             unsigned need, char *why, size_t why_len);

/*! Encodes cp (out: BFTDNS_CHECKPOINT_SIZE(cp->count) bytes); the length, 0 if too small. */
size_t bftdns_checkpoint_encode(const bftdns_checkpoint_t *cp, uint8_t *out, size_t size);

/*!
 * Decodes untrusted bytes: KNOT_EOK, or KNOT_EMALF (wrong length, magic,
 * version, count, CRC); out is written only on success. The reports are
 * not checked: bftdns_checkpoint_verify() does that.
 */
int bftdns_checkpoint_decode(const uint8_t *in, size_t len, bftdns_checkpoint_t *out);
