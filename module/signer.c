/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/crypto/shoup.h"
#include "coordinator/keys/dnskey.h"
#include "coordinator/keys/keyfile.h"
#include "module/signer.h"

struct bftdns_signer {
	keys_share_t share;            /*!< Public key and this replica's secret share. */
	size_t modulus_bytes;          /*!< Signature size. */
	shoup_strategy_t protocol;
	uint8_t dnskey[KEYS_DNSKEY_RDATA_MAX];
	knotd_signer_t knotd;          /*!< What Knot calls. */
};

/*!
 * Gathers f + 1 shares of x, this replica's among them, into a verified
 * signature. n = 1: this replica's share is the only one needed.
 */
static int signer_collect(const bftdns_signer_t *signer, const mpz_t x, mpz_t sig)
{
	const shoup_public_t *pub = &signer->share.pub.key;
	if (pub->f != 0) {
		/* f + 1 shares: the change is signed by the group (threshold.h). */
		return KNOT_ENOTSUP;
	}

	shoup_share_t share;
	shoup_share_init(&share);
	bool with_proof = (signer->protocol == SHOUP_STRATEGY_BASIC);
	int ret = shoup_share_sign(pub, &signer->share.secret, x, with_proof, &share);
	if (ret == SHOUP_EOK) {
		const shoup_share_t *shares[] = { &share };
		ret = shoup_combine(pub, x, shares, 1, sig);
	}
	shoup_share_clear(&share);

	return (ret == SHOUP_EOK) ? KNOT_EOK : KNOT_ERROR;
}

static int signer_sign(void *ctx, const uint8_t *digest, size_t digest_len,
                       uint8_t *sig, size_t sig_len)
{
	const bftdns_signer_t *signer = ctx;
	const keys_public_t *pub = &signer->share.pub;
	if (sig_len != signer->modulus_bytes || digest_len != pub->alg->digest_size) {
		return KNOT_EINVAL;
	}

	mpz_t x, y;
	mpz_inits(x, y, NULL);
	int ret = KNOT_ERROR;
	if (bftdns_alg_encode_digest(pub->alg, digest, signer->modulus_bytes, x) != SHOUP_EOK) {
		goto done;
	}
	ret = signer_collect(signer, x, y);
	if (ret != KNOT_EOK) {
		goto done;
	}

	/* Never hand Knot a signature that does not verify (a faulty share
	 * slipped through, or a bug): the change fails instead. */
	if (!shoup_signature_verify(&pub->key, x, y) ||
	    bftdns_alg_signature_bytes(y, signer->modulus_bytes, sig) != SHOUP_EOK) {
		ret = KNOT_ERROR;
	}
done:
	mpz_clears(x, y, NULL);
	return ret;
}

/*! Zone name of the module in the key file's form: lower case, final dot. */
static void zone_text(knotd_mod_t *mod, char *out, size_t out_size)
{
	if (knot_dname_to_str(out, knotd_mod_zone(mod), out_size) == NULL) {
		out[0] = '\0';
	}
	for (char *c = out; *c != '\0'; c++) {
		*c = tolower((unsigned char)*c);
	}
}

int bftdns_signer_load(knotd_mod_t *mod, const bftdns_conf_t *conf,
                       bftdns_signer_t **out)
{
	bftdns_signer_t *signer = calloc(1, sizeof(*signer));
	if (signer == NULL) {
		return KNOT_ENOMEM;
	}
	keys_share_init(&signer->share);
	signer->protocol = conf->protocol;

	keys_err_t err = { "" };
	int ret = keys_share_read(conf->key_share, &signer->share, &err);
	if (ret != KEYS_EOK) {
		knotd_mod_log(mod, LOG_ERR, "key share '%s' unusable: %s", conf->key_share, err.text);
		goto fail;
	}

	const keys_public_t *pub = &signer->share.pub;
	char zone[KNOT_DNAME_TXT_MAXLEN + 1];
	zone_text(mod, zone, sizeof(zone));
	if (strcmp(pub->zone, zone) != 0) {
		knotd_mod_log(mod, LOG_ERR, "key share '%s' is for zone %s, not this zone",
		              conf->key_share, pub->zone);
		goto fail;
	}
	if (pub->key.n != conf->replicas || pub->key.f != conf->faults ||
	    signer->share.secret.id != conf->replica_id) {
		knotd_mod_log(mod, LOG_ERR, "key share '%s' is share %u of a key for n = %u, "
		              "f = %u; the configuration says replica %u of %u, f = %u",
		              conf->key_share, signer->share.secret.id, pub->key.n, pub->key.f,
		              conf->replica_id, conf->replicas, conf->faults);
		goto fail;
	}
	size_t dnskey_len = 0;
	ret = keys_dnskey_rdata(pub->key.modulus, pub->key.exponent, KEYS_DNSKEY_FLAGS_KSK,
	                        pub->alg->number, signer->dnskey, sizeof(signer->dnskey),
	                        &dnskey_len);
	if (ret != KEYS_EOK) {
		knotd_mod_log(mod, LOG_ERR, "key share '%s': no DNSKEY for its public key",
		              conf->key_share);
		goto fail;
	}

	signer->modulus_bytes = (pub->key.bits + 7) / 8;
	signer->knotd = (knotd_signer_t) {
		.dnskey = signer->dnskey,
		.dnskey_len = dnskey_len,
		.sign = signer_sign,
		.ctx = signer,
	};

	*out = signer;
	return KNOT_EOK;
fail:
	bftdns_signer_free(signer);
	return KNOT_EINVAL;
}

void bftdns_signer_free(bftdns_signer_t *signer)
{
	if (signer == NULL) {
		return;
	}
	keys_share_clear(&signer->share);
	free(signer);
}

const knotd_signer_t *bftdns_signer_knotd(const bftdns_signer_t *signer)
{
	return (signer != NULL) ? &signer->knotd : NULL;
}

void bftdns_signer_describe(const bftdns_signer_t *signer, unsigned *algorithm,
                            unsigned *key_tag, unsigned *bits)
{
	*algorithm = signer->share.pub.alg->number;
	*key_tag = signer->share.pub.key_tag;
	*bits = signer->share.pub.key.bits;
}

bool bftdns_signer_threshold(const bftdns_signer_t *signer)
{
	return signer->share.pub.key.f > 0;
}

const keys_share_t *bftdns_signer_share(const bftdns_signer_t *signer)
{
	return &signer->share;
}

size_t bftdns_signer_sig_size(const bftdns_signer_t *signer)
{
	return signer->modulus_bytes;
}

bool bftdns_signer_verify(const void *ctx, const uint8_t *digest, const uint8_t *sig)
{
	const bftdns_signer_t *signer = ctx;
	const keys_public_t *pub = &signer->share.pub;
	mpz_t x, y;
	mpz_inits(x, y, NULL);
	mpz_import(y, signer->modulus_bytes, 1, 1, 1, 0, sig);
	bool valid = bftdns_alg_encode_digest(pub->alg, digest, signer->modulus_bytes,
	                                      x) == SHOUP_EOK &&
	             shoup_signature_verify(&pub->key, x, y);
	mpz_clears(x, y, NULL);
	return valid;
}
