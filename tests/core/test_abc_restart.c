/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The atomic broadcast with a replica in its own process, killed and
 * restarted. Replicas 1-3 run in this process, replica 4 is bftdns-node
 * with a coin key and a batch log. All four submit requests; replica 4 is
 * killed (SIGKILL, by PID) while requests flow; the other three keep
 * delivering more batches than replica 4's peers can hold messages for;
 * replica 4 is started again on the same log: it resumes after its last
 * logged batch, catches up, and its log ends up byte for byte the batches
 * replicas 1-3 delivered, including requests it submitted after the
 * restart. Nobody reports a fault.
 * Usage: test_abc_restart PATH-TO-bftdns-node
 */

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "coordinator/proto/batch.h"
#include "tests/core/cluster.h"
#include "tests/common/check.h"

#define N		4
#define CHILD		3
#define WAIT_MS		60000
#define MISSED		20
#define LOG_MAX		4096

typedef struct {
	pid_t pid;
	int out;
	char buf[4096];
	size_t len;
	unsigned batches;         /* "batch" lines printed */
	long resumed;             /* "resumed N", -1 before */
} node_proc_t;

static cluster_t *c;
static node_proc_t node;
static const char *node_path;
static char log_path[160];
static unsigned k_sent;

static void node_spawn(void)
{
	int fds[2];
	CHECK(pipe2(fds, O_CLOEXEC) == 0);
	char args[N + 4][160];
	char *argv[2 * N + 24];
	int a = 0;
	argv[a++] = (char *)node_path;
	snprintf(args[0], sizeof(args[0]), "%u", N);
	snprintf(args[1], sizeof(args[1]), "%u", CHILD);
	argv[a++] = "--n"; argv[a++] = args[0];
	argv[a++] = "--self"; argv[a++] = args[1];
	argv[a++] = "--key"; argv[a++] = c->keys[CHILD];
	argv[a++] = "--coin"; argv[a++] = c->coins[CHILD];
	argv[a++] = "--log"; argv[a++] = log_path;
	argv[a++] = "--every"; argv[a++] = "40";
	argv[a++] = "--lifetime"; argv[a++] = "100";
	for (unsigned i = 0; i < N; i++) {
		snprintf(args[2 + i], sizeof(args[2 + i]), "127.0.0.1:%u:%s", c->ports[i], c->pins[i]);
		argv[a++] = "--peer";
		argv[a++] = args[2 + i];
	}
	argv[a] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execv(node_path, argv);
		_exit(127);
	}
	close(fds[1]);
	CHECK(pid > 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	node = (node_proc_t){ .pid = pid, .out = fds[0], .resumed = -1 };
}

static void node_read(void)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		ssize_t got = read(node.out, node.buf + node.len, sizeof(node.buf) - 1 - node.len);
		if (got <= 0) {
			return;
		}
		node.len += (size_t)got;
		node.buf[node.len] = '\0';
		char *line = node.buf, *nl;
		while ((nl = strchr(line, '\n')) != NULL) {
			long count = 0;
			*nl = '\0';
			node.batches += strncmp(line, "batch ", 6) == 0 ? 1u : 0u;
			if (sscanf(line, "resumed %ld", &count) == 1) {
				node.resumed = count;
			}
			line = nl + 1;
		}
		node.len = strlen(line);
		memmove(node.buf, line, node.len);
	}
}

static void node_reap(int sig)
{
	if (node.pid <= 0) {
		return;
	}
	kill(node.pid, sig);
	int status = 0;
	pid_t got = 0;
	for (int i = 0; i < 500 && got == 0; i++) {
		got = waitpid(node.pid, &status, WNOHANG);
		if (got == 0) {
			cluster_pause_ms(10);
		}
	}
	if (got == 0) {
		kill(node.pid, SIGKILL);
		waitpid(node.pid, &status, 0);
	}
	close(node.out);
	node.pid = 0;
}

/* One request at each of replicas 1-3 (unique names: "req 9<i>:<k>"). */
static void send_round(void)
{
	for (unsigned i = 0; i < CHILD; i++) {
		char req[32];
		int len = snprintf(req, sizeof(req), "req 9%u:%u", i, k_sent);
		bftdns_core_submit(c->cores[i], (const uint8_t *)req, (size_t)len);
	}
	k_sent++;
}

static unsigned batches_of(unsigned i)
{
	return cluster_count(&c->rec[i], -1);
}

/* The log file's batches; true if they are a prefix of replica 1's, count in *count. */
static bool log_matches(unsigned *count)
{
	static uint8_t buf[1 << 20];
	*count = 0;
	FILE *in = fopen(log_path, "rb");
	if (in == NULL) {
		return false;
	}
	bool same = true;
	cluster_rec_t *rec = &c->rec[0];
	pthread_mutex_lock(&rec->lock);
	for (;;) {
		uint8_t hdr[4];
		if (fread(hdr, 1, 4, in) != 4) {
			break;
		}
		size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
		if (len > sizeof(buf) || fread(buf, 1, len, in) != len) {
			break;  /* cut short: the node is writing it now */
		}
		unsigned k = (*count)++;
		same &= k < rec->count && rec->lens[k] == len && memcmp(rec->data[k], buf, len) == 0;
	}
	pthread_mutex_unlock(&rec->lock);
	fclose(in);
	return same;
}

/* Requests that replica 1 delivered and that start with prefix, after batch `from`. */
static unsigned delivered_with(const char *prefix, unsigned from)
{
	unsigned found = 0;
	cluster_rec_t *rec = &c->rec[0];
	pthread_mutex_lock(&rec->lock);
	for (unsigned k = from; k < rec->count; k++) {
		batch_reader_t br;
		if (batch_reader_open(&br, (const uint8_t *)rec->data[k], rec->lens[k]) != BFT_EOK) {
			continue;
		}
		bft_node_t p, o;
		const uint8_t *req;
		size_t len;
		while (batch_reader_next(&br, &p, &o, &req, &len)) {
			found += len >= strlen(prefix) && memcmp(req, prefix, strlen(prefix)) == 0;
		}
	}
	pthread_mutex_unlock(&rec->lock);
	return found;
}

static bool links_to_child(bool up, unsigned limit_ms)
{
	uint64_t end = cluster_now_ms() + limit_ms;
	while (cluster_now_ms() < end) {
		bool ok = true;
		for (unsigned i = 0; i < CHILD; i++) {
			ok &= bft_nodeset_has(bftdns_core_links_up(c->cores[i]), CHILD) == up;
		}
		if (ok) {
			return true;
		}
		cluster_pause_ms(10);
	}
	return false;
}

static void test_kill_restart(void)
{
	node_spawn();
	uint64_t end = cluster_now_ms() + WAIT_MS;
	while (cluster_now_ms() < end && (node.batches < 5 || batches_of(0) < 5)) {
		send_round();
		node_read();
		cluster_pause_ms(20);
	}
	CHECK(node.batches >= 5);
	printf("replica 4 (pid %d) delivered %u batches with replicas 1-3\n", (int)node.pid,
	       node.batches);

	node_reap(SIGKILL);
	CHECK(links_to_child(false, 10000));
	/* Its log may hold a batch replica 1 has not delivered yet: wait for it. */
	unsigned logged = 0;
	bool matches = false;
	end = cluster_now_ms() + WAIT_MS;
	while (!(matches = log_matches(&logged)) && cluster_now_ms() < end) {
		cluster_pause_ms(10);
	}
	CHECK(matches);
	/* The others go on: MISSED more batches, one request at a time. */
	unsigned base = batches_of(0);
	end = cluster_now_ms() + WAIT_MS;
	while (cluster_now_ms() < end && batches_of(0) < base + MISSED) {
		unsigned before = batches_of(0);
		send_round();
		for (int i = 0; i < 500 && batches_of(0) == before; i++) {
			cluster_pause_ms(2);
		}
	}
	CHECK(batches_of(0) >= base + MISSED);
	printf("replica 4 killed after logging %u batches; replicas 1-3 delivered %u more\n",
	       logged, batches_of(0) - base);

	unsigned restart_at = batches_of(0);
	node_spawn();
	char own[32];
	snprintf(own, sizeof(own), "req %u:", CHILD);
	unsigned count = 0;
	bool caught_up = false;
	end = cluster_now_ms() + WAIT_MS;
	while (cluster_now_ms() < end && !caught_up) {
		send_round();
		node_read();
		cluster_pause_ms(20);
		caught_up = log_matches(&count) && count >= restart_at + 3 &&
		            delivered_with(own, restart_at) >= 3;
	}
	CHECK(caught_up);
	CHECK_EQ(node.resumed, logged);
	printf("replica 4 restarted (pid %d): resumed after %ld batches; its log now holds %u "
	       "batches, identical to replicas 1-3's, with %u of its new requests\n",
	       (int)node.pid, node.resumed, count, delivered_with(own, restart_at));
	for (unsigned i = 0; i < CHILD; i++) {
		bftdns_core_stats_t st;
		bftdns_core_stats(c->cores[i], &st);
		CHECK_EQ(st.faults, 0);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_abc_restart PATH-TO-bftdns-node\n");
		return 2;
	}
	node_path = argv[1];
	signal(SIGPIPE, SIG_IGN);
	c = calloc(1, sizeof(*c));
	CHECK(c != NULL && cluster_make(c, N, 0) == BFT_EOK && cluster_make_coin(c) == BFT_EOK);
	snprintf(log_path, sizeof(log_path), "%s/batches-4.log", c->dir);
	for (unsigned i = 0; i < CHILD; i++) {
		bftdns_core_conf_t conf;
		cluster_conf_abc(c, i, &conf);
		CHECK_EQ(bftdns_core_start(&conf, &c->cores[i]), BFT_EOK);
	}
	test_kill_restart();
	node_reap(SIGTERM);
	cluster_destroy(c);
	free(c);
	return check_result("test_abc_restart");
}
