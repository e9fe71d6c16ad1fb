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
 * Strict parsing of the numbers in key files: decimal for small fields,
 * hexadecimal for big integers. The input comes from files, so nothing is
 * assumed about it: no sign, no prefix, no spaces, bounded length.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gmp.h>

/*!
 * Parses a decimal number without sign or leading zeros, at most max.
 * Returns false if text is not such a number.
 */
bool keys_parse_decimal(const char *text, uint64_t max, uint64_t *out);

/*!
 * Parses hexadecimal digits (either case, at least one, at most max_digits)
 * into out. Returns false if text is not such a number; out is then 0.
 */
bool keys_parse_hex(const char *text, size_t max_digits, mpz_t out);

/*! Lower-case hexadecimal digits that keys_parse_hex reads back (malloc'd). */
char *keys_format_hex(const mpz_t value);
