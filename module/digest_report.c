/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <string.h>

#include "module/digest_report.h"

void bftdns_digest_report_write(uint8_t *out, uint64_t batch,
                                const uint8_t digest[BFTDNS_DIGEST_SIZE])
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)batch;
		batch >>= 8;
	}
	memcpy(out + 8, digest, BFTDNS_DIGEST_SIZE);
}

bool bftdns_digest_report_read(const uint8_t *in, size_t len, uint64_t *batch,
                               uint8_t digest[BFTDNS_DIGEST_SIZE])
{
	if (in == NULL || len != BFTDNS_DIGEST_REPORT_SIZE) {
		return false;
	}
	uint64_t value = 0;
	for (int i = 0; i < 8; i++) {
		value = value << 8 | in[i];
	}
	/* Batches are numbered from 1: a report of batch 0 names no state. */
	if (value == 0) {
		return false;
	}
	*batch = value;
	memcpy(digest, in + 8, BFTDNS_DIGEST_SIZE);
	return true;
}
