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
 * The DNS form of an RSA zone key: DNSKEY rdata (RFC 4034 section 2 with the
 * RSA public key of RFC 3110 section 2), its key tag (RFC 4034 appendix B)
 * and its DS record with a SHA-256 digest (RFC 4509), as bytes and as
 * zone-file lines.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>
#include <gmp.h>

#include "coordinator/keys/error.h"

/*! DNSKEY flags of a zone key with the SEP bit: what bftdns publishes. */
#define KEYS_DNSKEY_FLAGS_KSK	257
/*! DNSKEY protocol field, always 3 (RFC 4034 section 2.1.2). */
#define KEYS_DNSKEY_PROTOCOL	3
/*! DS digest type SHA-256 (RFC 4509). */
#define KEYS_DS_DIGEST_SHA256	2
#define KEYS_DS_SHA256_SIZE	32

/*! Largest RSA exponent and modulus in bytes that RFC 3110 keys carry here. */
#define KEYS_RSA_BYTES_MAX	512
/*! Largest DNSKEY rdata: flags, protocol, algorithm, 3-byte exponent length. */
#define KEYS_DNSKEY_RDATA_MAX	(4 + 3 + 2 * KEYS_RSA_BYTES_MAX)

/*!
 * Writes DNSKEY rdata for the RSA key (modulus, exponent) into out
 * (capacity out_size), *len gets its length. The exponent length is one
 * byte if it fits (1..255), else a zero byte and two bytes (RFC 3110).
 */
int keys_dnskey_rdata(const mpz_t modulus, const mpz_t exponent, uint16_t flags,
                      uint8_t algorithm, uint8_t *out, size_t out_size, size_t *len);

/*! Key tag of DNSKEY rdata (RFC 4034 appendix B; not for algorithm 1). */
uint16_t keys_key_tag(const uint8_t *rdata, size_t len);

/*!
 * SHA-256 DS digest: SHA-256(owner name in canonical wire form | rdata).
 * owner is a text name (normalised or not).
 */
int keys_ds_sha256(const char *owner, const uint8_t *rdata, size_t len,
                   uint8_t digest[KEYS_DS_SHA256_SIZE], keys_err_t *err);

/*!
 * Zone-file lines, NUL-terminated in out[out_size]:
 *   "<owner> <ttl> IN DNSKEY <flags> 3 <alg> <base64 public key>\n"
 *   "<owner> <ttl> IN DS <key tag> <alg> 2 <HEX digest>\n"
 */
int keys_dnskey_line(const char *owner, uint32_t ttl, const uint8_t *rdata, size_t len,
                     char *out, size_t out_size, keys_err_t *err);
int keys_ds_line(const char *owner, uint32_t ttl, const uint8_t *rdata, size_t len,
                 char *out, size_t out_size, keys_err_t *err);

/*! Room for either line of the largest key. */
#define KEYS_RR_LINE_MAX	(KEYS_DNSKEY_RDATA_MAX * 2 + 512)
