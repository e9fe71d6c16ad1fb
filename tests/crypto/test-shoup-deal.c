/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The dealer: argument checks, progress and cancel, a failing random source,
 * a full shoup_deal at 1024 and 2048 bits (and 3072 and 4096 with --large),
 * and shoup_public_check on tampered keys. Also the names of errors and
 * strategies.
 */

#include <string.h>

#include "tests/crypto/crypto_test.h"

typedef struct {
	unsigned calls;
	unsigned cancel_after;
	uint64_t last_candidates;
	bool monotonic;
} progress_t;

static bool progress_count(void *ctx, unsigned prime_index, uint64_t candidates)
{
	progress_t *pr = ctx;
	if (prime_index < 1 || prime_index > 2) {
		pr->monotonic = false;
	}
	pr->calls++;
	pr->last_candidates = candidates;
	return pr->cancel_after == 0 || pr->calls < pr->cancel_after;
}

static int random_broken(void *ctx, uint8_t *out, size_t len)
{
	unsigned *budget = ctx;
	if (*budget == 0) {
		return -1;
	}
	(*budget)--;
	return shoup_random_system(NULL, out, len);
}

/* A "random" source stuck on one output. */
static int random_stuck(void *ctx, uint8_t *out, size_t len)
{
	(void)ctx;
	memset(out, 0x5a, len);
	return 0;
}

static void test_arguments(void)
{
	test_key_t key;
	test_key_init(&key);
	const unsigned bad_bits[] = { 0, 512, 1000, 1023, 1536, 2047, 8192 };
	for (size_t i = 0; i < sizeof(bad_bits) / sizeof(bad_bits[0]); i++) {
		CHECK(shoup_deal(bad_bits[i], 4, 1, shoup_random_system, NULL, NULL, NULL,
		                 &key.pub, key.sec) == SHOUP_EINVAL, "bits %u", bad_bits[i]);
	}
	const unsigned bad_nf[][2] = { { 0, 0 }, { 33, 0 }, { 3, 1 }, { 4, 2 }, { 32, 11 },
	                               { 10, 0xffffffffu } };
	for (size_t i = 0; i < sizeof(bad_nf) / sizeof(bad_nf[0]); i++) {
		CHECK(shoup_deal(1024, bad_nf[i][0], bad_nf[i][1], shoup_random_system, NULL,
		                 NULL, NULL, &key.pub, key.sec) == SHOUP_EINVAL,
		      "n=%u f=%u", bad_nf[i][0], bad_nf[i][1]);
	}
	CHECK(shoup_deal(1024, 4, 1, NULL, NULL, NULL, NULL, &key.pub, key.sec) == SHOUP_EINVAL,
	      "no random source");
	CHECK(shoup_deal(1024, 4, 1, shoup_random_system, NULL, NULL, NULL, NULL, key.sec) ==
	      SHOUP_EINVAL, "no pub");
	mpz_t p;
	mpz_init(p);
	CHECK(shoup_safe_prime_generate(128, 1, shoup_random_system, NULL, NULL, NULL, p) ==
	      SHOUP_EINVAL, "128-bit safe prime");
	CHECK(shoup_safe_prime_generate(2049, 1, shoup_random_system, NULL, NULL, NULL, p) ==
	      SHOUP_EINVAL, "2049-bit safe prime");
	/* A stuck source either happens to hit a safe prime in its one window
	 * or is caught repeating itself; it never scans the same window again. */
	double start = test_now();
	int ret = shoup_safe_prime_generate(1024, 1, random_stuck, NULL, NULL, NULL, p);
	CHECK(ret == SHOUP_ERANDOM || (ret == SHOUP_EOK && shoup_is_safe_prime(p)),
	      "stuck source: %s", shoup_strerror(ret));
	fprintf(stderr, "# stuck random source: %s after %.2f s\n", shoup_strerror(ret),
	        test_now() - start);
	mpz_clear(p);
	test_key_clear(&key);
}

static void test_progress_and_failures(void)
{
	test_key_t key;
	test_key_init(&key);
	progress_t pr = { .monotonic = true };
	CHECK(shoup_deal(1024, 4, 1, shoup_random_system, NULL, progress_count, &pr,
	                 &key.pub, key.sec) == SHOUP_EOK, "deal with progress");
	CHECK(pr.calls >= 2 && pr.monotonic, "progress calls %u", pr.calls);

	progress_t cancel = { .cancel_after = 1, .monotonic = true };
	CHECK(shoup_deal(2048, 4, 1, shoup_random_system, NULL, progress_count, &cancel,
	                 &key.pub, key.sec) == SHOUP_ECANCEL, "cancel");
	CHECK(cancel.calls == 1, "cancelled at the first call, got %u", cancel.calls);

	/* The source fails at once, then after a few draws (inside the prime
	 * search or the polynomial). */
	const unsigned budgets[] = { 0, 1, 3 };
	for (size_t i = 0; i < 3; i++) {
		unsigned budget = budgets[i];
		int ret = shoup_deal(1024, 4, 1, random_broken, &budget, NULL, NULL,
		                     &key.pub, key.sec);
		CHECK(ret == SHOUP_ERANDOM, "budget %u: %s", budgets[i], shoup_strerror(ret));
	}
	test_key_clear(&key);
}

/* A freshly dealt key signs: every share verifies, two disjoint subsets give
 * the same signature, nettle agrees. */
static void test_deal_signs(unsigned bits, unsigned n, unsigned f)
{
	double start = test_now();
	test_key_t key;
	test_key_init(&key);
	int ret = shoup_deal(bits, n, f, shoup_random_system, NULL, NULL, NULL,
	                     &key.pub, key.sec);
	CHECK(ret == SHOUP_EOK, "deal %u: %s", bits, shoup_strerror(ret));
	double dealt = test_now() - start;
	if (ret != SHOUP_EOK) {
		test_key_clear(&key);
		return;
	}
	const shoup_public_t *pub = &key.pub;
	CHECK(pub->bits == bits && mpz_sizeinbase(pub->modulus, 2) == bits, "size");
	CHECK(pub->n == n && pub->f == f && mpz_cmp_ui(pub->exponent, 65537) == 0, "params");
	CHECK(shoup_public_check(pub) == SHOUP_EOK, "check");
	for (unsigned i = 0; i < n; i++) {
		CHECK(key.sec[i].id == i + 1, "secret id");
	}

	const bftdns_alg_t *alg = bftdns_alg_by_number(BFTDNS_ALG_RSASHA256);
	test_msg_t msg;
	shoup_share_t shares[SHOUP_PLAYERS_MAX];
	const shoup_share_t *set[SHOUP_PLAYERS_MAX];
	mpz_t sig1, sig2;
	mpz_inits(sig1, sig2, NULL);
	test_msg_init(&msg);
	test_msg_random(&msg, pub, alg);
	for (unsigned i = 0; i < n; i++) {
		shoup_share_init(&shares[i]);
	}
	test_shares_make(&key, msg.x, true, shares);
	for (unsigned i = 0; i < n; i++) {
		CHECK(shoup_share_verify(pub, msg.x, &shares[i]) == SHOUP_EOK, "share %u", i + 1);
	}
	for (unsigned i = 0; i <= f; i++) {
		set[i] = &shares[i];
	}
	CHECK(shoup_combine(pub, msg.x, set, f + 1, sig1) == SHOUP_EOK, "combine low");
	for (unsigned i = 0; i <= f; i++) {
		set[i] = &shares[n - 1 - i];
	}
	CHECK(shoup_combine(pub, msg.x, set, f + 1, sig2) == SHOUP_EOK, "combine high");
	CHECK(mpz_cmp(sig1, sig2) == 0, "signatures are unique");
	CHECK(test_nettle_verify(pub, alg, msg.digest, sig1), "nettle");
	for (unsigned i = 0; i < n; i++) {
		shoup_share_clear(&shares[i]);
	}
	test_msg_clear(&msg);
	mpz_clears(sig1, sig2, NULL);
	test_key_clear(&key);
	fprintf(stderr, "# shoup_deal(%u, n=%u, f=%u): %.2f s, signing checked\n",
	        bits, n, f, dealt);
}

static void test_public_check(void)
{
	test_key_t key;
	test_key_init(&key);
	test_key_make(&key, 1024, 7, 2);
	shoup_public_t *pub = &key.pub;
	CHECK(shoup_public_check(pub) == SHOUP_EOK, "good key");
	CHECK(shoup_public_check(NULL) == SHOUP_EINVAL, "NULL");

	mpz_t saved;
	mpz_init(saved);
#define TAMPER(what, expect, change, restore) do { \
	change; \
	CHECK(shoup_public_check(pub) == (expect), "%s", what); \
	restore; \
	CHECK(shoup_public_check(pub) == SHOUP_EOK, "restored after %s", what); \
} while (0)
	TAMPER("n = 0", SHOUP_EINVAL, pub->n = 0, pub->n = 7);
	TAMPER("n = 33", SHOUP_EINVAL, pub->n = 33, pub->n = 7);
	TAMPER("f = 3", SHOUP_EINVAL, pub->f = 3, pub->f = 2);
	TAMPER("bits", SHOUP_EINVAL, pub->bits = 1025, pub->bits = 1024);
	TAMPER("n = 8 (delta)", SHOUP_EINVAL, pub->n = 8, pub->n = 7);
	TAMPER("delta", SHOUP_EINVAL, mpz_add_ui(pub->delta, pub->delta, 1),
	       mpz_sub_ui(pub->delta, pub->delta, 1));
	TAMPER("e = 4", SHOUP_EINVAL, mpz_set_ui(pub->exponent, 4),
	       mpz_set_ui(pub->exponent, 65537));
	TAMPER("e = 7 <= n", SHOUP_EINVAL, mpz_set_ui(pub->exponent, 7),
	       mpz_set_ui(pub->exponent, 65537));
	TAMPER("even N", SHOUP_EINVAL, mpz_add_ui(pub->modulus, pub->modulus, 1),
	       mpz_sub_ui(pub->modulus, pub->modulus, 1));
	TAMPER("v = 1", SHOUP_ERANGE, (mpz_set(saved, pub->vbase), mpz_set_ui(pub->vbase, 1)),
	       mpz_set(pub->vbase, saved));
	TAMPER("v = N - 1", SHOUP_ERANGE,
	       (mpz_set(saved, pub->vbase), mpz_sub_ui(pub->vbase, pub->modulus, 1)),
	       mpz_set(pub->vbase, saved));
	TAMPER("v_3 = 0", SHOUP_ERANGE,
	       (mpz_set(saved, pub->vkeys[2]), mpz_set_ui(pub->vkeys[2], 0)),
	       mpz_set(pub->vkeys[2], saved));
	TAMPER("v_7 = N", SHOUP_ERANGE,
	       (mpz_set(saved, pub->vkeys[6]), mpz_set(pub->vkeys[6], pub->modulus)),
	       mpz_set(pub->vkeys[6], saved));
#undef TAMPER
	mpz_clear(saved);
	test_key_clear(&key);
}

static void test_names(void)
{
	const int codes[] = { SHOUP_EOK, SHOUP_EINVAL, SHOUP_ENOMEM, SHOUP_ERANGE,
	                      SHOUP_EPROOF, SHOUP_ESIG, SHOUP_ENOTSAFE, SHOUP_ERANDOM,
	                      SHOUP_ECANCEL };
	const unsigned count = sizeof(codes) / sizeof(codes[0]);
	for (unsigned i = 0; i < count; i++) {
		const char *msg = shoup_strerror(codes[i]);
		CHECK(msg != NULL && *msg != '\0', "code %d", codes[i]);
		for (unsigned j = 0; j < i; j++) {
			CHECK(strcmp(msg, shoup_strerror(codes[j])) != 0, "codes %d %d", codes[i], codes[j]);
		}
		CHECK(strcmp(msg, shoup_strerror(-1000)) != 0, "unknown code");
	}
	const char *names[] = { "basic", "optproof", "optte" };
	for (unsigned i = 0; i < 3; i++) {
		shoup_strategy_t s = SHOUP_STRATEGY_OPTTE;
		CHECK(shoup_strategy_parse(names[i], &s) == SHOUP_EOK && s == (shoup_strategy_t)i,
		      "parse %s", names[i]);
		CHECK(strcmp(shoup_strategy_name(s), names[i]) == 0, "name %s", names[i]);
	}
	shoup_strategy_t s;
	CHECK(shoup_strategy_parse("OptTE", &s) == SHOUP_EOK && s == SHOUP_STRATEGY_OPTTE, "case");
	CHECK(shoup_strategy_parse("optimistic", &s) == SHOUP_EINVAL, "unknown");
	CHECK(shoup_strategy_parse("", &s) == SHOUP_EINVAL, "empty");
	CHECK(shoup_strategy_parse(NULL, &s) == SHOUP_EINVAL, "NULL");
	CHECK(strcmp(shoup_strategy_name((shoup_strategy_t)7), "unknown") == 0, "bad strategy");
}

int main(int argc, char **argv)
{
	bool large = argc > 1 && strcmp(argv[1], "--large") == 0;
	if (large) {
		/* The slow suite: the full dealer at the sizes the unit tests
		 * take from fixtures. */
		test_deal_signs(3072, 4, 1);
		test_deal_signs(4096, 4, 1);
		return test_finish("test-shoup-deal --large");
	}
	test_names();
	test_arguments();
	test_progress_and_failures();
	test_deal_signs(1024, 1, 0);
	test_deal_signs(1024, 32, 10);
	test_deal_signs(2048, 4, 1);
	test_public_check();
	return test_finish("test-shoup-deal");
}
