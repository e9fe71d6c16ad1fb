/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "coordinator/crypto/coin_file.h"
#include "coordinator/keys/file.h"

#define HEX_LEN	(2 * COIN_POINT_LEN)

/* Appends a formatted line; false if it does not fit. */
static bool file_put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool file_put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (ret < 0 || (size_t)ret >= cap - *len) {
		return false;
	}
	*len += (size_t)ret;
	return true;
}

static void file_hex(const uint8_t bin[COIN_POINT_LEN], char hex[HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < COIN_POINT_LEN; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[HEX_LEN] = '\0';
}

int coin_file_format(const coin_public_t *pub, const coin_secret_t *sec,
                     char *buf, size_t cap, size_t *len, keys_err_t *err)
{
	if (coin_public_check(pub) != COIN_EOK ||
	    (sec != NULL && coin_secret_check(pub, sec) != COIN_EOK)) {
		return keys_err_set(err, KEYS_EINVAL, "the coin key to write is inconsistent");
	}
	char hex[HEX_LEN + 1];
	size_t at = 0;
	bool ok = file_put(buf, cap, &at, "%s\nn %u\nf %u\n",
	                   sec != NULL ? COIN_FILE_SECRET_MAGIC : COIN_FILE_PUBLIC_MAGIC,
	                   pub->n, pub->f);
	if (ok && sec != NULL) {
		ok = file_put(buf, cap, &at, "id %u\n", sec->id);
	}
	for (unsigned i = 0; ok && i < pub->n; i++) {
		file_hex(pub->vkeys[i], hex);
		ok = file_put(buf, cap, &at, "vkey-%u %s\n", i + 1, hex);
	}
	if (ok && sec != NULL) {
		file_hex(sec->secret, hex);
		ok = file_put(buf, cap, &at, "secret %s\n", hex);
		sodium_memzero(hex, sizeof(hex));
	}
	if (!ok) {
		sodium_memzero(buf, cap);
		return keys_err_set(err, KEYS_EINVAL, "coin key text does not fit in %zu bytes", cap);
	}
	*len = at;
	return KEYS_EOK;
}

/* A cursor over the lines of the text being parsed. */
typedef struct {
	const char *text;
	size_t len;
	size_t pos;
	unsigned line;
	const char *name;
	keys_err_t *err;
} file_cursor_t;

/* The next line's value after "key ", NUL-terminated in val (cap bytes). */
static int file_field(file_cursor_t *cur, const char *key, char *val, size_t cap)
{
	cur->line++;
	const char *start = cur->text + cur->pos;
	const char *nl = memchr(start, '\n', cur->len - cur->pos);
	if (nl == NULL) {
		return keys_err_set(cur->err, KEYS_EFORMAT, "%s:%u: expected '%s' on a line of its own",
		                    cur->name, cur->line, key);
	}
	size_t line_len = (size_t)(nl - start), key_len = strlen(key);
	cur->pos += line_len + 1;
	if (line_len <= key_len + 1 || memcmp(start, key, key_len) != 0 || start[key_len] != ' ') {
		return keys_err_set(cur->err, KEYS_EFORMAT, "%s:%u: expected '%s <value>'",
		                    cur->name, cur->line, key);
	}
	size_t val_len = line_len - key_len - 1;
	if (val_len >= cap || memchr(start + key_len + 1, '\0', val_len) != NULL) {
		return keys_err_set(cur->err, KEYS_EFORMAT, "%s:%u: the value of '%s' is too long",
		                    cur->name, cur->line, key);
	}
	memcpy(val, start + key_len + 1, val_len);
	val[val_len] = '\0';
	return KEYS_EOK;
}

/* A decimal in [min, max] without sign, spaces or leading zeros. */
static int file_number(file_cursor_t *cur, const char *key, unsigned min, unsigned max,
                       unsigned *out)
{
	char val[16];
	int ret = file_field(cur, key, val, sizeof(val));
	if (ret != KEYS_EOK) {
		return ret;
	}
	unsigned long v = 0;
	size_t i = 0;
	for (; val[i] >= '0' && val[i] <= '9' && i < 6; i++) {
		v = v * 10 + (unsigned long)(val[i] - '0');
	}
	if (i == 0 || val[i] != '\0' || (val[0] == '0' && i > 1) || v < min || v > max) {
		return keys_err_set(cur->err, KEYS_EFORMAT, "%s:%u: '%s' must be a number in %u..%u",
		                    cur->name, cur->line, key, min, max);
	}
	*out = (unsigned)v;
	return KEYS_EOK;
}

static int file_hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Exactly 64 lower-case hex digits. */
static int file_bytes(file_cursor_t *cur, const char *key, uint8_t out[COIN_POINT_LEN])
{
	char val[HEX_LEN + 2];
	int ret = file_field(cur, key, val, sizeof(val));
	if (ret == KEYS_EOK && strlen(val) != HEX_LEN) {
		ret = KEYS_EFORMAT;
	}
	for (size_t i = 0; ret == KEYS_EOK && i < COIN_POINT_LEN; i++) {
		int hi = file_hex_value(val[2 * i]), lo = file_hex_value(val[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			ret = KEYS_EFORMAT;
		} else {
			out[i] = (uint8_t)(hi << 4 | lo);
		}
	}
	sodium_memzero(val, sizeof(val));
	if (ret == KEYS_EFORMAT && cur->err != NULL && cur->err->text[0] == '\0') {
		keys_err_set(cur->err, ret, "%s:%u: '%s' must be %d lower-case hex digits",
		             cur->name, cur->line, key, HEX_LEN);
	}
	return ret;
}

static int file_magic(file_cursor_t *cur, const char *magic)
{
	size_t mlen = strlen(magic);
	cur->line = 1;
	if (cur->len < mlen + 1 || memcmp(cur->text, magic, mlen) != 0 || cur->text[mlen] != '\n') {
		return keys_err_set(cur->err, KEYS_EFORMAT, "%s:1: not a coin key file (expected '%s')",
		                    cur->name, magic);
	}
	cur->pos = mlen + 1;
	return KEYS_EOK;
}

static int file_parse_body(file_cursor_t *cur, coin_public_t *pub, coin_secret_t *sec)
{
	int ret = file_number(cur, "n", 1, COIN_PLAYERS_MAX, &pub->n);
	if (ret == KEYS_EOK) {
		ret = file_number(cur, "f", 0, (pub->n - 1) / 3, &pub->f);
	}
	if (ret == KEYS_EOK && sec != NULL) {
		ret = file_number(cur, "id", 1, pub->n, &sec->id);
	}
	for (unsigned i = 0; ret == KEYS_EOK && i < pub->n; i++) {
		char key[16];
		snprintf(key, sizeof(key), "vkey-%u", i + 1);
		ret = file_bytes(cur, key, pub->vkeys[i]);
	}
	if (ret == KEYS_EOK && sec != NULL) {
		ret = file_bytes(cur, "secret", sec->secret);
	}
	if (ret == KEYS_EOK && cur->pos != cur->len) {
		ret = keys_err_set(cur->err, KEYS_EFORMAT, "%s:%u: unexpected text after the last field",
		                   cur->name, cur->line + 1);
	}
	return ret;
}

int coin_file_parse(const char *text, size_t len, const char *name,
                    coin_public_t *pub, coin_secret_t *sec, keys_err_t *err)
{
	if (text == NULL || pub == NULL || name == NULL) {
		return keys_err_set(err, KEYS_EINVAL, "coin_file_parse: bad arguments");
	}
	if (err != NULL) {
		err->text[0] = '\0';
	}
	file_cursor_t cur = { .text = text, .len = len, .name = name, .err = err };
	memset(pub, 0, sizeof(*pub));
	if (sec != NULL) {
		memset(sec, 0, sizeof(*sec));
	}
	int ret = file_magic(&cur, sec != NULL ? COIN_FILE_SECRET_MAGIC : COIN_FILE_PUBLIC_MAGIC);
	if (ret == KEYS_EOK) {
		ret = file_parse_body(&cur, pub, sec);
	}
	if (ret == KEYS_EOK && coin_init() != COIN_EOK) {
		ret = keys_err_set(err, KEYS_ECRYPTO, "libsodium cannot initialise");
	}
	if (ret == KEYS_EOK && coin_public_check(pub) != COIN_EOK) {
		ret = keys_err_set(err, KEYS_EKEY, "%s: a verification key is not a valid group element",
		                   name);
	}
	if (ret == KEYS_EOK && sec != NULL && coin_secret_check(pub, sec) != COIN_EOK) {
		ret = keys_err_set(err, KEYS_EKEY, "%s: the secret does not match vkey-%u", name, sec->id);
	}
	if (ret != KEYS_EOK) {
		memset(pub, 0, sizeof(*pub));
		coin_secret_wipe(sec);
	}
	return ret;
}

static int file_write(const char *path, const coin_public_t *pub, const coin_secret_t *sec,
                      bool replace, keys_err_t *err)
{
	char buf[COIN_FILE_MAX];
	size_t len = 0;
	int ret = coin_file_format(pub, sec, buf, sizeof(buf), &len, err);
	if (ret == KEYS_EOK) {
		ret = keys_file_write(path, buf, len, sec != NULL ? 0600 : 0644, replace, err);
	}
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

int coin_file_write_secret(const char *path, const coin_public_t *pub,
                           const coin_secret_t *sec, bool replace, keys_err_t *err)
{
	if (sec == NULL) {
		return keys_err_set(err, KEYS_EINVAL, "no coin secret to write");
	}
	return file_write(path, pub, sec, replace, err);
}

int coin_file_write_public(const char *path, const coin_public_t *pub, bool replace,
                           keys_err_t *err)
{
	return file_write(path, pub, NULL, replace, err);
}

static int file_read(const char *path, coin_public_t *pub, coin_secret_t *sec, keys_err_t *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret = keys_file_read(path, COIN_FILE_MAX, sec != NULL, &text, &len, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	ret = coin_file_parse(text, len, path, pub, sec, err);
	sodium_memzero(text, len);
	free(text);
	return ret;
}

int coin_file_read_secret(const char *path, coin_public_t *pub, coin_secret_t *sec,
                          keys_err_t *err)
{
	if (sec == NULL) {
		return keys_err_set(err, KEYS_EINVAL, "no place for the coin secret");
	}
	return file_read(path, pub, sec, err);
}

int coin_file_read_public(const char *path, coin_public_t *pub, keys_err_t *err)
{
	return file_read(path, pub, NULL, err);
}
