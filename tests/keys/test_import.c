/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Import of BIND private key files: a safe-prime key is split and its shares
 * make the same signature as the original private exponent; ordinary keys
 * and inconsistent or malformed files are refused with their own messages.
 */

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nettle/base64.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/keys/bind_import.h"
#include "coordinator/keys/keyfile.h"
#include "tests/common/check.h"

#define N	4
#define F	1
#define PRIME_BITS	512

/* An RSA key as plain numbers, to write BIND files from. */
typedef struct {
	mpz_t n, e, d, p, q, dp, dq, qinv;
} rsa_t;

static void rsa_from_primes(rsa_t *key, const mpz_t p, const mpz_t q)
{
	mpz_inits(key->n, key->e, key->d, key->p, key->q, key->dp, key->dq, key->qinv, NULL);
	mpz_set(key->p, p);
	mpz_set(key->q, q);
	mpz_mul(key->n, p, q);
	mpz_set_ui(key->e, 65537);
	mpz_t p1, q1, lambda;
	mpz_inits(p1, q1, lambda, NULL);
	mpz_sub_ui(p1, p, 1);
	mpz_sub_ui(q1, q, 1);
	mpz_lcm(lambda, p1, q1);
	CHECK(mpz_invert(key->d, key->e, lambda) != 0);
	mpz_mod(key->dp, key->d, p1);
	mpz_mod(key->dq, key->d, q1);
	CHECK(mpz_invert(key->qinv, q, p) != 0);
	mpz_clears(p1, q1, lambda, NULL);
}

static void rsa_clear(rsa_t *key)
{
	mpz_clears(key->n, key->e, key->d, key->p, key->q, key->dp, key->dq, key->qinv, NULL);
}

static void append_b64(char *out, size_t size, const char *name, const mpz_t value)
{
	uint8_t bytes[1024];
	size_t len = 0;
	mpz_export(bytes, &len, 1, 1, 1, 0, value);
	char b64[BASE64_ENCODE_RAW_LENGTH(sizeof(bytes)) + 1];
	base64_encode_raw(b64, len, bytes);
	b64[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
	size_t used = strlen(out);
	snprintf(out + used, size - used, "%s: %s\n", name, b64);
}

/* The text of a BIND private key file (as dnssec-keygen writes it). */
static char *bind_text(const rsa_t *key, unsigned alg)
{
	size_t size = 8192;
	char *out = calloc(1, size);
	snprintf(out, size, "Private-key-format: v1.3\nAlgorithm: %u (RSASHA256)\n", alg);
	append_b64(out, size, "Modulus", key->n);
	append_b64(out, size, "PublicExponent", key->e);
	append_b64(out, size, "PrivateExponent", key->d);
	append_b64(out, size, "Prime1", key->p);
	append_b64(out, size, "Prime2", key->q);
	append_b64(out, size, "Exponent1", key->dp);
	append_b64(out, size, "Exponent2", key->dq);
	append_b64(out, size, "Coefficient", key->qinv);
	size_t used = strlen(out);
	snprintf(out + used, size - used, "Created: 20261123000000\nPublish: 20261123000000\n");
	return out;
}

/* text with the line starting with "<name>:" replaced (or removed if NULL). */
static char *edit(const char *text, const char *name, const char *line)
{
	size_t size = strlen(text) + (line != NULL ? strlen(line) : 0) + 2;
	char *out = calloc(1, size);
	const char *start = text;
	size_t name_len = strlen(name);
	while (*start != '\0' && !(strncmp(start, name, name_len) == 0 && start[name_len] == ':')) {
		start = strchr(start, '\n') + 1;
	}
	CHECK(*start != '\0');
	const char *end = *start != '\0' ? strchr(start, '\n') + 1 : start;
	snprintf(out, size, "%.*s%s%s%s", (int)(start - text), text, line != NULL ? line : "",
	         line != NULL ? "\n" : "", end);
	return out;
}

static void expect_refused(const char *text, int code, const char *want)
{
	keys_rsa_private_t key;
	keys_rsa_private_init(&key);
	keys_err_t err = { "" };
	int ret = keys_bind_parse(text, strlen(text), "K.private", &key, &err);
	if (ret == KEYS_EOK) {
		ret = keys_rsa_private_check(&key, "K.private", &err);
	}
	CHECK_ERR(ret, code, err.text, want);
	keys_rsa_private_clear(&key);
}

static void gen_safe_prime(mpz_t p, unsigned index)
{
	int ret = shoup_safe_prime_generate(PRIME_BITS, index, shoup_random_system, NULL, NULL,
	                                    NULL, p);
	CHECK_EQ(ret, SHOUP_EOK);
}

/* A random prime that is not a safe prime (almost every prime). */
static void gen_plain_prime(mpz_t p)
{
	uint8_t bytes[PRIME_BITS / 8];
	do {
		CHECK_EQ(shoup_random_system(NULL, bytes, sizeof(bytes)), 0);
		mpz_import(p, sizeof(bytes), 1, 1, 1, 0, bytes);
		mpz_setbit(p, PRIME_BITS - 1);
		mpz_setbit(p, PRIME_BITS - 2);
		mpz_nextprime(p, p);
	} while (shoup_is_safe_prime(p));
}

/* The shares of an imported key sign like its private exponent did. */
static void check_shares_sign(const rsa_t *rsa, const shoup_public_t *pub,
                              const shoup_secret_t *secrets)
{
	const bftdns_alg_t *alg = bftdns_alg_by_number(8);
	size_t bytes = (pub->bits + 7) / 8;
	mpz_t x, want;
	mpz_inits(x, want, NULL);
	CHECK_EQ(bftdns_alg_encode(alg, (const uint8_t *)"bftdns", 6, bytes, x), 0);
	mpz_powm(want, x, rsa->d, rsa->n);

	shoup_collector_t col;
	CHECK_EQ(shoup_collector_init(&col, pub, x, SHOUP_STRATEGY_OPTTE), SHOUP_EOK);
	shoup_collect_t state = SHOUP_COLLECT_MORE;
	for (unsigned i = N; i-- > 0 && state == SHOUP_COLLECT_MORE;) {
		shoup_share_t share;
		shoup_share_init(&share);
		CHECK_EQ(shoup_share_sign(pub, &secrets[i], x, false, &share), SHOUP_EOK);
		state = shoup_collector_add(&col, &share);
		shoup_share_clear(&share);
	}
	CHECK_EQ(state, SHOUP_COLLECT_DONE);
	CHECK(mpz_cmp(col.signature, want) == 0);
	shoup_collector_clear(&col);
	mpz_clears(x, want, NULL);
}

static void test_import_safe(const rsa_t *rsa, const char *dir)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/Kexample.com.+008+00001.private", dir);
	char *text = bind_text(rsa, 8);
	FILE *fp = fopen(path, "w");
	CHECK(fp != NULL && fputs(text, fp) >= 0 && fclose(fp) == 0);
	free(text);

	const bftdns_alg_t *alg = NULL;
	keys_public_t key;
	shoup_secret_t secrets[N];
	keys_public_init(&key);
	for (unsigned i = 0; i < N; i++) {
		shoup_secret_init(&secrets[i]);
	}
	keys_err_t err = { "" };
	int ret = keys_bind_import(path, N, F, shoup_random_system, NULL, &alg, &key.key, secrets,
	                           &err);
	CHECK_EQ(ret, KEYS_EOK);
	if (ret == KEYS_EOK) {
		CHECK(alg == bftdns_alg_by_number(8));
		CHECK(mpz_cmp(key.key.modulus, rsa->n) == 0 && mpz_cmp(key.key.exponent, rsa->e) == 0);
		check_shares_sign(rsa, &key.key, secrets);

		/* Through a share file and back, the key stays the same. */
		CHECK_EQ(keys_public_finish(&key, "example.com", alg, &err), KEYS_EOK);
		snprintf(path, sizeof(path), "%s/share-2.key", dir);
		CHECK_EQ(keys_share_write(path, &key, &secrets[1], false, &err), KEYS_EOK);
		keys_share_t share;
		keys_share_init(&share);
		CHECK_EQ(keys_share_read(path, &share, &err), KEYS_EOK);
		CHECK(mpz_cmp(share.secret.secret, secrets[1].secret) == 0);
		CHECK(mpz_cmp(share.pub.key.modulus, rsa->n) == 0);
		keys_share_clear(&share);
		unlink(path);
	}
	for (unsigned i = 0; i < N; i++) {
		shoup_secret_clear(&secrets[i]);
	}
	keys_public_clear(&key);
	snprintf(path, sizeof(path), "%s/Kexample.com.+008+00001.private", dir);
	unlink(path);
}

static void test_refused(const rsa_t *safe, const rsa_t *plain, const rsa_t *small)
{
	char *text = bind_text(plain, 8);
	expect_refused(text, KEYS_ENOTSAFE, "its primes are not safe primes");
	expect_refused(text, KEYS_ENOTSAFE, "Generate a new key with bftdns-keygen and roll the key");
	free(text);

	text = bind_text(small, 8);
	expect_refused(text, KEYS_EKEY, "a 512-bit modulus is outside 1024..4096 bits");
	free(text);

	char *good = bind_text(safe, 8);
	char *other = bind_text(plain, 8);
	char line[2048];
	/* Fields of another key. */
	const char *modulus = strstr(other, "Modulus: ");
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(modulus, "\n"), modulus);
	char *edited = edit(good, "Modulus", line);
	expect_refused(edited, KEYS_EKEY, "Prime1 x Prime2 is not the Modulus");
	free(edited);
	const char *coef = strstr(other, "Coefficient: ");
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(coef, "\n"), coef);
	edited = edit(good, "Coefficient", line);
	expect_refused(edited, KEYS_EKEY, "Exponent1, Exponent2 or Coefficient does not match");
	free(edited);
	const char *d = strstr(other, "PrivateExponent: ");
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(d, "\n"), d);
	edited = edit(good, "PrivateExponent", line);
	expect_refused(edited, KEYS_EKEY, "PrivateExponent does not invert PublicExponent");
	free(edited);

	/* Malformed files. */
	edited = edit(good, "Prime2", NULL);
	expect_refused(edited, KEYS_EFORMAT, "missing 'Prime2:'");
	free(edited);
	edited = edit(good, "Exponent2", NULL);
	expect_refused(edited, KEYS_EFORMAT, "Exponent1, Exponent2 and Coefficient go together");
	free(edited);
	edited = edit(good, "Modulus", "Modulus: @@@@");
	expect_refused(edited, KEYS_EFORMAT, "K.private:3: Modulus is not valid base64");
	free(edited);
	edited = edit(good, "Created", "Modulus: AQAB");
	expect_refused(edited, KEYS_EFORMAT, "duplicate Modulus (first on line 3)");
	free(edited);
	edited = edit(good, "Algorithm", "Algorithm: 13 (ECDSAP256SHA256)");
	expect_refused(edited, KEYS_EFORMAT, "algorithm 13 is not an RSA algorithm bftdns signs with");
	free(edited);
	edited = edit(good, "Private-key-format", "Private-key-format: v2.0");
	expect_refused(edited, KEYS_EFORMAT, "unsupported Private-key-format 'v2.0'");
	free(edited);
	edited = edit(good, "Private-key-format", NULL);
	expect_refused(edited, KEYS_EFORMAT, "not a BIND private key file");
	free(edited);
	edited = edit(good, "Created", "Label: pkcs11:object=zsk");
	expect_refused(edited, KEYS_EFORMAT, "kept in a hardware module");
	free(edited);
	edited = edit(good, "Created", "no colon here");
	expect_refused(edited, KEYS_EFORMAT, "expected 'Name: value'");
	free(edited);
	good[strlen(good) - 1] = '\0';
	expect_refused(good, KEYS_EFORMAT, "truncated");
	expect_refused("", KEYS_EFORMAT, "empty or truncated");
	free(good);
	free(other);
}

/* Random damage to a good file: refused, or (metadata, the algorithm
 * number) the same RSA key. Never a crash. */
static void test_random_damage(const rsa_t *rsa)
{
	char *good = bind_text(rsa, 8);
	size_t len = strlen(good);
	char *copy = malloc(len + 1);
	uint64_t state = 0x853c49e6748fea9bull;
	unsigned refused = 0;
	for (unsigned round = 0; round < 1000; round++) {
		memcpy(copy, good, len + 1);
		size_t damaged = len;
		for (unsigned hits = 1 + round % 3; hits > 0 && damaged > 0; hits--) {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			size_t pos = state % damaged;
			if (state % 5 == 0) {
				damaged = pos;   /* truncated */
			} else {
				copy[pos] = (char)(' ' + (state >> 8) % 95);
			}
		}
		keys_rsa_private_t key;
		keys_rsa_private_init(&key);
		keys_err_t err = { "" };
		int ret = keys_bind_parse(copy, damaged, "d.private", &key, &err);
		if (ret == KEYS_EOK) {
			ret = keys_rsa_private_check(&key, "d.private", &err);
		}
		if (ret == KEYS_EOK) {
			CHECK(mpz_cmp(key.modulus, rsa->n) == 0 && mpz_cmp(key.prime1, rsa->p) == 0 &&
			      mpz_cmp(key.private_exponent, rsa->d) == 0);
		} else {
			CHECK(err.text[0] != '\0');
			refused++;
		}
		keys_rsa_private_clear(&key);
	}
	printf("random damage: %u of 1000 refused\n", refused);
	CHECK(refused > 500);
	free(copy);
	free(good);
}

int main(void)
{
	mpz_t p, q, p2, q2, s1, s2;
	mpz_inits(p, q, p2, q2, s1, s2, NULL);
	gen_safe_prime(p, 1);
	do {
		gen_safe_prime(q, 2);
	} while (mpz_cmp(p, q) == 0);
	gen_plain_prime(p2);
	gen_plain_prime(q2);
	CHECK(shoup_is_safe_prime(p) && !shoup_is_safe_prime(p2));
	CHECK_EQ(shoup_safe_prime_generate(256, 1, shoup_random_system, NULL, NULL, NULL, s1),
	         SHOUP_EOK);
	CHECK_EQ(shoup_safe_prime_generate(256, 2, shoup_random_system, NULL, NULL, NULL, s2),
	         SHOUP_EOK);

	rsa_t safe, plain, small;
	rsa_from_primes(&safe, p, q);
	rsa_from_primes(&plain, p2, q2);
	rsa_from_primes(&small, s1, s2);

	char dir[] = "/tmp/bftdns-test-import-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	test_import_safe(&safe, dir);
	test_refused(&safe, &plain, &small);
	test_random_damage(&safe);
	CHECK(rmdir(dir) == 0);

	rsa_clear(&safe);
	rsa_clear(&plain);
	rsa_clear(&small);
	mpz_clears(p, q, p2, q2, s1, s2, NULL);
	return check_result("test_import");
}
