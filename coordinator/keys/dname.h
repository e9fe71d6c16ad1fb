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
 * Zone names as the key tools take them: text in, normalised text (lower
 * case, trailing dot) and canonical wire form (RFC 4034 section 6.2) out.
 *
 * Only host-name characters are accepted (letters, digits, '-' and '_'),
 * without zone-file escapes: a zone key's owner is a zone apex, and a strict
 * rule here keeps file names and zone-file output free of quoting problems.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include "coordinator/keys/error.h"

/*! Longest wire-form name (RFC 1035). */
#define KEYS_DNAME_WIRE_MAX	255
/*! Room for the longest normalised text name and its NUL. */
#define KEYS_DNAME_TEXT_MAX	256

/*!
 * Checks a zone name and writes its normalised text form (lower case, one
 * trailing dot; "." for the root) into out[KEYS_DNAME_TEXT_MAX].
 */
int keys_dname_normalize(const char *name, char *out, keys_err_t *err);

/*!
 * Canonical wire form of a name (any case, with or without the trailing
 * dot) into wire[KEYS_DNAME_WIRE_MAX]; *len gets its length.
 */
int keys_dname_to_wire(const char *name, uint8_t *wire, size_t *len, keys_err_t *err);
