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
 * Threshold signing (coordinator/proto/tsign.h) as the simulator runs it:
 * `bftdns-sim --protocol tsign-basic|tsign-optproof|tsign-optte`. A
 * 1024-bit key is dealt from a fixed seed per (n, f) when the first
 * instance is made, so a seed replays.
 *
 * Inputs: one request per seed, of 1..8 messages, given to every node.
 * Checks, beyond the simulator's agreement and "no correct node blamed":
 * every correct node outputs the request's signatures exactly once, and
 * each verifies with plain RSA.
 */

#pragma once

#include "coordinator/sim/scenario.h"

extern const sim_protocol_t sim_tsign_basic;
extern const sim_protocol_t sim_tsign_optproof;
extern const sim_protocol_t sim_tsign_optte;
