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
 * The coordinator's top-level protocol: several sub-protocols (members)
 * side by side over the same links, told apart by one tag byte. A sans-I/O
 * core like the others (no sockets, threads, clock or randomness of its
 * own), so it runs under the simulator too.
 *
 *   input    u8 member id, then that member's input
 *   message  u8 member id, then that member's message
 *   output   tag MUX_TAG(id, member's tag), the member's bytes
 *
 * Members: MUX_ABC, the atomic broadcast (abc.h), the first; MUX_TSIGN,
 * threshold signing (tsign.h); MUX_XFER, state transfer (xfer.h). A member is any
 * bft_protocol_ops_t; its faults are lifted as they are, so the members'
 * own fault kinds must not overlap (they are allocated in distinct ranges
 * above BFT_FAULT_PROTOCOL: ACS 0x10, ABC 0x20, TSIGN 0x40, XFER 0x60, MUX 0x08).
 *
 * Why a tag byte and not one link per protocol: the links already give
 * authentication, order and bounded queues per peer; a second set of TLS
 * connections would double handshakes, queues and timers for nothing.
 * Why not let each member see the others' messages: a member's decoder
 * sees only bytes that are meant for it, so one member's format can never
 * be confused with another's.
 *
 * Faults of its own: MUX_FAULT_BAD_MEMBER (an empty message or an unknown
 * member id).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/protocol.h"

enum {
	MUX_ABC   = 1,   /*!< The atomic broadcast (abc.h). */
	MUX_TSIGN = 2,   /*!< Threshold signing (tsign.h). */
	MUX_XFER  = 3,   /*!< State transfer (xfer.h). */
};

#define MUX_MEMBERS_MAX		4

/*! An output tag: the member id in the top byte, its own tag below. */
#define MUX_TAG(id, tag)	((uint32_t)(id) << 24 | ((uint32_t)(tag) & 0xffffffu))
#define MUX_TAG_MEMBER(t)	((uint8_t)((t) >> 24))
#define MUX_TAG_INNER(t)	((uint32_t)(t) & 0xffffffu)

/*! Fault: a message for no member. */
#define MUX_FAULT_BAD_MEMBER	(BFT_FAULT_PROTOCOL + 0x08)

typedef struct {
	uint8_t id;                      /*!< 1..255, unique in the conf. */
	const bft_protocol_ops_t *ops;
	const void *conf;                /*!< Its bft_params_t.conf; must outlive the mux. */
	/*! Optional: run once by mux_start() (abc: announce its epoch). */
	int (*start)(void *proto, const bft_env_t *env, bft_step_t *step);
	/*! Optional: run by mux_tick() (tsign: requests overdue for help; abc:
	 *  re-sends to restarted peers left for later calls). */
	int (*tick)(void *proto, const bft_env_t *env, bft_step_t *step);
} mux_member_t;

/*! bft_params_t.conf of the mux (required); copied at create. */
typedef struct {
	mux_member_t members[MUX_MEMBERS_MAX];
	unsigned count;                  /*!< 1..MUX_MEMBERS_MAX. */
} mux_conf_t;

typedef struct mux mux_t;

int mux_create(const bft_params_t *params, mux_t **out);
void mux_destroy(mux_t *mux);
/*! Runs every member's start hook (once, before the first input or message). */
int mux_start(mux_t *mux, const bft_env_t *env, bft_step_t *step);
/*! Runs every member's tick hook: the driver's periodic time input. */
int mux_tick(mux_t *mux, const bft_env_t *env, bft_step_t *step);
int mux_handle_input(mux_t *mux, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step);
int mux_handle_message(mux_t *mux, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step);
/*! True when every member terminated (never with abc). */
bool mux_terminated(const mux_t *mux);
/*! A member's instance for typed calls (abc_stats(), abc_restore()), or NULL. */
void *mux_member(mux_t *mux, uint8_t id);

/*! Faults member id blamed on node so far (0 for an unknown member). */
uint64_t mux_member_faults(const mux_t *mux, uint8_t id, bft_node_t node);

extern const bft_protocol_ops_t mux_ops;
