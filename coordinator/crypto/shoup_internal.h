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
 * Helpers shared by the Shoup threshold RSA files; not API.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gmp.h>

#include "coordinator/crypto/shoup.h"

/*! L1 of Shoup's proof: bits of the hash H' (SHA-256). */
#define SHOUP_HASH_BITS		256

/*! Bytes of the largest modulus; fixed-length encodings fit in this. */
#define SHOUP_MODULUS_BYTES_MAX	(SHOUP_BITS_MAX / 8)

/*! The proof nonce r has bits(N) + 2 L1 bits (Shoup's statistical hiding). */
#define SHOUP_NONCE_EXTRA_BITS	(2 * SHOUP_HASH_BITS)

/*!
 * Largest valid proof response z = s_i c + r: s_i < N, c < 2^L1 and
 * r < 2^(bits(N) + 2 L1), so z < 2^(bits(N) + 2 L1 + 1).
 */
#define SHOUP_Z_EXTRA_BITS	(SHOUP_NONCE_EXTRA_BITS + 1)

/*! Bytes of the modulus, the length of every fixed-length value encoding. */
size_t shoup_modulus_bytes(const shoup_public_t *pub);

/*! True if 1 <= v < N. */
bool shoup_in_unit_range(const mpz_t v, const mpz_t modulus);

/*! out = n! */
void shoup_delta_compute(mpz_t out, unsigned n);

/*! True if 1 <= n <= SHOUP_PLAYERS_MAX and n >= 3 f + 1. */
bool shoup_params_valid(unsigned n, unsigned f);

/*! Big-endian, left-padded to exactly len bytes; v must be >= 0 and fit. */
void shoup_mpz_to_fixed(const mpz_t v, size_t len, uint8_t *out);

/*! out = uniformly random integer of at most bits bits. */
int shoup_mpz_random_bits(mpz_t out, unsigned bits,
                          shoup_random_fn rnd, void *rnd_ctx);

/*!
 * out = random integer in [0, bound), with statistical distance below 2^-128
 * from uniform (bits(bound) + 128 random bits reduced mod bound, no loop).
 */
int shoup_mpz_random_below(mpz_t out, const mpz_t bound,
                           shoup_random_fn rnd, void *rnd_ctx);

/*! Zeroes every allocated limb of x (a secret) and sets it to 0. */
void shoup_mpz_wipe(mpz_t x);

/*! shoup_mpz_wipe then mpz_clear. */
void shoup_mpz_wipe_clear(mpz_t x);

/*!
 * out = base^exp mod N for a secret exp >= 0, in constant time
 * (mpz_powm_sec, which needs exp > 0: exp = 0 gives 1).
 */
void shoup_powm_secret(mpz_t out, const mpz_t base, const mpz_t exp,
                       const mpz_t modulus);

/*!
 * out = base^exp mod N for a public exp of any sign. A negative exp needs the
 * inverse of base: returns false (out unchanged) if base is not invertible,
 * where mpz_powm would raise SIGFPE.
 */
bool shoup_powm_public(mpz_t out, const mpz_t base, const mpz_t exp,
                       const mpz_t modulus);

/*!
 * H' of Shoup's proof: c = SHA-256 over a fixed-length encoding of
 * (v, x~, v_i, x_i^2, v^r, x~^r), every value reduced mod N (doc/crypto.md).
 */
void shoup_proof_hash(const shoup_public_t *pub, const mpz_t xt,
                      const mpz_t vkey, const mpz_t xi2, const mpz_t vr,
                      const mpz_t xtr, mpz_t c);

/*!
 * The proof nonce r, derived from the secret share and the message so that
 * signing reads no randomness (doc/crypto.md): HMAC-SHA256 keyed with s_i in
 * counter mode, bits(N) + 2 L1 bits.
 */
void shoup_proof_nonce(const shoup_public_t *pub, const shoup_secret_t *sec,
                       const mpz_t x, mpz_t r);
