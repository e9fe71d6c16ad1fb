/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* Life cycle of the key structures and the check of a public key read from a
 * file or a peer. */

#include <assert.h>
#include <string.h>

#include "coordinator/crypto/shoup_internal.h"

/* Miller-Rabin rounds after Baillie-PSW for the (small, public) exponent. */
#define EXPONENT_PRIME_REPS	30

void shoup_public_init(shoup_public_t *pub)
{
	assert(pub != NULL);
	memset(pub, 0, sizeof(*pub));
	mpz_inits(pub->modulus, pub->exponent, pub->vbase, pub->delta, NULL);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		mpz_init(pub->vkeys[i]);
	}
}

void shoup_public_clear(shoup_public_t *pub)
{
	assert(pub != NULL);
	mpz_clears(pub->modulus, pub->exponent, pub->vbase, pub->delta, NULL);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		mpz_clear(pub->vkeys[i]);
	}
	memset(pub, 0, sizeof(*pub));
}

void shoup_secret_init(shoup_secret_t *sec)
{
	assert(sec != NULL);
	sec->id = 0;
	mpz_init(sec->secret);
}

void shoup_secret_clear(shoup_secret_t *sec)
{
	assert(sec != NULL);
	shoup_mpz_wipe_clear(sec->secret);
	sec->id = 0;
}

void shoup_share_init(shoup_share_t *share)
{
	assert(share != NULL);
	share->id = 0;
	share->has_proof = false;
	mpz_inits(share->value, share->proof_z, share->proof_c, NULL);
}

void shoup_share_clear(shoup_share_t *share)
{
	assert(share != NULL);
	mpz_clears(share->value, share->proof_z, share->proof_c, NULL);
	share->id = 0;
	share->has_proof = false;
}

static int public_check_modulus(const shoup_public_t *pub)
{
	if (pub->bits < SHOUP_BITS_MIN || pub->bits > SHOUP_BITS_MAX) {
		return SHOUP_EINVAL;
	}
	if (mpz_sgn(pub->modulus) <= 0 || mpz_even_p(pub->modulus) ||
	    mpz_sizeinbase(pub->modulus, 2) != pub->bits) {
		return SHOUP_EINVAL;
	}
	return SHOUP_EOK;
}

static int public_check_exponent(const shoup_public_t *pub)
{
	/* e must be a prime larger than n so that gcd(e, 4 Delta^2) = 1. */
	if (mpz_cmp_ui(pub->exponent, pub->n) <= 0 ||
	    mpz_cmp(pub->exponent, pub->modulus) >= 0) {
		return SHOUP_EINVAL;
	}
	if (mpz_probab_prime_p(pub->exponent, EXPONENT_PRIME_REPS) == 0) {
		return SHOUP_EINVAL;
	}
	return SHOUP_EOK;
}

static int public_check_vkeys(const shoup_public_t *pub)
{
	/* v = 1 or N - 1 would make every proof trivially true. */
	mpz_t minus_one;
	mpz_init(minus_one);
	mpz_sub_ui(minus_one, pub->modulus, 1);
	bool bad_base = mpz_cmp_ui(pub->vbase, 1) <= 0 ||
	                mpz_cmp(pub->vbase, minus_one) >= 0;
	mpz_clear(minus_one);
	if (bad_base) {
		return SHOUP_ERANGE;
	}
	for (unsigned i = 0; i < pub->n; i++) {
		if (!shoup_in_unit_range(pub->vkeys[i], pub->modulus)) {
			return SHOUP_ERANGE;
		}
	}
	return SHOUP_EOK;
}

static int public_check_delta(const shoup_public_t *pub)
{
	mpz_t delta;
	mpz_init(delta);
	shoup_delta_compute(delta, pub->n);
	int ret = mpz_cmp(delta, pub->delta) == 0 ? SHOUP_EOK : SHOUP_EINVAL;
	mpz_clear(delta);
	return ret;
}

int shoup_public_check(const shoup_public_t *pub)
{
	if (pub == NULL || !shoup_params_valid(pub->n, pub->f)) {
		return SHOUP_EINVAL;
	}
	int ret = public_check_modulus(pub);
	if (ret == SHOUP_EOK) {
		ret = public_check_exponent(pub);
	}
	if (ret == SHOUP_EOK) {
		ret = public_check_delta(pub);
	}
	if (ret == SHOUP_EOK) {
		ret = public_check_vkeys(pub);
	}
	return ret;
}
