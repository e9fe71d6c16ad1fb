/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <string.h>
#include <sodium.h>

#include "coordinator/crypto/coin.h"

/* Domain separation tags: every hash in this file starts with one, so no
 * two uses of BLAKE2b can be made to collide with each other. */
static const char TAG_H2G[]   = "bftdns-coin-v1 hash-to-group";
static const char TAG_NONCE[] = "bftdns-coin-v1 nonce";
static const char TAG_CHAL[]  = "bftdns-coin-v1 challenge";
static const char TAG_VALUE[] = "bftdns-coin-v1 value";

#define HASH_WIDE	64	/* Reduced mod L: bias below 2^-250. */

const char *coin_strerror(int code)
{
	switch (code) {
	case COIN_EOK:     return "success";
	case COIN_EINVAL:  return "invalid argument or inconsistent coin key";
	case COIN_EPROOF:  return "coin share does not verify";
	case COIN_ERANDOM: return "random source failed";
	case COIN_ECRYPTO: return "libsodium failed";
	default:           return "unknown error";
	}
}

int coin_init(void)
{
	/* sodium_init() is idempotent and thread-safe: 1 means already done. */
	return sodium_init() >= 0 ? COIN_EOK : COIN_ECRYPTO;
}

/* BLAKE2b over a tag, then the length-prefixed name, then raw parts. A
 * length prefix on the name keeps (name, parts) splits unambiguous. */
static void coin_hash(uint8_t *out, size_t out_len, const char *tag,
                      const uint8_t *name, size_t name_len,
                      const uint8_t *const *parts, const size_t *part_lens, size_t count)
{
	crypto_generichash_state st;
	uint8_t len_be[2] = { (uint8_t)(name_len >> 8), (uint8_t)name_len };
	assert(name_len <= COIN_NAME_MAX);
	crypto_generichash_init(&st, NULL, 0, out_len);
	crypto_generichash_update(&st, (const uint8_t *)tag, strlen(tag) + 1);
	crypto_generichash_update(&st, len_be, sizeof(len_be));
	crypto_generichash_update(&st, name, name_len);
	for (size_t i = 0; i < count; i++) {
		crypto_generichash_update(&st, parts[i], part_lens[i]);
	}
	crypto_generichash_final(&st, out, out_len);
	sodium_memzero(&st, sizeof(st));
}

/* H(name): a group element nobody knows the discrete log of. */
static void coin_hash_to_group(const uint8_t *name, size_t name_len, uint8_t out[COIN_POINT_LEN])
{
	uint8_t wide[HASH_WIDE];
	coin_hash(wide, sizeof(wide), TAG_H2G, name, name_len, NULL, NULL, 0);
	crypto_core_ristretto255_from_hash(out, wide);
}

/* True if s is the canonical (fully reduced) encoding of a scalar. */
static bool coin_scalar_canonical(const uint8_t s[COIN_SCALAR_LEN])
{
	uint8_t wide[HASH_WIDE] = { 0 }, reduced[COIN_SCALAR_LEN];
	memcpy(wide, s, COIN_SCALAR_LEN);
	crypto_core_ristretto255_scalar_reduce(reduced, wide);
	return memcmp(reduced, s, COIN_SCALAR_LEN) == 0;
}

/* True if p decodes to a group element other than the identity. */
static bool coin_point_ok(const uint8_t p[COIN_POINT_LEN])
{
	return crypto_core_ristretto255_is_valid_point(p) == 1 &&
	       !sodium_is_zero(p, COIN_POINT_LEN);
}

static void coin_scalar_from_uint(uint8_t out[COIN_SCALAR_LEN], unsigned v)
{
	memset(out, 0, COIN_SCALAR_LEN);
	out[0] = (uint8_t)v;
	out[1] = (uint8_t)(v >> 8);
}

static int coin_params_ok(unsigned n, unsigned f)
{
	return n >= 1 && n <= COIN_PLAYERS_MAX && n >= 3 * f + 1;
}

/* lambda = prod_{j in 1..k, j != i} (x - j) / (i - j) mod L: the Lagrange
 * coefficient of player i for the point x, over players 1..k. */
static int coin_lagrange_at(unsigned k, unsigned i, unsigned x, uint8_t out[COIN_SCALAR_LEN])
{
	uint8_t num[COIN_SCALAR_LEN], den[COIN_SCALAR_LEN], inv[COIN_SCALAR_LEN];
	uint8_t xs[COIN_SCALAR_LEN], is[COIN_SCALAR_LEN], js[COIN_SCALAR_LEN], t[COIN_SCALAR_LEN];
	coin_scalar_from_uint(num, 1);
	coin_scalar_from_uint(den, 1);
	coin_scalar_from_uint(xs, x);
	coin_scalar_from_uint(is, i);
	for (unsigned j = 1; j <= k; j++) {
		if (j == i) {
			continue;
		}
		coin_scalar_from_uint(js, j);
		crypto_core_ristretto255_scalar_sub(t, xs, js);
		crypto_core_ristretto255_scalar_mul(num, num, t);
		crypto_core_ristretto255_scalar_sub(t, is, js);
		crypto_core_ristretto255_scalar_mul(den, den, t);
	}
	if (crypto_core_ristretto255_scalar_invert(inv, den) != 0) {
		return COIN_EINVAL;
	}
	crypto_core_ristretto255_scalar_mul(out, num, inv);
	return COIN_EOK;
}

/* The verification keys of a dealt key lie on one polynomial of degree f
 * in the exponent: VK_x = prod_{i <= f + 1} VK_i^lambda_i(x). Checking it
 * for every x > f + 1 catches a damaged or substituted key of another
 * player, which would otherwise make us blame that player's good shares. */
static bool coin_vkeys_consistent(const coin_public_t *pub)
{
	unsigned k = pub->f + 1;
	for (unsigned x = k + 1; x <= pub->n; x++) {
		uint8_t acc[COIN_POINT_LEN], term[COIN_POINT_LEN], lambda[COIN_SCALAR_LEN];
		for (unsigned i = 1; i <= k; i++) {
			if (coin_lagrange_at(k, i, x, lambda) != COIN_EOK ||
			    crypto_scalarmult_ristretto255(term, lambda, pub->vkeys[i - 1]) != 0) {
				return false;
			}
			if (i == 1) {
				memcpy(acc, term, sizeof(acc));
			} else {
				crypto_core_ristretto255_add(acc, acc, term);
			}
		}
		if (memcmp(acc, pub->vkeys[x - 1], COIN_POINT_LEN) != 0) {
			return false;
		}
	}
	return true;
}

int coin_public_check(const coin_public_t *pub)
{
	if (pub == NULL || !coin_params_ok(pub->n, pub->f)) {
		return COIN_EINVAL;
	}
	for (unsigned i = 0; i < pub->n; i++) {
		if (!coin_point_ok(pub->vkeys[i])) {
			return COIN_EINVAL;
		}
	}
	return coin_vkeys_consistent(pub) ? COIN_EOK : COIN_EINVAL;
}

int coin_secret_check(const coin_public_t *pub, const coin_secret_t *sec)
{
	if (coin_public_check(pub) != COIN_EOK || sec == NULL ||
	    sec->id < 1 || sec->id > pub->n || !coin_scalar_canonical(sec->secret)) {
		return COIN_EINVAL;
	}
	uint8_t vk[COIN_POINT_LEN];
	if (crypto_scalarmult_ristretto255_base(vk, sec->secret) != 0) {
		return COIN_EINVAL;
	}
	return memcmp(vk, pub->vkeys[sec->id - 1], COIN_POINT_LEN) == 0 ? COIN_EOK : COIN_EINVAL;
}

void coin_secret_wipe(coin_secret_t *sec)
{
	if (sec != NULL) {
		sodium_memzero(sec, sizeof(*sec));
	}
}

/* A uniformly random scalar from the dealer's source. */
static int coin_random_scalar(coin_random_fn rnd, void *rnd_ctx, uint8_t out[COIN_SCALAR_LEN])
{
	uint8_t wide[HASH_WIDE];
	if (rnd(rnd_ctx, wide, sizeof(wide)) != 0) {
		return COIN_ERANDOM;
	}
	crypto_core_ristretto255_scalar_reduce(out, wide);
	sodium_memzero(wide, sizeof(wide));
	return COIN_EOK;
}

/* p(x) by Horner's rule over the f + 1 coefficients. */
static void coin_poly_eval(const uint8_t coef[][COIN_SCALAR_LEN], unsigned degree,
                           unsigned x, uint8_t out[COIN_SCALAR_LEN])
{
	uint8_t xs[COIN_SCALAR_LEN];
	coin_scalar_from_uint(xs, x);
	memcpy(out, coef[degree], COIN_SCALAR_LEN);
	for (unsigned k = degree; k-- > 0;) {
		crypto_core_ristretto255_scalar_mul(out, out, xs);
		crypto_core_ristretto255_scalar_add(out, out, coef[k]);
	}
}

int coin_deal(unsigned n, unsigned f, coin_random_fn rnd, void *rnd_ctx,
              coin_public_t *pub, coin_secret_t *secrets)
{
	if (!coin_params_ok(n, f) || rnd == NULL || pub == NULL || secrets == NULL) {
		return COIN_EINVAL;
	}
	if (coin_init() != COIN_EOK) {
		return COIN_ECRYPTO;
	}
	uint8_t coef[COIN_PLAYERS_MAX][COIN_SCALAR_LEN];
	int ret = COIN_EOK;
	for (unsigned k = 0; ret == COIN_EOK && k <= f; k++) {
		ret = coin_random_scalar(rnd, rnd_ctx, coef[k]);
	}
	memset(pub, 0, sizeof(*pub));
	pub->n = n;
	pub->f = f;
	for (unsigned i = 0; ret == COIN_EOK && i < n; i++) {
		secrets[i].id = i + 1;
		coin_poly_eval(coef, f, i + 1, secrets[i].secret);
		/* A zero share (probability 2^-252) has no verification key. */
		if (crypto_scalarmult_ristretto255_base(pub->vkeys[i], secrets[i].secret) != 0) {
			ret = COIN_ECRYPTO;
		}
	}
	sodium_memzero(coef, sizeof(coef));
	if (ret != COIN_EOK) {
		for (unsigned i = 0; i < n; i++) {
			coin_secret_wipe(&secrets[i]);
		}
		return ret;
	}
	assert(coin_public_check(pub) == COIN_EOK);
	return COIN_EOK;
}

/* c = H(id, VK_i, H(C), S_i, a1, a2) for the coin named C. */
static void coin_challenge(const uint8_t *name, size_t name_len, unsigned id,
                           const uint8_t vk[COIN_POINT_LEN], const uint8_t h[COIN_POINT_LEN],
                           const uint8_t s[COIN_POINT_LEN], const uint8_t a1[COIN_POINT_LEN],
                           const uint8_t a2[COIN_POINT_LEN], uint8_t c[COIN_SCALAR_LEN])
{
	uint8_t id_byte = (uint8_t)id, wide[HASH_WIDE];
	const uint8_t *parts[] = { &id_byte, vk, h, s, a1, a2 };
	const size_t lens[] = { 1, COIN_POINT_LEN, COIN_POINT_LEN, COIN_POINT_LEN,
	                        COIN_POINT_LEN, COIN_POINT_LEN };
	coin_hash(wide, sizeof(wide), TAG_CHAL, name, name_len, parts, lens, 6);
	crypto_core_ristretto255_scalar_reduce(c, wide);
}

static bool coin_name_ok(const uint8_t *name, size_t name_len)
{
	return name != NULL && name_len >= 1 && name_len <= COIN_NAME_MAX;
}

int coin_share_make(const coin_public_t *pub, const coin_secret_t *sec,
                    const uint8_t *name, size_t name_len, coin_share_t *share)
{
	if (pub == NULL || sec == NULL || share == NULL || !coin_name_ok(name, name_len) ||
	    sec->id < 1 || sec->id > pub->n) {
		return COIN_EINVAL;
	}
	uint8_t h[COIN_POINT_LEN], r[COIN_SCALAR_LEN], wide[HASH_WIDE];
	uint8_t a1[COIN_POINT_LEN], a2[COIN_POINT_LEN];
	uint8_t *s = share->bytes, *c = s + COIN_POINT_LEN, *z = c + COIN_SCALAR_LEN;
	coin_hash_to_group(name, name_len, h);
	if (crypto_scalarmult_ristretto255(s, sec->secret, h) != 0) {
		return COIN_EINVAL;
	}
	/* Deterministic nonce: r = H(x_i, C); never repeats for another name. */
	const uint8_t *parts[] = { sec->secret };
	const size_t lens[] = { COIN_SCALAR_LEN };
	coin_hash(wide, sizeof(wide), TAG_NONCE, name, name_len, parts, lens, 1);
	crypto_core_ristretto255_scalar_reduce(r, wide);
	int ret = COIN_EOK;
	if (crypto_scalarmult_ristretto255_base(a1, r) != 0 ||
	    crypto_scalarmult_ristretto255(a2, r, h) != 0) {
		ret = COIN_ECRYPTO;
	} else {
		coin_challenge(name, name_len, sec->id, pub->vkeys[sec->id - 1], h, s, a1, a2, c);
		crypto_core_ristretto255_scalar_mul(z, c, sec->secret);
		crypto_core_ristretto255_scalar_add(z, z, r);
		share->id = sec->id;
	}
	sodium_memzero(r, sizeof(r));
	sodium_memzero(wide, sizeof(wide));
	return ret;
}

/* a = base^z - elem^c: the commitment a valid proof was made with. */
static bool coin_commitment(const uint8_t base[COIN_POINT_LEN], const uint8_t elem[COIN_POINT_LEN],
                            const uint8_t c[COIN_SCALAR_LEN], const uint8_t z[COIN_SCALAR_LEN],
                            uint8_t a[COIN_POINT_LEN])
{
	uint8_t bz[COIN_POINT_LEN], ec[COIN_POINT_LEN];
	if (crypto_scalarmult_ristretto255(bz, z, base) != 0 ||
	    crypto_scalarmult_ristretto255(ec, c, elem) != 0) {
		return false;
	}
	crypto_core_ristretto255_sub(a, bz, ec);
	return true;
}

int coin_share_verify(const coin_public_t *pub, const uint8_t *name, size_t name_len,
                      const coin_share_t *share)
{
	if (pub == NULL || share == NULL || !coin_name_ok(name, name_len) ||
	    share->id < 1 || share->id > pub->n) {
		return COIN_EINVAL;
	}
	const uint8_t *s = share->bytes, *c = s + COIN_POINT_LEN, *z = c + COIN_SCALAR_LEN;
	if (!coin_point_ok(s) || !coin_scalar_canonical(c) || !coin_scalar_canonical(z)) {
		return COIN_EPROOF;
	}
	uint8_t h[COIN_POINT_LEN], g[COIN_POINT_LEN], one[COIN_SCALAR_LEN];
	uint8_t a1[COIN_POINT_LEN], a2[COIN_POINT_LEN], c2[COIN_SCALAR_LEN];
	coin_hash_to_group(name, name_len, h);
	coin_scalar_from_uint(one, 1);
	if (crypto_scalarmult_ristretto255_base(g, one) != 0) {
		return COIN_ECRYPTO;
	}
	const uint8_t *vk = pub->vkeys[share->id - 1];
	if (!coin_commitment(g, vk, c, z, a1) || !coin_commitment(h, s, c, z, a2)) {
		return COIN_EPROOF;
	}
	coin_challenge(name, name_len, share->id, vk, h, s, a1, a2, c2);
	return memcmp(c, c2, COIN_SCALAR_LEN) == 0 ? COIN_EOK : COIN_EPROOF;
}

/* lambda_i = prod_{j != i} j / (j - i) mod L, over the ids in the set. */
static int coin_lagrange(const coin_share_t *shares, size_t count, size_t i,
                         uint8_t out[COIN_SCALAR_LEN])
{
	uint8_t num[COIN_SCALAR_LEN], den[COIN_SCALAR_LEN], xi[COIN_SCALAR_LEN];
	uint8_t xj[COIN_SCALAR_LEN], diff[COIN_SCALAR_LEN], inv[COIN_SCALAR_LEN];
	coin_scalar_from_uint(num, 1);
	coin_scalar_from_uint(den, 1);
	coin_scalar_from_uint(xi, shares[i].id);
	for (size_t j = 0; j < count; j++) {
		if (j == i) {
			continue;
		}
		coin_scalar_from_uint(xj, shares[j].id);
		crypto_core_ristretto255_scalar_sub(diff, xj, xi);
		crypto_core_ristretto255_scalar_mul(num, num, xj);
		crypto_core_ristretto255_scalar_mul(den, den, diff);
	}
	if (crypto_core_ristretto255_scalar_invert(inv, den) != 0) {
		return COIN_EINVAL;  /* Two shares of one player. */
	}
	crypto_core_ristretto255_scalar_mul(out, num, inv);
	return COIN_EOK;
}

static bool coin_ids_distinct(const coin_public_t *pub, const coin_share_t *shares, size_t count)
{
	uint32_t seen = 0;
	for (size_t i = 0; i < count; i++) {
		unsigned id = shares[i].id;
		if (id < 1 || id > pub->n || (seen >> (id - 1)) & 1) {
			return false;
		}
		seen |= (uint32_t)1 << (id - 1);
	}
	return true;
}

int coin_combine(const coin_public_t *pub, const uint8_t *name, size_t name_len,
                 const coin_share_t *shares, size_t count, uint8_t value[COIN_VALUE_LEN])
{
	if (pub == NULL || shares == NULL || value == NULL || !coin_name_ok(name, name_len) ||
	    count != pub->f + 1 || !coin_ids_distinct(pub, shares, count)) {
		return COIN_EINVAL;
	}
	uint8_t acc[COIN_POINT_LEN], term[COIN_POINT_LEN], lambda[COIN_SCALAR_LEN];
	for (size_t i = 0; i < count; i++) {
		int ret = coin_lagrange(shares, count, i, lambda);
		if (ret != COIN_EOK) {
			return ret;
		}
		if (crypto_scalarmult_ristretto255(term, lambda, shares[i].bytes) != 0) {
			return COIN_EINVAL;  /* Only an unverified share can get here. */
		}
		if (i == 0) {
			memcpy(acc, term, sizeof(acc));
		} else {
			crypto_core_ristretto255_add(acc, acc, term);
		}
	}
	const uint8_t *parts[] = { acc };
	const size_t lens[] = { COIN_POINT_LEN };
	coin_hash(value, COIN_VALUE_LEN, TAG_VALUE, name, name_len, parts, lens, 1);
	return COIN_EOK;
}
