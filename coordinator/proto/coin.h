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
 * The protocol side of the threshold common coin (crypto: coordinator/
 * crypto/coin.h): one instance per coin name. On start a node sends its
 * share to everyone; shares from others are kept as they come (one per
 * sender) and verified only once this node has started and holds f + 1 of
 * them, in node order, until f + 1 verify; the combined value is the
 * output. Verifying lazily costs nothing for shares that are never needed,
 * and a share that arrives before start is not a reason to reveal ours.
 *
 * Faults: a second share from a sender (DUPLICATE, or EQUIVOCATION if the
 * bytes differ), a share that does not verify (INVALID), bytes that are
 * not a share (MALFORMED).
 *
 * Wire: the COIN_SHARE_LEN share bytes (S_i || c || z), nothing else; the
 * player id is the sender's (node i is player i + 1).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/crypto/coin.h"
#include "coordinator/proto/protocol.h"

/*! Output tag of the coin (ops view): one byte, 0 or 1. */
#define PCOIN_OUTPUT_BIT	1

/*!
 * Coin keys as a node holds them: the public key, and either this node's
 * own secret (secret_count 1, production) or all n secrets of a dealing
 * (secret_count n, tests and the simulator, where one conf serves every
 * node and node i takes secrets[i]).
 */
typedef struct {
	const coin_public_t *pub;
	const coin_secret_t *secrets;
	size_t secret_count;
} pcoin_keys_t;

/*! This node's secret, or NULL if keys do not fit params (n, f, self). */
const coin_secret_t *pcoin_keys_secret(const pcoin_keys_t *keys, const bft_params_t *params);

/*! bft_params_t.conf of a coin run on its own (ops view). */
typedef struct {
	pcoin_keys_t keys;
	const uint8_t *name;
	size_t name_len;
} pcoin_conf_t;

typedef struct pcoin pcoin_t;

/*! A coin named name (1..COIN_NAME_MAX bytes, copied). keys must outlive it. */
int pcoin_create(const bft_params_t *params, const pcoin_keys_t *keys,
                 const uint8_t *name, size_t name_len, pcoin_t **out);
void pcoin_destroy(pcoin_t *coin);

/*!
 * Makes this node's share (once; BFT_EINVAL after) for the caller to send
 * to every node, wrapped in its own header; from now on stored shares are
 * verified and combined (faults go to step).
 */
int pcoin_start(pcoin_t *coin, uint8_t share[COIN_SHARE_LEN], bft_step_t *step);
bool pcoin_started(const pcoin_t *coin);

/*! A share from node from (untrusted bytes). */
int pcoin_handle_share(pcoin_t *coin, bft_node_t from, const uint8_t *msg, size_t len,
                       bft_step_t *step);

/*! True once the value is known; then pcoin_bit() is the coin. */
bool pcoin_done(const pcoin_t *coin);
bool pcoin_bit(const pcoin_t *coin);

/*! Shares verified so far (for tests and counters). */
unsigned pcoin_verified_count(const pcoin_t *coin);

/*! The generic view: input (any bytes) starts the coin; output is the bit. */
extern const bft_protocol_ops_t pcoin_ops;
