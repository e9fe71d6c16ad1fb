/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <nettle/base64.h>
#include <nettle/sha2.h>

#include "coordinator/keys/dname.h"
#include "coordinator/keys/dnskey.h"

/* Big-endian bytes of a positive integer, no leading zeros. */
static size_t dnskey_export(const mpz_t value, uint8_t *out)
{
	size_t count = 0;
	mpz_export(out, &count, 1, 1, 1, 0, value);
	return count;
}

int keys_dnskey_rdata(const mpz_t modulus, const mpz_t exponent, uint16_t flags,
                      uint8_t algorithm, uint8_t *out, size_t out_size, size_t *len)
{
	if (mpz_sgn(modulus) <= 0 || mpz_sgn(exponent) <= 0) {
		return KEYS_EINVAL;
	}
	size_t e_len = (mpz_sizeinbase(exponent, 2) + 7) / 8;
	size_t n_len = (mpz_sizeinbase(modulus, 2) + 7) / 8;
	if (e_len > KEYS_RSA_BYTES_MAX || n_len > KEYS_RSA_BYTES_MAX) {
		return KEYS_EINVAL;
	}
	size_t e_prefix = e_len <= 255 ? 1 : 3;
	size_t total = 4 + e_prefix + e_len + n_len;
	if (total > out_size) {
		return KEYS_EINVAL;
	}

	size_t pos = 0;
	out[pos++] = (uint8_t)(flags >> 8);
	out[pos++] = (uint8_t)flags;
	out[pos++] = KEYS_DNSKEY_PROTOCOL;
	out[pos++] = algorithm;
	if (e_prefix == 1) {
		out[pos++] = (uint8_t)e_len;
	} else {
		out[pos++] = 0;
		out[pos++] = (uint8_t)(e_len >> 8);
		out[pos++] = (uint8_t)e_len;
	}
	pos += dnskey_export(exponent, out + pos);
	pos += dnskey_export(modulus, out + pos);
	assert(pos == total);
	*len = total;
	return KEYS_EOK;
}

uint16_t keys_key_tag(const uint8_t *rdata, size_t len)
{
	uint32_t acc = 0;
	for (size_t i = 0; i < len; i++) {
		acc += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	}
	acc += (acc >> 16) & 0xFFFF;
	return (uint16_t)(acc & 0xFFFF);
}

int keys_ds_sha256(const char *owner, const uint8_t *rdata, size_t len,
                   uint8_t digest[KEYS_DS_SHA256_SIZE], keys_err_t *err)
{
	uint8_t wire[KEYS_DNAME_WIRE_MAX];
	size_t wire_len = 0;
	int ret = keys_dname_to_wire(owner, wire, &wire_len, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, wire_len, wire);
	sha256_update(&ctx, len, rdata);
	sha256_digest(&ctx, KEYS_DS_SHA256_SIZE, digest);
	return KEYS_EOK;
}

/* Public key field of DNSKEY rdata (after flags, protocol, algorithm). */
#define DNSKEY_KEY_OFFSET	4

int keys_dnskey_line(const char *owner, uint32_t ttl, const uint8_t *rdata, size_t len,
                     char *out, size_t out_size, keys_err_t *err)
{
	if (len <= DNSKEY_KEY_OFFSET || len > KEYS_DNSKEY_RDATA_MAX) {
		return keys_err_set(err, KEYS_EINVAL, "DNSKEY rdata of %zu bytes is not a key", len);
	}
	char normal[KEYS_DNAME_TEXT_MAX];
	int ret = keys_dname_normalize(owner, normal, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	char b64[BASE64_ENCODE_RAW_LENGTH(KEYS_DNSKEY_RDATA_MAX) + 1];
	size_t key_len = len - DNSKEY_KEY_OFFSET;
	base64_encode_raw(b64, key_len, rdata + DNSKEY_KEY_OFFSET);
	b64[BASE64_ENCODE_RAW_LENGTH(key_len)] = '\0';

	unsigned flags = (unsigned)rdata[0] << 8 | rdata[1];
	int written = snprintf(out, out_size, "%s %" PRIu32 " IN DNSKEY %u %u %u %s\n",
	                       normal, ttl, flags, rdata[2], rdata[3], b64);
	if (written < 0 || (size_t)written >= out_size) {
		return keys_err_set(err, KEYS_EINVAL, "no room for the DNSKEY line");
	}
	return KEYS_EOK;
}

int keys_ds_line(const char *owner, uint32_t ttl, const uint8_t *rdata, size_t len,
                 char *out, size_t out_size, keys_err_t *err)
{
	if (len <= DNSKEY_KEY_OFFSET || len > KEYS_DNSKEY_RDATA_MAX) {
		return keys_err_set(err, KEYS_EINVAL, "DNSKEY rdata of %zu bytes is not a key", len);
	}
	char normal[KEYS_DNAME_TEXT_MAX];
	uint8_t digest[KEYS_DS_SHA256_SIZE];
	int ret = keys_dname_normalize(owner, normal, err);
	if (ret == KEYS_EOK) {
		ret = keys_ds_sha256(normal, rdata, len, digest, err);
	}
	if (ret != KEYS_EOK) {
		return ret;
	}
	char hex[2 * KEYS_DS_SHA256_SIZE + 1];
	for (size_t i = 0; i < KEYS_DS_SHA256_SIZE; i++) {
		snprintf(hex + 2 * i, 3, "%02X", digest[i]);
	}
	int written = snprintf(out, out_size, "%s %" PRIu32 " IN DS %u %u %u %s\n",
	                       normal, ttl, keys_key_tag(rdata, len), rdata[3],
	                       KEYS_DS_DIGEST_SHA256, hex);
	if (written < 0 || (size_t)written >= out_size) {
		return keys_err_set(err, KEYS_EINVAL, "no room for the DS line");
	}
	return KEYS_EOK;
}
