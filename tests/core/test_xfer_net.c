/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * State transfer over the TLS links (coordinator/proto/xfer.h as the mux
 * member MUX_XFER of the production stack, doc/broadcast.md "State
 * transfer"): four cores on 127.0.0.1, the atomic broadcast beside it.
 * Replicas 2-4 serve a snapshot of 3 MiB (12 chunks) of the same
 * checkpoint; replica 2's bytes are wrong in the last chunk. Replica 1
 * asks (bftdns_core_submit_to(MUX_XFER, START)), its deliver callback
 * assembles the bytes on the core thread, the test thread checks them and
 * answers REJECT or STOP as the module would. Whatever source comes first,
 * the bytes installed are the correct ones, replica 2 is blamed if it was
 * tried, and the servers count what they sent. With "quick" (TSan) the
 * snapshot is 1 MiB.
 */

#include "tests/core/cluster.h"
#include "tests/common/check.h"

#define N		4
#define WAIT_MS		60000
#define CHECKPOINT	64

typedef struct {
	uint64_t k;
	uint8_t cert[16];
	uint8_t *snap;
	size_t size;
	bool corrupt;
} server_t;

/* What replica 1's deliver callback assembles (core thread) for the test thread. */
typedef struct {
	pthread_mutex_t lock;
	uint8_t *got;
	size_t len;
	uint64_t k;
	int source;
	unsigned begins;
	bool done;
} taker_t;

static cluster_t *c;
static server_t servers[N];
static taker_t taker = { .lock = PTHREAD_MUTEX_INITIALIZER, .source = -1 };
static size_t snap_size = 3u << 20;

static uint8_t snap_byte(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 9));
}

static void store_latest(void *ctx, xfer_offer_t *out)
{
	server_t *s = ctx;
	*out = (xfer_offer_t) { .k = s->k, .cert = s->cert, .cert_len = sizeof(s->cert),
	                        .size = s->size };
}

static bool store_read(void *ctx, uint64_t k, uint64_t offset, uint8_t *out, size_t len)
{
	server_t *s = ctx;
	if (k != s->k || offset > s->size || len > s->size - offset) {
		return false;
	}
	memcpy(out, s->snap + offset, len);
	if (s->corrupt && offset + len == s->size) {
		out[len - 1] ^= 0x80;
	}
	return true;
}

static const xfer_store_ops_t store_ops = { .latest = store_latest, .read = store_read };

static bool verify(void *ctx, const uint8_t *cert, size_t len, uint64_t *k)
{
	(void)ctx;
	if (len != 16 || memcmp(cert, "GOODCERT", 8) != 0) {
		return false;
	}
	*k = 0;
	for (int i = 0; i < 8; i++) {
		*k = *k << 8 | cert[8 + i];
	}
	return true;
}

static void taker_deliver(void *ctx, uint32_t tag, const uint8_t *data, size_t len)
{
	(void)ctx;
	bft_node_t source;
	uint64_t k, size, offset;
	const uint8_t *bytes;
	size_t bytes_len;
	pthread_mutex_lock(&taker.lock);
	if (tag == BFTDNS_CORE_OUT_XFER_BEGIN &&
	    xfer_begin_decode(data, len, &source, &k, &size, &bytes, &bytes_len)) {
		free(taker.got);
		taker.got = malloc(size);
		taker.len = 0;
		taker.k = k;
		taker.source = source;
		taker.begins++;
		taker.done = false;
	} else if (tag == BFTDNS_CORE_OUT_XFER_CHUNK && taker.got != NULL &&
	           xfer_chunk_decode(data, len, &offset, &bytes, &bytes_len) &&
	           offset == taker.len && bytes_len <= snap_size - taker.len) {
		memcpy(taker.got + taker.len, bytes, bytes_len);
		taker.len += bytes_len;
	} else if (tag == BFTDNS_CORE_OUT_XFER_DONE) {
		taker.done = true;
	}
	pthread_mutex_unlock(&taker.lock);
}

static bool taker_done(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&taker.lock);
	bool done = taker.done;
	pthread_mutex_unlock(&taker.lock);
	return done;
}

static bool links_all_up(void *ctx)
{
	(void)ctx;
	for (unsigned i = 0; i < N; i++) {
		bft_nodeset_t want = bft_nodeset_all(N) & ~bft_nodeset_one((bft_node_t)i);
		if ((bftdns_core_links_up(c->cores[i]) & want) != want) {
			return false;
		}
	}
	return true;
}

static void submit(uint8_t kind, uint64_t k)
{
	uint8_t in[9];
	size_t len = xfer_input_encode(kind, k, in);
	CHECK_EQ(bftdns_core_submit_to(c->cores[0], MUX_XFER, in, len), BFT_EOK);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "quick") == 0) {
		snap_size = 1u << 20;
	}
	c = calloc(1, sizeof(*c));
	CHECK(c != NULL);
	CHECK_EQ(cluster_make(c, N, 0), BFT_EOK);
	CHECK_EQ(cluster_make_coin(c), BFT_EOK);

	uint8_t *snap = malloc(snap_size);
	for (size_t i = 0; i < snap_size; i++) {
		snap[i] = snap_byte(i);
	}
	for (unsigned i = 1; i < N; i++) {
		servers[i] = (server_t) { .k = CHECKPOINT, .snap = snap, .size = snap_size,
		                          .corrupt = (i == 1) };
		memcpy(servers[i].cert, "GOODCERT", 8);
		for (int b = 0; b < 8; b++) {
			servers[i].cert[8 + b] = (uint8_t)((uint64_t)CHECKPOINT >> (56 - 8 * b));
		}
	}
	for (unsigned i = 0; i < N; i++) {
		bftdns_core_conf_t conf;
		cluster_conf_abc(c, i, &conf);
		if (i == 0) {
			conf.deliver = taker_deliver;
			conf.xfer_verify = verify;
		} else {
			conf.xfer_store = &store_ops;
			conf.xfer_store_ctx = &servers[i];
		}
		CHECK_EQ(bftdns_core_start(&conf, &c->cores[i]), BFT_EOK);
	}
	CHECK(cluster_wait(links_all_up, NULL, WAIT_MS));

	submit(XFER_IN_START, 1);
	bool installed = false;
	unsigned rejects = 0;
	for (unsigned round = 0; round < N && !installed; round++) {
		CHECK(cluster_wait(taker_done, NULL, WAIT_MS));
		pthread_mutex_lock(&taker.lock);
		bool ok = taker.len == snap_size && memcmp(taker.got, snap, snap_size) == 0;
		int source = taker.source;
		uint64_t k = taker.k;
		taker.done = false;
		pthread_mutex_unlock(&taker.lock);
		CHECK_EQ(k, CHECKPOINT);
		if (ok) {
			CHECK(source == 2 || source == 3);
			installed = true;
			submit(XFER_IN_STOP, 0);
		} else {
			CHECK_EQ(source, 1);
			rejects++;
			submit(XFER_IN_REJECT, k);
		}
	}
	CHECK(installed);
	CHECK(rejects <= 1);

	/* The wrong server is blamed once it was tried, a correct one never. */
	bftdns_core_stats_t *st = calloc(1, sizeof(*st));
	bftdns_core_stats(c->cores[0], st);
	CHECK(st->xfer_on);
	CHECK_EQ(st->xfer.rejected, rejects);
	CHECK_EQ(st->peer_faults[1], rejects);
	CHECK_EQ(st->peer_faults[2], 0);
	CHECK_EQ(st->peer_faults[3], 0);
	uint64_t served = 0;
	for (unsigned i = 1; i < N; i++) {
		bftdns_core_stats(c->cores[i], st);
		served += st->xfer.served_bytes;
	}
	/* Every byte fetched was served once (what a source sent after a
	 * REJECT or STOP arrives at nobody's request and is not counted). */
	CHECK_EQ(served, (uint64_t)snap_size * (1 + rejects));
	printf("test_xfer_net: %zu bytes from replica %d after %u rejected snapshot(s)\n",
	       snap_size, taker.source + 1, rejects);

	free(st);
	cluster_destroy(c);
	free(c);
	free(snap);
	free(taker.got);
	return check_result("test_xfer_net");
}
