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
 * Link keys and pins. Each replica has one Ed25519 link key pair, kept as
 * a PKCS#8 PEM file link-<replica-id>.key with mode 0600. Its pin is
 * "sha256//" + base64(SHA-256(SubjectPublicKeyInfo DER)), the same form as
 * HPKP / curl's --pinnedpubkey, and is what peers put in their config.
 *
 * On the wire a replica presents a self-signed certificate made in memory
 * from its key at start; peers ignore everything in it except the public
 * key, whose pin must be the configured one. No CA, no names, no dates.
 *
 * How bftdns-keygen should call this later: for each replica id i in 1..n,
 * bft_link_key_generate(dir_of_replica_i, i, false, pin, why, sizeof(why))
 * and write pin into every replica's peer list (the module's config).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BFT_PIN_PREFIX		"sha256//"
#define BFT_PIN_DIGEST_LEN	32
/*! "sha256//" + 44 base64 characters + NUL. */
#define BFT_PIN_STR_MAX		64
#define BFT_WHY_MAX		256

/*! A pin, decoded. */
typedef struct {
	uint8_t digest[BFT_PIN_DIGEST_LEN];
} bft_pin_t;

/*!
 * Generates a key pair and writes dir/link-<replica_id>.key (0600, atomic,
 * refuses to replace an existing file unless replace). Writes the pin
 * string to pin. On failure why (if not NULL) gets a sentence.
 */
int bft_link_key_generate(const char *dir, unsigned replica_id, bool replace,
                          char pin[BFT_PIN_STR_MAX], char *why, size_t why_len);

/*! The file name of a replica's key in dir (BFT_ESPACE if too long). */
int bft_link_key_path(const char *dir, unsigned replica_id, char *path, size_t len);

/*!
 * Reads a key file (refused if group or others may read it) and writes its
 * pin string.
 */
int bft_link_key_pin(const char *path, char pin[BFT_PIN_STR_MAX], char *why, size_t why_len);

/*! Parses "sha256//<base64 of 32 bytes>"; BFT_EINVAL if anything is off. */
int bft_pin_parse(const char *text, bft_pin_t *pin);
/*! Formats a pin as its string. */
void bft_pin_format(const bft_pin_t *pin, char out[BFT_PIN_STR_MAX]);
/*! Pin of a DER SubjectPublicKeyInfo. */
void bft_pin_of_spki(const uint8_t *spki, size_t len, bft_pin_t *pin);
/*! Constant-time comparison (a pin is not secret, but costs nothing). */
bool bft_pin_equal(const bft_pin_t *a, const bft_pin_t *b);
