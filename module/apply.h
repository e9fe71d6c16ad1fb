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
 * The apply thread: applies delivered batches in their order through Knot
 * (knotd_zone_apply(), knot-patch/0003), at the batch's time, with the
 * threshold signer; then answers the clients of this replica.
 */

#pragma once

#include "module/batch.h"
#include "module/bftdns.h"

int bftdns_apply_start(bftdns_t *ctx);

/*! Hands an ordered batch to the apply thread (any thread). */
void bftdns_apply_deliver(bftdns_t *ctx, bftdns_batch_t *batch);

/*!
 * Stops and joins the thread (after the order step stopped): batches
 * already delivered are applied if the zone is still there, requests never
 * ordered are answered SERVFAIL.
 */
void bftdns_apply_stop(bftdns_t *ctx);
