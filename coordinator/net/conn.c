/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "coordinator/net/conn.h"
#include "coordinator/proto/error.h"

/* Rounds of reads or writes per call: one busy peer cannot starve the others. */
#define CONN_ROUNDS	64

struct bft_conn {
	bft_conn_conf_t conf;
	int fd;
	bft_conn_state_t state;
	gnutls_session_t session;
	bft_tls_verify_t verify;
	bft_frame_reader_t reader;
	uint8_t out[BFT_CONN_RECORD];
	size_t out_len;          /*!< Staged bytes; after EAGAIN they must be sent as they are. */
	bool hello_queued;
	bool hello_received;
	bool ping_due;
	unsigned pongs_due;
	bool more;
	uint64_t started_ms;
	uint64_t last_rx_ms;
	char remote[64];
	char why[320];
	int error;               /*!< The BFT_E* code of the failure. */
	bool was_up;
};

static int conn_fail(bft_conn_t *conn, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A reset or a cut stream means the peer went away, not that it misbehaved. */
static int conn_tls_code(ssize_t ret)
{
	return ret == GNUTLS_E_PULL_ERROR || ret == GNUTLS_E_PUSH_ERROR ||
	       ret == GNUTLS_E_PREMATURE_TERMINATION ? BFT_EIO : BFT_ETLS;
}

static int conn_fail(bft_conn_t *conn, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(conn->why, sizeof(conn->why), fmt, ap);
	va_end(ap);
	conn->was_up = conn->state == BFT_CONN_UP;
	conn->state = BFT_CONN_FAILED;
	conn->error = code;
	return code;
}

int bft_conn_new(const bft_conn_conf_t *conf, int fd, uint64_t now_ms, bft_conn_t **out)
{
	bft_conn_t *conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		close(fd);
		return BFT_ENOMEM;
	}
	conn->conf = *conf;
	conn->fd = fd;
	conn->started_ms = now_ms;
	conn->last_rx_ms = now_ms;
	snprintf(conn->remote, sizeof(conn->remote), "%s", conf->remote ? conf->remote : "?");
	conn->conf.remote = conn->remote;
	conn->state = conf->connecting ? BFT_CONN_CONNECTING : BFT_CONN_HANDSHAKE;
	conn->verify.allowed = conf->allowed;
	int ret = bft_frame_reader_init(&conn->reader, conf->frame_max);
	if (ret == BFT_EOK) {
		ret = bft_tls_session(conf->tls, fd, conf->server, &conn->verify, &conn->session);
	}
	if (ret != BFT_EOK) {
		bft_conn_free(conn);
		return ret;
	}
	*out = conn;
	return BFT_EOK;
}

void bft_conn_free(bft_conn_t *conn)
{
	if (conn == NULL) {
		return;
	}
	if (conn->session != NULL) {
		if (conn->state == BFT_CONN_UP) {
			/* Best effort close_notify; never waits. */
			gnutls_bye(conn->session, GNUTLS_SHUT_WR);
		}
		gnutls_deinit(conn->session);
	}
	if (conn->fd >= 0) {
		close(conn->fd);
	}
	bft_frame_reader_deinit(&conn->reader);
	free(conn);
}

int bft_conn_fd(const bft_conn_t *conn) { return conn->fd; }
bft_conn_state_t bft_conn_state(const bft_conn_t *conn) { return conn->state; }
int bft_conn_peer(const bft_conn_t *conn) { return conn->verify.peer; }
const char *bft_conn_why(const bft_conn_t *conn) { return conn->why; }
const char *bft_conn_remote(const bft_conn_t *conn) { return conn->remote; }

int bft_conn_log_level(const bft_conn_t *conn)
{
	if (conn->error == BFT_EIO) {
		/* A peer that is down or restarting is routine, not an alarm. */
		return conn->was_up ? LOG_NOTICE : LOG_DEBUG;
	}
	return LOG_WARNING;
}
bool bft_conn_more(const bft_conn_t *conn) { return conn->more; }
void bft_conn_ping(bft_conn_t *conn) { conn->ping_due = true; }
uint64_t bft_conn_started_ms(const bft_conn_t *conn) { return conn->started_ms; }
uint64_t bft_conn_last_rx_ms(const bft_conn_t *conn) { return conn->last_rx_ms; }

static bool conn_has_output(const bft_conn_t *conn, const bft_sendq_t *q)
{
	if (conn->out_len > 0 || (conn->hello_queued && conn->ping_due) || conn->pongs_due > 0) {
		return true;
	}
	return conn->state == BFT_CONN_UP && q != NULL && q->count > 0;
}

uint32_t bft_conn_events(const bft_conn_t *conn, const bft_sendq_t *q)
{
	switch (conn->state) {
	case BFT_CONN_CONNECTING:
		return EPOLLOUT;
	case BFT_CONN_HANDSHAKE:
		return gnutls_record_get_direction(conn->session) ? EPOLLOUT : EPOLLIN;
	case BFT_CONN_HELLO:
	case BFT_CONN_UP:
		return EPOLLIN | (conn_has_output(conn, q) ? EPOLLOUT : 0);
	case BFT_CONN_FAILED:
		return 0;
	}
	return 0;
}

static int conn_check_connect(bft_conn_t *conn)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
		err = errno;
	}
	if (err == EINPROGRESS || err == EALREADY) {
		return BFT_EOK;
	}
	if (err != 0) {
		return conn_fail(conn, BFT_EIO, "cannot connect: %s", strerror(err));
	}
	conn->state = BFT_CONN_HANDSHAKE;
	return BFT_EOK;
}

/* Stages our HELLO: right after the handshake, before anything else. */
static void conn_stage_hello(bft_conn_t *conn)
{
	const bft_tls_t *tls = conn->conf.tls;
	bft_hello_t hello = {
		.from = tls->self, .to = (uint16_t)conn->verify.peer, .n = tls->n,
	};
	memcpy(hello.cluster_id, tls->cluster_id, BFT_CLUSTER_ID_LEN);
	assert(conn->out_len == 0);
	bft_frame_header(conn->out, BFT_FRAME_HELLO, BFT_FRAME_HELLO_LEN);
	bft_hello_encode(&hello, conn->out + BFT_FRAME_HEADER);
	conn->out_len = BFT_FRAME_HEADER + BFT_FRAME_HELLO_LEN;
	conn->hello_queued = true;
}

static int conn_handshake(bft_conn_t *conn)
{
	int ret = gnutls_handshake(conn->session);
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
		return BFT_EOK;
	}
	if (ret < 0) {
		if (conn->verify.unpinned) {
			return conn_fail(conn, BFT_EAUTH, "key %s is not pinned for this link; refused",
			                 conn->verify.seen_pin);
		}
		return conn_fail(conn, conn_tls_code(ret), "TLS handshake failed: %s", gnutls_strerror(ret));
	}
	/* The verify callback ran and matched, or the handshake would have failed. */
	if (conn->verify.peer < 0) {
		return conn_fail(conn, BFT_EAUTH, "the peer presented no certificate");
	}
	conn->state = BFT_CONN_HELLO;
	conn_stage_hello(conn);
	return BFT_EOK;
}

static int conn_on_hello(bft_conn_t *conn, const bft_frame_t *frame)
{
	const bft_tls_t *tls = conn->conf.tls;
	bft_hello_t hello;
	if (conn->hello_received) {
		return conn_fail(conn, BFT_EMALF, "second HELLO");
	}
	if (!bft_hello_decode(frame->payload, frame->len, &hello)) {
		return conn_fail(conn, BFT_EMALF, "malformed HELLO");
	}
	if (hello.from != conn->verify.peer || hello.to != tls->self || hello.n != tls->n) {
		return conn_fail(conn, BFT_EAUTH, "HELLO says replica %u to %u of %u, expected %d to %u of %u",
		                 hello.from + 1u, hello.to + 1u, hello.n, conn->verify.peer + 1,
		                 tls->self + 1u, tls->n);
	}
	if (memcmp(hello.cluster_id, tls->cluster_id, BFT_CLUSTER_ID_LEN) != 0) {
		return conn_fail(conn, BFT_EAUTH, "the peer runs another membership or other group "
		                 "parameters (f, signing protocol, zone key): cluster id differs");
	}
	conn->hello_received = true;
	conn->state = BFT_CONN_UP;
	return BFT_EOK;
}

static int conn_on_frame(bft_conn_t *conn, const bft_frame_t *frame,
                         bft_conn_data_fn fn, void *ctx)
{
	switch (frame->kind) {
	case BFT_FRAME_HELLO:
		return conn_on_hello(conn, frame);
	case BFT_FRAME_PING:
		conn->pongs_due++;
		return BFT_EOK;
	case BFT_FRAME_PONG:
		return BFT_EOK;
	case BFT_FRAME_DATA:
		if (conn->state != BFT_CONN_UP) {
			return conn_fail(conn, BFT_EMALF, "DATA before HELLO");
		}
		fn(ctx, (bft_node_t)conn->verify.peer, frame->payload, frame->len);
		return BFT_EOK;
	}
	return conn_fail(conn, BFT_EMALF, "unknown frame kind");
}

/* Handles every complete frame held by the reader. */
static int conn_drain_frames(bft_conn_t *conn, bft_conn_data_fn fn, void *ctx)
{
	for (;;) {
		bft_frame_t frame;
		bft_frame_status_t st = bft_frame_reader_next(&conn->reader, &frame);
		if (st == BFT_FRAME_INCOMPLETE) {
			return BFT_EOK;
		}
		if (st != BFT_FRAME_OK) {
			const uint8_t *p = conn->reader.buf + conn->reader.start;
			return conn_fail(conn, BFT_EMALF, "%s (header %02x %02x, limit %u bytes)",
			                 bft_frame_status_name(st), p[0],
			                 conn->reader.len - conn->reader.start > 1 ? p[1] : 0,
			                 conn->reader.max_payload);
		}
		int ret = conn_on_frame(conn, &frame, fn, ctx);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
}

static int conn_read(bft_conn_t *conn, uint64_t now_ms, bft_conn_data_fn fn, void *ctx)
{
	conn->more = false;
	for (int round = 0; round < CONN_ROUNDS; round++) {
		int ret = conn_drain_frames(conn, fn, ctx);
		if (ret != BFT_EOK) {
			return ret;
		}
		uint8_t *space = NULL;
		size_t room = 0;
		ret = bft_frame_reader_space(&conn->reader, &space, &room);
		if (ret != BFT_EOK) {
			return conn_fail(conn, ret, "cannot buffer a frame: %s", bft_strerror(ret));
		}
		ssize_t got = gnutls_record_recv(conn->session, space, room);
		if (got == GNUTLS_E_AGAIN) {
			return BFT_EOK;
		}
		if (got == GNUTLS_E_INTERRUPTED || (got < 0 && !gnutls_error_is_fatal((int)got))) {
			continue;
		}
		if (got == 0) {
			return conn_fail(conn, BFT_EIO, "the peer closed the connection");
		}
		if (got < 0) {
			return conn_fail(conn, conn_tls_code(got), "TLS read failed: %s", gnutls_strerror((int)got));
		}
		bft_frame_reader_commit(&conn->reader, (size_t)got);
		conn->last_rx_ms = now_ms;
	}
	/* Cut short for fairness: come back without waiting for the socket. */
	conn->more = true;
	return conn_drain_frames(conn, fn, ctx);
}

/* Fills the staging buffer: control frames first, then the peer's queue. */
static void conn_stage(bft_conn_t *conn, bft_sendq_t *q)
{
	assert(conn->out_len == 0);
	while (conn->pongs_due > 0 && conn->out_len + BFT_FRAME_HEADER <= sizeof(conn->out)) {
		bft_frame_header(conn->out + conn->out_len, BFT_FRAME_PONG, 0);
		conn->out_len += BFT_FRAME_HEADER;
		conn->pongs_due--;
	}
	if (conn->ping_due && conn->out_len + BFT_FRAME_HEADER <= sizeof(conn->out)) {
		bft_frame_header(conn->out + conn->out_len, BFT_FRAME_PING, 0);
		conn->out_len += BFT_FRAME_HEADER;
		conn->ping_due = false;
	}
	if (conn->state == BFT_CONN_UP && q != NULL) {
		conn->out_len += bft_sendq_fill(q, conn->out + conn->out_len,
		                                sizeof(conn->out) - conn->out_len);
	}
}

static int conn_write(bft_conn_t *conn, bft_sendq_t *q)
{
	for (int round = 0; round < CONN_ROUNDS; round++) {
		if (conn->out_len == 0) {
			conn_stage(conn, q);
		}
		if (conn->out_len == 0) {
			return BFT_EOK;
		}
		ssize_t sent = gnutls_record_send(conn->session, conn->out, conn->out_len);
		if (sent == GNUTLS_E_AGAIN) {
			return BFT_EOK;
		}
		if (sent == GNUTLS_E_INTERRUPTED) {
			continue;
		}
		if (sent < 0) {
			return conn_fail(conn, conn_tls_code(sent), "TLS write failed: %s", gnutls_strerror((int)sent));
		}
		assert((size_t)sent <= conn->out_len);
		memmove(conn->out, conn->out + sent, conn->out_len - (size_t)sent);
		conn->out_len -= (size_t)sent;
	}
	return BFT_EOK;
}

int bft_conn_io(bft_conn_t *conn, bft_sendq_t *q, uint64_t now_ms,
                bft_conn_data_fn fn, void *ctx)
{
	int ret = BFT_EOK;
	if (conn->state == BFT_CONN_CONNECTING) {
		ret = conn_check_connect(conn);
	}
	if (ret == BFT_EOK && conn->state == BFT_CONN_HANDSHAKE) {
		ret = conn_handshake(conn);
	}
	if (ret != BFT_EOK || conn->state < BFT_CONN_HELLO) {
		return ret;
	}
	ret = conn_write(conn, q);
	if (ret == BFT_EOK) {
		ret = conn_read(conn, now_ms, fn, ctx);
	}
	/* Answer what the reads asked for (PONG) and what DATA callbacks queued. */
	if (ret == BFT_EOK) {
		ret = conn_write(conn, q);
	}
	if (ret == BFT_EOK && gnutls_record_check_pending(conn->session) > 0) {
		conn->more = true;
	}
	return ret;
}
