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
 * Helpers for the crypto tests: checks that count failures, keys dealt from
 * safe primes found once per test binary, messages, corrupted shares, and
 * nettle's plain RSA verification as an independent judge.
 */

#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <gmp.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/crypto/shoup.h"

extern unsigned test_failures;
extern unsigned test_checks;

/*! Counts a check; on failure prints where and why, and goes on. */
#define CHECK(cond, ...) do { \
	test_checks++; \
	if (!(cond)) { \
		test_failures++; \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

/*! A dealt key: public part and every player's secret. */
typedef struct {
	shoup_public_t pub;
	shoup_secret_t sec[SHOUP_PLAYERS_MAX];
} test_key_t;

void test_key_init(test_key_t *key);
void test_key_clear(test_key_t *key);

/*!
 * Two distinct safe primes for a modulus of bits bits, from the dealer's own
 * search, found on the first call for that size and reused afterwards so
 * that a test binary pays for each size once.
 */
void test_primes(unsigned bits, mpz_t p, mpz_t q);

/*! Reads "p <hex>" and "q <hex>" lines from a fixture file; false if bad. */
bool test_primes_load(const char *path, mpz_t p, mpz_t q);

/*! Deals a fresh (n, f) key over p, q with e = 65537; aborts on failure. */
void test_key_deal(test_key_t *key, const mpz_t p, const mpz_t q,
                   unsigned n, unsigned f);

/*! test_primes then test_key_deal. */
void test_key_make(test_key_t *key, unsigned bits, unsigned n, unsigned f);

/*! Random bytes from the system; aborts on failure. */
void test_random_bytes(uint8_t *out, size_t len);

/*! A random message of 1..200 bytes, its digest and its encoding x for pub. */
typedef struct {
	uint8_t data[200];
	size_t len;
	uint8_t digest[64];
	mpz_t x;
} test_msg_t;

void test_msg_init(test_msg_t *msg);
void test_msg_clear(test_msg_t *msg);
void test_msg_random(test_msg_t *msg, const shoup_public_t *pub, const bftdns_alg_t *alg);

/*! Every player's share of x, with or without proofs (shares[0..n) initialised). */
void test_shares_make(const test_key_t *key, const mpz_t x, bool with_proof,
                      shoup_share_t *shares);

/*! How a faulty player spoils its share (its proof, if any, is kept). */
typedef enum {
	TEST_BAD_INVERT,   /*!< All bits inverted, reduced into [1, N) (the paper's test mode). */
	TEST_BAD_RANDOM,   /*!< A random value in [1, N). */
	TEST_BAD_NEGATE,   /*!< N - x_i: same square, so it passes proofs and combines. */
	TEST_BAD_KINDS = 2 /*!< The first kinds are the really wrong ones. */
} test_bad_t;

void test_share_spoil(const shoup_public_t *pub, shoup_share_t *share, test_bad_t how);

/*! nettle's own PKCS#1 v1.5 verification of sig for digest under (N, e). */
bool test_nettle_verify(const shoup_public_t *pub, const bftdns_alg_t *alg,
                        const uint8_t *digest, const mpz_t sig);

/*! Monotonic seconds, for the figures tests print. */
double test_now(void);

/*! Prints the summary; the exit code for main. */
int test_finish(const char *name);
