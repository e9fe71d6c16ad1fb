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
 * A DIGEST report (envelope kind BFTDNS_OP_DIGEST, replica.h): "after batch
 * K, whose agreed time is T, the zone's digest is D", signed by the replica
 * that computed it, for the others to compare (digest.h).
 *
 *   u64 batch K (big endian, >= 1)
 *   u64 T, the agreed time of batch K (Unix ms, big endian)
 *   BFTDNS_DIGEST_SIZE bytes  the zone digest (SHA-384, knot-patch/0008)
 *   44 bytes                  the replica's link public key (Ed25519
 *                             SubjectPublicKeyInfo, DER)
 *   64 bytes                  Ed25519 signature by that key over
 *                             "bftdns digest report 2", u8 length of the
 *                             zone name, the zone name (wire), K, T, D
 *
 * Version 2 added T: 2f + 1 equal reports of K are the certificate of a
 * stable checkpoint (checkpoint_cert.h), and a replica that installs the
 * state of K from others must also resume the broadcast at K with K's
 * agreed time (abc_restore_at()), so the certificate fixes it too. A
 * version 1 report (no T, another signed string) is malformed now: every
 * replica of a group runs the same module.
 *
 * Why signed: the broadcast authenticates who proposed a proposal, but a
 * request in it names its origin on the proposer's word, and a request is
 * often proposed by another replica than its origin. With the signature a
 * report speaks for the replica whose pinned link key (the `peer` pin of
 * knot.conf) made it, whoever carried it; and f + 1 signed reports of K are
 * evidence of the checkpoint that a third party can check (issue 9).
 *
 * Exactly that many bytes: a peer's report is untrusted, anything else is
 * malformed. Kept apart from digest.c so that it is tested without knotd.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gnutls/abstract.h>

#include "coordinator/net/link_key.h"

/*! SHA-384, the zone digest knotd_zone_digest() computes (knot-patch/0008). */
#define BFTDNS_DIGEST_SIZE		48
/*! An Ed25519 SubjectPublicKeyInfo in DER. */
#define BFTDNS_DIGEST_SPKI_SIZE		44
#define BFTDNS_DIGEST_SIG_SIZE		64
/*! The claim of a report: K, T and D (its first bytes). */
#define BFTDNS_DIGEST_CLAIM_SIZE	(8 + 8 + BFTDNS_DIGEST_SIZE)
/*! Bytes of a DIGEST report. */
#define BFTDNS_DIGEST_REPORT_SIZE	(BFTDNS_DIGEST_CLAIM_SIZE + BFTDNS_DIGEST_SPKI_SIZE + \
					 BFTDNS_DIGEST_SIG_SIZE)

/*! What a report says. */
typedef struct {
	uint64_t batch;                      /*!< K, from 1. */
	uint64_t time_ms;                    /*!< Agreed time of batch K (Unix ms). */
	uint8_t digest[BFTDNS_DIGEST_SIZE];  /*!< The zone digest after K. */
} bftdns_digest_claim_t;

/*! This replica's link key, which signs its reports. */
typedef struct {
	gnutls_privkey_t key;
	uint8_t spki[BFTDNS_DIGEST_SPKI_SIZE];
	bft_pin_t pin;                        /*!< Pin of spki. */
} bftdns_digest_signer_t;

/*!
 * Loads the link key file (link-<id>.key, an Ed25519 key). BFT_EOK, or an
 * error with a sentence in why.
 */
int bftdns_digest_signer_load(bftdns_digest_signer_t *signer, const char *path,
                              char *why, size_t why_len);

void bftdns_digest_signer_clear(bftdns_digest_signer_t *signer);

/*!
 * Writes the signed report of claim (batch at least 1) for the zone (a wire
 * name of at most 255 bytes) into out (BFTDNS_DIGEST_REPORT_SIZE bytes).
 * BFT_EOK or an error.
 */
int bftdns_digest_report_sign(const bftdns_digest_signer_t *signer, const uint8_t *zone,
                              size_t zone_len, const bftdns_digest_claim_t *claim,
                              uint8_t *out);

/*!
 * Reads untrusted report bytes: true (claim written) only if len is exactly
 * BFTDNS_DIGEST_REPORT_SIZE, the batch is at least 1, the public key's pin
 * is pin, and its signature over this zone and the claim verifies. Nothing
 * is written otherwise.
 */
bool bftdns_digest_report_read(const uint8_t *in, size_t len, const uint8_t *zone,
                               size_t zone_len, const bft_pin_t *pin,
                               bftdns_digest_claim_t *claim);

/*! The claim of report bytes already read (no check: trusted bytes only). */
void bftdns_digest_report_claim(const uint8_t in[BFTDNS_DIGEST_REPORT_SIZE],
                                bftdns_digest_claim_t *claim);
