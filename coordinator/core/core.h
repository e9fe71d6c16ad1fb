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
 * links to every peer and drives one sans-I/O protocol instance (any
 * bft_protocol_ops_t; the atomic broadcast in production).
 *
 *   bftdns_core_start()   validates, loads the link key, binds the listening
 *                         socket, creates the protocol, starts the thread
 *   bftdns_core_submit()  any thread, never blocks: an input for the
 *                         protocol (copied; BFT_EAGAIN when the inbox is full)
 *   conf.deliver          called ON THE COORDINATOR THREAD for every protocol
 *                         output; must not block (copy and hand off)
 *   bftdns_core_stop()    stops and joins the thread, frees everything
 *
 * Time (CLOCK_MONOTONIC) and randomness (getrandom) are read by the loop
 * and given to the protocol as inputs (bft_env_t).
 *
 * Node indices are 0..n-1; replica-id in knot.conf is index + 1.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/net/log.h"
#include "coordinator/proto/protocol.h"

typedef struct bftdns_core bftdns_core_t;

/*! One replica as the config names it. */
typedef struct {
	const char *host;    /*!< Numeric IPv4 or IPv6 address. */
	uint16_t port;
	const char *pin;     /*!< "sha256//..." of its link key. */
} bftdns_core_peer_t;

/*! An output of the protocol (data valid during the call only). */
typedef void (*bftdns_core_deliver_fn)(void *ctx, uint32_t tag, const uint8_t *data, size_t len);

typedef struct {
	uint16_t n;
	uint16_t f;
	bft_node_t self;                         /*!< 0..n-1. */
	bftdns_core_peer_t peers[BFT_NODES_MAX]; /*!< peers[self]: where we listen, our pin. */
	const char *key_file;                    /*!< Our link key (link-<id>.key, 0600). */
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

/*! Any thread, never blocks: queues an input for the protocol. */
int bftdns_core_submit(bftdns_core_t *core, const uint8_t *data, size_t len);

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
	uint64_t outputs;         /*!< Outputs delivered. */
	uint64_t faults;          /*!< Peer faults the protocol reported. */
	uint64_t refused_accepts; /*!< Incoming connections refused before TLS (too many). */
	uint64_t refused_handshakes; /*!< Incoming connections that failed TLS or HELLO. */
	uint64_t loops;           /*!< Event loop iterations. */
	bftdns_core_peer_stats_t peers[BFT_NODES_MAX];
} bftdns_core_stats_t;

/*! Any thread: a snapshot of the counters (published once per loop iteration). */
void bftdns_core_stats(bftdns_core_t *core, bftdns_core_stats_t *out);

/*! The TCP port the core listens on (useful when conf asked for port 0). */
uint16_t bftdns_core_port(const bftdns_core_t *core);
