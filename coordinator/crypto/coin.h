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
 * Threshold common coin of Cachin, Kursawe and Shoup ("Random oracles in
 * Constantinople", PODC 2000 / J. Cryptology 2005), in the prime-order
 * group ristretto255 (libsodium).
 *
 * The dealer picks a random polynomial p of degree f over Z_L (L the group
 * order) and gives player i the secret x_i = p(i); every player knows the
 * verification keys VK_i = g^(x_i). For a coin named C:
 *
 *   share of player i:  S_i = H(C)^(x_i) with a Chaum-Pedersen proof
 *                       that log_g VK_i = log_H(C) S_i (non-interactive,
 *                       Fiat-Shamir, proof = (c, z));
 *   combine f + 1 verified shares by Lagrange in the exponent:
 *                       H(C)^(p(0)) = prod S_i^(lambda_i);
 *   coin value:         BLAKE2b(domain, C, H(C)^(p(0))), whose low bit is
 *                       the coin's bit.
 *
 * Any f + 1 valid shares give the same value (it is a function of C and
 * p(0) alone), and f players learn nothing about it before an honest one
 * releases its share. Shares are unique: a player can make one valid share
 * per name, so a Byzantine player can withhold but not bias the coin.
 *
 * No clock and no randomness inside, except the dealer's source passed as
 * an argument: the proof nonce is derived from the secret and the name, so
 * a player's share of a given coin is always the same bytes.
 *
 * Player ids are 1..n (player i is node i - 1, see coordinator/proto/step.h).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! Most players (= SHOUP_PLAYERS_MAX = BFT_NODES_MAX). */
#define COIN_PLAYERS_MAX	32

/*! Sizes of an encoded group element and scalar. */
#define COIN_POINT_LEN		32
#define COIN_SCALAR_LEN		32

/*! An encoded share: S_i, c, z. */
#define COIN_SHARE_LEN		(COIN_POINT_LEN + 2 * COIN_SCALAR_LEN)

/*! The combined coin value (a hash); its bit is value[0] & 1. */
#define COIN_VALUE_LEN		32

/*! Longest coin name. */
#define COIN_NAME_MAX		256

/*! Error codes (negative; 0 is success). */
enum {
	COIN_EOK     =  0,
	COIN_EINVAL  = -1,  /*!< Bad argument or inconsistent key. */
	COIN_EPROOF  = -2,  /*!< A share does not verify. */
	COIN_ERANDOM = -3,  /*!< The random source failed. */
	COIN_ECRYPTO = -4,  /*!< libsodium failed (or could not initialise). */
};

/*! Returns a sentence describing an error code. */
const char *coin_strerror(int code);

/*! Random source: the shape of shoup_random_fn and bft_random_fn. */
typedef int (*coin_random_fn)(void *ctx, uint8_t *out, size_t len);

/*! What every player knows. */
typedef struct {
	unsigned n;                                     /*!< Players, 1..COIN_PLAYERS_MAX. */
	unsigned f;                                     /*!< f + 1 shares combine; n >= 3f + 1. */
	uint8_t vkeys[COIN_PLAYERS_MAX][COIN_POINT_LEN];/*!< VK_i at [i - 1]. */
} coin_public_t;

/*! What player id alone knows. */
typedef struct {
	unsigned id;                                    /*!< 1..n. */
	uint8_t secret[COIN_SCALAR_LEN];                /*!< x_i, canonical scalar. */
} coin_secret_t;

/*! One player's share of one coin. */
typedef struct {
	unsigned id;                                    /*!< 1..n; not on the wire (the sender). */
	uint8_t bytes[COIN_SHARE_LEN];                  /*!< S_i || c || z. */
} coin_share_t;

/*! Initialises libsodium (idempotent, thread-safe); COIN_ECRYPTO if it cannot. */
int coin_init(void);

/*!
 * Trusted dealer: a fresh coin key for n players, f + 1 of whom combine.
 * secrets must have room for n entries; secrets[i] gets player i + 1.
 * The library call for bftdns-keygen (then coin_file_write_* each part).
 */
int coin_deal(unsigned n, unsigned f, coin_random_fn rnd, void *rnd_ctx,
              coin_public_t *pub, coin_secret_t *secrets);

/*!
 * Checks a public key: 1 <= n <= max, n >= 3f + 1, every VK_i a valid,
 * canonical, non-identity group element, and all VK_i on one polynomial of
 * degree f in the exponent (interpolated from the first f + 1). On every
 * key read from a file; costs (n - f - 1)(f + 1) scalar multiplications.
 */
int coin_public_check(const coin_public_t *pub);

/*! Checks that sec belongs to pub: id in range, x_i canonical, g^(x_i) = VK_id. */
int coin_secret_check(const coin_public_t *pub, const coin_secret_t *sec);

/*! Wipes a secret. */
void coin_secret_wipe(coin_secret_t *sec);

/*! Makes player sec->id's share of the coin named name (1..COIN_NAME_MAX bytes). */
int coin_share_make(const coin_public_t *pub, const coin_secret_t *sec,
                    const uint8_t *name, size_t name_len, coin_share_t *share);

/*!
 * Verifies share (from player share->id) of the coin named name:
 * COIN_EOK, COIN_EPROOF if it does not verify (untrusted bytes never
 * produce anything else but COIN_EINVAL for a bad id or name).
 */
int coin_share_verify(const coin_public_t *pub, const uint8_t *name, size_t name_len,
                      const coin_share_t *share);

/*!
 * Combines exactly f + 1 VERIFIED shares of distinct players into the coin
 * value. The caller verifies first: combining an invalid share gives a
 * wrong value, not an error.
 */
int coin_combine(const coin_public_t *pub, const uint8_t *name, size_t name_len,
                 const coin_share_t *shares, size_t count, uint8_t value[COIN_VALUE_LEN]);

/*! The coin's bit. */
static inline bool coin_value_bit(const uint8_t value[COIN_VALUE_LEN])
{
	return value[0] & 1;
}
