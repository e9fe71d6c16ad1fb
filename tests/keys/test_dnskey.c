/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * DNSKEY rdata, key tags, DS digests and zone names, checked against the
 * example of RFC 4509 section 2.3 and against libldns (an independent
 * implementation) for random keys, including RFC 3110's 3-byte exponent
 * length form.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <ldns/ldns.h>
#include <nettle/base64.h>

#include "coordinator/keys/dname.h"
#include "coordinator/keys/dnskey.h"
#include "tests/common/check.h"

/* RFC 4509 section 2.3. */
static const char RFC_KEY_B64[] =
	"AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYq"
	"USdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc"
	"2w/rljwvFw==";
static const char RFC_DS_LINE[] =
	"dskey.example.com. 86400 IN DS 60485 5 2 "
	"D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A\n";

static size_t b64_decode(const char *text, uint8_t *out, size_t size)
{
	struct base64_decode_ctx ctx;
	base64_decode_init(&ctx);
	size_t len = size;
	int ok = base64_decode_update(&ctx, &len, out, strlen(text), text) &&
	         base64_decode_final(&ctx);
	CHECK(ok);
	return ok ? len : 0;
}

static void test_rfc4509(void)
{
	uint8_t key[512];
	size_t key_len = b64_decode(RFC_KEY_B64, key, sizeof(key));
	CHECK(key_len > 3 && key[0] == 1);   /* one-byte exponent length */
	mpz_t e, n;
	mpz_inits(e, n, NULL);
	mpz_import(e, key[0], 1, 1, 1, 0, key + 1);
	mpz_import(n, key_len - 1 - key[0], 1, 1, 1, 0, key + 1 + key[0]);

	uint8_t rdata[KEYS_DNSKEY_RDATA_MAX];
	size_t len = 0;
	CHECK_EQ(keys_dnskey_rdata(n, e, 256, 5, rdata, sizeof(rdata), &len), KEYS_EOK);
	CHECK_EQ(len, 4 + key_len);
	CHECK(rdata[0] == 1 && rdata[1] == 0 && rdata[2] == 3 && rdata[3] == 5);
	CHECK(memcmp(rdata + 4, key, key_len) == 0);
	CHECK_EQ(keys_key_tag(rdata, len), 60485);

	char line[KEYS_RR_LINE_MAX];
	keys_err_t err;
	CHECK_EQ(keys_ds_line("DSKEY.example.com", 86400, rdata, len, line, sizeof(line), &err),
	         KEYS_EOK);
	CHECK(strcmp(line, RFC_DS_LINE) == 0);
	CHECK_EQ(keys_dnskey_line("dskey.example.com.", 86400, rdata, len, line, sizeof(line), &err),
	         KEYS_EOK);
	char want[1024];
	snprintf(want, sizeof(want), "dskey.example.com. 86400 IN DNSKEY 256 3 5 %s\n", RFC_KEY_B64);
	CHECK(strcmp(line, want) == 0);

	/* Too small a buffer is refused, not overrun. */
	CHECK_EQ(keys_dnskey_rdata(n, e, 256, 5, rdata, len - 1, &len), KEYS_EINVAL);
	mpz_clears(e, n, NULL);
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void random_number(mpz_t out, unsigned bits)
{
	mpz_set_ui(out, 0);
	for (unsigned i = 0; i < bits; i += 64) {
		mpz_mul_2exp(out, out, 64);
		mpz_add_ui(out, out, rng_next());
	}
	mpz_fdiv_r_2exp(out, out, bits);
	mpz_setbit(out, bits - 1);
	mpz_setbit(out, 0);
}

/* Our rdata, tag and DS against ldns reading our zone-file line. */
static void compare_with_ldns(const mpz_t n, const mpz_t e, uint8_t alg)
{
	uint8_t rdata[KEYS_DNSKEY_RDATA_MAX];
	size_t len = 0;
	CHECK_EQ(keys_dnskey_rdata(n, e, KEYS_DNSKEY_FLAGS_KSK, alg, rdata, sizeof(rdata), &len),
	         KEYS_EOK);
	char line[KEYS_RR_LINE_MAX], ds_line[KEYS_RR_LINE_MAX];
	keys_err_t err;
	CHECK_EQ(keys_dnskey_line("Zone.Example.", 3600, rdata, len, line, sizeof(line), &err),
	         KEYS_EOK);
	CHECK_EQ(keys_ds_line("zone.example", 3600, rdata, len, ds_line, sizeof(ds_line), &err),
	         KEYS_EOK);

	ldns_rr *rr = NULL;
	CHECK_EQ(ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL), LDNS_STATUS_OK);
	if (rr == NULL) {
		return;
	}
	ldns_buffer *wire = ldns_buffer_new(4096);
	CHECK_EQ(ldns_rr_rdata2buffer_wire(wire, rr), LDNS_STATUS_OK);
	CHECK_EQ(ldns_buffer_position(wire), len);
	CHECK(memcmp(ldns_buffer_begin(wire), rdata, len) == 0);
	CHECK_EQ(ldns_calc_keytag(rr), keys_key_tag(rdata, len));

	ldns_rr *ds = ldns_key_rr2ds(rr, LDNS_SHA256);
	CHECK(ds != NULL);
	if (ds != NULL) {
		ldns_rr_set_ttl(ds, 3600);
		char *text = ldns_rr2str(ds);
		/* ldns prints tabs and a lower-case digest; compare the fields. */
		char ours[KEYS_RR_LINE_MAX];
		snprintf(ours, sizeof(ours), "%s", ds_line);
		for (char *c = text; *c != '\0'; c++) {
			*c = (*c == '\t') ? ' ' : (char)toupper((unsigned char)*c);
		}
		for (char *c = ours; *c != '\0'; c++) {
			*c = (char)toupper((unsigned char)*c);
		}
		CHECK(strcmp(text, ours) == 0);
		if (strcmp(text, ours) != 0) {
			fprintf(stderr, "ldns: %sours: %s", text, ours);
		}
		free(text);
		ldns_rr_free(ds);
	}
	ldns_buffer_free(wire);
	ldns_rr_free(rr);
}

static void test_against_ldns(void)
{
	mpz_t n, e;
	mpz_inits(n, e, NULL);
	static const unsigned sizes[] = { 1024, 2048, 3072, 4096 };
	static const uint8_t algs[] = { 5, 7, 8, 10 };
	for (unsigned i = 0; i < 40; i++) {
		random_number(n, sizes[i % 4]);
		if (i % 3 == 0) {
			mpz_set_ui(e, 65537);
		} else {
			random_number(e, 2 + (unsigned)(rng_next() % 200));
		}
		compare_with_ldns(n, e, algs[i % 4]);
	}

	/* Exponent length 255 bytes: the one-byte form, at its limit. */
	random_number(n, 4096);
	random_number(e, 255 * 8);
	uint8_t rdata[KEYS_DNSKEY_RDATA_MAX];
	size_t len = 0;
	CHECK_EQ(keys_dnskey_rdata(n, e, KEYS_DNSKEY_FLAGS_KSK, 8, rdata, sizeof(rdata), &len),
	         KEYS_EOK);
	CHECK_EQ(rdata[4], 255);
	CHECK_EQ(len, 4 + 1 + 255 + 512);
	compare_with_ldns(n, e, 8);

	/* 256 bytes: the three-byte form (0, then the length in two bytes). */
	random_number(e, 256 * 8);
	CHECK_EQ(keys_dnskey_rdata(n, e, KEYS_DNSKEY_FLAGS_KSK, 8, rdata, sizeof(rdata), &len),
	         KEYS_EOK);
	CHECK(rdata[4] == 0 && rdata[5] == 1 && rdata[6] == 0);
	CHECK_EQ(len, 4 + 3 + 256 + 512);
	compare_with_ldns(n, e, 8);

	/* More than RFC 3110 allows here. */
	random_number(n, 4104);
	CHECK_EQ(keys_dnskey_rdata(n, e, KEYS_DNSKEY_FLAGS_KSK, 8, rdata, sizeof(rdata), &len),
	         KEYS_EINVAL);
	mpz_clears(n, e, NULL);
}

static void expect_name(const char *in, const char *want)
{
	char out[KEYS_DNAME_TEXT_MAX];
	keys_err_t err = { "" };
	int ret = keys_dname_normalize(in, out, &err);
	CHECK_EQ(ret, KEYS_EOK);
	CHECK(ret != KEYS_EOK || strcmp(out, want) == 0);
}

static void expect_bad_name(const char *in, const char *want)
{
	char out[KEYS_DNAME_TEXT_MAX];
	keys_err_t err = { "" };
	CHECK_ERR(keys_dname_normalize(in, out, &err), KEYS_EINVAL, err.text, want);
}

static void test_names(void)
{
	expect_name("Example.COM", "example.com.");
	expect_name("example.com.", "example.com.");
	expect_name(".", ".");
	expect_name("_tcp.a-b.Example", "_tcp.a-b.example.");

	uint8_t wire[KEYS_DNAME_WIRE_MAX];
	size_t len = 0;
	keys_err_t err;
	CHECK_EQ(keys_dname_to_wire("Ab.c", wire, &len, &err), KEYS_EOK);
	CHECK(len == 6 && memcmp(wire, "\2ab\1c\0", 6) == 0);
	CHECK_EQ(keys_dname_to_wire(".", wire, &len, &err), KEYS_EOK);
	CHECK(len == 1 && wire[0] == 0);

	expect_bad_name("", "the zone name is empty");
	expect_bad_name("a..b", "has an empty label");
	expect_bad_name(".a", "has an empty label");
	expect_bad_name("a.b..", "has an empty label");
	expect_bad_name("ex ample.com", "may contain only letters, digits");
	expect_bad_name("ex\\046ample.com", "may contain only letters, digits");

	char label[80];
	memset(label, 'a', 64);
	label[64] = '\0';
	expect_bad_name(label, "label longer than 63");
	label[63] = '\0';
	char dotted[96];
	snprintf(dotted, sizeof(dotted), "%s.", label);
	expect_name(label, dotted);

	/* 4 labels of 63 = 256 bytes of wire form with the root: too long;
	 * 3 of 63 and one of 61 = 255: the longest name there is. */
	char name[400];
	snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label, label);
	expect_bad_name(name, "longer than 255 bytes");
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s", label, label, label, label);
	CHECK_EQ(keys_dname_to_wire(name, wire, &len, &err), KEYS_EOK);
	CHECK_EQ(len, 255);
	char out[KEYS_DNAME_TEXT_MAX];
	CHECK_EQ(keys_dname_normalize(name, out, &err), KEYS_EOK);
	CHECK_EQ(strlen(out), 254);
}

int main(void)
{
	test_rfc4509();
	test_against_ldns();
	test_names();
	return check_result("test_dnskey");
}
