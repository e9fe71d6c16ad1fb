/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <pthread.h>

#include "coordinator/util/crc32c.h"

#define CRC32C_POLY	0x82f63b78u  /* Reflected Castagnoli polynomial. */

static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int bit = 0; bit < 8; bit++) {
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		}
		crc32c_table[i] = c;
	}
}

uint32_t bftdns_crc32c(uint32_t crc, const void *data, size_t len)
{
	(void)pthread_once(&crc32c_once, crc32c_init);
	const uint8_t *p = data;
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc = crc32c_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	}
	return ~crc;
}
