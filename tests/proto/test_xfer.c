/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * State transfer (coordinator/proto/xfer.h) over a hand-driven FIFO
 * network of n = 4 nodes; node 0 takes a transfer, the others serve.
 * The test's driver plays the module: it collects the chunks and, at
 * DONE, checks the bytes against the "certified digest" (here: the
 * snapshot the certificate names, known to the test) and answers STOP or
 * REJECT, and inputs RETRY when the network went quiet without DONE.
 *
 * Cases: honest servers (the highest certified K is taken, bytes equal);
 * a Byzantine server that offers the highest K with a valid certificate
 * and serves other bytes (rejected, blamed, excluded, the transfer ends
 * with a correct server's bytes); one with a forged certificate (blamed
 * BAD_CERT, never fetched from); one that offers and then stays silent
 * (RETRY moves on); one that answers out of order or with a wrong length;
 * all servers silent then back (RETRY asks again); a snapshot above the
 * size cap; per-peer serving bound; and every truncation and byte flip of
 * each message kind, plus random bytes, to every node: no crash, faults
 * only, and an honest transfer still completes afterwards; and 300 seeded
 * scenarios with random server modes, sizes, checkpoints and interleaving
 * of the links (test_random()).
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "coordinator/proto/xfer.h"
#include "tests/common/check.h"

#define NODES		4
#define QUEUE_MAX	4096
#define CHUNK		1000

typedef enum {
	SERVE_HONEST = 0,
	SERVE_WRONG_BYTES,   /* A valid certificate, other bytes. */
	SERVE_FORGED_CERT,   /* A certificate that does not verify. */
	SERVE_SILENT_DATA,   /* Offers, then never answers a GET. */
	SERVE_REORDER,       /* Answers with a wrong offset. */
	SERVE_SHORT,         /* Answers with a byte missing. */
	SERVE_HUGE,          /* Offers a snapshot above the cap. */
	SERVE_MUTE,          /* Drops everything. */
} serve_mode_t;

typedef struct {
	uint64_t k;
	uint8_t *snap;
	size_t size;
	uint8_t cert[16];
	serve_mode_t mode;
} server_t;

typedef struct {
	bft_node_t from, to;
	uint32_t len;
	uint8_t *data;
} net_msg_t;

typedef struct {
	xfer_t *x[NODES];
	server_t srv[NODES];
	xfer_conf_t conf[NODES];
	net_msg_t queue[QUEUE_MAX];
	size_t head, tail;
	/* The taker's driver. */
	uint8_t *got;
	size_t got_len;
	uint64_t got_k;
	int got_source;
	bool done;
	bool installed;
	uint64_t installed_k;
	unsigned rejects;
	bft_nodeset_t blamed;
	uint16_t blamed_kind[NODES];
	bft_step_t step;
	/* Seeded: deliver any link's oldest message next (links stay FIFO). */
	bool shuffle;
	bft_prng_t prng;
} net_t;

/* The "certified" snapshots: what a correct replica holds at K. */
static uint8_t *snapshot_of(uint64_t k, size_t size)
{
	uint8_t *s = malloc(size);
	for (size_t i = 0; i < size; i++) {
		s[i] = (uint8_t)(k * 31 + i * 7 + (i >> 8));
	}
	return s;
}

static void cert_make(uint64_t k, bool valid, uint8_t cert[16])
{
	memcpy(cert, valid ? "GOODCERT" : "BADCERT!", 8);
	for (int i = 0; i < 8; i++) {
		cert[8 + i] = (uint8_t)(k >> (56 - 8 * i));
	}
}

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

static void store_latest(void *ctx, xfer_offer_t *out)
{
	server_t *s = ctx;
	*out = (xfer_offer_t) { 0 };
	if (s->k == 0) {
		return;
	}
	*out = (xfer_offer_t) { .k = s->k, .cert = s->cert, .cert_len = sizeof(s->cert),
	                        .size = s->mode == SERVE_HUGE ? (1ull << 40) : s->size };
}

static bool store_read(void *ctx, uint64_t k, uint64_t offset, uint8_t *out, size_t len)
{
	server_t *s = ctx;
	if (k != s->k || offset > s->size || len > s->size - offset) {
		return false;
	}
	memcpy(out, s->snap + offset, len);
	if (s->mode == SERVE_WRONG_BYTES && offset == 0) {
		out[0] ^= 1;
	}
	return true;
}

static const xfer_store_ops_t store_ops = { .latest = store_latest, .read = store_read };

static void net_init(net_t *net, const uint64_t ks[NODES], const serve_mode_t modes[NODES],
                     size_t size)
{
	memset(net, 0, sizeof(*net));
	net->got_source = -1;
	CHECK_EQ(bft_step_init(&net->step, 64u << 20), BFT_EOK);
	for (bft_node_t i = 0; i < NODES; i++) {
		server_t *s = &net->srv[i];
		s->k = ks[i];
		s->mode = modes[i];
		s->size = size;
		s->snap = (s->k != 0) ? snapshot_of(s->k, size) : NULL;
		cert_make(s->k, s->mode != SERVE_FORGED_CERT, s->cert);
		net->conf[i] = (xfer_conf_t) { .store = &store_ops, .store_ctx = s,
		                               .verify = verify, .chunk = CHUNK,
		                               .snapshot_max = 1u << 20 };
		bft_params_t p = { .n = NODES, .f = 1, .self = i, .conf = &net->conf[i] };
		CHECK_EQ(xfer_create(&p, &net->x[i]), BFT_EOK);
	}
}

static void net_free(net_t *net)
{
	for (bft_node_t i = 0; i < NODES; i++) {
		xfer_destroy(net->x[i]);
		free(net->srv[i].snap);
	}
	while (net->head != net->tail) {
		free(net->queue[net->head++ % QUEUE_MAX].data);
	}
	free(net->got);
	bft_step_deinit(&net->step);
}

static void net_enqueue(net_t *net, bft_node_t from, bft_node_t to, const uint8_t *data,
                        size_t len)
{
	CHECK(net->tail - net->head < QUEUE_MAX);
	net_msg_t *m = &net->queue[net->tail++ % QUEUE_MAX];
	m->from = from;
	m->to = to;
	m->len = (uint32_t)len;
	m->data = malloc(len);
	memcpy(m->data, data, len);
}

/* A Byzantine server's hand on what it sends. */
static bool tamper(net_t *net, bft_node_t from, uint8_t *data, size_t *len)
{
	serve_mode_t mode = net->srv[from].mode;
	if (mode == SERVE_MUTE) {
		return false;
	}
	if (data[0] == 5) {  /* DATA */
		if (mode == SERVE_SILENT_DATA) {
			return false;
		}
		if (mode == SERVE_REORDER) {
			data[16] ^= 1;  /* Offset's last byte. */
		}
		if (mode == SERVE_SHORT) {
			(*len)--;
		}
	}
	return true;
}

/* Takes a step's messages into the queue, and the taker's outputs to its driver. */
static void net_take(net_t *net, bft_node_t node)
{
	bft_step_t *st = &net->step;
	for (size_t i = 0; i < st->msg_count; i++) {
		size_t len = st->msgs[i].len;
		uint8_t *data = malloc(len);
		memcpy(data, bft_step_msg_data(st, i), len);
		if (tamper(net, node, data, &len)) {
			for (bft_node_t to = 0; to < NODES; to++) {
				if (bft_nodeset_has(st->msgs[i].to, to)) {
					net_enqueue(net, node, to, data, len);
				}
			}
		}
		free(data);
	}
	for (size_t i = 0; i < st->fault_count; i++) {
		bft_node_t who = st->faults[i].node;
		net->blamed |= bft_nodeset_one(who);
		net->blamed_kind[who] = st->faults[i].kind;
	}
	for (size_t i = 0; i < st->output_count; i++) {
		CHECK_EQ(node, 0);
		const uint8_t *d = bft_step_output_data(st, i);
		size_t len = st->outputs[i].len;
		bft_node_t source;
		uint64_t k, size, offset;
		const uint8_t *bytes;
		size_t bytes_len;
		switch (st->outputs[i].tag) {
		case XFER_OUTPUT_BEGIN:
			CHECK(xfer_begin_decode(d, len, &source, &k, &size, &bytes, &bytes_len));
			free(net->got);
			net->got = calloc(1, size);
			net->got_len = 0;
			net->got_k = k;
			net->got_source = source;
			break;
		case XFER_OUTPUT_CHUNK:
			CHECK(xfer_chunk_decode(d, len, &offset, &bytes, &bytes_len));
			CHECK_EQ(offset, net->got_len);
			memcpy(net->got + offset, bytes, bytes_len);
			net->got_len += bytes_len;
			break;
		case XFER_OUTPUT_DONE:
			CHECK(xfer_done_decode(d, len, &source, &k));
			CHECK_EQ(k, net->got_k);
			CHECK_EQ(source, net->got_source);
			net->done = true;
			break;
		default:
			CHECK(false);
		}
	}
	bft_step_clear(st);
}

static void net_input(net_t *net, bft_node_t node, uint8_t kind, uint64_t k)
{
	uint8_t in[9];
	size_t len = xfer_input_encode(kind, k, in);
	CHECK_EQ(xfer_handle_input(net->x[node], in, len, NULL, &net->step), BFT_EOK);
	net_take(net, node);
}

/* Delivers until the queue is empty (bounded). */
/* The next message: the oldest, or (shuffle) the oldest of a random link. */
static net_msg_t net_pop(net_t *net)
{
	if (!net->shuffle) {
		return net->queue[net->head++ % QUEUE_MAX];
	}
	size_t heads[QUEUE_MAX];
	size_t count = 0;
	bool seen[NODES][NODES] = { { false } };
	for (size_t i = net->head; i != net->tail; i++) {
		net_msg_t *m = &net->queue[i % QUEUE_MAX];
		if (!seen[m->from][m->to]) {
			seen[m->from][m->to] = true;
			heads[count++] = i;
		}
	}
	size_t pick = heads[bft_prng_below(&net->prng, count)];
	net_msg_t m = net->queue[pick % QUEUE_MAX];
	for (size_t i = pick; i != net->head; i--) {
		net->queue[i % QUEUE_MAX] = net->queue[(i - 1) % QUEUE_MAX];
	}
	net->head++;
	return m;
}

static void net_run(net_t *net)
{
	for (unsigned steps = 0; net->head != net->tail && steps < 100000; steps++) {
		net_msg_t m = net_pop(net);
		CHECK_EQ(xfer_handle_message(net->x[m.to], m.from, m.data, m.len, NULL,
		                             &net->step), BFT_EOK);
		free(m.data);
		net_take(net, m.to);
	}
	CHECK(net->head == net->tail);
}

/* The driver: verify at DONE (the bytes of checkpoint K), RETRY when quiet. */
static void net_transfer(net_t *net, uint64_t least, unsigned retries_max)
{
	net_input(net, 0, XFER_IN_START, least);
	for (unsigned round = 0; round <= retries_max && !net->installed; round++) {
		net_run(net);
		if (net->done) {
			net->done = false;
			uint8_t *want = snapshot_of(net->got_k, net->srv[0].size);
			bool ok = net->got_len == net->srv[0].size &&
			          memcmp(want, net->got, net->got_len) == 0;
			free(want);
			if (ok) {
				net->installed = true;
				net->installed_k = net->got_k;
				net_input(net, 0, XFER_IN_STOP, 0);
			} else {
				net->rejects++;
				net_input(net, 0, XFER_IN_REJECT, net->got_k);
			}
		} else {
			net_input(net, 0, XFER_IN_RETRY, 0);
		}
	}
}

static void run_case(const char *name, const uint64_t ks[NODES],
                     const serve_mode_t modes[NODES], size_t size, uint64_t least,
                     bool want_installed, uint64_t want_k, bft_nodeset_t want_blamed,
                     unsigned want_rejects)
{
	net_t *net = malloc(sizeof(*net));
	net_init(net, ks, modes, size);
	net_transfer(net, least, 8);
	if (net->installed != want_installed || (want_installed && net->installed_k != want_k) ||
	    net->blamed != want_blamed || net->rejects != want_rejects) {
		fprintf(stderr, "case %s: installed %d k %llu blamed %#x rejects %u\n", name,
		        net->installed, (unsigned long long)net->installed_k, net->blamed,
		        net->rejects);
	}
	CHECK_EQ(net->installed, want_installed);
	if (want_installed) {
		CHECK_EQ(net->installed_k, want_k);
	}
	CHECK_EQ(net->blamed, want_blamed);
	CHECK_EQ(net->rejects, want_rejects);
	xfer_stats_t st;
	xfer_stats(net->x[0], &st);
	CHECK(st.active == !want_installed);
	net_free(net);
	free(net);
}

static void test_cases(void)
{
	const serve_mode_t honest[NODES] = { 0 };
	/* The best of the first f + 1 answers is taken (nodes 1 and 2: 120),
	 * not the first (100), nor the best of all (waiting for the slowest
	 * peer). Odd size: the last chunk is short; many chunks: the window
	 * moves. */
	run_case("honest", (uint64_t[]){ 0, 100, 120, 110 }, honest, 25 * CHUNK + 17, 1,
	         true, 120, 0, 0);
	/* A faulty first answer with an old checkpoint does not win. */
	run_case("old first", (uint64_t[]){ 0, 101, 130, 120 },
	         (serve_mode_t[]){ 0, SERVE_HONEST, 0, 0 }, 3 * CHUNK, 1, true, 130, 0, 0);
	run_case("one chunk", (uint64_t[]){ 0, 100, 100, 100 }, honest, 10, 1,
	         true, 100, 0, 0);
	/* Node 1 is Byzantine and answers first with the highest K; after it
	 * the best remaining offer (node 2's) is taken. */
	run_case("wrong bytes", (uint64_t[]){ 0, 130, 110, 100 },
	         (serve_mode_t[]){ 0, SERVE_WRONG_BYTES, 0, 0 }, 12 * CHUNK, 1,
	         true, 110, bft_nodeset_one(1), 1);
	run_case("forged cert", (uint64_t[]){ 0, 130, 110, 100 },
	         (serve_mode_t[]){ 0, SERVE_FORGED_CERT, 0, 0 }, 12 * CHUNK, 1,
	         true, 110, bft_nodeset_one(1), 0);
	run_case("silent after offer", (uint64_t[]){ 0, 130, 110, 100 },
	         (serve_mode_t[]){ 0, SERVE_SILENT_DATA, 0, 0 }, 12 * CHUNK, 1,
	         true, 110, 0, 0);
	run_case("reorder", (uint64_t[]){ 0, 130, 110, 100 },
	         (serve_mode_t[]){ 0, SERVE_REORDER, 0, 0 }, 12 * CHUNK, 1,
	         true, 110, bft_nodeset_one(1), 0);
	run_case("short", (uint64_t[]){ 0, 130, 110, 100 },
	         (serve_mode_t[]){ 0, SERVE_SHORT, 0, 0 }, 12 * CHUNK, 1,
	         true, 110, bft_nodeset_one(1), 0);
	run_case("huge", (uint64_t[]){ 0, 130, 110, 100 },
	         (serve_mode_t[]){ 0, SERVE_HUGE, 0, 0 }, 12 * CHUNK, 1,
	         true, 110, bft_nodeset_one(1), 0);
	run_case("mute", (uint64_t[]){ 0, 130, 110, 100 },
	         (serve_mode_t[]){ 0, SERVE_MUTE, 0, 0 }, 12 * CHUNK, 1,
	         true, 110, 0, 0);
	/* Nothing recent enough anywhere: no transfer, nobody blamed. */
	run_case("too old", (uint64_t[]){ 0, 100, 130, 110 }, honest, 12 * CHUNK, 200,
	         false, 0, 0, 0);
	/* More than f misbehave here (a mute and a lying one): the last
	 * correct server still gets the transfer through. */
	run_case("byzantine and silent", (uint64_t[]){ 0, 100, 130, 90 },
	         (serve_mode_t[]){ 0, SERVE_MUTE, SERVE_WRONG_BYTES, 0 }, 5 * CHUNK, 1,
	         true, 90, bft_nodeset_one(2), 1);
}

/* Every server mute, then one comes back: RETRY asks again. */
static void test_mute_then_back(void)
{
	net_t *net = malloc(sizeof(*net));
	net_init(net, (uint64_t[]){ 0, 100, 100, 100 },
	         (serve_mode_t[]){ 0, SERVE_MUTE, SERVE_MUTE, SERVE_MUTE }, 3 * CHUNK);
	net_transfer(net, 1, 3);
	CHECK(!net->installed);
	net->srv[3].mode = SERVE_HONEST;
	for (unsigned i = 0; i < 3 && !net->installed; i++) {
		net_input(net, 0, XFER_IN_RETRY, 0);
		net_run(net);
		if (net->done) {
			net->installed = true;
			net->installed_k = net->got_k;
		}
	}
	CHECK(net->installed);
	CHECK_EQ(net->installed_k, 100);
	CHECK_EQ(net->got_source, 3);
	CHECK_EQ(net->blamed, 0);
	net_free(net);
	free(net);
}

/* A peer's GETs: in order only, and at most XFER_SERVE_PASSES passes per offer. */
static void test_serve_bounds(void)
{
	net_t *net = malloc(sizeof(*net));
	net_init(net, (uint64_t[]){ 0, 100, 0, 0 }, (serve_mode_t[NODES]){ 0 }, 2 * CHUNK);
	xfer_t *server = net->x[1];
	uint8_t get[21] = { 4 };
	get[8] = 100;                 /* K = 100 */
	get[20] = 100;                /* length 100 */
	unsigned answered = 0;
	for (unsigned pass = 0; pass < XFER_SERVE_PASSES + 3; pass++) {
		get[16] = 0;              /* offset 0: a new pass */
		CHECK_EQ(xfer_handle_message(server, 0, get, sizeof(get), NULL, &net->step), BFT_EOK);
		answered += (unsigned)net->step.msg_count;
		bft_step_clear(&net->step);
	}
	CHECK_EQ(answered, XFER_SERVE_PASSES);
	/* Switching to the other snapshot it keeps does not start a new count. */
	net->srv[1].k = 101;
	get[8] = 101;
	get[16] = 0;
	CHECK_EQ(xfer_handle_message(server, 0, get, sizeof(get), NULL, &net->step), BFT_EOK);
	CHECK_EQ(net->step.msg_count, 0);
	bft_step_clear(&net->step);
	/* Only a new offer (after an ASK that finds a later checkpoint) does. */
	cert_make(101, true, net->srv[1].cert);
	uint8_t ask[9] = { 1 };
	CHECK_EQ(xfer_handle_message(server, 0, ask, sizeof(ask), NULL, &net->step), BFT_EOK);
	CHECK_EQ(net->step.msg_count, 1);
	CHECK_EQ(bft_step_msg_data(&net->step, 0)[0], 2);  /* OFFER */
	bft_step_clear(&net->step);
	CHECK_EQ(xfer_handle_message(server, 0, get, sizeof(get), NULL, &net->step), BFT_EOK);
	CHECK_EQ(net->step.msg_count, 1);
	bft_step_clear(&net->step);
	/* Out of order (offset 50 before 0..49 was asked): a fault, nothing sent. */
	net_t *n2 = malloc(sizeof(*n2));
	net_init(n2, (uint64_t[]){ 0, 100, 0, 0 }, (serve_mode_t[NODES]){ 0 }, 2 * CHUNK);
	memset(get + 1, 0, sizeof(get) - 1);
	get[8] = 100;
	get[16] = 50;
	get[20] = 10;
	CHECK_EQ(xfer_handle_message(n2->x[1], 0, get, sizeof(get), NULL, &n2->step), BFT_EOK);
	CHECK_EQ(n2->step.msg_count, 0);
	CHECK_EQ(n2->step.fault_count, 1);
	net_free(n2);
	free(n2);
	net_free(net);
	free(net);
}

/* Hostile bytes: every truncation and byte flip of real messages, and junk. */
static void test_hostile(void)
{
	net_t *net = malloc(sizeof(*net));
	net_init(net, (uint64_t[]){ 0, 100, 100, 100 }, (serve_mode_t[NODES]){ 0 }, 3 * CHUNK + 5);
	/* Record one honest exchange's messages. */
	net_input(net, 0, XFER_IN_START, 1);
	uint8_t *samples[64];
	size_t sample_len[64];
	size_t samples_n = 0;
	for (size_t i = net->head; i != net->tail && samples_n < 64; i++) {
		net_msg_t *m = &net->queue[i % QUEUE_MAX];
		samples[samples_n] = malloc(m->len);
		memcpy(samples[samples_n], m->data, m->len);
		sample_len[samples_n++] = m->len;
	}
	net_run(net);
	CHECK(net->done);

	/* Fresh nodes, mid-transfer: feed them mutations from node 2. */
	net_t *h = malloc(sizeof(*h));
	net_init(h, (uint64_t[]){ 0, 100, 100, 100 }, (serve_mode_t[NODES]){ 0 }, 3 * CHUNK + 5);
	net_input(h, 0, XFER_IN_START, 1);
	uint8_t offer[64] = { 2 };
	size_t offer_len = 0;
	{
		/* A real OFFER, from node 1's answer. */
		net_msg_t *m = &h->queue[h->head % QUEUE_MAX];
		uint8_t *ask = m->data;
		CHECK_EQ(xfer_handle_message(h->x[1], 0, ask, m->len, NULL, &h->step), BFT_EOK);
		CHECK_EQ(h->step.msg_count, 1);
		offer_len = h->step.msgs[0].len;
		memcpy(offer, bft_step_msg_data(&h->step, 0), offer_len);
		bft_step_clear(&h->step);
		samples[samples_n] = malloc(offer_len);
		memcpy(samples[samples_n], offer, offer_len);
		sample_len[samples_n++] = offer_len;
	}
	bft_prng_t prng;
	bft_prng_seed(&prng, 42);
	unsigned fed = 0;
	for (size_t s = 0; s < samples_n; s++) {
		size_t len = sample_len[s];
		uint8_t *buf = malloc(len + 1);
		for (size_t cut = 0; cut < len; cut++) {
			for (bft_node_t to = 0; to < NODES; to++) {
				if (to == 2) {
					continue;
				}
				int ret = xfer_handle_message(h->x[to], 2, samples[s], cut, NULL,
				                              &h->step);
				CHECK_EQ(ret, BFT_EOK);
				bft_step_clear(&h->step);
				fed++;
			}
		}
		for (size_t pos = 0; pos < len && pos < 40; pos++) {
			memcpy(buf, samples[s], len);
			buf[pos] ^= (uint8_t)(1 + bft_prng_next(&prng) % 255);
			for (bft_node_t to = 0; to < NODES; to++) {
				if (to == 2) {
					continue;
				}
				CHECK_EQ(xfer_handle_message(h->x[to], 2, buf, len, NULL, &h->step),
				         BFT_EOK);
				bft_step_clear(&h->step);
				fed++;
			}
		}
		free(buf);
		free(samples[s]);
	}
	for (unsigned i = 0; i < 2000; i++) {
		uint8_t junk[40];
		size_t len = 1 + bft_prng_next(&prng) % sizeof(junk);
		for (size_t j = 0; j < len; j++) {
			junk[j] = (uint8_t)bft_prng_next(&prng);
		}
		junk[0] = (uint8_t)(1 + bft_prng_next(&prng) % 6);
		bft_node_t to = (bft_node_t)(bft_prng_next(&prng) % NODES);
		if (to == 2) {
			continue;
		}
		CHECK_EQ(xfer_handle_message(h->x[to], 2, junk, len, NULL, &h->step), BFT_EOK);
		bft_step_clear(&h->step);
		fed++;
	}
	CHECK(fed > 1000);
	/* The victims still work: drop node 2 and transfer from 1 and 3. */
	while (h->head != h->tail) {
		free(h->queue[h->head++ % QUEUE_MAX].data);
	}
	h->srv[2].mode = SERVE_MUTE;
	h->done = false;
	net_transfer(h, 1, 6);
	CHECK(h->installed);
	CHECK_EQ(h->installed_k, 100);
	net_free(h);
	free(h);
	net_free(net);
	free(net);
}

static void test_misuse(void)
{
	xfer_conf_t conf = { .chunk = XFER_CHUNK_MAX + 1 };
	bft_params_t p = { .n = 4, .f = 1, .self = 0, .conf = &conf };
	xfer_t *x = NULL;
	CHECK_EQ(xfer_create(&p, &x), BFT_EINVAL);
	conf.chunk = 0;
	CHECK_EQ(xfer_create(&p, &x), BFT_EOK);
	bft_step_t step;
	bft_step_init(&step, 1u << 20);
	uint8_t in[9];
	/* No verifier: this node cannot take a transfer. */
	CHECK_EQ(xfer_handle_input(x, in, xfer_input_encode(XFER_IN_START, 1, in), NULL, &step),
	         BFT_EINVAL);
	uint8_t bad[2] = { 9, 0 };
	CHECK_EQ(xfer_handle_input(x, bad, sizeof(bad), NULL, &step), BFT_EINVAL);
	/* A node that serves nothing answers NONE. */
	uint8_t ask[9] = { 1 };
	CHECK_EQ(xfer_handle_message(x, 1, ask, sizeof(ask), NULL, &step), BFT_EOK);
	CHECK_EQ(step.msg_count, 1);
	CHECK_EQ(bft_step_msg_data(&step, 0)[0], 3);
	bft_step_deinit(&step);
	xfer_destroy(x);
}

/*
 * Seeded scenarios: each server honest or one of the Byzantine modes (at
 * least one honest), random checkpoints and sizes, messages of different
 * links in random order. Whatever happens: the taker installs exactly the
 * snapshot of an honest server's checkpoint, from an honest server, within
 * a bounded number of driver rounds, and never blames an honest server.
 */
static void test_random(uint64_t seeds)
{
	unsigned failures = 0;
	for (uint64_t seed = 1; seed <= seeds; seed++) {
		bft_prng_t prng;
		bft_prng_seed(&prng, seed);
		uint64_t ks[NODES] = { 0 };
		serve_mode_t modes[NODES] = { SERVE_HONEST };
		bft_nodeset_t honest = 0;
		for (bft_node_t i = 1; i < NODES; i++) {
			ks[i] = 100 + bft_prng_below(&prng, 30);
			modes[i] = (serve_mode_t)bft_prng_below(&prng, SERVE_MUTE + 1);
		}
		if (modes[1] != SERVE_HONEST && modes[2] != SERVE_HONEST && modes[3] != SERVE_HONEST) {
			modes[1 + bft_prng_below(&prng, NODES - 1)] = SERVE_HONEST;
		}
		for (bft_node_t i = 1; i < NODES; i++) {
			honest |= (modes[i] == SERVE_HONEST) ? bft_nodeset_one(i) : 0;
		}
		size_t size = 1 + bft_prng_below(&prng, 12 * CHUNK);
		net_t *net = malloc(sizeof(*net));
		net_init(net, ks, modes, size);
		net->shuffle = true;
		bft_prng_seed(&net->prng, seed * 7919);
		net_transfer(net, 1, 3 * NODES + 2);
		bool ok = net->installed && bft_nodeset_has(honest, (bft_node_t)net->got_source) &&
		          net->installed_k == ks[net->got_source] && (net->blamed & honest) == 0;
		if (!ok && failures++ < 5) {
			fprintf(stderr, "seed %llu: installed %d k %llu source %d blamed %#x "
			        "honest %#x modes %d %d %d\n", (unsigned long long)seed,
			        net->installed, (unsigned long long)net->installed_k, net->got_source,
			        net->blamed, honest, modes[1], modes[2], modes[3]);
		}
		CHECK(ok);
		net_free(net);
		free(net);
	}
}

int main(void)
{
	test_misuse();
	test_cases();
	test_mute_then_back();
	test_serve_bounds();
	test_hostile();
	test_random(300);
	return check_result("test_xfer");
}
