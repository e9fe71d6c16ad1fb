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
 * The bytes of a DIGEST report (envelope kind BFTDNS_OP_DIGEST, replica.h):
 * "after batch K my zone's digest is D", as one replica orders it for the
 * others to compare (digest.h).
 *
 *   u64 batch K (big endian, >= 1), BFTDNS_DIGEST_SIZE bytes of digest
 *
 * Exactly that many bytes: a peer's report is untrusted, and anything else
 * is malformed. Kept apart from digest.c so that it is tested without knotd.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! SHA-384, the zone digest knotd_zone_digest() computes (knot-patch/0008). */
#define BFTDNS_DIGEST_SIZE		48
/*! Bytes of a DIGEST report. */
#define BFTDNS_DIGEST_REPORT_SIZE	(8 + BFTDNS_DIGEST_SIZE)

/*! Writes the report of batch into out (BFTDNS_DIGEST_REPORT_SIZE bytes). */
void bftdns_digest_report_write(uint8_t *out, uint64_t batch,
                                const uint8_t digest[BFTDNS_DIGEST_SIZE]);

/*!
 * Reads untrusted report bytes: false (nothing written) unless len is
 * exactly BFTDNS_DIGEST_REPORT_SIZE and the batch is at least 1.
 */
bool bftdns_digest_report_read(const uint8_t *in, size_t len, uint64_t *batch,
                               uint8_t digest[BFTDNS_DIGEST_SIZE]);
