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
 * Bracha's reliable broadcast of one value from one proposer (Bracha,
 * "Asynchronous Byzantine agreement protocols", Inf. Comput. 1987), the
 * first stage of every epoch of the atomic broadcast (doc/broadcast.md):
 *
 *   proposer: input v                          -> VALUE(v) to all
 *   on VALUE(v) from the proposer, first time  -> ECHO(v) to all
 *   on n - f ECHO(v), or f + 1 READY(h(v))     -> READY(h(v)) to all, once
 *   on 2f + 1 READY(h) and an ECHO(v), h(v)=h  -> output v, terminated
 *
 * With at most f faulty nodes: correct nodes output the same value or
 * none (agreement); a correct proposer's value is output by every correct
 * node (validity); if one correct node outputs, all do (totality).
 * Totality needs no message sent after output: a correct node that
 * outputs has sent its READY, and f + 1 correct nodes sent their ECHO
 * with the value, so a finished instance may be freed at once.
 *
 * Faults: a second VALUE/ECHO/READY from a sender (DUPLICATE if the same,
 * EQUIVOCATION if not), a VALUE from another node than the proposer
 * (UNEXPECTED), and EQUIVOCATION of the proposer once f + 1 ECHOs carry
 * each of two values (correct nodes were sent different VALUEs).
 *
 * ECHO carries the whole value (cost n^2 |v| per instance) rather than a
 * hash plus a fetch round: values are small DNS batches and a finished
 * node never has to answer for them again. Memory is bounded by n stored
 * copies (one per distinct digest an ECHO sender chose), freed on output.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/protocol.h"

#define RBC_DIGEST_LEN		32
/*! Hard upper bound of a value; conf->value_max may be lower. */
#define RBC_VALUE_MAX		(256u << 10)

/*! Output tag of the delivered value. */
#define RBC_OUTPUT_VALUE	1

typedef enum {
	RBC_VALUE = 1,
	RBC_ECHO  = 2,
	RBC_READY = 3,
} rbc_kind_t;

/*! A decoded message; value points into the decoded bytes. */
typedef struct {
	rbc_kind_t kind;
	const uint8_t *value;                 /*!< VALUE, ECHO. */
	size_t value_len;
	uint8_t digest[RBC_DIGEST_LEN];       /*!< READY. */
} rbc_msg_t;

/*! bft_params_t.conf; NULL means proposer 0 and RBC_VALUE_MAX. */
typedef struct {
	bft_node_t proposer;
	uint32_t value_max;                   /*!< 0 means RBC_VALUE_MAX. */
} rbc_conf_t;

size_t rbc_msg_size(const rbc_msg_t *msg);
int rbc_msg_encode(const rbc_msg_t *msg, uint8_t *buf, size_t cap, size_t *len);
/*! Decodes untrusted bytes: BFT_EMALF unless exactly one canonical message. */
int rbc_msg_decode(const uint8_t *buf, size_t len, size_t value_max, rbc_msg_t *msg);

typedef struct rbc rbc_t;

int rbc_create(const bft_params_t *params, rbc_t **out);
void rbc_destroy(rbc_t *rbc);
/*! The proposer's value (only the proposer, only once: else BFT_EINVAL). */
int rbc_handle_input(rbc_t *rbc, const uint8_t *value, size_t len,
                     const bft_env_t *env, bft_step_t *step);
int rbc_handle_message(rbc_t *rbc, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step);
bool rbc_terminated(const rbc_t *rbc);
/*! True once the proposer's own VALUE arrived (it did propose). */
bool rbc_has_proposal(const rbc_t *rbc);
/*! The delivered value (NULL before output; may be empty). */
const uint8_t *rbc_value(const rbc_t *rbc, size_t *len);

extern const bft_protocol_ops_t rbc_ops;
