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
 * The ordering step of a single replica (n = 1, f = 0): a thread that takes
 * the queued requests, forms a batch, stamps it with one time read when the
 * batch is formed, and delivers it at once.
 *
 * This is the seam where the multi-replica atomic broadcast goes: it takes
 * the same requests from ctx->intake and must deliver, on every replica, the
 * same batches with the same agreed time through bftdns_apply_deliver().
 * Nothing after delivery depends on how the order was reached.
 */

#pragma once

#include "module/bftdns.h"

int bftdns_order_start(bftdns_t *ctx);

/*! Stops and joins the thread; requests it has not delivered stay queued. */
void bftdns_order_stop(bftdns_t *ctx);
