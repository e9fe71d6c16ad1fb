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
 * The module's side of the control socket (coordinator/ctl/ctl.h,
 * doc/operations.md): bftdnsctl's status, sign-zone and refresh answered
 * from this instance's state, and the knotc counters that are levels or
 * come from the coordinator (peers-up, link-ups), refreshed every second.
 *
 * One server per control-socket path in a knotd. After knotc reload the
 * zone's new module instance is loaded before the old one is unloaded: the
 * new one joins the old one's server and answers from then on, so the
 * socket stays up across a reload. Another zone naming the same path is
 * refused at load (its status would not be this zone's).
 */

#pragma once

#include <stdint.h>

#include "module/bftdns.h"

/*!
 * Load, last: serves control-socket if it is set, and refreshes the
 * coordinator's counters if replicas > 1. Logs a sentence on failure.
 */
int bftdns_control_start(bftdns_t *ctx);

/*! Unload, first: no op of the control thread runs on ctx after this. */
void bftdns_control_stop(bftdns_t *ctx);

/*!
 * Counts an event in knotc zone-stats and in bftdnsctl status alike (any
 * thread). idx: the replica id - 1 for a per-replica counter, else 0.
 */
void bftdns_control_count(bftdns_t *ctx, unsigned thread, unsigned ctr, unsigned idx,
                          uint64_t val);

/*! knotd_mod_stats_add's index names of per-replica counters: the replica id. */
char *bftdns_control_replica_name(uint32_t idx, uint32_t count);
