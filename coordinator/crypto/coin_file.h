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
 * Coin key files: replica i's part of the threshold coin key (coin.h), and
 * the public-only form. Separate from the zone key's share files on
 * purpose: the coin key protects only the agreement's randomness, is
 * dealt per replica set, and must never be mistaken for a signing key.
 *
 * Format: text, exactly these lines in this order, each ending in '\n',
 * nothing else (no comments, no blank lines, no trailing spaces):
 *
 *   bftdns-coin-secret v1          or   bftdns-coin-public v1
 *   n 4
 *   f 1
 *   id 2                           (secret files only)
 *   vkey-1 <64 lower-case hex digits>
 *   ...
 *   vkey-n <64 lower-case hex digits>
 *   secret <64 lower-case hex digits>   (secret files only)
 *
 * Numbers are decimal without leading zeros. A parsed key is checked
 * (coin_public_check; for a secret file also g^secret == vkey-id), so a
 * damaged or mixed-up file is refused before a replica uses it. Secret
 * files are written with mode 0600 and refused when group or others may
 * access them. Return codes and messages are those of coordinator/keys
 * (KEYS_E*, keys_err_t).
 *
 * The library call for bftdns-keygen: coin_deal() (coin.h), then
 * coin_file_write_secret() for each replica and coin_file_write_public().
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "coordinator/crypto/coin.h"
#include "coordinator/keys/error.h"

#define COIN_FILE_SECRET_MAGIC	"bftdns-coin-secret v1"
#define COIN_FILE_PUBLIC_MAGIC	"bftdns-coin-public v1"

/*! Largest coin key file: 32 vkey lines and the rest. */
#define COIN_FILE_MAX		4096

/*!
 * The text of a secret file (sec != NULL) or a public file (sec == NULL)
 * into buf; *len gets its length. KEYS_EINVAL if buf is too small or the
 * key does not check.
 */
int coin_file_format(const coin_public_t *pub, const coin_secret_t *sec,
                     char *buf, size_t cap, size_t *len, keys_err_t *err);

/*!
 * Parses a secret file (sec != NULL) or a public file (sec == NULL) from
 * len bytes of text. name labels messages. On failure pub and sec hold no
 * key material.
 */
int coin_file_parse(const char *text, size_t len, const char *name,
                    coin_public_t *pub, coin_secret_t *sec, keys_err_t *err);

/*! Writes atomically: a secret file with mode 0600, a public one with 0644. */
int coin_file_write_secret(const char *path, const coin_public_t *pub,
                           const coin_secret_t *sec, bool replace, keys_err_t *err);
int coin_file_write_public(const char *path, const coin_public_t *pub, bool replace,
                           keys_err_t *err);

/*! Reads and checks a file; a secret file others may access is refused (KEYS_EPERM). */
int coin_file_read_secret(const char *path, coin_public_t *pub, coin_secret_t *sec,
                          keys_err_t *err);
int coin_file_read_public(const char *path, coin_public_t *pub, keys_err_t *err);
