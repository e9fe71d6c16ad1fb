/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*!
 * \file
 *
 * A small seeded PRNG (xoshiro256**, seeded through splitmix64) for the
 * simulator and for tests: the same seed gives the same numbers on every
 * machine. NOT for secrets: production randomness is getrandom(2).
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint64_t s[4];
} bft_prng_t;

void bft_prng_seed(bft_prng_t *prng, uint64_t seed);
uint64_t bft_prng_next(bft_prng_t *prng);
/*! Uniform in [0, bound), bound > 0, without modulo bias. */
uint64_t bft_prng_below(bft_prng_t *prng, uint64_t bound);
/*! True with probability per_million / 1e6. */
int bft_prng_chance(bft_prng_t *prng, uint32_t per_million);
/*! A bft_random_fn over a bft_prng_t (ctx); never fails. */
int bft_prng_random(void *ctx, uint8_t *out, size_t len);
