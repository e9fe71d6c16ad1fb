/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Safe primes p = 2q + 1 for the dealer.
 *
 * A random q has about a 1 in (ln p)^2 chance of giving a safe prime, so
 * almost every candidate must die cheaply: a window of candidates
 * q = q0 + 2t is sieved by every small prime r at once, striking both
 * q == 0 (mod r) and 2q + 1 == 0 (mod r). Survivors get a base-2 Fermat test
 * on q, then on p, and only then the full mpz_probab_prime_p on both.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/crypto/shoup_internal.h"

/* Sieve primes below this bound; about 23,000 primes. Larger bounds strike
 * few more candidates and cost more per window. */
#define SIEVE_PRIME_BOUND	(1u << 18)

/* Candidates q0 + 2t, t < SIEVE_WINDOW, per window. */
#define SIEVE_WINDOW		(1u << 16)

/* A window of 2^17 integers near 2^2047 holds a safe prime with a chance of
 * about 1 in 8; this many windows without one means the random source is
 * broken (e.g. returns the same bytes every time). */
#define SIEVE_WINDOWS_MAX	4096

/* Rounds for the final test: Baillie-PSW plus (reps - 24) Miller-Rabin. */
#define SAFE_PRIME_REPS		32

/* Report progress after every this many candidates that reach a Fermat test. */
#define PROGRESS_EVERY		64

#define SAFE_PRIME_BITS_MIN	256

typedef struct {
	uint32_t *primes;	/* Odd primes below SIEVE_PRIME_BOUND. */
	size_t count;
	uint8_t *struck;	/* struck[t]: q0 + 2t or 2(q0 + 2t) + 1 has a small factor. */
} sieve_t;

static int sieve_init(sieve_t *sieve)
{
	memset(sieve, 0, sizeof(*sieve));
	uint8_t *composite = calloc(SIEVE_PRIME_BOUND, 1);
	sieve->primes = malloc(SIEVE_PRIME_BOUND / 2 * sizeof(uint32_t));
	sieve->struck = malloc(SIEVE_WINDOW);
	if (composite == NULL || sieve->primes == NULL || sieve->struck == NULL) {
		free(composite);
		free(sieve->primes);
		free(sieve->struck);
		return SHOUP_ENOMEM;
	}
	for (uint32_t i = 3; i < SIEVE_PRIME_BOUND; i += 2) {
		if (composite[i]) {
			continue;
		}
		sieve->primes[sieve->count++] = i;
		for (uint64_t j = (uint64_t)i * i; j < SIEVE_PRIME_BOUND; j += 2 * i) {
			composite[j] = 1;
		}
	}
	free(composite);
	return SHOUP_EOK;
}

static void sieve_clear(sieve_t *sieve)
{
	free(sieve->primes);
	free(sieve->struck);
	memset(sieve, 0, sizeof(*sieve));
}

static void sieve_strike(uint8_t *struck, uint64_t start, uint32_t r)
{
	for (uint64_t t = start; t < SIEVE_WINDOW; t += r) {
		struck[t] = 1;
	}
}

/* Strikes every t where q0 + 2t or 2(q0 + 2t) + 1 is divisible by a small
 * prime r: t = -q0 / 2 and t = ((r - 1) / 2 - q0) / 2 (mod r). */
static void sieve_window(sieve_t *sieve, const mpz_t q0)
{
	memset(sieve->struck, 0, SIEVE_WINDOW);
	for (size_t i = 0; i < sieve->count; i++) {
		uint64_t r = sieve->primes[i];
		uint64_t half = (r + 1) / 2;	/* 2^-1 mod r */
		uint64_t qm = mpz_fdiv_ui(q0, r);
		uint64_t t_q = (r - qm) % r * half % r;
		uint64_t t_p = ((r - 1) / 2 + r - qm) % r * half % r;
		sieve_strike(sieve->struck, t_q, (uint32_t)r);
		sieve_strike(sieve->struck, t_p, (uint32_t)r);
	}
}

static bool fermat_base2(const mpz_t n, mpz_t tmp)
{
	mpz_t two;
	mpz_init_set_ui(two, 2);
	mpz_sub_ui(tmp, n, 1);
	mpz_powm(tmp, two, tmp, n);
	mpz_clear(two);
	return mpz_cmp_ui(tmp, 1) == 0;
}

/* True if q and p = 2q + 1 (written to p) are both prime. */
static bool candidate_test(const mpz_t q, mpz_t p, mpz_t tmp)
{
	if (!fermat_base2(q, tmp)) {
		return false;
	}
	mpz_mul_2exp(p, q, 1);
	mpz_add_ui(p, p, 1);
	if (!fermat_base2(p, tmp)) {
		return false;
	}
	return mpz_probab_prime_p(q, SAFE_PRIME_REPS) != 0 &&
	       mpz_probab_prime_p(p, SAFE_PRIME_REPS) != 0;
}

/* A random odd q0 of qbits bits with its two top bits set. */
static int window_start(mpz_t q0, unsigned qbits, shoup_random_fn rnd, void *rnd_ctx)
{
	int ret = shoup_mpz_random_bits(q0, qbits, rnd, rnd_ctx);
	if (ret != SHOUP_EOK) {
		return ret;
	}
	mpz_setbit(q0, qbits - 1);
	mpz_setbit(q0, qbits - 2);
	mpz_setbit(q0, 0);
	return SHOUP_EOK;
}

typedef struct {
	unsigned qbits;
	unsigned prime_index;
	shoup_progress_fn progress;
	void *progress_ctx;
	uint64_t tested;
} search_t;

/* Tests the survivors of one sieved window; SHOUP_EOK with p set if found,
 * SHOUP_ERANGE if the window has none. */
static int window_search(search_t *search, const sieve_t *sieve, const mpz_t q0,
                         mpz_t p)
{
	mpz_t q, tmp;
	mpz_inits(q, tmp, NULL);
	int ret = SHOUP_ERANGE;
	for (uint32_t t = 0; t < SIEVE_WINDOW && ret == SHOUP_ERANGE; t++) {
		if (sieve->struck[t]) {
			continue;
		}
		mpz_add_ui(q, q0, 2 * (unsigned long)t);
		if (mpz_sizeinbase(q, 2) != search->qbits) {
			break;	/* The window ran past the top; take a new one. */
		}
		search->tested++;
		if (search->progress != NULL && search->tested % PROGRESS_EVERY == 0 &&
		    !search->progress(search->progress_ctx, search->prime_index,
		                      search->tested)) {
			ret = SHOUP_ECANCEL;
		} else if (candidate_test(q, p, tmp)) {
			ret = SHOUP_EOK;
		}
	}
	mpz_clears(q, tmp, NULL);
	return ret;
}

int shoup_safe_prime_generate(unsigned bits, unsigned prime_index,
                              shoup_random_fn rnd, void *rnd_ctx,
                              shoup_progress_fn progress, void *progress_ctx,
                              mpz_t p)
{
	if (bits < SAFE_PRIME_BITS_MIN || bits > SHOUP_BITS_MAX / 2 || rnd == NULL) {
		return SHOUP_EINVAL;
	}
	sieve_t sieve;
	int ret = sieve_init(&sieve);
	if (ret != SHOUP_EOK) {
		return ret;
	}
	search_t search = {
		.qbits = bits - 1, .prime_index = prime_index,
		.progress = progress, .progress_ctx = progress_ctx,
	};
	mpz_t q0, previous;
	mpz_inits(q0, previous, NULL);
	ret = SHOUP_ERANGE;
	for (unsigned w = 0; w < SIEVE_WINDOWS_MAX && ret == SHOUP_ERANGE; w++) {
		ret = window_start(q0, search.qbits, rnd, rnd_ctx);
		if (ret == SHOUP_EOK && w > 0 && mpz_cmp(q0, previous) == 0) {
			ret = SHOUP_ERANDOM;	/* the source repeats itself */
		}
		if (ret == SHOUP_EOK) {
			mpz_set(previous, q0);
			sieve_window(&sieve, q0);
			ret = window_search(&search, &sieve, q0, p);
		}
	}
	if (ret == SHOUP_ERANGE) {
		ret = SHOUP_ERANDOM;
	}
	/* A last report, so that a caller always hears of every prime; a
	 * cancel here still counts. */
	if (ret == SHOUP_EOK && progress != NULL &&
	    !progress(progress_ctx, prime_index, search.tested)) {
		ret = SHOUP_ECANCEL;
	}
	assert(ret != SHOUP_EOK || mpz_sizeinbase(p, 2) == bits);
	mpz_clears(q0, previous, NULL);
	sieve_clear(&sieve);
	return ret;
}

bool shoup_is_safe_prime(const mpz_t p)
{
	if (mpz_cmp_ui(p, 5) < 0 || mpz_even_p(p)) {
		return false;
	}
	mpz_t q;
	mpz_init(q);
	mpz_sub_ui(q, p, 1);
	mpz_fdiv_q_2exp(q, q, 1);
	bool safe = mpz_probab_prime_p(q, SAFE_PRIME_REPS) != 0 &&
	            mpz_probab_prime_p(p, SAFE_PRIME_REPS) != 0;
	mpz_clear(q);
	return safe;
}
