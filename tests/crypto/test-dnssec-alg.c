/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * dnssec_alg: the algorithm table, digests against published test vectors
 * (FIPS 180 "abc"), and the EMSA-PKCS1-v1_5 encoding against a byte-by-byte
 * construction from RFC 8017's DigestInfo prefixes.
 */

#include <string.h>

#include "tests/crypto/crypto_test.h"

static void hex_decode(const char *hex, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
	}
}

static void test_table(void)
{
	const unsigned numbers[] = { 5, 7, 8, 10 };
	const char *names[] = { "rsasha1", "rsasha1-nsec3-sha1", "rsasha256", "rsasha512" };
	const char *mnemonics[] = { "RSASHA1", "RSASHA1-NSEC3-SHA1", "RSASHA256", "RSASHA512" };
	const size_t sizes[] = { 20, 20, 32, 64 };
	for (unsigned i = 0; i < 4; i++) {
		const bftdns_alg_t *alg = bftdns_alg_by_number(numbers[i]);
		CHECK(alg != NULL && alg->number == numbers[i], "number %u", numbers[i]);
		if (alg == NULL) {
			continue;
		}
		CHECK(strcmp(alg->name, names[i]) == 0 && strcmp(alg->mnemonic, mnemonics[i]) == 0,
		      "names of %u", numbers[i]);
		CHECK(alg->digest_size == sizes[i], "digest size of %u", numbers[i]);
		CHECK(bftdns_alg_by_name(names[i]) == alg, "by name %s", names[i]);
		CHECK(bftdns_alg_by_name(mnemonics[i]) == alg, "by mnemonic %s", mnemonics[i]);
		char num[8];
		snprintf(num, sizeof(num), "%u", numbers[i]);
		CHECK(bftdns_alg_by_name(num) == alg, "by number string %s", num);
	}
	CHECK(bftdns_alg_by_name("RsaSha256") == bftdns_alg_by_number(8), "mixed case");
	const unsigned not_ours[] = { 0, 1, 3, 6, 13, 15, 256, 263 };
	for (unsigned i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++) {
		CHECK(bftdns_alg_by_number(not_ours[i]) == NULL, "number %u", not_ours[i]);
	}
	const char *bad_names[] = { "", "rsa", "ecdsap256sha256", "8 ", " 8", "8x", "264",
	                            "-8", "rsasha256 ", "99999999999999999999" };
	for (unsigned i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		CHECK(bftdns_alg_by_name(bad_names[i]) == NULL, "name '%s'", bad_names[i]);
	}
	CHECK(bftdns_alg_by_name(NULL) == NULL, "NULL name");
}

static void test_digests(void)
{
	static const struct { unsigned alg; const char *hex; } vectors[] = {
		{ 5, "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ 8, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ 10, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
	};
	for (unsigned i = 0; i < 3; i++) {
		const bftdns_alg_t *alg = bftdns_alg_by_number(vectors[i].alg);
		uint8_t digest[64], expect[64];
		hex_decode(vectors[i].hex, expect, alg->digest_size);
		CHECK(bftdns_alg_digest(alg, (const uint8_t *)"abc", 3, digest) == SHOUP_EOK, "digest");
		CHECK(memcmp(digest, expect, alg->digest_size) == 0, "%s(abc)", alg->name);
	}
	/* The empty message, with and without a data pointer. */
	const bftdns_alg_t *sha256 = bftdns_alg_by_number(8);
	uint8_t d1[32], d2[32], expect[32];
	hex_decode("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", expect, 32);
	CHECK(bftdns_alg_digest(sha256, NULL, 0, d1) == SHOUP_EOK, "NULL, 0");
	CHECK(bftdns_alg_digest(sha256, (const uint8_t *)"", 0, d2) == SHOUP_EOK, "\"\", 0");
	CHECK(memcmp(d1, expect, 32) == 0 && memcmp(d2, expect, 32) == 0, "sha256()");
	CHECK(bftdns_alg_digest(sha256, NULL, 1, d1) == SHOUP_EINVAL, "NULL, 1");
	/* A copy works (looked up by number, its digest_size not trusted);
	 * a number that is not ours does not. */
	bftdns_alg_t copy = *sha256;
	copy.digest_size = 20;
	CHECK(bftdns_alg_digest(&copy, (const uint8_t *)"", 0, d1) == SHOUP_EOK &&
	      memcmp(d1, expect, 32) == 0, "copy");
	copy.number = 13;
	CHECK(bftdns_alg_digest(&copy, (const uint8_t *)"a", 1, d1) == SHOUP_EINVAL, "not ours");
	CHECK(bftdns_alg_digest(NULL, (const uint8_t *)"a", 1, d1) == SHOUP_EINVAL, "NULL alg");
}

/* 0x00 0x01 FF.. 0x00 DigestInfo digest, built by hand. */
static void encode_by_hand(const bftdns_alg_t *alg, const uint8_t *digest,
                           size_t modulus_bytes, uint8_t *out)
{
	static const char *prefixes[] = {
		"3021300906052b0e03021a05000414",
		"3031300d060960864801650304020105000420",
		"3051300d060960864801650304020305000440",
	};
	const char *hex = alg->digest_size == 20 ? prefixes[0] :
	                  alg->digest_size == 32 ? prefixes[1] : prefixes[2];
	size_t prefix_len = strlen(hex) / 2;
	size_t t_len = prefix_len + alg->digest_size;
	memset(out, 0xff, modulus_bytes);
	out[0] = 0x00;
	out[1] = 0x01;
	out[modulus_bytes - t_len - 1] = 0x00;
	hex_decode(hex, out + modulus_bytes - t_len, prefix_len);
	memcpy(out + modulus_bytes - alg->digest_size, digest, alg->digest_size);
}

static void test_encoding(void)
{
	const unsigned numbers[] = { 5, 7, 8, 10 };
	const size_t sizes[] = { 128, 256, 384, 512, 200 };
	mpz_t x, y;
	mpz_inits(x, y, NULL);
	for (unsigned a = 0; a < 4; a++) {
		const bftdns_alg_t *alg = bftdns_alg_by_number(numbers[a]);
		for (unsigned s = 0; s < 5; s++) {
			uint8_t data[77], digest[64], expect[512], got[512];
			test_random_bytes(data, sizeof(data));
			CHECK(bftdns_alg_digest(alg, data, sizeof(data), digest) == SHOUP_EOK, "digest");
			CHECK(bftdns_alg_encode_digest(alg, digest, sizes[s], x) == SHOUP_EOK, "encode");
			CHECK(bftdns_alg_encode(alg, data, sizeof(data), sizes[s], y) == SHOUP_EOK, "encode");
			CHECK(mpz_cmp(x, y) == 0, "encode == digest + encode_digest");
			encode_by_hand(alg, digest, sizes[s], expect);
			CHECK(bftdns_alg_signature_bytes(x, sizes[s], got) == SHOUP_EOK, "bytes");
			CHECK(memcmp(got, expect, sizes[s]) == 0, "%s in %zu bytes", alg->name, sizes[s]);
		}
		uint8_t digest[64] = { 0 };
		CHECK(bftdns_alg_encode_digest(alg, digest, 64, x) == SHOUP_EINVAL, "64 bytes");
		CHECK(bftdns_alg_encode_digest(alg, digest, 513, x) == SHOUP_EINVAL, "513 bytes");
		CHECK(bftdns_alg_encode_digest(alg, NULL, 128, x) == SHOUP_EINVAL, "NULL digest");
	}
	mpz_clears(x, y, NULL);
}

static void test_signature_bytes(void)
{
	mpz_t v;
	mpz_init_set_ui(v, 0x0102);
	uint8_t out[8];
	const uint8_t expect[8] = { 0, 0, 0, 0, 0, 0, 1, 2 };
	CHECK(bftdns_alg_signature_bytes(v, 8, out) == SHOUP_EOK &&
	      memcmp(out, expect, 8) == 0, "left padding");
	mpz_set_ui(v, 0);
	memset(out, 0xaa, sizeof(out));
	CHECK(bftdns_alg_signature_bytes(v, 8, out) == SHOUP_EOK &&
	      memcmp(out, "\0\0\0\0\0\0\0\0", 8) == 0, "zero");
	mpz_ui_pow_ui(v, 2, 64);
	CHECK(bftdns_alg_signature_bytes(v, 8, out) == SHOUP_ERANGE, "too large");
	mpz_set_si(v, -5);
	CHECK(bftdns_alg_signature_bytes(v, 8, out) == SHOUP_EINVAL, "negative");
	mpz_clear(v);
}

int main(void)
{
	test_table();
	test_digests();
	test_encoding();
	test_signature_bytes();
	return test_finish("test-dnssec-alg");
}
