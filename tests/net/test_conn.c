/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * One TLS connection between two replicas over a socketpair: handshake with
 * pins, HELLO, DATA both ways (small and 1 MiB), and every refusal: an
 * unpinned key, another membership, a wrong frame version, an oversized
 * frame, DATA before HELLO, an unknown kind. A refusal fails the
 * connection with a sentence; nothing crashes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coordinator/net/conn.h"
#include "coordinator/net/link_key.h"
#include "coordinator/proto/error.h"
#include "tests/common/check.h"

static char dir[] = "/tmp/bftdns-conn-XXXXXX";
static char pins[4][BFT_PIN_STR_MAX];   /* replicas 1, 2, 3 and an intruder (9) */

typedef struct {
	unsigned count;
	size_t bytes;
	uint8_t last[64];
	bool intact;
} sink_t;

static void sink_data(void *ctx, bft_node_t peer, const uint8_t *data, size_t len)
{
	sink_t *sink = ctx;
	sink->count++;
	sink->bytes += len;
	memcpy(sink->last, data, len < 64 ? len : 64);
	/* Big payloads are filled with their length's low byte. */
	sink->intact = true;
	for (size_t i = 0; len > 64 && i < len; i++) {
		sink->intact &= data[i] == (uint8_t)len;
	}
}

static void key_path(unsigned id, char *out, size_t len)
{
	CHECK_EQ(bft_link_key_path(dir, id, out, len), BFT_EOK);
}

/* A bft_tls_t for replica self (0-based) of n, with the given pin indices. */
static void make_tls(bft_tls_t *tls, unsigned key_id, unsigned n, unsigned self, const int *pin_idx)
{
	const char *list[4];
	char path[256], why[BFT_WHY_MAX] = "";
	for (unsigned i = 0; i < n; i++) {
		list[i] = pins[pin_idx[i]];
	}
	key_path(key_id, path, sizeof(path));
	int ret = bft_tls_init(tls, path, (uint16_t)n, (bft_node_t)self, list, why, sizeof(why));
	if (ret != BFT_EOK) {
		fprintf(stderr, "tls init: %s\n", why);
	}
	CHECK_EQ(ret, BFT_EOK);
}

static void make_pair(int sv[2])
{
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
}

static bft_conn_t *make_conn(const bft_tls_t *tls, int fd, bool server, bft_nodeset_t allowed)
{
	bft_conn_conf_t conf = {
		.tls = tls, .server = server, .allowed = allowed, .frame_max = 2u << 20,
		.remote = server ? "client" : "server",
	};
	bft_conn_t *conn = NULL;
	CHECK_EQ(bft_conn_new(&conf, fd, 0, &conn), BFT_EOK);
	return conn;
}

/* Drives both ends until neither changes (bounded). */
static void drive(bft_conn_t *a, bft_sendq_t *qa, sink_t *sa, bft_conn_t *b, bft_sendq_t *qb, sink_t *sb)
{
	for (int i = 0; i < 20000; i++) {
		if (bft_conn_state(a) != BFT_CONN_FAILED) {
			bft_conn_io(a, qa, (uint64_t)i, sink_data, sa);
		}
		if (bft_conn_state(b) != BFT_CONN_FAILED) {
			bft_conn_io(b, qb, (uint64_t)i, sink_data, sb);
		}
		bool idle_a = bft_conn_state(a) == BFT_CONN_FAILED ||
		              (bft_conn_state(a) == BFT_CONN_UP && (qa == NULL || qa->count == 0) &&
		               !(bft_conn_events(a, qa) & 0x4 /* EPOLLOUT */));
		bool idle_b = bft_conn_state(b) == BFT_CONN_FAILED ||
		              (bft_conn_state(b) == BFT_CONN_UP && (qb == NULL || qb->count == 0) &&
		               !(bft_conn_events(b, qb) & 0x4));
		if (idle_a && idle_b && i > 10) {
			return;
		}
	}
}

static void test_up_and_data(void)
{
	static const int members[2] = { 0, 1 };
	bft_tls_t ta, tb;
	make_tls(&ta, 1, 2, 0, members);
	make_tls(&tb, 2, 2, 1, members);
	int sv[2];
	make_pair(sv);
	bft_conn_t *a = make_conn(&ta, sv[0], false, bft_nodeset_one(1));
	bft_conn_t *b = make_conn(&tb, sv[1], true, bft_nodeset_one(0));
	bft_sendq_t qa, qb;
	bft_sendq_init(&qa, 8u << 20);
	bft_sendq_init(&qb, 8u << 20);
	sink_t sa = { 0 }, sb = { 0 };
	CHECK_EQ(bft_sendq_push(&qa, BFT_FRAME_DATA, (const uint8_t *)"to b", 4), BFT_EOK);
	CHECK_EQ(bft_sendq_push(&qb, BFT_FRAME_DATA, (const uint8_t *)"to a", 4), BFT_EOK);
	drive(a, &qa, &sa, b, &qb, &sb);
	CHECK_EQ(bft_conn_state(a), BFT_CONN_UP);
	CHECK_EQ(bft_conn_state(b), BFT_CONN_UP);
	CHECK_EQ(bft_conn_peer(a), 1);
	CHECK_EQ(bft_conn_peer(b), 0);
	CHECK(sb.count == 1 && memcmp(sb.last, "to b", 4) == 0);
	CHECK(sa.count == 1 && memcmp(sa.last, "to a", 4) == 0);

	/* 1 MiB and a few small ones after it: order kept, bytes intact. */
	size_t big = 1u << 20;
	uint8_t *payload = malloc(big);
	CHECK(payload != NULL);
	memset(payload, (uint8_t)big, big);
	CHECK_EQ(bft_sendq_push(&qa, BFT_FRAME_DATA, payload, (uint32_t)big), BFT_EOK);
	CHECK_EQ(bft_sendq_push(&qa, BFT_FRAME_DATA, (const uint8_t *)"after", 5), BFT_EOK);
	drive(a, &qa, &sa, b, &qb, &sb);
	CHECK_EQ(sb.count, 3);
	CHECK_EQ(sb.bytes, 4 + big + 5);
	CHECK(memcmp(sb.last, "after", 5) == 0);
	/* A frame above the receiver's limit is refused by the queue's owner... */
	bft_sendq_t tiny;
	bft_sendq_init(&tiny, 100);
	CHECK_EQ(bft_sendq_push(&tiny, BFT_FRAME_DATA, payload, 200), BFT_ESPACE);
	CHECK_EQ(tiny.refused, 1);
	free(payload);
	bft_conn_free(a);
	bft_conn_free(b);
	bft_sendq_clear(&qa);
	bft_sendq_clear(&qb);
	bft_tls_deinit(&ta);
	bft_tls_deinit(&tb);
}

/* A client whose key the server has not pinned is refused in the handshake. */
static void test_unpinned(void)
{
	static const int members[2] = { 0, 1 }, intruder[2] = { 3, 1 };
	bft_tls_t tb, ti;
	make_tls(&tb, 2, 2, 1, members);
	make_tls(&ti, 9, 2, 0, intruder);
	int sv[2];
	make_pair(sv);
	bft_conn_t *a = make_conn(&ti, sv[0], false, bft_nodeset_one(1));
	bft_conn_t *b = make_conn(&tb, sv[1], true, bft_nodeset_one(0));
	sink_t sa = { 0 }, sb = { 0 };
	drive(a, NULL, &sa, b, NULL, &sb);
	CHECK_EQ(bft_conn_state(b), BFT_CONN_FAILED);
	CHECK(strstr(bft_conn_why(b), "not pinned") != NULL);
	CHECK(strstr(bft_conn_why(b), pins[3]) != NULL);
	CHECK_EQ(sb.count, 0);
	/* In TLS 1.3 the client is done before the server judges its key: it
	 * learns of the refusal when the server closes. */
	bft_conn_free(b);
	for (int i = 0; i < 100 && bft_conn_state(a) != BFT_CONN_FAILED; i++) {
		bft_conn_io(a, NULL, 0, sink_data, &sa);
	}
	CHECK_EQ(bft_conn_state(a), BFT_CONN_FAILED);
	bft_conn_free(a);

	/* A server the client has not pinned for this link is refused too. */
	make_pair(sv);
	static const int three[3] = { 0, 1, 2 };
	bft_tls_t tc;
	make_tls(&tc, 3, 3, 2, three);
	bft_tls_t ta;
	make_tls(&ta, 1, 3, 0, three);
	a = make_conn(&ta, sv[0], false, bft_nodeset_one(1));   /* dials "replica 2" */
	b = make_conn(&tc, sv[1], true, bft_nodeset_one(0));    /* but replica 3 answers */
	drive(a, NULL, &sa, b, NULL, &sb);
	CHECK_EQ(bft_conn_state(a), BFT_CONN_FAILED);
	CHECK(strstr(bft_conn_why(a), "not pinned") != NULL);
	bft_conn_free(a);
	bft_conn_free(b);
	bft_tls_deinit(&tb);
	bft_tls_deinit(&ti);
	bft_tls_deinit(&tc);
	bft_tls_deinit(&ta);
}

/* Same keys, another membership (n differs): the HELLO says so. */
static void test_other_membership(void)
{
	static const int two[2] = { 0, 1 }, three[3] = { 0, 1, 2 };
	bft_tls_t ta, tb;
	make_tls(&ta, 1, 3, 0, three);
	make_tls(&tb, 2, 2, 1, two);
	int sv[2];
	make_pair(sv);
	bft_conn_t *a = make_conn(&ta, sv[0], false, bft_nodeset_one(1));
	bft_conn_t *b = make_conn(&tb, sv[1], true, bft_nodeset_one(0));
	sink_t sa = { 0 }, sb = { 0 };
	drive(a, NULL, &sa, b, NULL, &sb);
	CHECK_EQ(bft_conn_state(b), BFT_CONN_FAILED);
	CHECK(strstr(bft_conn_why(b), "HELLO says") != NULL);
	bft_conn_free(a);
	bft_conn_free(b);
	bft_tls_deinit(&ta);
	bft_tls_deinit(&tb);
}

/* A raw TLS client with a pinned key sends chosen bytes after the handshake. */
static void raw_attack(const uint8_t *bytes, size_t len, bool hello_first, const char *expect)
{
	static const int members[2] = { 0, 1 };
	bft_tls_t ta, tb;
	make_tls(&ta, 1, 2, 0, members);
	make_tls(&tb, 2, 2, 1, members);
	int sv[2];
	make_pair(sv);
	bft_tls_verify_t verify = { .allowed = bft_nodeset_one(1) };
	gnutls_session_t raw = NULL;
	CHECK_EQ(bft_tls_session(&ta, sv[0], false, &verify, &raw), BFT_EOK);
	bft_conn_t *b = make_conn(&tb, sv[1], true, bft_nodeset_one(0));
	sink_t sb = { 0 };
	int hs = GNUTLS_E_AGAIN;
	for (int i = 0; i < 1000 && hs != GNUTLS_E_SUCCESS; i++) {
		hs = gnutls_handshake(raw);
		bft_conn_io(b, NULL, 0, sink_data, &sb);
	}
	CHECK_EQ(hs, GNUTLS_E_SUCCESS);
	uint8_t out[BFT_FRAME_HEADER + BFT_FRAME_HELLO_LEN];
	if (hello_first) {
		bft_hello_t hello = { .from = 0, .to = 1, .n = 2 };
		memcpy(hello.cluster_id, ta.cluster_id, BFT_CLUSTER_ID_LEN);
		bft_frame_header(out, BFT_FRAME_HELLO, BFT_FRAME_HELLO_LEN);
		bft_hello_encode(&hello, out + BFT_FRAME_HEADER);
		CHECK(gnutls_record_send(raw, out, sizeof(out)) == (ssize_t)sizeof(out));
	}
	CHECK(gnutls_record_send(raw, bytes, len) == (ssize_t)len);
	for (int i = 0; i < 100 && bft_conn_state(b) != BFT_CONN_FAILED; i++) {
		bft_conn_io(b, NULL, 0, sink_data, &sb);
	}
	CHECK_EQ(bft_conn_state(b), BFT_CONN_FAILED);
	CHECK(strstr(bft_conn_why(b), expect) != NULL);
	if (strstr(bft_conn_why(b), expect) == NULL) {
		fprintf(stderr, "expected '%s', got '%s'\n", expect, bft_conn_why(b));
	}
	CHECK_EQ(sb.count, 0);
	gnutls_deinit(raw);
	close(sv[0]);
	bft_conn_free(b);
	bft_tls_deinit(&ta);
	bft_tls_deinit(&tb);
}

static void test_bad_frames(void)
{
	const uint8_t v2[] = { 2, BFT_FRAME_DATA, 0, 0, 0, 1, 'x' };
	raw_attack(v2, sizeof(v2), true, "unsupported frame version");
	const uint8_t big[] = { 1, BFT_FRAME_DATA, 0, 0x20, 0, 1 };   /* 2 MiB + 1 > limit */
	raw_attack(big, sizeof(big), true, "frame larger than the limit");
	const uint8_t early[] = { 1, BFT_FRAME_DATA, 0, 0, 0, 1, 'x' };
	raw_attack(early, sizeof(early), false, "DATA before HELLO");
	const uint8_t kind[] = { 1, 9, 0, 0, 0, 0 };
	raw_attack(kind, sizeof(kind), true, "unknown frame kind");
	const uint8_t ping[] = { 1, BFT_FRAME_PING, 0, 0, 0, 3, 1, 2, 3 };
	raw_attack(ping, sizeof(ping), true, "length wrong for its kind");
	uint8_t hello2[BFT_FRAME_HEADER + BFT_FRAME_HELLO_LEN] = { 1, BFT_FRAME_HELLO, 0, 0, 0, BFT_FRAME_HELLO_LEN };
	raw_attack(hello2, sizeof(hello2), true, "second HELLO");
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	static const unsigned ids[4] = { 1, 2, 3, 9 };
	char why[BFT_WHY_MAX];
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(bft_link_key_generate(dir, ids[i], false, pins[i], why, sizeof(why)), BFT_EOK);
	}
	test_up_and_data();
	test_unpinned();
	test_other_membership();
	test_bad_frames();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	return check_result("test_conn");
}
