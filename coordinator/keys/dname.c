/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <string.h>

#include "coordinator/keys/dname.h"

#define LABEL_MAX	63

static int dname_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static char dname_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int keys_dname_to_wire(const char *name, uint8_t *wire, size_t *len, keys_err_t *err)
{
	if (name == NULL || wire == NULL || len == NULL) {
		return keys_err_set(err, KEYS_EINVAL, "no zone name given");
	}
	if (name[0] == '\0') {
		return keys_err_set(err, KEYS_EINVAL, "the zone name is empty");
	}

	size_t pos = 0;
	if (strcmp(name, ".") != 0) {
		const char *label = name;
		/* Each pass consumes one label and its dot; the length check
		 * below bounds the number of passes by the wire size. */
		while (*label != '\0') {
			size_t label_len = strcspn(label, ".");
			if (label_len == 0) {
				return keys_err_set(err, KEYS_EINVAL,
				                    "zone name '%.300s' has an empty label", name);
			}
			if (label_len > LABEL_MAX) {
				return keys_err_set(err, KEYS_EINVAL,
				                    "zone name '%.300s' has a label longer than %d characters",
				                    name, LABEL_MAX);
			}
			if (pos + 1 + label_len + 1 > KEYS_DNAME_WIRE_MAX) {
				return keys_err_set(err, KEYS_EINVAL,
				                    "zone name '%.300s' is longer than %d bytes in wire form",
				                    name, KEYS_DNAME_WIRE_MAX);
			}
			wire[pos++] = (uint8_t)label_len;
			for (size_t i = 0; i < label_len; i++) {
				if (!dname_char_ok(label[i])) {
					return keys_err_set(err, KEYS_EINVAL,
					                    "zone name '%.300s' may contain only letters, digits, '-' and '_' "
					                    "(and dots between labels)", name);
				}
				wire[pos++] = (uint8_t)dname_lower(label[i]);
			}
			label += label_len;
			if (*label == '.') {
				label++;
			}
		}
	}
	assert(pos + 1 <= KEYS_DNAME_WIRE_MAX);
	wire[pos++] = 0;
	*len = pos;
	return KEYS_EOK;
}

int keys_dname_normalize(const char *name, char *out, keys_err_t *err)
{
	uint8_t wire[KEYS_DNAME_WIRE_MAX];
	size_t wire_len = 0;
	int ret = keys_dname_to_wire(name, wire, &wire_len, err);
	if (ret != KEYS_EOK) {
		return ret;
	}

	/* Rebuilt from the wire form, so the text is canonical by construction. */
	size_t pos = 0;
	size_t i = 0;
	while (wire[i] != 0) {
		size_t label_len = wire[i++];
		memcpy(out + pos, wire + i, label_len);
		pos += label_len;
		i += label_len;
		out[pos++] = '.';
	}
	if (pos == 0) {
		out[pos++] = '.';
	}
	assert(pos < KEYS_DNAME_TEXT_MAX);
	out[pos] = '\0';
	return KEYS_EOK;
}
