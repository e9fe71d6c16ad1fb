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
 * One TLS connection to a peer over a non-blocking TCP socket:
 * connect -> TLS 1.3 handshake (pins checked) -> HELLO both ways -> up.
 * Up, it reads frames and hands DATA payloads to a callback, and writes
 * the peer's send queue in records of up to 16 KiB. It reads no clock:
 * the caller passes `now`.
 *
 * Any error (TLS, unpinned key, bad frame, bad HELLO, EOF) puts the
 * connection in the FAILED state with a sentence in why; the owner logs it
 * with the peer's name and frees the connection. Nothing else changes.
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "coordinator/net/sendq.h"
#include "coordinator/net/tls.h"

/*! Largest TLS record payload: the write staging buffer. */
#define BFT_CONN_RECORD		16384

typedef enum {
	BFT_CONN_CONNECTING,
	BFT_CONN_HANDSHAKE,
	BFT_CONN_HELLO,
	BFT_CONN_UP,
	BFT_CONN_FAILED,
} bft_conn_state_t;

typedef struct bft_conn bft_conn_t;

/*! Receives one DATA payload from the peer (valid during the call only). */
typedef void (*bft_conn_data_fn)(void *ctx, bft_node_t peer, const uint8_t *data, size_t len);

typedef struct {
	const bft_tls_t *tls;
	bool server;
	bool connecting;            /*!< Client whose connect() is in progress. */
	bft_nodeset_t allowed;      /*!< Pins accepted in the handshake. */
	uint32_t frame_max;         /*!< Largest payload accepted from the peer. */
	const char *remote;         /*!< "address:port", for messages. */
} bft_conn_conf_t;

/*! Takes ownership of fd (closed by bft_conn_free, also on failure here). */
int bft_conn_new(const bft_conn_conf_t *conf, int fd, uint64_t now_ms, bft_conn_t **out);
void bft_conn_free(bft_conn_t *conn);

int bft_conn_fd(const bft_conn_t *conn);
bft_conn_state_t bft_conn_state(const bft_conn_t *conn);
/*! The authenticated peer (after the handshake), else -1. */
int bft_conn_peer(const bft_conn_t *conn);
/*! Why the connection failed. */
const char *bft_conn_why(const bft_conn_t *conn);
const char *bft_conn_remote(const bft_conn_t *conn);
/*!
 * How loud the failure is: LOG_WARNING for a peer misbehaving (key, TLS,
 * frames, HELLO), LOG_NOTICE for an established link that broke,
 * LOG_DEBUG for a peer that is not there (yet).
 */
int bft_conn_log_level(const bft_conn_t *conn);

/*! epoll events the connection waits for, given the peer's queue (may be NULL). */
uint32_t bft_conn_events(const bft_conn_t *conn, const bft_sendq_t *q);

/*!
 * Makes progress after readiness (or a timer): handshake, HELLO, reads,
 * writes. DATA payloads go to fn. q is the peer's queue, written only once
 * up. Returns BFT_EOK, or an error with the state FAILED.
 */
int bft_conn_io(bft_conn_t *conn, bft_sendq_t *q, uint64_t now_ms,
                bft_conn_data_fn fn, void *ctx);

/*! True if decrypted bytes wait inside GnuTLS or a read round was cut short. */
bool bft_conn_more(const bft_conn_t *conn);

/*! Queues a PING (sent at the next write). */
void bft_conn_ping(bft_conn_t *conn);

uint64_t bft_conn_started_ms(const bft_conn_t *conn);
uint64_t bft_conn_last_rx_ms(const bft_conn_t *conn);
