/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * A deterministic network for the threshold signing core (tsign.h): n
 * replicas, one pool of pending events (inputs and point-to-point message
 * copies) from which a seeded PRNG picks the next one, so every seed is a
 * different delivery order and replays exactly.
 *
 * Faulty replicas are of two kinds: a misbehaviour mode of the core itself
 * (invert-shares, random-shares, silent-signer), or an honest core whose
 * messages a wire adversary replaces (garbage, equivocation, forged
 * signatures, replays, far-future ids). Scenarios can also hold replicas
 * off the network until the first quiescence ("come back"), give some
 * replicas their requests only then ("late"), or drop every message to a
 * replica until its first request and restart it with catchup_until set.
 *
 * Time is virtual: every call gets env->now_ms, which stands still while
 * messages are pending and jumps past the help delay when none are (then
 * every replica gets tsign_tick()), so "a member of D is silent" ends the
 * way a real delay would, and replays exactly.
 *
 * After the run the checks: every correct replica output every request
 * exactly once, the bytes equal the reference signatures (made here from
 * the dealt secrets) and verify with plain RSA, and no correct replica
 * blamed a correct one.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/crypto/shoup.h"
#include "coordinator/proto/tsign.h"

#define TNET_NODES_MAX		16
#define TNET_REQUESTS_MAX	8

/*! What a wire adversary does with a faulty replica's messages. */
typedef enum {
	TNET_WIRE_HONEST = 0,
	TNET_WIRE_GARBAGE,     /*!< Random bytes, bit flips, truncations instead of (or besides) messages. */
	TNET_WIRE_EQUIVOCATE,  /*!< Half of the peers get a share changed; some get both versions. */
	TNET_WIRE_BAD_SIGS,    /*!< Adds SIGS with forged signatures (s + N, N - s, a flipped bit, random). */
	TNET_WIRE_REPLAY,      /*!< Duplicates and earlier messages to random peers. */
	TNET_WIRE_FUTURE,      /*!< Copies with ids far ahead, or never used. */
	TNET_WIRE_SHARES_ONLY, /*!< Only its SHARES go out: never a SIGS or a PROOF_REQ. */
	TNET_WIRE_KINDS,
} tnet_wire_t;

const char *tnet_wire_name(tnet_wire_t wire);

/*! A key for (n, f), dealt from a seed at 1024 bits. */
typedef struct {
	unsigned n, f;
	shoup_public_t pub;
	shoup_secret_t sec[SHOUP_PLAYERS_MAX];
} tnet_key_t;

/*! Deals a key; aborts the test binary on failure. Prints the time it took. */
void tnet_key_deal(tnet_key_t *key, unsigned n, unsigned f, uint64_t seed);
void tnet_key_clear(tnet_key_t *key);

typedef struct {
	const tnet_key_t *key;
	shoup_strategy_t strategy;
	uint64_t seed;
	tsign_mode_t mode[TNET_NODES_MAX];
	tnet_wire_t wire[TNET_NODES_MAX];
	bft_nodeset_t held;         /*!< Off the network until the first quiescence. */
	bft_nodeset_t late;         /*!< Their requests come only after it. */
	bft_nodeset_t lossy;        /*!< Lose every message before their first request. */
	unsigned requests;          /*!< 1..TNET_REQUESTS_MAX, ids spaced by 3. */
	uint16_t m;                 /*!< Messages per request. */
	uint8_t alg;                /*!< 0: RSASHA256; else the algorithm of every request. */
	uint64_t window;            /*!< 0: default. */
	uint32_t keep_max;          /*!< 0: default. */
	bool expect_none_before_heal;  /*!< No correct replica outputs before the first quiescence. */
	bool future_blame_ok;       /*!< FUTURE faults about correct replicas are expected (small window). */
	bool nettle_check;          /*!< Also verify every signature with nettle. */
	bool all_sign;              /*!< Designated signers off (tsign_conf_t.designated). */
	bft_nodeset_t help_spam;    /*!< Faulty: also send HELP for every message of every
	                                 request they see, on every message they get. */
} tnet_conf_t;

/*! Message counts of one kind, summed over a run. */
typedef struct {
	uint64_t msgs;              /*!< Point-to-point copies. */
	uint64_t bytes;
} tnet_count_t;

typedef struct {
	bool ok;
	char why[256];
	tnet_count_t kind[6];       /*!< By message kind (1..5); [0] all. */
	uint64_t faults;            /*!< Faults reported by correct replicas. */
	uint64_t finished_by_sigs;  /*!< Correct replicas' outputs helped by SIGS. */
	uint64_t proof_requests;
	uint64_t resends;
	uint64_t outputs_before_heal;
	uint64_t events;
	uint64_t ticks;             /*!< Steps of virtual time past the help delay (at
	                                 quiescence) that made a replica send something. */
	uint64_t shares[TNET_NODES_MAX];  /*!< Own shares computed (with or without proof). */
	uint64_t help_shares[TNET_NODES_MAX];
	uint64_t help_requests;     /*!< HELPs sent by correct replicas. */
} tnet_result_t;

/*! The id of request r of a run (0-based). */
uint64_t tnet_request_id(unsigned r);

/*! The replicas neither in a mode nor under a wire adversary. */
bft_nodeset_t tnet_correct(const tnet_conf_t *conf);

/*! Runs one scenario and checks it; false if the harness itself failed. */
bool tnet_run(const tnet_conf_t *conf, tnet_result_t *res);

/*! One line naming the scenario (for failures and figures). */
void tnet_describe(const tnet_conf_t *conf, char *buf, size_t len);
