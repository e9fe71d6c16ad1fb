/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/wire.h"
#include "coordinator/proto/xfer.h"

enum {
	MSG_ASK   = 1,
	MSG_OFFER = 2,
	MSG_NONE  = 3,
	MSG_GET   = 4,
	MSG_DATA  = 5,
};

/*! kind, K, offset: in front of DATA's bytes. */
#define DATA_HDR	(1 + 8 + 8)

/*! A peer's verified offer. */
typedef struct {
	bool has;
	bool tried;          /*!< Fetched from (or begun) since the last ASK. */
	bool excluded;       /*!< Its snapshot did not verify: never again this transfer. */
	uint64_t k;
	uint64_t size;
	uint8_t *cert;
	size_t cert_len;
} offer_t;

/*!
 * What this node served one peer since it last offered it a new checkpoint:
 * passes over any snapshot and ASKs answered are counted together, so a
 * peer that switches between snapshots (the store keeps two) or asks again
 * does not start a new count; only a new offer (a later checkpoint) does.
 */
typedef struct {
	uint64_t offer_k;    /*!< The checkpoint last offered to it. */
	uint64_t k;          /*!< The snapshot its GETs are reading. */
	uint64_t next;       /*!< Offset its next GET must ask for. */
	unsigned passes;     /*!< Passes begun since offer_k. */
	unsigned asks;       /*!< ASKs answered since offer_k. */
} served_t;

struct xfer {
	bft_params_t params;
	xfer_conf_t conf;
	uint32_t chunk;

	/* Taking a transfer. */
	bool active;
	bool complete;       /*!< DONE given; the driver verifies. */
	uint64_t least;      /*!< Least K wanted. */
	offer_t offers[BFT_NODES_MAX];
	int source;          /*!< -1: none. */
	/*! Peers that answered the last ASK (a valid OFFER or NONE): the
	 *  first pick waits for f + 1 of them, or for the driver's RETRY. */
	bft_nodeset_t answered;
	bool impatient;      /*!< RETRY came: pick from what is there. */
	uint64_t k, size;
	uint64_t asked;      /*!< Bytes asked for (GETs sent up to here). */
	uint64_t received;   /*!< Bytes taken, in order. */

	/* Serving. */
	served_t served[BFT_NODES_MAX];
	uint8_t *buf;        /*!< DATA_HDR + chunk bytes. */

	xfer_stats_t stats;
};

static bft_nodeset_t xfer_peers(const xfer_t *x)
{
	return bft_nodeset_all(x->params.n) & ~bft_nodeset_one(x->params.self);
}

static void offer_clear(offer_t *o)
{
	free(o->cert);
	*o = (offer_t) { 0 };
}

static int xfer_create_ops(const bft_params_t *params, void **out)
{
	return xfer_create(params, (xfer_t **)out);
}

int xfer_create(const bft_params_t *params, xfer_t **out)
{
	if (bft_params_check(params) != BFT_EOK || params->conf == NULL) {
		return BFT_EINVAL;
	}
	const xfer_conf_t *conf = params->conf;
	if (conf->chunk > XFER_CHUNK_MAX ||
	    (conf->store != NULL && (conf->store->latest == NULL || conf->store->read == NULL))) {
		return BFT_EINVAL;
	}
	xfer_t *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		return BFT_ENOMEM;
	}
	x->params = *params;
	x->conf = *conf;
	x->params.conf = &x->conf;
	x->chunk = (conf->chunk != 0) ? conf->chunk : XFER_CHUNK_MAX;
	if (x->conf.snapshot_max == 0) {
		x->conf.snapshot_max = XFER_SNAPSHOT_DEFAULT;
	}
	x->source = -1;
	x->stats.source = -1;
	*out = x;
	return BFT_EOK;
}

void xfer_destroy(xfer_t *x)
{
	if (x == NULL) {
		return;
	}
	for (size_t i = 0; i < BFT_NODES_MAX; i++) {
		offer_clear(&x->offers[i]);
	}
	free(x->buf);
	free(x);
}

static void xfer_destroy_ops(void *proto)
{
	xfer_destroy(proto);
}

/* ---- taking a transfer ---- */

static int xfer_send_ask(xfer_t *x, bft_step_t *step)
{
	uint8_t msg[9];
	bft_wire_w_t w;
	bft_wire_w_init(&w, msg, sizeof(msg));
	bft_wire_put_u8(&w, MSG_ASK);
	bft_wire_put_u64(&w, x->least);
	bft_nodeset_t to = xfer_peers(x);
	return (to != 0) ? bft_step_send(step, to, msg, w.len) : BFT_EOK;
}

/*! GETs until XFER_WINDOW chunks are outstanding or all are asked for. */
static int xfer_fill_window(xfer_t *x, bft_step_t *step)
{
	while (x->asked < x->size && x->asked - x->received < (uint64_t)XFER_WINDOW * x->chunk) {
		uint64_t left = x->size - x->asked;
		uint32_t len = (left < x->chunk) ? (uint32_t)left : x->chunk;
		uint8_t msg[1 + 8 + 8 + 4];
		bft_wire_w_t w;
		bft_wire_w_init(&w, msg, sizeof(msg));
		bft_wire_put_u8(&w, MSG_GET);
		bft_wire_put_u64(&w, x->k);
		bft_wire_put_u64(&w, x->asked);
		bft_wire_put_u32(&w, len);
		int ret = bft_step_send(step, bft_nodeset_one((bft_node_t)x->source), msg, w.len);
		if (ret != BFT_EOK) {
			return ret;
		}
		x->asked += len;
	}
	return BFT_EOK;
}

/*! The best offer not tried yet: the highest K, then the lowest node. */
static int xfer_best(const xfer_t *x)
{
	int best = -1;
	for (unsigned i = 0; i < x->params.n; i++) {
		const offer_t *o = &x->offers[i];
		if (!o->has || o->tried || o->excluded) {
			continue;
		}
		if (best < 0 || o->k > x->offers[best].k) {
			best = (int)i;
		}
	}
	return best;
}

/*! Begins fetching from the best offer, if there is one and none is under way. */
static int xfer_pick(xfer_t *x, bft_step_t *step)
{
	if (x->source >= 0 || x->complete) {
		return BFT_EOK;
	}
	/* With f + 1 answers one is a correct replica's: the highest offer
	 * then is at least its latest stable checkpoint, so a faulty peer that
	 * answers first with an old one cannot make us install it (and fetch
	 * from there, or transfer again). */
	if (!x->impatient && bft_nodeset_count(x->answered) < x->params.f + 1u) {
		return BFT_EOK;
	}
	int best = xfer_best(x);
	if (best < 0) {
		return BFT_EOK;  /* Wait for offers (or the driver's RETRY). */
	}
	offer_t *o = &x->offers[best];
	o->tried = true;
	x->source = best;
	x->k = o->k;
	x->size = o->size;
	x->asked = 0;
	x->received = 0;

	uint8_t hdr[2 + 8 + 8];
	bft_wire_w_t w;
	bft_wire_w_init(&w, hdr, sizeof(hdr));
	bft_wire_put_u16(&w, (uint16_t)best);
	bft_wire_put_u64(&w, o->k);
	bft_wire_put_u64(&w, o->size);
	uint8_t *out = malloc(w.len + o->cert_len);
	if (out == NULL) {
		return BFT_ENOMEM;
	}
	memcpy(out, hdr, w.len);
	memcpy(out + w.len, o->cert, o->cert_len);
	int ret = bft_step_output(step, XFER_OUTPUT_BEGIN, out, w.len + o->cert_len);
	free(out);
	if (ret != BFT_EOK) {
		return ret;
	}
	return xfer_fill_window(x, step);
}

/*! Leaves the current source (silent, or rejected) and goes to the next offer. */
static int xfer_next_source(xfer_t *x, bft_step_t *step)
{
	x->source = -1;
	x->complete = false;
	x->k = 0;
	x->size = 0;
	x->asked = 0;
	x->received = 0;
	if (xfer_best(x) >= 0) {
		return xfer_pick(x, step);
	}
	/* Every offer tried: ask everyone again (peers move on to later
	 * checkpoints, a silent one may be back). */
	for (unsigned i = 0; i < x->params.n; i++) {
		x->offers[i].tried = false;
	}
	x->answered = 0;
	int ret = xfer_send_ask(x, step);
	if (ret != BFT_EOK) {
		return ret;
	}
	return xfer_pick(x, step);
}

static void xfer_reset(xfer_t *x)
{
	for (size_t i = 0; i < BFT_NODES_MAX; i++) {
		offer_clear(&x->offers[i]);
	}
	x->active = false;
	x->complete = false;
	x->source = -1;
	x->answered = 0;
	x->impatient = false;
	x->k = x->size = x->asked = x->received = 0;
}

static void xfer_on_offer(xfer_t *x, bft_node_t from, bft_wire_r_t *r, bft_step_t *step,
                          int *ret)
{
	uint64_t k = bft_wire_get_u64(r);
	uint64_t size = bft_wire_get_u64(r);
	const uint8_t *cert = NULL;
	size_t cert_len = 0;
	bft_wire_get_bytes(r, XFER_CERT_MAX, &cert, &cert_len);
	if (!bft_wire_r_done(r) || k == 0 || cert_len == 0) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return;
	}
	if (!x->active) {
		return;  /* A late answer to a transfer that is over. */
	}
	offer_t *o = &x->offers[from];
	if (o->excluded || (int)from == x->source) {
		return;
	}
	if (size == 0 || size > x->conf.snapshot_max || k < x->least) {
		bft_step_fault(step, from, BFT_FAULT_UNEXPECTED);
		return;
	}
	uint64_t cert_k = 0;
	if (x->conf.verify == NULL ||
	    !x->conf.verify(x->conf.verify_ctx, cert, cert_len, &cert_k) || cert_k != k) {
		bft_step_fault(step, from, XFER_FAULT_BAD_CERT);
		return;
	}
	uint8_t *copy = malloc(cert_len);
	if (copy == NULL) {
		*ret = BFT_ENOMEM;
		return;
	}
	memcpy(copy, cert, cert_len);
	bool tried = o->tried && o->has && o->k == k;
	offer_clear(o);
	*o = (offer_t) { .has = true, .tried = tried, .k = k, .size = size,
	                 .cert = copy, .cert_len = cert_len };
	x->stats.offers++;
	x->answered |= bft_nodeset_one(from);
	*ret = xfer_pick(x, step);
}

static void xfer_on_data(xfer_t *x, bft_node_t from, bft_wire_r_t *r, bft_step_t *step,
                         int *ret)
{
	uint64_t k = bft_wire_get_u64(r);
	uint64_t offset = bft_wire_get_u64(r);
	if (r->error) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return;
	}
	const uint8_t *bytes = r->p + r->pos;
	size_t len = bft_wire_r_left(r);
	/* Late bytes of a source we left, or of a transfer that is over. */
	if (!x->active || x->complete || (int)from != x->source || k != x->k) {
		return;
	}
	uint64_t left = x->size - x->received;
	uint64_t want = (left < x->chunk) ? left : x->chunk;
	if (offset != x->received || x->asked == x->received || len != want) {
		/* Not what was asked: a correct server answers each GET in order. */
		bft_step_fault(step, from, BFT_FAULT_UNEXPECTED);
		x->offers[from].excluded = true;
		*ret = xfer_next_source(x, step);
		return;
	}
	uint8_t hdr[8];
	bft_wire_w_t w;
	bft_wire_w_init(&w, hdr, sizeof(hdr));
	bft_wire_put_u64(&w, offset);
	uint8_t *out = malloc(sizeof(hdr) + len);
	if (out == NULL) {
		*ret = BFT_ENOMEM;
		return;
	}
	memcpy(out, hdr, sizeof(hdr));
	memcpy(out + sizeof(hdr), bytes, len);
	*ret = bft_step_output(step, XFER_OUTPUT_CHUNK, out, sizeof(hdr) + len);
	free(out);
	if (*ret != BFT_EOK) {
		return;
	}
	x->received += len;
	if (x->received < x->size) {
		*ret = xfer_fill_window(x, step);
		return;
	}
	uint8_t done[2 + 8];
	bft_wire_w_init(&w, done, sizeof(done));
	bft_wire_put_u16(&w, (uint16_t)x->source);
	bft_wire_put_u64(&w, x->k);
	x->complete = true;
	*ret = bft_step_output(step, XFER_OUTPUT_DONE, done, w.len);
}

/* ---- serving ---- */

static void xfer_on_ask(xfer_t *x, bft_node_t from, bft_wire_r_t *r, bft_step_t *step,
                        int *ret)
{
	uint64_t least = bft_wire_get_u64(r);
	if (!bft_wire_r_done(r)) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return;
	}
	xfer_offer_t o = { 0 };
	if (x->conf.store != NULL) {
		x->conf.store->latest(x->conf.store_ctx, &o);
	}
	if (o.k == 0 || o.k < least || o.cert_len == 0 || o.cert_len > XFER_CERT_MAX ||
	    o.size == 0) {
		uint8_t none = MSG_NONE;
		*ret = bft_step_send(step, bft_nodeset_one(from), &none, 1);
		return;
	}
	/* Bounded per peer and checkpoint: a faulty peer's ASKs cost at most
	 * a few certificates each time we have a new one. */
	served_t *s = &x->served[from];
	if (s->offer_k != o.k) {
		*s = (served_t) { .offer_k = o.k };
	}
	if (s->asks >= 2 * XFER_SERVE_PASSES) {
		return;
	}
	s->asks++;
	size_t len = 1 + 8 + 8 + 4 + o.cert_len;
	uint8_t *msg = malloc(len);
	if (msg == NULL) {
		*ret = BFT_ENOMEM;
		return;
	}
	bft_wire_w_t w;
	bft_wire_w_init(&w, msg, len);
	bft_wire_put_u8(&w, MSG_OFFER);
	bft_wire_put_u64(&w, o.k);
	bft_wire_put_u64(&w, o.size);
	bft_wire_put_bytes(&w, o.cert, o.cert_len);
	*ret = bft_wire_w_ok(&w) ? bft_step_send(step, bft_nodeset_one(from), msg, w.len) :
	       BFT_ESPACE;
	free(msg);
}

static void xfer_on_get(xfer_t *x, bft_node_t from, bft_wire_r_t *r, bft_step_t *step,
                        int *ret)
{
	uint64_t k = bft_wire_get_u64(r);
	uint64_t offset = bft_wire_get_u64(r);
	uint32_t len = bft_wire_get_u32(r);
	if (!bft_wire_r_done(r) || len == 0 || len > XFER_CHUNK_MAX || k == 0) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return;
	}
	if (x->conf.store == NULL) {
		return;
	}
	served_t *s = &x->served[from];
	if (offset == 0) {
		/* A pass begins (the first, a RETRY, a restart, the other snapshot). */
		s->passes++;
		s->k = k;
	} else if (k != s->k || offset != s->next || s->passes == 0) {
		bft_step_fault(step, from, BFT_FAULT_UNEXPECTED);
		return;
	}
	if (s->passes > XFER_SERVE_PASSES) {
		return;
	}
	if (x->buf == NULL && (x->buf = malloc(DATA_HDR + XFER_CHUNK_MAX)) == NULL) {
		*ret = BFT_ENOMEM;
		return;
	}
	if (!x->conf.store->read(x->conf.store_ctx, k, offset, x->buf + DATA_HDR, len)) {
		return;  /* Gone, or beyond its end: the peer goes elsewhere. */
	}
	s->next = offset + len;
	bft_wire_w_t w;
	bft_wire_w_init(&w, x->buf, DATA_HDR);
	bft_wire_put_u8(&w, MSG_DATA);
	bft_wire_put_u64(&w, k);
	bft_wire_put_u64(&w, offset);
	*ret = bft_step_send(step, bft_nodeset_one(from), x->buf, DATA_HDR + len);
	if (*ret == BFT_EOK) {
		x->stats.served_chunks++;
		x->stats.served_bytes += len;
	}
}

int xfer_handle_message(xfer_t *x, bft_node_t from, const uint8_t *msg, size_t len,
                        const bft_env_t *env, bft_step_t *step)
{
	(void)env;
	if (x == NULL || step == NULL || (msg == NULL && len > 0)) {
		return BFT_EINVAL;
	}
	if (from >= x->params.n || from == x->params.self) {
		return BFT_EINVAL;  /* The driver's addressing, not a peer's bytes. */
	}
	bft_wire_r_t r;
	bft_wire_r_init(&r, msg, len);
	uint8_t kind = bft_wire_get_u8(&r);
	int ret = BFT_EOK;
	switch (r.error ? 0 : kind) {
	case MSG_ASK:
		xfer_on_ask(x, from, &r, step, &ret);
		break;
	case MSG_OFFER:
		xfer_on_offer(x, from, &r, step, &ret);
		break;
	case MSG_NONE:
		if (!bft_wire_r_done(&r)) {
			bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		} else if (x->active) {
			x->answered |= bft_nodeset_one(from);
			ret = xfer_pick(x, step);
		}
		break;
	case MSG_GET:
		xfer_on_get(x, from, &r, step, &ret);
		break;
	case MSG_DATA:
		xfer_on_data(x, from, &r, step, &ret);
		break;
	default:
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		break;
	}
	return ret;
}

int xfer_handle_input(xfer_t *x, const uint8_t *input, size_t len,
                      const bft_env_t *env, bft_step_t *step)
{
	(void)env;
	if (x == NULL || step == NULL || input == NULL || len == 0) {
		return BFT_EINVAL;
	}
	bft_wire_r_t r;
	bft_wire_r_init(&r, input, len);
	uint8_t kind = bft_wire_get_u8(&r);
	uint64_t k = (kind == XFER_IN_START || kind == XFER_IN_REJECT) ? bft_wire_get_u64(&r) : 0;
	if (!bft_wire_r_done(&r)) {
		return BFT_EINVAL;
	}
	switch (kind) {
	case XFER_IN_START:
		if (x->conf.verify == NULL) {
			return BFT_EINVAL;
		}
		xfer_reset(x);
		x->active = true;
		x->least = k;
		{
			int ret = xfer_send_ask(x, step);
			return ret;
		}
	case XFER_IN_RETRY:
		if (!x->active || x->complete) {
			return BFT_EOK;
		}
		x->stats.retries++;
		/* Fewer than f + 1 answered by now: take the best there is. */
		x->impatient = true;
		return xfer_next_source(x, step);
	case XFER_IN_REJECT:
		if (!x->active || !x->complete || k != x->k || x->source < 0) {
			return BFT_EOK;  /* Stale: nothing to reject. */
		}
		bft_step_fault(step, (bft_node_t)x->source, XFER_FAULT_BAD_SNAPSHOT);
		offer_clear(&x->offers[x->source]);
		x->offers[x->source].excluded = true;
		x->stats.rejected++;
		return xfer_next_source(x, step);
	case XFER_IN_STOP:
		xfer_reset(x);
		return BFT_EOK;
	default:
		return BFT_EINVAL;
	}
}

void xfer_stats(const xfer_t *x, xfer_stats_t *out)
{
	*out = x->stats;
	out->active = x->active;
	out->k = x->k;
	out->source = x->source;
	out->received = x->received;
	out->size = x->size;
}

size_t xfer_input_encode(uint8_t kind, uint64_t k, uint8_t out[9])
{
	bft_wire_w_t w;
	bft_wire_w_init(&w, out, 9);
	bft_wire_put_u8(&w, kind);
	if (kind == XFER_IN_START || kind == XFER_IN_REJECT) {
		bft_wire_put_u64(&w, k);
	}
	return w.len;
}

bool xfer_begin_decode(const uint8_t *data, size_t len, bft_node_t *source, uint64_t *k,
                       uint64_t *size, const uint8_t **cert, size_t *cert_len)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, data, len);
	*source = bft_wire_get_u16(&r);
	*k = bft_wire_get_u64(&r);
	*size = bft_wire_get_u64(&r);
	if (r.error) {
		return false;
	}
	*cert = data + r.pos;
	*cert_len = bft_wire_r_left(&r);
	return true;
}

bool xfer_chunk_decode(const uint8_t *data, size_t len, uint64_t *offset,
                       const uint8_t **bytes, size_t *bytes_len)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, data, len);
	*offset = bft_wire_get_u64(&r);
	if (r.error) {
		return false;
	}
	*bytes = data + r.pos;
	*bytes_len = bft_wire_r_left(&r);
	return true;
}

bool xfer_done_decode(const uint8_t *data, size_t len, bft_node_t *source, uint64_t *k)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, data, len);
	*source = bft_wire_get_u16(&r);
	*k = bft_wire_get_u64(&r);
	return bft_wire_r_done(&r);
}

static int xfer_input_ops(void *proto, const uint8_t *input, size_t len,
                          const bft_env_t *env, bft_step_t *step)
{
	return xfer_handle_input(proto, input, len, env, step);
}

static int xfer_message_ops(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                            const bft_env_t *env, bft_step_t *step)
{
	return xfer_handle_message(proto, from, msg, len, env, step);
}

static bool xfer_terminated(const void *proto)
{
	(void)proto;
	return false;  /* A service, like abc. */
}

static const char *xfer_fault_name(uint16_t kind)
{
	switch (kind) {
	case XFER_FAULT_BAD_CERT:     return "xfer-bad-certificate";
	case XFER_FAULT_BAD_SNAPSHOT: return "xfer-bad-snapshot";
	default:                      return NULL;
	}
}

const bft_protocol_ops_t xfer_ops = {
	.name = "xfer",
	.create = xfer_create_ops,
	.destroy = xfer_destroy_ops,
	.handle_input = xfer_input_ops,
	.handle_message = xfer_message_ops,
	.terminated = xfer_terminated,
	.fault_name = xfer_fault_name,
};
