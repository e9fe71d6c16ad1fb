/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The trusted dealer: from two safe primes p = 2p' + 1, q = 2q' + 1 it
 * computes d = e^-1 mod m (m = p'q'), shares d with a random polynomial of
 * degree f over Z_m, and publishes v (a generator of the squares mod N) and
 * v_i = v^(s_i).
 */

#include <assert.h>

#include "coordinator/crypto/shoup_internal.h"

#define RSA_EXPONENT		65537

/* A random square is a generator of the squares (order m) unless it falls in
 * a subgroup of order p' or q': probability about 1/p' + 1/q'. */
#define VBASE_ATTEMPTS_MAX	64

/* p == q has probability 2^-500; more than a few repeats is a broken source. */
#define PRIME_PAIR_ATTEMPTS_MAX	4

static bool bits_supported(unsigned bits)
{
	return bits == 1024 || bits == 2048 || bits == 3072 || bits == 4096;
}

/* The dealer's secrets, wiped before they are freed. */
typedef struct {
	mpz_t p1, q1;		/* p', q' */
	mpz_t m;		/* p'q' */
	mpz_t coef[SHOUP_PLAYERS_MAX];	/* f(X) = coef[0] + ... , coef[0] = d */
	mpz_t tmp;
} dealer_t;

static void dealer_init(dealer_t *dl)
{
	mpz_inits(dl->p1, dl->q1, dl->m, dl->tmp, NULL);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		mpz_init(dl->coef[i]);
	}
}

static void dealer_clear(dealer_t *dl)
{
	shoup_mpz_wipe_clear(dl->p1);
	shoup_mpz_wipe_clear(dl->q1);
	shoup_mpz_wipe_clear(dl->m);
	shoup_mpz_wipe_clear(dl->tmp);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_mpz_wipe_clear(dl->coef[i]);
	}
}

/* True if v has order exactly m = p'q' in Z_N^*, i.e. generates the squares. */
static bool vbase_generates(dealer_t *dl, const mpz_t v, const mpz_t modulus)
{
	mpz_gcd(dl->tmp, v, modulus);
	if (mpz_cmp_ui(dl->tmp, 1) != 0 || mpz_cmp_ui(v, 1) == 0) {
		return false;
	}
	mpz_powm(dl->tmp, v, dl->p1, modulus);
	if (mpz_cmp_ui(dl->tmp, 1) == 0) {
		return false;
	}
	mpz_powm(dl->tmp, v, dl->q1, modulus);
	return mpz_cmp_ui(dl->tmp, 1) != 0;
}

static int vbase_choose(dealer_t *dl, shoup_public_t *pub,
                        shoup_random_fn rnd, void *rnd_ctx)
{
	for (unsigned attempt = 0; attempt < VBASE_ATTEMPTS_MAX; attempt++) {
		int ret = shoup_mpz_random_below(pub->vbase, pub->modulus, rnd, rnd_ctx);
		if (ret != SHOUP_EOK) {
			return ret;
		}
		mpz_powm_ui(pub->vbase, pub->vbase, 2, pub->modulus);
		if (vbase_generates(dl, pub->vbase, pub->modulus)) {
			return SHOUP_EOK;
		}
	}
	return SHOUP_ERANDOM;
}

/* coef[0] = d, coef[1..f] random in Z_m. */
static int polynomial_choose(dealer_t *dl, const mpz_t e, unsigned f,
                             shoup_random_fn rnd, void *rnd_ctx)
{
	if (mpz_invert(dl->coef[0], e, dl->m) == 0) {
		return SHOUP_EINVAL;	/* gcd(e, m) != 1 */
	}
	for (unsigned j = 1; j <= f; j++) {
		int ret = shoup_mpz_random_below(dl->coef[j], dl->m, rnd, rnd_ctx);
		if (ret != SHOUP_EOK) {
			return ret;
		}
	}
	return SHOUP_EOK;
}

/* s = f(id) mod m by Horner's rule. */
static void polynomial_eval(dealer_t *dl, unsigned f, unsigned id, mpz_t s)
{
	mpz_set(s, dl->coef[f]);
	for (unsigned j = f; j-- > 0;) {
		mpz_mul_ui(s, s, id);
		mpz_add(s, s, dl->coef[j]);
		mpz_mod(s, s, dl->m);
	}
}

static void shares_make(dealer_t *dl, shoup_public_t *pub, shoup_secret_t *secrets)
{
	for (unsigned i = 0; i < pub->n; i++) {
		secrets[i].id = i + 1;
		polynomial_eval(dl, pub->f, i + 1, secrets[i].secret);
		shoup_powm_secret(pub->vkeys[i], pub->vbase, secrets[i].secret,
		                  pub->modulus);
	}
}

/* Everything after the primes; p and q are known safe primes, p != q. */
static int deal_from_primes(const mpz_t p, const mpz_t q, const mpz_t e,
                            unsigned n, unsigned f,
                            shoup_random_fn rnd, void *rnd_ctx,
                            shoup_public_t *pub, shoup_secret_t *secrets)
{
	dealer_t dl;
	dealer_init(&dl);
	mpz_fdiv_q_2exp(dl.p1, p, 1);	/* (p - 1) / 2 for odd p */
	mpz_fdiv_q_2exp(dl.q1, q, 1);
	mpz_mul(dl.m, dl.p1, dl.q1);

	pub->n = n;
	pub->f = f;
	mpz_mul(pub->modulus, p, q);
	pub->bits = mpz_sizeinbase(pub->modulus, 2);
	mpz_set(pub->exponent, e);
	shoup_delta_compute(pub->delta, n);

	int ret = polynomial_choose(&dl, e, f, rnd, rnd_ctx);
	if (ret == SHOUP_EOK) {
		ret = vbase_choose(&dl, pub, rnd, rnd_ctx);
	}
	if (ret == SHOUP_EOK) {
		shares_make(&dl, pub, secrets);
		assert(shoup_public_check(pub) == SHOUP_EOK);
	}
	dealer_clear(&dl);
	return ret;
}

static bool deal_args_valid(unsigned n, unsigned f, shoup_random_fn rnd,
                            shoup_public_t *pub, shoup_secret_t *secrets)
{
	return shoup_params_valid(n, f) && rnd != NULL && pub != NULL &&
	       secrets != NULL;
}

int shoup_deal(unsigned bits, unsigned n, unsigned f,
               shoup_random_fn rnd, void *rnd_ctx,
               shoup_progress_fn progress, void *progress_ctx,
               shoup_public_t *pub, shoup_secret_t *secrets)
{
	if (!bits_supported(bits) || !deal_args_valid(n, f, rnd, pub, secrets)) {
		return SHOUP_EINVAL;
	}
	mpz_t p, q, e;
	mpz_inits(p, q, e, NULL);
	mpz_set_ui(e, RSA_EXPONENT);
	int ret = shoup_safe_prime_generate(bits / 2, 1, rnd, rnd_ctx,
	                                    progress, progress_ctx, p);
	for (unsigned i = 0; ret == SHOUP_EOK && i < PRIME_PAIR_ATTEMPTS_MAX; i++) {
		ret = shoup_safe_prime_generate(bits / 2, 2, rnd, rnd_ctx,
		                                progress, progress_ctx, q);
		if (ret == SHOUP_EOK && mpz_cmp(p, q) != 0) {
			break;
		}
		if (ret == SHOUP_EOK && i + 1 == PRIME_PAIR_ATTEMPTS_MAX) {
			ret = SHOUP_ERANDOM;
		}
	}
	if (ret == SHOUP_EOK) {
		ret = deal_from_primes(p, q, e, n, f, rnd, rnd_ctx, pub, secrets);
		assert(ret != SHOUP_EOK || pub->bits == bits);
	}
	shoup_mpz_wipe_clear(p);
	shoup_mpz_wipe_clear(q);
	mpz_clear(e);
	return ret;
}

int shoup_deal_existing(const mpz_t p, const mpz_t q, const mpz_t e,
                        unsigned n, unsigned f,
                        shoup_random_fn rnd, void *rnd_ctx,
                        shoup_public_t *pub, shoup_secret_t *secrets)
{
	if (!deal_args_valid(n, f, rnd, pub, secrets)) {
		return SHOUP_EINVAL;
	}
	/* e must be a prime above n (so gcd(e, 4 Delta^2) = 1); gcd(e, m) = 1 is
	 * checked when d is computed. */
	if (mpz_cmp_ui(e, n) <= 0 || mpz_probab_prime_p(e, 30) == 0 ||
	    mpz_cmp(p, q) == 0) {
		return SHOUP_EINVAL;
	}
	mpz_t modulus;
	mpz_init(modulus);
	mpz_mul(modulus, p, q);
	size_t bits = mpz_sizeinbase(modulus, 2);
	mpz_clear(modulus);
	if (mpz_sgn(p) <= 0 || mpz_sgn(q) <= 0 ||
	    bits < SHOUP_BITS_MIN || bits > SHOUP_BITS_MAX || mpz_cmp(e, p) >= 0) {
		return SHOUP_EINVAL;
	}
	if (!shoup_is_safe_prime(p) || !shoup_is_safe_prime(q)) {
		return SHOUP_ENOTSAFE;
	}
	return deal_from_primes(p, q, e, n, f, rnd, rnd_ctx, pub, secrets);
}
