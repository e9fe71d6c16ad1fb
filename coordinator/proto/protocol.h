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
 * The sans-I/O protocol interface (after hbbft's ConsensusProtocol).
 *
 * A protocol core is a state machine with three entry points:
 *
 *   x_handle_input(x, input, len, env, step)    our own node's request
 *   x_handle_message(x, from, msg, len, env, step)  bytes from node `from`
 *   x_terminated(x)                             nothing more will happen
 *
 * Each call appends what it wants done to the step (step.h): messages to
 * send, outputs, faults of peers. The core does no I/O, starts no thread,
 * reads no clock and no randomness source: time and randomness come in
 * through env. The same core therefore runs under the deterministic
 * simulator (coordinator/sim) and over the TLS links (coordinator/core).
 *
 * Return codes: BFT_EOK, or an error (error.h) for OUR misuse or a full
 * step. Peer bytes never produce an error and never reach an assertion:
 * malformed or unwelcome messages become faults in the step and change
 * nothing else.
 *
 * A generic driver reaches a core through bft_protocol_ops_t. A core also
 * exports its typed functions and message structs for a parent protocol
 * that wraps it (see bft_step_lift()).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/step.h"

/*!
 * Randomness source: fills out[0..len) and returns 0, anything else on
 * failure. The same shape as shoup_random_fn, so env->random can be
 * handed to the threshold crypto as it is.
 */
typedef int (*bft_random_fn)(void *ctx, uint8_t *out, size_t len);

/*! What the driver passes into every call: the outside world, as input. */
typedef struct {
	uint64_t now_ms;        /*!< Driver's monotonic clock (virtual in the simulator). */
	bft_random_fn random;   /*!< Seeded PRNG in the simulator, getrandom(2) in production. */
	void *random_ctx;
} bft_env_t;

/*! Fills out from env->random; BFT_EIO if the source fails. */
int bft_env_random(const bft_env_t *env, uint8_t *out, size_t len);

/*! Parameters every protocol instance gets. */
typedef struct {
	uint16_t n;             /*!< Nodes, 1..BFT_NODES_MAX. */
	uint16_t f;             /*!< Faults tolerated, n >= 3f + 1. */
	bft_node_t self;        /*!< This node, 0..n-1. */
	const void *conf;       /*!< Protocol-specific, may be NULL; must outlive the instance. */
} bft_params_t;

/*! Checks n, f and self: BFT_EOK or BFT_EINVAL. */
int bft_params_check(const bft_params_t *params);

/*! A protocol as a generic driver sees it. */
typedef struct bft_protocol_ops {
	const char *name;
	/*! Makes an instance in its initial state (also after a crash). */
	int (*create)(const bft_params_t *params, void **proto);
	void (*destroy)(void *proto);
	int (*handle_input)(void *proto, const uint8_t *input, size_t len,
	                    const bft_env_t *env, bft_step_t *step);
	int (*handle_message)(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
	                      const bft_env_t *env, bft_step_t *step);
	bool (*terminated)(const void *proto);
	/*! Names a protocol fault kind (>= BFT_FAULT_PROTOCOL); may be NULL. */
	const char *(*fault_name)(uint16_t kind);
} bft_protocol_ops_t;

/*! Name of any fault kind for logs: shared, protocol's own, or "fault". */
const char *bft_protocol_fault_name(const bft_protocol_ops_t *ops, uint16_t kind);
