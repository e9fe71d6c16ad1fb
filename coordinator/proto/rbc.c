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
#include "coordinator/proto/rbc.h"
#include "coordinator/proto/wire.h"

/* One stored value per distinct digest that some ECHO carried. */
typedef struct {
	uint8_t digest[RBC_DIGEST_LEN];
	uint8_t *data;
	size_t len;
} rbc_copy_t;

struct rbc {
	bft_params_t params;
	bft_node_t proposer;
	size_t value_max;
	bool proposed;          /*!< The proposer took its input. */
	bool got_value;         /*!< A VALUE came from the proposer. */
	uint8_t value_digest[RBC_DIGEST_LEN];
	bool readied;
	bool delivered;
	bool split_blamed;      /*!< The proposer was blamed for two values. */
	bft_nodeset_t echo_from;
	uint8_t echo_digest[BFT_NODES_MAX][RBC_DIGEST_LEN];
	bft_nodeset_t ready_from;
	uint8_t ready_digest[BFT_NODES_MAX][RBC_DIGEST_LEN];
	rbc_copy_t copies[BFT_NODES_MAX];
	unsigned copy_count;
	uint8_t *out;           /*!< The delivered value. */
	size_t out_len;
};

/* Encoding: kind u8, then VALUE/ECHO: u32 length + value; READY: 32 bytes. */

size_t rbc_msg_size(const rbc_msg_t *msg)
{
	return msg->kind == RBC_READY ? 1 + RBC_DIGEST_LEN : 1 + 4 + msg->value_len;
}

int rbc_msg_encode(const rbc_msg_t *msg, uint8_t *buf, size_t cap, size_t *len)
{
	if (msg->kind < RBC_VALUE || msg->kind > RBC_READY ||
	    (msg->kind != RBC_READY && msg->value_len > RBC_VALUE_MAX)) {
		return BFT_EINVAL;
	}
	bft_wire_w_t w;
	bft_wire_w_init(&w, buf, cap);
	bft_wire_put_u8(&w, (uint8_t)msg->kind);
	if (msg->kind == RBC_READY) {
		bft_wire_put_raw(&w, msg->digest, RBC_DIGEST_LEN);
	} else {
		bft_wire_put_bytes(&w, msg->value, msg->value_len);
	}
	if (!bft_wire_w_ok(&w)) {
		return BFT_ESPACE;
	}
	assert(w.len == rbc_msg_size(msg));
	*len = w.len;
	return BFT_EOK;
}

int rbc_msg_decode(const uint8_t *buf, size_t len, size_t value_max, rbc_msg_t *msg)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, buf, len);
	memset(msg, 0, sizeof(*msg));
	uint8_t kind = bft_wire_get_u8(&r);
	if (kind == RBC_VALUE || kind == RBC_ECHO) {
		bft_wire_get_bytes(&r, value_max, &msg->value, &msg->value_len);
	} else if (kind == RBC_READY) {
		const uint8_t *digest = NULL;
		bft_wire_get_raw(&r, RBC_DIGEST_LEN, &digest);
		if (digest != NULL) {
			memcpy(msg->digest, digest, RBC_DIGEST_LEN);
		}
	} else {
		bft_wire_r_fail(&r);
	}
	if (!bft_wire_r_done(&r)) {
		memset(msg, 0, sizeof(*msg));
		return BFT_EMALF;
	}
	msg->kind = (rbc_kind_t)kind;
	return BFT_EOK;
}

static void rbc_digest(const uint8_t *value, size_t len, uint8_t out[RBC_DIGEST_LEN])
{
	struct sha256_ctx ctx;
	sha256_init(&ctx);
	sha256_update(&ctx, len, value);
	sha256_digest(&ctx, RBC_DIGEST_LEN, out);
}

int rbc_create(const bft_params_t *params, rbc_t **out)
{
	if (out == NULL || bft_params_check(params) != BFT_EOK) {
		return BFT_EINVAL;
	}
	const rbc_conf_t *conf = params->conf;
	if (conf != NULL && (conf->proposer >= params->n || conf->value_max > RBC_VALUE_MAX)) {
		return BFT_EINVAL;
	}
	rbc_t *rbc = calloc(1, sizeof(*rbc));
	if (rbc == NULL) {
		return BFT_ENOMEM;
	}
	rbc->params = *params;
	rbc->params.conf = NULL;  /* Read once here; the caller may reuse it. */
	rbc->proposer = conf != NULL ? conf->proposer : 0;
	rbc->value_max = conf != NULL && conf->value_max > 0 ? conf->value_max : RBC_VALUE_MAX;
	*out = rbc;
	return BFT_EOK;
}

static void rbc_free_copies(rbc_t *rbc)
{
	for (unsigned i = 0; i < rbc->copy_count; i++) {
		free(rbc->copies[i].data);
		rbc->copies[i].data = NULL;
	}
	rbc->copy_count = 0;
}

void rbc_destroy(rbc_t *rbc)
{
	if (rbc == NULL) {
		return;
	}
	rbc_free_copies(rbc);
	free(rbc->out);
	free(rbc);
}

bool rbc_terminated(const rbc_t *rbc)
{
	return rbc->delivered;
}

bool rbc_has_proposal(const rbc_t *rbc)
{
	return rbc->got_value;
}

const uint8_t *rbc_value(const rbc_t *rbc, size_t *len)
{
	*len = rbc->delivered ? rbc->out_len : 0;
	if (!rbc->delivered) {
		return NULL;
	}
	/* An empty value has no buffer; a non-NULL pointer still says "delivered". */
	return rbc->out != NULL ? rbc->out : (const uint8_t *)"";
}

/* VALUE or ECHO to everyone: header and value without a copy. */
static int rbc_send_value(rbc_t *rbc, rbc_kind_t kind, const uint8_t *value, size_t len,
                          bft_step_t *step)
{
	assert(len <= rbc->value_max);
	uint8_t hdr[5];
	bft_wire_w_t w;
	bft_wire_w_init(&w, hdr, sizeof(hdr));
	bft_wire_put_u8(&w, (uint8_t)kind);
	bft_wire_put_u32(&w, (uint32_t)len);
	assert(bft_wire_w_ok(&w) && w.len == sizeof(hdr));
	return bft_step_send2(step, bft_nodeset_all(rbc->params.n), hdr, sizeof(hdr), value, len);
}

static int rbc_send_ready(rbc_t *rbc, const uint8_t *digest, bft_step_t *step)
{
	uint8_t msg[1 + RBC_DIGEST_LEN];
	msg[0] = RBC_READY;
	memcpy(msg + 1, digest, RBC_DIGEST_LEN);
	assert(!rbc->readied);
	rbc->readied = true;
	return bft_step_send(step, bft_nodeset_all(rbc->params.n), msg, sizeof(msg));
}

/* Senders in `from` whose recorded digest equals digest. */
static unsigned rbc_count(const uint8_t table[][RBC_DIGEST_LEN], bft_nodeset_t from,
                          unsigned n, const uint8_t *digest)
{
	unsigned count = 0;
	for (bft_node_t i = 0; i < n; i++) {
		if (bft_nodeset_has(from, i) && memcmp(table[i], digest, RBC_DIGEST_LEN) == 0) {
			count++;
		}
	}
	return count;
}

static rbc_copy_t *rbc_find_copy(rbc_t *rbc, const uint8_t *digest)
{
	for (unsigned i = 0; i < rbc->copy_count; i++) {
		if (memcmp(rbc->copies[i].digest, digest, RBC_DIGEST_LEN) == 0) {
			return &rbc->copies[i];
		}
	}
	return NULL;
}

/* Delivers once 2f + 1 READY agree on a digest whose value we hold. */
static int rbc_try_deliver(rbc_t *rbc, const uint8_t *digest, bft_step_t *step)
{
	unsigned n = rbc->params.n, f = rbc->params.f;
	if (rbc->delivered || rbc_count(rbc->ready_digest, rbc->ready_from, n, digest) < 2 * f + 1) {
		return BFT_EOK;
	}
	rbc_copy_t *copy = rbc_find_copy(rbc, digest);
	if (copy == NULL) {
		return BFT_EOK;  /* A correct node's ECHO with the value is on its way. */
	}
	/* 2f + 1 READY include f + 1 correct ones, so we have sent ours. */
	assert(rbc->readied);
	rbc->delivered = true;
	rbc->out = copy->data;
	rbc->out_len = copy->len;
	copy->data = NULL;
	rbc_free_copies(rbc);
	return bft_step_output(step, RBC_OUTPUT_VALUE, rbc->out, rbc->out_len);
}

int rbc_handle_input(rbc_t *rbc, const uint8_t *value, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	assert(rbc != NULL && step != NULL);
	if (rbc->params.self != rbc->proposer || rbc->proposed ||
	    len > rbc->value_max || (len > 0 && value == NULL)) {
		return BFT_EINVAL;
	}
	rbc->proposed = true;
	return rbc_send_value(rbc, RBC_VALUE, value, len, step);
}

static int rbc_on_value(rbc_t *rbc, bft_node_t from, const rbc_msg_t *msg, bft_step_t *step)
{
	uint8_t digest[RBC_DIGEST_LEN];
	if (from != rbc->proposer) {
		bft_step_fault(step, from, BFT_FAULT_UNEXPECTED);
		return BFT_EOK;
	}
	rbc_digest(msg->value, msg->value_len, digest);
	if (rbc->got_value) {
		bool same = memcmp(digest, rbc->value_digest, RBC_DIGEST_LEN) == 0;
		bft_step_fault(step, from, same ? BFT_FAULT_DUPLICATE : BFT_FAULT_EQUIVOCATION);
		return BFT_EOK;
	}
	rbc->got_value = true;
	memcpy(rbc->value_digest, digest, RBC_DIGEST_LEN);
	return rbc_send_value(rbc, RBC_ECHO, msg->value, msg->value_len, step);
}

/* Keeps one copy per distinct digest: at most one per ECHO sender. */
static int rbc_store_copy(rbc_t *rbc, const uint8_t *digest, const rbc_msg_t *msg)
{
	if (rbc_find_copy(rbc, digest) != NULL) {
		return BFT_EOK;
	}
	assert(rbc->copy_count < rbc->params.n);
	uint8_t *data = NULL;
	if (msg->value_len > 0) {
		data = malloc(msg->value_len);
		if (data == NULL) {
			return BFT_ENOMEM;
		}
		memcpy(data, msg->value, msg->value_len);
	}
	rbc_copy_t *copy = &rbc->copies[rbc->copy_count++];
	memcpy(copy->digest, digest, RBC_DIGEST_LEN);
	copy->data = data;
	copy->len = msg->value_len;
	return BFT_EOK;
}

/*
 * f + 1 ECHOs for each of two values: a correct node echoes only what the
 * proposer sent it, and at most f of the senders are faulty, so correct
 * nodes were sent both values: the proposer equivocated (blamed once).
 * An honest proposer's instance never gets here: only faulty nodes echo
 * another value than its, at most f of them. Costs nothing while all
 * ECHOs carry one value (one stored copy).
 */
static void rbc_check_split(rbc_t *rbc, const uint8_t *digest, bft_step_t *step)
{
	unsigned n = rbc->params.n, f = rbc->params.f;
	if (rbc->split_blamed || rbc->copy_count < 2 ||
	    rbc_count(rbc->echo_digest, rbc->echo_from, n, digest) < f + 1) {
		return;
	}
	for (unsigned i = 0; i < rbc->copy_count; i++) {
		const uint8_t *other = rbc->copies[i].digest;
		if (memcmp(other, digest, RBC_DIGEST_LEN) != 0 &&
		    rbc_count(rbc->echo_digest, rbc->echo_from, n, other) >= f + 1) {
			rbc->split_blamed = true;
			bft_step_fault(step, rbc->proposer, BFT_FAULT_EQUIVOCATION);
			return;
		}
	}
}

static int rbc_on_echo(rbc_t *rbc, bft_node_t from, const rbc_msg_t *msg, bft_step_t *step)
{
	uint8_t digest[RBC_DIGEST_LEN];
	rbc_digest(msg->value, msg->value_len, digest);
	if (bft_nodeset_has(rbc->echo_from, from)) {
		bool same = memcmp(digest, rbc->echo_digest[from], RBC_DIGEST_LEN) == 0;
		bft_step_fault(step, from, same ? BFT_FAULT_DUPLICATE : BFT_FAULT_EQUIVOCATION);
		return BFT_EOK;
	}
	int ret = rbc_store_copy(rbc, digest, msg);
	if (ret != BFT_EOK) {
		return ret;
	}
	memcpy(rbc->echo_digest[from], digest, RBC_DIGEST_LEN);
	rbc->echo_from |= bft_nodeset_one(from);
	rbc_check_split(rbc, digest, step);

	unsigned n = rbc->params.n, f = rbc->params.f;
	if (!rbc->readied && rbc_count(rbc->echo_digest, rbc->echo_from, n, digest) >= n - f) {
		ret = rbc_send_ready(rbc, digest, step);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	return rbc_try_deliver(rbc, digest, step);
}

static int rbc_on_ready(rbc_t *rbc, bft_node_t from, const rbc_msg_t *msg, bft_step_t *step)
{
	if (bft_nodeset_has(rbc->ready_from, from)) {
		bool same = memcmp(msg->digest, rbc->ready_digest[from], RBC_DIGEST_LEN) == 0;
		bft_step_fault(step, from, same ? BFT_FAULT_DUPLICATE : BFT_FAULT_EQUIVOCATION);
		return BFT_EOK;
	}
	memcpy(rbc->ready_digest[from], msg->digest, RBC_DIGEST_LEN);
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

int rbc_handle_message(rbc_t *rbc, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	assert(rbc != NULL && step != NULL);
	if (from >= rbc->params.n) {
		return BFT_EINVAL;  /* The driver maps peers to indices: our bug. */
	}
	rbc_msg_t decoded;
	if (rbc_msg_decode(msg, len, rbc->value_max, &decoded) != BFT_EOK) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return BFT_EOK;
	}
	if (rbc->delivered) {
		return BFT_EOK;  /* Late messages of correct nodes: nothing left to do. */
	}
	switch (decoded.kind) {
	case RBC_VALUE: return rbc_on_value(rbc, from, &decoded, step);
	case RBC_ECHO:  return rbc_on_echo(rbc, from, &decoded, step);
	case RBC_READY: return rbc_on_ready(rbc, from, &decoded, step);
	}
	assert(0 && "decode returned an unknown kind");
	return BFT_EINVAL;
}

/* The generic view. */

static int ops_create(const bft_params_t *params, void **proto)
{
	return rbc_create(params, (rbc_t **)proto);
}

static void ops_destroy(void *proto)
{
	rbc_destroy(proto);
}

static int ops_input(void *proto, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	return rbc_handle_input(proto, input, len, env, step);
}

static int ops_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	return rbc_handle_message(proto, from, msg, len, env, step);
}

static bool ops_terminated(const void *proto)
{
	return rbc_terminated(proto);
}

const bft_protocol_ops_t rbc_ops = {
	.name = "rbc",
	.create = ops_create,
	.destroy = ops_destroy,
	.handle_input = ops_input,
	.handle_message = ops_message,
	.terminated = ops_terminated,
	.fault_name = NULL,
};
