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
 * Ordered reads (ordered-reads: on, doc/design.md): a query for the
 * replicated zone is answered only after a READ request of its own went
 * through the ordering step and this replica applied every batch up to and
 * including the one that delivered it; Knot then answers from its tree as it
 * is at that moment. Every UPDATE ordered before the READ is in the answer,
 * whichever replica took it: the paper's linearizable reads.
 *
 *   Knot worker thread               order thread        apply thread
 *   BEGIN hook: claims a slot,  ──▶  submits READ   ──▶  the READ's batch
 *   queues a READ (no change)        (n > 1: to the      applied:
 *   Knot: read_wait() outside RCU    broadcast)          bftdns_read_done()
 *   ◀─────────────────────────────────────────────────── wakes the slot
 *   Knot starts the query again: zone and contents as they are now, the
 *   hook sees knotd_qdata_waited() and lets Knot answer.
 *
 * The worker waits (knot-patch 0011, knotd_qdata_wait()) because Knot's
 * query API has no way to answer a query later from another thread, and it
 * waits outside Knot's RCU read-side section: a zone change waits for the
 * RCU readers of the change before it (Knot releases the zone's cow_lock
 * from call_rcu()), so a read waiting inside it for a batch after two
 * changes would wait for itself. The number of workers waiting at once is
 * bounded (half of knotd's workers, at least one), and so is each wait
 * (ordered-read-timeout): a read beyond the bound is REFUSED at once, one
 * that waits too long gets SERVFAIL; both with EDE 14 Not Ready.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "knot/module.h"

struct bftdns;
typedef struct bftdns_reads bftdns_reads_t;

/*! Load: a table of at most limit waiting reads; ids start at first_id. */
int bftdns_reads_init(bftdns_reads_t **out, unsigned limit, uint64_t first_id);

/*!
 * Unload: wakes every waiting read (answered SERVFAIL) and frees the table
 * once none waits any more (each leaves at once). NULL is fine.
 */
void bftdns_reads_free(bftdns_reads_t *reads);

/*!
 * The apply thread (or whoever drops the READ) reports how READ id ended:
 * applied true once every batch up to its own is applied, false if it never
 * will be. A read that stopped waiting is not found; that is fine.
 */
void bftdns_read_done(bftdns_reads_t *reads, uint64_t id, bool applied);

/*!
 * The query BEGIN hook (after the intake hook): orders a query for the zone
 * as described above. Exempt: UPDATE (ordered anyway), AXFR, IXFR and
 * NOTIFY, and a query another hook already answered.
 */
knotd_state_t bftdns_read_hook(knotd_state_t state, knot_pkt_t *pkt,
                               knotd_qdata_t *qdata, knotd_mod_t *mod);
