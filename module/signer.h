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
 * The threshold signer Knot calls for every RRSIG of the zone
 * (knotd_signer_t, knot-patch/0004): it turns the digest Knot hands over
 * into the PKCS #1 v1.5 encoded x, makes this replica's Shoup share of it, combines
 * f + 1 shares and checks the result with the public key before Knot may
 * publish it.
 *
 * With f = 0 one share is the signature's only share and this signer signs
 * alone. With f > 0 the group signs: the apply thread has a change's
 * digests signed together by the coordinator's threshold signing
 * (threshold.h) and gives Knot a signer that only looks them up
 * (sigset.h); this file then provides the key share and the check.
 */

#pragma once

#include <stdbool.h>

#include "coordinator/keys/keyfile.h"
#include "knot/module.h"
#include "module/conf.h"

typedef struct bftdns_signer bftdns_signer_t;

/*!
 * Reads this replica's key share (conf->key_share) and checks it against
 * the configuration (zone, n, f, replica id). On failure logs why.
 */
int bftdns_signer_load(knotd_mod_t *mod, const bftdns_conf_t *conf,
                       bftdns_signer_t **signer);

void bftdns_signer_free(bftdns_signer_t *signer);

/*! The signer as Knot takes it; NULL if signer is NULL. */
const knotd_signer_t *bftdns_signer_knotd(const bftdns_signer_t *signer);

/*! DNSSEC algorithm number, key tag and modulus bits, for the log. */
void bftdns_signer_describe(const bftdns_signer_t *signer, unsigned *algorithm,
                            unsigned *key_tag, unsigned *bits);

/*! True if signatures need f + 1 > 1 replicas (threshold.h signs). */
bool bftdns_signer_threshold(const bftdns_signer_t *signer);

/*! The public key and this replica's share, for the coordinator. */
const keys_share_t *bftdns_signer_share(const bftdns_signer_t *signer);

/*! Bytes of a signature (the modulus size). */
size_t bftdns_signer_sig_size(const bftdns_signer_t *signer);

/*! True if sig is the valid signature of digest (ctx: the signer; sigset.h). */
bool bftdns_signer_verify(const void *ctx, const uint8_t *digest, const uint8_t *sig);
