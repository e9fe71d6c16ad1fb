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
 * Key share files: all that replica i needs of a threshold zone key, and the
 * public-only form of the same key for tools that only verify.
 *
 * The format (doc/keys.md) is line-oriented text, one "field value" per
 * line after a header line that names the kind and version:
 *
 *   bftdns-key-share v1            or   bftdns-key-public v1
 *   zone example.com.
 *   algorithm 8
 *   bits 2048
 *   n 4
 *   f 1
 *   id 2                           (share files only)
 *   key-tag 40309
 *   modulus <hex>
 *   exponent <hex>
 *   vbase <hex>
 *   vkey-1 <hex> ... vkey-n <hex>
 *   public-digest <hex>            SHA-256 of the public fields (see below)
 *   share <hex>                    (share files only)
 *
 * Lines starting with '#' and empty lines are ignored. The reader is strict:
 * every field exactly once, nothing unknown, every value in range, and the
 * key must be consistent (shoup_public_check, the key tag, and for a share
 * file v^share == vkey-id), so that a damaged or mixed-up file is refused
 * with a sentence that says what is wrong before a replica uses it.
 *
 * The public digest is SHA-256 over the public fields in canonical text form
 * (the lines from "zone" to "vkey-n" as the writer writes them, without
 * "id"). It catches damage to fields nothing else checks (another
 * replica's vkey) and is the key's fingerprint: every replica's file of one
 * key has the same digest. It is a checksum, not an authenticator.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/crypto/shoup.h"
#include "coordinator/keys/dname.h"
#include "coordinator/keys/error.h"

#define KEYS_SHARE_MAGIC	"bftdns-key-share"
#define KEYS_PUBLIC_MAGIC	"bftdns-key-public"
#define KEYS_FORMAT_VERSION	"v1"

/*! A threshold zone key as every replica and verifier knows it. */
typedef struct {
	char zone[KEYS_DNAME_TEXT_MAX];   /*!< Normalised: lower case, trailing dot. */
	const bftdns_alg_t *alg;          /*!< DNSSEC algorithm the key signs with. */
	uint16_t key_tag;                 /*!< Of the DNSKEY with flags 257 (RFC 4034 B). */
	shoup_public_t key;               /*!< N, e, v, v_1..v_n, n, f. */
} keys_public_t;

/*! What replica secret.id holds: the public key and its own share. */
typedef struct {
	keys_public_t pub;
	shoup_secret_t secret;
} keys_share_t;

void keys_public_init(keys_public_t *pub);
void keys_public_clear(keys_public_t *pub);
void keys_share_init(keys_share_t *share);
void keys_share_clear(keys_share_t *share);   /*!< Wipes the secret. */

/*!
 * Completes a public key whose pub->key was filled by the dealer: sets the
 * normalised zone name and the algorithm, checks the key
 * (shoup_public_check) and computes the key tag.
 */
int keys_public_finish(keys_public_t *pub, const char *zone, const bftdns_alg_t *alg,
                       keys_err_t *err);

/*! Size of the public digest (SHA-256). */
#define KEYS_PUBLIC_DIGEST_SIZE	32

/*! Computes the public digest of a complete public key. */
int keys_public_digest(const keys_public_t *pub, uint8_t digest[KEYS_PUBLIC_DIGEST_SIZE],
                       keys_err_t *err);

/*! Copies the public part of src into dst (both initialised). */
void keys_public_copy(keys_public_t *dst, const keys_public_t *src);

/*!
 * The text of a share file (the public key and player secret->id's share)
 * or of a public file into a malloc'd, NUL-terminated buffer (*text; *len
 * without the NUL). Free a share's text with
 * keys_text_free, which wipes it first.
 */
int keys_share_format(const keys_public_t *pub, const shoup_secret_t *secret, char **text,
                      size_t *len, keys_err_t *err);
int keys_public_format(const keys_public_t *pub, char **text, size_t *len, keys_err_t *err);
void keys_text_free(char *text, size_t len);

/*!
 * Parses the text of a share file / public file (len bytes, need not be
 * NUL-terminated). name labels the messages ("share-1.key:7: ...").
 * out must be initialised; on failure it holds no key material.
 */
int keys_share_parse(const char *text, size_t len, const char *name, keys_share_t *out,
                     keys_err_t *err);
int keys_public_parse(const char *text, size_t len, const char *name, keys_public_t *out,
                      keys_err_t *err);

/*!
 * Writes a share file (mode 0600) or a public file (mode 0644) atomically
 * (see file.h). If replace is false an existing file is left alone.
 */
int keys_share_write(const char *path, const keys_public_t *pub, const shoup_secret_t *secret,
                     bool replace, keys_err_t *err);
int keys_public_write(const char *path, const keys_public_t *pub, bool replace,
                      keys_err_t *err);

/*!
 * Reads and checks a share file; one that group or others may access is
 * refused (KEYS_EPERM), like ssh does with private keys.
 */
int keys_share_read(const char *path, keys_share_t *out, keys_err_t *err);
/*! Reads and checks a public file (no mode requirement). */
int keys_public_read(const char *path, keys_public_t *out, keys_err_t *err);
