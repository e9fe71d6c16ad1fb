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
 * Shoup threshold RSA ("Practical Threshold Signatures", Eurocrypt 2000).
 *
 * n players, any k = f + 1 of them make an ordinary RSA signature y with
 * y^e = x (mod N), where x is the PKCS#1 v1.5 encoding of a message digest
 * (see pkcs1.h); any f of them learn nothing about the key.
 *
 * Variant: Shoup's basic scheme with Delta = n!, shares s_i = f(i) mod m,
 * signature shares x_i = x^(2 Delta s_i) and e' = 4 Delta^2 (doc/crypto.md).
 *
 * Nothing in this file reads a clock or a randomness source on its own: the
 * dealer takes a random source as an argument, and share proofs use a nonce
 * derived from the secret share and the message, so a replica's share and
 * proof for a given message are always the same bytes.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gmp.h>

/*! Most players a key may have (a bitmask of player ids fits in 32 bits). */
#define SHOUP_PLAYERS_MAX	32

/*! Modulus sizes the dealer accepts. */
#define SHOUP_BITS_MIN		1024
#define SHOUP_BITS_MAX		4096

/*! Error codes (negative, like KNOT_E*; 0 is success). */
enum {
	SHOUP_EOK      =  0,
	SHOUP_EINVAL   = -1,  /*!< Bad argument (our misuse or a bad config). */
	SHOUP_ENOMEM   = -2,
	SHOUP_ERANGE   = -3,  /*!< A value is out of its range (e.g. share >= N). */
	SHOUP_EPROOF   = -4,  /*!< A share's proof of correctness does not verify. */
	SHOUP_ESIG     = -5,  /*!< A combined signature does not verify. */
	SHOUP_ENOTSAFE = -6,  /*!< Imported primes are not safe primes. */
	SHOUP_ERANDOM  = -7,  /*!< The random source failed. */
	SHOUP_ECANCEL  = -8,  /*!< The progress callback asked to stop. */
};

/*! Returns a sentence describing an error code. */
const char *shoup_strerror(int code);

/*!
 * Random source: fill out[0..len) with uniformly random bytes.
 * Returns 0 on success, anything else on failure.
 */
typedef int (*shoup_random_fn)(void *ctx, uint8_t *out, size_t len);

/*! Random source reading getrandom(2); ctx is unused. For the dealer and tests. */
int shoup_random_system(void *ctx, uint8_t *out, size_t len);

/*!
 * Progress of the safe-prime search: which prime (1 or 2), how many
 * candidates were tried so far. Return false to cancel.
 */
typedef bool (*shoup_progress_fn)(void *ctx, unsigned prime_index, uint64_t candidates);

/*! What every player knows: the RSA public key and the verification keys. */
typedef struct {
	unsigned n;                       /*!< Players, 1..SHOUP_PLAYERS_MAX. */
	unsigned f;                       /*!< Faults tolerated; k = f + 1 sign. */
	unsigned bits;                    /*!< Size of the modulus in bits. */
	mpz_t modulus;                    /*!< N = p q, p and q safe primes. */
	mpz_t exponent;                   /*!< e, a prime > n (65537). */
	mpz_t vbase;                      /*!< v, a random square mod N. */
	mpz_t vkeys[SHOUP_PLAYERS_MAX];   /*!< v_i = v^(s_i), player i at [i - 1]. */
	mpz_t delta;                      /*!< n!, derived from n. */
} shoup_public_t;

/*! What player id alone knows. */
typedef struct {
	unsigned id;                      /*!< 1..n. */
	mpz_t secret;                     /*!< s_i = f(i) mod m. */
} shoup_secret_t;

/*! A signature share, with or without its proof of correctness. */
typedef struct {
	unsigned id;                      /*!< Player who made it, 1..n. */
	mpz_t value;                      /*!< x_i = x^(2 Delta s_i) mod N. */
	bool has_proof;
	mpz_t proof_z;                    /*!< z = s_i c + r. */
	mpz_t proof_c;                    /*!< c = H'(v, x~, v_i, x_i^2, v^r, x~^r). */
} shoup_share_t;

void shoup_public_init(shoup_public_t *pub);
void shoup_public_clear(shoup_public_t *pub);
void shoup_secret_init(shoup_secret_t *sec);
void shoup_secret_clear(shoup_secret_t *sec);   /*!< Also wipes the limbs. */
void shoup_share_init(shoup_share_t *share);
void shoup_share_clear(shoup_share_t *share);

/*!
 * Checks a public key's internal consistency: 1 <= n <= max, n >= 3f + 1,
 * e prime and > n, sizes, v and every v_i in [1, N), delta == n!.
 * Used on every key read from a file or a peer.
 */
int shoup_public_check(const shoup_public_t *pub);

/*!
 * Searches a random safe prime p = 2p' + 1 of exactly bits bits whose two top
 * bits are set (so the product of two of them has exactly 2 bits bits):
 * sieves p' and p together by the small primes, then tests p' and p with
 * mpz_probab_prime_p (Baillie-PSW and Miller-Rabin). prime_index is passed to
 * the progress callback (which may be NULL). The dealer's own search; also
 * for tools that must show where a key's primes came from.
 * bits in 256..SHOUP_BITS_MAX / 2.
 */
int shoup_safe_prime_generate(unsigned bits, unsigned prime_index,
                              shoup_random_fn rnd, void *rnd_ctx,
                              shoup_progress_fn progress, void *progress_ctx,
                              mpz_t p);

/*! True if p is a safe prime (p and (p - 1) / 2 both probable primes). */
bool shoup_is_safe_prime(const mpz_t p);

/*!
 * Trusted dealer: makes a fresh key with two safe primes of bits/2 each.
 * bits is 1024, 2048, 3072 or 4096 (else SHOUP_EINVAL); e = 65537.
 * pub and secrets[0..n) must be initialised (shoup_*_init); secrets[i] gets
 * player i + 1. On an error their contents are unspecified.
 * The progress callback may be NULL.
 */
int shoup_deal(unsigned bits, unsigned n, unsigned f,
               shoup_random_fn rnd, void *rnd_ctx,
               shoup_progress_fn progress, void *progress_ctx,
               shoup_public_t *pub, shoup_secret_t *secrets);

/*!
 * Trusted dealer for an existing RSA key (p, q, e): shares its d if p and q
 * are safe primes, else returns SHOUP_ENOTSAFE (Shoup's proofs and the
 * share arithmetic need m = p'q' with p' and q' prime). The modulus may have
 * any size from SHOUP_BITS_MIN to SHOUP_BITS_MAX bits; e must be a prime
 * above n and below p (SHOUP_EINVAL otherwise). The signatures are the key's
 * ordinary RSA signatures.
 */
int shoup_deal_existing(const mpz_t p, const mpz_t q, const mpz_t e,
                        unsigned n, unsigned f,
                        shoup_random_fn rnd, void *rnd_ctx,
                        shoup_public_t *pub, shoup_secret_t *secrets);

/*!
 * Player sec->id's share of x (0 < x < N), with its proof if with_proof.
 * Uses mpz_powm_sec for the secret exponent. Deterministic.
 */
int shoup_share_sign(const shoup_public_t *pub, const shoup_secret_t *sec,
                     const mpz_t x, bool with_proof, shoup_share_t *out);

/*!
 * Verifies a share's proof. SHOUP_EOK, SHOUP_EPROOF if the share carries no
 * proof or a wrong one, SHOUP_ERANGE if a value is out of range.
 * Never trusts share->id: out-of-range ids are rejected.
 */
int shoup_share_verify(const shoup_public_t *pub, const mpz_t x,
                       const shoup_share_t *share);

/*!
 * Combines exactly k = f + 1 shares with distinct ids into sig; sig is not
 * checked here (see shoup_signature_verify).
 */
int shoup_combine(const shoup_public_t *pub, const mpz_t x,
                  const shoup_share_t *const *shares, unsigned count, mpz_t sig);

/*! Plain RSA verification: sig^e == x (mod N). */
bool shoup_signature_verify(const shoup_public_t *pub, const mpz_t x, const mpz_t sig);

/*!
 * The paper's three ways to turn received shares into a signature
 * (Cachin & Samar, DSN 2004, section 3).
 */
typedef enum {
	SHOUP_STRATEGY_BASIC,     /*!< Every share has a proof; verify, combine the first k valid. */
	SHOUP_STRATEGY_OPTPROOF,  /*!< Combine the first k; on failure ask for proofs. */
	SHOUP_STRATEGY_OPTTE,     /*!< Combine the first k; on failure try k-subsets, up to 2f+1 shares. */
} shoup_strategy_t;

/*! Parses "basic", "optproof", "optte"; returns SHOUP_EINVAL if unknown. */
int shoup_strategy_parse(const char *name, shoup_strategy_t *out);
const char *shoup_strategy_name(shoup_strategy_t strategy);

/*! What a collector wants after an input. */
typedef enum {
	SHOUP_COLLECT_MORE,        /*!< Needs more shares. */
	SHOUP_COLLECT_DONE,        /*!< A verified signature is ready. */
	SHOUP_COLLECT_NEED_PROOFS, /*!< OPTPROOF fell back: ask all players for shares with proofs. */
	SHOUP_COLLECT_FAILED,      /*!< No signature can come from shares any more: BASIC and
	                                OPTPROOF when fewer than k players can still send a
	                                share with a valid proof; OPTTE when 2f+1 usable shares
	                                hold no valid k-subset (so more than f are bad) or all n
	                                answered. A forwarded signature still finishes it. */
} shoup_collect_t;

/*!
 * Sans-I/O collector of the shares of one message: feed shares as they
 * arrive, it says what it needs next. It keeps copies of what it is fed.
 */
typedef struct {
	const shoup_public_t *pub;
	shoup_strategy_t strategy;
	mpz_t x;
	mpz_t signature;                        /*!< Valid once DONE. */
	shoup_share_t shares[SHOUP_PLAYERS_MAX];/*!< Accepted shares, in arrival order. */
	unsigned count;                         /*!< Entries used in shares[]. */
	uint32_t seen;                          /*!< Bit id-1: a share from id was accepted. */
	uint32_t proven;                        /*!< Bit id-1: that share's proof verified. */
	uint32_t faulty;                        /*!< Bit id-1: id sent a share proven bad. */
	bool proofs_requested;                  /*!< OPTPROOF is in its fallback phase. */
	bool done;
	bool failed;                            /*!< FAILED was returned; only a forwarded
	                                             signature can still finish it. */
	uint64_t combine_attempts;              /*!< Combinations tried (for tests and stats). */
} shoup_collector_t;

int shoup_collector_init(shoup_collector_t *col, const shoup_public_t *pub,
                         const mpz_t x, shoup_strategy_t strategy);
void shoup_collector_clear(shoup_collector_t *col);

/*!
 * Feeds one share received from player share->id (the caller passes the
 * authenticated sender there). Faults are recorded, never errors:
 * - an id out of range is ignored (there is no one to blame);
 * - a value out of [1, N), a failed proof (or, under BASIC, no proof), or a
 *   second share from the same id that differs from the first (honest
 *   players are deterministic, so that is equivocation) marks the sender in
 *   col->faulty; its shares are ignored from then on;
 * - a resent identical share is ignored without blame, and under OPTPROOF a
 *   share with a proof may follow the same value without one.
 * OPTTE never blames players for failing subsets (see doc/crypto.md).
 */
shoup_collect_t shoup_collector_add(shoup_collector_t *col, const shoup_share_t *share);

/*!
 * Feeds a finished signature forwarded by a peer: accepted if it verifies
 * (RSA signatures are unique, so any valid one is THE signature).
 */
shoup_collect_t shoup_collector_add_signature(shoup_collector_t *col, const mpz_t sig);
