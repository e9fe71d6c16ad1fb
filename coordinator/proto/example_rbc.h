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
 * Example protocol: Bracha's reliable broadcast of one value from one
 * proposer, written against the sans-I/O interface (protocol.h) to show its
 * shape and to exercise the simulator. Not the production RBC: values
 * travel whole in VALUE and ECHO (no erasure coding), READY carries the
 * value's SHA-256.
 *
 *   proposer: input v      -> VALUE(v) to all
 *   on VALUE(v) from the proposer, first time  -> ECHO(v) to all
 *   on n - f ECHO(v), or f + 1 READY(h(v))     -> READY(h(v)) to all (once)
 *   on 2f + 1 READY(h) and a v with h(v) = h   -> output v, terminated
 *
 * Guarantees with at most f faulty nodes: every correct node outputs the
 * same value or none; if the proposer is correct, every correct node
 * outputs its value; if one correct node outputs, all do.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/protocol.h"

#define EXRBC_VALUE_MAX		(64u << 10)
#define EXRBC_DIGEST_LEN	32

/*! Output tag of the delivered value. */
#define EXRBC_OUTPUT_VALUE	1

typedef enum {
	EXRBC_VALUE = 1,
	EXRBC_ECHO  = 2,
	EXRBC_READY = 3,
} exrbc_kind_t;

/*! A decoded message; value points into the decoded bytes. */
typedef struct {
	exrbc_kind_t kind;
	const uint8_t *value;                 /*!< VALUE, ECHO. */
	size_t value_len;                     /*!< 0..EXRBC_VALUE_MAX. */
	uint8_t digest[EXRBC_DIGEST_LEN];     /*!< READY. */
} exrbc_msg_t;

/*! Protocol-specific parameters (bft_params_t.conf); NULL means proposer 0. */
typedef struct {
	bft_node_t proposer;
} exrbc_conf_t;

/*! Bytes needed to encode msg. */
size_t exrbc_msg_size(const exrbc_msg_t *msg);
/*! Encodes msg; BFT_ESPACE if cap is too small, BFT_EINVAL if msg is bad. */
int exrbc_msg_encode(const exrbc_msg_t *msg, uint8_t *buf, size_t cap, size_t *len);
/*! Decodes untrusted bytes; BFT_EMALF unless they are exactly one canonical message. */
int exrbc_msg_decode(const uint8_t *buf, size_t len, exrbc_msg_t *msg);

typedef struct exrbc exrbc_t;

int exrbc_create(const bft_params_t *params, exrbc_t **out);
void exrbc_destroy(exrbc_t *rbc);
/*! The proposer's value (only the proposer, only once: else BFT_EINVAL). */
int exrbc_handle_input(exrbc_t *rbc, const uint8_t *value, size_t len,
                       const bft_env_t *env, bft_step_t *step);
int exrbc_handle_message(exrbc_t *rbc, bft_node_t from, const uint8_t *msg, size_t len,
                         const bft_env_t *env, bft_step_t *step);
bool exrbc_terminated(const exrbc_t *rbc);

/*! The generic view for drivers (simulator, event loop). */
extern const bft_protocol_ops_t exrbc_ops;
