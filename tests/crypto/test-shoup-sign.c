/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Shares, proofs and combination: many random messages for several (n, f)
 * with 1024- and 2048-bit keys, every algorithm; each combined signature is
 * checked by nettle's plain RSA verification. Also determinism, and the
 * rejection of out-of-range, mangled and misattributed shares.
 */

#include <stdlib.h>
#include <string.h>

#include "tests/crypto/crypto_test.h"

static const unsigned configs[][2] = {
	{ 1, 0 }, { 4, 1 }, { 7, 2 }, { 10, 3 }, { 16, 5 },
};
#define CONFIG_COUNT	(sizeof(configs) / sizeof(configs[0]))

static const unsigned algs[] = {
	BFTDNS_ALG_RSASHA1, BFTDNS_ALG_RSASHA1_NSEC3_SHA1,
	BFTDNS_ALG_RSASHA256, BFTDNS_ALG_RSASHA512,
};
#define ALG_COUNT	(sizeof(algs) / sizeof(algs[0]))

/* A random k-subset of the n shares, in random order. */
static void pick_subset(const shoup_share_t *shares, unsigned n, unsigned k,
                        const shoup_share_t **set)
{
	unsigned order[SHOUP_PLAYERS_MAX];
	for (unsigned i = 0; i < n; i++) {
		order[i] = i;
	}
	for (unsigned i = n; i > 1; i--) {	/* Fisher-Yates */
		uint32_t r;
		test_random_bytes((uint8_t *)&r, sizeof(r));
		unsigned j = r % i;
		unsigned t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (unsigned i = 0; i < k; i++) {
		set[i] = &shares[order[i]];
	}
}

static void shares_init(shoup_share_t *shares)
{
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_share_init(&shares[i]);
	}
}

static void shares_clear(shoup_share_t *shares)
{
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_share_clear(&shares[i]);
	}
}

/* One message: every share's proof verifies, a random k-subset combines into
 * a signature both we and nettle accept. */
static void sign_one(const test_key_t *key, const bftdns_alg_t *alg)
{
	const shoup_public_t *pub = &key->pub;
	shoup_share_t shares[SHOUP_PLAYERS_MAX];
	const shoup_share_t *set[SHOUP_PLAYERS_MAX];
	test_msg_t msg;
	mpz_t sig;
	shares_init(shares);
	test_msg_init(&msg);
	mpz_init(sig);

	test_msg_random(&msg, pub, alg);
	test_shares_make(key, msg.x, true, shares);
	for (unsigned i = 0; i < pub->n; i++) {
		int ret = shoup_share_verify(pub, msg.x, &shares[i]);
		CHECK(ret == SHOUP_EOK, "n=%u share %u: %s", pub->n, i + 1, shoup_strerror(ret));
	}
	pick_subset(shares, pub->n, pub->f + 1, set);
	int ret = shoup_combine(pub, msg.x, set, pub->f + 1, sig);
	CHECK(ret == SHOUP_EOK, "combine: %s", shoup_strerror(ret));
	CHECK(shoup_signature_verify(pub, msg.x, sig), "n=%u f=%u %s", pub->n, pub->f, alg->name);
	CHECK(test_nettle_verify(pub, alg, msg.digest, sig),
	      "nettle rejects n=%u f=%u %s", pub->n, pub->f, alg->name);

	mpz_clear(sig);
	test_msg_clear(&msg);
	shares_clear(shares);
}

static void test_many_messages(unsigned bits, unsigned per_config)
{
	double start = test_now();
	unsigned signed_count = 0;
	for (unsigned c = 0; c < CONFIG_COUNT; c++) {
		test_key_t key;
		test_key_init(&key);
		test_key_make(&key, bits, configs[c][0], configs[c][1]);
		CHECK(shoup_public_check(&key.pub) == SHOUP_EOK, "dealt key");
		for (unsigned m = 0; m < per_config; m++) {
			sign_one(&key, bftdns_alg_by_number(algs[m % ALG_COUNT]));
			signed_count++;
		}
		test_key_clear(&key);
	}
	fprintf(stderr, "# %u-bit: %u messages signed and checked in %.2f s\n",
	        bits, signed_count, test_now() - start);
}

static void test_determinism(const test_key_t *key)
{
	test_msg_t msg;
	shoup_share_t a, b;
	test_msg_init(&msg);
	shoup_share_init(&a);
	shoup_share_init(&b);
	test_msg_random(&msg, &key->pub, bftdns_alg_by_number(BFTDNS_ALG_RSASHA256));

	for (unsigned i = 0; i < key->pub.n; i++) {
		CHECK(shoup_share_sign(&key->pub, &key->sec[i], msg.x, true, &a) == SHOUP_EOK, "sign");
		CHECK(shoup_share_sign(&key->pub, &key->sec[i], msg.x, true, &b) == SHOUP_EOK, "sign");
		CHECK(a.id == b.id && a.id == i + 1, "ids");
		CHECK(mpz_cmp(a.value, b.value) == 0, "player %u: value differs", i + 1);
		CHECK(mpz_cmp(a.proof_z, b.proof_z) == 0 && mpz_cmp(a.proof_c, b.proof_c) == 0,
		      "player %u: proof differs", i + 1);
		/* Without a proof: the same value, no proof. */
		CHECK(shoup_share_sign(&key->pub, &key->sec[i], msg.x, false, &b) == SHOUP_EOK, "sign");
		CHECK(mpz_cmp(a.value, b.value) == 0 && !b.has_proof, "value without proof");
	}
	/* A different message gives a different nonce and challenge. */
	mpz_t x2;
	mpz_init_set(x2, msg.x);
	mpz_add_ui(x2, x2, 1);
	CHECK(shoup_share_sign(&key->pub, &key->sec[0], msg.x, true, &a) == SHOUP_EOK, "sign");
	CHECK(shoup_share_sign(&key->pub, &key->sec[0], x2, true, &b) == SHOUP_EOK, "sign");
	CHECK(mpz_cmp(a.proof_c, b.proof_c) != 0, "c must change with the message");
	/* z - s_i c is the nonce r: it must change too, or two proofs would
	 * give away s_i. */
	mpz_t ra, rb;
	mpz_inits(ra, rb, NULL);
	mpz_submul(ra, key->sec[0].secret, a.proof_c);
	mpz_add(ra, ra, a.proof_z);
	mpz_submul(rb, key->sec[0].secret, b.proof_c);
	mpz_add(rb, rb, b.proof_z);
	CHECK(mpz_cmp(ra, rb) != 0, "the nonce must change with the message");
	CHECK(mpz_sgn(ra) >= 0 && mpz_sizeinbase(ra, 2) <= key->pub.bits + 512, "nonce size");
	mpz_clears(ra, rb, x2, NULL);

	shoup_share_clear(&a);
	shoup_share_clear(&b);
	test_msg_clear(&msg);
}

/* Copies a share so that one field can be mangled. */
static void share_copy(shoup_share_t *dst, const shoup_share_t *src)
{
	dst->id = src->id;
	dst->has_proof = src->has_proof;
	mpz_set(dst->value, src->value);
	mpz_set(dst->proof_z, src->proof_z);
	mpz_set(dst->proof_c, src->proof_c);
}

static void test_verify_rejects(const test_key_t *key)
{
	const shoup_public_t *pub = &key->pub;
	test_msg_t msg;
	shoup_share_t good, other, bad;
	test_msg_init(&msg);
	shoup_share_init(&good);
	shoup_share_init(&other);
	shoup_share_init(&bad);
	test_msg_random(&msg, pub, bftdns_alg_by_number(BFTDNS_ALG_RSASHA256));
	CHECK(shoup_share_sign(pub, &key->sec[1], msg.x, true, &good) == SHOUP_EOK, "sign");
	CHECK(shoup_share_sign(pub, &key->sec[2], msg.x, true, &other) == SHOUP_EOK, "sign");
	CHECK(shoup_share_verify(pub, msg.x, &good) == SHOUP_EOK, "good share");

	struct { const char *what; int expect; } cases[] = {
		{ "id 0", SHOUP_ERANGE }, { "id n+1", SHOUP_ERANGE }, { "id huge", SHOUP_ERANGE },
		{ "value 0", SHOUP_ERANGE }, { "value N", SHOUP_ERANGE },
		{ "value N+x", SHOUP_ERANGE }, { "value negative", SHOUP_ERANGE },
		{ "no proof", SHOUP_EPROOF }, { "z+1", SHOUP_EPROOF }, { "c+1", SHOUP_EPROOF },
		{ "c = 2^256", SHOUP_ERANGE }, { "c negative", SHOUP_ERANGE },
		{ "z negative", SHOUP_ERANGE }, { "z too large", SHOUP_ERANGE },
		{ "inverted value", SHOUP_EPROOF }, { "another player's id", SHOUP_EPROOF },
		{ "another player's proof", SHOUP_EPROOF }, { "value 1", SHOUP_EPROOF },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		share_copy(&bad, &good);
		switch (i) {
		case 0: bad.id = 0; break;
		case 1: bad.id = pub->n + 1; break;
		case 2: bad.id = 0xffffffffu; break;
		case 3: mpz_set_ui(bad.value, 0); break;
		case 4: mpz_set(bad.value, pub->modulus); break;
		case 5: mpz_add(bad.value, pub->modulus, good.value); break;
		case 6: mpz_neg(bad.value, good.value); break;
		case 7: bad.has_proof = false; break;
		case 8: mpz_add_ui(bad.proof_z, bad.proof_z, 1); break;
		case 9: mpz_add_ui(bad.proof_c, bad.proof_c, 1); break;
		case 10: mpz_ui_pow_ui(bad.proof_c, 2, 256); break;
		case 11: mpz_neg(bad.proof_c, bad.proof_c); break;
		case 12: mpz_neg(bad.proof_z, bad.proof_z); break;
		case 13: mpz_ui_pow_ui(bad.proof_z, 2, pub->bits + 600); break;
		case 14: test_share_spoil(pub, &bad, TEST_BAD_INVERT); break;
		case 15: bad.id = other.id; break;
		case 16: mpz_set(bad.proof_z, other.proof_z); mpz_set(bad.proof_c, other.proof_c); break;
		case 17: mpz_set_ui(bad.value, 1); break;
		}
		int ret = shoup_share_verify(pub, msg.x, &bad);
		CHECK(ret == cases[i].expect, "%s: got %s", cases[i].what, shoup_strerror(ret));
	}

	/* The good share does not verify for another message. */
	mpz_t x2;
	mpz_init_set(x2, msg.x);
	mpz_add_ui(x2, x2, 1);
	CHECK(shoup_share_verify(pub, x2, &good) == SHOUP_EPROOF, "other message");
	/* Our own misuse: x out of range. */
	CHECK(shoup_share_verify(pub, pub->modulus, &good) == SHOUP_EINVAL, "x = N");
	mpz_set_ui(x2, 0);
	CHECK(shoup_share_verify(pub, x2, &good) == SHOUP_EINVAL, "x = 0");
	CHECK(shoup_share_sign(pub, &key->sec[0], x2, true, &bad) == SHOUP_EINVAL, "sign x = 0");
	mpz_clear(x2);

	/* -x_i has the same square: its proof holds and it combines correctly,
	 * which is why proofs are about x_i^2 (doc/crypto.md). */
	share_copy(&bad, &good);
	test_share_spoil(pub, &bad, TEST_BAD_NEGATE);
	CHECK(shoup_share_verify(pub, msg.x, &bad) == SHOUP_EOK, "negated share");

	shoup_share_clear(&good);
	shoup_share_clear(&other);
	shoup_share_clear(&bad);
	test_msg_clear(&msg);
}

static void test_combine_rejects(const test_key_t *key)
{
	const shoup_public_t *pub = &key->pub;
	unsigned k = pub->f + 1;
	shoup_share_t shares[SHOUP_PLAYERS_MAX];
	const shoup_share_t *set[SHOUP_PLAYERS_MAX + 1];
	test_msg_t msg;
	mpz_t sig;
	shares_init(shares);
	test_msg_init(&msg);
	mpz_init(sig);
	const bftdns_alg_t *alg = bftdns_alg_by_number(BFTDNS_ALG_RSASHA256);
	test_msg_random(&msg, pub, alg);
	test_shares_make(key, msg.x, false, shares);

	for (unsigned i = 0; i <= k; i++) {
		set[i] = &shares[i];
	}
	CHECK(shoup_combine(pub, msg.x, set, k, sig) == SHOUP_EOK, "first k");
	CHECK(test_nettle_verify(pub, alg, msg.digest, sig), "first k verify");
	CHECK(shoup_combine(pub, msg.x, set, k + 1, sig) == SHOUP_EINVAL, "k + 1 shares");
	CHECK(shoup_combine(pub, msg.x, set, k - 1, sig) == SHOUP_EINVAL, "k - 1 shares");
	set[1] = &shares[0];
	CHECK(shoup_combine(pub, msg.x, set, k, sig) == SHOUP_EINVAL, "duplicate id");
	set[1] = NULL;
	CHECK(shoup_combine(pub, msg.x, set, k, sig) == SHOUP_EINVAL, "NULL share");
	set[1] = &shares[1];

	shoup_share_t bad;
	shoup_share_init(&bad);
	share_copy(&bad, &shares[1]);
	set[1] = &bad;
	bad.id = pub->n + 1;
	CHECK(shoup_combine(pub, msg.x, set, k, sig) == SHOUP_ERANGE, "id out of range");
	bad.id = shares[1].id;
	mpz_set(bad.value, pub->modulus);
	CHECK(shoup_combine(pub, msg.x, set, k, sig) == SHOUP_ERANGE, "value N");
	/* A wrong share gives a wrong signature that both checks reject. */
	for (unsigned how = 0; how < TEST_BAD_KINDS; how++) {
		share_copy(&bad, &shares[1]);
		test_share_spoil(pub, &bad, (test_bad_t)how);
		int ret = shoup_combine(pub, msg.x, set, k, sig);
		CHECK(ret != SHOUP_EOK || !shoup_signature_verify(pub, msg.x, sig),
		      "spoiled share %u verified", how);
		CHECK(ret != SHOUP_EOK || !test_nettle_verify(pub, alg, msg.digest, sig),
		      "nettle accepts spoiled share %u", how);
	}
	/* A negated share is harmless: only x_i^2 enters the combination. */
	share_copy(&bad, &shares[1]);
	test_share_spoil(pub, &bad, TEST_BAD_NEGATE);
	CHECK(shoup_combine(pub, msg.x, set, k, sig) == SHOUP_EOK &&
	      shoup_signature_verify(pub, msg.x, sig), "negated share combines");
	shoup_share_clear(&bad);

	/* shoup_signature_verify on out-of-range input. */
	mpz_set(sig, pub->modulus);
	CHECK(!shoup_signature_verify(pub, msg.x, sig), "sig = N");
	mpz_set_si(sig, -1);
	CHECK(!shoup_signature_verify(pub, msg.x, sig), "sig = -1");

	mpz_clear(sig);
	test_msg_clear(&msg);
	shares_clear(shares);
}

int main(int argc, char **argv)
{
	unsigned many_1024 = 24, many_2048 = 8;
	if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
		many_1024 = 4;
		many_2048 = 2;
	}
	test_many_messages(1024, many_1024);
	test_many_messages(2048, many_2048);

	test_key_t key;
	test_key_init(&key);
	test_key_make(&key, 2048, 4, 1);
	test_determinism(&key);
	test_verify_rejects(&key);
	test_combine_rejects(&key);
	test_key_clear(&key);

	test_key_init(&key);
	test_key_make(&key, 1024, 7, 2);
	test_combine_rejects(&key);
	test_key_clear(&key);
	return test_finish("test-shoup-sign");
}
