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
 * Checks for the C unit and integration tests: a failed CHECK prints where
 * and why and counts; main returns check_result(). Exit 77 is meson's
 * "skipped". CHECK_ERR also checks that an error message says what it
 * should, so that "rejected for the wrong reason" fails.
 */

#pragma once

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond) do { \
	check_count++; \
	if (!(cond)) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
	check_count++; \
	if (check_a_ != check_b_) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
		        __FILE__, __LINE__, #a, #b, check_a_, check_b_); \
	} \
} while (0)

/* ret must be code and message must contain want. */
#define CHECK_ERR(ret, code, message, want) do { \
	int check_r_ = (ret); \
	check_count++; \
	if (check_r_ != (code) || strstr((message), (want)) == NULL) { \
		check_failures++; \
		fprintf(stderr, "%s:%d: CHECK failed: want %d '%s', got %d '%s'\n", \
		        __FILE__, __LINE__, (int)(code), (want), check_r_, (message)); \
	} \
} while (0)

static inline int check_result(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures == 0 ? 0 : 1;
}
