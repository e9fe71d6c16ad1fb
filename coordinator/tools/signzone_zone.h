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
 * The zone side of bftdns-signzone, on libldns: read an unsigned zone file,
 * add the DNSKEY and the NSEC (or NSEC3) chain, make the RRSIG of every
 * authoritative RRset with the replicas' threshold signature, check each
 * with libldns' own RSA verification, and write the signed zone.
 *
 * libldns gives the zone parser, glue detection, the NSEC/NSEC3 chains and
 * the canonical forms (RFC 4034 section 6); the signature value is never
 * made by libldns.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <ldns/ldns.h>

#include "coordinator/keys/keyfile.h"
#include "coordinator/tools/signzone_replicas.h"

typedef struct {
	uint32_t inception;           /*!< RRSIG inception (seconds since the epoch). */
	uint32_t expiration;          /*!< RRSIG expiration. */
	uint32_t dnskey_ttl;          /*!< TTL of an added DNSKEY with no DNSKEY RRset yet. */
	bool nsec3;                   /*!< NSEC3 (hash SHA-1, no opt-out) instead of NSEC. */
	uint16_t nsec3_iterations;
	uint8_t nsec3_salt[255];
	uint8_t nsec3_salt_len;
} signzone_params_t;

typedef struct {
	ldns_zone *input;             /*!< The zone as read; owns its RRs. */
	ldns_dnssec_zone *zone;       /*!< The same RRs by name and type, plus ours. */
	ldns_rr_list *added;          /*!< RRs made here (DNSKEY, NSEC*, RRSIG); owned. */
	ldns_rr *dnskey;              /*!< Our DNSKEY RR (in input or in added). */
	ldns_key *key;                /*!< RRSIG fields: algorithm, tag, times, signer. */
	ldns_rdf *origin;
	uint32_t check_time;          /*!< When libldns checks our signatures. */
	unsigned rrsets_signed;
} signzone_t;

/*!
 * Reads the unsigned zone at path for key's zone and prepares it for
 * signing: checks, DNSKEY, NSEC or NSEC3 chain.
 */
int signzone_load(signzone_t *sz, const char *path, const keys_public_t *key,
                  const signzone_params_t *params, keys_err_t *err);

/*! Makes every RRSIG through the replicas; stops at the first failure. */
int signzone_sign(signzone_t *sz, replicas_t *replicas, keys_err_t *err);

/*! Writes the signed zone to path ("-" for stdout), atomically for a file. */
int signzone_write(const signzone_t *sz, const char *path, keys_err_t *err);

void signzone_free(signzone_t *sz);
