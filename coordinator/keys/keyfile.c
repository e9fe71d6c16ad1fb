/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Key files: life cycle of the structures, the text form, and writing.
 * Parsing is in keyfile_parse.c.
 */

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nettle/sha2.h>

#include "coordinator/keys/dnskey.h"
#include "coordinator/keys/file.h"
#include "coordinator/keys/keyfile.h"
#include "coordinator/keys/number.h"

void keys_public_init(keys_public_t *pub)
{
	memset(pub->zone, 0, sizeof(pub->zone));
	pub->alg = NULL;
	pub->key_tag = 0;
	shoup_public_init(&pub->key);
}

void keys_public_clear(keys_public_t *pub)
{
	shoup_public_clear(&pub->key);
	memset(pub->zone, 0, sizeof(pub->zone));
	pub->alg = NULL;
	pub->key_tag = 0;
}

void keys_share_init(keys_share_t *share)
{
	keys_public_init(&share->pub);
	shoup_secret_init(&share->secret);
}

void keys_share_clear(keys_share_t *share)
{
	shoup_secret_clear(&share->secret);
	keys_public_clear(&share->pub);
}

void keys_public_copy(keys_public_t *dst, const keys_public_t *src)
{
	memcpy(dst->zone, src->zone, sizeof(dst->zone));
	dst->alg = src->alg;
	dst->key_tag = src->key_tag;
	dst->key.n = src->key.n;
	dst->key.f = src->key.f;
	dst->key.bits = src->key.bits;
	mpz_set(dst->key.modulus, src->key.modulus);
	mpz_set(dst->key.exponent, src->key.exponent);
	mpz_set(dst->key.vbase, src->key.vbase);
	mpz_set(dst->key.delta, src->key.delta);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		mpz_set(dst->key.vkeys[i], src->key.vkeys[i]);
	}
}

int keys_public_finish(keys_public_t *pub, const char *zone, const bftdns_alg_t *alg,
                       keys_err_t *err)
{
	if (alg == NULL) {
		return keys_err_set(err, KEYS_EINVAL, "no DNSSEC algorithm given");
	}
	int ret = keys_dname_normalize(zone, pub->zone, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	int check = shoup_public_check(&pub->key);
	if (check != SHOUP_EOK) {
		return keys_err_set(err, KEYS_EKEY, "the public key is inconsistent: %s",
		                    shoup_strerror(check));
	}
	uint8_t rdata[KEYS_DNSKEY_RDATA_MAX];
	size_t len = 0;
	if (keys_dnskey_rdata(pub->key.modulus, pub->key.exponent, KEYS_DNSKEY_FLAGS_KSK,
	                      alg->number, rdata, sizeof(rdata), &len) != KEYS_EOK) {
		return keys_err_set(err, KEYS_EKEY, "the key does not fit in a DNSKEY record");
	}
	pub->alg = alg;
	pub->key_tag = keys_key_tag(rdata, len);
	return KEYS_EOK;
}

/* A fixed buffer that lines are appended to; overflow is sticky. */
typedef struct {
	char *data;
	size_t size;
	size_t used;
	bool overflow;
} text_t;

__attribute__((format(printf, 2, 3)))
static void text_add(text_t *text, const char *fmt, ...)
{
	if (text->overflow) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int written = vsnprintf(text->data + text->used, text->size - text->used, fmt, ap);
	va_end(ap);
	if (written < 0 || (size_t)written >= text->size - text->used) {
		text->overflow = true;
		return;
	}
	text->used += (size_t)written;
}

static void text_add_hex(text_t *text, const char *field, const mpz_t value)
{
	char *hex = keys_format_hex(value);
	if (hex == NULL) {
		text->overflow = true;
		return;
	}
	text_add(text, "%s %s\n", field, hex);
	/* The hex may be the secret share: wipe before giving it back. */
	explicit_bzero(hex, strlen(hex));
	free(hex);
}

static void text_add_public(text_t *text, const keys_public_t *pub, const unsigned *id)
{
	const shoup_public_t *key = &pub->key;
	text_add(text, "zone %s\n", pub->zone);
	text_add(text, "algorithm %u\n", pub->alg->number);
	text_add(text, "bits %u\n", key->bits);
	text_add(text, "n %u\n", key->n);
	text_add(text, "f %u\n", key->f);
	if (id != NULL) {
		text_add(text, "id %u\n", *id);
	}
	text_add(text, "key-tag %u\n", pub->key_tag);
	text_add_hex(text, "modulus", key->modulus);
	text_add_hex(text, "exponent", key->exponent);
	text_add_hex(text, "vbase", key->vbase);
	for (unsigned i = 1; i <= key->n; i++) {
		char field[16];
		snprintf(field, sizeof(field), "vkey-%u", i);
		text_add_hex(text, field, key->vkeys[i - 1]);
	}
}

static int text_start(text_t *text, keys_err_t *err)
{
	text->data = malloc(KEYS_FILE_MAX);
	text->size = KEYS_FILE_MAX;
	text->used = 0;
	text->overflow = false;
	if (text->data == NULL) {
		return keys_err_set(err, KEYS_ENOMEM, "out of memory");
	}
	return KEYS_EOK;
}

static int text_finish(text_t *text, char **out, size_t *len, keys_err_t *err)
{
	if (text->overflow) {
		keys_text_free(text->data, text->size);
		return keys_err_set(err, KEYS_EINVAL, "the key does not fit in %zu bytes", text->size);
	}
	*out = text->data;
	*len = text->used;
	return KEYS_EOK;
}

int keys_public_digest(const keys_public_t *pub, uint8_t digest[KEYS_PUBLIC_DIGEST_SIZE],
                       keys_err_t *err)
{
	text_t text;
	int ret = text_start(&text, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	text_add_public(&text, pub, NULL);
	if (text.overflow) {
		free(text.data);
		return keys_err_set(err, KEYS_EINVAL, "the key does not fit in %zu bytes", text.size);
	}
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, text.used, (const uint8_t *)text.data);
	sha256_digest(&ctx, KEYS_PUBLIC_DIGEST_SIZE, digest);
	free(text.data);
	return KEYS_EOK;
}

/* The "public-digest" line, after the public fields. */
static void text_add_digest(text_t *text, const keys_public_t *pub, keys_err_t *err)
{
	uint8_t digest[KEYS_PUBLIC_DIGEST_SIZE];
	if (keys_public_digest(pub, digest, err) != KEYS_EOK) {
		text->overflow = true;
		return;
	}
	char hex[2 * KEYS_PUBLIC_DIGEST_SIZE + 1];
	for (size_t i = 0; i < KEYS_PUBLIC_DIGEST_SIZE; i++) {
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	}
	text_add(text, "public-digest %s\n", hex);
}

int keys_share_format(const keys_public_t *pub, const shoup_secret_t *secret, char **out,
                      size_t *len, keys_err_t *err)
{
	assert(pub->alg != NULL);
	assert(secret->id >= 1 && secret->id <= pub->key.n);
	text_t text;
	int ret = text_start(&text, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	text_add(&text, "%s %s\n", KEYS_SHARE_MAGIC, KEYS_FORMAT_VERSION);
	text_add(&text, "# Key share %u of %u of the zone key of %s (%s, %u bits, key tag %u).\n",
	         secret->id, pub->key.n, pub->zone, pub->alg->mnemonic, pub->key.bits,
	         pub->key_tag);
	text_add(&text, "# Secret: only replica %u may read it (mode 0600). Format: doc/keys.md.\n",
	         secret->id);
	text_add_public(&text, pub, &secret->id);
	text_add_digest(&text, pub, err);
	text_add_hex(&text, "share", secret->secret);
	return text_finish(&text, out, len, err);
}

int keys_public_format(const keys_public_t *pub, char **out, size_t *len, keys_err_t *err)
{
	assert(pub->alg != NULL);
	text_t text;
	int ret = text_start(&text, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	text_add(&text, "%s %s\n", KEYS_PUBLIC_MAGIC, KEYS_FORMAT_VERSION);
	text_add(&text, "# Public part of the threshold zone key of %s (%s, %u bits, key tag %u).\n",
	         pub->zone, pub->alg->mnemonic, pub->key.bits, pub->key_tag);
	text_add_public(&text, pub, NULL);
	text_add_digest(&text, pub, err);
	return text_finish(&text, out, len, err);
}

void keys_text_free(char *text, size_t len)
{
	if (text != NULL) {
		explicit_bzero(text, len);
		free(text);
	}
}

int keys_share_write(const char *path, const keys_public_t *pub, const shoup_secret_t *secret,
                     bool replace, keys_err_t *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret = keys_share_format(pub, secret, &text, &len, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	ret = keys_file_write(path, text, len, 0600, replace, err);
	keys_text_free(text, KEYS_FILE_MAX);
	return ret;
}

int keys_public_write(const char *path, const keys_public_t *pub, bool replace,
                      keys_err_t *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret = keys_public_format(pub, &text, &len, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	ret = keys_file_write(path, text, len, 0644, replace, err);
	keys_text_free(text, KEYS_FILE_MAX);
	return ret;
}
