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
 * The atomic broadcast (coordinator/proto/abc.h) as the simulator runs it:
 * `bftdns-sim --protocol abc`. Coin keys are dealt from a fixed seed per
 * (n, f) when the first instance is made, so a seed replays.
 *
 * Faulty nodes may run the core in a misbehaviour mode (--mode silent,
 * equivocate, or mix: the faulty nodes take turns), see abc.h.
 *
 * Inputs: per seed, 1..8 requests, each given to a random non-empty set of
 * nodes (so some reach several nodes and must be delivered once).
 * Checks, beyond the simulator's agreement of honest output sequences
 * (total order) and "no correct node blamed":
 * - every output is a well-formed batch, epochs 0, 1, 2... in order;
 * - integrity: no request twice at a node; a request that was never input
 *   was proposed by a faulty node;
 * - validity: every request input at a correct node is delivered at every
 *   correct node;
 * - time: agreed times never decrease and never pass the latest clock of
 *   any node (virtual end time + the largest skew).
 */

#pragma once

#include "coordinator/sim/scenario.h"

extern const sim_protocol_t sim_abc;
extern const sim_protocol_t sim_abc_coin_every_round;
/*! abc restarting without its vote records (the silent restart of abc.h). */
extern const sim_protocol_t sim_abc_silent;
