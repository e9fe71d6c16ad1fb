/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * A player's signature share x_i = x^(2 Delta s_i) and Shoup's proof that
 * log_v(v_i) = log_x~(x_i^2) with x~ = x^(4 Delta):
 *   c = H'(v, x~, v_i, x_i^2, v^r, x~^r), z = s_i c + r;
 *   check c == H'(v, x~, v_i, x_i^2, v^z v_i^-c, x~^z x_i^-2c).
 */

#include <assert.h>

#include "coordinator/crypto/shoup_internal.h"

/* The proof for a share already computed in out->value; x2d = x^(2 Delta). */
static void proof_make(const shoup_public_t *pub, const shoup_secret_t *sec,
                       const mpz_t x, const mpz_t x2d, shoup_share_t *out)
{
	mpz_t xt, xi2, r, vr, xtr;
	mpz_inits(xt, xi2, r, vr, xtr, NULL);

	mpz_powm_ui(xt, x2d, 2, pub->modulus);
	mpz_powm_ui(xi2, out->value, 2, pub->modulus);
	shoup_proof_nonce(pub, sec, x, r);
	shoup_powm_secret(vr, pub->vbase, r, pub->modulus);
	shoup_powm_secret(xtr, xt, r, pub->modulus);
	shoup_proof_hash(pub, xt, pub->vkeys[sec->id - 1], xi2, vr, xtr, out->proof_c);

	mpz_mul(out->proof_z, sec->secret, out->proof_c);
	mpz_add(out->proof_z, out->proof_z, r);
	out->has_proof = true;

	/* v^r and x~^r are what a verifier recomputes; r with z gives s_i. */
	shoup_mpz_wipe_clear(r);
	mpz_clears(xt, xi2, vr, xtr, NULL);
}

int shoup_share_sign(const shoup_public_t *pub, const shoup_secret_t *sec,
                     const mpz_t x, bool with_proof, shoup_share_t *out)
{
	if (pub == NULL || sec == NULL || out == NULL ||
	    sec->id < 1 || sec->id > pub->n || pub->n > SHOUP_PLAYERS_MAX ||
	    mpz_sgn(sec->secret) < 0 || !mpz_odd_p(pub->modulus)) {
		return SHOUP_EINVAL;
	}
	if (!shoup_in_unit_range(x, pub->modulus)) {
		return SHOUP_EINVAL;
	}

	mpz_t x2d, two_delta;
	mpz_inits(x2d, two_delta, NULL);
	mpz_mul_2exp(two_delta, pub->delta, 1);
	mpz_powm(x2d, x, two_delta, pub->modulus);	/* public exponent */
	shoup_powm_secret(out->value, x2d, sec->secret, pub->modulus);
	out->id = sec->id;
	out->has_proof = false;
	mpz_set_ui(out->proof_z, 0);
	mpz_set_ui(out->proof_c, 0);
	if (with_proof) {
		proof_make(pub, sec, x, x2d, out);
	}
	mpz_clears(x2d, two_delta, NULL);
	return SHOUP_EOK;
}

/* The ranges a proof's numbers must be in; peers' bytes are never trusted. */
static int share_check_ranges(const shoup_public_t *pub, const shoup_share_t *share)
{
	if (share->id < 1 || share->id > pub->n ||
	    !shoup_in_unit_range(share->value, pub->modulus)) {
		return SHOUP_ERANGE;
	}
	if (!share->has_proof) {
		return SHOUP_EPROOF;
	}
	if (mpz_sgn(share->proof_c) < 0 ||
	    mpz_sizeinbase(share->proof_c, 2) > SHOUP_HASH_BITS ||
	    mpz_sgn(share->proof_z) < 0 ||
	    mpz_sizeinbase(share->proof_z, 2) > pub->bits + SHOUP_Z_EXTRA_BITS) {
		return SHOUP_ERANGE;
	}
	return SHOUP_EOK;
}

/* a = v^z v_i^-c and b = x~^z (x_i^2)^-c; false if an inverse is missing. */
static bool proof_commitments(const shoup_public_t *pub, const shoup_share_t *share,
                              const mpz_t xt, const mpz_t xi2, mpz_t a, mpz_t b)
{
	mpz_t neg_c, t;
	mpz_inits(neg_c, t, NULL);
	mpz_neg(neg_c, share->proof_c);
	bool ok = shoup_powm_public(t, pub->vkeys[share->id - 1], neg_c, pub->modulus);
	if (ok) {
		mpz_powm(a, pub->vbase, share->proof_z, pub->modulus);
		mpz_mul(a, a, t);
		mpz_mod(a, a, pub->modulus);
		ok = shoup_powm_public(t, xi2, neg_c, pub->modulus);
	}
	if (ok) {
		mpz_powm(b, xt, share->proof_z, pub->modulus);
		mpz_mul(b, b, t);
		mpz_mod(b, b, pub->modulus);
	}
	mpz_clears(neg_c, t, NULL);
	return ok;
}

int shoup_share_verify(const shoup_public_t *pub, const mpz_t x,
                       const shoup_share_t *share)
{
	if (pub == NULL || share == NULL || pub->n > SHOUP_PLAYERS_MAX ||
	    mpz_sgn(pub->modulus) <= 0 || !shoup_in_unit_range(x, pub->modulus)) {
		return SHOUP_EINVAL;
	}
	int ret = share_check_ranges(pub, share);
	if (ret != SHOUP_EOK) {
		return ret;
	}

	mpz_t four_delta, xt, xi2, a, b, c;
	mpz_inits(four_delta, xt, xi2, a, b, c, NULL);
	mpz_mul_2exp(four_delta, pub->delta, 2);
	mpz_powm(xt, x, four_delta, pub->modulus);
	mpz_powm_ui(xi2, share->value, 2, pub->modulus);
	ret = SHOUP_EPROOF;
	if (proof_commitments(pub, share, xt, xi2, a, b)) {
		shoup_proof_hash(pub, xt, pub->vkeys[share->id - 1], xi2, a, b, c);
		if (mpz_cmp(c, share->proof_c) == 0) {
			ret = SHOUP_EOK;
		}
	}
	mpz_clears(four_delta, xt, xi2, a, b, c, NULL);
	return ret;
}
