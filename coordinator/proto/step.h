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
 * The step: what one call into a sans-I/O protocol core produces, after the
 * Rust hbbft crate's Step. Three bounded lists:
 *
 * - messages, each an encoded byte string with a target set (a bitmask of
 *   node indices; a message may target its own sender, and drivers deliver
 *   that copy like any other, without the network),
 * - outputs, each a byte string with a protocol-defined tag,
 * - faults: a peer's misbehaviour seen while handling the call.
 *
 * The bytes live in one arena owned by the step, so a step is one object
 * that a driver allocates once and clears between calls.
 *
 * Node indices: 0..n-1. Node i is replica-id i + 1 in knot.conf and Shoup
 * player i + 1 (coordinator/crypto/shoup.h); bit i of a bft_nodeset_t is
 * node i.
 *
 * Composition by wrapping: a parent gives its child a scratch step, then
 * lifts it with bft_step_lift(), which prefixes every child message with
 * the parent's header (kind, epoch, instance...) and carries the child's
 * faults over. The child's outputs are not lifted: the parent reads them
 * and decides what they mean.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! Most nodes a protocol instance may have (= SHOUP_PLAYERS_MAX). */
#define BFT_NODES_MAX		32

/*! A node index, 0..n-1. */
typedef uint16_t bft_node_t;

/*! A set of nodes: bit i is node i. */
typedef uint32_t bft_nodeset_t;

/*! Bounds of one step's lists. */
#define BFT_STEP_MSGS_MAX	1024
/* Outputs: abc's vote records (one per new epoch message) besides its batches. */
#define BFT_STEP_OUTPUTS_MAX	(BFT_STEP_MSGS_MAX + 256)
#define BFT_STEP_FAULTS_MAX	256

/*! Largest encoded message a step accepts (the links' frame limit is larger). */
#define BFT_MSG_MAX		(4u << 20)

/*!
 * Fault kinds every protocol shares. A protocol defines its own kinds from
 * BFT_FAULT_PROTOCOL up and names them in its ops->fault_name.
 */
enum {
	BFT_FAULT_NONE        = 0,
	BFT_FAULT_MALFORMED   = 1,  /*!< Bytes that do not decode. */
	BFT_FAULT_DUPLICATE   = 2,  /*!< A second message where one is allowed. */
	BFT_FAULT_UNEXPECTED  = 3,  /*!< A message this sender may not send (role, phase). */
	BFT_FAULT_EQUIVOCATION= 4,  /*!< Two different values where one is allowed. */
	BFT_FAULT_INVALID     = 5,  /*!< A share, proof or signature that does not verify. */
	BFT_FAULT_FUTURE      = 6,  /*!< Too far ahead (epoch window); dropped. */
	BFT_FAULT_PROTOCOL    = 0x100,
};

/*! Returns the name of a shared fault kind, or NULL for a protocol's own. */
const char *bft_fault_name(uint16_t kind);

/*! One message: targets and where its bytes are in the arena. */
typedef struct {
	bft_nodeset_t to;
	uint32_t off;
	uint32_t len;
} bft_step_msg_t;

/*! One output: a protocol-defined tag and its bytes. */
typedef struct {
	uint32_t tag;
	uint32_t off;
	uint32_t len;
} bft_step_output_t;

/*! One observed fault: who and what. */
typedef struct {
	bft_node_t node;
	uint16_t kind;
} bft_fault_t;

typedef struct {
	bft_step_msg_t msgs[BFT_STEP_MSGS_MAX];
	size_t msg_count;
	bft_step_output_t outputs[BFT_STEP_OUTPUTS_MAX];
	size_t output_count;
	bft_fault_t faults[BFT_STEP_FAULTS_MAX];
	size_t fault_count;
	/*! Faults not recorded because the list was full: a flood of faults
	 *  from a peer must not turn into an error. */
	uint64_t faults_dropped;
	uint8_t *buf;          /*!< The arena. */
	size_t buf_len;        /*!< Bytes used. */
	size_t buf_cap;        /*!< Bytes allocated; grows up to buf_max. */
	size_t buf_max;        /*!< Hard bound of the arena. */
} bft_step_t;

/*!
 * Prepares a step whose arena may grow to buf_max bytes (at most
 * UINT32_MAX). Nothing is allocated until bytes are added.
 */
int bft_step_init(bft_step_t *step, size_t buf_max);

/*! Empties the lists, keeps the arena for reuse. */
void bft_step_clear(bft_step_t *step);

/*! Frees the arena. The step may be initialised again. */
void bft_step_deinit(bft_step_t *step);

/*! True if the step has no messages, outputs or faults. */
bool bft_step_is_empty(const bft_step_t *step);

/*!
 * Adds a message of len bytes (1..BFT_MSG_MAX) for the nodes in to (not 0).
 * BFT_ESPACE if the list or the arena is full; the step is then unchanged.
 */
int bft_step_send(bft_step_t *step, bft_nodeset_t to, const uint8_t *msg, size_t len);

/*!
 * Like bft_step_send() for a message made of hdr followed by body: how a
 * parent tags a child's message without an intermediate copy.
 */
int bft_step_send2(bft_step_t *step, bft_nodeset_t to,
                   const uint8_t *hdr, size_t hdr_len,
                   const uint8_t *body, size_t body_len);

/*! Adds an output (len may be 0). BFT_ESPACE if full; then unchanged. */
int bft_step_output(bft_step_t *step, uint32_t tag, const uint8_t *data, size_t len);

/*! Records a fault; never fails (counted in faults_dropped if full). */
void bft_step_fault(bft_step_t *step, bft_node_t node, uint16_t kind);

/*! The bytes of message i or output i (i below the count). */
const uint8_t *bft_step_msg_data(const bft_step_t *step, size_t i);
const uint8_t *bft_step_output_data(const bft_step_t *step, size_t i);

/*!
 * Lifts a child's step into its parent's: every child message is sent
 * with hdr prepended and the same targets; the faults are copied. On
 * BFT_ESPACE the parent keeps what was lifted so far (the caller treats a
 * full step as its own sizing bug).
 */
int bft_step_lift(bft_step_t *parent, const bft_step_t *child,
                  const uint8_t *hdr, size_t hdr_len);

/*! The set {0..n-1}. */
static inline bft_nodeset_t bft_nodeset_all(unsigned n)
{
	return n >= 32 ? UINT32_MAX : (((bft_nodeset_t)1 << n) - 1);
}

/*! The set {node}. */
static inline bft_nodeset_t bft_nodeset_one(bft_node_t node)
{
	return node < 32 ? (bft_nodeset_t)1 << node : 0;
}

static inline bool bft_nodeset_has(bft_nodeset_t set, bft_node_t node)
{
	return node < 32 && (set >> node) & 1;
}

static inline unsigned bft_nodeset_count(bft_nodeset_t set)
{
	return (unsigned)__builtin_popcount(set);
}
