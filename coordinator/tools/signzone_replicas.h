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
 * The replicas of bftdns-signzone: the key share files it was given, each
 * acting as one replica that answers a signing request with its share (and
 * a proof when asked), some of them corrupted on purpose (the test mode of
 * Cachin & Samar: a corrupted replica inverts the bits of its shares). The
 * shares reach a shoup_collector_t in the order the files were given, as if
 * the network delivered them in that order; the collector's strategy
 * (basic, optproof, optte) decides when a signature is made.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/crypto/shoup.h"
#include "coordinator/keys/keyfile.h"

/*! How a replica damages its shares. */
typedef enum {
	REPLICA_HONEST,
	REPLICA_INVERT,   /*!< Every bit of the share value inverted (mod N). */
	REPLICA_RANDOM,   /*!< A random value in [1, N) instead of the share. */
} replica_mode_t;

typedef struct {
	keys_share_t shares[SHOUP_PLAYERS_MAX];   /*!< In the order given. */
	unsigned count;
	replica_mode_t modes[SHOUP_PLAYERS_MAX];  /*!< By position in shares[]. */
	shoup_strategy_t strategy;
	/* Counters for the report on stderr. */
	uint64_t signatures;
	uint64_t shares_made;
	uint64_t proofs_made;
	uint64_t combine_attempts;
	uint32_t blamed;                          /*!< Bit id-1: found faulty at least once. */
} replicas_t;

void replicas_init(replicas_t *replicas, shoup_strategy_t strategy);
void replicas_clear(replicas_t *replicas);

/*!
 * Loads a share file as one more replica: it must be of the same key as the
 * others, with an id not yet taken.
 */
int replicas_add_file(replicas_t *replicas, const char *path, keys_err_t *err);

/*! Applies "ID:invert" or "ID:random" to the loaded replica ID. */
int replicas_corrupt(replicas_t *replicas, const char *spec, keys_err_t *err);

/*! The key every replica holds (valid once one file is loaded). */
const keys_public_t *replicas_key(const replicas_t *replicas);

/*!
 * Threshold-signs data (the RRSIG signing data, hashed and encoded per the
 * key's algorithm) and writes the signature as modulus-size bytes into sig.
 * The signature is checked with plain RSA before it is returned. On failure
 * err says which replicas were blamed and why no signature could be made.
 */
int replicas_sign(replicas_t *replicas, const uint8_t *data, size_t len, uint8_t *sig,
                  size_t sig_size, keys_err_t *err);
