/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coordinator/net/link.h"
#include "coordinator/proto/error.h"

void bft_addr_format(const struct sockaddr *addr, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(out, len, "%s:%u", host, port);
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(out, len, "[%s]:%u", host, port);
	} else {
		snprintf(out, len, "(unknown address family %d)", addr->sa_family);
	}
}

int bft_link_init(bft_link_t *link, const bft_link_conf_t *conf, uint64_t now_ms)
{
	if (conf->tls == NULL || conf->peer >= conf->tls->n || conf->peer == conf->tls->self ||
	    conf->backoff_min_ms == 0 || conf->backoff_max_ms < conf->backoff_min_ms ||
	    conf->ping_ms == 0 || conf->idle_ms <= conf->ping_ms) {
		return BFT_EINVAL;
	}
	memset(link, 0, sizeof(*link));
	link->conf = *conf;
	link->dialer = conf->tls->self < conf->peer;
	link->backoff_ms = conf->backoff_min_ms;
	link->retry_at_ms = now_ms;
	bft_sendq_init(&link->q, conf->sendq_bytes_max);
	char addr[80];
	bft_addr_format((const struct sockaddr *)&conf->addr, addr, sizeof(addr));
	snprintf(link->name, sizeof(link->name), "replica %u (%s)", conf->peer + 1u, addr);
	return BFT_EOK;
}

void bft_link_deinit(bft_link_t *link)
{
	bft_conn_free(link->conn);
	link->conn = NULL;
	bft_sendq_clear(&link->q);
}

bool bft_link_up(const bft_link_t *link)
{
	return link->conn != NULL && bft_conn_state(link->conn) == BFT_CONN_UP;
}

int bft_link_fd(const bft_link_t *link)
{
	return link->conn != NULL ? bft_conn_fd(link->conn) : -1;
}

uint32_t bft_link_events(const bft_link_t *link)
{
	return link->conn != NULL ? bft_conn_events(link->conn, &link->q) : 0;
}

bool bft_link_more(const bft_link_t *link)
{
	return link->conn != NULL && bft_conn_more(link->conn);
}

int bft_link_send(bft_link_t *link, const uint8_t *data, size_t len)
{
	if (len == 0 || len > link->conf.frame_max) {
		return BFT_EINVAL;
	}
	int ret = bft_sendq_push(&link->q, BFT_FRAME_DATA, data, (uint32_t)len);
	if (ret == BFT_ESPACE) {
		link->stats.refused++;
		if (!link->full_logged) {
			bft_log(link->conf.log, LOG_WARNING, "%s: send queue full (%zu bytes), "
			        "dropping messages to it until it drains", link->name, link->q.bytes);
			link->full_logged = true;
		}
		return ret;
	}
	if (ret == BFT_EOK) {
		link->stats.msgs_out++;
		link->stats.bytes_out += len;
		if (link->full_logged && link->q.bytes < link->q.bytes_max / 2) {
			link->full_logged = false;
		}
	}
	return ret;
}

/* Drops the connection, logs why with the peer's name, schedules a redial. */
static void link_drop(bft_link_t *link, uint64_t now_ms, int level, const char *why)
{
	assert(link->conn != NULL);
	bool was_up = bft_conn_state(link->conn) == BFT_CONN_UP;
	bft_log(link->conf.log, level, "%s: %s; connection dropped", link->name, why);
	bft_conn_free(link->conn);
	link->conn = NULL;
	link->gen++;
	link->stats.drops++;
	bft_sendq_drop_partial(&link->q);
	if (was_up) {
		link->backoff_ms = link->conf.backoff_min_ms;
	}
	/* Jitter from the pair's indices: two replicas never redial in lockstep. */
	uint32_t jitter = (link->backoff_ms / 4) * ((link->conf.tls->self * 7u + link->conf.peer) % 5) / 4;
	link->retry_at_ms = now_ms + link->backoff_ms + jitter;
	link->backoff_ms = link->backoff_ms * 2 > link->conf.backoff_max_ms ?
	                   link->conf.backoff_max_ms : link->backoff_ms * 2;
}

static void link_check(bft_link_t *link, bft_conn_state_t before, uint64_t now_ms)
{
	bft_conn_state_t state = bft_conn_state(link->conn);
	if (state == BFT_CONN_FAILED) {
		link_drop(link, now_ms, bft_conn_log_level(link->conn), bft_conn_why(link->conn));
	} else if (state == BFT_CONN_UP && before != BFT_CONN_UP) {
		link->stats.connects++;
		link->backoff_ms = link->conf.backoff_min_ms;
		bft_log(link->conf.log, LOG_INFO, "%s: link up", link->name);
	}
}

void bft_link_io(bft_link_t *link, uint64_t now_ms, bft_conn_data_fn fn, void *ctx)
{
	if (link->conn == NULL) {
		return;
	}
	bft_conn_state_t before = bft_conn_state(link->conn);
	bft_conn_io(link->conn, &link->q, now_ms, fn, ctx);
	link_check(link, before, now_ms);
}

static void link_dial(bft_link_t *link, uint64_t now_ms)
{
	const struct sockaddr *addr = (const struct sockaddr *)&link->conf.addr;
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0) {
		bft_log(link->conf.log, LOG_ERR, "%s: cannot make a socket: %s", link->name, strerror(errno));
		link->retry_at_ms = now_ms + link->conf.backoff_max_ms;
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int ret = connect(fd, addr, link->conf.addr_len);
	bool connecting = ret != 0 && errno == EINPROGRESS;
	bft_conn_conf_t conf = {
		.tls = link->conf.tls, .server = false, .connecting = connecting,
		.allowed = bft_nodeset_one(link->conf.peer), .frame_max = link->conf.frame_max,
		.remote = link->name,
	};
	if (ret != 0 && !connecting) {
		/* Refused at once (the peer is down): just the backoff, at debug level. */
		bft_log(link->conf.log, LOG_DEBUG, "%s: connect: %s", link->name, strerror(errno));
		close(fd);
		link->stats.drops++;
		link->retry_at_ms = now_ms + link->backoff_ms;
		link->backoff_ms = link->backoff_ms * 2 > link->conf.backoff_max_ms ?
		                   link->conf.backoff_max_ms : link->backoff_ms * 2;
		return;
	}
	if (bft_conn_new(&conf, fd, now_ms, &link->conn) != BFT_EOK) {
		link->conn = NULL;
		link->retry_at_ms = now_ms + link->backoff_ms;
		return;
	}
	link->gen++;
}

/* Timeouts and pings of a live connection; returns its next deadline. */
static uint64_t link_tick_conn(bft_link_t *link, uint64_t now_ms)
{
	const bft_link_conf_t *c = &link->conf;
	if (!bft_link_up(link)) {
		uint64_t limit = bft_conn_started_ms(link->conn) + c->connect_timeout_ms;
		if (now_ms >= limit) {
			link_drop(link, now_ms, LOG_NOTICE, "no link within the connect timeout");
			return link->dialer ? link->retry_at_ms : UINT64_MAX;
		}
		return limit;
	}
	uint64_t rx = bft_conn_last_rx_ms(link->conn);
	if (now_ms >= rx + c->idle_ms) {
		link_drop(link, now_ms, LOG_WARNING, "silent for too long");
		return link->dialer ? link->retry_at_ms : UINT64_MAX;
	}
	if (now_ms >= rx + c->ping_ms && link->ping_at_ms <= rx) {
		bft_conn_ping(link->conn);
		link->ping_at_ms = now_ms;
	}
	uint64_t next = rx + c->idle_ms;
	if (link->ping_at_ms <= rx && rx + c->ping_ms < next) {
		next = rx + c->ping_ms;
	}
	return next;
}

uint64_t bft_link_tick(bft_link_t *link, uint64_t now_ms)
{
	if (link->conn == NULL && link->dialer && now_ms >= link->retry_at_ms) {
		link_dial(link, now_ms);
	}
	if (link->conn != NULL) {
		return link_tick_conn(link, now_ms);
	}
	return link->dialer ? link->retry_at_ms : UINT64_MAX;
}

void bft_link_attach(bft_link_t *link, bft_conn_t *conn, uint64_t now_ms,
                     bft_conn_data_fn fn, void *ctx)
{
	assert(bft_conn_peer(conn) == link->conf.peer);
	if (link->conn != NULL) {
		link_drop(link, now_ms, LOG_NOTICE, "replaced by a new connection from the peer");
	}
	link->conn = conn;
	link->gen++;
	bft_conn_state_t before = BFT_CONN_HELLO;
	/* The HELLO may already have arrived with the handshake's last flight. */
	bft_conn_io(conn, &link->q, now_ms, fn, ctx);
	link_check(link, before, now_ms);
}
