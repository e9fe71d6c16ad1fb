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
 * Asynchronous common subset (Ben-Or, Kelmer and Rabin, PODC 1994; as in
 * HoneyBadgerBFT, Miller et al., CCS 2016): every node proposes a value,
 * and all correct nodes output the same set of at least n - f proposals,
 * among them at least n - 2f of correct nodes.
 *
 *   n reliable broadcasts (rbc.h), one per proposer, and n binary
 *   agreements (aba.h), one per proposer:
 *   RBC j delivers        -> input 1 to ABA j (if it has no input yet);
 *   n - f ABAs decided 1  -> input 0 to every ABA without input;
 *   all ABAs decided and every RBC j with ABA j = 1 delivered -> output
 *   { (j, value_j) : ABA j decided 1 }.
 *
 * An ABA j decides 1 only if a correct node input 1, i.e. RBC j delivered
 * at a correct node, so by totality it delivers everywhere: the wait for
 * it ends.
 *
 * Wire: u8 sub-protocol (1 RBC, 2 ABA), u8 instance j < n, then the
 * child's message. Faults of its own: ACS_FAULT_BAD_INSTANCE.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/coin.h"
#include "coordinator/proto/protocol.h"

enum {
	ACS_SUB_RBC = 1,
	ACS_SUB_ABA = 2,
};

/*! Fault: the header names no sub-protocol or no instance. */
#define ACS_FAULT_BAD_INSTANCE	(BFT_FAULT_PROTOCOL + 0x10)

/*! The coin name prefix leaves room for the instance and the round. */
#define ACS_NAME_MAX		(COIN_NAME_MAX - 8)

/*! bft_params_t.conf (required); copied at create, the keys must outlive it. */
typedef struct {
	pcoin_keys_t coin;
	const uint8_t *name;       /*!< Unique per instance (session, epoch), 1..ACS_NAME_MAX. */
	size_t name_len;
	uint32_t value_max;        /*!< Largest proposal; 0 means RBC_VALUE_MAX. */
	bool coin_every_round;     /*!< See aba.h. */
} acs_conf_t;

typedef struct acs acs_t;

int acs_create(const bft_params_t *params, acs_t **out);
void acs_destroy(acs_t *acs);
/*! This node's proposal (once). */
int acs_handle_input(acs_t *acs, const uint8_t *value, size_t len,
                     const bft_env_t *env, bft_step_t *step);
int acs_handle_message(acs_t *acs, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step);
/*! True once the subset is known (the output was produced). */
bool acs_terminated(const acs_t *acs);
bool acs_proposed(const acs_t *acs);
/*! Nodes whose own proposal (RBC VALUE) reached us so far. */
bft_nodeset_t acs_proposers(const acs_t *acs);
/*! After termination: the proposers in the subset. */
bft_nodeset_t acs_subset(const acs_t *acs);
/*! After termination: proposer j's value, j in the subset. */
const uint8_t *acs_value(const acs_t *acs, bft_node_t j, size_t *len);

/*!
 * The generic view: at termination one output per proposer in the subset,
 * tag = proposer index, bytes = its value (in proposer order).
 */
extern const bft_protocol_ops_t acs_ops;
