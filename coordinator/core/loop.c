/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The coordinator thread: one epoll loop over the eventfd (inputs, stop),
 * the listening socket, the links and the accepted connections that are
 * not identified yet; timers from an indexed heap; the clocks are read here
 * once per iteration and handed down (monotonic to the links, wall clock to
 * the protocol).
 */

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/core/core_internal.h"
#include "coordinator/proto/error.h"

#define LOOP_EVENTS		64
#define LOOP_ACCEPTS		16
#define LOOP_WAIT_MAX_MS	1000
/* Refused accepts logged before they are only counted. */
#define LOOP_REFUSALS_LOGGED	10

uint64_t core_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t core_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t loop_data(unsigned kind, unsigned index, uint64_t gen)
{
	return (uint64_t)kind << 56 | (uint64_t)(index & 0xff) << 48 | (gen & 0xffffffffffffull);
}

/* Brings epoll in line with (fd, gen, events) for one of our fds. */
static void loop_reg(bftdns_core_t *core, core_reg_t *reg, int fd, uint64_t gen,
                     uint32_t events, unsigned kind, unsigned index)
{
	struct epoll_event ev = { .events = events, .data.u64 = loop_data(kind, index, gen) };
	if (reg->fd != fd || reg->gen != gen) {
		/* A replaced connection's fd was closed, which took it out of epoll. */
		reg->fd = -1;
		if (fd >= 0 && epoll_ctl(core->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
			reg->fd = fd;
			reg->gen = gen;
			reg->events = events;
		} else if (fd >= 0) {
			bft_log(&core->conf.log, LOG_ERR, "epoll: cannot watch fd %d: %s", fd, strerror(errno));
		}
	} else if (fd >= 0 && reg->events != events) {
		if (epoll_ctl(core->epfd, EPOLL_CTL_MOD, fd, &ev) == 0) {
			reg->events = events;
		}
	}
}

static void loop_sync_link(bftdns_core_t *core, bft_node_t i)
{
	bft_link_t *link = &core->links[i];
	loop_reg(core, &core->link_reg[i], bft_link_fd(link), link->gen, bft_link_events(link),
	         CORE_EV_LINK, i);
	if (bft_link_more(link)) {
		core->more |= bft_nodeset_one(i);
	}
}

static void loop_tick_link(bftdns_core_t *core, bft_node_t i)
{
	uint64_t next = bft_link_tick(&core->links[i], core->now_ms);
	bft_timers_set(&core->timers, i, next);
	loop_sync_link(core, i);
}

static void loop_io_link(bftdns_core_t *core, bft_node_t i)
{
	core->more &= ~bft_nodeset_one(i);
	bft_link_io(&core->links[i], core->now_ms, core_drive_message, core);
	loop_tick_link(core, i);
}

static void loop_pending_free(bftdns_core_t *core, unsigned j)
{
	core_pending_t *p = &core->pending[j];
	bft_conn_free(p->conn);
	memset(p, 0, sizeof(*p));
	p->reg.fd = -1;
	bft_timers_cancel(&core->timers, CORE_TIMER_PENDING + j);
}

/* An accepted connection: drive it until TLS says who it is, then hand it to its link. */
static void loop_io_pending(bftdns_core_t *core, unsigned j)
{
	core_pending_t *p = &core->pending[j];
	bft_conn_io(p->conn, NULL, core->now_ms, core_drive_message, core);
	if (bft_conn_state(p->conn) == BFT_CONN_FAILED) {
		/* Anyone can connect: after the first lines, one in 100 is enough. */
		uint64_t seen = ++core->stats.refused_handshakes;
		if (seen <= LOOP_REFUSALS_LOGGED || seen % 100 == 0) {
			bft_log(&core->conf.log, bft_conn_log_level(p->conn), "connection from %s: %s; "
			        "connection dropped (%llu so far)", bft_conn_remote(p->conn),
			        bft_conn_why(p->conn), (unsigned long long)seen);
		}
		loop_pending_free(core, j);
		return;
	}
	if (bft_conn_state(p->conn) < BFT_CONN_HELLO) {
		loop_reg(core, &p->reg, bft_conn_fd(p->conn), p->gen,
		         bft_conn_events(p->conn, NULL), CORE_EV_PENDING, j);
		return;
	}
	int peer = bft_conn_peer(p->conn);
	assert(peer >= 0 && peer < core->conf.n && peer < core->conf.self);
	/* The fd moves to the link's registration. */
	epoll_ctl(core->epfd, EPOLL_CTL_DEL, bft_conn_fd(p->conn), NULL);
	bft_conn_t *conn = p->conn;
	p->conn = NULL;
	loop_pending_free(core, j);
	bft_link_attach(&core->links[peer], conn, core->now_ms, core_drive_message, core);
	loop_tick_link(core, (bft_node_t)peer);
}

static int loop_pending_slot(const bftdns_core_t *core)
{
	for (unsigned j = 0; j < CORE_PENDING_MAX; j++) {
		if (core->pending[j].conn == NULL) {
			return (int)j;
		}
	}
	return -1;
}

static void loop_accept_one(bftdns_core_t *core, int fd, const struct sockaddr *addr)
{
	char remote[80];
	bft_addr_format(addr, remote, sizeof(remote));
	int j = loop_pending_slot(core);
	if (j < 0) {
		if (++core->stats.refused_accepts <= LOOP_REFUSALS_LOGGED) {
			bft_log(&core->conf.log, LOG_WARNING, "connection from %s: %u connections are "
			        "already being set up; refused", remote, CORE_PENDING_MAX);
		}
		close(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bft_conn_conf_t conf = {
		.tls = &core->tls, .server = true, .connecting = false,
		/* Only lower indices dial us. */
		.allowed = bft_nodeset_all(core->conf.self), .frame_max = core->conf.frame_max,
		.remote = remote,
	};
	core_pending_t *p = &core->pending[j];
	if (bft_conn_new(&conf, fd, core->now_ms, &p->conn) != BFT_EOK) {
		p->conn = NULL;
		return;
	}
	p->gen = ++core->pending_gen;
	p->reg.fd = -1;
	bft_timers_set(&core->timers, CORE_TIMER_PENDING + (unsigned)j,
	               core->now_ms + core->conf.connect_timeout_ms);
	loop_io_pending(core, (unsigned)j);
}

static void loop_accept(bftdns_core_t *core)
{
	for (int k = 0; k < LOOP_ACCEPTS; k++) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);
		int fd = accept4(core->listen_fd, (struct sockaddr *)&addr, &len,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				bft_log(&core->conf.log, LOG_WARNING, "accept: %s", strerror(errno));
			}
			return;
		}
		loop_accept_one(core, fd, (const struct sockaddr *)&addr);
	}
}

static void loop_dispatch(bftdns_core_t *core, const struct epoll_event *ev)
{
	unsigned kind = (unsigned)(ev->data.u64 >> 56);
	unsigned index = (unsigned)(ev->data.u64 >> 48) & 0xff;
	uint64_t gen = ev->data.u64 & 0xffffffffffffull;
	if (kind == CORE_EV_WAKE) {
		bft_inbox_ack(&core->inbox);
	} else if (kind == CORE_EV_LISTEN) {
		loop_accept(core);
	} else if (kind == CORE_EV_LINK && index < core->conf.n &&
	           (core->links[index].gen & 0xffffffffffffull) == gen) {
		loop_io_link(core, (bft_node_t)index);
	} else if (kind == CORE_EV_PENDING && index < CORE_PENDING_MAX &&
	           core->pending[index].conn != NULL && core->pending[index].gen == gen) {
		loop_io_pending(core, index);
	}
}

static void loop_timers(bftdns_core_t *core)
{
	uint32_t id = 0;
	for (unsigned k = 0; k < CORE_TIMERS && bft_timers_pop_due(&core->timers, core->now_ms, &id); k++) {
		if (id < BFT_NODES_MAX) {
			loop_tick_link(core, (bft_node_t)id);
			continue;
		}
		unsigned j = id - CORE_TIMER_PENDING;
		if (core->pending[j].conn != NULL) {
			bft_log(&core->conf.log, LOG_NOTICE, "connection from %s: not set up within %u ms; "
			        "connection dropped", bft_conn_remote(core->pending[j].conn),
			        core->conf.connect_timeout_ms);
			loop_pending_free(core, j);
		}
	}
}

/* More than f peers with nearly full queues: new inputs wait, so memory stays bounded. */
static bool loop_congested(const bftdns_core_t *core)
{
	unsigned full = 0;
	for (bft_node_t i = 0; i < core->conf.n; i++) {
		const bft_sendq_t *q = &core->links[i].q;
		if (i != core->conf.self && q->bytes > q->bytes_max / 4 * 3) {
			full++;
		}
	}
	return full > core->conf.f;
}

/*
 * Returns true if inputs are left for the next round. An input the
 * protocol refuses for now (BFT_EAGAIN: its own queue is full) is kept and
 * offered again after the next events, which are what frees the queue;
 * meanwhile the inbox fills and bftdns_core_submit() says BFT_EAGAIN, so
 * the back-pressure reaches the caller instead of losing the request.
 */
static bool loop_inputs(bftdns_core_t *core)
{
	if (loop_congested(core)) {
		return atomic_load(&core->inbox.count) > 0;
	}
	/* An input may be heavy (a signing request computes its shares here):
	 * past a time budget the rest waits for the next iteration, so that
	 * the links are served (PINGs answered) between them. */
	const uint64_t start_ms = core_now_ms();
	for (unsigned k = 0; k < CORE_INPUTS_PER_LOOP; k++) {
		if (k > 0 && core_now_ms() - start_ms >= CORE_INPUTS_BUDGET_MS) {
			break;
		}
		bft_inbox_item_t *item = core->stalled != NULL ? core->stalled : bft_inbox_pop(&core->inbox);
		if (item == NULL) {
			break;
		}
		core->stalled = NULL;
		if (core_drive_input(core, item->data, item->len) == BFT_EAGAIN) {
			core->stalled = item;
			core->stats.inputs_deferred++;
			return false;   /* Not busy: wait for events rather than spin. */
		}
		free(item);
	}
	return atomic_load(&core->inbox.count) > 0;
}

static void loop_publish(bftdns_core_t *core)
{
	bft_nodeset_t up = 0;
	for (bft_node_t i = 0; i < core->conf.n; i++) {
		if (i == core->conf.self) {
			continue;
		}
		const bft_link_stats_t *ls = &core->links[i].stats;
		bftdns_core_peer_stats_t *ps = &core->stats.peers[i];
		ps->msgs_out = ls->msgs_out;
		ps->bytes_out = ls->bytes_out;
		ps->msgs_in = ls->msgs_in;
		ps->bytes_in = ls->bytes_in;
		ps->refused = ls->refused;
		ps->connects = ls->connects;
		ps->drops = ls->drops;
		ps->queued = bft_sendq_bytes(&core->links[i].q);
		ps->queued_peak = core->links[i].q.bytes_peak;
		up |= bft_link_up(&core->links[i]) ? bft_nodeset_one(i) : 0;
	}
	core->stats.loops++;
	core_stack_watch(core);
	atomic_store(&core->up_mask, up);
	pthread_mutex_lock(&core->stats_lock);
	core->published = core->stats;
	pthread_mutex_unlock(&core->stats_lock);
}

static int loop_timeout(const bftdns_core_t *core, bool busy)
{
	if (busy || core->more != 0) {
		return 0;
	}
	uint64_t next = bft_timers_next(&core->timers, NULL);
	if (core->production && core->next_tick_ms < next) {
		next = core->next_tick_ms;
	}
	if (next <= core->now_ms) {
		return 0;
	}
	uint64_t wait = next - core->now_ms;
	return wait > LOOP_WAIT_MAX_MS ? LOOP_WAIT_MAX_MS : (int)wait;
}

static void loop_once(bftdns_core_t *core, bool *busy)
{
	struct epoll_event events[LOOP_EVENTS];
	int count = epoll_wait(core->epfd, events, LOOP_EVENTS, loop_timeout(core, *busy));
	core->now_ms = core_now_ms();
	core->wall_ms = core_wall_ms();
	for (int k = 0; k < count; k++) {
		loop_dispatch(core, &events[k]);
	}
	for (bft_node_t i = 0; i < core->conf.n; i++) {
		if (bft_nodeset_has(core->more, i)) {
			loop_io_link(core, i);
		}
	}
	loop_timers(core);
	core_drive_tick(core);
	bool inputs_left = loop_inputs(core);
	bool local_left = core_drive_local(core);
	for (bft_node_t i = 0; i < core->conf.n; i++) {
		if (i != core->conf.self) {
			loop_sync_link(core, i);
		}
	}
	*busy = inputs_left || local_left;
	loop_publish(core);
}

void *core_loop_main(void *arg)
{
	bftdns_core_t *core = arg;
	bool busy = false;
	core->now_ms = core_now_ms();
	core->wall_ms = core_wall_ms();
	for (bft_node_t i = 0; i < core->conf.n; i++) {
		if (i != core->conf.self) {
			loop_tick_link(core, i);
		}
	}
	/* Our announcement waits in the send queues until the links are up. */
	core_drive_start(core);
	while (!atomic_load(&core->stop)) {
		loop_once(core, &busy);
	}
	bft_log(&core->conf.log, LOG_INFO, "coordinator stopping");
	return NULL;
}

int core_listen(bftdns_core_t *core)
{
	const struct sockaddr *addr = (const struct sockaddr *)&core->listen_addr;
	socklen_t addr_len = core->listen_addr_len;
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0) {
		return BFT_EIO;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, addr, addr_len) != 0 || listen(fd, 64) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return BFT_EIO;
	}
	struct sockaddr_storage bound;
	socklen_t len = sizeof(bound);
	if (getsockname(fd, (struct sockaddr *)&bound, &len) == 0) {
		core->listen_port = ntohs(bound.ss_family == AF_INET6 ?
		                          ((struct sockaddr_in6 *)&bound)->sin6_port :
		                          ((struct sockaddr_in *)&bound)->sin_port);
	}
	core->listen_fd = fd;
	return BFT_EOK;
}
