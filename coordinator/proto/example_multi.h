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
 * Example of composition by wrapping: every node broadcasts its own input
 * with one example RBC instance per proposer (n children), and outputs each
 * delivered value tagged with its proposer's index. It shows how a parent
 * owns children, tags their messages (one header byte: the proposer) with
 * bft_step_lift(), routes incoming messages, and turns child outputs into
 * its own. Not an agreement protocol: nodes may see values in different
 * orders and, with a faulty proposer, not at all (that needs ACS).
 *
 * Wire: u8 proposer index (< n), then the child's message.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/protocol.h"

/*! Fault: a message names no valid child instance. */
#define EXMULTI_FAULT_BAD_INSTANCE	(BFT_FAULT_PROTOCOL + 1)

typedef struct exmulti exmulti_t;

int exmulti_create(const bft_params_t *params, exmulti_t **out);
void exmulti_destroy(exmulti_t *multi);
/*! This node's value: starts its own broadcast (once). */
int exmulti_handle_input(exmulti_t *multi, const uint8_t *value, size_t len,
                         const bft_env_t *env, bft_step_t *step);
int exmulti_handle_message(exmulti_t *multi, bft_node_t from, const uint8_t *msg, size_t len,
                           const bft_env_t *env, bft_step_t *step);
/*! True once every one of the n broadcasts has delivered. */
bool exmulti_terminated(const exmulti_t *multi);

extern const bft_protocol_ops_t exmulti_ops;
