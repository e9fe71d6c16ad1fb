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
 * SIG(0) (RFC 2931, for UPDATE RFC 3007): public-key authentication of an
 * UPDATE request.
 *
 * TSIG keys are shared secrets: every replica that verifies a TSIG holds
 * the secret and could make the UPDATE itself. A SIG(0) is verified with a
 * public key, so a compromised replica learns nothing that lets it sign.
 *
 * The verifier is strict: the last record of the additional section is
 * SIG with owner root, class ANY, TTL 0, type covered 0, labels 0,
 * original TTL 0, an uncompressed signer name, and it ends the message.
 * The signature covers the SIG RDATA without the signature, then the
 * message as received without the SIG record and with ARCOUNT decremented
 * (RFC 2931 section 3.1; BIND's dns_dnssec_verifymessage(), checked on
 * what nsupdate 9.18 sends). Requests only (QR clear). The result is a
 * function of the message, the keys and the given time only.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! The longest validity (expiration - inception) accepted: the 600 s of
 *  nsupdate (now - 300 to now + 300). It bounds the replay window. */
#define BFTDNS_SIG0_WINDOW_MAX	600

/*! A name in wire format is at most 255 bytes (RFC 1035 3.1). */
#define BFTDNS_SIG0_NAME_MAX	255

/*! One public key that may sign UPDATEs (a KEY RR of the configuration). */
typedef struct {
	uint8_t name[BFTDNS_SIG0_NAME_MAX]; /*!< Signer name, wire, lower case. */
	size_t name_len;
	uint8_t algorithm;                  /*!< 8, 13 or 15. */
	uint16_t keytag;                    /*!< RFC 4034 Appendix B, of rdata. */
	uint8_t *rdata;                     /*!< KEY RDATA: flags, protocol, algorithm, key. */
	size_t rdata_len;
} bftdns_sig0_key_t;

/*! The configured keys (module item update-key). */
typedef struct {
	size_t count;
	bftdns_sig0_key_t *keys;
} bftdns_sig0_keys_t;

/*! Outcomes of a verification; every refusal also gets a reason string. */
typedef enum {
	BFTDNS_SIG0_OK = 0,     /*!< Signed by a configured key, valid at now. */
	BFTDNS_SIG0_NONE,       /*!< The message does not end with a SIG record. */
	BFTDNS_SIG0_MALFORMED,  /*!< A SIG record that is not a valid SIG(0). */
	BFTDNS_SIG0_BADKEY,     /*!< No configured key of that name, algorithm, tag. */
	BFTDNS_SIG0_BADTIME,    /*!< now outside the validity, or validity too long. */
	BFTDNS_SIG0_BADSIG,     /*!< The signature does not verify. */
	BFTDNS_SIG0_ERROR,      /*!< Local failure (memory, crypto library). */
} bftdns_sig0_result_t;

/*! Where the last record of a message is (offsets into the wire). */
typedef struct {
	uint16_t type;
	size_t start;      /*!< First byte of its owner name. */
	size_t rdata;      /*!< First byte of its RDATA. */
	size_t rdata_len;
	size_t additional; /*!< Records in the additional section (ARCOUNT). */
} bftdns_sig0_rr_t;

/*!
 * Walks a DNS message by its section counts and finds its last record.
 * Fails (KNOT_EMALF) unless every record lies within the message and the
 * last one ends it exactly, or if the message has no record at all.
 */
int bftdns_sig0_last_record(const uint8_t *wire, size_t len, bftdns_sig0_rr_t *rr);

/*!
 * Parses one key, as the KEY (or DNSKEY) line of a dnssec-keygen .key file:
 * "NAME [TTL] [IN] KEY FLAGS 3 ALGORITHM BASE64...". Algorithms: 8
 * (RSASHA256), 13 (ECDSAP256SHA256), 15 (ED25519), by number or name. The
 * public key is imported to check it. On failure err says what is wrong.
 */
int bftdns_sig0_key_parse(const char *text, bftdns_sig0_key_t *key, const char **err);

/*! Whether two keys are the same key (name, algorithm, RDATA). */
bool bftdns_sig0_key_equal(const bftdns_sig0_key_t *a, const bftdns_sig0_key_t *b);

void bftdns_sig0_key_clear(bftdns_sig0_key_t *key);

void bftdns_sig0_keys_clear(bftdns_sig0_keys_t *keys);

/*!
 * Verifies the SIG(0) of an UPDATE request at time now (Unix seconds; the
 * batch's agreed time when applying). Time is compared in 32-bit serial
 * number arithmetic (RFC 4034 3.1.5, RFC 1982): inception <= now <=
 * expiration, and expiration - inception <= BFTDNS_SIG0_WINDOW_MAX.
 *
 * \param signer  Set to the key that signed, on BFTDNS_SIG0_OK.
 * \param reason  Set to a short reason on any other result (static text).
 */
bftdns_sig0_result_t bftdns_sig0_verify(const bftdns_sig0_keys_t *keys,
                                        const uint8_t *wire, size_t len, uint64_t now,
                                        const bftdns_sig0_key_t **signer,
                                        const char **reason);

/*! The name of a result (for logs). */
const char *bftdns_sig0_result_str(bftdns_sig0_result_t result);
