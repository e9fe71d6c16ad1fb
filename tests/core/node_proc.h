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
 * Test helpers: one replica of a cluster (cluster.h) run as a separate
 * bftdns-node process, so that a test can kill it (SIGKILL, by PID) and
 * start it again: spawn it with the cluster's keys and ports, read the
 * lines it prints without blocking, stop it by PID with a bounded wait.
 */

#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "tests/common/check.h"
#include "tests/core/cluster.h"

/*! Extra arguments a test may add to the common ones. */
#define NODE_PROC_EXTRA_MAX	16

typedef struct {
	pid_t pid;                /*!< 0 when not running. */
	int out;                  /*!< Read end of its stdout (non-blocking). */
	char buf[4096];           /*!< A line not yet complete. */
	size_t len;
} node_proc_t;

/*! Called for each complete line the node printed (without the newline). */
typedef void (*node_proc_line_fn)(void *ctx, const char *line);

/*!
 * Starts bftdns-node at path as replica self of c: --n, --self, --key and
 * every replica as --peer, then extra (NULL-terminated, at most
 * NODE_PROC_EXTRA_MAX entries).
 */
static inline void node_proc_spawn(node_proc_t *p, const char *path, const cluster_t *c,
                                   unsigned self, const char *const *extra)
{
	int fds[2];
	CHECK(pipe2(fds, O_CLOEXEC) == 0);
	char nums[2][16], peers[BFT_NODES_MAX][160];
	const char *argv[8 + 2 * BFT_NODES_MAX + NODE_PROC_EXTRA_MAX + 1];
	int a = 0;
	snprintf(nums[0], sizeof(nums[0]), "%u", c->n);
	snprintf(nums[1], sizeof(nums[1]), "%u", self);
	argv[a++] = path;
	argv[a++] = "--n"; argv[a++] = nums[0];
	argv[a++] = "--self"; argv[a++] = nums[1];
	argv[a++] = "--key"; argv[a++] = c->keys[self];
	for (unsigned i = 0; i < c->n; i++) {
		snprintf(peers[i], sizeof(peers[i]), "127.0.0.1:%u:%s", c->ports[i], c->pins[i]);
		argv[a++] = "--peer";
		argv[a++] = peers[i];
	}
	for (unsigned i = 0; extra != NULL && extra[i] != NULL; i++) {
		CHECK(i < NODE_PROC_EXTRA_MAX);
		argv[a++] = extra[i];
	}
	argv[a] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	CHECK(pid > 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	*p = (node_proc_t){ .pid = pid, .out = fds[0] };
}

/*! Hands every complete line printed so far to fn; never blocks. */
static inline void node_proc_read(node_proc_t *p, node_proc_line_fn fn, void *ctx)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		ssize_t got = read(p->out, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
		if (got <= 0) {
			return;
		}
		p->len += (size_t)got;
		p->buf[p->len] = '\0';
		char *line = p->buf, *nl;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			fn(ctx, line);
			line = nl + 1;
		}
		p->len = strlen(line);
		memmove(p->buf, line, p->len);
	}
}

/*! Sends sig and waits (5 s at most, then SIGKILL) for the node to end. */
static inline void node_proc_reap(node_proc_t *p, int sig)
{
	if (p->pid <= 0) {
		return;
	}
	kill(p->pid, sig);
	int status = 0;
	pid_t got = 0;
	for (int i = 0; i < 500 && got == 0; i++) {
		got = waitpid(p->pid, &status, WNOHANG);
		if (got == 0) {
			cluster_pause_ms(10);
		}
	}
	if (got == 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &status, 0);
	}
	close(p->out);
	p->pid = 0;
}

/*! True once the links of cores 0..count-1 to node are all up (or all down). */
static inline bool node_proc_links(const cluster_t *c, unsigned count, unsigned node, bool up,
                                   unsigned limit_ms)
{
	uint64_t end = cluster_now_ms() + limit_ms;
	while (cluster_now_ms() < end) {
		bool ok = true;
		for (unsigned i = 0; i < count; i++) {
			ok &= bft_nodeset_has(bftdns_core_links_up(c->cores[i]), (bft_node_t)node) == up;
		}
		if (ok) {
			return true;
		}
		cluster_pause_ms(10);
	}
	return false;
}
