/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Combination of k = f + 1 shares: w = prod x_j^(2 lambda_j) with the integer
 * Lagrange coefficients lambda_j = Delta prod_{j' != j} j' / (j' - j), so that
 * w^e = x^e' with e' = 4 Delta^2; then y = w^a x^b where e' a + e b = 1.
 */

#include <assert.h>

#include "coordinator/crypto/shoup_internal.h"

/* lambda = Delta prod_{j' in ids, j' != id} j' / (j' - id); exact by Shoup's
 * lemma because Delta = n! and every |j' - id| < n. False only for a key
 * whose delta is not n! (one that skipped shoup_public_check). */
static bool lagrange_at_zero(const shoup_public_t *pub, const unsigned *ids,
                             unsigned count, unsigned id, mpz_t lambda)
{
	mpz_t den;
	mpz_init_set_ui(den, 1);
	mpz_set(lambda, pub->delta);
	for (unsigned i = 0; i < count; i++) {
		if (ids[i] == id) {
			continue;
		}
		mpz_mul_ui(lambda, lambda, ids[i]);
		mpz_mul_si(den, den, (long)ids[i] - (long)id);
	}
	bool exact = mpz_divisible_p(lambda, den) != 0;
	if (exact) {
		mpz_divexact(lambda, lambda, den);
	}
	mpz_clear(den);
	return exact;
}

/* Ids in range and pairwise distinct, values in [1, N). */
static int combine_check(const shoup_public_t *pub,
                         const shoup_share_t *const *shares, unsigned count,
                         unsigned *ids)
{
	uint32_t seen = 0;
	for (unsigned i = 0; i < count; i++) {
		const shoup_share_t *sh = shares[i];
		if (sh == NULL) {
			return SHOUP_EINVAL;
		}
		if (sh->id < 1 || sh->id > pub->n ||
		    !shoup_in_unit_range(sh->value, pub->modulus)) {
			return SHOUP_ERANGE;
		}
		uint32_t bit = UINT32_C(1) << (sh->id - 1);
		if (seen & bit) {
			return SHOUP_EINVAL;
		}
		seen |= bit;
		ids[i] = sh->id;
	}
	return SHOUP_EOK;
}

/* w = prod x_j^(2 lambda_j); false if a share with a negative coefficient
 * has no inverse mod N (or the key's delta is wrong). */
static bool combine_w(const shoup_public_t *pub, const shoup_share_t *const *shares,
                      const unsigned *ids, unsigned count, mpz_t w)
{
	mpz_t lambda, t;
	mpz_inits(lambda, t, NULL);
	mpz_set_ui(w, 1);
	bool ok = true;
	for (unsigned i = 0; i < count && ok; i++) {
		ok = lagrange_at_zero(pub, ids, count, ids[i], lambda);
		if (ok) {
			mpz_mul_2exp(lambda, lambda, 1);
			ok = shoup_powm_public(t, shares[i]->value, lambda, pub->modulus);
		}
		if (ok) {
			mpz_mul(w, w, t);
			mpz_mod(w, w, pub->modulus);
		}
	}
	mpz_clears(lambda, t, NULL);
	return ok;
}

/* y = w^a x^b with e' a + e b = 1, e' = 4 Delta^2. */
static bool combine_root(const shoup_public_t *pub, const mpz_t x, const mpz_t w,
                         mpz_t sig)
{
	mpz_t eprime, g, a, b, wa, xb;
	mpz_inits(eprime, g, a, b, wa, xb, NULL);
	mpz_mul(eprime, pub->delta, pub->delta);
	mpz_mul_2exp(eprime, eprime, 2);
	mpz_gcdext(g, a, b, eprime, pub->exponent);
	/* gcd(4 Delta^2, e) = 1 for a prime e > n: the key check guarantees it. */
	bool ok = mpz_cmp_ui(g, 1) == 0 &&
	          shoup_powm_public(wa, w, a, pub->modulus) &&
	          shoup_powm_public(xb, x, b, pub->modulus);
	if (ok) {
		mpz_mul(sig, wa, xb);
		mpz_mod(sig, sig, pub->modulus);
	}
	mpz_clears(eprime, g, a, b, wa, xb, NULL);
	return ok;
}

int shoup_combine(const shoup_public_t *pub, const mpz_t x,
                  const shoup_share_t *const *shares, unsigned count, mpz_t sig)
{
	if (pub == NULL || shares == NULL || pub->n > SHOUP_PLAYERS_MAX ||
	    count != pub->f + 1 || mpz_sgn(pub->modulus) <= 0 ||
	    !shoup_in_unit_range(x, pub->modulus)) {
		return SHOUP_EINVAL;
	}
	unsigned ids[SHOUP_PLAYERS_MAX];
	int ret = combine_check(pub, shares, count, ids);
	if (ret != SHOUP_EOK) {
		return ret;
	}

	mpz_t w;
	mpz_init(w);
	ret = SHOUP_ERANGE;	/* a share or x not invertible mod N */
	if (combine_w(pub, shares, ids, count, w) && combine_root(pub, x, w, sig)) {
		ret = SHOUP_EOK;
	}
	mpz_clear(w);
	return ret;
}

bool shoup_signature_verify(const shoup_public_t *pub, const mpz_t x, const mpz_t sig)
{
	if (pub == NULL || mpz_sgn(pub->modulus) <= 0 ||
	    !shoup_in_unit_range(sig, pub->modulus) ||
	    !shoup_in_unit_range(x, pub->modulus)) {
		return false;
	}
	mpz_t t;
	mpz_init(t);
	mpz_powm(t, sig, pub->exponent, pub->modulus);
	bool ok = mpz_cmp(t, x) == 0;
	mpz_clear(t);
	return ok;
}
