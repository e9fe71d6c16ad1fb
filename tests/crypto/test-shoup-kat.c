/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Known answers and large keys, from the fixtures in FIXTURES (argv[1]):
 * - a key imported from known safe primes: the threshold signature equals,
 *   byte for byte, the plain RSA signature computed independently (Python,
 *   kat-1024.txt) and by nettle with d (rsa_*_sign_digest_tr);
 * - 3072- and 4096-bit keys over fixture primes sign with every algorithm;
 * - the import refuses primes that are not safe.
 */

#include <stdlib.h>
#include <string.h>
#include <nettle/rsa.h>

#include "tests/crypto/crypto_test.h"

static const char kat_message[] = "bftdns known-answer test";

static void fixture_path(char *out, size_t size, const char *dir, const char *name)
{
	int len = snprintf(out, size, "%s/%s", dir, name);
	if (len < 0 || (size_t)len >= size) {
		fprintf(stderr, "FATAL: fixture path too long\n");
		exit(1);
	}
}

static void nettle_random(void *ctx, size_t len, uint8_t *out)
{
	(void)ctx;
	test_random_bytes(out, len);
}

/* nettle's own signature with the private key built from p, q. */
static bool nettle_sign(const mpz_t p, const mpz_t q, const bftdns_alg_t *alg,
                        const uint8_t *digest, mpz_t sig)
{
	struct rsa_public_key pub;
	struct rsa_private_key key;
	rsa_public_key_init(&pub);
	rsa_private_key_init(&key);
	mpz_mul(pub.n, p, q);
	mpz_set_ui(pub.e, 65537);
	mpz_t lambda, t;
	mpz_inits(lambda, t, NULL);
	mpz_sub_ui(lambda, p, 1);
	mpz_sub_ui(t, q, 1);
	mpz_lcm(lambda, lambda, t);
	mpz_invert(key.d, pub.e, lambda);
	mpz_set(key.p, p);
	mpz_set(key.q, q);
	mpz_sub_ui(t, p, 1);
	mpz_mod(key.a, key.d, t);
	mpz_sub_ui(t, q, 1);
	mpz_mod(key.b, key.d, t);
	mpz_invert(key.c, q, p);
	int ok = rsa_public_key_prepare(&pub) && rsa_private_key_prepare(&key);
	if (ok) {
		switch (alg->digest_size) {
		case 20: ok = rsa_sha1_sign_digest_tr(&pub, &key, NULL, nettle_random, digest, sig); break;
		case 32: ok = rsa_sha256_sign_digest_tr(&pub, &key, NULL, nettle_random, digest, sig); break;
		case 64: ok = rsa_sha512_sign_digest_tr(&pub, &key, NULL, nettle_random, digest, sig); break;
		default: ok = 0;
		}
	}
	mpz_clears(lambda, t, NULL);
	rsa_private_key_clear(&key);
	rsa_public_key_clear(&pub);
	return ok != 0;
}

/* Threshold signature of data by players first..first+k-1 (with proofs). */
static void threshold_sign(const test_key_t *key, const bftdns_alg_t *alg,
                           const uint8_t *data, size_t len, unsigned first,
                           mpz_t sig, uint8_t *digest)
{
	const shoup_public_t *pub = &key->pub;
	unsigned k = pub->f + 1;
	shoup_share_t shares[SHOUP_PLAYERS_MAX];
	const shoup_share_t *set[SHOUP_PLAYERS_MAX];
	mpz_t x;
	mpz_init(x);
	size_t modulus_bytes = (pub->bits + 7) / 8;
	CHECK(bftdns_alg_digest(alg, data, len, digest) == SHOUP_EOK, "digest");
	CHECK(bftdns_alg_encode(alg, data, len, modulus_bytes, x) == SHOUP_EOK, "encode");
	for (unsigned i = 0; i < k; i++) {
		unsigned player = (first + i) % pub->n;
		shoup_share_init(&shares[i]);
		CHECK(shoup_share_sign(pub, &key->sec[player], x, true, &shares[i]) == SHOUP_EOK,
		      "sign");
		CHECK(shoup_share_verify(pub, x, &shares[i]) == SHOUP_EOK, "%u-bit proof", pub->bits);
		set[i] = &shares[i];
	}
	CHECK(shoup_combine(pub, x, set, k, sig) == SHOUP_EOK, "combine");
	CHECK(shoup_signature_verify(pub, x, sig), "%u-bit %s", pub->bits, alg->name);
	for (unsigned i = 0; i < k; i++) {
		shoup_share_clear(&shares[i]);
	}
	mpz_clear(x);
}

static void test_known_answers(const char *dir)
{
	char path[4096];
	mpz_t p, q, sig, expect, theirs;
	mpz_inits(p, q, sig, expect, theirs, NULL);
	fixture_path(path, sizeof(path), dir, "safe-primes-1024.txt");
	if (!test_primes_load(path, p, q)) {
		CHECK(false, "cannot read %s", path);
		return;
	}
	fixture_path(path, sizeof(path), dir, "kat-1024.txt");
	FILE *kat = fopen(path, "r");
	CHECK(kat != NULL, "cannot read %s", path);

	test_key_t key;
	test_key_init(&key);
	test_key_deal(&key, p, q, 7, 2);
	char line[1024];
	unsigned answers = 0;
	while (kat != NULL && fgets(line, sizeof(line), kat) != NULL) {
		char name[32], hex[600];
		if (line[0] == '#' || sscanf(line, "%31s %599s", name, hex) != 2) {
			continue;
		}
		const bftdns_alg_t *alg = bftdns_alg_by_name(name);
		CHECK(alg != NULL && mpz_set_str(expect, hex, 16) == 0, "kat line %s", name);
		if (alg == NULL) {
			continue;
		}
		uint8_t digest[64];
		for (unsigned first = 0; first < key.pub.n; first += 3) {
			threshold_sign(&key, alg, (const uint8_t *)kat_message,
			               strlen(kat_message), first, sig, digest);
			CHECK(mpz_cmp(sig, expect) == 0, "%s: not the known answer", name);
		}
		CHECK(nettle_sign(p, q, alg, digest, theirs), "nettle sign");
		CHECK(mpz_cmp(sig, theirs) == 0, "%s: differs from nettle's signature", name);

		uint8_t bytes[128], expect_bytes[128];
		CHECK(bftdns_alg_signature_bytes(sig, 128, bytes) == SHOUP_EOK, "bytes");
		for (unsigned i = 0; i < 128; i++) {
			sscanf(hex + 2 * i, "%2hhx", &expect_bytes[i]);
		}
		CHECK(memcmp(bytes, expect_bytes, 128) == 0, "%s: RRSIG bytes", name);
		answers++;
	}
	CHECK(answers == 3, "expected 3 known answers, read %u", answers);
	if (kat != NULL) {
		fclose(kat);
	}
	test_key_clear(&key);
	mpz_clears(p, q, sig, expect, theirs, NULL);
}

static void test_large_keys(const char *dir, unsigned bits)
{
	static const unsigned algs[] = { 5, 7, 8, 10 };
	char path[4096], name[64];
	snprintf(name, sizeof(name), "safe-primes-%u.txt", bits);
	fixture_path(path, sizeof(path), dir, name);
	mpz_t p, q, sig;
	mpz_inits(p, q, sig, NULL);
	if (!test_primes_load(path, p, q)) {
		CHECK(false, "cannot read %s", path);
		return;
	}
	double start = test_now();
	test_key_t key;
	test_key_init(&key);
	test_key_deal(&key, p, q, 4, 1);
	CHECK(key.pub.bits == bits && shoup_public_check(&key.pub) == SHOUP_EOK, "key");
	for (unsigned a = 0; a < 4; a++) {
		const bftdns_alg_t *alg = bftdns_alg_by_number(algs[a]);
		uint8_t data[100], digest[64];
		test_random_bytes(data, sizeof(data));
		threshold_sign(&key, alg, data, sizeof(data), a, sig, digest);
		CHECK(test_nettle_verify(&key.pub, alg, digest, sig), "nettle %u %s", bits, alg->name);
		if (a == 2) {
			mpz_t theirs;
			mpz_init(theirs);
			CHECK(nettle_sign(p, q, alg, digest, theirs) && mpz_cmp(sig, theirs) == 0,
			      "%u-bit: equals nettle's signature", bits);
			mpz_clear(theirs);
		}
	}
	test_key_clear(&key);
	fprintf(stderr, "# %u-bit key: dealt and signed with 4 algorithms in %.2f s\n",
	        bits, test_now() - start);
	mpz_clears(p, q, sig, NULL);
}

static void test_import_refusals(const char *dir)
{
	char path[4096];
	mpz_t p, q, bad, e;
	mpz_inits(p, q, bad, e, NULL);
	fixture_path(path, sizeof(path), dir, "safe-primes-1024.txt");
	if (!test_primes_load(path, p, q)) {
		CHECK(false, "cannot read %s", path);
		return;
	}
	mpz_set_ui(e, 65537);
	test_key_t key;
	test_key_init(&key);

	/* The next prime after p is almost surely not safe. */
	mpz_nextprime(bad, p);
	CHECK(!shoup_is_safe_prime(bad), "nextprime(p) is safe?");
	CHECK(shoup_deal_existing(bad, q, e, 4, 1, shoup_random_system, NULL,
	                          &key.pub, key.sec) == SHOUP_ENOTSAFE, "non-safe p");
	CHECK(shoup_deal_existing(p, bad, e, 4, 1, shoup_random_system, NULL,
	                          &key.pub, key.sec) == SHOUP_ENOTSAFE, "non-safe q");
	mpz_add_ui(bad, p, 2);	/* odd, composite or not safe */
	CHECK(shoup_deal_existing(bad, q, e, 4, 1, shoup_random_system, NULL,
	                          &key.pub, key.sec) == SHOUP_ENOTSAFE, "p + 2");
	CHECK(shoup_deal_existing(p, p, e, 4, 1, shoup_random_system, NULL,
	                          &key.pub, key.sec) == SHOUP_EINVAL, "p == q");
	mpz_set_ui(e, 3);
	CHECK(shoup_deal_existing(p, q, e, 4, 1, shoup_random_system, NULL,
	                          &key.pub, key.sec) == SHOUP_EINVAL, "e = 3 <= n");
	mpz_set_ui(e, 65536);
	CHECK(shoup_deal_existing(p, q, e, 4, 1, shoup_random_system, NULL,
	                          &key.pub, key.sec) == SHOUP_EINVAL, "e not prime");
	mpz_set_ui(e, 65537);
	CHECK(shoup_deal_existing(p, q, e, 4, 2, shoup_random_system, NULL,
	                          &key.pub, key.sec) == SHOUP_EINVAL, "n < 3f + 1");
	/* Too small a modulus: two 256-bit safe primes. */
	CHECK(shoup_safe_prime_generate(256, 1, shoup_random_system, NULL, NULL, NULL,
	                                bad) == SHOUP_EOK, "256-bit safe prime");
	CHECK(shoup_is_safe_prime(bad), "generated prime is safe");
	CHECK(shoup_deal_existing(bad, p, e, 4, 1, shoup_random_system, NULL,
	                          &key.pub, key.sec) == SHOUP_EINVAL, "768-bit modulus");
	/* A 3-prime e > n (e.g. 5 for n = 4) is fine. */
	mpz_set_ui(e, 5);
	CHECK(shoup_deal_existing(p, q, e, 4, 1, shoup_random_system, NULL,
	                          &key.pub, key.sec) == SHOUP_EOK, "e = 5");
	test_key_clear(&key);
	mpz_clears(p, q, bad, e, NULL);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURES-DIR\n", argv[0]);
		return 2;
	}
	test_known_answers(argv[1]);
	test_import_refusals(argv[1]);
	test_large_keys(argv[1], 3072);
	test_large_keys(argv[1], 4096);
	return test_finish("test-shoup-kat");
}
