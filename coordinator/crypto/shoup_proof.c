/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The two hash uses of Shoup's proof of correctness:
 *
 * H' (the challenge): SHA-256 of
 *   "bftdns/shoup/H/v1" || u16(L) || v || x~ || v_i || x_i^2 || v^r || x~^r
 * where every value is an integer in [0, N) written big-endian in exactly
 * L = bytes(N) bytes. Fixed lengths make the encoding unambiguous.
 *
 * The nonce r: the first bits(N) + 2 L1 bits of
 *   HMAC-SHA256(key = s_i in L bytes,
 *               "bftdns/shoup/nonce/v1" || u32(block) || u16(id) || x in L bytes)
 * for block = 0, 1, ... (counter mode). Why a derived nonce is safe is in
 * doc/crypto.md; in short, it is a pseudo-random function of the secret, and
 * the same (s_i, x) always gives the same challenge, so a nonce is never
 * reused with two different challenges.
 */

#include <assert.h>
#include <string.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include "coordinator/crypto/shoup_internal.h"

static const char hash_tag[] = "bftdns/shoup/H/v1";
static const char nonce_tag[] = "bftdns/shoup/nonce/v1";

/* Enough HMAC blocks for bits(N) + 2 L1 bits of the largest modulus. */
#define NONCE_BYTES_MAX		(SHOUP_MODULUS_BYTES_MAX + SHOUP_NONCE_EXTRA_BITS / 8)
#define NONCE_BLOCKS_MAX	((NONCE_BYTES_MAX + SHA256_DIGEST_SIZE - 1) / SHA256_DIGEST_SIZE)

static void put_u16(uint8_t out[2], size_t v)
{
	assert(v <= UINT16_MAX);
	out[0] = (uint8_t)(v >> 8);
	out[1] = (uint8_t)v;
}

static void put_u32(uint8_t out[4], uint32_t v)
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

static void hash_value(struct sha256_ctx *ctx, const mpz_t v, size_t len)
{
	uint8_t buf[SHOUP_MODULUS_BYTES_MAX];
	assert(len <= sizeof(buf));
	shoup_mpz_to_fixed(v, len, buf);
	sha256_update(ctx, len, buf);
}

void shoup_proof_hash(const shoup_public_t *pub, const mpz_t xt,
                      const mpz_t vkey, const mpz_t xi2, const mpz_t vr,
                      const mpz_t xtr, mpz_t c)
{
	size_t len = shoup_modulus_bytes(pub);
	uint8_t len_bytes[2];
	put_u16(len_bytes, len);

	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, sizeof(hash_tag) - 1, (const uint8_t *)hash_tag);
	sha256_update(&ctx, sizeof(len_bytes), len_bytes);
	hash_value(&ctx, pub->vbase, len);
	hash_value(&ctx, xt, len);
	hash_value(&ctx, vkey, len);
	hash_value(&ctx, xi2, len);
	hash_value(&ctx, vr, len);
	hash_value(&ctx, xtr, len);

	uint8_t digest[SHA256_DIGEST_SIZE];
	sha256_digest(&ctx, sizeof(digest), digest);
	mpz_import(c, sizeof(digest), 1, 1, 1, 0, digest);
}

void shoup_proof_nonce(const shoup_public_t *pub, const shoup_secret_t *sec,
                       const mpz_t x, mpz_t r)
{
	size_t len = shoup_modulus_bytes(pub);
	unsigned bits = pub->bits + SHOUP_NONCE_EXTRA_BITS;
	size_t out_len = (bits + 7) / 8;
	size_t blocks = (out_len + SHA256_DIGEST_SIZE - 1) / SHA256_DIGEST_SIZE;
	assert(blocks <= NONCE_BLOCKS_MAX);

	uint8_t key[SHOUP_MODULUS_BYTES_MAX];
	uint8_t msg[SHOUP_MODULUS_BYTES_MAX];
	uint8_t out[NONCE_BLOCKS_MAX * SHA256_DIGEST_SIZE];
	uint8_t id_bytes[2];
	shoup_mpz_to_fixed(sec->secret, len, key);
	shoup_mpz_to_fixed(x, len, msg);
	put_u16(id_bytes, sec->id);

	struct hmac_sha256_ctx ctx;
	hmac_sha256_set_key(&ctx, len, key);
	for (uint32_t block = 0; block < blocks; block++) {
		uint8_t block_bytes[4];
		put_u32(block_bytes, block);
		hmac_sha256_update(&ctx, sizeof(nonce_tag) - 1, (const uint8_t *)nonce_tag);
		hmac_sha256_update(&ctx, sizeof(block_bytes), block_bytes);
		hmac_sha256_update(&ctx, sizeof(id_bytes), id_bytes);
		hmac_sha256_update(&ctx, len, msg);
		/* The digest call also resets ctx for the next block, same key. */
		hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE,
		                   out + block * SHA256_DIGEST_SIZE);
	}
	mpz_import(r, out_len, 1, 1, 1, 0, out);
	mpz_fdiv_r_2exp(r, r, bits);

	explicit_bzero(&ctx, sizeof(ctx));
	explicit_bzero(key, sizeof(key));
	explicit_bzero(out, sizeof(out));
}
