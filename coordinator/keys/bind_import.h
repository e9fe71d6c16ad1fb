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
 * Import of an existing RSA zone key from a BIND private key file
 * ("Private-key-format: v1.3", as dnssec-keygen and many signers write it):
 * the key is parsed, checked for consistency, and its private exponent is
 * shared by the trusted dealer (shoup_deal_existing).
 *
 * Shoup's scheme needs p = 2p' + 1 and q = 2q' + 1 with p', q' prime; an
 * ordinary RSA key almost never has them, and then it cannot be split: the
 * import says so and the operator makes a new key with bftdns-keygen and
 * rolls the key at the parent (doc/keys.md).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <gmp.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/crypto/shoup.h"
#include "coordinator/keys/error.h"

/*! An RSA private key as a BIND private key file carries it. */
typedef struct {
	const bftdns_alg_t *alg;
	mpz_t modulus;            /*!< Modulus */
	mpz_t exponent;           /*!< PublicExponent */
	mpz_t private_exponent;   /*!< PrivateExponent */
	mpz_t prime1;             /*!< Prime1 (p) */
	mpz_t prime2;             /*!< Prime2 (q) */
	mpz_t exponent1;          /*!< Exponent1 = d mod (p - 1), optional */
	mpz_t exponent2;          /*!< Exponent2 = d mod (q - 1), optional */
	mpz_t coefficient;        /*!< Coefficient = q^-1 mod p, optional */
	bool has_crt;             /*!< The three optional values were given. */
} keys_rsa_private_t;

void keys_rsa_private_init(keys_rsa_private_t *key);
void keys_rsa_private_clear(keys_rsa_private_t *key);   /*!< Wipes it. */

/*!
 * Parses the text of a BIND private key file (algorithm 5, 7, 8 or 10).
 * Timing metadata (Created:, Publish:, ...) is ignored; keys held in an
 * HSM (Engine:, Label:) are refused, they have no exportable private key.
 */
int keys_bind_parse(const char *text, size_t len, const char *name, keys_rsa_private_t *out,
                    keys_err_t *err);

/*!
 * Checks that the values make one RSA key (N = pq, p and q prime and
 * distinct, e d = 1 mod lcm(p-1, q-1), the CRT values if given, size in
 * range), then that p and q are safe primes (KEYS_ENOTSAFE otherwise).
 */
int keys_rsa_private_check(const keys_rsa_private_t *key, const char *name, keys_err_t *err);

/*!
 * Reads, checks and shares the key in a BIND private key file: *alg, pub
 * and secrets[0..n) as shoup_deal_existing makes them.
 */
int keys_bind_import(const char *path, unsigned n, unsigned f,
                     shoup_random_fn rnd, void *rnd_ctx,
                     const bftdns_alg_t **alg, shoup_public_t *pub, shoup_secret_t *secrets,
                     keys_err_t *err);
