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
 * Asynchronous binary Byzantine agreement: Mostéfaoui, Moumen and Raynal
 * ("Signature-free asynchronous Byzantine consensus with t < n/3 and
 * O(n^2) messages", PODC 2014) with the CONF round that makes it safe
 * against an adversary who sees the coin early, as in HoneyBadgerBFT and
 * the hbbft crate; n >= 3f + 1, no timing assumption.
 *
 * Round r, estimate est:
 *   BVAL(r, est) to all;
 *   on f + 1 BVAL(r, b): BVAL(r, b) to all (once per b);
 *   on 2f + 1 BVAL(r, b): b joins bin_values; the first one: AUX(r, b);
 *   on n - f AUX(r, .) with values in bin_values: vals = those values,
 *     CONF(r, vals) to all;
 *   on n - f CONF(r, S), S within bin_values: the coin s of round r;
 *   vals = {b}: est = b, and if b = s decide b; vals = {0, 1}: est = s.
 *
 * Termination (hbbft's Term): a node that decides b sends TERM(b) and
 * stops; a TERM(b) counts as the sender's BVAL(b), AUX(b) and CONF({b}) in
 * every round; f + 1 TERM(b) decide b (one of them is correct).
 *
 * Coin schedule (hbbft's): rounds 0, 3, 6... use the fixed coin 1, rounds
 * 1, 4, 7... the fixed coin 0, rounds 2, 5, 8... the threshold coin (or
 * every round, conf->coin_every_round). Safety never depends on the coin;
 * a fixed coin only lets unanimous inputs decide without any crypto, and
 * one random round in three keeps the expected number of rounds constant.
 *
 * Memory: rounds up to ABA_ROUNDS_AHEAD ahead of ours are kept (a few bit
 * sets and, for threshold-coin rounds, a coin); later ones are dropped as
 * BFT_FAULT_FUTURE. Old rounds are dropped silently (slow correct nodes).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/coin.h"
#include "coordinator/proto/protocol.h"

#define ABA_ROUNDS_AHEAD	64
/*! The coin name prefix leaves room for the round. */
#define ABA_COIN_PREFIX_MAX	(COIN_NAME_MAX - 4)

/*! Output tag: one byte, the decision 0 or 1. */
#define ABA_OUTPUT_DECISION	1

typedef enum {
	ABA_BVAL = 1,
	ABA_AUX  = 2,
	ABA_CONF = 3,
	ABA_COIN = 4,
	ABA_TERM = 5,
} aba_kind_t;

/*! A decoded message; share points into the decoded bytes. */
typedef struct {
	aba_kind_t kind;
	uint32_t round;            /*!< Not for TERM. */
	uint8_t value;             /*!< BVAL, AUX, TERM: 0/1; CONF: set 1..3 (bit b = value b). */
	const uint8_t *share;      /*!< COIN: COIN_SHARE_LEN bytes. */
} aba_msg_t;

int aba_msg_encode(const aba_msg_t *msg, uint8_t *buf, size_t cap, size_t *len);
int aba_msg_decode(const uint8_t *buf, size_t len, aba_msg_t *msg);

/*! bft_params_t.conf (required). Copied at create. */
typedef struct {
	pcoin_keys_t coin;         /*!< The keys must outlive the instance. */
	const uint8_t *coin_name;  /*!< Unique per instance; the round is appended. */
	size_t coin_name_len;      /*!< 1..ABA_COIN_PREFIX_MAX. */
	bool coin_every_round;     /*!< No fixed coins (tests: exercises the crypto). */
} aba_conf_t;

typedef struct aba aba_t;

int aba_create(const bft_params_t *params, aba_t **out);
void aba_destroy(aba_t *aba);
/*!
 * This node's input (one byte, 0 or 1). Taken only while still in round 0
 * without an estimate; later it is ignored (the instance went on without
 * it, which is allowed). BFT_EINVAL for a bad byte or a second input.
 */
int aba_handle_input(aba_t *aba, bool value, const bft_env_t *env, bft_step_t *step);
int aba_handle_message(aba_t *aba, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step);
bool aba_terminated(const aba_t *aba);
/*! The decision: -1 before, else 0 or 1. */
int aba_decision(const aba_t *aba);
/*! The round this node is in (for tests and counters). */
uint32_t aba_round(const aba_t *aba);

extern const bft_protocol_ops_t aba_ops;
