/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <nettle/sha2.h>

#include "coordinator/net/link_key_internal.h"
#include "coordinator/net/tls.h"
#include "coordinator/proto/error.h"

/* TLS 1.3 only; GnuTLS's defaults for everything else. */
#define TLS_PRIORITY	"NORMAL:-VERS-ALL:+VERS-TLS1.3"

/* Makes a self-signed certificate for key: only its public key matters. */
static int tls_self_signed(gnutls_x509_privkey_t key, bft_node_t self, gnutls_x509_crt_t *out)
{
	gnutls_x509_crt_t crt = NULL;
	uint8_t serial[16];
	char dn[64];
	snprintf(dn, sizeof(dn), "CN=bftdns replica %u", self + 1u);
	/* Peers never check dates; wide bounds keep other tools from choking. */
	time_t now = time(NULL);
	int ret = gnutls_x509_crt_init(&crt);
	if (ret == 0) ret = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f;  /* a positive serial */
	if (ret == 0) ret = gnutls_x509_crt_set_version(crt, 3);
	if (ret == 0) ret = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (ret == 0) ret = gnutls_x509_crt_set_dn(crt, dn, NULL);
	if (ret == 0) ret = gnutls_x509_crt_set_activation_time(crt, now - 86400);
	if (ret == 0) ret = gnutls_x509_crt_set_expiration_time(crt, GNUTLS_X509_NO_WELL_DEFINED_EXPIRATION);
	if (ret == 0) ret = gnutls_x509_crt_set_key(crt, key);
	if (ret == 0) ret = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA512, 0);
	if (ret != 0) {
		gnutls_x509_crt_deinit(crt);
		return ret;
	}
	*out = crt;
	return 0;
}

static void tls_cluster_id(bft_tls_t *tls)
{
	struct sha256_ctx ctx;
	uint8_t n[2] = { (uint8_t)(tls->n >> 8), (uint8_t)tls->n };
	sha256_init(&ctx);
	sha256_update(&ctx, sizeof(n), n);
	for (unsigned i = 0; i < tls->n; i++) {
		sha256_update(&ctx, BFT_PIN_DIGEST_LEN, tls->pins[i].digest);
	}
	sha256_digest(&ctx, BFT_CLUSTER_ID_LEN, tls->cluster_id);
}

void bft_tls_bind_params(bft_tls_t *tls, const uint8_t *params, size_t len)
{
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, BFT_CLUSTER_ID_LEN, tls->cluster_id);
	sha256_update(&ctx, len, params);
	sha256_digest(&ctx, BFT_CLUSTER_ID_LEN, tls->cluster_id);
}

static int tls_parse_pins(bft_tls_t *tls, const char *const *pins, char *why, size_t why_len)
{
	for (unsigned i = 0; i < tls->n; i++) {
		if (bft_pin_parse(pins[i], &tls->pins[i]) != BFT_EOK) {
			return bft_why(why, why_len, BFT_EINVAL, "replica %u: '%s' is not a pin "
			               "(sha256//<base64 of 32 bytes>)", i + 1, pins[i] ? pins[i] : "");
		}
		for (unsigned j = 0; j < i; j++) {
			if (bft_pin_equal(&tls->pins[i], &tls->pins[j])) {
				return bft_why(why, why_len, BFT_EINVAL, "replicas %u and %u have the same pin",
				               j + 1, i + 1);
			}
		}
	}
	return BFT_EOK;
}

static int tls_load_key(bft_tls_t *tls, const char *key_path, char *why, size_t why_len)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	bft_pin_t own;
	int ret = bft_link_key_read(key_path, &key, why, why_len);
	if (ret != BFT_EOK) {
		return ret;
	}
	ret = bft_pin_of_privkey(key, &own);
	if (ret == BFT_EOK && !bft_pin_equal(&own, &tls->pins[tls->self])) {
		ret = bft_why(why, why_len, BFT_EAUTH, "%s is not the key pinned for replica %u",
		              key_path, tls->self + 1u);
	} else if (ret == BFT_EOK) {
		int gret = tls_self_signed(key, tls->self, &crt);
		if (gret == 0) {
			gret = gnutls_certificate_set_x509_key(tls->cred, &crt, 1, key);
		}
		if (gret < 0) {
			ret = bft_why(why, why_len, BFT_ETLS, "cannot make the link certificate: %s",
			              gnutls_strerror(gret));
		}
	}
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return ret;
}

int bft_tls_init(bft_tls_t *tls, const char *key_path, uint16_t n, bft_node_t self,
                 const char *const *pins, char *why, size_t why_len)
{
	memset(tls, 0, sizeof(*tls));
	if (n == 0 || n > BFT_NODES_MAX || self >= n || pins == NULL || key_path == NULL) {
		return bft_why(why, why_len, BFT_EINVAL, "bad membership (n %u, self %u)", n, self);
	}
	tls->n = n;
	tls->self = self;
	int ret = tls_parse_pins(tls, pins, why, why_len);
	if (ret != BFT_EOK) {
		return ret;
	}
	tls_cluster_id(tls);
	if (gnutls_certificate_allocate_credentials(&tls->cred) != 0 ||
	    gnutls_priority_init(&tls->priority, TLS_PRIORITY, NULL) != 0) {
		bft_tls_deinit(tls);
		return bft_why(why, why_len, BFT_ETLS, "cannot set up GnuTLS");
	}
	ret = tls_load_key(tls, key_path, why, why_len);
	if (ret != BFT_EOK) {
		bft_tls_deinit(tls);
	}
	return ret;
}

void bft_tls_deinit(bft_tls_t *tls)
{
	if (tls->cred != NULL) {
		gnutls_certificate_free_credentials(tls->cred);
	}
	if (tls->priority != NULL) {
		gnutls_priority_deinit(tls->priority);
	}
	memset(tls, 0, sizeof(*tls));
}

/* The peer's first certificate's public key as a pin. */
static int tls_peer_pin(gnutls_session_t session, bft_pin_t *pin)
{
	unsigned count = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &count);
	if (certs == NULL || count == 0 ||
	    gnutls_certificate_type_get2(session, GNUTLS_CTYPE_PEERS) != GNUTLS_CRT_X509) {
		return BFT_EAUTH;
	}
	gnutls_pubkey_t pub = NULL;
	int ret = BFT_EAUTH;
	if (gnutls_pubkey_init(&pub) == 0 &&
	    gnutls_pubkey_import_x509_raw(pub, &certs[0], GNUTLS_X509_FMT_DER, 0) == 0) {
		ret = bft_pin_of_pubkey(pub, pin);
	}
	gnutls_pubkey_deinit(pub);
	return ret;
}

/* Runs inside the handshake, after the peer's Certificate message. */
static int tls_verify(gnutls_session_t session)
{
	bft_tls_verify_t *verify = gnutls_session_get_ptr(session);
	assert(verify != NULL && verify->tls != NULL);
	bft_pin_t pin;
	if (tls_peer_pin(session, &pin) != BFT_EOK) {
		verify->unpinned = true;
		snprintf(verify->seen_pin, sizeof(verify->seen_pin), "(no usable certificate)");
		return GNUTLS_E_CERTIFICATE_ERROR;
	}
	bft_pin_format(&pin, verify->seen_pin);
	for (unsigned i = 0; i < verify->tls->n; i++) {
		if (bft_nodeset_has(verify->allowed, (bft_node_t)i) &&
		    bft_pin_equal(&pin, &verify->tls->pins[i])) {
			verify->peer = (int)i;
			return 0;
		}
	}
	verify->unpinned = true;
	return GNUTLS_E_CERTIFICATE_ERROR;
}

/* GnuTLS's own push may raise SIGPIPE on a dead peer; a replica must not die of it. */
static ssize_t tls_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct msghdr msg = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	return sendmsg((int)(intptr_t)ptr, &msg, MSG_NOSIGNAL);
}

int bft_tls_session(const bft_tls_t *tls, int fd, bool server, bft_tls_verify_t *verify,
                    gnutls_session_t *out)
{
	gnutls_session_t session = NULL;
	unsigned flags = (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS;
	int ret = gnutls_init(&session, flags);
	if (ret == 0) ret = gnutls_priority_set(session, tls->priority);
	if (ret == 0) ret = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, tls->cred);
	if (ret != 0) {
		gnutls_deinit(session);
		return BFT_ETLS;
	}
	if (server) {
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
	}
	verify->tls = tls;
	verify->peer = -1;
	verify->unpinned = false;
	verify->seen_pin[0] = '\0';
	gnutls_session_set_ptr(session, verify);
	gnutls_session_set_verify_function(session, tls_verify);
	gnutls_transport_set_int(session, fd);
	gnutls_transport_set_vec_push_function(session, tls_push);
	*out = session;
	return BFT_EOK;
}
