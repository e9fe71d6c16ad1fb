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
 * One mod-bftdns instance: the replicated zone it serves, and the path of a
 * change through it (doc/knot-integration.md):
 *
 *   Knot worker thread                order thread          apply thread
 *   intake.c: BEGIN hook takes  ──▶  order.c: batches,  ──▶ apply.c: applies the
 *   over the UPDATE (NOOP)    queue  stamps the time,  queue batch through Knot,
 *                                    delivers            signer.c signs, replies
 *
 * With n = 1 the order step delivers each batch at once; with n > 1 the
 * atomic broadcast of the coordinator takes its place. With ordered-reads a
 * query takes the same path as a READ that changes nothing, and its worker
 * waits for the apply thread (read.h). Applying and signing
 * run on their own thread, never on one that must receive network messages.
 */

#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "knot/module.h"
#include "module/batchstore.h"
#include "module/conf.h"
#include "module/queue.h"

struct bftdns_signer;
struct bftdns_control;
struct bftdns_digest;
struct bftdns_checkpoints;
struct bftdns_reads;
struct bftdns_snapshots;
struct bftdns_transfer;
typedef struct bftdns_replica bftdns_replica_t;

/*! Statistics counters (knotc zone-stats), in registration order. */
enum {
	BFTDNS_CTR_TAKEN,      /*!< UPDATEs taken over. */
	BFTDNS_CTR_REFUSED,    /*!< UPDATEs refused at intake (ACL, TSIG, transport, limit). */
	BFTDNS_CTR_BATCHES,    /*!< Ordered batches applied. */
	BFTDNS_CTR_APPLIED,    /*!< UPDATEs answered NOERROR after apply. */
	BFTDNS_CTR_FAILED,     /*!< UPDATEs answered with an error after apply. */
	BFTDNS_CTR_SIGNING,    /*!< Threshold signatures made (bftdns_control_count()). */
	BFTDNS_CTR_BAD_SHARES, /*!< Per replica: its shares that failed verification (idem). */
	BFTDNS_CTR_PEERS_UP,   /*!< Peers whose links are up now (a level, control.c). */
	BFTDNS_CTR_LINK_UPS,   /*!< Per replica: times its link came up (control.c). */
	BFTDNS_CTR_SIGNATURES, /*!< RRSIGs threshold-signed by the group (threshold.c). */
	BFTDNS_CTR_READS_ORDERED,   /*!< Ordered reads answered after their batch (read.h). */
	BFTDNS_CTR_READS_TIMED_OUT, /*!< Ordered reads answered SERVFAIL: not in time. */
	BFTDNS_CTR_READS_REFUSED,   /*!< Ordered reads REFUSED: too many waiting. */
	BFTDNS_CTR_READS_FAILED,    /*!< Ordered reads answered SERVFAIL: never ordered. */
	BFTDNS_CTR_SHARES,     /*!< Own signature shares computed (a level, control.c). */
	BFTDNS_CTR_HELP_SHARES,/*!< Of them, outside the designated signers (idem). */
	BFTDNS_CTR_COUNT
};

typedef struct bftdns {
	knotd_mod_t *mod;
	bftdns_conf_t conf;
	struct bftdns_signer *signer;   /*!< Threshold signer of the zone's RRSIGs. */
	FILE *batch_log;                /*!< Ordered batches are appended here (apply thread). */

	bftdns_queue_t intake;          /*!< Requests to order (Knot workers -> order thread). */
	bftdns_queue_t delivered;       /*!< Ordered batches (order thread -> apply thread). */
	unsigned long inflight;         /*!< UPDATEs taken over and not answered yet. */
	int stopping;                   /*!< Set by unload (uatomic). */

	pthread_t order_thread;
	pthread_t apply_thread;
	bool order_started;
	bool apply_started;

	bftdns_replica_t *replica;      /*!< replicas > 1: the coordinator (replica.h). */
	int diverged;                   /*!< A delivered batch was lost: apply no more (uatomic). */
	unsigned links_up_logged;       /*!< Order thread: links up when last logged. */

	uint64_t batches_delivered;     /*!< Order thread (n = 1) or core thread (n > 1). */
	uint64_t batches_applied;       /*!< Set by the apply thread (uatomic). */
	uint64_t batches_queued;        /*!< Handed to the apply thread by this instance (uatomic). */
	uint64_t last_batch_seq;        /*!< Last batch applied, 0: none (apply thread, uatomic). */
	uint64_t last_batch_time;       /*!< Its agreed time, Unix seconds (apply thread, uatomic). */
	uint64_t sign_passes;           /*!< Batches with a signing pass applied (apply thread, uatomic). */
	/*! This instance proposes no signing pass (order.c, jsize.h): its
	 *  estimate exceeds journal-max-usage (order thread), or a pass was
	 *  refused by the journal (apply thread). Set once, after the text;
	 *  a knotc reload makes a new instance that estimates again (uatomic). */
	int sign_too_large;
	int sign_nospace;
	char sign_too_large_text[384];
	char sign_nospace_text[384];

	/*! What bftdnsctl status reports of the knotc counters: the ones counted
	 *  through bftdns_control_count() (module/control.h), uatomic. */
	uint64_t counts[BFTDNS_CTR_COUNT];
	uint64_t bad_shares[SHOUP_PLAYERS_MAX];   /*!< BFTDNS_CTR_BAD_SHARES, per replica - 1. */
	struct bftdns_control *control;           /*!< Control socket and counter refresh. */

	struct bftdns_reads *reads;     /*!< ordered-reads: the waiting reads (read.h), or NULL. */
	struct bftdns_digest *digest;   /*!< Consistency checks between replicas (digest.h). */
	char *state_dir;                /*!< replicas > 1: the zone's module state (statedir.h). */
	struct bftdns_checkpoints *checkpoints; /*!< Latest stable checkpoint (checkpoint.h). */
	struct bftdns_snapshots *snapshots;     /*!< State at checkpoints (snapshot.h), or NULL. */
	struct bftdns_transfer *transfer;       /*!< State transfer (transfer.h), or NULL. */
	int core_restart;               /*!< The order thread restarts the coordinator (uatomic). */
	/*! replicas > 1: delivered batches on disk (batchstore.h), open once the
	 *  coordinator starts; the apply thread appends. */
	bftdns_batchstore_t *batchstore;
	bftdns_batchstore_log_t store_log;  /*!< The store's lines into the module log. */
	int serve_refused;              /*!< In the minority, consistency strict: SERVFAIL (uatomic). */
} bftdns_t;
