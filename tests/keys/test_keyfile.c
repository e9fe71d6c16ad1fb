/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Key share files: round trips through text and through files, every kind
 * of malformed file refused with its own message, modes, and random damage
 * that must either be refused or leave the key exactly as it was.
 */

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/keys/file.h"
#include "coordinator/keys/keyfile.h"
#include "tests/common/check.h"

#define N	4
#define F	1
#define BITS	1024

typedef struct {
	keys_public_t pub;
	shoup_secret_t secrets[N];
} dealt_t;

static dealt_t key_a, key_b;

static void deal(dealt_t *key)
{
	keys_public_init(&key->pub);
	for (unsigned i = 0; i < N; i++) {
		shoup_secret_init(&key->secrets[i]);
	}
	int ret = shoup_deal(BITS, N, F, shoup_random_system, NULL, NULL, NULL, &key->pub.key,
	                     key->secrets);
	CHECK_EQ(ret, SHOUP_EOK);
	keys_err_t err;
	ret = keys_public_finish(&key->pub, "Example.COM", bftdns_alg_by_number(8), &err);
	CHECK_EQ(ret, KEYS_EOK);
	CHECK(strcmp(key->pub.zone, "example.com.") == 0);
}

static void undeal(dealt_t *key)
{
	for (unsigned i = 0; i < N; i++) {
		shoup_secret_clear(&key->secrets[i]);
	}
	keys_public_clear(&key->pub);
}

static char *share_text(const dealt_t *key, unsigned index)
{
	char *text = NULL;
	size_t len = 0;
	keys_err_t err;
	int ret = keys_share_format(&key->pub, &key->secrets[index], &text, &len, &err);
	CHECK_EQ(ret, KEYS_EOK);
	CHECK_EQ(strlen(text), len);
	return text;
}

static bool public_equal(const keys_public_t *a, const keys_public_t *b)
{
	bool same = strcmp(a->zone, b->zone) == 0 && a->alg == b->alg &&
	            a->key_tag == b->key_tag && a->key.n == b->key.n && a->key.f == b->key.f &&
	            a->key.bits == b->key.bits &&
	            mpz_cmp(a->key.modulus, b->key.modulus) == 0 &&
	            mpz_cmp(a->key.exponent, b->key.exponent) == 0 &&
	            mpz_cmp(a->key.vbase, b->key.vbase) == 0 &&
	            mpz_cmp(a->key.delta, b->key.delta) == 0;
	for (unsigned i = 0; same && i < a->key.n; i++) {
		same = mpz_cmp(a->key.vkeys[i], b->key.vkeys[i]) == 0;
	}
	return same;
}

static bool share_equal(const keys_share_t *share, const dealt_t *key, unsigned index)
{
	return public_equal(&share->pub, &key->pub) &&
	       share->secret.id == key->secrets[index].id &&
	       mpz_cmp(share->secret.secret, key->secrets[index].secret) == 0;
}

/* The text with the line starting with "<field> " replaced by line
 * (removed if line is NULL). */
static char *text_edit(const char *text, const char *field, const char *line)
{
	size_t field_len = strlen(field);
	const char *start = text;
	while (start != NULL && !(strncmp(start, field, field_len) == 0 && start[field_len] == ' ')) {
		start = strchr(start, '\n');
		start = start != NULL ? start + 1 : NULL;
	}
	CHECK(start != NULL);
	if (start == NULL) {
		return strdup(text);
	}
	const char *end = strchr(start, '\n') + 1;
	size_t size = strlen(text) + (line != NULL ? strlen(line) : 0) + 2;
	char *out = malloc(size);
	snprintf(out, size, "%.*s%s%s%s", (int)(start - text), text, line != NULL ? line : "",
	         line != NULL ? "\n" : "", end);
	return out;
}

/* The value of "<field> " in text (malloc'd). */
static char *text_value(const char *text, const char *field)
{
	char *edited = text_edit(text, field, "");
	size_t prefix = 0;
	while (text[prefix] == edited[prefix]) {
		prefix++;
	}
	free(edited);
	const char *value = text + prefix + strlen(field) + 1;
	return strndup(value, strcspn(value, "\n"));
}

static char *text_append(const char *text, const char *line)
{
	size_t size = strlen(text) + strlen(line) + 2;
	char *out = malloc(size);
	snprintf(out, size, "%s%s\n", text, line);
	return out;
}

/* Parses text as a share file: must fail with code and a message that
 * contains want. */
static void expect_share_error(const char *text, int code, const char *want)
{
	keys_share_t share;
	keys_share_init(&share);
	keys_err_t err = { "" };
	int ret = keys_share_parse(text, strlen(text), "t.key", &share, &err);
	CHECK_ERR(ret, code, err.text, want);
	CHECK(mpz_sgn(share.secret.secret) == 0);   /* nothing kept after a failure */
	keys_share_clear(&share);
}

static void test_round_trip_text(void)
{
	for (unsigned i = 0; i < N; i++) {
		char *text = share_text(&key_a, i);
		keys_share_t share;
		keys_share_init(&share);
		keys_err_t err = { "" };
		int ret = keys_share_parse(text, strlen(text), "share", &share, &err);
		CHECK_EQ(ret, KEYS_EOK);
		CHECK(share_equal(&share, &key_a, i));
		keys_share_clear(&share);
		keys_text_free(text, strlen(text));
	}

	char *text = NULL;
	size_t len = 0;
	keys_err_t err;
	CHECK_EQ(keys_public_format(&key_a.pub, &text, &len, &err), KEYS_EOK);
	keys_public_t pub;
	keys_public_init(&pub);
	CHECK_EQ(keys_public_parse(text, len, "public", &pub, &err), KEYS_EOK);
	CHECK(public_equal(&pub, &key_a.pub));
	/* A public file is not a share file, and the other way round. */
	expect_share_error(text, KEYS_EFORMAT, "this is a public key file, not a key share file");
	char *share = share_text(&key_a, 0);
	keys_public_clear(&pub);
	keys_public_init(&pub);
	CHECK_ERR(keys_public_parse(share, strlen(share), "s", &pub, &err), KEYS_EFORMAT, err.text,
	          "this is a key share file, not a public key file");
	keys_public_clear(&pub);
	free(share);
	free(text);
}

static void test_malformed(void)
{
	char *text = share_text(&key_a, 0);
	size_t len = strlen(text);
	char *edited;

	/* Truncated inside a line, then at a line boundary. */
	char *cut = strndup(text, len - 10);
	expect_share_error(cut, KEYS_EFORMAT, "truncated (the last line has no newline)");
	free(cut);
	edited = text_edit(text, "share", NULL);
	expect_share_error(edited, KEYS_EFORMAT, "missing field 'share'");
	free(edited);
	expect_share_error("", KEYS_EFORMAT, "the file is empty");

	edited = text_edit(text, "modulus", "modulus 12345g");
	expect_share_error(edited, KEYS_EFORMAT, "t.key:11: modulus must be hexadecimal digits");
	free(edited);
	edited = text_edit(text, "vbase", NULL);
	expect_share_error(edited, KEYS_EFORMAT, "missing field 'vbase'");
	free(edited);
	edited = text_edit(text, "vkey-3", NULL);
	expect_share_error(edited, KEYS_EFORMAT, "missing field 'vkey-3'");
	free(edited);
	edited = text_append(text, "n 4");
	expect_share_error(edited, KEYS_EFORMAT, "duplicate field 'n' (first given on line 7)");
	free(edited);
	edited = text_append(text, "colour blue");
	expect_share_error(edited, KEYS_EFORMAT, "unknown field 'colour'");
	free(edited);
	edited = text_append(text, "vkey-5 1234");
	expect_share_error(edited, KEYS_EFORMAT, "vkey-5 given but n is 4");
	free(edited);
	edited = text_edit(text, "bftdns-key-share", "bftdns-key-share v2");
	expect_share_error(edited, KEYS_EFORMAT, "unsupported key share file version 'v2'");
	free(edited);
	expect_share_error("hello\n", KEYS_EFORMAT, "not a bftdns key share file");
	edited = text_edit(text, "f", "f 2");
	expect_share_error(edited, KEYS_EFORMAT, "n must be at least 3f + 1 = 7");
	free(edited);
	edited = text_edit(text, "n", "n 33");
	expect_share_error(edited, KEYS_EFORMAT, "n must be a decimal number from 1 to 32");
	free(edited);
	edited = text_edit(text, "id", "id 5");
	expect_share_error(edited, KEYS_EFORMAT, "id must be a decimal number from 1 to 4");
	free(edited);
	edited = text_edit(text, "id", "id 0");
	expect_share_error(edited, KEYS_EFORMAT, "id must be a decimal number from 1 to 4");
	free(edited);
	edited = text_edit(text, "bits", "bits 2048");
	expect_share_error(edited, KEYS_EKEY, "the modulus has 1024 bits, but bits is 2048");
	free(edited);
	edited = text_edit(text, "algorithm", "algorithm 13");
	expect_share_error(edited, KEYS_EFORMAT, "algorithm 13 is not one bftdns signs with");
	free(edited);
	edited = text_edit(text, "zone", "zone exa mple.com.");
	expect_share_error(edited, KEYS_EFORMAT, "a value must not contain spaces");
	free(edited);
	edited = text_edit(text, "zone", "zone a..b.");
	expect_share_error(edited, KEYS_EFORMAT, "has an empty label");
	free(edited);
	edited = text_edit(text, "key-tag", "key-tag 1");
	expect_share_error(edited, KEYS_EKEY, "key-tag 1 does not match the key");
	free(edited);
	edited = text_edit(text, "vbase", "vbase 0");
	expect_share_error(edited, KEYS_EKEY, "vbase is not between 1 and the modulus");
	free(edited);
	edited = text_edit(text, "exponent", "exponent 10000");
	expect_share_error(edited, KEYS_EKEY, "the public key is inconsistent");
	free(edited);
	edited = text_edit(text, "public-digest", "public-digest 00");
	expect_share_error(edited, KEYS_EFORMAT, "public-digest must be 64 hex digits");
	free(edited);

	/* Another replica's verification key changed: only the digest sees it. */
	edited = text_edit(text, "vkey-3", "vkey-3 1234");
	expect_share_error(edited, KEYS_EKEY, "public-digest does not match the public fields");
	free(edited);

	/* DOS line ends, NUL bytes. */
	char *dos = text_edit(text, "n", "n 4\r");
	expect_share_error(dos, KEYS_EFORMAT, "carriage return");
	free(dos);
	keys_share_t share;
	keys_share_init(&share);
	keys_err_t err;
	CHECK_ERR(keys_share_parse("bftdns-key-share v1\n\0\n", 22, "t.key", &share, &err),
	          KEYS_EFORMAT, err.text, "NUL byte");
	keys_share_clear(&share);
	keys_text_free(text, len);
}

/* Values from two keys, or a share from another replica. */
static void test_mixed_keys(void)
{
	char *text = share_text(&key_a, 0);

	/* The share of replica 2 in replica 1's file. */
	char *other = share_text(&key_a, 1);
	char *value = text_value(other, "share");
	char line[2048];
	snprintf(line, sizeof(line), "share %s", value);
	char *edited = text_edit(text, "share", line);
	expect_share_error(edited, KEYS_EKEY, "share does not match vkey-1");
	free(edited);
	free(value);
	free(other);

	/* The modulus of another key (the larger one, so that every value stays
	 * below it and the mismatch is what is found). */
	const dealt_t *big = mpz_cmp(key_a.pub.key.modulus, key_b.pub.key.modulus) > 0 ? &key_a : &key_b;
	const dealt_t *small = big == &key_a ? &key_b : &key_a;
	char *small_text = share_text(small, 0);
	char *big_text = share_text(big, 0);
	value = text_value(big_text, "modulus");
	snprintf(line, sizeof(line), "modulus %s", value);
	edited = text_edit(small_text, "modulus", line);
	expect_share_error(edited, KEYS_EKEY, "does not match the key (its DNSKEY has key tag");
	free(edited);
	free(value);

	/* Every public field of the other key, the share of this one. */
	value = text_value(small_text, "share");
	char *mixed = text_edit(big_text, "share", NULL);
	snprintf(line, sizeof(line), "share %s", value);
	edited = text_append(mixed, line);
	expect_share_error(edited, KEYS_EKEY, "share does not match vkey-1");
	free(edited);
	free(mixed);
	free(value);
	free(small_text);
	free(big_text);
	free(text);
}

static int count_dir(const char *dir)
{
	DIR *handle = opendir(dir);
	int count = 0;
	struct dirent *entry;
	while (handle != NULL && (entry = readdir(handle)) != NULL) {
		count += entry->d_name[0] != '.';
	}
	if (handle != NULL) {
		closedir(handle);
	}
	return count;
}

static void test_files(void)
{
	umask(022);
	char dir[] = "/tmp/bftdns-test-keyfile-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[256], public_path[256];
	snprintf(path, sizeof(path), "%s/share-1.key", dir);
	snprintf(public_path, sizeof(public_path), "%s/public.key", dir);
	keys_err_t err = { "" };

	CHECK_EQ(keys_share_write(path, &key_a.pub, &key_a.secrets[0], false, &err), KEYS_EOK);
	CHECK_EQ(keys_public_write(public_path, &key_a.pub, false, &err), KEYS_EOK);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(stat(public_path, &st) == 0 && (st.st_mode & 07777) == 0644);
	CHECK_EQ(count_dir(dir), 2);   /* no temporary file left behind */

	keys_share_t share;
	keys_share_init(&share);
	CHECK_EQ(keys_share_read(path, &share, &err), KEYS_EOK);
	CHECK(share_equal(&share, &key_a, 0));
	keys_share_clear(&share);
	keys_public_t pub;
	keys_public_init(&pub);
	CHECK_EQ(keys_public_read(public_path, &pub, &err), KEYS_EOK);
	CHECK(public_equal(&pub, &key_a.pub));
	keys_public_clear(&pub);

	/* No replacing unless asked; the old file stays as it was. */
	CHECK_ERR(keys_share_write(path, &key_b.pub, &key_b.secrets[0], false, &err), KEYS_EEXIST,
	          err.text, "exists; not replacing it");
	keys_share_init(&share);
	CHECK_EQ(keys_share_read(path, &share, &err), KEYS_EOK);
	CHECK(share_equal(&share, &key_a, 0));
	keys_share_clear(&share);
	CHECK_EQ(keys_share_write(path, &key_b.pub, &key_b.secrets[0], true, &err), KEYS_EOK);
	keys_share_init(&share);
	CHECK_EQ(keys_share_read(path, &share, &err), KEYS_EOK);
	CHECK(share_equal(&share, &key_b, 0));
	keys_share_clear(&share);

	/* A share file others can read is refused; owner read-only is fine. */
	CHECK(chmod(path, 0640) == 0);
	keys_share_init(&share);
	CHECK_ERR(keys_share_read(path, &share, &err), KEYS_EPERM, err.text,
	          "has mode 0640: a secret key file must not be accessible to group or others");
	CHECK(chmod(path, 0400) == 0);
	CHECK_EQ(keys_share_read(path, &share, &err), KEYS_EOK);
	keys_share_clear(&share);

	keys_share_init(&share);
	CHECK_ERR(keys_share_read(dir, &share, &err), KEYS_EIO, err.text, "is not a regular file");
	snprintf(path, sizeof(path), "%s/missing.key", dir);
	CHECK_ERR(keys_share_read(path, &share, &err), KEYS_EIO, err.text, "No such file");
	keys_share_clear(&share);

	snprintf(path, sizeof(path), "%s/share-1.key", dir);
	unlink(path);
	unlink(public_path);
	CHECK(rmdir(dir) == 0);
}

/* Random damage: a damaged file must be refused, or (if only comments or
 * hex letter case were hit) give exactly the original key. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t damage(char *text, size_t len)
{
	size_t pos = rng_next() % len;
	switch (rng_next() % 4) {
	case 0:   /* a byte replaced by a random printable one or a newline */
		text[pos] = (rng_next() % 8 == 0) ? '\n' : (char)(' ' + rng_next() % 95);
		return len;
	case 1:   /* a byte removed */
		memmove(text + pos, text + pos + 1, len - pos - 1);
		return len - 1;
	case 2:   /* truncated */
		return pos;
	default:  /* one bit flipped */
		text[pos] ^= (char)(1u << (rng_next() % 7));
		if (text[pos] == '\0') {
			text[pos] = 'x';
		}
		return len;
	}
}

#define DAMAGE_ROUNDS	3000

static void test_random_damage(void)
{
	char *text = share_text(&key_a, 2);
	size_t len = strlen(text);
	char *copy = malloc(len + 1);
	unsigned refused = 0, same = 0;
	for (unsigned round = 0; round < DAMAGE_ROUNDS; round++) {
		memcpy(copy, text, len + 1);
		size_t damaged_len = damage(copy, len);
		if (rng_next() % 3 == 0 && damaged_len > 0) {
			damaged_len = damage(copy, damaged_len);
		}
		keys_share_t share;
		keys_share_init(&share);
		keys_err_t err = { "" };
		int ret = keys_share_parse(copy, damaged_len, "d.key", &share, &err);
		if (ret == KEYS_EOK) {
			CHECK(share_equal(&share, &key_a, 2));
			same++;
		} else {
			CHECK(err.text[0] != '\0');
			refused++;
		}
		keys_share_clear(&share);
	}
	printf("random damage: %u refused, %u harmless (same key)\n", refused, same);
	CHECK(refused > DAMAGE_ROUNDS / 2);
	free(copy);
	keys_text_free(text, len);
}

int main(void)
{
	deal(&key_a);
	deal(&key_b);
	test_round_trip_text();
	test_malformed();
	test_mixed_keys();
	test_files();
	test_random_damage();
	undeal(&key_a);
	undeal(&key_b);
	return check_result("test_keyfile");
}
