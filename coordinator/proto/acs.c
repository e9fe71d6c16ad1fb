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
#include "coordinator/proto/acs.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/rbc.h"

struct acs {
	bft_params_t params;
	rbc_t *rbc[BFT_NODES_MAX];
	aba_t *aba[BFT_NODES_MAX];
	bool proposed;
	bool done;
	bft_nodeset_t delivered;     /*!< RBCs that delivered. */
	bft_nodeset_t aba_input;     /*!< ABAs given an input. */
	bft_nodeset_t decided;       /*!< ABAs that decided... */
	bft_nodeset_t decided_one;   /*!< ...and those that decided 1. */
	bft_step_t scratch;          /*!< The children's step, lifted after each call. */
};

static int acs_create_children(acs_t *acs, const acs_conf_t *conf)
{
	uint8_t name[ACS_NAME_MAX + 1];
	memcpy(name, conf->name, conf->name_len);
	for (bft_node_t j = 0; j < acs->params.n; j++) {
		rbc_conf_t rbc_conf = { .proposer = j, .value_max = conf->value_max };
		bft_params_t child = acs->params;
		child.conf = &rbc_conf;
		int ret = rbc_create(&child, &acs->rbc[j]);
		if (ret != BFT_EOK) {
			return ret;
		}
		/* Each ABA's coins are named by (our name, j, round). */
		name[conf->name_len] = (uint8_t)j;
		aba_conf_t aba_conf = {
			.coin = conf->coin,
			.coin_name = name,
			.coin_name_len = conf->name_len + 1,
			.coin_every_round = conf->coin_every_round,
		};
		child.conf = &aba_conf;
		ret = aba_create(&child, &acs->aba[j]);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	return BFT_EOK;
}

int acs_create(const bft_params_t *params, acs_t **out)
{
	if (out == NULL || bft_params_check(params) != BFT_EOK || params->conf == NULL) {
		return BFT_EINVAL;
	}
	const acs_conf_t *conf = params->conf;
	if (conf->name == NULL || conf->name_len == 0 || conf->name_len > ACS_NAME_MAX ||
	    conf->value_max > RBC_VALUE_MAX) {
		return BFT_EINVAL;
	}
	acs_t *acs = calloc(1, sizeof(*acs));
	if (acs == NULL) {
		return BFT_ENOMEM;
	}
	acs->params = *params;
	acs->params.conf = NULL;
	int ret = bft_step_init(&acs->scratch, BFT_MSG_MAX);
	if (ret == BFT_EOK) {
		ret = acs_create_children(acs, conf);
	}
	if (ret != BFT_EOK) {
		acs_destroy(acs);
		return ret;
	}
	*out = acs;
	return BFT_EOK;
}

void acs_destroy(acs_t *acs)
{
	if (acs == NULL) {
		return;
	}
	for (unsigned j = 0; j < BFT_NODES_MAX; j++) {
		rbc_destroy(acs->rbc[j]);
		aba_destroy(acs->aba[j]);
	}
	bft_step_deinit(&acs->scratch);
	free(acs);
}

bool acs_terminated(const acs_t *acs)
{
	return acs->done;
}

bool acs_proposed(const acs_t *acs)
{
	return acs->proposed;
}

bft_nodeset_t acs_proposers(const acs_t *acs)
{
	bft_nodeset_t set = 0;
	for (bft_node_t j = 0; j < acs->params.n; j++) {
		set |= rbc_has_proposal(acs->rbc[j]) ? bft_nodeset_one(j) : 0;
	}
	return set;
}

bft_nodeset_t acs_subset(const acs_t *acs)
{
	assert(acs->done);
	return acs->decided_one;
}

const uint8_t *acs_value(const acs_t *acs, bft_node_t j, size_t *len)
{
	assert(acs->done && bft_nodeset_has(acs->decided_one, j));
	const uint8_t *value = rbc_value(acs->rbc[j], len);
	assert(value != NULL);
	return value;
}

/* Lifts the scratch step of child (sub, j) into step and clears it. */
static int acs_lift(acs_t *acs, uint8_t sub, bft_node_t j, bft_step_t *step)
{
	const uint8_t hdr[2] = { sub, (uint8_t)j };
	int ret = bft_step_lift(step, &acs->scratch, hdr, sizeof(hdr));
	bft_step_clear(&acs->scratch);
	return ret;
}

static int acs_input_aba(acs_t *acs, bft_node_t j, bool value, const bft_env_t *env,
                         bft_step_t *step)
{
	assert(!bft_nodeset_has(acs->aba_input, j));
	acs->aba_input |= bft_nodeset_one(j);
	int ret = aba_handle_input(acs->aba[j], value, env, &acs->scratch);
	int lifted = acs_lift(acs, ACS_SUB_ABA, j, step);
	return ret != BFT_EOK ? ret : lifted;
}

/* One pass over the children: new deliveries and decisions, and the inputs
 * they call for. Returns whether anything changed (in *changed). */
static int acs_update_once(acs_t *acs, const bft_env_t *env, bft_step_t *step, bool *changed)
{
	unsigned n = acs->params.n, f = acs->params.f;
	for (bft_node_t j = 0; j < n; j++) {
		bft_nodeset_t one = bft_nodeset_one(j);
		if (!(acs->delivered & one) && rbc_terminated(acs->rbc[j])) {
			acs->delivered |= one;
			*changed = true;
		}
		if ((acs->delivered & one) && !(acs->aba_input & one)) {
			*changed = true;
			int ret = acs_input_aba(acs, j, true, env, step);
			if (ret != BFT_EOK) {
				return ret;
			}
		}
		if (!(acs->decided & one) && aba_terminated(acs->aba[j])) {
			acs->decided |= one;
			acs->decided_one |= aba_decision(acs->aba[j]) == 1 ? one : 0;
			*changed = true;
		}
	}
	if (bft_nodeset_count(acs->decided_one) < n - f) {
		return BFT_EOK;
	}
	for (bft_node_t j = 0; j < n; j++) {
		if (!bft_nodeset_has(acs->aba_input, j)) {
			*changed = true;
			int ret = acs_input_aba(acs, j, false, env, step);
			if (ret != BFT_EOK) {
				return ret;
			}
		}
	}
	return BFT_EOK;
}

/* Repeats acs_update_once until nothing changes: every pass that changes
 * something sets one of 4n monotone bits, so 4n + 1 passes are enough. */
static int acs_update(acs_t *acs, const bft_env_t *env, bft_step_t *step)
{
	unsigned n = acs->params.n;
	bool changed = true;
	for (unsigned pass = 0; changed && pass <= 4 * n + 1; pass++) {
		changed = false;
		int ret = acs_update_once(acs, env, step, &changed);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	assert(!changed);
	bft_nodeset_t all = bft_nodeset_all(n);
	if (!acs->done && acs->decided == all && (acs->decided_one & ~acs->delivered) == 0) {
		assert(bft_nodeset_count(acs->decided_one) >= n - acs->params.f);
		acs->done = true;
	}
	return BFT_EOK;
}

int acs_handle_input(acs_t *acs, const uint8_t *value, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	assert(acs != NULL && step != NULL);
	if (acs->proposed) {
		return BFT_EINVAL;
	}
	acs->proposed = true;
	bft_node_t self = acs->params.self;
	int ret = rbc_handle_input(acs->rbc[self], value, len, env, &acs->scratch);
	int lifted = acs_lift(acs, ACS_SUB_RBC, self, step);
	if (ret != BFT_EOK || lifted != BFT_EOK) {
		return ret != BFT_EOK ? ret : lifted;
	}
	return acs_update(acs, env, step);
}

int acs_handle_message(acs_t *acs, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	assert(acs != NULL && step != NULL);
	if (from >= acs->params.n) {
		return BFT_EINVAL;
	}
	if (len < 2 || (msg[0] != ACS_SUB_RBC && msg[0] != ACS_SUB_ABA) ||
	    msg[1] >= acs->params.n) {
		bft_step_fault(step, from, ACS_FAULT_BAD_INSTANCE);
		return BFT_EOK;
	}
	uint8_t sub = msg[0];
	bft_node_t j = msg[1];
	int ret;
	if (sub == ACS_SUB_RBC) {
		ret = rbc_handle_message(acs->rbc[j], from, msg + 2, len - 2, env, &acs->scratch);
	} else {
		ret = aba_handle_message(acs->aba[j], from, msg + 2, len - 2, env, &acs->scratch);
	}
	int lifted = acs_lift(acs, sub, j, step);
	if (ret != BFT_EOK || lifted != BFT_EOK) {
		return ret != BFT_EOK ? ret : lifted;
	}
	return acs_update(acs, env, step);
}

/* The generic view. */

static int ops_create(const bft_params_t *params, void **proto)
{
	return acs_create(params, (acs_t **)proto);
}

static void ops_destroy(void *proto)
{
	acs_destroy(proto);
}

/* At the transition to done: the subset as outputs, tag = proposer. */
static int ops_output(acs_t *acs, bool was_done, int ret, bft_step_t *step)
{
	if (ret != BFT_EOK || was_done || !acs->done) {
		return ret;
	}
	for (bft_node_t j = 0; ret == BFT_EOK && j < acs->params.n; j++) {
		if (bft_nodeset_has(acs->decided_one, j)) {
			size_t len = 0;
			const uint8_t *value = acs_value(acs, j, &len);
			ret = bft_step_output(step, j, value, len);
		}
	}
	return ret;
}

static int ops_input(void *proto, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	acs_t *acs = proto;
	bool was_done = acs->done;
	return ops_output(acs, was_done, acs_handle_input(acs, input, len, env, step), step);
}

static int ops_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	acs_t *acs = proto;
	bool was_done = acs->done;
	return ops_output(acs, was_done, acs_handle_message(acs, from, msg, len, env, step), step);
}

static bool ops_terminated(const void *proto)
{
	return acs_terminated(proto);
}

static const char *ops_fault_name(uint16_t kind)
{
	return kind == ACS_FAULT_BAD_INSTANCE ? "no such sub-protocol instance" : NULL;
}

const bft_protocol_ops_t acs_ops = {
	.name = "acs",
	.create = ops_create,
	.destroy = ops_destroy,
	.handle_input = ops_input,
	.handle_message = ops_message,
	.terminated = ops_terminated,
	.fault_name = ops_fault_name,
};
