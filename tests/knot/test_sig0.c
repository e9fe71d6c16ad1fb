/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The SIG(0) verifier of mod-bftdns (module/sig0.h) on UPDATEs that BIND's
 * nsupdate 9.18 signed (captured from the wire, keys from dnssec-keygen -T
 * KEY, one per algorithm): each verifies at both ends of its validity and
 * not one second beyond; every flipped bit of two kinds at every position,
 * every truncation, and each malformed field (type covered, labels,
 * original TTL, owner, class, TTL, RDLENGTH, compressed signer, response,
 * validity longer than 600 s or negative) is refused, for the right reason
 * where the field is checked before the signature. Key lines: good ones
 * with their key tags, and malformed ones refused with a message.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdnssec/crypto.h>
#include <libknot/libknot.h>

#include "module/sig0.h"
#include "tests/common/check.h"

/* The .key lines dnssec-keygen wrote (the ECDSA and RSA keys split by
 * blanks as it writes them). */
static const char *key_ecdsa =
	"client.example.com. IN KEY 512 3 13 d4+vRAJlrPzoHAHUl8aFlMQ4HIadJ+pMzdYXVbB0imrTrPRIwTg0Elb1 "
	"2Yl6IxRsXbs+FQPqJRojZXbjZdZLwQ==";
static const char *key_ed25519 =
	"ed.example.com. IN KEY 512 3 15 cWnmr27RqOaYPM9IsaQCUbty9wp46VxJgugfQ9E8Xqs=";
static const char *key_rsa =
	"rsa.example.com. IN KEY 512 3 8 AwEAAbtidyhbz+IUE198WjqNSYh6zFr6TF/lR0HUkPsu02EVH+r969A+ "
	"tBeBE4wGLm1dJiwQa+XCz9srkqEkVX5XvSOGyyfpYOKB2hwqqOVl7PTk qiy6l6gE3HEyahh9ITjSAvfpOGXvkPYqn"
	"+kKpw7PCJbXkVB4cIkr6Ds6 TWWNxSfXxQeFvJUnnMLAO4uHSE4IG6IU+KrVAyK47PdOpXxMeETG9tTb Q77OSIHi/"
	"wtJySj4I/XiekbVDgMoSyZ+soo1mMfyK3tgmzEs6TVanrlR 58iKNOfzpo5L/N77ovP5DghS3zqlMeTqO3veBtHNsNy5"
	"Ckb2aquKfyi/ 8oqz5Q2Cja8=";

/* "update add x.example.com. 300 A 192.0.2.9" to zone example.com., as
 * nsupdate -k K<name>.+<alg>+<tag>.private sent it. */
static const char *msg_ecdsa =
	"6abb28000001000000010001076578616d706c6503636f6d00000600010178c0"
	"0c000100010000012c0004c000020900001800ff00000000006600000d000000"
	"00006b04bfb26b04bd5af7d106636c69656e74076578616d706c6503636f6d00"
	"3c44541c8e6c617da38231a991526616a1e681c122271b884101939c38e68d8f"
	"46de7cd060a760bc4f5f00cd44262515a63b1f3b3960a666234799e0fc8f112c";
static const char *msg_ed25519 =
	"43f928000001000000010001076578616d706c6503636f6d00000600010178c0"
	"0c000100010000012c0004c000020900001800ff00000000006200000f000000"
	"00006b04bebf6b04bc67ea1f026564076578616d706c6503636f6d00bc6f8430"
	"bbded5c19fb0b3e419768a8ee89578f9956ed04c2b0a991e9c1bbecf207fe7e3"
	"11f9b23c52a61ee0da1f3a75d73ead452578a62296a7183e581bc005";
static const char *msg_rsa =
	"e37728000001000000010001076578616d706c6503636f6d00000600010178c0"
	"0c000100010000012c0004c000020900001800ff000000000123000008000000"
	"00006b04bebf6b04bc67d39103727361076578616d706c6503636f6d007020d5"
	"39f1b94813e5bba4d06a19508e308791689fd890347ef1ceec90ae9e2ac525cb"
	"408628c5dbce2edc538ba23d08ea4516c7cac62b64a7ac61310b5fbc8e23b0dd"
	"bcceae6f0b79d1d9713ee76ca4eb57140dbd77063ed9f01f24f8b017f0058b0a"
	"10ad7f75f387bf8b1a7af9ea59741c9e0fe167fbcc5093e92a939613cdd12a0f"
	"5841bf10e801d1ee630fc9ab231b7712ac4d2ecd8245bd38ab03fa86f3ca64c6"
	"360f9ac4b378044e451c3f85b4363776fba8542a46619a6abcd367e67d18a6b5"
	"37555c6a2f37202ebbe6f13f598dde1a1859bcdba7f1582be93d1fd9cf6e0111"
	"368461fefaf9556192b6dbcf82ba3439371d319a3d0c7cdc1a9b4e9349";

/* Where the SIG record and its fields are in these messages. */
#define SIG_START	47
#define SIG_CLASS	(SIG_START + 3)
#define SIG_TTL		(SIG_START + 5)
#define SIG_RDLEN	(SIG_START + 9)
#define SIG_RDATA	(SIG_START + 11)
#define SIG_COVERED	(SIG_RDATA + 0)
#define SIG_LABELS	(SIG_RDATA + 3)
#define SIG_ORIG_TTL	(SIG_RDATA + 4)
#define SIG_EXPIRE	(SIG_RDATA + 8)
#define SIG_INCEPT	(SIG_RDATA + 12)
#define SIG_SIGNER	(SIG_RDATA + 18)

#define MSG_MAX		1024

typedef struct {
	const char *name;
	const char *key_text;
	const char *hex;
	uint16_t keytag;
	uint8_t msg[MSG_MAX];
	size_t len;
	uint32_t inception, expiration;
	bftdns_sig0_key_t key;
} fixture_t;

static fixture_t fixtures[] = {
	{ .name = "ECDSAP256SHA256", .keytag = 63441 },
	{ .name = "ED25519", .keytag = 59935 },
	{ .name = "RSASHA256", .keytag = 54161 },
};

static bftdns_sig0_keys_t all_keys;

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t len = strlen(hex) / 2;
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = v;
	}
	return len;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xFF;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static bftdns_sig0_result_t verify(const uint8_t *msg, size_t len, uint64_t now,
                                   const char **reason)
{
	const char *dummy;
	return bftdns_sig0_verify(&all_keys, msg, len, now, NULL, reason ? reason : &dummy);
}

static void test_keys(void)
{
	for (size_t i = 0; i < 3; i++) {
		fixture_t *f = &fixtures[i];
		const char *err = "";
		CHECK_ERR(bftdns_sig0_key_parse(f->key_text, &f->key, &err), KNOT_EOK, err, "");
		CHECK_EQ(f->key.keytag, f->keytag);
	}
	CHECK_EQ(fixtures[0].key.algorithm, 13);
	CHECK_EQ(fixtures[1].key.algorithm, 15);
	CHECK_EQ(fixtures[2].key.algorithm, 8);

	/* The same key as a DNSKEY line, with a TTL, by algorithm name, no dot. */
	bftdns_sig0_key_t k;
	const char *err = "";
	CHECK_EQ(bftdns_sig0_key_parse("ED.example.com 3600 DNSKEY 512 3 ED25519 "
	                               "cWnmr27RqOaYPM9IsaQCUbty9wp46VxJgugfQ9E8Xqs=",
	                               &k, &err), KNOT_EOK);
	CHECK(bftdns_sig0_key_equal(&k, &fixtures[1].key));
	CHECK_EQ(k.keytag, 59935);
	bftdns_sig0_key_clear(&k);

	struct { const char *text, *want; } bad[] = {
		{ "", "NAME KEY" },
		{ "ed.example.com.", "KEY record" },
		{ "ed.example.com. IN A 192.0.2.1", "KEY record" },
		{ "ed.example.com. IN KEY 512 3", "NAME KEY FLAGS" },
		{ "ed.example.com. IN KEY 512 4 15 cWnmr27RqOaYPM9IsaQCUbty9wp46VxJgugfQ9E8Xqs=",
		  "protocol 3" },
		{ "ed.example.com. IN KEY 49664 3 15 cWnmr27RqOaYPM9IsaQCUbty9wp46VxJgugfQ9E8Xqs=",
		  "no key" },
		{ "ed.example.com. IN KEY 65536 3 15 cWnmr27RqOaYPM9IsaQCUbty9wp46VxJgugfQ9E8Xqs=",
		  "NAME KEY FLAGS" },
		{ "ed.example.com. IN KEY 512 3 5 cWnmr27RqOaYPM9IsaQCUbty9wp46VxJgugfQ9E8Xqs=",
		  "algorithm must be" },
		{ "ed.example.com. IN KEY 512 3 ECDSAP384SHA384 cWnmr27RqOaYPM9IsaQCUbty9wp46VxJgugfQ9E8Xqs=",
		  "algorithm must be" },
		{ "ed.example.com. IN KEY 512 3 15 not*base64", "base64" },
		{ "ed.example.com. IN KEY 512 3 15", "NAME KEY FLAGS" },
		/* 31 bytes: not an Ed25519 key; an Ed25519 key as ECDSA. */
		{ "ed.example.com. IN KEY 512 3 15 cWnmr27RqOaYPM9IsaQCUbty9wp46VxJgugfQ9E8Xg==",
		  "not a valid key" },
		{ "ed.example.com. IN KEY 512 3 13 cWnmr27RqOaYPM9IsaQCUbty9wp46VxJgugfQ9E8Xqs=",
		  "not a valid key" },
		{ "a..b IN KEY 512 3 15 cWnmr27RqOaYPM9IsaQCUbty9wp46VxJgugfQ9E8Xqs=", "domain name" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = "";
		int ret = bftdns_sig0_key_parse(bad[i].text, &k, &err);
		CHECK_ERR(ret, KNOT_EINVAL, err, bad[i].want);
		CHECK(k.rdata == NULL);
	}
	/* Too long, too many words. */
	char long_text[5000];
	memset(long_text, 'A', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	CHECK_ERR(bftdns_sig0_key_parse(long_text, &k, &err), KNOT_EINVAL, err, "too long");
	char words[400] = "ed.example.com. IN KEY 512 3 15";
	for (int i = 0; i < 70; i++) {
		strcat(words, " A");
	}
	CHECK_ERR(bftdns_sig0_key_parse(words, &k, &err), KNOT_EINVAL, err, "too many");
}

static void test_valid(void)
{
	for (size_t i = 0; i < 3; i++) {
		fixture_t *f = &fixtures[i];
		const bftdns_sig0_key_t *signer = NULL;
		const char *reason = "";
		uint64_t mid = f->inception + 300;
		CHECK_EQ(bftdns_sig0_verify(&all_keys, f->msg, f->len, mid, &signer, &reason),
		         BFTDNS_SIG0_OK);
		CHECK(signer == &all_keys.keys[i]);
		CHECK_EQ(verify(f->msg, f->len, f->inception, NULL), BFTDNS_SIG0_OK);
		CHECK_EQ(verify(f->msg, f->len, f->expiration, NULL), BFTDNS_SIG0_OK);
		CHECK_ERR(verify(f->msg, f->len, f->inception - 1, &reason), BFTDNS_SIG0_BADTIME,
		          reason, "not yet valid");
		CHECK_ERR(verify(f->msg, f->len, f->expiration + 1, &reason), BFTDNS_SIG0_BADTIME,
		          reason, "expired");
		/* 32-bit serial arithmetic: the same time 2^32 s later is valid too. */
		CHECK_EQ(verify(f->msg, f->len, mid + (UINT64_C(1) << 32), NULL), BFTDNS_SIG0_OK);
		CHECK_EQ(verify(f->msg, f->len, mid + (UINT64_C(1) << 31), NULL), BFTDNS_SIG0_BADTIME);

		/* Only the other keys configured: unknown key. */
		bftdns_sig0_key_t others[2];
		for (size_t j = 0, n = 0; j < 3; j++) {
			if (j != i) {
				others[n++] = fixtures[j].key;
			}
		}
		bftdns_sig0_keys_t without = { .count = 2, .keys = others };
		CHECK_ERR(bftdns_sig0_verify(&without, f->msg, f->len, mid, NULL, &reason),
		          BFTDNS_SIG0_BADKEY, reason, "not configured");
		CHECK_EQ(bftdns_sig0_verify(NULL, f->msg, f->len, mid, NULL, &reason),
		         BFTDNS_SIG0_BADKEY);
	}
}

/* Every single-bit change of two kinds anywhere, and every truncation:
 * never accepted (and never a crash, for valgrind or ASan to see). */
static void test_tampered(void)
{
	for (size_t i = 0; i < 3; i++) {
		fixture_t *f = &fixtures[i];
		uint64_t mid = f->inception + 300;
		uint8_t m[MSG_MAX];
		size_t accepted = 0;
		for (size_t pos = 0; pos < f->len; pos++) {
			for (unsigned bit = 0x01; bit <= 0x20; bit <<= 5) {
				memcpy(m, f->msg, f->len);
				m[pos] ^= bit;
				accepted += (verify(m, f->len, mid, NULL) == BFTDNS_SIG0_OK);
			}
		}
		CHECK_EQ(accepted, 0);
		for (size_t len = 0; len < f->len; len++) {
			accepted += (verify(f->msg, len, mid, NULL) == BFTDNS_SIG0_OK);
		}
		CHECK_EQ(accepted, 0);
		/* A byte more: the SIG record no longer ends the message. */
		memcpy(m, f->msg, f->len);
		m[f->len] = 0;
		CHECK_EQ(verify(m, f->len + 1, mid, NULL), BFTDNS_SIG0_NONE);
	}
}

/* One field changed in a copy of the ECDSA message; the result and reason. */
static void check_field(size_t pos, const uint8_t *bytes, size_t n,
                        bftdns_sig0_result_t want, const char *why, int line)
{
	fixture_t *f = &fixtures[0];
	uint8_t m[MSG_MAX];
	memcpy(m, f->msg, f->len);
	memcpy(m + pos, bytes, n);
	const char *reason = "";
	bftdns_sig0_result_t got = verify(m, f->len, f->inception + 300, &reason);
	if (got != want || strstr(reason, why) == NULL) {
		fprintf(stderr, "line %d: got %s '%s', want %s '%s'\n", line,
		        bftdns_sig0_result_str(got), reason, bftdns_sig0_result_str(want), why);
	}
	CHECK(got == want && strstr(reason, why) != NULL);
}
#define FIELD(pos, bytes, want, why) \
	check_field(pos, (const uint8_t *)(bytes), sizeof(bytes) - 1, want, why, __LINE__)

static void test_malformed(void)
{
	fixture_t *f = &fixtures[0];
	uint64_t mid = f->inception + 300;
	const char *reason = "";

	FIELD(SIG_COVERED, "\x00\x01", BFTDNS_SIG0_MALFORMED, "type covered");
	FIELD(SIG_LABELS, "\x01", BFTDNS_SIG0_MALFORMED, "labels");
	FIELD(SIG_ORIG_TTL, "\x00\x00\x00\x01", BFTDNS_SIG0_MALFORMED, "original TTL");
	FIELD(SIG_CLASS, "\x00\x01", BFTDNS_SIG0_MALFORMED, "class");
	FIELD(SIG_TTL, "\x00\x00\x00\x01", BFTDNS_SIG0_MALFORMED, "TTL");
	FIELD(2, "\xa8", BFTDNS_SIG0_MALFORMED, "response");
	/* Another type last: not a SIG(0) at all (RRSIG, TSIG). */
	FIELD(SIG_START + 1, "\x00\x2e", BFTDNS_SIG0_NONE, "no SIG(0)");
	FIELD(SIG_START + 1, "\x00\xfa", BFTDNS_SIG0_NONE, "no SIG(0)");
	/* ARCOUNT 0: the SIG is in the update section, data to add. */
	FIELD(10, "\x00\x00", BFTDNS_SIG0_NONE, "no SIG(0)");
	/* RDLENGTH one more or one less than the bytes there. */
	FIELD(SIG_RDLEN, "\x00\x67", BFTDNS_SIG0_NONE, "no SIG(0)");
	FIELD(SIG_RDLEN, "\x00\x65", BFTDNS_SIG0_NONE, "no SIG(0)");
	/* Validity: 601 s, negative; another algorithm; another key tag. */
	uint8_t t[4];
	wr32(t, f->inception + 601);
	check_field(SIG_EXPIRE, t, 4, BFTDNS_SIG0_BADTIME, "longer than 600", __LINE__);
	wr32(t, f->inception - 1);
	check_field(SIG_EXPIRE, t, 4, BFTDNS_SIG0_BADTIME, "negative", __LINE__);
	FIELD(SIG_RDATA + 2, "\x0f", BFTDNS_SIG0_BADKEY, "not configured");
	FIELD(SIG_RDATA + 16, "\x00\x00", BFTDNS_SIG0_BADKEY, "not configured");
	/* Signer in upper case: the same key, but the RDATA as signed differs. */
	FIELD(SIG_SIGNER + 1, "C", BFTDNS_SIG0_BADSIG, "does not verify");
	/* Label length with the extended-label bits. */
	FIELD(SIG_SIGNER, "\x46", BFTDNS_SIG0_MALFORMED, "signer name");

	uint8_t m[MSG_MAX];
	/* Owner a pointer to the zone name instead of root (one byte longer). */
	memcpy(m, f->msg, SIG_START);
	m[SIG_START] = 0xc0;
	m[SIG_START + 1] = 0x0c;
	memcpy(m + SIG_START + 2, f->msg + SIG_START + 1, f->len - SIG_START - 1);
	CHECK_ERR(verify(m, f->len + 1, mid, &reason), BFTDNS_SIG0_MALFORMED, reason, "owner");

	/* Signer name compressed: a pointer to the zone name (RDLENGTH fixed). */
	size_t name_len = 20;  /* \x06client\x07example\x03com\x00 */
	size_t sig_len = f->len - SIG_SIGNER - name_len;
	memcpy(m, f->msg, SIG_SIGNER);
	m[SIG_SIGNER] = 0xc0;
	m[SIG_SIGNER + 1] = 0x0c;
	memcpy(m + SIG_SIGNER + 2, f->msg + SIG_SIGNER + name_len, sig_len);
	wr16(m + SIG_RDLEN, 18 + 2 + sig_len);
	CHECK_ERR(verify(m, SIG_SIGNER + 2 + sig_len, mid, &reason), BFTDNS_SIG0_MALFORMED,
	          reason, "compressed");

	/* No signature; a signature one byte short or long. */
	memcpy(m, f->msg, f->len);
	wr16(m + SIG_RDLEN, 18 + name_len);
	CHECK_ERR(verify(m, SIG_SIGNER + name_len, mid, &reason), BFTDNS_SIG0_MALFORMED,
	          reason, "without signature");
	wr16(m + SIG_RDLEN, 18 + name_len + 63);
	CHECK_ERR(verify(m, f->len - 1, mid, &reason), BFTDNS_SIG0_BADSIG, reason, "verify");
	wr16(m + SIG_RDLEN, 18 + name_len + 65);
	m[f->len] = 0;
	CHECK_ERR(verify(m, f->len + 1, mid, &reason), BFTDNS_SIG0_BADSIG, reason, "verify");
	/* RDATA shorter than its fixed part. */
	wr16(m + SIG_RDLEN, 10);
	CHECK_ERR(verify(m, SIG_RDATA + 10, mid, &reason), BFTDNS_SIG0_MALFORMED, reason,
	          "truncated");

	/* Headers and counts that do not fit the bytes. */
	bftdns_sig0_rr_t rr;
	CHECK(bftdns_sig0_last_record(f->msg, 11, &rr) != KNOT_EOK);
	CHECK(bftdns_sig0_last_record(NULL, 0, &rr) != KNOT_EOK);
	memcpy(m, f->msg, f->len);
	m[4] = m[6] = m[8] = m[10] = 0xff;
	m[5] = m[7] = m[9] = m[11] = 0xff;
	CHECK(bftdns_sig0_last_record(m, f->len, &rr) != KNOT_EOK);
	memcpy(m, f->msg, 12);
	memset(m + 4, 0, 8);
	CHECK(bftdns_sig0_last_record(m, 12, &rr) != KNOT_EOK);  /* No record at all. */
	/* The walker finds the SIG as the last record. */
	CHECK_EQ(bftdns_sig0_last_record(f->msg, f->len, &rr), KNOT_EOK);
	CHECK_EQ(rr.type, KNOT_RRTYPE_SIG);
	CHECK_EQ(rr.start, SIG_START);
	CHECK_EQ(rr.rdata, SIG_RDATA);
	CHECK_EQ(rr.additional, 1);
}

int main(void)
{
	dnssec_crypto_init();
	const char *texts[] = { key_ecdsa, key_ed25519, key_rsa };
	const char *hexes[] = { msg_ecdsa, msg_ed25519, msg_rsa };
	for (size_t i = 0; i < 3; i++) {
		fixture_t *f = &fixtures[i];
		f->key_text = texts[i];
		f->hex = hexes[i];
		f->len = unhex(f->hex, f->msg, sizeof(f->msg));
		f->expiration = rd32(f->msg + SIG_EXPIRE);
		f->inception = rd32(f->msg + SIG_INCEPT);
	}

	test_keys();
	bftdns_sig0_key_t keys[3] = { fixtures[0].key, fixtures[1].key, fixtures[2].key };
	all_keys.count = 3;
	all_keys.keys = keys;
	if (check_failures == 0) {
		test_valid();
		test_tampered();
		test_malformed();
	}
	for (size_t i = 0; i < 3; i++) {
		bftdns_sig0_key_clear(&fixtures[i].key);
	}
	dnssec_crypto_cleanup();
	return check_result("test_sig0");
}
