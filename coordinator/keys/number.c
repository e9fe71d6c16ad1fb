/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <string.h>

#include "coordinator/keys/number.h"

/* More digits than any uint64_t has; longer input is rejected early. */
#define DECIMAL_DIGITS_MAX	19

bool keys_parse_decimal(const char *text, uint64_t max, uint64_t *out)
{
	size_t len = strlen(text);
	if (len == 0 || len > DECIMAL_DIGITS_MAX || (len > 1 && text[0] == '0')) {
		return false;
	}
	uint64_t value = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9') {
			return false;
		}
		value = value * 10 + (uint64_t)(text[i] - '0');
	}
	if (value > max) {
		return false;
	}
	*out = value;
	return true;
}

bool keys_parse_hex(const char *text, size_t max_digits, mpz_t out)
{
	mpz_set_ui(out, 0);
	size_t len = strlen(text);
	if (len == 0 || len > max_digits || strspn(text, "0123456789abcdefABCDEF") != len) {
		return false;
	}
	/* Every character was checked above, so GMP cannot reject the text. */
	int ret = mpz_set_str(out, text, 16);
	assert(ret == 0);
	(void)ret;
	return true;
}

char *keys_format_hex(const mpz_t value)
{
	assert(mpz_sgn(value) >= 0);
	return mpz_get_str(NULL, 16, value);
}
