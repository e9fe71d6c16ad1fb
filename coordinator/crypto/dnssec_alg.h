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
 * The DNSSEC RSA algorithms bftdns signs with, and the message encoding that
 * makes a threshold signature an ordinary RSASHA* signature (RFC 3110,
 * RFC 5702): x = EMSA-PKCS1-v1_5(digest) as an integer below N.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gmp.h>

/*! DNSSEC algorithm numbers (IANA). */
enum {
	BFTDNS_ALG_RSASHA1            = 5,
	BFTDNS_ALG_RSASHA1_NSEC3_SHA1 = 7,
	BFTDNS_ALG_RSASHA256          = 8,
	BFTDNS_ALG_RSASHA512          = 10,
};

typedef struct {
	uint8_t number;          /*!< DNSSEC algorithm number. */
	const char *name;        /*!< Lower-case name for options: "rsasha256". */
	const char *mnemonic;    /*!< IANA mnemonic for zone files: "RSASHA256". */
	size_t digest_size;      /*!< Bytes of the hash. */
} bftdns_alg_t;

/*! NULL if the number is not one of ours. */
const bftdns_alg_t *bftdns_alg_by_number(unsigned number);
/*! Accepts the name, the mnemonic (any case) or the number; NULL if unknown. */
const bftdns_alg_t *bftdns_alg_by_name(const char *name);

/*! Hashes data with the algorithm's hash into digest (digest_size bytes). */
int bftdns_alg_digest(const bftdns_alg_t *alg, const uint8_t *data, size_t len,
                      uint8_t *digest);

/*!
 * EMSA-PKCS1-v1_5 encoding of a digest for a modulus of modulus_bytes bytes:
 * 0x00 0x01 FF..FF 0x00 DigestInfo digest, as an integer. 0 or SHOUP_EINVAL.
 */
int bftdns_alg_encode_digest(const bftdns_alg_t *alg, const uint8_t *digest,
                             size_t modulus_bytes, mpz_t x);

/*! Digest then encode: the x that is threshold-signed for data. */
int bftdns_alg_encode(const bftdns_alg_t *alg, const uint8_t *data, size_t len,
                      size_t modulus_bytes, mpz_t x);

/*!
 * Writes sig as exactly modulus_bytes big-endian bytes (left-padded with
 * zeros), the RRSIG signature field. SHOUP_ERANGE if it does not fit.
 */
int bftdns_alg_signature_bytes(const mpz_t sig, size_t modulus_bytes, uint8_t *out);
