/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* The system random source, for the dealer and the tests only: protocol
 * cores take randomness as an input. */

#include <errno.h>
#include <sys/random.h>

#include "coordinator/crypto/shoup.h"

/* getrandom(2) returns at most 32 MiB per call and may be interrupted by a
 * signal; bound the retries so that a broken kernel cannot spin us forever. */
#define RANDOM_CALLS_MAX	1024

int shoup_random_system(void *ctx, uint8_t *out, size_t len)
{
	(void)ctx;
	size_t done = 0;
	for (unsigned call = 0; done < len && call < RANDOM_CALLS_MAX; call++) {
		ssize_t got = getrandom(out + done, len - done, 0);
		if (got < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -1;
		}
		done += (size_t)got;
	}
	return done == len ? 0 : -1;
}
