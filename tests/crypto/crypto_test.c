/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <nettle/rsa.h>

#include "tests/crypto/crypto_test.h"

unsigned test_failures;
unsigned test_checks;

/* Safe primes found so far, by modulus size. */
#define PRIME_CACHE_MAX	4

static struct {
	unsigned bits;
	mpz_t p, q;
} prime_cache[PRIME_CACHE_MAX];
static unsigned prime_cache_used;

static void die(const char *what)
{
	fprintf(stderr, "FATAL: %s\n", what);
	exit(1);
}

void test_key_init(test_key_t *key)
{
	shoup_public_init(&key->pub);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_secret_init(&key->sec[i]);
	}
}

void test_key_clear(test_key_t *key)
{
	shoup_public_clear(&key->pub);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_secret_clear(&key->sec[i]);
	}
}

void test_primes(unsigned bits, mpz_t p, mpz_t q)
{
	for (unsigned i = 0; i < prime_cache_used; i++) {
		if (prime_cache[i].bits == bits) {
			mpz_set(p, prime_cache[i].p);
			mpz_set(q, prime_cache[i].q);
			return;
		}
	}
	if (prime_cache_used == PRIME_CACHE_MAX) {
		die("prime cache full");
	}
	double start = test_now();
	int ret = shoup_safe_prime_generate(bits / 2, 1, shoup_random_system, NULL,
	                                    NULL, NULL, p);
	do {
		if (ret == SHOUP_EOK) {
			ret = shoup_safe_prime_generate(bits / 2, 2, shoup_random_system,
			                                NULL, NULL, NULL, q);
		}
	} while (ret == SHOUP_EOK && mpz_cmp(p, q) == 0);
	if (ret != SHOUP_EOK) {
		die(shoup_strerror(ret));
	}
	fprintf(stderr, "# safe primes for a %u-bit modulus in %.2f s\n", bits,
	        test_now() - start);
	unsigned slot = prime_cache_used++;
	prime_cache[slot].bits = bits;
	mpz_init_set(prime_cache[slot].p, p);
	mpz_init_set(prime_cache[slot].q, q);
}

bool test_primes_load(const char *path, mpz_t p, mpz_t q)
{
	FILE *file = fopen(path, "r");
	if (file == NULL) {
		return false;
	}
	char line[2048];
	bool have_p = false, have_q = false;
	while (fgets(line, sizeof(line), file) != NULL) {
		if (strncmp(line, "p ", 2) == 0) {
			have_p = mpz_set_str(p, strtok(line + 2, " \n"), 16) == 0;
		} else if (strncmp(line, "q ", 2) == 0) {
			have_q = mpz_set_str(q, strtok(line + 2, " \n"), 16) == 0;
		}
	}
	fclose(file);
	return have_p && have_q;
}

void test_key_deal(test_key_t *key, const mpz_t p, const mpz_t q,
                   unsigned n, unsigned f)
{
	mpz_t e;
	mpz_init_set_ui(e, 65537);
	int ret = shoup_deal_existing(p, q, e, n, f, shoup_random_system, NULL,
	                              &key->pub, key->sec);
	mpz_clear(e);
	if (ret != SHOUP_EOK) {
		die(shoup_strerror(ret));
	}
}

void test_key_make(test_key_t *key, unsigned bits, unsigned n, unsigned f)
{
	mpz_t p, q;
	mpz_inits(p, q, NULL);
	test_primes(bits, p, q);
	test_key_deal(key, p, q, n, f);
	mpz_clears(p, q, NULL);
}

void test_random_bytes(uint8_t *out, size_t len)
{
	if (shoup_random_system(NULL, out, len) != 0) {
		die("getrandom failed");
	}
}

void test_msg_init(test_msg_t *msg)
{
	memset(msg, 0, sizeof(*msg));
	mpz_init(msg->x);
}

void test_msg_clear(test_msg_t *msg)
{
	mpz_clear(msg->x);
}

void test_msg_random(test_msg_t *msg, const shoup_public_t *pub, const bftdns_alg_t *alg)
{
	uint8_t len_byte;
	test_random_bytes(&len_byte, 1);
	msg->len = 1 + len_byte % sizeof(msg->data);
	test_random_bytes(msg->data, msg->len);
	size_t modulus_bytes = (mpz_sizeinbase(pub->modulus, 2) + 7) / 8;
	if (bftdns_alg_digest(alg, msg->data, msg->len, msg->digest) != SHOUP_EOK ||
	    bftdns_alg_encode_digest(alg, msg->digest, modulus_bytes, msg->x) != SHOUP_EOK) {
		die("message encoding failed");
	}
}

void test_shares_make(const test_key_t *key, const mpz_t x, bool with_proof,
                      shoup_share_t *shares)
{
	for (unsigned i = 0; i < key->pub.n; i++) {
		if (shoup_share_sign(&key->pub, &key->sec[i], x, with_proof,
		                     &shares[i]) != SHOUP_EOK) {
			die("shoup_share_sign failed");
		}
	}
}

void test_share_spoil(const shoup_public_t *pub, shoup_share_t *share, test_bad_t how)
{
	size_t bits = 8 * ((mpz_sizeinbase(pub->modulus, 2) + 7) / 8);
	mpz_t all_ones;
	mpz_init(all_ones);
	switch (how) {
	case TEST_BAD_INVERT:
		mpz_ui_pow_ui(all_ones, 2, bits);
		mpz_sub_ui(all_ones, all_ones, 1);
		mpz_sub(share->value, all_ones, share->value);
		mpz_mod(share->value, share->value, pub->modulus);
		break;
	case TEST_BAD_RANDOM: {
		uint8_t buf[SHOUP_BITS_MAX / 8 + 16];
		test_random_bytes(buf, sizeof(buf));
		mpz_import(share->value, sizeof(buf), 1, 1, 1, 0, buf);
		mpz_mod(share->value, share->value, pub->modulus);
		break;
	}
	case TEST_BAD_NEGATE:
		mpz_sub(share->value, pub->modulus, share->value);
		break;
	}
	if (mpz_sgn(share->value) == 0) {
		mpz_set_ui(share->value, 2);	/* stay in [1, N) */
	}
	mpz_clear(all_ones);
}

bool test_nettle_verify(const shoup_public_t *pub, const bftdns_alg_t *alg,
                        const uint8_t *digest, const mpz_t sig)
{
	struct rsa_public_key key;
	rsa_public_key_init(&key);
	mpz_set(key.n, pub->modulus);
	mpz_set(key.e, pub->exponent);
	int ok = rsa_public_key_prepare(&key);
	if (ok) {
		switch (alg->digest_size) {
		case 20: ok = rsa_sha1_verify_digest(&key, digest, sig); break;
		case 32: ok = rsa_sha256_verify_digest(&key, digest, sig); break;
		case 64: ok = rsa_sha512_verify_digest(&key, digest, sig); break;
		default: ok = 0;
		}
	}
	rsa_public_key_clear(&key);
	return ok != 0;
}

double test_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int test_finish(const char *name)
{
	fprintf(stderr, "%s: %u checks, %u failed\n", name, test_checks, test_failures);
	return test_failures == 0 ? 0 : 1;
}
