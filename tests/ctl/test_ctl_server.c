/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The control server and bftdnsctl (argv[1]) together, over a real socket.
 *
 * TRANSPORT TEST: the ops below are this test's own and answer fixed values
 * (replica 2 of 4, one zone...). They stand in for the module so that what
 * is checked is the socket, the protocol and the client's messages and exit
 * codes, not the replica's state.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/ctl/ctl.h"
#include "coordinator/ctl/socket.h"
#include "coordinator/proto/error.h"
#include "tests/common/check.h"

static const char *ctl_bin;
static char dir[64];
static char sock_path[128];
static atomic_int ready = 1;

/* ---- The test's ops: fixed answers (see the file comment). ---- */

static int test_status(void *ctx, bftdns_ctl_status_t *st, char *msg, size_t size)
{
	if (!atomic_load(&ready)) {
		snprintf(msg, size, "2 of 3 peer links are down");
		return BFT_EAGAIN;
	}
	st->replica_id = 2;
	st->replicas = 4;
	st->faults = 1;
	st->peers_connected = 2;
	st->has_batch = 1;
	st->last_batch = 41;
	st->last_batch_time = 1767225600;
	st->batches_delivered = 41;
	st->updates_received = 12;
	st->bad_shares[3] = 7;
	st->zone_count = 1;
	strcpy(st->zones[0].name, "example.com.");
	strcpy(st->zones[0].digest, "sha256:1234");
	strcpy(st->zones[0].signing, "optte");
	return BFT_EOK;
}

static int test_sign_zone(void *ctx, const char *zone, char *msg, size_t size)
{
	if (strcmp(zone, "example.com.") == 0) {
		snprintf(msg, size, "queued for %s", zone);
		return BFT_EOK;
	}
	snprintf(msg, size, "not supported yet");
	return BFT_EINVAL;
}

static int test_refresh(void *ctx, const char *zone, char *msg, size_t size)
{
	snprintf(msg, size, "no zone %s here", zone);
	return BFT_ENOENT;
}

static const bftdns_ctl_ops_t OPS = {
	.status = test_status, .sign_zone = test_sign_zone, .refresh = test_refresh,
};

/* ---- Running bftdnsctl. ---- */

typedef struct {
	int code;
	char out[8192];
	char err[2048];
} run_t;

static void file_read(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f != NULL ? fread(buf, 1, size - 1, f) : 0;
	buf[n] = '\0';
	if (f != NULL) {
		fclose(f);
	}
}

static pid_t ctl_spawn(char *const args[])
{
	char out[160], err[160];
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	pid_t pid = fork();
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(o, 1);
		dup2(e, 2);
		char *argv[16] = { (char *)ctl_bin };
		for (int i = 0; args[i] != NULL && i < 14; i++) {
			argv[i + 1] = args[i];
		}
		execv(ctl_bin, argv);
		_exit(127);
	}
	return pid;
}

static void ctl_wait(pid_t pid, run_t *r)
{
	int status = 0;
	waitpid(pid, &status, 0);
	r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	char path[160];
	snprintf(path, sizeof(path), "%s/out", dir);
	file_read(path, r->out, sizeof(r->out));
	snprintf(path, sizeof(path), "%s/err", dir);
	file_read(path, r->err, sizeof(r->err));
}

#define CTL_RUN(r, ...) do { \
	char *args_[] = { __VA_ARGS__, NULL }; \
	ctl_wait(ctl_spawn(args_), (r)); \
} while (0)

/* ---- Raw clients. ---- */

static int raw_connect(void)
{
	int fd = ctl_socket_connect(sock_path);
	CHECK(fd >= 0);
	return fd;
}

/* Reads until the server closes, for at most 10 s. */
static void raw_read(int fd, char *buf, size_t size)
{
	size_t len = 0;
	for (int turns = 0; turns < 1000 && len < size - 1; turns++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10000) <= 0) {
			break;
		}
		ssize_t got = recv(fd, buf + len, size - 1 - len, 0);
		if (got <= 0) {
			break;
		}
		len += (size_t)got;
	}
	buf[len] = '\0';
}

static void raw_exchange(const char *req, size_t len, char *buf, size_t size)
{
	int fd = raw_connect();
	CHECK(send(fd, req, len, MSG_NOSIGNAL) == (ssize_t)len);
	raw_read(fd, buf, size);
	close(fd);
}

/* ---- Tests. ---- */

static void test_commands(void)
{
	run_t r;
	CTL_RUN(&r, "-s", sock_path, "status");
	CHECK_EQ(r.code, 0);
	CHECK(strstr(r.out, "replica: 2\nreplicas: 4\nfaults: 1\npeers: 2/3 connected\n") != NULL);
	CHECK(strstr(r.out, "last-batch: 41\n") != NULL);
	CHECK(strstr(r.out, "bad-shares: 1=0 3=0 4=7\n") != NULL);
	CHECK(strstr(r.out, "zone: example.com. digest=sha256:1234 signing=optte\n") != NULL);
	CHECK(strstr(r.out, "ok") == NULL);
	CTL_RUN(&r, "-s", sock_path, "sign-zone", "EXAMPLE.com");
	CHECK_EQ(r.code, 0);
	CHECK(strcmp(r.out, "queued for example.com.\n") == 0);
	CTL_RUN(&r, "-s", sock_path, "sign-zone", "other.org");
	CHECK_EQ(r.code, 6);
	CHECK(strstr(r.err, "not-supported: not supported yet") != NULL);
	CTL_RUN(&r, "-s", sock_path, "refresh", "nosuch.zone.");
	CHECK_EQ(r.code, 6);
	CHECK(strstr(r.err, "no-zone: no zone nosuch.zone. here") != NULL);
	atomic_store(&ready, 0);
	CTL_RUN(&r, "-s", sock_path, "status");
	CHECK_EQ(r.code, 5);
	CHECK(strstr(r.err, "not-ready: 2 of 3 peer links are down") != NULL);
	atomic_store(&ready, 1);
}

static void conf_write(const char *name, const char *text)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_config(void)
{
	char conf[160], text[1024];
	snprintf(text, sizeof(text),
	         "# a replica\nserver:\n    listen: 127.0.0.1@53\n"
	         "control:\n    listen: /run/knot/knot.sock\n"
	         "mod-bftdns:\n  - id: other\n    replica-id: 1\n"
	         "  - id: default  # the one\n    replica-id: 2\n    control-socket: \"%s\"\n"
	         "zone:\n  - domain: example.com.\n    module: mod-bftdns/default\n", sock_path);
	conf_write("knot.conf", text);
	snprintf(conf, sizeof(conf), "%s/knot.conf", dir);
	run_t r;
	CTL_RUN(&r, "-c", conf, "status");
	CHECK_EQ(r.code, 0);
	CHECK(strstr(r.out, "replica: 2\n") != NULL);
	CTL_RUN(&r, "-c", conf, "-i", "default", "status");
	CHECK_EQ(r.code, 0);
	CTL_RUN(&r, "-c", conf, "-i", "other", "status");
	CHECK_EQ(r.code, 2);
	CHECK(strstr(r.err, "no control-socket item") != NULL);
	CTL_RUN(&r, "-c", conf, "-i", "third", "status");
	CHECK_EQ(r.code, 2);
	CHECK(strstr(r.err, "no mod-bftdns section with id 'third'") != NULL);
	/* Two sections, two sockets: the operator must choose. */
	snprintf(text, sizeof(text), "mod-bftdns:\n  - id: a\n    control-socket: %s\n"
	         "  - id: b\n    control-socket: /run/other.sock\n", sock_path);
	conf_write("two.conf", text);
	snprintf(conf, sizeof(conf), "%s/two.conf", dir);
	CTL_RUN(&r, "-c", conf, "status");
	CHECK_EQ(r.code, 2);
	CHECK(strstr(r.err, "choose one with -i ID") != NULL);
	CTL_RUN(&r, "-c", conf, "-i", "a", "status");
	CHECK_EQ(r.code, 0);
	conf_write("none.conf", "server:\n    listen: 127.0.0.1@53\ninclude: /etc/knot/more.conf\n");
	snprintf(conf, sizeof(conf), "%s/none.conf", dir);
	CTL_RUN(&r, "-c", conf, "status");
	CHECK_EQ(r.code, 2);
	CHECK(strstr(r.err, "has no mod-bftdns section (include: files are not read") != NULL);
	conf_write("bad.conf", "mod-bftdns:\n  - id: a\n\tcontrol-socket: [\n");
	snprintf(conf, sizeof(conf), "%s/bad.conf", dir);
	CTL_RUN(&r, "-c", conf, "status");
	CHECK_EQ(r.code, 2);
	CHECK(strstr(r.err, "line ") != NULL);
	conf_write("rel.conf", "mod-bftdns:\n  - id: a\n    control-socket: run/x.sock\n");
	snprintf(conf, sizeof(conf), "%s/rel.conf", dir);
	CTL_RUN(&r, "-c", conf, "status");
	CHECK_EQ(r.code, 2);
	CHECK(strstr(r.err, "not an absolute path") != NULL);
	snprintf(conf, sizeof(conf), "%s/missing.conf", dir);
	CTL_RUN(&r, "-c", conf, "status");
	CHECK_EQ(r.code, 2);
	CHECK(strstr(r.err, "cannot read") != NULL && strstr(r.err, "No such file") != NULL);
}

static void test_usage(void)
{
	run_t r;
	CTL_RUN(&r, "status");
	CHECK_EQ(r.code, 1);
	CTL_RUN(&r, "-s", sock_path, "reload");
	CHECK_EQ(r.code, 1);
	CHECK(strstr(r.err, "unknown command 'reload'") != NULL);
	CTL_RUN(&r, "-s", sock_path, "sign-zone");
	CHECK_EQ(r.code, 1);
	CTL_RUN(&r, "-s", sock_path, "sign-zone", "a..b");
	CHECK_EQ(r.code, 1);
	CHECK(strstr(r.err, "not a zone name") != NULL);
	CTL_RUN(&r, "-s", "relative.sock", "status");
	CHECK_EQ(r.code, 1);
	CTL_RUN(&r, "-t", "0", "-s", sock_path, "status");
	CHECK_EQ(r.code, 1);
	CTL_RUN(&r, "--help");
	CHECK_EQ(r.code, 0);
	CHECK(strstr(r.out, "Exit status:") != NULL);
}

static void test_bad_requests(void)
{
	char buf[1024];
	const char garbage[] = "GET / HTTP/1.0\r\n\r\n";
	raw_exchange(garbage, sizeof(garbage) - 1, buf, sizeof(buf));
	CHECK(strncmp(buf, "error: bad-request: expected the version line", 45) == 0);
	char big[700];
	memset(big, 'x', sizeof(big));
	memcpy(big, "bftdns-ctl 1\nstatus ", 20);
	raw_exchange(big, sizeof(big), buf, sizeof(buf));
	CHECK(strcmp(buf, "error: bad-request: request too long\n") == 0);
	const char binary[] = "bftdns-ctl 1\nst\0tus\n";
	raw_exchange(binary, sizeof(binary) - 1, buf, sizeof(buf));
	CHECK(strncmp(buf, "error: bad-request: ", 20) == 0);
	/* Random bytes: the server answers or closes, and keeps serving. */
	srand(7);
	for (int i = 0; i < 50; i++) {
		char junk[300];
		size_t len = 1 + (size_t)rand() % sizeof(junk);
		for (size_t j = 0; j < len; j++) {
			junk[j] = (char)rand();
		}
		int fd = raw_connect();
		send(fd, junk, len, MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
		raw_read(fd, buf, sizeof(buf));
		CHECK(buf[0] == '\0' || strncmp(buf, "error: ", 7) == 0);
		close(fd);
	}
	run_t r;
	CTL_RUN(&r, "-s", sock_path, "status");
	CHECK_EQ(r.code, 0);
}

/* One client stalls mid-request; another is served meanwhile. */
static void test_concurrent(void)
{
	char buf[4096];
	int slow = raw_connect();
	CHECK(send(slow, "bftdns-ctl 1\n", 13, MSG_NOSIGNAL) == 13);
	int fast = raw_connect();
	const char req[] = "bftdns-ctl 1\nstatus\n";
	CHECK(send(fast, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)sizeof(req) - 1);
	raw_read(fast, buf, sizeof(buf));
	CHECK(strstr(buf, "replica: 2\n") != NULL && strstr(buf, "\nok\n") != NULL);
	close(fast);
	CHECK(send(slow, "refresh example.com\n", 20, MSG_NOSIGNAL) == 20);
	raw_read(slow, buf, sizeof(buf));
	CHECK(strcmp(buf, "error: no-zone: no zone example.com. here\n") == 0);
	close(slow);
}

/* Eight idle clients fill the server; a ninth is told so; an idle one is dropped at 5 s. */
static void test_limits(void)
{
	int idle[8];
	for (int i = 0; i < 8; i++) {
		idle[i] = raw_connect();
	}
	/* The backlog is accepted in order, so the ninth connection is the one refused. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char buf[256];
	int extra = raw_connect();
	raw_read(extra, buf, sizeof(buf));
	CHECK(strcmp(buf, "error: busy: too many control clients, try again\n") == 0);
	close(extra);
	raw_read(idle[0], buf, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(strcmp(buf, "error: timeout: no complete request within 5 s\n") == 0);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 4000 && ms < 9000);
	for (int i = 0; i < 8; i++) {
		close(idle[i]);
	}
	run_t r;
	CTL_RUN(&r, "-s", sock_path, "status");
	CHECK_EQ(r.code, 0);
}

/* A server that answers nonsense: bftdnsctl says it is a protocol error. */
static void test_protocol_error(const char *reply, const char *expect)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/fake.sock", dir);
	bool replaced;
	dev_t dev;
	ino_t ino;
	int lfd = ctl_socket_listen(path, &replaced, &dev, &ino);
	CHECK(lfd >= 0);
	char *args[] = { "-t", "3", "-s", path, "status", NULL };
	pid_t pid = ctl_spawn(args);
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	CHECK(poll(&p, 1, 10000) == 1);
	int fd = accept(lfd, NULL, NULL);
	char buf[256];
	CHECK(recv(fd, buf, sizeof(buf), 0) > 0);
	send(fd, reply, strlen(reply), MSG_NOSIGNAL);
	close(fd);
	run_t r;
	ctl_wait(pid, &r);
	CHECK_EQ(r.code, 4);
	CHECK(strstr(r.err, expect) != NULL);
	close(lfd);
	unlink(path);
}

static void test_socket_files(void)
{
	struct stat st;
	CHECK(stat(sock_path, &st) == 0 && (st.st_mode & 0777) == CTL_SOCKET_MODE);
	/* A live socket is not taken over. */
	bftdns_ctl_t *second = NULL;
	CHECK_EQ(bftdns_ctl_start(sock_path, &OPS, NULL, &second), BFT_EEXIST);
	/* Nor a file that is not a socket. */
	char path[128];
	snprintf(path, sizeof(path), "%s/plain", dir);
	conf_write("plain", "x");
	CHECK_EQ(bftdns_ctl_start(path, &OPS, NULL, &second), BFT_EEXIST);
	/* A missing directory, a relative path. */
	CHECK_EQ(bftdns_ctl_start("/nonexistent-bftdns/ctl.sock", &OPS, NULL, &second), BFT_EIO);
	CHECK_EQ(bftdns_ctl_start("ctl.sock", &OPS, NULL, &second), BFT_EINVAL);
	/* A socket left by a dead process: bftdnsctl says so, the server replaces it. */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	bool replaced;
	dev_t dev;
	ino_t ino;
	close(ctl_socket_listen(path, &replaced, &dev, &ino));
	run_t r;
	CTL_RUN(&r, "-s", path, "status");
	CHECK_EQ(r.code, 3);
	CHECK(strstr(r.err, "connection refused") != NULL);
	CHECK_EQ(bftdns_ctl_start(path, &OPS, NULL, &second), BFT_EOK);
	CTL_RUN(&r, "-s", path, "status");
	CHECK_EQ(r.code, 0);
	bftdns_ctl_stop(second);
	CHECK(lstat(path, &st) != 0 && errno == ENOENT);
	CTL_RUN(&r, "-s", path, "status");
	CHECK_EQ(r.code, 3);
	CHECK(strstr(r.err, "is knotd running with mod-bftdns") != NULL);
}

/* ---- The tick: on the control thread, about once a second, socket or not. ---- */

static atomic_int ticks;

static void test_tick_fn(void *ctx)
{
	atomic_fetch_add(&ticks, 1);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits (bounded) until `want` ticks were counted; returns the ms it took. */
static int64_t ticks_wait(int want)
{
	int64_t start = mono_ms();
	while (atomic_load(&ticks) < want && mono_ms() - start < 10000) {
		struct timespec step = { 0, 20 * 1000000 };
		nanosleep(&step, NULL);
	}
	return mono_ms() - start;
}

static void test_tick(void)
{
	bftdns_ctl_ops_t ops = OPS;
	bftdns_ctl_t *ctl = NULL;
	/* No socket and nothing to tick: refused. */
	CHECK_EQ(bftdns_ctl_start(NULL, &OPS, NULL, &ctl), BFT_EINVAL);
	ops.tick = test_tick_fn;

	/* No socket: the thread only ticks; the first tick at once, the third
	 * two periods later (not sooner than 1.5 s, not later than 6 s). */
	atomic_store(&ticks, 0);
	CHECK_EQ(bftdns_ctl_start(NULL, &ops, NULL, &ctl), BFT_EOK);
	ticks_wait(1);
	int64_t took = ticks_wait(3);
	CHECK(atomic_load(&ticks) >= 3);
	CHECK(took >= 1500 && took <= 6000);
	bftdns_ctl_stop(ctl);
	int after = atomic_load(&ticks);
	struct timespec wait = { 1, 200 * 1000000 };
	nanosleep(&wait, NULL); /* A negative check: nothing ticks after stop. */
	CHECK_EQ(atomic_load(&ticks), after);

	/* With a socket: ticks go on while clients are served. */
	char path[128];
	snprintf(path, sizeof(path), "%s/tick.sock", dir);
	atomic_store(&ticks, 0);
	CHECK_EQ(bftdns_ctl_start(path, &ops, NULL, &ctl), BFT_EOK);
	run_t r;
	CTL_RUN(&r, "-s", path, "status");
	CHECK_EQ(r.code, 0);
	ticks_wait(2);
	CHECK(atomic_load(&ticks) >= 2);
	bftdns_ctl_stop(ctl);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_ctl_server PATH-OF-BFTDNSCTL\n");
		return 2;
	}
	ctl_bin = argv[1];
	snprintf(dir, sizeof(dir), "/tmp/bftdns-ctl-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", dir);
	bftdns_ctl_t *ctl = NULL;
	CHECK_EQ(bftdns_ctl_start(sock_path, &OPS, NULL, &ctl), BFT_EOK);
	if (ctl != NULL) {
		test_commands();
		test_config();
		test_usage();
		test_bad_requests();
		test_concurrent();
		test_socket_files();
		test_protocol_error("garbage\n", "malformed answer line 'garbage'");
		test_protocol_error("replica: 1\n", "no final ok/error line");
		test_protocol_error("", "closed the connection without an answer");
		test_limits();
		test_tick();
		bftdns_ctl_stop(ctl);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
	return check_result("test_ctl_server");
}
