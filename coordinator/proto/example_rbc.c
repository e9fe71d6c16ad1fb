/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <nettle/sha2.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/example_rbc.h"
#include "coordinator/proto/wire.h"

struct exrbc {
	bft_params_t params;
	bft_node_t proposer;
	bool proposed;          /*!< The proposer took its input. */
	bool got_value;         /*!< A VALUE came from the proposer. */
	uint8_t value_digest[EXRBC_DIGEST_LEN];
	bool echoed;
	bool readied;
	bool delivered;
	/* One ECHO and one READY per sender: the memory bound is n values. */
	bft_nodeset_t echo_from;
	uint8_t *echo_value[BFT_NODES_MAX];
	size_t echo_len[BFT_NODES_MAX];
	uint8_t echo_digest[BFT_NODES_MAX][EXRBC_DIGEST_LEN];
	bft_nodeset_t ready_from;
	uint8_t ready_digest[BFT_NODES_MAX][EXRBC_DIGEST_LEN];
};

/* Encoding: kind u8, then VALUE/ECHO: u32 length + value; READY: 32 bytes. */

size_t exrbc_msg_size(const exrbc_msg_t *msg)
{
	return msg->kind == EXRBC_READY ? 1 + EXRBC_DIGEST_LEN : 1 + 4 + msg->value_len;
}

int exrbc_msg_encode(const exrbc_msg_t *msg, uint8_t *buf, size_t cap, size_t *len)
{
	if (msg->kind < EXRBC_VALUE || msg->kind > EXRBC_READY ||
	    (msg->kind != EXRBC_READY && msg->value_len > EXRBC_VALUE_MAX)) {
		return BFT_EINVAL;
	}
	bft_wire_w_t w;
	bft_wire_w_init(&w, buf, cap);
	bft_wire_put_u8(&w, (uint8_t)msg->kind);
	if (msg->kind == EXRBC_READY) {
		bft_wire_put_raw(&w, msg->digest, EXRBC_DIGEST_LEN);
	} else {
		bft_wire_put_bytes(&w, msg->value, msg->value_len);
	}
	if (!bft_wire_w_ok(&w)) {
		return BFT_ESPACE;
	}
	assert(w.len == exrbc_msg_size(msg));
	*len = w.len;
	return BFT_EOK;
}

int exrbc_msg_decode(const uint8_t *buf, size_t len, exrbc_msg_t *msg)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, buf, len);
	memset(msg, 0, sizeof(*msg));
	uint8_t kind = bft_wire_get_u8(&r);
	if (kind == EXRBC_VALUE || kind == EXRBC_ECHO) {
		bft_wire_get_bytes(&r, EXRBC_VALUE_MAX, &msg->value, &msg->value_len);
	} else if (kind == EXRBC_READY) {
		const uint8_t *digest = NULL;
		bft_wire_get_raw(&r, EXRBC_DIGEST_LEN, &digest);
		if (digest != NULL) {
			memcpy(msg->digest, digest, EXRBC_DIGEST_LEN);
		}
	} else {
		bft_wire_r_fail(&r);
	}
	if (!bft_wire_r_done(&r)) {
		memset(msg, 0, sizeof(*msg));
		return BFT_EMALF;
	}
	msg->kind = (exrbc_kind_t)kind;
	return BFT_EOK;
}

static void rbc_digest(const uint8_t *value, size_t len, uint8_t out[EXRBC_DIGEST_LEN])
{
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, len, value);
	sha256_digest(&ctx, EXRBC_DIGEST_LEN, out);
}

int exrbc_create(const bft_params_t *params, exrbc_t **out)
{
	if (out == NULL || bft_params_check(params) != BFT_EOK) {
		return BFT_EINVAL;
	}
	const exrbc_conf_t *conf = params->conf;
	if (conf != NULL && conf->proposer >= params->n) {
		return BFT_EINVAL;
	}
	exrbc_t *rbc = calloc(1, sizeof(*rbc));
	if (rbc == NULL) {
		return BFT_ENOMEM;
	}
	rbc->params = *params;
	rbc->proposer = conf != NULL ? conf->proposer : 0;
	*out = rbc;
	return BFT_EOK;
}

void exrbc_destroy(exrbc_t *rbc)
{
	if (rbc == NULL) {
		return;
	}
	for (unsigned i = 0; i < BFT_NODES_MAX; i++) {
		free(rbc->echo_value[i]);
	}
	free(rbc);
}

bool exrbc_terminated(const exrbc_t *rbc)
{
	return rbc->delivered;
}

/* Encodes msg and sends it to every node, this one included. */
static int rbc_send_all(exrbc_t *rbc, const exrbc_msg_t *msg, bft_step_t *step)
{
	size_t size = exrbc_msg_size(msg), len = 0;
	uint8_t *buf = malloc(size);
	if (buf == NULL) {
		return BFT_ENOMEM;
	}
	int ret = exrbc_msg_encode(msg, buf, size, &len);
	if (ret == BFT_EOK) {
		ret = bft_step_send(step, bft_nodeset_all(rbc->params.n), buf, len);
	}
	free(buf);
	return ret;
}

/* Senders in `from` whose recorded digest equals digest. */
static unsigned rbc_count(const uint8_t table[][EXRBC_DIGEST_LEN], bft_nodeset_t from,
                          unsigned n, const uint8_t *digest)
{
	unsigned count = 0;
	for (unsigned i = 0; i < n; i++) {
		if (bft_nodeset_has(from, (bft_node_t)i) &&
		    memcmp(table[i], digest, EXRBC_DIGEST_LEN) == 0) {
			count++;
		}
	}
	return count;
}

static int rbc_send_ready(exrbc_t *rbc, const uint8_t *digest, bft_step_t *step)
{
	exrbc_msg_t ready = { .kind = EXRBC_READY };
	memcpy(ready.digest, digest, EXRBC_DIGEST_LEN);
	rbc->readied = true;
	return rbc_send_all(rbc, &ready, step);
}

/* Delivers once 2f + 1 READY agree on a digest whose value we hold. */
static int rbc_try_deliver(exrbc_t *rbc, const uint8_t *digest, bft_step_t *step)
{
	unsigned n = rbc->params.n, f = rbc->params.f;
	if (rbc->delivered || rbc_count(rbc->ready_digest, rbc->ready_from, n, digest) < 2 * f + 1) {
		return BFT_EOK;
	}
	for (unsigned i = 0; i < n; i++) {
		if (bft_nodeset_has(rbc->echo_from, (bft_node_t)i) &&
		    memcmp(rbc->echo_digest[i], digest, EXRBC_DIGEST_LEN) == 0) {
			rbc->delivered = true;
			return bft_step_output(step, EXRBC_OUTPUT_VALUE,
			                       rbc->echo_value[i], rbc->echo_len[i]);
		}
	}
	return BFT_EOK;  /* The value comes with a correct node's ECHO later. */
}

int exrbc_handle_input(exrbc_t *rbc, const uint8_t *value, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	assert(rbc != NULL && step != NULL);
	if (rbc->params.self != rbc->proposer || rbc->proposed ||
	    len > EXRBC_VALUE_MAX || (len > 0 && value == NULL)) {
		return BFT_EINVAL;
	}
	rbc->proposed = true;
	exrbc_msg_t msg = { .kind = EXRBC_VALUE, .value = value, .value_len = len };
	return rbc_send_all(rbc, &msg, step);
}

static int rbc_on_value(exrbc_t *rbc, bft_node_t from, const exrbc_msg_t *msg, bft_step_t *step)
{
	uint8_t digest[EXRBC_DIGEST_LEN];
	rbc_digest(msg->value, msg->value_len, digest);
	if (from != rbc->proposer) {
		bft_step_fault(step, from, BFT_FAULT_UNEXPECTED);
		return BFT_EOK;
	}
	if (rbc->got_value) {
		bool same = memcmp(digest, rbc->value_digest, EXRBC_DIGEST_LEN) == 0;
		bft_step_fault(step, from, same ? BFT_FAULT_DUPLICATE : BFT_FAULT_EQUIVOCATION);
		return BFT_EOK;
	}
	rbc->got_value = true;
	memcpy(rbc->value_digest, digest, EXRBC_DIGEST_LEN);
	rbc->echoed = true;
	exrbc_msg_t echo = { .kind = EXRBC_ECHO, .value = msg->value, .value_len = msg->value_len };
	return rbc_send_all(rbc, &echo, step);
}

static int rbc_on_echo(exrbc_t *rbc, bft_node_t from, const exrbc_msg_t *msg, bft_step_t *step)
{
	uint8_t digest[EXRBC_DIGEST_LEN];
	rbc_digest(msg->value, msg->value_len, digest);
	if (bft_nodeset_has(rbc->echo_from, from)) {
		bool same = memcmp(digest, rbc->echo_digest[from], EXRBC_DIGEST_LEN) == 0;
		bft_step_fault(step, from, same ? BFT_FAULT_DUPLICATE : BFT_FAULT_EQUIVOCATION);
		return BFT_EOK;
	}
	uint8_t *copy = malloc(msg->value_len > 0 ? msg->value_len : 1);
	if (copy == NULL) {
		return BFT_ENOMEM;
	}
	if (msg->value_len > 0) {
		memcpy(copy, msg->value, msg->value_len);
	}
	rbc->echo_value[from] = copy;
	rbc->echo_len[from] = msg->value_len;
	memcpy(rbc->echo_digest[from], digest, EXRBC_DIGEST_LEN);
	rbc->echo_from |= bft_nodeset_one(from);

	unsigned n = rbc->params.n, f = rbc->params.f;
	if (!rbc->readied && rbc_count(rbc->echo_digest, rbc->echo_from, n, digest) >= n - f) {
		int ret = rbc_send_ready(rbc, digest, step);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	return rbc_try_deliver(rbc, digest, step);
}

static int rbc_on_ready(exrbc_t *rbc, bft_node_t from, const exrbc_msg_t *msg, bft_step_t *step)
{
	if (bft_nodeset_has(rbc->ready_from, from)) {
		bool same = memcmp(msg->digest, rbc->ready_digest[from], EXRBC_DIGEST_LEN) == 0;
		bft_step_fault(step, from, same ? BFT_FAULT_DUPLICATE : BFT_FAULT_EQUIVOCATION);
		return BFT_EOK;
	}
	memcpy(rbc->ready_digest[from], msg->digest, EXRBC_DIGEST_LEN);
	rbc->ready_from |= bft_nodeset_one(from);

	unsigned n = rbc->params.n, f = rbc->params.f;
	if (!rbc->readied && rbc_count(rbc->ready_digest, rbc->ready_from, n, msg->digest) >= f + 1) {
		int ret = rbc_send_ready(rbc, msg->digest, step);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	return rbc_try_deliver(rbc, msg->digest, step);
}

int exrbc_handle_message(exrbc_t *rbc, bft_node_t from, const uint8_t *msg, size_t len,
                         const bft_env_t *env, bft_step_t *step)
{
	assert(rbc != NULL && step != NULL);
	if (from >= rbc->params.n) {
		return BFT_EINVAL;  /* The driver maps peers to indices: our bug. */
	}
	exrbc_msg_t decoded;
	if (exrbc_msg_decode(msg, len, &decoded) != BFT_EOK) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return BFT_EOK;
	}
	switch (decoded.kind) {
	case EXRBC_VALUE: return rbc_on_value(rbc, from, &decoded, step);
	case EXRBC_ECHO:  return rbc_on_echo(rbc, from, &decoded, step);
	case EXRBC_READY: return rbc_on_ready(rbc, from, &decoded, step);
	}
	assert(0 && "decode returned an unknown kind");
	return BFT_EINVAL;
}

/* The generic view. */

static int ops_create(const bft_params_t *params, void **proto)
{
	return exrbc_create(params, (exrbc_t **)proto);
}

static void ops_destroy(void *proto)
{
	exrbc_destroy(proto);
}

static int ops_input(void *proto, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	return exrbc_handle_input(proto, input, len, env, step);
}

static int ops_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	return exrbc_handle_message(proto, from, msg, len, env, step);
}

static bool ops_terminated(const void *proto)
{
	return exrbc_terminated(proto);
}

const bft_protocol_ops_t exrbc_ops = {
	.name = "example-rbc",
	.create = ops_create,
	.destroy = ops_destroy,
	.handle_input = ops_input,
	.handle_message = ops_message,
	.terminated = ops_terminated,
	.fault_name = NULL,
};
