/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * gen-safe-primes BITS: prints two distinct safe primes p, q (hex) of BITS/2
 * bits each, found by the dealer's own search (shoup_safe_prime_generate),
 * for the test fixtures in tests/crypto/fixtures/. The search time goes to
 * stderr. These primes are test data only: they are public.
 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "coordinator/crypto/shoup.h"

static bool show_progress(void *ctx, unsigned prime_index, uint64_t candidates)
{
	(void)ctx;
	fprintf(stderr, "\rprime %u: %llu candidates tested", prime_index,
	        (unsigned long long)candidates);
	return true;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s BITS (modulus size: 1024..4096)\n", argv[0]);
		return 2;
	}
	unsigned bits = (unsigned)strtoul(argv[1], NULL, 10);
	mpz_t p[2];
	mpz_inits(p[0], p[1], NULL);
	double start = now_s();
	for (unsigned i = 0; i < 2; i++) {
		int ret = shoup_safe_prime_generate(bits / 2, i + 1, shoup_random_system,
		                                    NULL, show_progress, NULL, p[i]);
		if (ret != SHOUP_EOK) {
			fprintf(stderr, "\nerror: %s\n", shoup_strerror(ret));
			return 1;
		}
		if (i == 1 && mpz_cmp(p[0], p[1]) == 0) {
			i--;	/* p == q: search again (probability 2^-500) */
		}
	}
	fprintf(stderr, "\n%u-bit modulus: two safe primes in %.1f s\n", bits,
	        now_s() - start);
	gmp_printf("# Two %u-bit safe primes from shoup_safe_prime_generate "
	           "(tests/crypto/gen-safe-primes %u). Test data: public.\n"
	           "p %Zx\nq %Zx\n", bits / 2, bits, p[0], p[1]);
	mpz_clears(p[0], p[1], NULL);
	return 0;
}
