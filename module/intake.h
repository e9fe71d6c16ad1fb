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
 * The query BEGIN hook: takes the UPDATEs of the replicated zone out of
 * Knot's hands and queues them for ordering. Everything else passes
 * untouched.
 */

#pragma once

#include "knot/module.h"

knotd_state_t bftdns_intake_hook(knotd_state_t state, knot_pkt_t *pkt,
                                 knotd_qdata_t *qdata, knotd_mod_t *mod);
