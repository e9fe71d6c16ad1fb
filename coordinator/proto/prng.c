/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>

#include "coordinator/proto/prng.h"

static uint64_t prng_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t prng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void bft_prng_seed(bft_prng_t *prng, uint64_t seed)
{
	assert(prng != NULL);
	uint64_t x = seed;
	for (int i = 0; i < 4; i++) {
		prng->s[i] = prng_splitmix64(&x);
	}
}

uint64_t bft_prng_next(bft_prng_t *prng)
{
	uint64_t *s = prng->s;
	uint64_t result = prng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = prng_rotl(s[3], 45);
	return result;
}

uint64_t bft_prng_below(bft_prng_t *prng, uint64_t bound)
{
	assert(bound > 0);
	/* Rejects the top partial range; expected draws < 2, bounded below. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = bft_prng_next(prng);
		if (x < limit) {
			return x % bound;
		}
	}
	return bft_prng_next(prng) % bound;  /* probability < 2^-1000 */
}

int bft_prng_chance(bft_prng_t *prng, uint32_t per_million)
{
	return bft_prng_below(prng, 1000000) < per_million;
}

int bft_prng_random(void *ctx, uint8_t *out, size_t len)
{
	bft_prng_t *prng = ctx;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t x = bft_prng_next(prng);
		for (size_t j = 0; j < 8 && i + j < len; j++) {
			out[i + j] = (uint8_t)(x >> (8 * j));
		}
	}
	return 0;
}
