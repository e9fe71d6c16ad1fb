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
 * GnuTLS-typed helpers shared by link_key.c and tls.c (not API).
 */

#pragma once

#include <stddef.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "coordinator/net/link_key.h"

/*! Writes a sentence to why (if not NULL) and returns code. */
int bft_why(char *why, size_t len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*! Reads a PEM key file (mode checked: a secret). */
int bft_link_key_read(const char *path, gnutls_x509_privkey_t *out, char *why, size_t why_len);

int bft_pin_of_pubkey(gnutls_pubkey_t pub, bft_pin_t *pin);
int bft_pin_of_privkey(gnutls_x509_privkey_t key, bft_pin_t *pin);
