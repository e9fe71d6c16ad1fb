/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <string.h>

#include "coordinator/crypto/shoup_internal.h"

/* Random bytes for the largest draw: bits(m) + 128 for m below N. */
#define RANDOM_BYTES_MAX	(SHOUP_MODULUS_BYTES_MAX + SHOUP_NONCE_EXTRA_BITS / 8 + 16)

size_t shoup_modulus_bytes(const shoup_public_t *pub)
{
	assert(pub != NULL);
	return (mpz_sizeinbase(pub->modulus, 2) + 7) / 8;
}

bool shoup_in_unit_range(const mpz_t v, const mpz_t modulus)
{
	return mpz_sgn(v) > 0 && mpz_cmp(v, modulus) < 0;
}

void shoup_delta_compute(mpz_t out, unsigned n)
{
	mpz_fac_ui(out, n);
}

bool shoup_params_valid(unsigned n, unsigned f)
{
	/* Written as f <= (n - 1) / 3 so that a huge f cannot overflow 3 f + 1. */
	return n >= 1 && n <= SHOUP_PLAYERS_MAX && f <= (n - 1) / 3;
}

void shoup_mpz_to_fixed(const mpz_t v, size_t len, uint8_t *out)
{
	assert(mpz_sgn(v) >= 0);
	size_t need = (mpz_sizeinbase(v, 2) + 7) / 8;
	assert(mpz_sgn(v) == 0 || need <= len);

	memset(out, 0, len);
	if (mpz_sgn(v) == 0) {
		return;
	}
	size_t written = 0;
	mpz_export(out + len - need, &written, 1, 1, 1, 0, v);
	assert(written == need);
}

int shoup_mpz_random_bits(mpz_t out, unsigned bits,
                          shoup_random_fn rnd, void *rnd_ctx)
{
	uint8_t buf[RANDOM_BYTES_MAX];
	size_t len = (bits + 7) / 8;
	assert(rnd != NULL);
	assert(len <= sizeof(buf));

	if (len == 0) {
		mpz_set_ui(out, 0);
		return SHOUP_EOK;
	}
	if (rnd(rnd_ctx, buf, len) != 0) {
		explicit_bzero(buf, len);
		return SHOUP_ERANDOM;
	}
	mpz_import(out, len, 1, 1, 1, 0, buf);
	explicit_bzero(buf, len);
	/* Keep exactly the low `bits` bits. */
	mpz_fdiv_r_2exp(out, out, bits);
	return SHOUP_EOK;
}

int shoup_mpz_random_below(mpz_t out, const mpz_t bound,
                           shoup_random_fn rnd, void *rnd_ctx)
{
	assert(mpz_sgn(bound) > 0);
	unsigned bits = mpz_sizeinbase(bound, 2) + 128;
	int ret = shoup_mpz_random_bits(out, bits, rnd, rnd_ctx);
	if (ret != SHOUP_EOK) {
		return ret;
	}
	mpz_mod(out, out, bound);
	return SHOUP_EOK;
}

void shoup_mpz_wipe(mpz_t x)
{
	/* GMP keeps the limbs in x->_mp_d (_mp_alloc of them); asking for that
	 * many limbs returns the same buffer, which we zero before giving it back. */
	size_t alloc = (size_t)x->_mp_alloc;
	if (alloc > 0) {
		mp_limb_t *limbs = mpz_limbs_write(x, alloc);
		explicit_bzero(limbs, alloc * sizeof(mp_limb_t));
	}
	mpz_set_ui(x, 0);
}

void shoup_mpz_wipe_clear(mpz_t x)
{
	shoup_mpz_wipe(x);
	mpz_clear(x);
}

void shoup_powm_secret(mpz_t out, const mpz_t base, const mpz_t exp,
                       const mpz_t modulus)
{
	assert(mpz_sgn(exp) >= 0);
	assert(mpz_odd_p(modulus));
	if (mpz_sgn(exp) == 0) {
		mpz_set_ui(out, 1);
		return;
	}
	mpz_powm_sec(out, base, exp, modulus);
}

bool shoup_powm_public(mpz_t out, const mpz_t base, const mpz_t exp,
                       const mpz_t modulus)
{
	assert(mpz_sgn(modulus) > 0);
	if (mpz_sgn(exp) >= 0) {
		mpz_powm(out, base, exp, modulus);
		return true;
	}

	mpz_t inv, pos;
	mpz_inits(inv, pos, NULL);
	bool ok = mpz_invert(inv, base, modulus) != 0;
	if (ok) {
		mpz_neg(pos, exp);
		mpz_powm(out, inv, pos, modulus);
	}
	mpz_clears(inv, pos, NULL);
	return ok;
}
