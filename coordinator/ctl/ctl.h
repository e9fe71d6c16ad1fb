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
 * The control socket: what bftdnsctl talks to (doc/operations.md).
 *
 * The server runs on its own thread with its own poll() loop, so that
 * nothing an operator's client does (connect and stall, send garbage) can
 * reach Knot's workers or the coordinator's event loop. It is not on the
 * replicated path: its timeouts use the local monotonic clock.
 *
 * The module starts it with one call in its load callback and stops it in
 * its unload callback. The ops are called ON THE CONTROL THREAD, one at a
 * time; they must be thread-safe with respect to the coordinator and must
 * not block for long (a command is to be queued, not carried out, there).
 * The thread also calls an optional tick about once a second, so that the
 * module can refresh what it publishes elsewhere (its knotc counters).
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

/*! Bounds of the status report (the module fills at most these). */
#define BFTDNS_CTL_PEERS_MAX	32	/*!< Replica ids 1..32 (SHOUP_PLAYERS_MAX). */
#define BFTDNS_CTL_ZONES_MAX	64
#define BFTDNS_CTL_ZONE_LEN	256	/*!< Text zone name, with the NUL. */
#define BFTDNS_CTL_DIGEST_LEN	160	/*!< Zone digest text, with the NUL. */
#define BFTDNS_CTL_PROTO_LEN	16	/*!< Signing protocol name, with the NUL. */
#define BFTDNS_CTL_MSG_LEN	256	/*!< An ops callback's message, with the NUL. */
#define BFTDNS_CTL_TICK_MS	1000	/*!< Period of ops->tick (monotonic clock). */

/*! Counters a module cannot report yet (bftdns_ctl_status_t.uncounted). */
enum {
	BFTDNS_CTL_UNCOUNTED_UPDATES    = 1 << 0,  /*!< updates received/applied/rejected */
	BFTDNS_CTL_UNCOUNTED_SIGNING    = 1 << 1,  /*!< signing instances */
	BFTDNS_CTL_UNCOUNTED_BAD_SHARES = 1 << 2,  /*!< bad shares per peer */
};

typedef struct {
	char name[BFTDNS_CTL_ZONE_LEN];     /*!< "example.com." */
	char digest[BFTDNS_CTL_DIGEST_LEN]; /*!< The replicated state's digest, as text. */
	char signing[BFTDNS_CTL_PROTO_LEN]; /*!< "basic", "optproof" or "optte". */
	/*! The latest stable checkpoint, as text; empty: not shown. */
	char checkpoint[BFTDNS_CTL_DIGEST_LEN];
} bftdns_ctl_zone_t;

/*! The vote log's state (status vote-log:). */
enum {
	BFTDNS_CTL_VOTES_OFF = 0,      /*!< No log: no vote-* lines. */
	BFTDNS_CTL_VOTES_DURABLE,      /*!< "durable": the start took its votes back. */
	BFTDNS_CTL_VOTES_INCOMPLETE,   /*!< "incomplete": logging, the start was silent. */
	BFTDNS_CTL_VOTES_FAILED,       /*!< "failed": a vote not written, nothing sent. */
};

/*! What `status` reports; filled by the module's ops->status. */
typedef struct {
	uint32_t replica_id;          /*!< 1..replicas */
	uint32_t replicas;            /*!< n */
	uint32_t faults;              /*!< f */
	uint32_t peers_connected;     /*!< Links up, out of replicas - 1. */
	uint64_t last_batch;          /*!< Number of the last delivered batch. */
	uint64_t last_batch_time;     /*!< Its agreed time, Unix seconds. */
	int has_batch;                /*!< 0: no batch delivered yet. */
	uint64_t updates_received;
	uint64_t updates_applied;
	uint64_t updates_rejected;
	uint64_t batches_delivered;
	uint64_t signing_instances;
	/*! ordered-reads on: the reads-* lines are shown (else they are not). */
	int ordered_reads;
	uint64_t reads_ordered;       /*!< Answered after their READ was applied. */
	uint64_t reads_timed_out;     /*!< SERVFAIL: not applied within the timeout. */
	uint64_t reads_refused;       /*!< REFUSED: too many reads waiting. */
	uint64_t reads_failed;        /*!< SERVFAIL: the READ could not be ordered. */
	/*! Bad signature shares seen from replica i at index i - 1 (i <= replicas). */
	uint64_t bad_shares[BFTDNS_CTL_PEERS_MAX];
	/*! What the peer links carried since the coordinator started, summed
	 *  over the peers: protocol messages and their bytes (the payload, without
	 *  TLS and framing). Sent counts what was queued to a peer. 0 with n = 1. */
	uint64_t link_msgs_sent;
	uint64_t link_bytes_sent;
	uint64_t link_msgs_received;
	uint64_t link_bytes_received;
	/*! replicas > 1 with a vote log (coordinator/core/votelog.h): the
	 *  vote-* lines are shown. State: BFTDNS_CTL_VOTES_*. */
	uint32_t vote_log;
	uint64_t votes_logged;        /*!< Vote records written since the coordinator started. */
	uint64_t votes_suppressed;    /*!< Votes not sent: they would contradict earlier ones. */
	uint64_t votes_restored;      /*!< Records given back to the broadcast at its start. */
	uint64_t vote_log_bytes;      /*!< The log's files now. */
	/*! BFTDNS_CTL_UNCOUNTED_* set: shown as "not counted yet", never as 0. */
	uint32_t uncounted;
	size_t zone_count;
	bftdns_ctl_zone_t zones[BFTDNS_CTL_ZONES_MAX];
} bftdns_ctl_status_t;

/*!
 * The module's side. Each command callback returns BFT_EOK, or an error code
 * and a sentence in msg (msg_size bytes, NUL-terminated, no secret): the
 * server maps BFT_EAGAIN to "not-ready" (the replica cannot answer yet),
 * BFT_ENOENT to "no-zone", BFT_EINVAL to "not-supported" and anything else
 * to "failed". On success msg may carry one line for the operator.
 */
typedef struct {
	int (*status)(void *ctx, bftdns_ctl_status_t *out, char *msg, size_t msg_size);
	int (*sign_zone)(void *ctx, const char *zone, char *msg, size_t msg_size);
	int (*refresh)(void *ctx, const char *zone, char *msg, size_t msg_size);
	/*! Optional: one line about the server itself (syslog level). */
	void (*log)(void *ctx, int level, const char *line);
	/*! Optional: called every BFTDNS_CTL_TICK_MS or so (never twice at once). */
	void (*tick)(void *ctx);
} bftdns_ctl_ops_t;

typedef struct bftdns_ctl bftdns_ctl_t;

/*!
 * Creates the socket at path (mode 0660; the directory must exist), and
 * starts the control thread. A socket file left by a dead process is
 * replaced; a socket someone answers on is BFT_EEXIST, and so is a file
 * that is not a socket. ops->status, sign_zone and refresh are required.
 * With path NULL there is no socket: the thread only ticks (ops->tick
 * required).
 */
int bftdns_ctl_start(const char *path, const bftdns_ctl_ops_t *ops, void *ctx,
                     bftdns_ctl_t **out);

/*! Stops the thread, closes every client and removes the socket file. NULL is fine. */
void bftdns_ctl_stop(bftdns_ctl_t *ctl);
