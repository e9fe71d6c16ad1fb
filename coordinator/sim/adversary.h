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
 * Built-in adversaries for the simulator: what faulty nodes do with the
 * messages their (honest) protocol instance produces, and an optional
 * scheduler that starves one correct node. Every choice is drawn from
 * sim_random(), so it replays with the seed.
 */

#pragma once

#include "coordinator/sim/sim.h"

typedef enum {
	SIM_BYZ_HONEST = 0,  /*!< Sends what the protocol says (a crash budget only). */
	SIM_BYZ_SILENT,      /*!< Sends nothing. */
	SIM_BYZ_GARBAGE,     /*!< Random bytes instead of (sometimes besides) each message. */
	SIM_BYZ_REPLAY,      /*!< Each message, plus copies of earlier ones to random nodes. */
	SIM_BYZ_EQUIVOCATE,  /*!< One half of the nodes gets a different message (last byte changed). */
	SIM_BYZ_BITFLIP,     /*!< One random bit of each message inverted. */
	SIM_BYZ_MIX,         /*!< Any of the above, drawn per message. */
	SIM_BYZ_KINDS,
} sim_byz_t;

/*! "honest", "silent", ...; NULL if out of range. */
const char *sim_byz_name(sim_byz_t kind);
/*! Parses a name; BFT_EINVAL if unknown. */
int sim_byz_parse(const char *name, sim_byz_t *out);

#define SIM_REPLAY_RING	64
#define SIM_REPLAY_LEN	512

/*! State of the built-in adversary; lives as long as the simulator. */
typedef struct {
	sim_byz_t kind;
	bft_nodeset_t half;          /*!< Equivocation: who gets the other version. */
	bool starve;                 /*!< pre_crank: deliver to `victim` last. */
	bft_node_t victim;
	size_t ring_count;
	size_t ring_next;
	struct {
		bft_node_t from;
		size_t len;
		uint8_t data[SIM_REPLAY_LEN];
	} ring[SIM_REPLAY_RING];
} sim_byz_state_t;

/*! Fills adv with hooks over state (kind, half, starve, victim set by the caller). */
void sim_byz_hooks(sim_byz_state_t *state, sim_adversary_t *adv);
