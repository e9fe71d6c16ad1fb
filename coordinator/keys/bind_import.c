/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nettle/base64.h>

#include "coordinator/keys/bind_import.h"
#include "coordinator/keys/file.h"
#include "coordinator/keys/number.h"

/* Rounds of Miller-Rabin for the primality checks of an imported key. */
#define PRIME_REPS	30
/* Longest base64 value: a 4096-bit number. */
#define B64_MAX		(BASE64_ENCODE_RAW_LENGTH(SHOUP_BITS_MAX / 8) + 4)

/* The key material fields, in the order BIND writes them. */
enum {
	BIND_MODULUS,
	BIND_PUBLIC_EXPONENT,
	BIND_PRIVATE_EXPONENT,
	BIND_PRIME1,
	BIND_PRIME2,
	BIND_EXPONENT1,
	BIND_EXPONENT2,
	BIND_COEFFICIENT,
	BIND_FIELDS
};

static const char *const BIND_NAMES[BIND_FIELDS] = {
	"Modulus", "PublicExponent", "PrivateExponent", "Prime1", "Prime2",
	"Exponent1", "Exponent2", "Coefficient",
};

void keys_rsa_private_init(keys_rsa_private_t *key)
{
	key->alg = NULL;
	mpz_inits(key->modulus, key->exponent, key->private_exponent, key->prime1,
	          key->prime2, key->exponent1, key->exponent2, key->coefficient, NULL);
	key->has_crt = false;
}

/* Overwrites the limbs before freeing them: they are the private key. */
static void rsa_wipe(mpz_t value)
{
	size_t limbs = mpz_size(value);
	if (limbs > 0) {
		explicit_bzero(mpz_limbs_modify(value, (mp_size_t)limbs), limbs * sizeof(mp_limb_t));
	}
	mpz_clear(value);
}

void keys_rsa_private_clear(keys_rsa_private_t *key)
{
	rsa_wipe(key->modulus);
	rsa_wipe(key->exponent);
	rsa_wipe(key->private_exponent);
	rsa_wipe(key->prime1);
	rsa_wipe(key->prime2);
	rsa_wipe(key->exponent1);
	rsa_wipe(key->exponent2);
	rsa_wipe(key->coefficient);
	key->alg = NULL;
	key->has_crt = false;
}

typedef struct {
	const char *name;
	keys_err_t *err;
	keys_rsa_private_t *out;
	bool seen_format;
	unsigned seen[BIND_FIELDS];   /* Line a field was given on, 0 if not yet. */
} bind_parser_t;

static int bind_base64(bind_parser_t *p, unsigned line, int field, const char *value)
{
	size_t len = strlen(value);
	if (len == 0 || len > B64_MAX) {
		return keys_err_set(p->err, KEYS_EFORMAT, "%s:%u: %s has a bad length", p->name, line,
		                    BIND_NAMES[field]);
	}
	uint8_t bytes[BASE64_DECODE_LENGTH(B64_MAX)];
	size_t bytes_len = sizeof(bytes);
	struct base64_decode_ctx ctx;
	base64_decode_init(&ctx);
	bool ok = base64_decode_update(&ctx, &bytes_len, bytes, len, value) &&
	          base64_decode_final(&ctx) && bytes_len > 0;
	mpz_t *targets[BIND_FIELDS] = {
		&p->out->modulus, &p->out->exponent, &p->out->private_exponent, &p->out->prime1,
		&p->out->prime2, &p->out->exponent1, &p->out->exponent2, &p->out->coefficient,
	};
	if (ok) {
		mpz_import(*targets[field], bytes_len, 1, 1, 1, 0, bytes);
	}
	explicit_bzero(bytes, sizeof(bytes));
	if (!ok) {
		return keys_err_set(p->err, KEYS_EFORMAT, "%s:%u: %s is not valid base64", p->name,
		                    line, BIND_NAMES[field]);
	}
	return KEYS_EOK;
}

static int bind_format(bind_parser_t *p, unsigned line, const char *value)
{
	uint64_t minor = 0;
	if (strncmp(value, "v1.", 3) != 0 || !keys_parse_decimal(value + 3, 99, &minor)) {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s:%u: unsupported Private-key-format '%.40s' (v1.x expected)",
		                    p->name, line, value);
	}
	p->seen_format = true;
	return KEYS_EOK;
}

static int bind_algorithm(bind_parser_t *p, unsigned line, const char *value)
{
	char number[8] = "";
	size_t digits = strspn(value, "0123456789");
	if (digits > 0 && digits < sizeof(number)) {
		memcpy(number, value, digits);
		number[digits] = '\0';
	}
	uint64_t alg = 0;
	if (!keys_parse_decimal(number, 255, &alg)) {
		return keys_err_set(p->err, KEYS_EFORMAT, "%s:%u: Algorithm must start with a number",
		                    p->name, line);
	}
	p->out->alg = bftdns_alg_by_number((unsigned)alg);
	if (p->out->alg == NULL) {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s:%u: algorithm %llu is not an RSA algorithm bftdns signs with "
		                    "(5, 7, 8, 10)", p->name, line, (unsigned long long)alg);
	}
	return KEYS_EOK;
}

static int bind_line(bind_parser_t *p, unsigned line, char *text)
{
	char *colon = strchr(text, ':');
	if (colon == NULL || colon[1] != ' ') {
		return keys_err_set(p->err, KEYS_EFORMAT, "%s:%u: expected 'Name: value'", p->name, line);
	}
	*colon = '\0';
	char *value = colon + 2;
	size_t value_len = strlen(value);
	while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t')) {
		value[--value_len] = '\0';
	}
	if (strcmp(text, "Private-key-format") == 0) {
		return bind_format(p, line, value);
	}
	if (strcmp(text, "Algorithm") == 0) {
		return bind_algorithm(p, line, value);
	}
	if (strcmp(text, "Engine") == 0 || strcmp(text, "Label") == 0) {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s:%u: the key is kept in a hardware module (%s:); its private "
		                    "part cannot be exported, so it cannot be split", p->name, line, text);
	}
	for (int field = 0; field < BIND_FIELDS; field++) {
		if (strcmp(text, BIND_NAMES[field]) != 0) {
			continue;
		}
		if (p->seen[field] != 0) {
			return keys_err_set(p->err, KEYS_EFORMAT, "%s:%u: duplicate %s (first on line %u)",
			                    p->name, line, text, p->seen[field]);
		}
		p->seen[field] = line;
		return bind_base64(p, line, field, value);
	}
	/* Timing and other metadata (Created:, Publish:, ...) do not matter. */
	return KEYS_EOK;
}

static int bind_finish(bind_parser_t *p)
{
	if (!p->seen_format) {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s: no 'Private-key-format:' line; not a BIND private key file",
		                    p->name);
	}
	if (p->out->alg == NULL) {
		return keys_err_set(p->err, KEYS_EFORMAT, "%s: no 'Algorithm:' line", p->name);
	}
	for (int field = BIND_MODULUS; field <= BIND_PRIME2; field++) {
		if (p->seen[field] == 0) {
			return keys_err_set(p->err, KEYS_EFORMAT, "%s: missing '%s:'", p->name,
			                    BIND_NAMES[field]);
		}
	}
	unsigned crt = (p->seen[BIND_EXPONENT1] != 0) + (p->seen[BIND_EXPONENT2] != 0) +
	               (p->seen[BIND_COEFFICIENT] != 0);
	if (crt != 0 && crt != 3) {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s: Exponent1, Exponent2 and Coefficient go together", p->name);
	}
	p->out->has_crt = crt == 3;
	return KEYS_EOK;
}

static int bind_parse_copy(bind_parser_t *p, char *copy, size_t len)
{
	if (len == 0 || copy[len - 1] != '\n') {
		return keys_err_set(p->err, KEYS_EFORMAT,
		                    "%s: empty or truncated (the last line has no newline)", p->name);
	}
	char *line = copy;
	unsigned number = 0;
	/* One line per pass; the text ends with a newline (checked above). */
	while (*line != '\0') {
		char *end = strchr(line, '\n');
		assert(end != NULL);
		*end = '\0';
		if (end > line && end[-1] == '\r') {
			end[-1] = '\0';
		}
		number++;
		if (line[0] != '\0' && line[0] != ';') {
			int ret = bind_line(p, number, line);
			if (ret != KEYS_EOK) {
				return ret;
			}
		}
		line = end + 1;
	}
	return bind_finish(p);
}

int keys_bind_parse(const char *text, size_t len, const char *name, keys_rsa_private_t *out,
                    keys_err_t *err)
{
	bind_parser_t p = { .name = name != NULL ? name : "(private key)", .err = err, .out = out };
	if (text == NULL || len > KEYS_FILE_MAX || memchr(text, '\0', len) != NULL) {
		return keys_err_set(err, KEYS_EFORMAT, "%s: not a text file of a sensible size", p.name);
	}
	char *copy = malloc(len + 1);
	if (copy == NULL) {
		return keys_err_set(err, KEYS_ENOMEM, "%s: out of memory", p.name);
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	int ret = bind_parse_copy(&p, copy, len);
	explicit_bzero(copy, len);
	free(copy);
	return ret;
}

/* N = pq with p, q distinct primes of a size the scheme takes. */
static int rsa_check_factors(const keys_rsa_private_t *key, const char *name, keys_err_t *err)
{
	size_t bits = mpz_sizeinbase(key->modulus, 2);
	if (bits < SHOUP_BITS_MIN || bits > SHOUP_BITS_MAX) {
		return keys_err_set(err, KEYS_EKEY, "%s: a %zu-bit modulus is outside %d..%d bits",
		                    name, bits, SHOUP_BITS_MIN, SHOUP_BITS_MAX);
	}
	mpz_t product;
	mpz_init(product);
	mpz_mul(product, key->prime1, key->prime2);
	bool product_ok = mpz_cmp(product, key->modulus) == 0;
	mpz_clear(product);
	if (!product_ok) {
		return keys_err_set(err, KEYS_EKEY, "%s: Prime1 x Prime2 is not the Modulus", name);
	}
	if (mpz_cmp(key->prime1, key->prime2) == 0 ||
	    mpz_probab_prime_p(key->prime1, PRIME_REPS) == 0 ||
	    mpz_probab_prime_p(key->prime2, PRIME_REPS) == 0) {
		return keys_err_set(err, KEYS_EKEY, "%s: Prime1 and Prime2 are not two distinct primes",
		                    name);
	}
	return KEYS_EOK;
}

/* e d = 1 mod lcm(p-1, q-1), and the CRT values if the file has them. */
static int rsa_check_exponents(const keys_rsa_private_t *key, const char *name, keys_err_t *err)
{
	mpz_t p1, q1, lambda, t;
	mpz_inits(p1, q1, lambda, t, NULL);
	mpz_sub_ui(p1, key->prime1, 1);
	mpz_sub_ui(q1, key->prime2, 1);
	mpz_lcm(lambda, p1, q1);
	mpz_mul(t, key->exponent, key->private_exponent);
	mpz_mod(t, t, lambda);
	int ret = KEYS_EOK;
	if (mpz_cmp_ui(key->exponent, 3) < 0 || mpz_cmp_ui(t, 1) != 0) {
		ret = keys_err_set(err, KEYS_EKEY,
		                   "%s: PrivateExponent does not invert PublicExponent", name);
	} else if (key->has_crt) {
		bool ok = true;
		mpz_mod(t, key->private_exponent, p1);
		ok = ok && mpz_cmp(t, key->exponent1) == 0;
		mpz_mod(t, key->private_exponent, q1);
		ok = ok && mpz_cmp(t, key->exponent2) == 0;
		ok = ok && mpz_invert(t, key->prime2, key->prime1) != 0 &&
		     mpz_cmp(t, key->coefficient) == 0;
		if (!ok) {
			ret = keys_err_set(err, KEYS_EKEY,
			                   "%s: Exponent1, Exponent2 or Coefficient does not match the key",
			                   name);
		}
	}
	rsa_wipe(t);
	rsa_wipe(lambda);
	rsa_wipe(q1);
	rsa_wipe(p1);
	return ret;
}

/* p = 2p' + 1 with p' prime. */
static bool rsa_is_safe_prime(const mpz_t prime)
{
	if (mpz_tstbit(prime, 0) == 0) {
		return false;
	}
	mpz_t half;
	mpz_init(half);
	mpz_sub_ui(half, prime, 1);
	mpz_fdiv_q_2exp(half, half, 1);
	bool safe = mpz_probab_prime_p(half, PRIME_REPS) != 0;
	rsa_wipe(half);
	return safe;
}

int keys_rsa_private_check(const keys_rsa_private_t *key, const char *name, keys_err_t *err)
{
	int ret = rsa_check_factors(key, name, err);
	if (ret == KEYS_EOK) {
		ret = rsa_check_exponents(key, name, err);
	}
	if (ret != KEYS_EOK) {
		return ret;
	}
	if (!rsa_is_safe_prime(key->prime1) || !rsa_is_safe_prime(key->prime2)) {
		return keys_err_set(err, KEYS_ENOTSAFE,
		                    "%s: this RSA key cannot be split into threshold shares because its "
		                    "primes are not safe primes (p = 2p'+1 with p' prime), which "
		                    "Shoup's threshold RSA needs for its share arithmetic and proofs; "
		                    "ordinary keys (dnssec-keygen, keymgr) almost never have them. "
		                    "Generate a new key with bftdns-keygen and roll the key at the "
		                    "parent (publish the new DS record)", name);
	}
	return KEYS_EOK;
}

int keys_bind_import(const char *path, unsigned n, unsigned f,
                     shoup_random_fn rnd, void *rnd_ctx,
                     const bftdns_alg_t **alg, shoup_public_t *pub, shoup_secret_t *secrets,
                     keys_err_t *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret = keys_file_read(path, KEYS_FILE_MAX, false, &text, &len, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	keys_rsa_private_t key;
	keys_rsa_private_init(&key);
	ret = keys_bind_parse(text, len, path, &key, err);
	explicit_bzero(text, len);
	free(text);
	if (ret == KEYS_EOK) {
		ret = keys_rsa_private_check(&key, path, err);
	}
	if (ret == KEYS_EOK) {
		int dealt = shoup_deal_existing(key.prime1, key.prime2, key.exponent, n, f,
		                                rnd, rnd_ctx, pub, secrets);
		if (dealt == SHOUP_ENOTSAFE) {
			ret = keys_err_set(err, KEYS_ENOTSAFE, "%s: the primes are not safe primes", path);
		} else if (dealt != SHOUP_EOK) {
			ret = keys_err_set(err, KEYS_ECRYPTO, "%s: sharing the key failed: %s", path,
			                   shoup_strerror(dealt));
		}
	}
	if (ret == KEYS_EOK) {
		*alg = key.alg;
	}
	keys_rsa_private_clear(&key);
	return ret;
}
