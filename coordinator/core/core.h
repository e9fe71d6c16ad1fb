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
 * The coordinator: one thread with an epoll event loop that owns the TLS
 * links to every peer and drives one sans-I/O protocol instance.
 *
 * In production (conf.ops NULL) that instance is the multiplexer (mux.h)
 * with the atomic broadcast (abc.h) as its first member, keyed by the
 * replica's coin key file, and threshold signing (tsign.h) as the second
 * when the caller gives the replica's key share (conf.sign_pub). Tests and benchmarks may drive any bft_protocol_ops_t
 * instead (conf.ops).
 *
 *   bftdns_core_start()   validates, loads the link key (and the coin key),
 *                         binds the listening socket, creates the protocol,
 *                         replays conf.resume, starts the thread
 *   bftdns_core_submit()  any thread, never blocks: a request to order
 *                         (copied; BFT_EAGAIN when the inbox is full)
 *   conf.deliver          called ON THE COORDINATOR THREAD for every protocol
 *                         output, in order; must not block (copy and hand off)
 *   bftdns_core_stop()    stops and joins the thread, frees everything
 *
 * Delivered batches (production): tag BFTDNS_CORE_OUT_BATCH, bytes as
 * batch.h describes (batch_reader_open()): the batch number (epoch, 0, 1,
 * 2, ... without gaps), the agreed time, the ordered requests with the
 * replica each came in at. Every correct replica delivers the same bytes
 * in the same order. A request given to several replicas is delivered
 * once (within the dedup window, abc.h).
 *
 * Vote records (production with conf.vote_dir): abc's ABC_OUTPUT_VOTE
 * outputs never reach conf.deliver; the core writes every one of a step
 * to its vote log (votelog.h) before it sends any message of that step,
 * and gives them back after a restart (abc_restore_vote()), so that a
 * replica never contradicts a vote it sent before a crash (abc.h,
 * ABC_OUTPUT_VOTE; doc/broadcast.md, "Restart").
 *
 * Clocks: the loop reads two clocks once per iteration. CLOCK_MONOTONIC
 * drives the links' timers (a clock step never fires or stalls a timer).
 * CLOCK_REALTIME, in ms since the Unix epoch, is the protocol's
 * env.now_ms: the atomic broadcast's agreed time is the median of the
 * proposers' readings (doc/broadcast.md), so replicas' clocks should be
 * kept in sync (NTP). Randomness is getrandom(2), given as env.random.
 *
 * Node indices are 0..n-1; replica-id in knot.conf is index + 1.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/core/mux.h"
#include "coordinator/core/votelog.h"
#include "coordinator/net/log.h"
#include "coordinator/proto/abc.h"
#include "coordinator/proto/protocol.h"
#include "coordinator/proto/tsign.h"
#include "coordinator/proto/xfer.h"

/*! Output tag of a delivered batch (production). */
#define BFTDNS_CORE_OUT_BATCH	MUX_TAG(MUX_ABC, ABC_OUTPUT_BATCH)
/*! Output tag of a vote record (production with conf.vote_dir): the core
 *  writes it to the vote log itself; conf.deliver never sees it. */
#define BFTDNS_CORE_OUT_VOTE	MUX_TAG(MUX_ABC, ABC_OUTPUT_VOTE)
/*! Output tag of a finished signing request (production, tsign_output_decode()). */
#define BFTDNS_CORE_OUT_SIGS	MUX_TAG(MUX_TSIGN, TSIGN_OUTPUT_SIGS)
/*! Output tags of a state transfer (production with conf.xfer_verify, xfer.h). */
#define BFTDNS_CORE_OUT_XFER_BEGIN	MUX_TAG(MUX_XFER, XFER_OUTPUT_BEGIN)
#define BFTDNS_CORE_OUT_XFER_CHUNK	MUX_TAG(MUX_XFER, XFER_OUTPUT_CHUNK)
#define BFTDNS_CORE_OUT_XFER_DONE	MUX_TAG(MUX_XFER, XFER_OUTPUT_DONE)

typedef struct bftdns_core bftdns_core_t;

/*! One replica as the config names it. */
typedef struct {
	const char *host;    /*!< Numeric IPv4 or IPv6 address. */
	uint16_t port;
	const char *pin;     /*!< "sha256//..." of its link key. */
} bftdns_core_peer_t;

/*! An output of the protocol (data valid during the call only). */
typedef void (*bftdns_core_deliver_fn)(void *ctx, uint32_t tag, const uint8_t *data, size_t len);

/*! A batch this replica delivered before (bytes of a BFTDNS_CORE_OUT_BATCH output). */
typedef struct {
	const uint8_t *data;
	size_t len;
} bftdns_core_batch_t;

/*! Signatures this replica output before a restart (tsign_restore()). */
typedef struct {
	tsign_request_t req;      /*!< Its id, algorithm and digests. */
	size_t sig_len;
	const uint8_t *sigs;      /*!< req.count signatures, in digest order. */
} bftdns_core_sigs_t;

typedef struct {
	uint16_t n;
	uint16_t f;
	bft_node_t self;                         /*!< 0..n-1. */
	bftdns_core_peer_t peers[BFT_NODES_MAX]; /*!< peers[self]: where we listen, our pin. */
	const char *key_file;                    /*!< Our link key (link-<id>.key, 0600). */
	/* Production: the atomic broadcast (when ops is NULL). */
	const char *coin_file;                   /*!< Our coin key share (coin-<id>.key, 0600). */
	uint32_t batch_max;                      /*!< Requests per proposal [ABC_BATCH_DEFAULT]. */
	uint32_t retain_max;                     /*!< Batches kept for lagging peers [ABC_RETAIN_DEFAULT]. */
	/*! Batches delivered before a restart (the caller's log), oldest first,
	 *  contiguous: replayed into the protocol before it starts (abc_restore()).
	 *  Only read during bftdns_core_start(). */
	const bftdns_core_batch_t *resume;
	size_t resume_count;
	/*! Instead of resume: go on at batch resume_epoch (the atomic broadcast's
	 *  epoch; the batches before it were applied, their bytes are gone) after
	 *  a last agreed time of resume_time_ms (abc_restore_at()). */
	bool resume_at;
	uint64_t resume_epoch;
	uint64_t resume_time_ms;
	/*! This replica ran before (implied by resume_count > 0 or resume_at): it
	 *  stays silent in the epochs its earlier incarnation may have spoken in
	 *  (abc_start()). */
	bool restarted;
	/*! The vote log's directory (votelog.h; created 0700 if missing), or
	 *  NULL: none. With a log that holds every vote this replica sent in
	 *  the epochs from where it resumes, the atomic broadcast restarts with
	 *  its votes (abc_restore_vote(), conf votes_durable) instead of staying
	 *  silent, which is what keeps a group whose replicas all crashed at
	 *  once from ordering a batch other than one a replica applied before.
	 *  Without (no directory, a log begun after the replica ran without one,
	 *  a damaged one: logged) the restart stays silent as before, and the
	 *  log records from then on. Read during bftdns_core_start(). */
	const char *vote_dir;
	/*! The caller reports the durable position (bftdns_core_set_durable());
	 *  until its first report, the epoch resumed at is. false: the vote log
	 *  goes by the delivered epoch (tests that keep every delivered batch). */
	bool durable_reported;
	abc_mode_t abc_mode;                     /*!< Test-only misbehaviour of the broadcast. */
	/* Production: threshold signing (member MUX_TSIGN) when sign_pub is set.
	 * Requests: bftdns_core_submit_to(MUX_TSIGN, tsign_request_encode()),
	 * answers: BFTDNS_CORE_OUT_SIGS outputs. The key must outlive the core. */
	const shoup_public_t *sign_pub;          /*!< Checked by the caller. */
	const shoup_secret_t *sign_secret;       /*!< This replica's share. */
	shoup_strategy_t sign_strategy;
	tsign_mode_t sign_mode;                  /*!< Test-only misbehaviour. */
	uint64_t sign_start_id;                  /*!< tsign_conf_t.start_id. */
	uint64_t sign_catchup_until;             /*!< tsign_conf_t.catchup_until. */
	/*! Requests finished before a restart, oldest first, ids below
	 *  sign_start_id: given to tsign_restore() before it starts (one that
	 *  is refused is logged and skipped). Only read during bftdns_core_start(). */
	const bftdns_core_sigs_t *sign_restore;
	size_t sign_restore_count;
	bool sign_all;                           /*!< Every replica signs every request
	                                              (tsign_conf_t.designated off). */
	uint32_t sign_help_delay_ms;             /*!< tsign_conf_t.help_delay_ms; 0: default. */
	/* Production: state transfer (member MUX_XFER) when xfer_store or
	 * xfer_verify is set (xfer.h; both are called on the core thread).
	 * Inputs: bftdns_core_submit_to(MUX_XFER, xfer_input_encode()),
	 * outputs: BFTDNS_CORE_OUT_XFER_*. */
	const xfer_store_ops_t *xfer_store;      /*!< Serves snapshots; NULL: none. */
	void *xfer_store_ctx;
	xfer_verify_fn xfer_verify;              /*!< Checks certificates; NULL: takes none. */
	void *xfer_verify_ctx;
	/* Tests and benchmarks: any protocol instead. */
	const bft_protocol_ops_t *ops;
	const void *proto_conf;
	bftdns_core_deliver_fn deliver;          /*!< May be NULL. */
	void *deliver_ctx;
	bft_logger_t log;                        /*!< fn NULL: stderr; level_max 0: LOG_INFO. */
	/* Limits; 0 takes the default in brackets. */
	size_t sendq_bytes_max;                  /*!< Per peer [16 MiB]. */
	uint32_t frame_max;                      /*!< Largest DATA payload [BFT_FRAME_PAYLOAD_MAX]. */
	uint32_t inbox_max;                      /*!< Inputs waiting [4096]. */
	uint32_t backoff_min_ms;                 /*!< First redial delay [100]. */
	uint32_t backoff_max_ms;                 /*!< Longest redial delay [5000]. */
	uint32_t connect_timeout_ms;             /*!< TCP+TLS+HELLO [10000]. */
	uint32_t ping_ms;                        /*!< PING after silence [5000]. */
	uint32_t idle_ms;                        /*!< Drop after silence [20000]. */
} bftdns_core_conf_t;

/*! Starts the coordinator. Errors are also logged with a sentence. */
int bftdns_core_start(const bftdns_core_conf_t *conf, bftdns_core_t **out);

/*!
 * Any thread, never blocks: queues an input for the protocol; in
 * production a request for the atomic broadcast (1..BATCH_REQUEST_MAX
 * bytes). BFT_EAGAIN when the inbox is full (back-pressure: it also fills
 * while the atomic broadcast holds as many of this replica's requests as
 * it may, abc.h).
 */
int bftdns_core_submit(bftdns_core_t *core, const uint8_t *data, size_t len);

/*! Production: an input for mux member `member` (MUX_ABC or MUX_TSIGN). */
int bftdns_core_submit_to(bftdns_core_t *core, uint8_t member, const uint8_t *data, size_t len);

/*! Stops the thread, closes every link, frees everything. NULL is fine. */
void bftdns_core_stop(bftdns_core_t *core);

/*! Any thread: the peers whose links are up now. */
bft_nodeset_t bftdns_core_links_up(const bftdns_core_t *core);

typedef struct {
	uint64_t msgs_out, bytes_out, msgs_in, bytes_in;
	uint64_t refused, connects, drops;
	uint64_t queued;          /*!< Bytes waiting in its send queue now. */
	uint64_t queued_peak;     /*!< Most bytes its send queue ever held. */
} bftdns_core_peer_stats_t;

typedef struct {
	uint64_t inputs;          /*!< Submissions given to the protocol. */
	uint64_t inputs_deferred; /*!< Times an input waited: the protocol's queue was full. */
	uint64_t outputs;         /*!< Outputs delivered. */
	uint64_t faults;          /*!< Peer faults the protocol reported. */
	uint64_t refused_accepts; /*!< Incoming connections refused before TLS (too many). */
	uint64_t refused_handshakes; /*!< Incoming connections that failed TLS or HELLO. */
	uint64_t loops;           /*!< Event loop iterations. */
	bftdns_core_peer_stats_t peers[BFT_NODES_MAX];
	uint64_t peer_faults[BFT_NODES_MAX]; /*!< Faults the protocol blamed on each peer. */
	bool abc_on;              /*!< Production: abc below is filled in. */
	abc_stats_t abc;          /*!< The atomic broadcast's counters. */
	bool tsign_on;            /*!< Production with signing: tsign below is filled in. */
	tsign_stats_t tsign;      /*!< Threshold signing's counters. */
	/*! Signing faults blamed on each peer: bad or equivocating shares,
	 *  signatures that do not verify, requests that differ from ours. */
	uint64_t sign_faults[BFT_NODES_MAX];
	bool xfer_on;             /*!< Production with state transfer: xfer below is filled in. */
	xfer_stats_t xfer;        /*!< State transfer's counters. */
	bool votelog_on;          /*!< Production with conf.vote_dir: votelog below is filled in. */
	votelog_stats_t votelog;  /*!< The vote log's files and counters. */
	bool votes_durable;       /*!< The broadcast restarted on its votes (not silent). */
	uint64_t votes_restored;  /*!< Records given back to the broadcast at the start. */
	uint64_t votes_refused;   /*!< ...and refused by it (logged). */
	bool votes_muted;         /*!< A vote could not be logged: nothing is sent any more. */
} bftdns_core_stats_t;

/*!
 * Any thread, never blocks: the atomic broadcast's epochs before `epoch`
 * are applied durably (a restart resumes at `epoch` or later; in the
 * module: the batch number of the batch whose journal commit is done).
 * The vote log drops what lies before it (votelog_trim(); with
 * conf.durable_reported). Never moves back.
 */
void bftdns_core_set_durable(bftdns_core_t *core, uint64_t epoch);

/*! Any thread: a snapshot of the counters (published once per loop iteration). */
void bftdns_core_stats(bftdns_core_t *core, bftdns_core_stats_t *out);

/*! The TCP port the core listens on (useful when conf asked for port 0). */
uint16_t bftdns_core_port(const bftdns_core_t *core);
