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
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nettle/base64.h>
#include <nettle/sha2.h>

#include "coordinator/keys/file.h"
#include "coordinator/net/link_key.h"
#include "coordinator/net/link_key_internal.h"
#include "coordinator/proto/error.h"

/* A key file is a few hundred bytes; anything much larger is not one. */
#define LINK_KEY_FILE_MAX	8192

int bft_why(char *why, size_t len, int code, const char *fmt, ...)
{
	if (why != NULL && len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return code;
}

int bft_link_key_path(const char *dir, unsigned replica_id, char *path, size_t len)
{
	int ret = snprintf(path, len, "%s/link-%u.key", dir, replica_id);
	return ret > 0 && (size_t)ret < len ? BFT_EOK : BFT_ESPACE;
}

void bft_pin_of_spki(const uint8_t *spki, size_t len, bft_pin_t *pin)
{
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, len, spki);
	sha256_digest(&ctx, BFT_PIN_DIGEST_LEN, pin->digest);
}

void bft_pin_format(const bft_pin_t *pin, char out[BFT_PIN_STR_MAX])
{
	size_t prefix = strlen(BFT_PIN_PREFIX);
	memcpy(out, BFT_PIN_PREFIX, prefix);
	/* 32 bytes are 44 base64 characters with padding. */
	base64_encode_raw((char *)out + prefix, BFT_PIN_DIGEST_LEN, pin->digest);
	out[prefix + BASE64_ENCODE_RAW_LENGTH(BFT_PIN_DIGEST_LEN)] = '\0';
}

int bft_pin_parse(const char *text, bft_pin_t *pin)
{
	size_t prefix = strlen(BFT_PIN_PREFIX);
	size_t b64 = BASE64_ENCODE_RAW_LENGTH(BFT_PIN_DIGEST_LEN);
	if (text == NULL || strncmp(text, BFT_PIN_PREFIX, prefix) != 0 ||
	    strlen(text) != prefix + b64) {
		return BFT_EINVAL;
	}
	struct base64_decode_ctx ctx;
	uint8_t out[BASE64_DECODE_LENGTH(44)];
	size_t out_len = sizeof(out);
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &out_len, out, b64, text + prefix) ||
	    !base64_decode_final(&ctx) || out_len != BFT_PIN_DIGEST_LEN) {
		return BFT_EINVAL;
	}
	memcpy(pin->digest, out, BFT_PIN_DIGEST_LEN);
	/* One pin, one spelling: refuse non-canonical padding bits. */
	char again[BFT_PIN_STR_MAX];
	bft_pin_format(pin, again);
	return strcmp(again, text) == 0 ? BFT_EOK : BFT_EINVAL;
}

bool bft_pin_equal(const bft_pin_t *a, const bft_pin_t *b)
{
	uint8_t diff = 0;
	for (size_t i = 0; i < BFT_PIN_DIGEST_LEN; i++) {
		diff |= a->digest[i] ^ b->digest[i];
	}
	return diff == 0;
}

int bft_pin_of_pubkey(gnutls_pubkey_t pub, bft_pin_t *pin)
{
	gnutls_datum_t der = { NULL, 0 };
	if (gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) != GNUTLS_E_SUCCESS) {
		return BFT_ETLS;
	}
	bft_pin_of_spki(der.data, der.size, pin);
	gnutls_free(der.data);
	return BFT_EOK;
}

int bft_pin_of_privkey(gnutls_x509_privkey_t key, bft_pin_t *pin)
{
	gnutls_privkey_t priv = NULL;
	gnutls_pubkey_t pub = NULL;
	int ret = BFT_ETLS;
	if (gnutls_privkey_init(&priv) == 0 &&
	    gnutls_privkey_import_x509(priv, key, 0) == 0 &&
	    gnutls_pubkey_init(&pub) == 0 &&
	    gnutls_pubkey_import_privkey(pub, priv, 0, 0) == 0) {
		ret = bft_pin_of_pubkey(pub, pin);
	}
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv);
	return ret;
}

int bft_link_key_read(const char *path, gnutls_x509_privkey_t *out, char *why, size_t why_len)
{
	char *pem = NULL;
	size_t len = 0;
	keys_err_t err;
	int ret = keys_file_read(path, LINK_KEY_FILE_MAX, true, &pem, &len, &err);
	if (ret != KEYS_EOK) {
		return bft_why(why, why_len, ret == KEYS_EPERM ? BFT_EAUTH : BFT_ENOENT, "%s", err.text);
	}
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t datum = { (unsigned char *)pem, (unsigned)len };
	ret = gnutls_x509_privkey_init(&key);
	if (ret == 0) {
		ret = gnutls_x509_privkey_import2(key, &datum, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN);
	}
	gnutls_memset(pem, 0, len);
	free(pem);
	if (ret != 0) {
		gnutls_x509_privkey_deinit(key);
		return bft_why(why, why_len, BFT_EMALF, "%s: not a private key: %s", path,
		               gnutls_strerror(ret));
	}
	*out = key;
	return BFT_EOK;
}

int bft_link_key_pin(const char *path, char pin[BFT_PIN_STR_MAX], char *why, size_t why_len)
{
	gnutls_x509_privkey_t key = NULL;
	int ret = bft_link_key_read(path, &key, why, why_len);
	if (ret != BFT_EOK) {
		return ret;
	}
	bft_pin_t digest;
	ret = bft_pin_of_privkey(key, &digest);
	gnutls_x509_privkey_deinit(key);
	if (ret != BFT_EOK) {
		return bft_why(why, why_len, ret, "%s: cannot derive the public key", path);
	}
	bft_pin_format(&digest, pin);
	return BFT_EOK;
}

/* Writes key as PKCS#8 PEM to path with mode 0600. */
static int link_key_write(gnutls_x509_privkey_t key, const char *path, bool replace,
                          char *why, size_t why_len)
{
	gnutls_datum_t pem = { NULL, 0 };
	int ret = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
	                                            GNUTLS_PKCS_PLAIN, &pem);
	if (ret != 0) {
		return bft_why(why, why_len, BFT_ETLS, "cannot encode the key: %s", gnutls_strerror(ret));
	}
	keys_err_t err;
	ret = keys_file_write(path, pem.data, pem.size, 0600, replace, &err);
	gnutls_memset(pem.data, 0, pem.size);
	gnutls_free(pem.data);
	if (ret != KEYS_EOK) {
		return bft_why(why, why_len, ret == KEYS_EEXIST ? BFT_EEXIST : BFT_EIO, "%s", err.text);
	}
	return BFT_EOK;
}

int bft_link_key_generate(const char *dir, unsigned replica_id, bool replace,
                          char pin[BFT_PIN_STR_MAX], char *why, size_t why_len)
{
	char path[4096];
	if (dir == NULL || replica_id == 0 ||
	    bft_link_key_path(dir, replica_id, path, sizeof(path)) != BFT_EOK) {
		return bft_why(why, why_len, BFT_EINVAL, "bad directory or replica id");
	}
	gnutls_x509_privkey_t key = NULL;
	int ret = gnutls_x509_privkey_init(&key);
	if (ret == 0) {
		ret = gnutls_x509_privkey_generate(key, GNUTLS_PK_EDDSA_ED25519, 0, 0);
	}
	if (ret != 0) {
		gnutls_x509_privkey_deinit(key);
		return bft_why(why, why_len, BFT_ETLS, "cannot generate a key: %s", gnutls_strerror(ret));
	}
	bft_pin_t digest;
	ret = bft_pin_of_privkey(key, &digest);
	if (ret == BFT_EOK) {
		ret = link_key_write(key, path, replace, why, why_len);
	} else {
		bft_why(why, why_len, ret, "cannot derive the public key");
	}
	gnutls_x509_privkey_deinit(key);
	if (ret == BFT_EOK) {
		bft_pin_format(&digest, pin);
	}
	return ret;
}
