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
 * Asynchronous atomic broadcast: every zone change of bftdns goes through
 * it (doc/broadcast.md). HoneyBadgerBFT's epochs without threshold
 * encryption:
 *
 *   epoch e: each node proposes a batch of its pending requests and its
 *   clock (batch.h) to the epoch's ACS (acs.h); the ACS output, the same
 *   subset of >= n - f proposals everywhere, is delivered in proposer
 *   order as one batch: requests not delivered in the last DEDUP window
 *   (by SHA-256 of their bytes) and not repeated in the batch, with the
 *   agreed time (batch_agreed_time). Then epoch e + 1.
 *
 * A client request given to node i is forwarded by i to every node (its
 * origin is i); all nodes keep it pending until it is delivered in anyone's
 * batch. Node i proposes it at once, the others only after it waited
 * ABC_FORWARD_DELAY epochs (so normally one copy travels, and a request
 * whose origin is left out of the subsets, or is faulty, still gets in:
 * n - f proposals include f + 1 correct ones).
 *
 * A node proposes in an epoch while it has pending requests, or once the
 * proposals of f + 1 nodes for that epoch arrived (a correct node wants it); an idle
 * system sends nothing, and one faulty node alone cannot make the correct
 * ones run epochs for ever. Every correct node has every pending request
 * of a correct origin, so all want the same epochs.
 *
 * Memory: epochs up to ABC_EPOCHS_AHEAD beyond the current one are kept
 * (a node may run ahead of us; its ACS waits for us); later ones are
 * dropped (BFT_FAULT_FUTURE); finished epochs are freed at once, and
 * messages for them are dropped silently. Pending requests: at most
 * ABC_QUEUE_MAX requests and ABC_QUEUE_BYTES_MAX bytes (input beyond is
 * BFT_EAGAIN: back-pressure to the caller).
 *
 * Clock: env->now_ms is taken as the node's wall clock (Unix time in ms);
 * the driver passes CLOCK_REALTIME for this protocol.
 *
 * Wire: u8 1, u64 epoch, then the epoch's ACS message; or u8 2 and a
 * forwarded request (at most (ABC_QUEUE_MAX / 2) / n pending per origin).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/coin.h"
#include "coordinator/proto/protocol.h"

#define ABC_EPOCHS_AHEAD	4
#define ABC_QUEUE_MAX		4096
#define ABC_QUEUE_BYTES_MAX	(16u << 20)
#define ABC_DEDUP_WINDOW	16384
#define ABC_SESSION_MAX		32
#define ABC_BATCH_DEFAULT	64
/*! Epochs a forwarded request waits before others than its origin propose it. */
#define ABC_FORWARD_DELAY	2

/*! Output tag: one delivered batch (batch.h, batch_reader_open()). */
#define ABC_OUTPUT_BATCH	1

/*! Fault: a proposal in the agreed subset that is not a well-formed batch. */
#define ABC_FAULT_BAD_PROPOSAL	(BFT_FAULT_PROTOCOL + 0x20)

/*! bft_params_t.conf (required); copied at create, the keys must outlive it. */
typedef struct {
	pcoin_keys_t coin;
	const uint8_t *session;     /*!< Names this replica group's coins, 1..ABC_SESSION_MAX. */
	size_t session_len;
	uint32_t batch_max;         /*!< Requests per proposal; 0: ABC_BATCH_DEFAULT. */
	bool coin_every_round;      /*!< See aba.h (tests). */
} abc_conf_t;

typedef struct abc abc_t;

/*! Counters for tests, logs and benchmarks. */
typedef struct {
	uint64_t epoch;             /*!< The epoch being agreed on (= batches delivered). */
	uint64_t requests_delivered;
	uint64_t duplicates_dropped;/*!< Requests left out of a batch as already delivered. */
	uint64_t inputs_ignored;    /*!< Inputs already pending or delivered. */
	size_t pending;             /*!< Requests waiting for delivery. */
	uint64_t last_time_ms;      /*!< Agreed time of the last batch. */
} abc_stats_t;

int abc_create(const bft_params_t *params, abc_t **out);
void abc_destroy(abc_t *abc);
/*!
 * A client request (1..BATCH_REQUEST_MAX bytes) to order. One already
 * pending or recently delivered is ignored (BFT_EOK). BFT_EAGAIN if the
 * pending queue is full.
 */
int abc_handle_input(abc_t *abc, const uint8_t *req, size_t len,
                     const bft_env_t *env, bft_step_t *step);
int abc_handle_message(abc_t *abc, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step);
/*! Never: the broadcast is a service. */
bool abc_terminated(const abc_t *abc);
void abc_stats(const abc_t *abc, abc_stats_t *out);

extern const bft_protocol_ops_t abc_ops;
