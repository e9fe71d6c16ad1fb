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

#include "coordinator/proto/aba.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/wire.h"

/* What we heard about one round; slots form a ring indexed by round. */
typedef struct {
	bft_nodeset_t bval[2];
	bft_nodeset_t aux[2];
	bft_nodeset_t conf[3];     /*!< conf[s - 1]: senders of CONF(s). */
	pcoin_t *coin;             /*!< Threshold-coin rounds, made on first need. */
} aba_slot_t;

struct aba {
	bft_params_t params;
	pcoin_keys_t keys;
	uint8_t coin_name[COIN_NAME_MAX];
	size_t coin_prefix_len;
	bool coin_every_round;

	uint32_t round;
	int est;                   /*!< -1: none yet. */
	bool has_input;
	/* This round's progress. */
	bool sent_bval[2];
	uint8_t bin_values;        /*!< Bit b: value b. */
	bool sent_aux;
	bool sent_conf;
	uint8_t conf_vals;
	bool coin_invoked;
	aba_slot_t slots[ABA_ROUNDS_AHEAD];

	bft_nodeset_t term[2];
	int decision;              /*!< -1: none yet. */
};

/* Encoding: kind u8; TERM: u8 value; else u32 round, then BVAL/AUX: u8
 * value 0..1, CONF: u8 set 1..3, COIN: COIN_SHARE_LEN raw bytes. */

int aba_msg_encode(const aba_msg_t *msg, uint8_t *buf, size_t cap, size_t *len)
{
	bft_wire_w_t w;
	bft_wire_w_init(&w, buf, cap);
	bft_wire_put_u8(&w, (uint8_t)msg->kind);
	if (msg->kind != ABA_TERM) {
		bft_wire_put_u32(&w, msg->round);
	}
	switch (msg->kind) {
	case ABA_BVAL: case ABA_AUX: case ABA_TERM:
		if (msg->value > 1) {
			return BFT_EINVAL;
		}
		bft_wire_put_u8(&w, msg->value);
		break;
	case ABA_CONF:
		if (msg->value < 1 || msg->value > 3) {
			return BFT_EINVAL;
		}
		bft_wire_put_u8(&w, msg->value);
		break;
	case ABA_COIN:
		bft_wire_put_raw(&w, msg->share, COIN_SHARE_LEN);
		break;
	default:
		return BFT_EINVAL;
	}
	if (!bft_wire_w_ok(&w)) {
		return BFT_ESPACE;
	}
	*len = w.len;
	return BFT_EOK;
}

int aba_msg_decode(const uint8_t *buf, size_t len, aba_msg_t *msg)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, buf, len);
	memset(msg, 0, sizeof(*msg));
	uint8_t kind = bft_wire_get_u8(&r);
	if (kind != ABA_TERM) {
		msg->round = bft_wire_get_u32(&r);
	}
	switch (kind) {
	case ABA_BVAL: case ABA_AUX: case ABA_TERM:
		msg->value = bft_wire_get_u8(&r);
		if (msg->value > 1) {
			bft_wire_r_fail(&r);
		}
		break;
	case ABA_CONF:
		msg->value = bft_wire_get_u8(&r);
		if (msg->value < 1 || msg->value > 3) {
			bft_wire_r_fail(&r);
		}
		break;
	case ABA_COIN:
		bft_wire_get_raw(&r, COIN_SHARE_LEN, &msg->share);
		break;
	default:
		bft_wire_r_fail(&r);
	}
	if (!bft_wire_r_done(&r)) {
		memset(msg, 0, sizeof(*msg));
		return BFT_EMALF;
	}
	msg->kind = (aba_kind_t)kind;
	return BFT_EOK;
}

int aba_create(const bft_params_t *params, aba_t **out)
{
	if (out == NULL || bft_params_check(params) != BFT_EOK || params->conf == NULL) {
		return BFT_EINVAL;
	}
	const aba_conf_t *conf = params->conf;
	if (conf->coin_name == NULL || conf->coin_name_len == 0 ||
	    conf->coin_name_len > ABA_COIN_PREFIX_MAX ||
	    pcoin_keys_secret(&conf->coin, params) == NULL) {
		return BFT_EINVAL;
	}
	aba_t *aba = calloc(1, sizeof(*aba));
	if (aba == NULL) {
		return BFT_ENOMEM;
	}
	aba->params = *params;
	aba->params.conf = NULL;
	aba->keys = conf->coin;
	memcpy(aba->coin_name, conf->coin_name, conf->coin_name_len);
	aba->coin_prefix_len = conf->coin_name_len;
	aba->coin_every_round = conf->coin_every_round;
	aba->est = -1;
	aba->decision = -1;
	*out = aba;
	return BFT_EOK;
}

static void aba_slot_clear(aba_slot_t *slot)
{
	pcoin_destroy(slot->coin);
	memset(slot, 0, sizeof(*slot));
}

void aba_destroy(aba_t *aba)
{
	if (aba == NULL) {
		return;
	}
	for (unsigned i = 0; i < ABA_ROUNDS_AHEAD; i++) {
		aba_slot_clear(&aba->slots[i]);
	}
	free(aba);
}

bool aba_terminated(const aba_t *aba)
{
	return aba->decision >= 0;
}

int aba_decision(const aba_t *aba)
{
	return aba->decision;
}

uint32_t aba_round(const aba_t *aba)
{
	return aba->round;
}

static aba_slot_t *aba_slot(aba_t *aba, uint32_t round)
{
	assert(round >= aba->round && round - aba->round < ABA_ROUNDS_AHEAD);
	return &aba->slots[round % ABA_ROUNDS_AHEAD];
}

/* -1: the threshold coin; else the fixed coin of the round. */
static int aba_fixed_coin(const aba_t *aba, uint32_t round)
{
	if (aba->coin_every_round) {
		return -1;
	}
	switch (round % 3) {
	case 0:  return 1;
	case 1:  return 0;
	default: return -1;
	}
}

static int aba_send(aba_t *aba, aba_kind_t kind, uint8_t value, const uint8_t *share,
                    bft_step_t *step)
{
	aba_msg_t msg = { .kind = kind, .round = aba->round, .value = value, .share = share };
	uint8_t buf[8 + COIN_SHARE_LEN];
	size_t len = 0;
	int ret = aba_msg_encode(&msg, buf, sizeof(buf), &len);
	assert(ret == BFT_EOK);
	return bft_step_send(step, bft_nodeset_all(aba->params.n), buf, len);
}

static int aba_send_bval(aba_t *aba, int b, bft_step_t *step)
{
	assert(b == 0 || b == 1);
	assert(!aba->sent_bval[b]);
	aba->sent_bval[b] = true;
	return aba_send(aba, ABA_BVAL, (uint8_t)b, NULL, step);
}

static int aba_decide(aba_t *aba, int b, bft_step_t *step)
{
	assert(aba->decision < 0 && (b == 0 || b == 1));
	aba->decision = b;
	uint8_t out = (uint8_t)b;
	int ret = bft_step_output(step, ABA_OUTPUT_DECISION, &out, 1);
	if (ret == BFT_EOK) {
		ret = aba_send(aba, ABA_TERM, out, NULL, step);
	}
	/* Nothing more to do: free the coins now rather than at destroy. */
	for (unsigned i = 0; i < ABA_ROUNDS_AHEAD; i++) {
		aba_slot_clear(&aba->slots[i]);
	}
	return ret;
}

/* A TERM(b) stands for the sender's BVAL(b), AUX(b) and CONF({b}). */
static bft_nodeset_t aba_bval_from(const aba_t *aba, const aba_slot_t *slot, int b)
{
	return slot->bval[b] | aba->term[b];
}

static bft_nodeset_t aba_aux_from(const aba_t *aba, const aba_slot_t *slot, int b)
{
	return slot->aux[b] | aba->term[b];
}

/* Senders of a CONF whose set lies within bin_values. */
static bft_nodeset_t aba_conf_within(const aba_t *aba, const aba_slot_t *slot)
{
	bft_nodeset_t from = 0;
	for (uint8_t s = 1; s <= 3; s++) {
		if ((s & ~aba->bin_values) == 0) {
			from |= slot->conf[s - 1];
		}
	}
	if (aba->bin_values & 1) {
		from |= aba->term[0];
	}
	if (aba->bin_values & 2) {
		from |= aba->term[1];
	}
	return from;
}

/* BVAL relay, bin_values and the first AUX. */
static int aba_step_bval(aba_t *aba, aba_slot_t *slot, bft_step_t *step)
{
	unsigned f = aba->params.f;
	for (int b = 0; b <= 1; b++) {
		unsigned count = bft_nodeset_count(aba_bval_from(aba, slot, b));
		int ret = BFT_EOK;
		if (count >= f + 1 && !aba->sent_bval[b]) {
			ret = aba_send_bval(aba, b, step);
		}
		if (ret == BFT_EOK && count >= 2 * f + 1 && !(aba->bin_values & (1u << b))) {
			aba->bin_values |= (uint8_t)(1u << b);
			if (!aba->sent_aux) {
				aba->sent_aux = true;
				ret = aba_send(aba, ABA_AUX, (uint8_t)b, NULL, step);
			}
		}
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	return BFT_EOK;
}

/* n - f AUX with values in bin_values: CONF(vals). */
static int aba_step_aux(aba_t *aba, aba_slot_t *slot, bft_step_t *step)
{
	if (aba->sent_conf || aba->bin_values == 0) {
		return BFT_EOK;
	}
	bft_nodeset_t from = 0;
	uint8_t vals = 0;
	for (int b = 0; b <= 1; b++) {
		bft_nodeset_t aux = aba_aux_from(aba, slot, b);
		if ((aba->bin_values & (1u << b)) && aux != 0) {
			from |= aux;
			vals |= (uint8_t)(1u << b);
		}
	}
	if (bft_nodeset_count(from) < (unsigned)(aba->params.n - aba->params.f)) {
		return BFT_EOK;
	}
	assert(vals != 0 && (vals & ~aba->bin_values) == 0);
	aba->sent_conf = true;
	aba->conf_vals = vals;
	return aba_send(aba, ABA_CONF, vals, NULL, step);
}

static int aba_slot_coin(aba_t *aba, uint32_t round, aba_slot_t *slot)
{
	if (slot->coin != NULL) {
		return BFT_EOK;
	}
	uint8_t *at = aba->coin_name + aba->coin_prefix_len;
	at[0] = (uint8_t)(round >> 24);
	at[1] = (uint8_t)(round >> 16);
	at[2] = (uint8_t)(round >> 8);
	at[3] = (uint8_t)round;
	return pcoin_create(&aba->params, &aba->keys, aba->coin_name, aba->coin_prefix_len + 4,
	                    &slot->coin);
}

/* n - f CONF within bin_values: invoke the coin (once). */
static int aba_step_conf(aba_t *aba, aba_slot_t *slot, bft_step_t *step)
{
	if (!aba->sent_conf || aba->coin_invoked ||
	    bft_nodeset_count(aba_conf_within(aba, slot)) < (unsigned)(aba->params.n - aba->params.f)) {
		return BFT_EOK;
	}
	aba->coin_invoked = true;
	if (aba_fixed_coin(aba, aba->round) >= 0) {
		return BFT_EOK;
	}
	int ret = aba_slot_coin(aba, aba->round, slot);
	uint8_t share[COIN_SHARE_LEN];
	if (ret == BFT_EOK) {
		ret = pcoin_start(slot->coin, share, step);
	}
	if (ret == BFT_EOK) {
		ret = aba_send(aba, ABA_COIN, 0, share, step);
	}
	return ret;
}

/* The coin of this round, or -1 while unknown. */
static int aba_coin_value(const aba_t *aba, const aba_slot_t *slot)
{
	if (!aba->coin_invoked) {
		return -1;
	}
	int fixed = aba_fixed_coin(aba, aba->round);
	if (fixed >= 0) {
		return fixed;
	}
	return slot->coin != NULL && pcoin_done(slot->coin) ? pcoin_bit(slot->coin) : -1;
}

/* Ends the round with coin s: decide, or go on with the new estimate. */
static int aba_end_round(aba_t *aba, int s, bft_step_t *step)
{
	assert(aba->conf_vals >= 1 && aba->conf_vals <= 3);
	if (aba->conf_vals != 3) {
		int b = aba->conf_vals == 2 ? 1 : 0;
		aba->est = b;
		if (b == s) {
			return aba_decide(aba, b, step);
		}
	} else {
		aba->est = s;
	}
	assert(aba->round < UINT32_MAX - ABA_ROUNDS_AHEAD);
	aba_slot_clear(aba_slot(aba, aba->round));
	aba->round++;
	aba->sent_bval[0] = aba->sent_bval[1] = false;
	aba->bin_values = 0;
	aba->sent_aux = aba->sent_conf = aba->coin_invoked = false;
	aba->conf_vals = 0;
	return aba_send_bval(aba, aba->est, step);
}

/* Runs the current round as far as the messages allow; a round that ends
 * may find the next one's messages already here, hence the (bounded) loop. */
static int aba_progress(aba_t *aba, bft_step_t *step)
{
	for (unsigned k = 0; k <= ABA_ROUNDS_AHEAD && aba->decision < 0; k++) {
		aba_slot_t *slot = aba_slot(aba, aba->round);
		int ret = aba_step_bval(aba, slot, step);
		if (ret == BFT_EOK) {
			ret = aba_step_aux(aba, slot, step);
		}
		if (ret == BFT_EOK) {
			ret = aba_step_conf(aba, slot, step);
		}
		if (ret != BFT_EOK) {
			return ret;
		}
		int s = aba_coin_value(aba, slot);
		if (s < 0) {
			return BFT_EOK;
		}
		ret = aba_end_round(aba, s, step);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	return BFT_EOK;
}

int aba_handle_input(aba_t *aba, bool value, const bft_env_t *env, bft_step_t *step)
{
	assert(aba != NULL && step != NULL);
	if (aba->has_input) {
		return BFT_EINVAL;
	}
	aba->has_input = true;
	if (aba->decision >= 0 || aba->round != 0 || aba->est >= 0) {
		return BFT_EOK;  /* Went on without our input: allowed, nothing to do. */
	}
	aba->est = value;
	int ret = aba->sent_bval[value] ? BFT_EOK : aba_send_bval(aba, value, step);
	return ret == BFT_EOK ? aba_progress(aba, step) : ret;
}

/* Records a one-per-sender message (AUX, CONF): false if it is a repeat. */
static bool aba_record_once(bft_nodeset_t *sets, unsigned count, unsigned index,
                            bft_node_t from, bft_step_t *step)
{
	for (unsigned i = 0; i < count; i++) {
		if (bft_nodeset_has(sets[i], from)) {
			bft_step_fault(step, from, i == index ? BFT_FAULT_DUPLICATE
			                                      : BFT_FAULT_EQUIVOCATION);
			return false;
		}
	}
	sets[index] |= bft_nodeset_one(from);
	return true;
}

static int aba_on_term(aba_t *aba, bft_node_t from, int b, bft_step_t *step)
{
	if (!aba_record_once(aba->term, 2, (unsigned)b, from, step)) {
		return BFT_EOK;
	}
	if (bft_nodeset_count(aba->term[b]) >= aba->params.f + 1u) {
		return aba_decide(aba, b, step);  /* One of them is correct. */
	}
	return aba_progress(aba, step);
}

static int aba_on_coin(aba_t *aba, bft_node_t from, const aba_msg_t *msg, aba_slot_t *slot,
                       bft_step_t *step)
{
	if (aba_fixed_coin(aba, msg->round) >= 0) {
		bft_step_fault(step, from, BFT_FAULT_UNEXPECTED);
		return BFT_EOK;
	}
	int ret = aba_slot_coin(aba, msg->round, slot);
	if (ret == BFT_EOK) {
		ret = pcoin_handle_share(slot->coin, from, msg->share, COIN_SHARE_LEN, step);
	}
	return ret;
}

static int aba_on_round_msg(aba_t *aba, bft_node_t from, const aba_msg_t *msg, bft_step_t *step)
{
	if (msg->round < aba->round) {
		return BFT_EOK;  /* A slow correct node's old round. */
	}
	if (msg->round - aba->round >= ABA_ROUNDS_AHEAD) {
		bft_step_fault(step, from, BFT_FAULT_FUTURE);
		return BFT_EOK;
	}
	aba_slot_t *slot = aba_slot(aba, msg->round);
	switch (msg->kind) {
	case ABA_BVAL:
		if (bft_nodeset_has(slot->bval[msg->value], from)) {
			bft_step_fault(step, from, BFT_FAULT_DUPLICATE);
			return BFT_EOK;
		}
		slot->bval[msg->value] |= bft_nodeset_one(from);
		break;
	case ABA_AUX:
		if (!aba_record_once(slot->aux, 2, msg->value, from, step)) {
			return BFT_EOK;
		}
		break;
	case ABA_CONF:
		if (!aba_record_once(slot->conf, 3, msg->value - 1u, from, step)) {
			return BFT_EOK;
		}
		break;
	case ABA_COIN: {
		int ret = aba_on_coin(aba, from, msg, slot, step);
		if (ret != BFT_EOK) {
			return ret;
		}
		break;
	}
	default:
		assert(0 && "not a round message");
		return BFT_EINVAL;
	}
	return msg->round == aba->round ? aba_progress(aba, step) : BFT_EOK;
}

int aba_handle_message(aba_t *aba, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	assert(aba != NULL && step != NULL);
	if (from >= aba->params.n) {
		return BFT_EINVAL;
	}
	aba_msg_t decoded;
	if (aba_msg_decode(msg, len, &decoded) != BFT_EOK) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return BFT_EOK;
	}
	if (aba->decision >= 0) {
		return BFT_EOK;  /* Decided and said so with TERM: nothing left to do. */
	}
	if (decoded.kind == ABA_TERM) {
		return aba_on_term(aba, from, decoded.value, step);
	}
	return aba_on_round_msg(aba, from, &decoded, step);
}

/* The generic view: input is one byte, 0 or 1. */

static int ops_create(const bft_params_t *params, void **proto)
{
	return aba_create(params, (aba_t **)proto);
}

static void ops_destroy(void *proto)
{
	aba_destroy(proto);
}

static int ops_input(void *proto, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	if (len != 1 || input[0] > 1) {
		return BFT_EINVAL;
	}
	return aba_handle_input(proto, input[0] == 1, env, step);
}

static int ops_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	return aba_handle_message(proto, from, msg, len, env, step);
}

static bool ops_terminated(const void *proto)
{
	return aba_terminated(proto);
}

const bft_protocol_ops_t aba_ops = {
	.name = "aba",
	.create = ops_create,
	.destroy = ops_destroy,
	.handle_input = ops_input,
	.handle_message = ops_message,
	.terminated = ops_terminated,
	.fault_name = NULL,
};
