/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*!
 * \file
 *
 * TLS 1.3 for peer links (GnuTLS): this replica's credentials (a
 * self-signed certificate made in memory from its link key), the pins of
 * all replicas, and sessions whose handshake accepts a peer only if its
 * public key matches a pin allowed for that connection. Both ends present
 * and check a certificate. Nothing else in a certificate is looked at.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <gnutls/gnutls.h>

#include "coordinator/net/frame.h"
#include "coordinator/net/link_key.h"
#include "coordinator/proto/step.h"

/*! Credentials and membership, shared (read-only) by every connection. */
typedef struct {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t priority;
	uint16_t n;
	bft_node_t self;
	bft_pin_t pins[BFT_NODES_MAX];
	/*! SHA-256 over n and every pin (and bound parameters, bft_tls_bind_params()):
	 *  both ends of a link must agree. */
	uint8_t cluster_id[BFT_CLUSTER_ID_LEN];
} bft_tls_t;

/*!
 * Loads this replica's key (mode checked), checks that its pin is
 * pins[self] (a config that pins another key for us is refused), and makes
 * the credentials. pins: n strings "sha256//...".
 */
int bft_tls_init(bft_tls_t *tls, const char *key_path, uint16_t n, bft_node_t self,
                 const char *const *pins, char *why, size_t why_len);

/*!
 * Binds the cluster id to parameters every replica must share beyond the
 * membership (the caller's bytes: fault bound, signing protocol, zone
 * key...): id = SHA-256(id, params). A replica configured otherwise then
 * fails the HELLO instead of taking part with rules of its own.
 */
void bft_tls_bind_params(bft_tls_t *tls, const uint8_t *params, size_t len);
void bft_tls_deinit(bft_tls_t *tls);

/*! Who a session may be with, and who it turned out to be. */
typedef struct {
	const bft_tls_t *tls;
	bft_nodeset_t allowed;      /*!< Peers whose pins are accepted. */
	int peer;                   /*!< The matched peer, -1 until then. */
	bool unpinned;              /*!< The handshake saw a key that is not allowed. */
	char seen_pin[BFT_PIN_STR_MAX];  /*!< Pin of the key the peer showed (for logs). */
} bft_tls_verify_t;

/*!
 * A non-blocking session over fd, client or server; verify must outlive
 * it (its pointer is kept in the session).
 */
int bft_tls_session(const bft_tls_t *tls, int fd, bool server, bft_tls_verify_t *verify,
                    gnutls_session_t *out);
