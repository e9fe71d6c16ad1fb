/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The control server: one thread, one poll() loop over a wake-up pipe, the
 * listening socket and at most CTL_CLIENTS_MAX clients. Every client has a
 * deadline on the local monotonic clock from the moment it is accepted; a
 * client that has not sent its request, or not read its answer, by then is
 * dropped. The optional tick runs between clients, on the same clock. All
 * memory is allocated in bftdns_ctl_start.
 */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/ctl/ctl.h"
#include "coordinator/ctl/proto.h"
#include "coordinator/ctl/socket.h"
#include "coordinator/proto/error.h"

#define CTL_CLIENTS_MAX		8
#define CTL_CLIENT_TIMEOUT_MS	5000
/*! Connections taken per loop turn, so a flood cannot starve the clients. */
#define CTL_ACCEPT_BURST	16

typedef struct {
	int fd;                    /*!< -1: the slot is free. */
	bool answering;            /*!< The request is in; out is being sent. */
	int64_t deadline_ms;
	size_t in_len;
	size_t out_len;
	size_t out_sent;
	char in[CTL_REQUEST_MAX];
	char out[CTL_RESPONSE_MAX];
} client_t;

struct bftdns_ctl {
	char *path;                   /*!< NULL: no socket, ticks only. */
	dev_t dev;
	ino_t ino;
	int listen_fd;
	int wake[2];
	const bftdns_ctl_ops_t *ops;
	void *ctx;
	pthread_t thread;
	int64_t tick_ms;              /*!< When ops->tick is due next. */
	client_t clients[CTL_CLIENTS_MAX];
	bftdns_ctl_status_t status;   /*!< Scratch for ops->status. */
};

static void ctl_log(bftdns_ctl_t *ctl, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ctl_log(bftdns_ctl_t *ctl, int level, const char *fmt, ...)
{
	if (ctl->ops->log == NULL) {
		return;
	}
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ctl->ops->log(ctl->ctx, level, line);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void client_close(client_t *c)
{
	if (c->fd >= 0) {
		close(c->fd);
	}
	c->fd = -1;
	c->answering = false;
	c->in_len = c->out_len = c->out_sent = 0;
}

/* A last word to a client we drop anyway: one try, never blocks. */
static void send_once(int fd, const char *kind, const char *msg)
{
	char line[256];
	size_t len = ctl_final_line(line, sizeof(line), 0, kind, msg);
	if (len < sizeof(line)) {
		ssize_t ignored = send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)ignored;
	}
}

static void answer_status(bftdns_ctl_t *ctl, client_t *c)
{
	char msg[BFTDNS_CTL_MSG_LEN] = "";
	memset(&ctl->status, 0, sizeof(ctl->status));
	int ret = ctl->ops->status(ctl->ctx, &ctl->status, msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	if (ret != BFT_EOK) {
		c->out_len = ctl_final_line(c->out, sizeof(c->out), 0, ctl_error_kind(ret), msg);
		return;
	}
	size_t len = 0;
	/* Room left for the final line and its message ("ok: " msg "\n"). */
	ret = ctl_status_format(&ctl->status, c->out, sizeof(c->out) - BFTDNS_CTL_MSG_LEN - 8,
	                        &len);
	if (ret == BFT_EINVAL) {
		ctl_log(ctl, LOG_ERR, "control: the module's status is inconsistent, not sent");
		c->out_len = ctl_final_line(c->out, sizeof(c->out), 0, "failed",
		                            "the replica's status is inconsistent (a bug)");
		return;
	}
	if (ret != BFT_EOK) {
		c->out_len = ctl_final_line(c->out, sizeof(c->out), 0, "failed",
		                            "the status does not fit in an answer");
		return;
	}
	/* A warning (a diverged replica, a signing pass held) ends the status. */
	c->out_len = ctl_final_line(c->out, sizeof(c->out), len, NULL, msg);
}

static void answer(bftdns_ctl_t *ctl, client_t *c, const ctl_request_t *req)
{
	if (req->cmd == CTL_CMD_STATUS) {
		answer_status(ctl, c);
		return;
	}
	char msg[BFTDNS_CTL_MSG_LEN] = "";
	int ret = req->cmd == CTL_CMD_SIGN_ZONE
	        ? ctl->ops->sign_zone(ctl->ctx, req->zone, msg, sizeof(msg))
	        : ctl->ops->refresh(ctl->ctx, req->zone, msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	ctl_log(ctl, LOG_INFO, "control: %s %s: %s",
	        req->cmd == CTL_CMD_SIGN_ZONE ? "sign-zone" : "refresh", req->zone,
	        ret == BFT_EOK ? "accepted" : ctl_error_kind(ret));
	c->out_len = ctl_final_line(c->out, sizeof(c->out), 0,
	                            ret == BFT_EOK ? NULL : ctl_error_kind(ret), msg);
}

static void client_read(bftdns_ctl_t *ctl, client_t *c)
{
	ssize_t got = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (got <= 0) {
		/* The client left before finishing its request: nobody to answer. */
		client_close(c);
		return;
	}
	c->in_len += (size_t)got;
	ctl_request_t req;
	const char *err = NULL;
	ctl_req_status_t st = ctl_request_parse(c->in, c->in_len, &req, &err);
	if (st == CTL_REQ_INCOMPLETE && c->in_len < sizeof(c->in)) {
		return;
	}
	if (st == CTL_REQ_OK) {
		answer(ctl, c, &req);
	} else {
		c->out_len = ctl_final_line(c->out, sizeof(c->out), 0, "bad-request",
		                            err != NULL ? err : "request too long");
	}
	assert(c->out_len < sizeof(c->out));
	c->answering = true;
	shutdown(c->fd, SHUT_RD);
}

static void client_write(client_t *c)
{
	ssize_t sent = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
	                    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (sent < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (sent <= 0) {
		client_close(c);
		return;
	}
	c->out_sent += (size_t)sent;
	if (c->out_sent == c->out_len) {
		client_close(c);
	}
}

static void clients_accept(bftdns_ctl_t *ctl, int64_t now)
{
	for (int i = 0; i < CTL_ACCEPT_BURST; i++) {
		int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			return;
		}
		client_t *slot = NULL;
		for (size_t j = 0; j < CTL_CLIENTS_MAX && slot == NULL; j++) {
			if (ctl->clients[j].fd < 0) {
				slot = &ctl->clients[j];
			}
		}
		if (slot == NULL) {
			send_once(fd, "busy", "too many control clients, try again");
			close(fd);
			continue;
		}
		slot->fd = fd;
		slot->deadline_ms = now + CTL_CLIENT_TIMEOUT_MS;
	}
}

static void clients_expire(bftdns_ctl_t *ctl, int64_t now)
{
	for (size_t i = 0; i < CTL_CLIENTS_MAX; i++) {
		client_t *c = &ctl->clients[i];
		if (c->fd >= 0 && c->deadline_ms <= now) {
			if (!c->answering) {
				send_once(c->fd, "timeout", "no complete request within 5 s");
			}
			client_close(c);
		}
	}
}

static int poll_timeout(const bftdns_ctl_t *ctl, int64_t now)
{
	int64_t wait = -1;
	if (ctl->ops->tick != NULL) {
		wait = ctl->tick_ms > now ? ctl->tick_ms - now : 0;
	}
	for (size_t i = 0; i < CTL_CLIENTS_MAX; i++) {
		const client_t *c = &ctl->clients[i];
		if (c->fd >= 0) {
			int64_t left = c->deadline_ms > now ? c->deadline_ms - now : 0;
			wait = wait < 0 || left < wait ? left : wait;
		}
	}
	return (int)wait;
}

static void *ctl_thread(void *arg)
{
	bftdns_ctl_t *ctl = arg;
	struct pollfd fds[2 + CTL_CLIENTS_MAX];
	for (;;) {
		fds[0] = (struct pollfd){ .fd = ctl->wake[0], .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = ctl->listen_fd, .events = POLLIN };
		for (size_t i = 0; i < CTL_CLIENTS_MAX; i++) {
			const client_t *c = &ctl->clients[i];
			/* A negative fd is ignored by poll(). */
			fds[2 + i] = (struct pollfd){ .fd = c->fd,
			                              .events = c->answering ? POLLOUT : POLLIN };
		}
		int ret = poll(fds, 2 + CTL_CLIENTS_MAX, poll_timeout(ctl, now_ms()));
		if (ret < 0 && errno != EINTR) {
			ctl_log(ctl, LOG_ERR, "control: poll failed (%s), control socket stopped",
			        strerror(errno));
			return NULL;
		}
		if (ret > 0 && fds[0].revents != 0) {
			return NULL;
		}
		int64_t now = now_ms();
		for (size_t i = 0; ret > 0 && i < CTL_CLIENTS_MAX; i++) {
			client_t *c = &ctl->clients[i];
			short ev = fds[2 + i].revents;
			if (c->fd < 0 || c->fd != fds[2 + i].fd || ev == 0) {
				continue;
			}
			if (c->answering) {
				client_write(c);
			} else {
				client_read(ctl, c);
			}
		}
		clients_expire(ctl, now);
		if (ret > 0 && fds[1].revents != 0) {
			clients_accept(ctl, now);
		}
		if (ctl->ops->tick != NULL && now >= ctl->tick_ms) {
			/* From now, not from the due time: a slow tick never piles up. */
			ctl->ops->tick(ctl->ctx);
			ctl->tick_ms = now_ms() + BFTDNS_CTL_TICK_MS;
		}
	}
}

static const char *start_error(int ret)
{
	switch (ret) {
	case BFT_EEXIST: return "exists and is in use (another knotd?) or is not a socket";
	case BFT_EINVAL: return "must be an absolute path of at most 107 bytes";
	default:         return strerror(errno);
	}
}

static int thread_start(bftdns_ctl_t *ctl)
{
	/* knotd's signals belong to its main thread: the control thread takes none. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int ret = pthread_create(&ctl->thread, NULL, ctl_thread, ctl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret == 0 ? BFT_EOK : BFT_ENOMEM;
}

int bftdns_ctl_start(const char *path, const bftdns_ctl_ops_t *ops, void *ctx,
                     bftdns_ctl_t **out)
{
	if (ops == NULL || ops->status == NULL || ops->sign_zone == NULL ||
	    ops->refresh == NULL || out == NULL || (path == NULL && ops->tick == NULL)) {
		return BFT_EINVAL;
	}
	bftdns_ctl_t *ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL || (path != NULL && (ctl->path = strdup(path)) == NULL)) {
		free(ctl);
		return BFT_ENOMEM;
	}
	ctl->ops = ops;
	ctl->ctx = ctx;
	ctl->wake[0] = ctl->wake[1] = -1;
	for (size_t i = 0; i < CTL_CLIENTS_MAX; i++) {
		ctl->clients[i].fd = -1;
	}
	bool replaced = false;
	/* No socket: poll() ignores the negative fd. */
	int fd = path != NULL ? ctl_socket_listen(path, &replaced, &ctl->dev, &ctl->ino) : -1;
	if (path != NULL && fd < 0) {
		ctl_log(ctl, LOG_ERR, "control: socket %s %s", path, start_error(fd));
		free(ctl->path);
		free(ctl);
		return fd;
	}
	ctl->listen_fd = fd;
	ctl->tick_ms = now_ms();
	if (replaced) {
		ctl_log(ctl, LOG_NOTICE, "control: replaced a stale socket at %s", path);
	}
	int ret = pipe2(ctl->wake, O_CLOEXEC | O_NONBLOCK) == 0 ? thread_start(ctl) : BFT_EIO;
	if (ret != BFT_EOK) {
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		if (ctl->wake[0] >= 0) {
			close(ctl->wake[0]);
			close(ctl->wake[1]);
		}
		free(ctl->path);
		free(ctl);
		return ret;
	}
	*out = ctl;
	return BFT_EOK;
}

void bftdns_ctl_stop(bftdns_ctl_t *ctl)
{
	if (ctl == NULL) {
		return;
	}
	ssize_t ignored = write(ctl->wake[1], "x", 1);
	(void)ignored;
	pthread_join(ctl->thread, NULL);
	for (size_t i = 0; i < CTL_CLIENTS_MAX; i++) {
		client_close(&ctl->clients[i]);
	}
	/* Remove the file only if it is still ours: an operator may have
	 * started another knotd on the path after removing ours by hand. */
	struct stat st;
	if (ctl->path != NULL) {
		close(ctl->listen_fd);
		if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev &&
		    st.st_ino == ctl->ino) {
			unlink(ctl->path);
		}
	}
	close(ctl->wake[0]);
	close(ctl->wake[1]);
	free(ctl->path);
	free(ctl);
}
