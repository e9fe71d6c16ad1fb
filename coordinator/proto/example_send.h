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
 * Example protocol with no agreement at all: plain authenticated sends.
 * An input is a u32 target set (big-endian bitmask) followed by a payload
 * of at least one byte; the payload goes to those nodes, and each receiver
 * outputs it tagged with the sender's index. It never terminates.
 * Used to test and benchmark the links and the event loop end to end.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/protocol.h"

/*! Builds an input: writes 4 + len bytes to out (cap checked). */
int exsend_input(bft_nodeset_t to, const uint8_t *payload, size_t len,
                 uint8_t *out, size_t cap, size_t *out_len);

extern const bft_protocol_ops_t exsend_ops;
