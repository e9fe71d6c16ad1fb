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
 * The link to one peer: its send queue, its current connection, and the
 * dialing rule. The replica with the lower index dials, the higher one
 * accepts (bft_link_attach); so each pair has one connection, and a
 * restarted replica is found again: the lower one redials with exponential
 * backoff, the higher one's fresh dial replaces the dead connection.
 *
 * The owner (the event loop) polls the fd for bft_link_events(), calls
 * bft_link_io() when it is ready and bft_link_tick() when the deadline it
 * returned has passed. Time is an argument, read by the owner.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "coordinator/net/conn.h"
#include "coordinator/net/log.h"
#include "coordinator/net/sendq.h"
#include "coordinator/net/tls.h"

typedef struct {
	const bft_tls_t *tls;
	bft_node_t peer;
	struct sockaddr_storage addr;  /*!< The peer's address (dialed if we are lower). */
	socklen_t addr_len;
	size_t sendq_bytes_max;
	uint32_t frame_max;
	uint32_t backoff_min_ms;
	uint32_t backoff_max_ms;
	uint32_t connect_timeout_ms;   /*!< TCP + TLS + HELLO must be done by then. */
	uint32_t ping_ms;              /*!< PING after this much silence. */
	uint32_t idle_ms;              /*!< Drop after this much silence. */
	const bft_logger_t *log;
} bft_link_conf_t;

typedef struct {
	uint64_t msgs_out, bytes_out;      /*!< DATA queued to the peer. */
	uint64_t msgs_in, bytes_in;        /*!< DATA received. */
	uint64_t refused;                  /*!< DATA refused: queue full. */
	uint64_t connects;                 /*!< Connections that came up. */
	uint64_t drops;                    /*!< Connections dropped (any reason). */
} bft_link_stats_t;

typedef struct {
	bft_link_conf_t conf;
	char name[96];                 /*!< "replica 3 (127.0.0.1:5003)", for logs. */
	bool dialer;
	bft_conn_t *conn;
	bft_sendq_t q;
	uint64_t retry_at_ms;
	uint32_t backoff_ms;
	uint64_t ping_at_ms;           /*!< When the last PING was queued. */
	uint64_t gen;                  /*!< Changes with every connection change. */
	bool full_logged;
	bft_link_stats_t stats;
} bft_link_t;

int bft_link_init(bft_link_t *link, const bft_link_conf_t *conf, uint64_t now_ms);
void bft_link_deinit(bft_link_t *link);

bool bft_link_up(const bft_link_t *link);
/*! The fd to poll (-1: none) and the events to poll it for. */
int bft_link_fd(const bft_link_t *link);
uint32_t bft_link_events(const bft_link_t *link);

/*! Queues a DATA frame. BFT_ESPACE if the queue is full (counted, logged once per episode). */
int bft_link_send(bft_link_t *link, const uint8_t *data, size_t len);

/*! I/O after readiness; DATA payloads go to fn. Failures are logged and handled here. */
void bft_link_io(bft_link_t *link, uint64_t now_ms, bft_conn_data_fn fn, void *ctx);

/*! Timers (dial, timeouts, pings). Returns the next deadline. */
uint64_t bft_link_tick(bft_link_t *link, uint64_t now_ms);

/*! True if the connection wants to be served again without waiting for the fd. */
bool bft_link_more(const bft_link_t *link);

/*! Gives the link a connection accepted from its peer (replaces any older one). */
void bft_link_attach(bft_link_t *link, bft_conn_t *conn, uint64_t now_ms,
                     bft_conn_data_fn fn, void *ctx);

/*! Formats a socket address as "address:port". */
void bft_addr_format(const struct sockaddr *addr, char *out, size_t len);
