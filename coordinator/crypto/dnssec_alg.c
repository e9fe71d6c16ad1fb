/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* DNSSEC RSA algorithms: digests by nettle, EMSA-PKCS1-v1_5 encodings by
 * hogweed, so that a threshold signature of x is a plain RSASHA* signature. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <nettle/pkcs1.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/crypto/shoup.h"

static const bftdns_alg_t algorithms[] = {
	{ BFTDNS_ALG_RSASHA1,            "rsasha1",            "RSASHA1",            SHA1_DIGEST_SIZE },
	{ BFTDNS_ALG_RSASHA1_NSEC3_SHA1, "rsasha1-nsec3-sha1", "RSASHA1-NSEC3-SHA1", SHA1_DIGEST_SIZE },
	{ BFTDNS_ALG_RSASHA256,          "rsasha256",          "RSASHA256",          SHA256_DIGEST_SIZE },
	{ BFTDNS_ALG_RSASHA512,          "rsasha512",          "RSASHA512",          SHA512_DIGEST_SIZE },
};

#define ALGORITHM_COUNT	(sizeof(algorithms) / sizeof(algorithms[0]))

const bftdns_alg_t *bftdns_alg_by_number(unsigned number)
{
	for (size_t i = 0; i < ALGORITHM_COUNT; i++) {
		if (algorithms[i].number == number) {
			return &algorithms[i];
		}
	}
	return NULL;
}

/* Our own table entry for alg's number (the caller's struct may be a copy,
 * its digest_size is not trusted), or NULL. */
static const bftdns_alg_t *alg_known(const bftdns_alg_t *alg)
{
	return alg != NULL ? bftdns_alg_by_number(alg->number) : NULL;
}

/* A decimal number 0..255 with nothing around it. */
static bool parse_number(const char *name, unsigned *out)
{
	if (name[0] < '0' || name[0] > '9') {
		return false;
	}
	errno = 0;
	char *end = NULL;
	unsigned long v = strtoul(name, &end, 10);
	if (errno != 0 || *end != '\0' || v > 255) {
		return false;
	}
	*out = (unsigned)v;
	return true;
}

const bftdns_alg_t *bftdns_alg_by_name(const char *name)
{
	if (name == NULL) {
		return NULL;
	}
	unsigned number;
	if (parse_number(name, &number)) {
		return bftdns_alg_by_number(number);
	}
	for (size_t i = 0; i < ALGORITHM_COUNT; i++) {
		/* The name and the mnemonic differ only in case. */
		if (strcasecmp(name, algorithms[i].name) == 0) {
			return &algorithms[i];
		}
	}
	return NULL;
}

int bftdns_alg_digest(const bftdns_alg_t *alg, const uint8_t *data, size_t len,
                      uint8_t *digest)
{
	alg = alg_known(alg);
	if (alg == NULL || digest == NULL || (data == NULL && len > 0)) {
		return SHOUP_EINVAL;
	}
	const uint8_t *bytes = data != NULL ? data : (const uint8_t *)"";
	switch (alg->digest_size) {
	case SHA1_DIGEST_SIZE: {
		struct sha1_ctx ctx;
		sha1_init(&ctx);
		sha1_update(&ctx, len, bytes);
		sha1_digest(&ctx, SHA1_DIGEST_SIZE, digest);
		return SHOUP_EOK;
	}
	case SHA256_DIGEST_SIZE: {
		struct sha256_ctx ctx;
		sha256_init(&ctx);
		sha256_update(&ctx, len, bytes);
		sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
		return SHOUP_EOK;
	}
	case SHA512_DIGEST_SIZE: {
		struct sha512_ctx ctx;
		sha512_init(&ctx);
		sha512_update(&ctx, len, bytes);
		sha512_digest(&ctx, SHA512_DIGEST_SIZE, digest);
		return SHOUP_EOK;
	}
	}
	return SHOUP_EINVAL;
}

int bftdns_alg_encode_digest(const bftdns_alg_t *alg, const uint8_t *digest,
                             size_t modulus_bytes, mpz_t x)
{
	alg = alg_known(alg);
	if (alg == NULL || digest == NULL ||
	    modulus_bytes < SHOUP_BITS_MIN / 8 || modulus_bytes > SHOUP_BITS_MAX / 8) {
		return SHOUP_EINVAL;
	}
	int ok = 0;
	switch (alg->digest_size) {
	case SHA1_DIGEST_SIZE:
		ok = pkcs1_rsa_sha1_encode_digest(x, modulus_bytes, digest);
		break;
	case SHA256_DIGEST_SIZE:
		ok = pkcs1_rsa_sha256_encode_digest(x, modulus_bytes, digest);
		break;
	case SHA512_DIGEST_SIZE:
		ok = pkcs1_rsa_sha512_encode_digest(x, modulus_bytes, digest);
		break;
	}
	return ok ? SHOUP_EOK : SHOUP_EINVAL;
}

int bftdns_alg_encode(const bftdns_alg_t *alg, const uint8_t *data, size_t len,
                      size_t modulus_bytes, mpz_t x)
{
	uint8_t digest[SHA512_DIGEST_SIZE];
	int ret = bftdns_alg_digest(alg, data, len, digest);
	if (ret == SHOUP_EOK) {
		ret = bftdns_alg_encode_digest(alg, digest, modulus_bytes, x);
	}
	return ret;
}

int bftdns_alg_signature_bytes(const mpz_t sig, size_t modulus_bytes, uint8_t *out)
{
	if (out == NULL || mpz_sgn(sig) < 0) {
		return SHOUP_EINVAL;
	}
	size_t need = (mpz_sizeinbase(sig, 2) + 7) / 8;
	if (mpz_sgn(sig) != 0 && need > modulus_bytes) {
		return SHOUP_ERANGE;
	}
	memset(out, 0, modulus_bytes);
	if (mpz_sgn(sig) != 0) {
		size_t written = 0;
		mpz_export(out + modulus_bytes - need, &written, 1, 1, 1, 0, sig);
	}
	return SHOUP_EOK;
}
