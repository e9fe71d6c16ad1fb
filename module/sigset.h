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
 * The signatures of one ordered change, for the two passes of a threshold
 * signed apply (doc/signing.md, knot-patch/0006):
 *
 *   dry run    Knot's signer is bftdns_sigset_signer(record = true): every
 *              digest Knot asks for is noted and answered with a placeholder
 *              (the dry run commits nothing, so no placeholder survives)
 *   signing    bftdns_sigset_missing() lists the noted digests, sorted and
 *              without duplicates, so that every honest replica asks the
 *              group for the same set in the same order; the signatures
 *              come back through bftdns_sigset_fill()
 *   apply      the signer (record = false) only looks signatures up; a
 *              digest it does not know fails the change (nothing committed)
 *              and is noted, so the caller can have it signed and try again
 *
 * Knot calls the signer from several signing threads at once: the set
 * takes a lock. Lookups are by a hash of the digest (digests are hashes
 * themselves), so a whole-zone pass of many thousands stays linear.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "knot/module.h"

typedef struct bftdns_sigset bftdns_sigset_t;

/*! Checks a signature before Knot may publish it; true if valid. */
typedef bool (*bftdns_sigset_verify_fn)(const void *ctx, const uint8_t *digest,
                                        const uint8_t *sig);

/*!
 * An empty set for digests of digest_size bytes and signatures of
 * sig_size bytes; base gives the DNSKEY the signers publish, verify (with
 * verify_ctx) checks every signature filled in. NULL if out of memory.
 */
bftdns_sigset_t *bftdns_sigset_new(size_t digest_size, size_t sig_size,
                                   const knotd_signer_t *base,
                                   bftdns_sigset_verify_fn verify, const void *verify_ctx);

void bftdns_sigset_free(bftdns_sigset_t *set);

/*! Knot's signer for the dry run (record) or the real apply (!record). */
const knotd_signer_t *bftdns_sigset_signer(bftdns_sigset_t *set, bool record);

/*!
 * The digests noted and not signed yet, sorted, without duplicates, as
 * count * digest_size bytes in *digests (the caller frees). 0 if none;
 * KNOT_ENOMEM is reported as SIZE_MAX.
 */
size_t bftdns_sigset_missing(bftdns_sigset_t *set, uint8_t **digests);

/*!
 * Stores the signatures of count digests (sigs: count * sig_size bytes, in
 * the digests' order). KNOT_EINVAL if one does not verify (nothing of it is
 * stored), KNOT_ENOMEM.
 */
int bftdns_sigset_fill(bftdns_sigset_t *set, const uint8_t *digests, size_t count,
                       const uint8_t *sigs);

/*! Digests the set knows (signed or not). */
size_t bftdns_sigset_size(const bftdns_sigset_t *set);
