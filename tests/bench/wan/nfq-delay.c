/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * nfq-delay: the emulated Internet's delay line (tests/bench/wan).
 *
 * This machine's kernel has no `tc netem`, so the router namespace of the
 * emulated Internet sends every forwarded IPv4 packet to an NFQUEUE and this
 * program holds it for the one-way delay of its (source, destination) pair,
 * then gives it back to the kernel (NF_ACCEPT). Held packets wait in a heap
 * ordered by due time; packets of one pair keep their order (a sequence
 * number breaks ties), since a real link does not reorder either.
 *
 * Rules file, one rule a line, first match wins, '#' starts a comment:
 *     SRC/LEN  DST/LEN  ONE_WAY_MS
 * A packet that matches no rule is accepted at once.
 *
 * Usage: nfq-delay QUEUE RULES_FILE
 * Prints "nfq-delay: queue Q ready, N rules" on stderr once bound (the
 * scripts wait for that line), SIGHUP re-reads the rules, SIGTERM/SIGINT
 * release the held packets, print the counters and exit 0.
 *
 * On a machine busy with the replicas themselves, a delay line scheduled
 * like any other process adds milliseconds of its own; so it asks for a
 * real-time priority (SCHED_FIFO; it sleeps in ppoll between packets, so it
 * cannot starve the machine) and says whether it got it.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROGRAM		"nfq-delay"
#define RULES_MAX	256
#define QUEUE_MAXLEN	65536
/* Only the IPv4 header is needed to match a rule. */
#define COPY_BYTES	64

typedef struct {
	uint32_t src, src_mask, dst, dst_mask;
	uint64_t delay_ns;
} delay_rule_t;

typedef struct {
	uint64_t due_ns;
	uint64_t seq;
	uint32_t id;
} held_packet_t;

typedef struct {
	delay_rule_t rules[RULES_MAX];
	unsigned nrules;
	held_packet_t *heap;
	size_t nheld, capacity;
	uint64_t seq;
	unsigned long n_in, n_delayed, n_passed;
	struct nfq_q_handle *queue;
} delay_state_t;

static volatile sig_atomic_t stop_requested, reload_requested;

static uint64_t clock_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*! Parses "A.B.C.D/LEN" (LEN defaults to 32) into a network and mask. */
static int prefix_parse(const char *text, uint32_t *addr, uint32_t *mask)
{
	char buf[64];
	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf)) {
		return -1;
	}
	long len = 32;
	char *slash = strchr(buf, '/');
	if (slash != NULL) {
		char *end = NULL;
		*slash = '\0';
		len = strtol(slash + 1, &end, 10);
		if (*end != '\0' || len < 0 || len > 32) {
			return -1;
		}
	}
	struct in_addr in;
	if (inet_pton(AF_INET, buf, &in) != 1) {
		return -1;
	}
	*mask = len == 0 ? 0 : htonl(0xffffffffu << (32 - len));
	*addr = in.s_addr & *mask;
	return 0;
}

/*! Reads the rules file; on any error the old rules stay in force. */
static int rules_load(delay_state_t *st, const char *path)
{
	FILE *file = fopen(path, "r");
	if (file == NULL) {
		fprintf(stderr, PROGRAM ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	delay_rule_t rules[RULES_MAX];
	unsigned n = 0, lineno = 0;
	char line[256];
	int ret = 0;
	while (fgets(line, sizeof(line), file) != NULL) {
		lineno++;
		char src[64], dst[64];
		double ms;
		char *hash = strchr(line, '#');
		if (hash != NULL) {
			*hash = '\0';
		}
		if (strspn(line, " \t\r\n") == strlen(line)) {
			continue;
		}
		delay_rule_t r;
		if (sscanf(line, "%63s %63s %lf", src, dst, &ms) != 3 || ms < 0 || ms > 60000 ||
		    prefix_parse(src, &r.src, &r.src_mask) != 0 ||
		    prefix_parse(dst, &r.dst, &r.dst_mask) != 0) {
			fprintf(stderr, PROGRAM ": %s:%u: bad rule\n", path, lineno);
			ret = -1;
			break;
		}
		if (n == RULES_MAX) {
			fprintf(stderr, PROGRAM ": %s: more than %d rules\n", path, RULES_MAX);
			ret = -1;
			break;
		}
		r.delay_ns = (uint64_t)(ms * 1e6);
		rules[n++] = r;
	}
	fclose(file);
	if (ret == 0) {
		memcpy(st->rules, rules, n * sizeof(rules[0]));
		st->nrules = n;
	}
	return ret;
}

static int held_before(const held_packet_t *a, const held_packet_t *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static int heap_push(delay_state_t *st, held_packet_t pkt)
{
	if (st->nheld == st->capacity) {
		size_t cap = st->capacity == 0 ? 1024 : 2 * st->capacity;
		held_packet_t *heap = realloc(st->heap, cap * sizeof(*heap));
		if (heap == NULL) {
			return -1;
		}
		st->heap = heap;
		st->capacity = cap;
	}
	size_t i = st->nheld++;
	st->heap[i] = pkt;
	while (i > 0 && held_before(&st->heap[i], &st->heap[(i - 1) / 2])) {
		held_packet_t t = st->heap[i];
		st->heap[i] = st->heap[(i - 1) / 2];
		st->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

static held_packet_t heap_pop(delay_state_t *st)
{
	held_packet_t top = st->heap[0];
	st->heap[0] = st->heap[--st->nheld];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < st->nheld && held_before(&st->heap[l], &st->heap[m])) {
			m = l;
		}
		if (r < st->nheld && held_before(&st->heap[r], &st->heap[m])) {
			m = r;
		}
		if (m == i) {
			break;
		}
		held_packet_t t = st->heap[i];
		st->heap[i] = st->heap[m];
		st->heap[m] = t;
		i = m;
	}
	return top;
}

static const delay_rule_t *rule_find(const delay_state_t *st, uint32_t src, uint32_t dst)
{
	for (unsigned i = 0; i < st->nrules; i++) {
		const delay_rule_t *r = &st->rules[i];
		if ((src & r->src_mask) == r->src && (dst & r->dst_mask) == r->dst) {
			return r;
		}
	}
	return NULL;
}

static int packet_cb(struct nfq_q_handle *queue, struct nfgenmsg *msg,
                     struct nfq_data *nfa, void *data)
{
	delay_state_t *st = data;
	struct nfqnl_msg_packet_hdr *hdr = nfq_get_msg_packet_hdr(nfa);
	if (hdr == NULL) {
		return 0;
	}
	uint32_t id = ntohl(hdr->packet_id);
	unsigned char *payload = NULL;
	int len = nfq_get_payload(nfa, &payload);
	st->n_in++;

	const delay_rule_t *rule = NULL;
	if (len >= (int)sizeof(struct iphdr) && (payload[0] >> 4) == 4) {
		struct iphdr ip;
		memcpy(&ip, payload, sizeof(ip));
		rule = rule_find(st, ip.saddr, ip.daddr);
	}
	/* If the heap cannot grow, pass the packet undelayed rather than lose it. */
	if (rule != NULL && rule->delay_ns > 0 &&
	    heap_push(st, (held_packet_t){ clock_now_ns() + rule->delay_ns, st->seq++, id }) == 0) {
		st->n_delayed++;
		return 0;
	}
	st->n_passed++;
	return nfq_set_verdict(queue, id, NF_ACCEPT, 0, NULL);
}

static void held_release_due(delay_state_t *st, uint64_t now)
{
	while (st->nheld > 0 && st->heap[0].due_ns <= now) {
		nfq_set_verdict(st->queue, heap_pop(st).id, NF_ACCEPT, 0, NULL);
	}
}

static void signal_handle(int sig)
{
	if (sig == SIGHUP) {
		reload_requested = 1;
	} else {
		stop_requested = 1;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "Usage: " PROGRAM " QUEUE RULES_FILE\n");
		return 2;
	}
	static delay_state_t st;
	const char *rules_path = argv[2];
	if (rules_load(&st, rules_path) != 0) {
		return 1;
	}

	struct nfq_handle *handle = nfq_open();
	if (handle == NULL) {
		fprintf(stderr, PROGRAM ": nfq_open: %s\n", strerror(errno));
		return 1;
	}
	st.queue = nfq_create_queue(handle, (uint16_t)atoi(argv[1]), packet_cb, &st);
	if (st.queue == NULL) {
		fprintf(stderr, PROGRAM ": cannot bind queue %s: %s\n", argv[1], strerror(errno));
		nfq_close(handle);
		return 1;
	}
	if (nfq_set_mode(st.queue, NFQNL_COPY_PACKET, COPY_BYTES) < 0) {
		fprintf(stderr, PROGRAM ": nfq_set_mode: %s\n", strerror(errno));
		return 1;
	}
	nfq_set_queue_maxlen(st.queue, QUEUE_MAXLEN);
	/* A burst between two polls must not overflow the netlink socket. */
	nfnl_rcvbufsiz(nfq_nfnlh(handle), 8 << 20);
	int fd = nfq_fd(handle);

	struct sigaction sa = { .sa_handler = signal_handle };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	struct sched_param prio = { .sched_priority = 10 };
	const char *sched = sched_setscheduler(0, SCHED_FIFO, &prio) == 0 ?
	                    "real-time priority" : "normal priority";

	fprintf(stderr, PROGRAM ": queue %s ready, %u rules, %s\n", argv[1], st.nrules, sched);

	static char buf[65536] __attribute__((aligned));
	unsigned long enobufs = 0;
	while (!stop_requested) {
		if (reload_requested) {
			reload_requested = 0;
			if (rules_load(&st, rules_path) == 0) {
				fprintf(stderr, PROGRAM ": %u rules\n", st.nrules);
			}
		}
		struct timespec ts, *timeout = NULL;
		if (st.nheld > 0) {
			uint64_t now = clock_now_ns(), due = st.heap[0].due_ns;
			uint64_t wait = due > now ? due - now : 0;
			ts.tv_sec = (time_t)(wait / 1000000000ull);
			ts.tv_nsec = (long)(wait % 1000000000ull);
			timeout = &ts;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ret = ppoll(&pfd, 1, timeout, NULL);
		if (ret < 0 && errno != EINTR) {
			fprintf(stderr, PROGRAM ": poll: %s\n", strerror(errno));
			break;
		}
		/* Drain what is readable now, so that due times are taken on arrival. */
		while (ret > 0) {
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				nfq_handle_packet(handle, buf, (int)n);
			} else {
				if (n < 0 && errno == ENOBUFS) {
					enobufs++;
				}
				break;
			}
		}
		held_release_due(&st, clock_now_ns());
	}
	/* Never strand packets in the kernel's queue. */
	held_release_due(&st, UINT64_MAX);
	fprintf(stderr, PROGRAM ": packets in %lu, delayed %lu, passed %lu, ENOBUFS %lu\n",
	        st.n_in, st.n_delayed, st.n_passed, enobufs);
	nfq_destroy_queue(st.queue);
	nfq_close(handle);
	free(st.heap);
	return 0;
}
