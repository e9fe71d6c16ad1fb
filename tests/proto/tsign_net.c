/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <nettle/rsa.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "coordinator/proto/tsign_msg.h"
#include "tests/proto/tsign_net.h"

/* Bounds of one run: far above what a run needs, so hitting one is a bug. */
#define EVENTS_MAX	(4u << 20)
#define RING_MAX	32
#define STEP_BYTES_MAX	(64u << 20)
/* tsign_conf_t.help_delay_ms; virtual time jumps past it at quiescence. */
#define TNET_HELP_DELAY_MS	100
#define TNET_TICKS_MAX		64

static const char *const wire_names[TNET_WIRE_KINDS] = {
	"honest", "garbage", "equivocate", "bad-sigs", "replay", "future", "shares-only",
};

const char *tnet_wire_name(tnet_wire_t wire)
{
	return (unsigned)wire < TNET_WIRE_KINDS ? wire_names[wire] : "?";
}

static void die(const char *what)
{
	fprintf(stderr, "FATAL: %s\n", what);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tnet_key_deal(tnet_key_t *key, unsigned n, unsigned f, uint64_t seed)
{
	double start = now_s();
	bft_prng_t prng;
	bft_prng_seed(&prng, seed);
	key->n = n;
	key->f = f;
	shoup_public_init(&key->pub);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_secret_init(&key->sec[i]);
	}
	if (shoup_deal(1024, n, f, bft_prng_random, &prng, NULL, NULL, &key->pub, key->sec) != SHOUP_EOK ||
	    shoup_public_check(&key->pub) != SHOUP_EOK) {
		die("shoup_deal failed");
	}
	printf("# key n=%u f=%u, 1024 bits, dealt in %.2f s\n", n, f, now_s() - start);
}

void tnet_key_clear(tnet_key_t *key)
{
	shoup_public_clear(&key->pub);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_secret_clear(&key->sec[i]);
	}
}

bft_nodeset_t tnet_correct(const tnet_conf_t *conf)
{
	bft_nodeset_t correct = 0;
	for (bft_node_t i = 0; i < conf->key->n; i++) {
		if (conf->mode[i] == TSIGN_MODE_HONEST && conf->wire[i] == TNET_WIRE_HONEST &&
		    !bft_nodeset_has(conf->help_spam, i)) {
			correct |= bft_nodeset_one(i);
		}
	}
	return correct;
}

void tnet_describe(const tnet_conf_t *conf, char *buf, size_t len)
{
	size_t at = (size_t)snprintf(buf, len, "n=%u f=%u %s m=%u req=%u seed=%" PRIu64,
	                             conf->key->n, conf->key->f,
	                             shoup_strategy_name(conf->strategy), conf->m,
	                             conf->requests, conf->seed);
	for (bft_node_t i = 0; i < conf->key->n && at < len; i++) {
		if (conf->mode[i] != TSIGN_MODE_HONEST) {
			at += (size_t)snprintf(buf + at, len - at, " %u:%s", i, tsign_mode_name(conf->mode[i]));
		} else if (conf->wire[i] != TNET_WIRE_HONEST) {
			at += (size_t)snprintf(buf + at, len - at, " %u:wire-%s", i, tnet_wire_name(conf->wire[i]));
		}
	}
	if (at < len && (conf->held | conf->late | conf->lossy) != 0) {
		snprintf(buf + at, len - at, " held=%#x late=%#x lossy=%#x",
		         conf->held, conf->late, conf->lossy);
	}
}

/* One pending event: an input for node `to`, or a message copy. */
typedef struct {
	bool input;
	bft_node_t from, to;
	size_t len;
	uint8_t data[];
} item_t;

typedef struct {
	item_t **items;
	size_t count, cap;
} pool_t;

typedef struct {
	tsign_t *ts;
	tsign_conf_t conf;
	unsigned next_req;
	bool had_input;
	uint8_t *out[TNET_REQUESTS_MAX];
	size_t out_len[TNET_REQUESTS_MAX];
	unsigned out_count[TNET_REQUESTS_MAX];
	item_t *ring[RING_MAX];          /* its past messages, for replays */
	unsigned ring_next;
} node_t;

typedef struct {
	const tnet_conf_t *conf;
	tnet_result_t *res;
	unsigned n, f;
	bft_nodeset_t correct;
	bft_prng_t prng;
	pool_t pending, held;
	bool healed;
	uint64_t now_ms;                 /* virtual: see tsign_net.h */
	node_t nodes[TNET_NODES_MAX];
	const bftdns_alg_t *alg;
	size_t sig_len;
	uint8_t digest[TNET_REQUESTS_MAX][TSIGN_MSGS_MAX][TSIGN_DIGEST_MAX];
	mpz_t x[TNET_REQUESTS_MAX][TSIGN_MSGS_MAX];
	uint8_t *ref[TNET_REQUESTS_MAX];  /* reference output bytes */
	size_t ref_len;
	bft_step_t step;
} net_t;

static bool fail(net_t *net, const char *fmt, ...)
{
	if (net->res->ok) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(net->res->why, sizeof(net->res->why), fmt, ap);
		va_end(ap);
		net->res->ok = false;
	}
	return false;
}

uint64_t tnet_request_id(unsigned r)
{
	return 5 + 3 * (uint64_t)r;
}

static uint64_t req_id(unsigned r)
{
	return tnet_request_id(r);
}

/* The request index of an id, or -1. */
static int req_index(const net_t *net, uint64_t id)
{
	if (id < 5 || (id - 5) % 3 != 0 || (id - 5) / 3 >= net->conf->requests) {
		return -1;
	}
	return (int)((id - 5) / 3);
}

static void pool_push(pool_t *pool, item_t *item)
{
	if (pool->count == pool->cap) {
		pool->cap = pool->cap ? pool->cap * 2 : 256;
		pool->items = realloc(pool->items, pool->cap * sizeof(*pool->items));
		if (pool->items == NULL) {
			die("out of memory");
		}
	}
	pool->items[pool->count++] = item;
}

static item_t *item_new(bool input, bft_node_t from, bft_node_t to, const uint8_t *data, size_t len)
{
	item_t *item = malloc(sizeof(*item) + len);
	if (item == NULL) {
		die("out of memory");
	}
	item->input = input;
	item->from = from;
	item->to = to;
	item->len = len;
	if (len > 0) {
		memcpy(item->data, data, len);
	}
	return item;
}

static void net_queue(net_t *net, bft_node_t from, bft_node_t to, const uint8_t *data, size_t len)
{
	bft_nodeset_t ends = bft_nodeset_one(from) | bft_nodeset_one(to);
	item_t *item = item_new(false, from, to, data, len);
	pool_push(!net->healed && (net->conf->held & ends) ? &net->held : &net->pending, item);
}

/* Requests: digests of seeded data; reference signatures from k shares. */
static void net_make_requests(net_t *net)
{
	const tnet_key_t *key = net->conf->key;
	net->ref_len = 12 + (size_t)net->conf->m * net->sig_len;
	shoup_share_t shares[SHOUP_PLAYERS_MAX];
	const shoup_share_t *pick[SHOUP_PLAYERS_MAX];
	for (unsigned i = 0; i <= net->f; i++) {
		shoup_share_init(&shares[i]);
		pick[i] = &shares[i];
	}
	mpz_t sig;
	mpz_init(sig);
	for (unsigned r = 0; r < net->conf->requests; r++) {
		uint8_t *ref = malloc(net->ref_len);
		if (ref == NULL) {
			die("out of memory");
		}
		uint64_t id = req_id(r);
		for (unsigned b = 0; b < 8; b++) {
			ref[b] = (uint8_t)(id >> (56 - 8 * b));
		}
		ref[8] = (uint8_t)(net->conf->m >> 8);
		ref[9] = (uint8_t)net->conf->m;
		ref[10] = (uint8_t)(net->sig_len >> 8);
		ref[11] = (uint8_t)net->sig_len;
		for (unsigned j = 0; j < net->conf->m; j++) {
			char data[96];
			int len = snprintf(data, sizeof(data), "tnet seed %" PRIu64 " request %u message %u",
			                   net->conf->seed, r, j);
			mpz_init(net->x[r][j]);
			if (bftdns_alg_digest(net->alg, (const uint8_t *)data, (size_t)len, net->digest[r][j]) != SHOUP_EOK ||
			    bftdns_alg_encode_digest(net->alg, net->digest[r][j], net->sig_len, net->x[r][j]) != SHOUP_EOK) {
				die("message encoding failed");
			}
			/* Players 1..k from the dealt secrets: independent of the core. */
			for (unsigned i = 0; i <= net->f; i++) {
				if (shoup_share_sign(&key->pub, &key->sec[i], net->x[r][j], false, &shares[i]) != SHOUP_EOK) {
					die("shoup_share_sign failed");
				}
			}
			if (shoup_combine(&key->pub, net->x[r][j], pick, net->f + 1, sig) != SHOUP_EOK ||
			    !shoup_signature_verify(&key->pub, net->x[r][j], sig) ||
			    bftdns_alg_signature_bytes(sig, net->sig_len, ref + 12 + j * net->sig_len) != SHOUP_EOK) {
				die("reference signature failed");
			}
		}
		net->ref[r] = ref;
	}
	mpz_clear(sig);
	for (unsigned i = 0; i <= net->f; i++) {
		shoup_share_clear(&shares[i]);
	}
}

static void net_input(net_t *net, bft_node_t node);

/* Wire adversaries: what goes out instead of one copy of a faulty node's message. */

static void wire_garbage(net_t *net, bft_node_t from, bft_node_t to, const uint8_t *data, size_t len)
{
	uint8_t buf[4096];
	switch (bft_prng_below(&net->prng, 5)) {
	case 0: {  /* random bytes, sometimes starting with a valid kind */
		size_t n = (size_t)bft_prng_below(&net->prng, 96);
		bft_prng_random(&net->prng, buf, n);
		if (n > 0 && bft_prng_below(&net->prng, 2)) {
			buf[0] = (uint8_t)(1 + bft_prng_below(&net->prng, 3));
		}
		net_queue(net, from, to, buf, n);
		return;
	}
	case 1: {  /* one bit flipped anywhere */
		uint8_t *copy = malloc(len);
		memcpy(copy, data, len);
		size_t bit = (size_t)bft_prng_below(&net->prng, len * 8);
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		net_queue(net, from, to, copy, len);
		free(copy);
		return;
	}
	case 2:    /* truncated */
		net_queue(net, from, to, data, (size_t)bft_prng_below(&net->prng, len));
		return;
	case 3: {  /* one byte too many */
		uint8_t *copy = malloc(len + 1);
		memcpy(copy, data, len);
		copy[len] = 0;
		net_queue(net, from, to, copy, len + 1);
		free(copy);
		return;
	}
	default:
		net_queue(net, from, to, data, len);
	}
}

/* A SHARES message with one byte of its first share value changed. */
static void wire_equivocate(net_t *net, bft_node_t from, bft_node_t to, const uint8_t *data, size_t len)
{
	size_t value_at = 1 + 8 + 1 + TSIGN_RDIGEST_LEN + 2 + 2 + 2;
	if (data[0] != TSIGN_MSG_SHARES || len < value_at + net->sig_len || (to % 2) == 0) {
		net_queue(net, from, to, data, len);
		return;
	}
	uint8_t *copy = malloc(len);
	memcpy(copy, data, len);
	copy[value_at + bft_prng_below(&net->prng, net->sig_len)] ^= 0x5a;
	net_queue(net, from, to, copy, len);
	if (bft_prng_below(&net->prng, 4) == 0) {
		net_queue(net, from, to, data, len);  /* both versions: provable */
	}
	free(copy);
}

/* Forged SIGS for the request of a SHARES message; the adversary knows the
 * true signatures (the reference) and spoils them in ways a careless
 * check would let through. */
static void wire_bad_sigs(net_t *net, bft_node_t from, bft_node_t to, const uint8_t *data, size_t len)
{
	net_queue(net, from, to, data, len);
	uint64_t id = 0;
	for (unsigned b = 0; len > 9 && b < 8; b++) {
		id = id << 8 | data[1 + b];
	}
	int r = req_index(net, id);
	if (data[0] != TSIGN_MSG_SHARES || r < 0) {
		return;
	}
	uint16_t m = net->conf->m;
	size_t body = (size_t)m * net->sig_len;
	uint8_t *msg = malloc(11 + body);
	memcpy(msg, data, 9);
	msg[0] = TSIGN_MSG_SIGS;
	msg[9] = (uint8_t)(m >> 8);
	msg[10] = (uint8_t)m;
	memcpy(msg + 11, net->ref[r] + 12, body);
	unsigned how = (unsigned)bft_prng_below(&net->prng, 5);
	mpz_t s;
	mpz_init(s);
	for (unsigned j = (how == 4 ? m - 1u : 0); j < m; j++) {
		uint8_t *at = msg + 11 + j * net->sig_len;
		mpz_import(s, net->sig_len, 1, 1, 1, 0, at);
		if (how == 0) {
			mpz_add(s, s, net->conf->key->pub.modulus);  /* s + N: same residue */
		} else if (how == 1) {
			mpz_sub(s, net->conf->key->pub.modulus, s);  /* N - s */
		} else if (how == 2 || how == 4) {
			mpz_combit(s, 0);                 /* one bit */
		} else {
			bft_prng_random(&net->prng, at, net->sig_len);
			continue;
		}
		if (!tsign_put_fixed(at, net->sig_len, s)) {
			at[net->sig_len - 1] ^= 1;        /* s + N did not fit */
		}
	}
	mpz_clear(s);
	net_queue(net, from, to, msg, 11 + body);
	free(msg);
}

static void wire_replay(net_t *net, bft_node_t from, bft_node_t to, const uint8_t *data, size_t len)
{
	node_t *node = &net->nodes[from];
	net_queue(net, from, to, data, len);
	if (bft_prng_below(&net->prng, 2)) {
		net_queue(net, from, to, data, len);
	}
	item_t *old = node->ring[bft_prng_below(&net->prng, RING_MAX)];
	if (old != NULL) {
		bft_node_t anyone = (bft_node_t)bft_prng_below(&net->prng, net->n);
		if (anyone != from) {
			net_queue(net, from, anyone, old->data, old->len);
		}
	}
}

static void wire_future(net_t *net, bft_node_t from, bft_node_t to, const uint8_t *data, size_t len)
{
	net_queue(net, from, to, data, len);
	if (len < 9) {
		return;
	}
	uint8_t *copy = malloc(len);
	memcpy(copy, data, len);
	uint64_t id = 0;
	for (unsigned b = 0; b < 8; b++) {
		id = id << 8 | data[1 + b];
	}
	uint64_t window = net->nodes[to].conf.window ? net->nodes[to].conf.window : TSIGN_WINDOW_DEFAULT;
	id += bft_prng_below(&net->prng, 2) ? 1 : window + 1 + bft_prng_below(&net->prng, 1000);
	for (unsigned b = 0; b < 8; b++) {
		copy[1 + b] = (uint8_t)(id >> (56 - 8 * b));
	}
	net_queue(net, from, to, copy, len);
	free(copy);
}

static void net_send_copy(net_t *net, bft_node_t from, bft_node_t to, const uint8_t *data, size_t len)
{
	switch (net->conf->wire[from]) {
	case TNET_WIRE_GARBAGE:    wire_garbage(net, from, to, data, len); return;
	case TNET_WIRE_EQUIVOCATE: wire_equivocate(net, from, to, data, len); return;
	case TNET_WIRE_BAD_SIGS:   wire_bad_sigs(net, from, to, data, len); return;
	case TNET_WIRE_REPLAY:     wire_replay(net, from, to, data, len); return;
	case TNET_WIRE_FUTURE:     wire_future(net, from, to, data, len); return;
	case TNET_WIRE_SHARES_ONLY:
		if (data[0] == TSIGN_MSG_SHARES) {
			net_queue(net, from, to, data, len);
		}
		return;
	default:                   net_queue(net, from, to, data, len); return;
	}
}

static void ring_keep(node_t *node, const uint8_t *data, size_t len)
{
	free(node->ring[node->ring_next]);
	node->ring[node->ring_next] = item_new(false, 0, 0, data, len);
	node->ring_next = (node->ring_next + 1) % RING_MAX;
}

/* What node `at` asked for in its step: sends, outputs, faults. */
static bool net_take_step(net_t *net, bft_node_t at)
{
	bft_step_t *step = &net->step;
	node_t *node = &net->nodes[at];
	for (size_t i = 0; i < step->msg_count; i++) {
		const uint8_t *data = bft_step_msg_data(step, i);
		size_t len = step->msgs[i].len;
		bft_nodeset_t to = step->msgs[i].to;
		if ((to & bft_nodeset_one(at)) || data[0] < 1 || data[0] > 5) {
			return fail(net, "node %u sent to itself or an unknown kind %u", at, data[0]);
		}
		unsigned copies = bft_nodeset_count(to);
		net->res->kind[data[0]].msgs += copies;
		net->res->kind[data[0]].bytes += copies * len;
		net->res->kind[0].msgs += copies;
		net->res->kind[0].bytes += copies * len;
		if (net->conf->wire[at] == TNET_WIRE_REPLAY) {
			ring_keep(node, data, len);
		}
		for (bft_node_t t = 0; t < net->n; t++) {
			if (bft_nodeset_has(to, t)) {
				net_send_copy(net, at, t, data, len);
			}
		}
	}
	for (size_t i = 0; i < step->output_count; i++) {
		uint64_t id;
		uint16_t count;
		size_t sig_len;
		const uint8_t *sigs;
		const uint8_t *data = bft_step_output_data(step, i);
		size_t len = step->outputs[i].len;
		if (step->outputs[i].tag != TSIGN_OUTPUT_SIGS ||
		    tsign_output_decode(data, len, &id, &count, &sig_len, &sigs) != BFT_EOK) {
			return fail(net, "node %u: an output that does not decode", at);
		}
		int r = req_index(net, id);
		if (r < 0) {
			return fail(net, "node %u output unknown id %" PRIu64, at, id);
		}
		if (node->out_count[r]++ == 0) {
			node->out[r] = malloc(len);
			memcpy(node->out[r], data, len);
			node->out_len[r] = len;
		}
		if (!net->healed && bft_nodeset_has(net->correct, at)) {
			net->res->outputs_before_heal++;
		}
	}
	for (size_t i = 0; i < step->fault_count; i++) {
		const bft_fault_t *fault = &step->faults[i];
		if (!bft_nodeset_has(net->correct, at)) {
			continue;
		}
		net->res->faults++;
		bool future_ok = net->conf->future_blame_ok && fault->kind == BFT_FAULT_FUTURE;
		if (bft_nodeset_has(net->correct, fault->node) && !future_ok) {
			return fail(net, "correct node %u blamed correct node %u: %s", at, fault->node,
			            bft_protocol_fault_name(&tsign_ops, fault->kind));
		}
	}
	return true;
}

static void net_input(net_t *net, bft_node_t node)
{
	pool_push(&net->pending, item_new(true, node, node, NULL, 0));
}

/* help_spam: a HELP for every message of the request a message names. */
static void net_help_spam(net_t *net, bft_node_t from, const uint8_t *data, size_t len)
{
	if (len < 11 || data[0] < 1 || data[0] > 5) {
		return;
	}
	uint16_t m = net->conf->m;
	uint8_t help[1 + 8 + 2 + 2 + 2 * TSIGN_MSGS_MAX];
	help[0] = 4;  /* TSIGN_MSG_HELP */
	memcpy(help + 1, data + 1, 8);
	help[9] = (uint8_t)(m >> 8);
	help[10] = (uint8_t)m;
	help[11] = (uint8_t)(m >> 8);
	help[12] = (uint8_t)m;
	for (uint16_t j = 0; j < m; j++) {
		help[13 + 2 * j] = (uint8_t)(j >> 8);
		help[14 + 2 * j] = (uint8_t)j;
	}
	for (bft_node_t t = 0; t < net->n; t++) {
		if (t != from) {
			net->res->kind[4].msgs++;
			net_queue(net, from, t, help, 13 + 2u * m);
		}
	}
}

static bool net_deliver(net_t *net, item_t *item)
{
	node_t *node = &net->nodes[item->to];
	bft_step_clear(&net->step);
	bft_env_t env = { .now_ms = net->now_ms };
	int ret;
	if (item->input) {
		unsigned r = node->next_req++;
		tsign_request_t req = {
			.id = req_id(r), .alg = net->alg->number, .count = net->conf->m,
		};
		uint8_t digests[TSIGN_MSGS_MAX * TSIGN_DIGEST_MAX];
		for (unsigned j = 0; j < net->conf->m; j++) {
			memcpy(digests + j * net->alg->digest_size, net->digest[r][j], net->alg->digest_size);
		}
		req.digests = digests;
		uint8_t input[TSIGN_MSGS_MAX * TSIGN_DIGEST_MAX + 16];
		size_t len = 0;
		if (tsign_request_encode(&req, input, sizeof(input), &len) != BFT_EOK) {
			return fail(net, "request encoding failed");
		}
		ret = tsign_handle_input(node->ts, input, len, &env, &net->step);
		node->had_input = true;
		if (node->next_req < net->conf->requests) {
			net_input(net, item->to);
		}
	} else {
		if (bft_nodeset_has(net->conf->lossy, item->to) && !node->had_input) {
			return true;  /* lost before it (re)started */
		}
		ret = tsign_handle_message(node->ts, item->from, item->data, item->len, &env, &net->step);
		if (bft_nodeset_has(net->conf->help_spam, item->to) && net->res->kind[4].msgs < 100000) {
			net_help_spam(net, item->to, item->data, item->len);
		}
	}
	if (ret != BFT_EOK) {
		return fail(net, "node %u returned %s", item->to, bft_strerror(ret));
	}
	return net_take_step(net, item->to);
}

static bool net_setup(net_t *net)
{
	const tnet_conf_t *conf = net->conf;
	net->n = conf->key->n;
	net->f = conf->key->f;
	net->correct = tnet_correct(conf);
	bft_prng_seed(&net->prng, conf->seed);
	net->alg = bftdns_alg_by_number(conf->alg ? conf->alg : BFTDNS_ALG_RSASHA256);
	net->sig_len = (conf->key->pub.bits + 7) / 8;
	if (net->alg == NULL || conf->requests < 1 || conf->requests > TNET_REQUESTS_MAX ||
	    net->n > TNET_NODES_MAX || conf->m < 1 || conf->m > TSIGN_MSGS_MAX ||
	    bft_step_init(&net->step, STEP_BYTES_MAX) != BFT_EOK) {
		return fail(net, "bad scenario");
	}
	net_make_requests(net);
	for (bft_node_t i = 0; i < net->n; i++) {
		node_t *node = &net->nodes[i];
		node->conf = (tsign_conf_t){
			.pub = &conf->key->pub, .secrets = conf->key->sec, .secret_count = net->n,
			.strategy = conf->strategy, .mode = conf->mode[i],
			.window = conf->window, .keep_max = conf->keep_max,
			.start_id = req_id(0),
			/* A restarted replica: it may have lost anything so far. */
			.catchup_until = bft_nodeset_has(conf->lossy, i) ? req_id(conf->requests) : 0,
			.designated = conf->all_sign ? TSIGN_DESIGNATED_OFF : TSIGN_DESIGNATED_ON,
			.help_delay_ms = TNET_HELP_DELAY_MS,
		};
		bft_params_t params = { .n = (uint16_t)net->n, .f = (uint16_t)net->f, .self = i,
		                        .conf = &node->conf };
		if (tsign_create(&params, &node->ts) != BFT_EOK) {
			return fail(net, "tsign_create failed for node %u", i);
		}
		if (!bft_nodeset_has(conf->late, i)) {
			net_input(net, i);
		}
	}
	return true;
}

/*
 * Quiescence: time passes. Every replica gets a tick past the help delay;
 * true if that made anyone send something. Bounded by TNET_TICKS_MAX per
 * run (a replica that still has nothing to say after that is a failure
 * the checks report).
 */
static bool net_tick(net_t *net)
{
	if (net->res->ticks >= TNET_TICKS_MAX) {
		return false;
	}
	net->now_ms += TNET_HELP_DELAY_MS + 1;
	bft_env_t env = { .now_ms = net->now_ms };
	for (bft_node_t i = 0; i < net->n && net->res->ok; i++) {
		bft_step_clear(&net->step);
		int ret = tsign_tick(net->nodes[i].ts, &env, &net->step);
		if (ret != BFT_EOK) {
			fail(net, "node %u tick returned %s", i, bft_strerror(ret));
		} else {
			net_take_step(net, i);
		}
	}
	net->res->ticks += net->pending.count > 0;
	return net->pending.count > 0;
}

static bool net_loop(net_t *net)
{
	for (uint64_t events = 0; net->res->ok; events++) {
		if (events > EVENTS_MAX) {
			return fail(net, "no quiescence after %u events", EVENTS_MAX);
		}
		if (net->pending.count == 0 && net_tick(net)) {
			continue;
		}
		if (!net->res->ok) {
			return false;
		}
		if (net->pending.count == 0) {
			if (net->healed) {
				net->res->events = events;
				return true;
			}
			/* First quiescence: the held come back, the late get their requests. */
			net->healed = true;
			for (size_t i = 0; i < net->held.count; i++) {
				pool_push(&net->pending, net->held.items[i]);
			}
			net->held.count = 0;
			for (bft_node_t i = 0; i < net->n; i++) {
				if (bft_nodeset_has(net->conf->late, i)) {
					net_input(net, i);
				}
			}
			continue;
		}
		size_t pick = (size_t)bft_prng_below(&net->prng, net->pending.count);
		item_t *item = net->pending.items[pick];
		net->pending.items[pick] = net->pending.items[--net->pending.count];
		bool ok = net_deliver(net, item);
		free(item);
		if (!ok) {
			return false;
		}
	}
	return false;
}

static bool nettle_verify(const net_t *net, const uint8_t *digest, const mpz_t sig)
{
	struct rsa_public_key key;
	rsa_public_key_init(&key);
	mpz_set(key.n, net->conf->key->pub.modulus);
	mpz_set(key.e, net->conf->key->pub.exponent);
	bool ok = rsa_public_key_prepare(&key) != 0;
	switch (net->alg->number) {
	case BFTDNS_ALG_RSASHA256:
		ok = ok && rsa_sha256_verify_digest(&key, digest, sig);
		break;
	case BFTDNS_ALG_RSASHA512:
		ok = ok && rsa_sha512_verify_digest(&key, digest, sig);
		break;
	default:
		ok = ok && rsa_sha1_verify_digest(&key, digest, sig);
		break;
	}
	rsa_public_key_clear(&key);
	return ok;
}

/* Every correct node output every request once, the reference bytes, valid. */
static bool net_check(net_t *net)
{
	const tnet_conf_t *conf = net->conf;
	if (conf->expect_none_before_heal && net->res->outputs_before_heal > 0) {
		return fail(net, "%" PRIu64 " outputs before the held replicas came back",
		            net->res->outputs_before_heal);
	}
	mpz_t sig;
	mpz_init(sig);
	for (bft_node_t i = 0; i < net->n && net->res->ok; i++) {
		node_t *node = &net->nodes[i];
		if (!bft_nodeset_has(net->correct, i)) {
			continue;
		}
		tsign_stats_t stats;
		tsign_stats(node->ts, &stats);
		net->res->finished_by_sigs += stats.finished_by_sigs;
		net->res->proof_requests += stats.proof_requests;
		net->res->resends += stats.resends;
		net->res->shares[i] = stats.shares_made + stats.proofs_made;
		net->res->help_shares[i] = stats.help_shares;
		net->res->help_requests += stats.help_requests;
		if (!tsign_idle(node->ts)) {
			fail(net, "correct node %u still has unfinished requests", i);
		}
		for (unsigned r = 0; r < conf->requests && net->res->ok; r++) {
			if (node->out_count[r] != 1) {
				fail(net, "correct node %u output request %u %u times", i, r, node->out_count[r]);
			} else if (node->out_len[r] != net->ref_len ||
			           memcmp(node->out[r], net->ref[r], net->ref_len) != 0) {
				fail(net, "correct node %u output wrong signatures for request %u", i, r);
			}
			for (unsigned j = 0; j < conf->m && net->res->ok; j++) {
				mpz_import(sig, net->sig_len, 1, 1, 1, 0, node->out[r] + 12 + j * net->sig_len);
				if (!shoup_signature_verify(&conf->key->pub, net->x[r][j], sig) ||
				    (conf->nettle_check && !nettle_verify(net, net->digest[r][j], sig))) {
					fail(net, "node %u request %u message %u: signature does not verify", i, r, j);
				}
			}
		}
	}
	mpz_clear(sig);
	return net->res->ok;
}

static void net_free(net_t *net)
{
	for (bft_node_t i = 0; i < TNET_NODES_MAX; i++) {
		node_t *node = &net->nodes[i];
		tsign_destroy(node->ts);
		for (unsigned r = 0; r < TNET_REQUESTS_MAX; r++) {
			free(node->out[r]);
		}
		for (unsigned k = 0; k < RING_MAX; k++) {
			free(node->ring[k]);
		}
	}
	for (unsigned r = 0; r < TNET_REQUESTS_MAX; r++) {
		for (unsigned j = 0; net->ref[r] != NULL && j < net->conf->m; j++) {
			mpz_clear(net->x[r][j]);
		}
		free(net->ref[r]);
	}
	pool_t *pools[2] = { &net->pending, &net->held };
	for (unsigned p = 0; p < 2; p++) {
		for (size_t i = 0; i < pools[p]->count; i++) {
			free(pools[p]->items[i]);
		}
		free(pools[p]->items);
	}
	bft_step_deinit(&net->step);
}

bool tnet_run(const tnet_conf_t *conf, tnet_result_t *res)
{
	memset(res, 0, sizeof(*res));
	res->ok = true;
	net_t *net = calloc(1, sizeof(*net));
	if (net == NULL) {
		die("out of memory");
	}
	net->conf = conf;
	net->res = res;
	bool ran = net_setup(net) && net_loop(net);
	if (ran) {
		net_check(net);
	}
	net_free(net);
	free(net);
	return true;
}
