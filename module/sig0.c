/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libdnssec/binary.h>
#include <libdnssec/error.h>
#include <libdnssec/key.h>
#include <libdnssec/keytag.h>
#include <libdnssec/sign.h>
#include <libknot/libknot.h>

#include "module/sig0.h"

#define SIG0_HEADER_LEN		12
#define SIG0_RR_FIXED_LEN	10	/* type, class, TTL, RDLENGTH */
#define SIG0_RDATA_FIXED_LEN	18	/* covered .. key tag, before the signer */
#define SIG0_KEY_PROTOCOL	3	/* RFC 2535 3.1.3: DNSSEC */
#define SIG0_KEY_NOKEY		0xC000	/* RFC 2535 3.1.2: A/C = 11, no key */
#define SIG0_TEXT_MAX		4096	/* a 4096-bit RSA key is about 700 bytes */
#define SIG0_TOKENS_MAX		64
#define SIG0_RDATA_MAX		(4 + SIG0_TEXT_MAX * 3 / 4)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*!
 * Skips a name at *pos: labels, optionally ending in a compression pointer
 * (not followed: only its length matters here). Extended label types and
 * names over 255 bytes are refused. With plain, a pointer is refused too.
 */
static int sig0_skip_name(const uint8_t *wire, size_t len, size_t *pos, bool plain)
{
	size_t p = *pos, name_len = 0;
	while (true) {
		if (p >= len) {
			return KNOT_EMALF;
		}
		uint8_t l = wire[p];
		if ((l & 0xC0) == 0xC0) {
			if (plain || p + 2 > len) {
				return KNOT_EMALF;
			}
			*pos = p + 2;
			return KNOT_EOK;
		} else if ((l & 0xC0) != 0) {
			return KNOT_EMALF;
		}
		name_len += l + 1;
		if (name_len > BFTDNS_SIG0_NAME_MAX || p + 1 + l > len) {
			return KNOT_EMALF;
		}
		p += 1 + l;
		if (l == 0) {
			*pos = p;
			return KNOT_EOK;
		}
	}
}

int bftdns_sig0_last_record(const uint8_t *wire, size_t len, bftdns_sig0_rr_t *rr)
{
	if (wire == NULL || rr == NULL || len < SIG0_HEADER_LEN || len > UINT16_MAX) {
		return KNOT_EMALF;
	}

	size_t questions = rd16(wire + 4);
	size_t records = (size_t)rd16(wire + 6) + rd16(wire + 8) + rd16(wire + 10);
	if (records == 0) {
		return KNOT_EMALF;
	}

	size_t pos = SIG0_HEADER_LEN;
	for (size_t i = 0; i < questions; i++) {
		if (sig0_skip_name(wire, len, &pos, false) != KNOT_EOK || len - pos < 4) {
			return KNOT_EMALF;
		}
		pos += 4;
	}
	/* Bounded by the counts (at most 3 * 65535 records) and by len. */
	for (size_t i = 0; i < records; i++) {
		size_t start = pos;
		if (sig0_skip_name(wire, len, &pos, false) != KNOT_EOK ||
		    len - pos < SIG0_RR_FIXED_LEN) {
			return KNOT_EMALF;
		}
		uint16_t type = rd16(wire + pos);
		size_t rdata_len = rd16(wire + pos + 8);
		pos += SIG0_RR_FIXED_LEN;
		if (len - pos < rdata_len) {
			return KNOT_EMALF;
		}
		rr->type = type;
		rr->start = start;
		rr->rdata = pos;
		rr->rdata_len = rdata_len;
		pos += rdata_len;
	}
	if (pos != len) {
		return KNOT_EMALF;  /* Trailing bytes: nothing would sign them. */
	}
	rr->additional = rd16(wire + 10);

	return KNOT_EOK;
}

/*! The DNSSEC algorithms a SIG(0) key may use. */
static const knot_lookup_t sig0_algorithms[] = {
	{ DNSSEC_KEY_ALGORITHM_RSA_SHA256,      "RSASHA256" },
	{ DNSSEC_KEY_ALGORITHM_ECDSA_P256_SHA256, "ECDSAP256SHA256" },
	{ DNSSEC_KEY_ALGORITHM_ED25519,         "ED25519" },
	{ 0, NULL }
};

/*! A decimal number of at most max, the whole token. */
static bool sig0_number(const char *token, unsigned long max, unsigned long *value)
{
	if (token == NULL || !isdigit((unsigned char)token[0])) {
		return false;
	}
	char *end = NULL;
	*value = strtoul(token, &end, 10);
	return *end == '\0' && *value <= max && strlen(token) <= 10;
}

static int sig0_algorithm(const char *token, uint8_t *algorithm)
{
	unsigned long number;
	for (const knot_lookup_t *a = sig0_algorithms; token != NULL && a->name != NULL; a++) {
		if (strcasecmp(token, a->name) == 0 ||
		    (sig0_number(token, 255, &number) && number == (unsigned long)a->id)) {
			*algorithm = a->id;
			return KNOT_EOK;
		}
	}
	return KNOT_EINVAL;
}

/*!
 * Imports the KEY RDATA's public key through libdnssec, which checks it.
 * libdnssec takes DNSKEY RDATA with the Zone Key flag only, which a KEY of
 * a host or user does not have; the flags play no part in verifying, so
 * the copy given to libdnssec says "zone key" (the key tag is computed on
 * the real RDATA elsewhere).
 */
static int sig0_key_import(const uint8_t *rdata, size_t rdata_len, dnssec_key_t **key)
{
	uint8_t copy[SIG0_RDATA_MAX];
	if (rdata_len < 4 || rdata_len > sizeof(copy)) {
		return KNOT_EINVAL;
	}
	memcpy(copy, rdata, rdata_len);
	copy[0] = 0x01;  /* Flags 256: Zone Key (RFC 4034 2.1.1). */
	copy[1] = 0x00;
	dnssec_binary_t bin = { .data = copy, .size = rdata_len };
	int ret = dnssec_key_new(key);
	if (ret != DNSSEC_EOK) {
		return KNOT_ENOMEM;
	}
	ret = dnssec_key_set_rdata(*key, &bin);
	if (ret != DNSSEC_EOK) {
		dnssec_key_free(*key);
		*key = NULL;
		return (ret == DNSSEC_ENOMEM) ? KNOT_ENOMEM : KNOT_EINVAL;
	}
	return KNOT_EOK;
}

/*! Fills key from the tokens after the name; text tokens in a copy. */
static int sig0_key_fields(char **tok, size_t count, bftdns_sig0_key_t *key,
                           const char **err)
{
	size_t i = 0;
	unsigned long number;
	if (i < count && sig0_number(tok[i], UINT32_MAX, &number)) {
		i++;  /* TTL, meaningless here */
	}
	if (i < count && strcasecmp(tok[i], "IN") == 0) {
		i++;
	}
	if (i >= count || (strcasecmp(tok[i], "KEY") != 0 && strcasecmp(tok[i], "DNSKEY") != 0)) {
		*err = "update-key must be a KEY record: 'NAME KEY FLAGS 3 ALGORITHM BASE64' "
		       "(the .key file of dnssec-keygen -T KEY)";
		return KNOT_EINVAL;
	}
	i++;

	unsigned long flags, protocol;
	if (count - i < 4 || !sig0_number(tok[i], UINT16_MAX, &flags) ||
	    !sig0_number(tok[i + 1], 255, &protocol)) {
		*err = "update-key must be 'NAME KEY FLAGS 3 ALGORITHM BASE64'";
		return KNOT_EINVAL;
	}
	if (protocol != SIG0_KEY_PROTOCOL || (flags & SIG0_KEY_NOKEY) == SIG0_KEY_NOKEY) {
		*err = "update-key must have protocol 3 and hold a key (flags not 'no key')";
		return KNOT_EINVAL;
	}
	if (sig0_algorithm(tok[i + 2], &key->algorithm) != KNOT_EOK) {
		*err = "update-key algorithm must be RSASHA256 (8), ECDSAP256SHA256 (13) "
		       "or ED25519 (15)";
		return KNOT_EINVAL;
	}
	i += 3;

	/* The key may be split by blanks, as dnssec-keygen writes it. */
	char b64[SIG0_TEXT_MAX];
	size_t b64_len = 0;
	for (; i < count; i++) {
		size_t l = strlen(tok[i]);
		if (l >= sizeof(b64) - b64_len) {
			*err = "update-key is too long";
			return KNOT_EINVAL;
		}
		memcpy(b64 + b64_len, tok[i], l);
		b64_len += l;
	}
	dnssec_binary_t text = { .data = (uint8_t *)b64, .size = b64_len };
	dnssec_binary_t pub = { 0 };
	if (dnssec_binary_from_base64(&text, &pub) != DNSSEC_EOK || pub.size == 0) {
		dnssec_binary_free(&pub);
		*err = "update-key public key must be base64";
		return KNOT_EINVAL;
	}

	key->rdata_len = 4 + pub.size;
	key->rdata = malloc(key->rdata_len);
	if (key->rdata == NULL) {
		dnssec_binary_free(&pub);
		return KNOT_ENOMEM;
	}
	key->rdata[0] = flags >> 8;
	key->rdata[1] = flags & 0xFF;
	key->rdata[2] = protocol;
	key->rdata[3] = key->algorithm;
	memcpy(key->rdata + 4, pub.data, pub.size);
	dnssec_binary_free(&pub);

	dnssec_key_t *check = NULL;
	int ret = sig0_key_import(key->rdata, key->rdata_len, &check);
	dnssec_key_free(check);
	if (ret != KNOT_EOK) {
		*err = "update-key public key is not a valid key of its algorithm";
		return ret;
	}
	dnssec_binary_t rdata = { .data = key->rdata, .size = key->rdata_len };
	if (dnssec_keytag(&rdata, &key->keytag) != DNSSEC_EOK) {
		*err = "update-key key tag cannot be computed";
		return KNOT_EINVAL;
	}

	return KNOT_EOK;
}

int bftdns_sig0_key_parse(const char *text, bftdns_sig0_key_t *key, const char **err)
{
	static const char *dummy;
	err = (err != NULL) ? err : &dummy;
	if (text == NULL || key == NULL) {
		return KNOT_EINVAL;
	}
	memset(key, 0, sizeof(*key));
	if (strlen(text) >= SIG0_TEXT_MAX) {
		*err = "update-key is too long";
		return KNOT_EINVAL;
	}

	char copy[SIG0_TEXT_MAX];
	strcpy(copy, text);
	char *tok[SIG0_TOKENS_MAX];
	size_t count = 0;
	for (char *save = NULL, *t = strtok_r(copy, " \t\r\n", &save); t != NULL;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (count == SIG0_TOKENS_MAX) {
			*err = "update-key has too many words";
			return KNOT_EINVAL;
		}
		tok[count++] = t;
	}
	if (count == 0) {
		*err = "update-key must be 'NAME KEY FLAGS 3 ALGORITHM BASE64'";
		return KNOT_EINVAL;
	}

	if (knot_dname_from_str(key->name, tok[0], sizeof(key->name)) == NULL) {
		*err = "update-key name is not a domain name";
		return KNOT_EINVAL;
	}
	knot_dname_to_lower(key->name);
	key->name_len = knot_dname_size(key->name);

	int ret = sig0_key_fields(tok + 1, count - 1, key, err);
	if (ret != KNOT_EOK) {
		bftdns_sig0_key_clear(key);
	}
	return ret;
}

bool bftdns_sig0_key_equal(const bftdns_sig0_key_t *a, const bftdns_sig0_key_t *b)
{
	return a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0 &&
	       a->rdata_len == b->rdata_len && memcmp(a->rdata, b->rdata, a->rdata_len) == 0;
}

void bftdns_sig0_key_clear(bftdns_sig0_key_t *key)
{
	if (key != NULL) {
		free(key->rdata);
		memset(key, 0, sizeof(*key));
	}
}

void bftdns_sig0_keys_clear(bftdns_sig0_keys_t *keys)
{
	if (keys == NULL) {
		return;
	}
	for (size_t i = 0; i < keys->count; i++) {
		bftdns_sig0_key_clear(&keys->keys[i]);
	}
	free(keys->keys);
	memset(keys, 0, sizeof(*keys));
}

/*! RFC 1982 a < b for 32-bit serials; b - a = 2^31 is undefined: not less. */
static bool serial_lt(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(b - a) < UINT32_C(0x80000000);
}

/*! The fields of a SIG(0) RDATA, checked for form. */
typedef struct {
	uint8_t algorithm;
	uint32_t expiration;
	uint32_t inception;
	uint16_t keytag;
	uint8_t signer[BFTDNS_SIG0_NAME_MAX];
	size_t signed_len;       /*!< RDATA bytes before the signature. */
	const uint8_t *signature;
	size_t signature_len;
} sig0_rdata_t;

static bftdns_sig0_result_t sig0_parse(const uint8_t *wire, size_t len,
                                       const bftdns_sig0_rr_t *rr, sig0_rdata_t *sig,
                                       const char **reason)
{
	const uint8_t *owner = wire + rr->start;
	const uint8_t *rdata = wire + rr->rdata;
	/* The owner is root itself, not a pointer to it (RFC 2931 3). */
	if (owner[0] != 0 || rr->rdata - rr->start != 1 + SIG0_RR_FIXED_LEN) {
		*reason = "SIG owner is not the root";
		return BFTDNS_SIG0_MALFORMED;
	}
	if (knot_wire_get_qr(wire)) {
		*reason = "SIG(0) on a response";
		return BFTDNS_SIG0_MALFORMED;
	}
	if (rd16(owner + 3) != KNOT_CLASS_ANY || rd32(owner + 5) != 0) {
		*reason = "SIG(0) class is not ANY or TTL is not 0";
		return BFTDNS_SIG0_MALFORMED;
	}
	if (rr->rdata_len < SIG0_RDATA_FIXED_LEN + 1) {
		*reason = "SIG(0) RDATA truncated";
		return BFTDNS_SIG0_MALFORMED;
	}
	if (rd16(rdata) != 0 || rdata[3] != 0 || rd32(rdata + 4) != 0) {
		*reason = "SIG(0) type covered, labels or original TTL is not 0";
		return BFTDNS_SIG0_MALFORMED;
	}
	sig->algorithm = rdata[2];
	sig->expiration = rd32(rdata + 8);
	sig->inception = rd32(rdata + 12);
	sig->keytag = rd16(rdata + 16);

	/* The signer name may not be compressed (RFC 3597 4); it is signed as sent. */
	size_t pos = SIG0_RDATA_FIXED_LEN;
	if (sig0_skip_name(rdata, rr->rdata_len, &pos, true) != KNOT_EOK) {
		*reason = "SIG(0) signer name malformed or compressed";
		return BFTDNS_SIG0_MALFORMED;
	}
	size_t name_len = pos - SIG0_RDATA_FIXED_LEN;
	memcpy(sig->signer, rdata + SIG0_RDATA_FIXED_LEN, name_len);
	knot_dname_to_lower(sig->signer);
	sig->signed_len = pos;
	sig->signature = rdata + pos;
	sig->signature_len = rr->rdata_len - pos;
	if (sig->signature_len == 0) {
		*reason = "SIG(0) without signature";
		return BFTDNS_SIG0_MALFORMED;
	}
	(void)len;
	return BFTDNS_SIG0_OK;
}

/*! Verifies the signature with one key: the RDATA before the signature,
 *  the header with ARCOUNT - 1, the message up to the SIG record. */
static bftdns_sig0_result_t sig0_check(const bftdns_sig0_key_t *key, const uint8_t *wire,
                                       const bftdns_sig0_rr_t *rr, const sig0_rdata_t *sig)
{
	dnssec_key_t *dkey = NULL;
	dnssec_sign_ctx_t *ctx = NULL;
	/* A fresh key object per check: GnuTLS objects are not documented as
	 * safe to share between threads (intake workers, the apply thread). */
	int ret = sig0_key_import(key->rdata, key->rdata_len, &dkey);
	if (ret != KNOT_EOK || dnssec_sign_new(&ctx, dkey) != DNSSEC_EOK) {
		dnssec_key_free(dkey);
		return BFTDNS_SIG0_ERROR;
	}

	uint8_t header[SIG0_HEADER_LEN];
	memcpy(header, wire, sizeof(header));
	knot_wire_set_arcount(header, rr->additional - 1);
	dnssec_binary_t parts[] = {
		{ .data = (uint8_t *)wire + rr->rdata, .size = sig->signed_len },
		{ .data = header, .size = sizeof(header) },
		{ .data = (uint8_t *)wire + SIG0_HEADER_LEN, .size = rr->start - SIG0_HEADER_LEN },
	};
	bftdns_sig0_result_t result = BFTDNS_SIG0_OK;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (parts[i].size > 0 && dnssec_sign_add(ctx, &parts[i]) != DNSSEC_EOK) {
			result = BFTDNS_SIG0_ERROR;
		}
	}
	if (result == BFTDNS_SIG0_OK) {
		dnssec_binary_t signature = { .data = (uint8_t *)sig->signature,
		                              .size = sig->signature_len };
		ret = dnssec_sign_verify(ctx, false, &signature);
		if (ret != DNSSEC_EOK) {
			/* A signature of the wrong size is as bad as a wrong one. */
			result = (ret == DNSSEC_ENOMEM) ? BFTDNS_SIG0_ERROR : BFTDNS_SIG0_BADSIG;
		}
	}
	dnssec_sign_free(ctx);
	dnssec_key_free(dkey);
	return result;
}

bftdns_sig0_result_t bftdns_sig0_verify(const bftdns_sig0_keys_t *keys,
                                        const uint8_t *wire, size_t len, uint64_t now,
                                        const bftdns_sig0_key_t **signer,
                                        const char **reason)
{
	static const char *dummy;
	reason = (reason != NULL) ? reason : &dummy;
	*reason = "";

	bftdns_sig0_rr_t rr;
	if (bftdns_sig0_last_record(wire, len, &rr) != KNOT_EOK ||
	    rr.type != KNOT_RRTYPE_SIG || rr.additional == 0) {
		*reason = "no SIG(0) record";
		return BFTDNS_SIG0_NONE;
	}

	sig0_rdata_t sig;
	bftdns_sig0_result_t result = sig0_parse(wire, len, &rr, &sig, reason);
	if (result != BFTDNS_SIG0_OK) {
		return result;
	}

	/* Cheap checks before any public-key operation. */
	uint32_t t = (uint32_t)now;
	uint32_t window = sig.expiration - sig.inception;
	if (serial_lt(sig.expiration, sig.inception) || window > BFTDNS_SIG0_WINDOW_MAX) {
		*reason = "SIG(0) validity longer than 600 s or negative";
		return BFTDNS_SIG0_BADTIME;
	}
	if (serial_lt(t, sig.inception)) {
		*reason = "SIG(0) not yet valid";
		return BFTDNS_SIG0_BADTIME;
	}
	if (serial_lt(sig.expiration, t)) {
		*reason = "SIG(0) expired";
		return BFTDNS_SIG0_BADTIME;
	}

	/* Every configured key of that name, algorithm and tag (tags may
	 * collide), in configuration order: the first that verifies signs. */
	bool known = false;
	for (size_t i = 0; keys != NULL && i < keys->count; i++) {
		const bftdns_sig0_key_t *key = &keys->keys[i];
		if (key->algorithm != sig.algorithm || key->keytag != sig.keytag ||
		    !knot_dname_is_equal(key->name, sig.signer)) {
			continue;
		}
		known = true;
		result = sig0_check(key, wire, &rr, &sig);
		if (result == BFTDNS_SIG0_OK) {
			if (signer != NULL) {
				*signer = key;
			}
			return BFTDNS_SIG0_OK;
		} else if (result == BFTDNS_SIG0_ERROR) {
			*reason = "SIG(0) not verified, local error";
			return result;
		}
	}
	*reason = known ? "SIG(0) signature does not verify" :
	          "SIG(0) key not configured (update-key)";
	return known ? BFTDNS_SIG0_BADSIG : BFTDNS_SIG0_BADKEY;
}

const char *bftdns_sig0_result_str(bftdns_sig0_result_t result)
{
	switch (result) {
	case BFTDNS_SIG0_OK:        return "OK";
	case BFTDNS_SIG0_NONE:      return "NONE";
	case BFTDNS_SIG0_MALFORMED: return "MALFORMED";
	case BFTDNS_SIG0_BADKEY:    return "BADKEY";
	case BFTDNS_SIG0_BADTIME:   return "BADTIME";
	case BFTDNS_SIG0_BADSIG:    return "BADSIG";
	default:                    return "ERROR";
	}
}
