/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The strict key file reader. Two passes: the first splits the text into
 * fields (syntax: header, "field value" lines, duplicates, unknown fields),
 * the second converts and checks the values (ranges, then the key as a
 * whole). The input is never trusted: every failure is a message naming the
 * file, the line and the field, and leaves the output empty.
 */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coordinator/keys/dnskey.h"
#include "coordinator/keys/file.h"
#include "coordinator/keys/keyfile.h"
#include "coordinator/keys/number.h"

/* Fields; the verification keys vkey-1..vkey-32 follow FIELD_VKEY. */
enum {
	FIELD_ZONE,
	FIELD_ALGORITHM,
	FIELD_BITS,
	FIELD_N,
	FIELD_F,
	FIELD_ID,
	FIELD_KEY_TAG,
	FIELD_MODULUS,
	FIELD_EXPONENT,
	FIELD_VBASE,
	FIELD_SHARE,
	FIELD_DIGEST,
	FIELD_VKEY,
	FIELD_COUNT = FIELD_VKEY + SHOUP_PLAYERS_MAX
};

static const char *const FIELD_NAMES[FIELD_VKEY] = {
	"zone", "algorithm", "bits", "n", "f", "id", "key-tag",
	"modulus", "exponent", "vbase", "share", "public-digest",
};

/* Longest line: a 4096-bit number in hex and a field name. */
#define LINE_MAX_LEN	(SHOUP_BITS_MAX / 4 + 64)
/* Hex digits of the largest number a key file holds. */
#define HEX_DIGITS_MAX	(SHOUP_BITS_MAX / 4)

typedef struct {
	const char *value;   /* Points into the parser's copy; NULL if absent. */
	unsigned line;
} field_t;

typedef struct {
	const char *name;        /* File name for messages. */
	bool secret;             /* A share file (else a public file). */
	char *copy;              /* Mutable NUL-terminated copy of the text. */
	size_t copy_len;
	field_t fields[FIELD_COUNT];
	keys_err_t *err;
} parser_t;

static int parse_fail_line(parser_t *p, unsigned line, const char *what)
{
	return keys_err_set(p->err, KEYS_EFORMAT, "%s:%u: %s", p->name, line, what);
}

static const char *file_kind(bool secret)
{
	return secret ? "key share file" : "public key file";
}

/* Checks the first line: the right kind of file, in a version we read. */
static int parse_header(parser_t *p, const char *line)
{
	const char *want = p->secret ? KEYS_SHARE_MAGIC : KEYS_PUBLIC_MAGIC;
	const char *other = p->secret ? KEYS_PUBLIC_MAGIC : KEYS_SHARE_MAGIC;
	size_t want_len = strlen(want);
	size_t other_len = strlen(other);

	if (strncmp(line, want, want_len) == 0 && line[want_len] == ' ') {
		const char *version = line + want_len + 1;
		if (strcmp(version, KEYS_FORMAT_VERSION) == 0) {
			return KEYS_EOK;
		}
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s:1: unsupported %s version '%.40s' (this build reads %s)",
		                    p->name, file_kind(p->secret), version, KEYS_FORMAT_VERSION);
	}
	if (strncmp(line, other, other_len) == 0 && line[other_len] == ' ') {
		return keys_err_set(p->err, KEYS_EFORMAT, "%s:1: this is a %s, not a %s",
		                    p->name, file_kind(!p->secret), file_kind(p->secret));
	}
	return keys_err_set(p->err, KEYS_EFORMAT,
	                    "%s:1: not a bftdns %s (the first line must be '%s %s')",
	                    p->name, file_kind(p->secret), want, KEYS_FORMAT_VERSION);
}

/* Index of a field name, or -1. vkey-<i> only for 1 <= i <= 32. */
static int field_index(const char *name)
{
	for (int i = 0; i < FIELD_VKEY; i++) {
		if (strcmp(name, FIELD_NAMES[i]) == 0) {
			return i;
		}
	}
	if (strncmp(name, "vkey-", 5) == 0) {
		uint64_t id = 0;
		if (keys_parse_decimal(name + 5, SHOUP_PLAYERS_MAX, &id) && id >= 1) {
			return FIELD_VKEY + (int)id - 1;
		}
	}
	return -1;
}

static const char *field_name(int index, char *buf, size_t size)
{
	if (index < FIELD_VKEY) {
		return FIELD_NAMES[index];
	}
	snprintf(buf, size, "vkey-%d", index - FIELD_VKEY + 1);
	return buf;
}

static int parse_field_line(parser_t *p, char *line, unsigned number)
{
	char *space = strchr(line, ' ');
	if (space == NULL || space == line || space[1] == '\0') {
		return parse_fail_line(p, number, "expected 'field value'");
	}
	*space = '\0';
	const char *value = space + 1;
	if (strchr(value, ' ') != NULL || strchr(value, '\t') != NULL) {
		return parse_fail_line(p, number, "a value must not contain spaces");
	}
	int index = field_index(line);
	if (index < 0 || (!p->secret && (index == FIELD_ID || index == FIELD_SHARE))) {
		return keys_err_set(p->err, KEYS_EFORMAT, "%s:%u: unknown field '%.40s' in a %s",
		                    p->name, number, line, file_kind(p->secret));
	}
	field_t *field = &p->fields[index];
	if (field->value != NULL) {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s:%u: duplicate field '%s' (first given on line %u)",
		                    p->name, number, line, field->line);
	}
	field->value = value;
	field->line = number;
	return KEYS_EOK;
}

/* First pass: lines into fields. */
static int parse_lines(parser_t *p)
{
	if (p->copy_len == 0) {
		return keys_err_set(p->err, KEYS_EFORMAT, "%s: the file is empty", p->name);
	}
	if (p->copy[p->copy_len - 1] != '\n') {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s: truncated (the last line has no newline)", p->name);
	}
	if (memchr(p->copy, '\r', p->copy_len) != NULL) {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s: contains a carriage return (DOS line ends?)", p->name);
	}
	char *line = p->copy;
	unsigned number = 0;
	/* Each pass consumes one line; the length check above ends the text
	 * with a newline, so every line has one. */
	while (*line != '\0') {
		char *end = strchr(line, '\n');
		assert(end != NULL);
		*end = '\0';
		number++;
		int ret = KEYS_EOK;
		if ((size_t)(end - line) > LINE_MAX_LEN) {
			ret = parse_fail_line(p, number, "line too long");
		} else if (number == 1) {
			ret = parse_header(p, line);
		} else if (line[0] != '\0' && line[0] != '#') {
			ret = parse_field_line(p, line, number);
		}
		if (ret != KEYS_EOK) {
			return ret;
		}
		line = end + 1;
	}
	return KEYS_EOK;
}

static int parse_missing(parser_t *p, int index)
{
	char buf[16];
	return keys_err_set(p->err, KEYS_EFORMAT, "%s: missing field '%s'", p->name,
	                    field_name(index, buf, sizeof(buf)));
}

static int parse_decimal_field(parser_t *p, int index, uint64_t min, uint64_t max,
                               uint64_t *out)
{
	const field_t *field = &p->fields[index];
	if (field->value == NULL) {
		return parse_missing(p, index);
	}
	if (!keys_parse_decimal(field->value, max, out) || *out < min) {
		char buf[16];
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s:%u: %s must be a decimal number from %llu to %llu, not '%.40s'",
		                    p->name, field->line, field_name(index, buf, sizeof(buf)),
		                    (unsigned long long)min, (unsigned long long)max, field->value);
	}
	return KEYS_EOK;
}

static int parse_hex_field(parser_t *p, int index, mpz_t out)
{
	const field_t *field = &p->fields[index];
	if (field->value == NULL) {
		return parse_missing(p, index);
	}
	if (!keys_parse_hex(field->value, HEX_DIGITS_MAX, out)) {
		char buf[16];
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s:%u: %s must be hexadecimal digits (at most %d)",
		                    p->name, field->line, field_name(index, buf, sizeof(buf)),
		                    HEX_DIGITS_MAX);
	}
	return KEYS_EOK;
}

/* n, f and id: the shape of the key, checked before anything depends on it. */
static int parse_shape(parser_t *p, shoup_public_t *key, unsigned *id)
{
	uint64_t n = 0, f = 0, value = 0;
	int ret = parse_decimal_field(p, FIELD_N, 1, SHOUP_PLAYERS_MAX, &n);
	if (ret == KEYS_EOK) {
		ret = parse_decimal_field(p, FIELD_F, 0, SHOUP_PLAYERS_MAX, &f);
	}
	if (ret != KEYS_EOK) {
		return ret;
	}
	if (n < 3 * f + 1) {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s:%u: n = %llu replicas cannot tolerate f = %llu faults "
		                    "(n must be at least 3f + 1 = %llu)",
		                    p->name, p->fields[FIELD_F].line, (unsigned long long)n,
		                    (unsigned long long)f, (unsigned long long)(3 * f + 1));
	}
	key->n = (unsigned)n;
	key->f = (unsigned)f;
	if (id != NULL) {
		ret = parse_decimal_field(p, FIELD_ID, 1, n, &value);
		if (ret != KEYS_EOK) {
			return ret;
		}
		*id = (unsigned)value;
	}
	for (unsigned i = key->n; i < SHOUP_PLAYERS_MAX; i++) {
		const field_t *field = &p->fields[FIELD_VKEY + i];
		if (field->value != NULL) {
			return keys_err_set(p->err, KEYS_EFORMAT, "%s:%u: vkey-%u given but n is %u",
			                    p->name, field->line, i + 1, key->n);
		}
	}
	return KEYS_EOK;
}

static int parse_modulus(parser_t *p, shoup_public_t *key)
{
	uint64_t bits = 0;
	int ret = parse_decimal_field(p, FIELD_BITS, SHOUP_BITS_MIN, SHOUP_BITS_MAX, &bits);
	if (ret == KEYS_EOK) {
		ret = parse_hex_field(p, FIELD_MODULUS, key->modulus);
	}
	if (ret != KEYS_EOK) {
		return ret;
	}
	size_t actual = mpz_sizeinbase(key->modulus, 2);
	if (mpz_sgn(key->modulus) == 0 || actual != bits) {
		return keys_err_set(p->err, KEYS_EKEY, "%s:%u: the modulus has %zu bits, but bits is %llu",
		                    p->name, p->fields[FIELD_MODULUS].line,
		                    mpz_sgn(key->modulus) == 0 ? (size_t)0 : actual,
		                    (unsigned long long)bits);
	}
	key->bits = (unsigned)bits;
	return KEYS_EOK;
}

static int parse_names(parser_t *p, keys_public_t *pub)
{
	const field_t *zone = &p->fields[FIELD_ZONE];
	if (zone->value == NULL) {
		return parse_missing(p, FIELD_ZONE);
	}
	keys_err_t name_err;
	if (keys_dname_normalize(zone->value, pub->zone, &name_err) != KEYS_EOK) {
		return keys_err_set(p->err, KEYS_EFORMAT, "%s:%u: %s", p->name, zone->line,
		                    name_err.text);
	}
	uint64_t number = 0;
	int ret = parse_decimal_field(p, FIELD_ALGORITHM, 1, 255, &number);
	if (ret != KEYS_EOK) {
		return ret;
	}
	pub->alg = bftdns_alg_by_number((unsigned)number);
	if (pub->alg == NULL) {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s:%u: algorithm %llu is not one bftdns signs with (5, 7, 8, 10)",
		                    p->name, p->fields[FIELD_ALGORITHM].line,
		                    (unsigned long long)number);
	}
	return KEYS_EOK;
}

/* Values in [1, N): the public key check would say "out of range" without
 * saying which; this says which field. */
static int parse_below_modulus(parser_t *p, int index, const mpz_t value, const mpz_t modulus)
{
	if (mpz_sgn(value) > 0 && mpz_cmp(value, modulus) < 0) {
		return KEYS_EOK;
	}
	char buf[16];
	return keys_err_set(p->err, KEYS_EKEY, "%s:%u: %s is not between 1 and the modulus",
	                    p->name, p->fields[index].line, field_name(index, buf, sizeof(buf)));
}

static int parse_public_values(parser_t *p, keys_public_t *pub)
{
	shoup_public_t *key = &pub->key;
	int ret = parse_hex_field(p, FIELD_EXPONENT, key->exponent);
	if (ret == KEYS_EOK) {
		ret = parse_hex_field(p, FIELD_VBASE, key->vbase);
	}
	if (ret == KEYS_EOK) {
		ret = parse_below_modulus(p, FIELD_VBASE, key->vbase, key->modulus);
	}
	for (unsigned i = 0; ret == KEYS_EOK && i < key->n; i++) {
		ret = parse_hex_field(p, FIELD_VKEY + (int)i, key->vkeys[i]);
		if (ret == KEYS_EOK) {
			ret = parse_below_modulus(p, FIELD_VKEY + (int)i, key->vkeys[i], key->modulus);
		}
	}
	return ret;
}

/* The key as a whole: shoup_public_check and the redundant key tag. */
static int parse_check_key(parser_t *p, keys_public_t *pub)
{
	uint64_t tag = 0;
	int ret = parse_decimal_field(p, FIELD_KEY_TAG, 0, UINT16_MAX, &tag);
	if (ret != KEYS_EOK) {
		return ret;
	}
	mpz_fac_ui(pub->key.delta, pub->key.n);
	keys_err_t check_err;
	char zone[KEYS_DNAME_TEXT_MAX];
	memcpy(zone, pub->zone, sizeof(zone));
	if (keys_public_finish(pub, zone, pub->alg, &check_err) != KEYS_EOK) {
		return keys_err_set(p->err, KEYS_EKEY, "%s: %s", p->name, check_err.text);
	}
	if (pub->key_tag != tag) {
		return keys_err_set(p->err, KEYS_EKEY,
		                    "%s:%u: key-tag %llu does not match the key (its DNSKEY has key tag %u)",
		                    p->name, p->fields[FIELD_KEY_TAG].line,
		                    (unsigned long long)tag, pub->key_tag);
	}
	return KEYS_EOK;
}

static int parse_check_digest(parser_t *p, const keys_public_t *pub)
{
	const field_t *field = &p->fields[FIELD_DIGEST];
	if (field->value == NULL) {
		return parse_missing(p, FIELD_DIGEST);
	}
	uint8_t digest[KEYS_PUBLIC_DIGEST_SIZE];
	keys_err_t digest_err;
	if (keys_public_digest(pub, digest, &digest_err) != KEYS_EOK) {
		return keys_err_set(p->err, KEYS_EKEY, "%s: %s", p->name, digest_err.text);
	}
	char hex[2 * KEYS_PUBLIC_DIGEST_SIZE + 1];
	for (size_t i = 0; i < KEYS_PUBLIC_DIGEST_SIZE; i++) {
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	}
	if (strlen(field->value) != 2 * KEYS_PUBLIC_DIGEST_SIZE ||
	    strspn(field->value, "0123456789abcdefABCDEF") != 2 * KEYS_PUBLIC_DIGEST_SIZE) {
		return keys_err_set(p->err, KEYS_EFORMAT, "%s:%u: public-digest must be %d hex digits",
		                    p->name, field->line, 2 * KEYS_PUBLIC_DIGEST_SIZE);
	}
	if (strcasecmp(field->value, hex) != 0) {
		return keys_err_set(p->err, KEYS_EKEY,
		                    "%s:%u: public-digest does not match the public fields: one of "
		                    "them was changed or damaged", p->name, field->line);
	}
	return KEYS_EOK;
}

static int parse_public(parser_t *p, keys_public_t *pub, unsigned *id)
{
	int ret = parse_lines(p);
	if (ret == KEYS_EOK) {
		ret = parse_names(p, pub);
	}
	if (ret == KEYS_EOK) {
		ret = parse_shape(p, &pub->key, id);
	}
	if (ret == KEYS_EOK) {
		ret = parse_modulus(p, &pub->key);
	}
	if (ret == KEYS_EOK) {
		ret = parse_public_values(p, pub);
	}
	if (ret == KEYS_EOK) {
		ret = parse_check_key(p, pub);
	}
	if (ret == KEYS_EOK) {
		ret = parse_check_digest(p, pub);
	}
	return ret;
}

/* The share must be below N and be the discrete log of its vkey: a share
 * from another key or a damaged one would make every signature fail later,
 * far from the cause. */
static int parse_share(parser_t *p, keys_share_t *out)
{
	const shoup_public_t *key = &out->pub.key;
	int ret = parse_hex_field(p, FIELD_SHARE, out->secret.secret);
	if (ret != KEYS_EOK) {
		return ret;
	}
	if (mpz_cmp(out->secret.secret, key->modulus) >= 0) {
		return keys_err_set(p->err, KEYS_EKEY, "%s:%u: share is not below the modulus",
		                    p->name, p->fields[FIELD_SHARE].line);
	}
	mpz_t check;
	mpz_init(check);
	mpz_powm_sec(check, key->vbase, out->secret.secret, key->modulus);
	bool match = mpz_cmp(check, key->vkeys[out->secret.id - 1]) == 0;
	mpz_clear(check);
	if (!match) {
		return keys_err_set(p->err, KEYS_EKEY,
		                    "%s:%u: share does not match vkey-%u (vbase^share != vkey-%u): "
		                    "the file is damaged or mixes two keys",
		                    p->name, p->fields[FIELD_SHARE].line, out->secret.id,
		                    out->secret.id);
	}
	return KEYS_EOK;
}

static int parser_start(parser_t *p, const char *text, size_t len, const char *name,
                        bool secret, keys_err_t *err)
{
	memset(p, 0, sizeof(*p));
	p->name = name != NULL ? name : "(key file)";
	p->secret = secret;
	p->err = err;
	if (text == NULL) {
		return keys_err_set(err, KEYS_EINVAL, "%s: no text", p->name);
	}
	if (len > KEYS_FILE_MAX) {
		return keys_err_set(err, KEYS_EFORMAT, "%s: larger than %d bytes; not a key file",
		                    p->name, KEYS_FILE_MAX);
	}
	if (memchr(text, '\0', len) != NULL) {
		return keys_err_set(err, KEYS_EFORMAT, "%s: contains a NUL byte", p->name);
	}
	p->copy = malloc(len + 1);
	if (p->copy == NULL) {
		return keys_err_set(err, KEYS_ENOMEM, "%s: out of memory", p->name);
	}
	memcpy(p->copy, text, len);
	p->copy[len] = '\0';
	p->copy_len = len;
	return KEYS_EOK;
}

static void parser_end(parser_t *p)
{
	keys_text_free(p->copy, p->copy_len);
	p->copy = NULL;
}

int keys_public_parse(const char *text, size_t len, const char *name, keys_public_t *out,
                      keys_err_t *err)
{
	parser_t p;
	int ret = parser_start(&p, text, len, name, false, err);
	if (ret == KEYS_EOK) {
		ret = parse_public(&p, out, NULL);
	}
	parser_end(&p);
	if (ret != KEYS_EOK) {
		keys_public_clear(out);
		keys_public_init(out);
	}
	return ret;
}

int keys_share_parse(const char *text, size_t len, const char *name, keys_share_t *out,
                     keys_err_t *err)
{
	parser_t p;
	int ret = parser_start(&p, text, len, name, true, err);
	if (ret == KEYS_EOK) {
		ret = parse_public(&p, &out->pub, &out->secret.id);
	}
	if (ret == KEYS_EOK) {
		ret = parse_share(&p, out);
	}
	parser_end(&p);
	if (ret != KEYS_EOK) {
		keys_share_clear(out);
		keys_share_init(out);
	}
	return ret;
}

int keys_share_read(const char *path, keys_share_t *out, keys_err_t *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret = keys_file_read(path, KEYS_FILE_MAX, true, &text, &len, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	ret = keys_share_parse(text, len, path, out, err);
	keys_text_free(text, len);
	return ret;
}

int keys_public_read(const char *path, keys_public_t *out, keys_err_t *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret = keys_file_read(path, KEYS_FILE_MAX, false, &text, &len, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	ret = keys_public_parse(text, len, path, out, err);
	keys_text_free(text, len);
	return ret;
}
