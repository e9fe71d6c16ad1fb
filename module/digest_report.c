/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <string.h>

#include "coordinator/net/link_key_internal.h"
#include "coordinator/proto/error.h"
#include "module/digest_report.h"

#define REPORT_CONTEXT		"bftdns digest report 2"
#define REPORT_CONTEXT_LEN	(sizeof(REPORT_CONTEXT) - 1)
#define REPORT_ZONE_MAX		255
#define REPORT_MESSAGE_MAX	(REPORT_CONTEXT_LEN + 1 + REPORT_ZONE_MAX + \
				 BFTDNS_DIGEST_CLAIM_SIZE)

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

/*! What is signed: the report bound to its zone; 0 if the name is too long. */
static size_t report_message(uint8_t out[REPORT_MESSAGE_MAX], const uint8_t *zone,
                             size_t zone_len, const uint8_t *claim)
{
	if (zone == NULL || zone_len == 0 || zone_len > REPORT_ZONE_MAX) {
		return 0;
	}
	uint8_t *p = out;
	memcpy(p, REPORT_CONTEXT, REPORT_CONTEXT_LEN);
	p += REPORT_CONTEXT_LEN;
	*p++ = (uint8_t)zone_len;
	memcpy(p, zone, zone_len);
	p += zone_len;
	memcpy(p, claim, BFTDNS_DIGEST_CLAIM_SIZE);
	p += BFTDNS_DIGEST_CLAIM_SIZE;
	return (size_t)(p - out);
}

int bftdns_digest_signer_load(bftdns_digest_signer_t *signer, const char *path,
                              char *why, size_t why_len)
{
	memset(signer, 0, sizeof(*signer));
	gnutls_x509_privkey_t x509 = NULL;
	int ret = bft_link_key_read(path, &x509, why, why_len);
	if (ret != BFT_EOK) {
		return ret;
	}

	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = { NULL, 0 };
	ret = BFT_ETLS;
	if (gnutls_privkey_init(&signer->key) == 0 &&
	    gnutls_privkey_import_x509(signer->key, x509, GNUTLS_PRIVKEY_IMPORT_COPY) == 0 &&
	    gnutls_privkey_get_pk_algorithm(signer->key, NULL) == GNUTLS_PK_EDDSA_ED25519 &&
	    gnutls_pubkey_init(&pub) == 0 &&
	    gnutls_pubkey_import_privkey(pub, signer->key, 0, 0) == 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) == 0 &&
	    der.size == BFTDNS_DIGEST_SPKI_SIZE) {
		memcpy(signer->spki, der.data, BFTDNS_DIGEST_SPKI_SIZE);
		bft_pin_of_spki(signer->spki, BFTDNS_DIGEST_SPKI_SIZE, &signer->pin);
		ret = BFT_EOK;
	}
	gnutls_free(der.data);
	gnutls_pubkey_deinit(pub);
	gnutls_x509_privkey_deinit(x509);
	if (ret != BFT_EOK) {
		bftdns_digest_signer_clear(signer);
		return bft_why(why, why_len, ret, "%s: not an Ed25519 link key", path);
	}
	return BFT_EOK;
}

void bftdns_digest_signer_clear(bftdns_digest_signer_t *signer)
{
	if (signer->key != NULL) {
		gnutls_privkey_deinit(signer->key);
	}
	memset(signer, 0, sizeof(*signer));
}

int bftdns_digest_report_sign(const bftdns_digest_signer_t *signer, const uint8_t *zone,
                              size_t zone_len, const bftdns_digest_claim_t *claim,
                              uint8_t *out)
{
	if (signer == NULL || signer->key == NULL || claim == NULL || claim->batch == 0 ||
	    out == NULL) {
		return BFT_EINVAL;
	}
	put_u64(out, claim->batch);
	put_u64(out + 8, claim->time_ms);
	memcpy(out + 16, claim->digest, BFTDNS_DIGEST_SIZE);
	memcpy(out + BFTDNS_DIGEST_CLAIM_SIZE, signer->spki, BFTDNS_DIGEST_SPKI_SIZE);

	uint8_t msg[REPORT_MESSAGE_MAX];
	size_t msg_len = report_message(msg, zone, zone_len, out);
	if (msg_len == 0) {
		return BFT_EINVAL;
	}
	gnutls_datum_t data = { msg, (unsigned)msg_len }, sig = { NULL, 0 };
	if (gnutls_privkey_sign_data2(signer->key, GNUTLS_SIGN_EDDSA_ED25519, 0,
	                              &data, &sig) != 0) {
		return BFT_ETLS;
	}
	int ret = BFT_ETLS;
	if (sig.size == BFTDNS_DIGEST_SIG_SIZE) {
		memcpy(out + BFTDNS_DIGEST_REPORT_SIZE - BFTDNS_DIGEST_SIG_SIZE, sig.data,
		       BFTDNS_DIGEST_SIG_SIZE);
		ret = BFT_EOK;
	}
	gnutls_free(sig.data);
	return ret;
}

bool bftdns_digest_report_read(const uint8_t *in, size_t len, const uint8_t *zone,
                               size_t zone_len, const bft_pin_t *pin,
                               bftdns_digest_claim_t *claim)
{
	if (in == NULL || len != BFTDNS_DIGEST_REPORT_SIZE || pin == NULL || claim == NULL) {
		return false;
	}
	/* Batches are numbered from 1: a report of batch 0 names no state. */
	uint64_t value = get_u64(in);
	if (value == 0) {
		return false;
	}

	/* The key must be the pinned one before its signature means anything. */
	const uint8_t *spki = in + BFTDNS_DIGEST_CLAIM_SIZE;
	bft_pin_t got;
	bft_pin_of_spki(spki, BFTDNS_DIGEST_SPKI_SIZE, &got);
	if (!bft_pin_equal(&got, pin)) {
		return false;
	}

	uint8_t msg[REPORT_MESSAGE_MAX];
	size_t msg_len = report_message(msg, zone, zone_len, in);
	if (msg_len == 0) {
		return false;
	}
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t der = { (unsigned char *)spki, BFTDNS_DIGEST_SPKI_SIZE };
	gnutls_datum_t data = { msg, (unsigned)msg_len };
	gnutls_datum_t sig = { (unsigned char *)in + BFTDNS_DIGEST_REPORT_SIZE -
	                       BFTDNS_DIGEST_SIG_SIZE, BFTDNS_DIGEST_SIG_SIZE };
	bool valid = gnutls_pubkey_init(&pub) == 0 &&
	             gnutls_pubkey_import(pub, &der, GNUTLS_X509_FMT_DER) == 0 &&
	             gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_EDDSA_ED25519, 0,
	                                        &data, &sig) >= 0;
	gnutls_pubkey_deinit(pub);
	if (!valid) {
		return false;
	}

	bftdns_digest_report_claim(in, claim);
	return true;
}

void bftdns_digest_report_claim(const uint8_t in[BFTDNS_DIGEST_REPORT_SIZE],
                                bftdns_digest_claim_t *claim)
{
	claim->batch = get_u64(in);
	claim->time_ms = get_u64(in + 8);
	memcpy(claim->digest, in + 16, BFTDNS_DIGEST_SIZE);
}
