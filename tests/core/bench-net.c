/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bench-net: messages/s and MB/s from one replica to another over the
 * coordinator's TLS links (submit -> protocol -> link -> TLS -> link ->
 * protocol -> deliver, example-send protocol), against plain TCP on
 * loopback in the same run (same frames, 16 KiB writes, a reader thread
 * using the same frame reader). Prints figures and their ratio; it asserts
 * nothing about speed.
 *
 *   bench-net [--sizes 64,1024,16384,65536] [--mib 256] [--reps 3]
 */

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>

#include "coordinator/net/frame.h"
#include "coordinator/proto/example_send.h"
#include "tests/core/cluster.h"

#define BENCH_MSGS_MAX	2000000
#define BENCH_WAIT_MS	120000

typedef struct {
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t bytes;
	atomic_uint_fast64_t done_us;
	uint64_t want;
} bench_sink_t;

static uint64_t bench_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void bench_deliver(void *ctx, uint32_t tag, const uint8_t *data, size_t len)
{
	bench_sink_t *sink = ctx;
	atomic_fetch_add(&sink->bytes, len);
	if (atomic_fetch_add(&sink->count, 1) + 1 == sink->want) {
		atomic_store(&sink->done_us, bench_now_us());
	}
}

static bool bench_done(void *ctx)
{
	bench_sink_t *sink = ctx;
	return atomic_load(&sink->done_us) != 0;
}

/* One run over the links; returns the elapsed microseconds (0: failed). */
static uint64_t bench_links(cluster_t *c, size_t size, uint64_t count)
{
	bench_sink_t sink = { .want = count };
	for (unsigned i = 0; i < 2; i++) {
		bftdns_core_conf_t conf;
		cluster_conf(c, i, &exsend_ops, &conf);
		conf.log.level_max = LOG_WARNING;
		conf.deliver = bench_deliver;
		conf.deliver_ctx = &sink;
		conf.sendq_bytes_max = 64u << 20;
		if (bftdns_core_start(&conf, &c->cores[i]) != BFT_EOK) {
			return 0;
		}
	}
	uint64_t us = 0;
	uint8_t *input = malloc(size + 4);
	uint8_t *payload = calloc(1, size);
	size_t len = 0;
	uint64_t up_end = cluster_now_ms() + 10000;
	while (bftdns_core_links_up(c->cores[0]) != 0x2 && cluster_now_ms() < up_end) {
		cluster_pause_ms(5);
	}
	if (input != NULL && payload != NULL &&
	    exsend_input(0x2, payload, size, input, size + 4, &len) == BFT_EOK) {
		uint64_t start = bench_now_us();
		for (uint64_t k = 0; k < count; k++) {
			/* The inbox is bounded: a full one means wait (yield, bounded). */
			for (long spins = 0; bftdns_core_submit(c->cores[0], input, len) == BFT_EAGAIN &&
			     spins < 100000000; spins++) {
				sched_yield();
			}
		}
		if (cluster_wait(bench_done, &sink, BENCH_WAIT_MS)) {
			us = atomic_load(&sink.done_us) - start;
		}
	}
	bftdns_core_stats_t stats;
	bftdns_core_stats(c->cores[0], &stats);
	if (stats.peers[1].refused > 0) {
		fprintf(stderr, "bench-net: %llu messages refused by a full queue\n",
		        (unsigned long long)stats.peers[1].refused);
		us = 0;
	}
	free(input);
	free(payload);
	cluster_stop_all(c);
	return us;
}

typedef struct {
	int fd;
	uint64_t want;
	uint64_t got;
	uint64_t done_us;
} tcp_reader_t;

static void *tcp_read_main(void *arg)
{
	tcp_reader_t *r = arg;
	bft_frame_reader_t reader;
	if (bft_frame_reader_init(&reader, BFT_FRAME_PAYLOAD_MAX) != BFT_EOK) {
		return NULL;
	}
	while (r->got < r->want) {
		bft_frame_t frame;
		bft_frame_status_t st = bft_frame_reader_next(&reader, &frame);
		if (st == BFT_FRAME_OK) {
			r->got++;
			continue;
		}
		uint8_t *space;
		size_t room;
		if (st != BFT_FRAME_INCOMPLETE || bft_frame_reader_space(&reader, &space, &room) != BFT_EOK) {
			break;
		}
		ssize_t n = read(r->fd, space, room);
		if (n <= 0) {
			break;
		}
		bft_frame_reader_commit(&reader, (size_t)n);
	}
	r->done_us = bench_now_us();
	bft_frame_reader_deinit(&reader);
	return NULL;
}

static int tcp_pair(int *a, int *b)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in in = { .sin_family = AF_INET };
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(in);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&in, sizeof(in)) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&in, &len) != 0) {
		return -1;
	}
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (*a < 0 || connect(*a, (struct sockaddr *)&in, sizeof(in)) != 0) {
		close(lfd);
		return -1;
	}
	*b = accept(lfd, NULL, NULL);
	close(lfd);
	setsockopt(*a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return *b >= 0 ? 0 : -1;
}

static bool write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n <= 0) {
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* One run over plain TCP with the same frames, staged in 16 KiB writes. */
static uint64_t bench_tcp(size_t size, uint64_t count)
{
	int wfd = -1, rfd = -1;
	if (tcp_pair(&wfd, &rfd) != 0) {
		return 0;
	}
	tcp_reader_t r = { .fd = rfd, .want = count };
	pthread_t thread;
	uint8_t *frame = calloc(1, BFT_FRAME_HEADER + size);
	static uint8_t stage[16384];
	size_t staged = 0;
	bool ok = frame != NULL && pthread_create(&thread, NULL, tcp_read_main, &r) == 0;
	uint64_t start = bench_now_us();
	size_t flen = BFT_FRAME_HEADER + size;
	if (frame != NULL) {
		bft_frame_header(frame, BFT_FRAME_DATA, (uint32_t)size);
	}
	for (uint64_t k = 0; ok && k < count; k++) {
		for (size_t off = 0; ok && off < flen;) {
			size_t take = flen - off < sizeof(stage) - staged ? flen - off : sizeof(stage) - staged;
			memcpy(stage + staged, frame + off, take);
			staged += take;
			off += take;
			if (staged == sizeof(stage)) {
				ok = write_all(wfd, stage, staged);
				staged = 0;
			}
		}
	}
	ok = ok && write_all(wfd, stage, staged);
	if (frame != NULL && pthread_join(thread, NULL) != 0) {
		ok = false;
	}
	close(wfd);
	close(rfd);
	free(frame);
	return ok && r.got == count ? r.done_us - start : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void bench_size(cluster_t *c, size_t size, uint64_t mib, unsigned reps)
{
	uint64_t count = (mib << 20) / size;
	count = count > BENCH_MSGS_MAX ? BENCH_MSGS_MAX : (count < 100 ? 100 : count);
	uint64_t links[16], tcp[16];
	for (unsigned k = 0; k < reps; k++) {   /* interleaved: drift hits both alike */
		links[k] = bench_links(c, size, count);
		tcp[k] = bench_tcp(size, count);
		if (links[k] == 0 || tcp[k] == 0) {
			printf("%8zu B  run %u failed\n", size, k);
			return;
		}
	}
	qsort(links, reps, sizeof(links[0]), cmp_u64);
	qsort(tcp, reps, sizeof(tcp[0]), cmp_u64);
	double ls = links[reps / 2] / 1e6, ts = tcp[reps / 2] / 1e6;
	double lmsg = count / ls, tmsg = count / ts;
	double lmb = count * (double)size / ls / 1e6, tmb = count * (double)size / ts / 1e6;
	printf("%8zu B %9llu %12.0f %10.1f %12.0f %10.1f %9.2f\n", size, (unsigned long long)count,
	       lmsg, lmb, tmsg, tmb, lmsg / tmsg);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "mib", required_argument, NULL, 'm' },
		{ "reps", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	char sizes[256] = "64,1024,16384,65536";
	uint64_t mib = 256;
	unsigned reps = 3;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 's') {
			snprintf(sizes, sizeof(sizes), "%s", optarg);
		} else if (opt == 'm') {
			mib = strtoull(optarg, NULL, 10);
		} else if (opt == 'r') {
			reps = (unsigned)atoi(optarg);
		} else {
			fprintf(stderr, "usage: bench-net [--sizes 64,1024,...] [--mib M] [--reps R]\n");
			return 2;
		}
	}
	if (reps == 0 || reps > 16 || mib == 0) {
		fprintf(stderr, "bench-net: need 1 <= reps <= 16 and mib >= 1\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	cluster_t *c = calloc(1, sizeof(*c));
	if (c == NULL || cluster_make(c, 2, 0) != BFT_EOK) {
		return 1;
	}
	printf("bench net: replica 1 -> replica 2 on 127.0.0.1, %u runs per size (median), up to %llu MiB each\n"
	       "  links: submit -> example-send -> TLS 1.3 link -> deliver (two coordinator threads)\n"
	       "  tcp:   the same frames over plain TCP, 16 KiB writes, one reader thread\n",
	       reps, (unsigned long long)mib);
	printf("%10s %9s %12s %10s %12s %10s %9s\n", "size", "messages", "links msg/s", "links MB/s",
	       "tcp msg/s", "tcp MB/s", "links/tcp");
	for (char *tok = strtok(sizes, ","); tok != NULL; tok = strtok(NULL, ",")) {
		long size = atol(tok);
		if (size < 1 || size > (long)BFT_MSG_MAX - 4) {
			fprintf(stderr, "bench-net: size %s out of range\n", tok);
			continue;
		}
		bench_size(c, (size_t)size, mib, reps);
	}
	cluster_destroy(c);
	free(c);
	return 0;
}
