/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The coordinator's API: start (everything that can fail is done before the
 * thread exists, so a bad config is an error code and a log line), submit,
 * stats, stop (join, then free in reverse order).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "coordinator/core/core_internal.h"
#include "coordinator/proto/error.h"

static void core_defaults(bftdns_core_conf_t *c)
{
	if (c->log.level_max == 0) c->log.level_max = LOG_INFO;
	if (c->sendq_bytes_max == 0) c->sendq_bytes_max = 16u << 20;
	if (c->frame_max == 0) c->frame_max = BFT_FRAME_PAYLOAD_MAX;
	if (c->inbox_max == 0) c->inbox_max = 4096;
	if (c->backoff_min_ms == 0) c->backoff_min_ms = 100;
	if (c->backoff_max_ms == 0) c->backoff_max_ms = 5000;
	if (c->connect_timeout_ms == 0) c->connect_timeout_ms = 10000;
	if (c->ping_ms == 0) c->ping_ms = 5000;
	if (c->idle_ms == 0) c->idle_ms = 20000;
}

static int core_fail(bftdns_core_t *core, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int core_fail(bftdns_core_t *core, int code, const char *fmt, ...)
{
	char line[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	bft_log(&core->conf.log, LOG_ERR, "coordinator not started: %s", line);
	return code;
}

/* Parses a numeric address and port into a socket address. */
static int core_addr(const char *host, uint16_t port, struct sockaddr_storage *out, socklen_t *len)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *in = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	if (host != NULL && inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return BFT_EOK;
	}
	if (host != NULL && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return BFT_EOK;
	}
	return BFT_EINVAL;
}

/* Copies the config and every string in it: the caller's may go away. */
static int core_copy_conf(bftdns_core_t *core, const bftdns_core_conf_t *conf)
{
	core->conf = *conf;
	core_defaults(&core->conf);
	bft_params_t params = { .n = conf->n, .f = conf->f, .self = conf->self };
	if (bft_params_check(&params) != BFT_EOK) {
		return core_fail(core, BFT_EINVAL, "need 1 <= n <= %d, n >= 3f + 1, self < n "
		                 "(n %u, f %u, self %u)", BFT_NODES_MAX, conf->n, conf->f, conf->self);
	}
	if ((conf->ops == NULL && conf->coin_file == NULL) || conf->key_file == NULL ||
	    snprintf(core->key_file, sizeof(core->key_file), "%s", conf->key_file) >= (int)sizeof(core->key_file)) {
		return core_fail(core, BFT_EINVAL, "a link key file, and a coin key file "
		                 "(or a protocol for tests), are required");
	}
	core->conf.key_file = core->key_file;
	if (conf->coin_file != NULL &&
	    snprintf(core->coin_file, sizeof(core->coin_file), "%s", conf->coin_file) >= (int)sizeof(core->coin_file)) {
		return core_fail(core, BFT_EINVAL, "the coin key file's path is too long");
	}
	core->conf.coin_file = conf->coin_file != NULL ? core->coin_file : NULL;
	if (conf->vote_dir != NULL &&
	    snprintf(core->vote_dir, sizeof(core->vote_dir), "%s", conf->vote_dir) >= (int)sizeof(core->vote_dir)) {
		return core_fail(core, BFT_EINVAL, "the vote log directory's path is too long");
	}
	core->conf.vote_dir = conf->vote_dir != NULL ? core->vote_dir : NULL;
	if (conf->resume_count > 0 && conf->resume == NULL) {
		return core_fail(core, BFT_EINVAL, "resume_count without resume batches");
	}
	for (unsigned i = 0; i < conf->n; i++) {
		const bftdns_core_peer_t *peer = &conf->peers[i];
		if (peer->host == NULL || peer->pin == NULL ||
		    snprintf(core->hosts[i], sizeof(core->hosts[i]), "%s", peer->host) >= (int)sizeof(core->hosts[i]) ||
		    snprintf(core->pins[i], sizeof(core->pins[i]), "%s", peer->pin) >= (int)sizeof(core->pins[i])) {
			return core_fail(core, BFT_EINVAL, "replica %u: an address and a pin are required", i + 1);
		}
		core->conf.peers[i].host = core->hosts[i];
		core->conf.peers[i].pin = core->pins[i];
	}
	return BFT_EOK;
}

static int core_init_links(bftdns_core_t *core, uint64_t now_ms)
{
	const bftdns_core_conf_t *c = &core->conf;
	for (bft_node_t i = 0; i < c->n; i++) {
		struct sockaddr_storage addr;
		socklen_t len = 0;
		if (core_addr(c->peers[i].host, c->peers[i].port, &addr, &len) != BFT_EOK) {
			return core_fail(core, BFT_EINVAL, "replica %u: '%s' is not a numeric address",
			                 i + 1u, c->peers[i].host);
		}
		if (i == c->self) {
			core->listen_addr = addr;
			core->listen_addr_len = len;
			continue;
		}
		bft_link_conf_t lc = {
			.tls = &core->tls, .peer = i, .addr = addr, .addr_len = len,
			.sendq_bytes_max = c->sendq_bytes_max, .frame_max = c->frame_max,
			.backoff_min_ms = c->backoff_min_ms, .backoff_max_ms = c->backoff_max_ms,
			.connect_timeout_ms = c->connect_timeout_ms, .ping_ms = c->ping_ms,
			.idle_ms = c->idle_ms, .log = &core->conf.log,
		};
		if (bft_link_init(&core->links[i], &lc, now_ms) != BFT_EOK) {
			return core_fail(core, BFT_EINVAL, "replica %u: bad link limits", i + 1u);
		}
		core->link_reg[i].fd = -1;
	}
	return BFT_EOK;
}

static int core_init_io(bftdns_core_t *core)
{
	int ret = core_listen(core);
	if (ret != BFT_EOK) {
		return core_fail(core, ret, "cannot listen on %s port %u: %s",
		                 core->hosts[core->conf.self], core->conf.peers[core->conf.self].port,
		                 strerror(errno));
	}
	core->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (core->epfd < 0 || bft_inbox_init(&core->inbox, core->conf.inbox_max) != BFT_EOK) {
		return core_fail(core, BFT_EIO, "cannot make epoll or eventfd: %s", strerror(errno));
	}
	struct epoll_event wake = { .events = EPOLLIN, .data.u64 = (uint64_t)CORE_EV_WAKE << 56 };
	struct epoll_event listen = { .events = EPOLLIN, .data.u64 = (uint64_t)CORE_EV_LISTEN << 56 };
	if (epoll_ctl(core->epfd, EPOLL_CTL_ADD, core->inbox.efd, &wake) != 0 ||
	    epoll_ctl(core->epfd, EPOLL_CTL_ADD, core->listen_fd, &listen) != 0) {
		return core_fail(core, BFT_EIO, "epoll: %s", strerror(errno));
	}
	return BFT_EOK;
}

static int core_init_proto(bftdns_core_t *core)
{
	bft_params_t params = {
		.n = core->conf.n, .f = core->conf.f, .self = core->conf.self,
		.conf = core->conf.proto_conf,
	};
	int ret = bft_step_init(&core->step, BFT_MSG_MAX * 4ull);
	if (ret == BFT_EOK) {
		ret = core->conf.ops->create(&params, &core->proto);
	}
	if (ret != BFT_EOK) {
		core->proto = NULL;
		return core_fail(core, ret, "protocol %s: %s", core->conf.ops->name, bft_strerror(ret));
	}
	char why[BFT_WHY_MAX] = "";
	if (core->production && (ret = core_stack_resume(core, why, sizeof(why))) != BFT_EOK) {
		return core_fail(core, ret, "%s", why);
	}
	return bft_timers_init(&core->timers, CORE_TIMERS);
}

static int core_init(bftdns_core_t *core, const bftdns_core_conf_t *conf)
{
	int ret = core_copy_conf(core, conf);
	if (ret != BFT_EOK) {
		return ret;
	}
	const char *pins[BFT_NODES_MAX];
	for (unsigned i = 0; i < core->conf.n; i++) {
		pins[i] = core->pins[i];
	}
	char why[BFT_WHY_MAX] = "";
	ret = bft_tls_init(&core->tls, core->key_file, core->conf.n, core->conf.self, pins,
	                   why, sizeof(why));
	if (ret != BFT_EOK) {
		return core_fail(core, ret, "%s", why);
	}
	/* After TLS: the coins are named by the cluster id. */
	if (core->conf.ops == NULL && (ret = core_stack_conf(core, why, sizeof(why))) != BFT_EOK) {
		return core_fail(core, ret, "%s", why);
	}
	ret = core_init_links(core, core_now_ms());
	if (ret == BFT_EOK) {
		ret = core_init_io(core);
	}
	/* After the listening socket: a coordinator of this zone that still
	 * stops (a reload) has it, and its vote log, until then. */
	if (ret == BFT_EOK && (ret = core_stack_votes(core, why, sizeof(why))) != BFT_EOK) {
		return core_fail(core, ret, "%s", why);
	}
	if (ret == BFT_EOK) {
		ret = core_init_proto(core);
	}
	return ret;
}

/* The thread takes no signals: they belong to knotd's (or the tool's) main thread. */
static int core_spawn(bftdns_core_t *core)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int ret = pthread_create(&core->thread, NULL, core_loop_main, core);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret != 0) {
		return core_fail(core, BFT_EIO, "cannot start the thread: %s", strerror(ret));
	}
	core->thread_started = true;
	return BFT_EOK;
}

static void core_free(bftdns_core_t *core)
{
	for (unsigned j = 0; j < CORE_PENDING_MAX; j++) {
		bft_conn_free(core->pending[j].conn);
	}
	for (bft_node_t i = 0; i < core->conf.n && i < BFT_NODES_MAX; i++) {
		if (i != core->conf.self) {
			bft_link_deinit(&core->links[i]);
		}
	}
	if (core->proto != NULL) {
		core->conf.ops->destroy(core->proto);
	}
	core_drive_free_local(core);
	votelog_close(core->votelog);
	free(core->stalled);
	bft_step_deinit(&core->step);
	bft_timers_deinit(&core->timers);
	if (core->inbox.efd > 0) {
		bft_inbox_deinit(&core->inbox);
	}
	if (core->listen_fd >= 0) {
		close(core->listen_fd);
	}
	if (core->epfd >= 0) {
		close(core->epfd);
	}
	bft_tls_deinit(&core->tls);
	coin_secret_wipe(&core->coin_sec);
	pthread_mutex_destroy(&core->stats_lock);
	free(core);
}

int bftdns_core_start(const bftdns_core_conf_t *conf, bftdns_core_t **out)
{
	if (conf == NULL || out == NULL) {
		return BFT_EINVAL;
	}
	bftdns_core_t *core = calloc(1, sizeof(*core));
	if (core == NULL) {
		return BFT_ENOMEM;
	}
	core->listen_fd = -1;
	core->epfd = -1;
	core->inbox.efd = -1;
	atomic_init(&core->stop, false);
	atomic_init(&core->up_mask, 0);
	atomic_init(&core->durable, 0);
	pthread_mutex_init(&core->stats_lock, NULL);
	int ret = core_init(core, conf);
	if (ret == BFT_EOK) {
		ret = core_spawn(core);
	}
	if (ret != BFT_EOK) {
		core_free(core);
		return ret;
	}
	bft_log(&core->conf.log, LOG_INFO, "coordinator started: replica %u of %u (f = %u), "
	        "protocol %s, listening on %s port %u", core->conf.self + 1u, core->conf.n,
	        core->conf.f, core->production ? "atomic broadcast" : core->conf.ops->name,
	        core->hosts[core->conf.self], core->listen_port);
	*out = core;
	return BFT_EOK;
}

int bftdns_core_submit(bftdns_core_t *core, const uint8_t *data, size_t len)
{
	if (core == NULL || (data == NULL && len > 0)) {
		return BFT_EINVAL;
	}
	if (atomic_load(&core->stop)) {
		return BFT_ESTOPPED;
	}
	if (core->production) {
		const uint8_t member = MUX_ABC;
		return bft_inbox_push2(&core->inbox, &member, 1, data, len);
	}
	return bft_inbox_push(&core->inbox, data, len);
}

int bftdns_core_submit_to(bftdns_core_t *core, uint8_t member, const uint8_t *data, size_t len)
{
	if (core == NULL || !core->production || (data == NULL && len > 0)) {
		return BFT_EINVAL;
	}
	if (atomic_load(&core->stop)) {
		return BFT_ESTOPPED;
	}
	return bft_inbox_push2(&core->inbox, &member, 1, data, len);
}

void bftdns_core_stop(bftdns_core_t *core)
{
	if (core == NULL) {
		return;
	}
	atomic_store(&core->stop, true);
	bft_inbox_wake(&core->inbox);
	if (core->thread_started) {
		pthread_join(core->thread, NULL);
	}
	core_free(core);
}

void bftdns_core_set_durable(bftdns_core_t *core, uint64_t epoch)
{
	if (core == NULL) {
		return;
	}
	uint_fast64_t cur = atomic_load(&core->durable);
	while (epoch > cur && !atomic_compare_exchange_weak(&core->durable, &cur, epoch)) {
	}
}

bft_nodeset_t bftdns_core_links_up(const bftdns_core_t *core)
{
	return (bft_nodeset_t)atomic_load(&((bftdns_core_t *)core)->up_mask);
}

void bftdns_core_stats(bftdns_core_t *core, bftdns_core_stats_t *out)
{
	pthread_mutex_lock(&core->stats_lock);
	*out = core->published;
	pthread_mutex_unlock(&core->stats_lock);
}

uint16_t bftdns_core_port(const bftdns_core_t *core)
{
	return core->listen_port;
}
