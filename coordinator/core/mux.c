/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The multiplexer: routes inputs and messages to members by their first
 * byte, lifts the members' steps back with that byte in front and their
 * outputs with the id in the tag's top byte.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/core/mux.h"
#include "coordinator/proto/abc.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/tsign.h"
#include "coordinator/proto/xfer.h"

typedef struct {
	mux_member_t conf;
	void *proto;
	uint64_t faults[BFT_NODES_MAX];  /*!< Faults it blamed on each node. */
} mux_slot_t;

struct mux {
	bft_params_t params;
	mux_slot_t slots[MUX_MEMBERS_MAX];
	unsigned count;
	bft_step_t scratch;
};

static mux_slot_t *mux_find(mux_t *mux, uint8_t id)
{
	for (unsigned i = 0; i < mux->count; i++) {
		if (mux->slots[i].conf.id == id) {
			return &mux->slots[i];
		}
	}
	return NULL;
}

static int mux_check_conf(const mux_conf_t *conf)
{
	if (conf == NULL || conf->count == 0 || conf->count > MUX_MEMBERS_MAX) {
		return BFT_EINVAL;
	}
	for (unsigned i = 0; i < conf->count; i++) {
		const mux_member_t *m = &conf->members[i];
		if (m->id == 0 || m->ops == NULL) {
			return BFT_EINVAL;
		}
		for (unsigned k = 0; k < i; k++) {
			if (conf->members[k].id == m->id) {
				return BFT_EINVAL;
			}
		}
	}
	return BFT_EOK;
}

int mux_create(const bft_params_t *params, mux_t **out)
{
	if (out == NULL || bft_params_check(params) != BFT_EOK ||
	    mux_check_conf(params->conf) != BFT_EOK) {
		return BFT_EINVAL;
	}
	const mux_conf_t *conf = params->conf;
	mux_t *mux = calloc(1, sizeof(*mux));
	if (mux == NULL) {
		return BFT_ENOMEM;
	}
	mux->params = *params;
	mux->params.conf = NULL;
	/* As large as the driver's step: a member's step is lifted whole. */
	int ret = bft_step_init(&mux->scratch, BFT_MSG_MAX * 4ull);
	for (unsigned i = 0; ret == BFT_EOK && i < conf->count; i++) {
		bft_params_t p = *params;
		p.conf = conf->members[i].conf;
		mux->slots[i].conf = conf->members[i];
		ret = conf->members[i].ops->create(&p, &mux->slots[i].proto);
		mux->count = ret == BFT_EOK ? i + 1 : i;
	}
	if (ret != BFT_EOK) {
		mux_destroy(mux);
		return ret;
	}
	*out = mux;
	return BFT_EOK;
}

void mux_destroy(mux_t *mux)
{
	if (mux == NULL) {
		return;
	}
	for (unsigned i = 0; i < mux->count; i++) {
		mux->slots[i].conf.ops->destroy(mux->slots[i].proto);
	}
	bft_step_deinit(&mux->scratch);
	free(mux);
}

/* Lifts the scratch step of member `slot` into step and clears it. */
static int mux_lift(mux_t *mux, mux_slot_t *slot, bft_step_t *step)
{
	bft_step_t *child = &mux->scratch;
	for (size_t i = 0; i < child->fault_count; i++) {
		if (child->faults[i].node < BFT_NODES_MAX) {
			slot->faults[child->faults[i].node]++;
		}
	}
	int ret = bft_step_lift(step, child, &slot->conf.id, 1);
	for (size_t i = 0; ret == BFT_EOK && i < child->output_count; i++) {
		ret = bft_step_output(step, MUX_TAG(slot->conf.id, child->outputs[i].tag),
		                      bft_step_output_data(child, i), child->outputs[i].len);
	}
	bft_step_clear(child);
	return ret;
}

uint64_t mux_member_faults(const mux_t *mux, uint8_t id, bft_node_t node)
{
	for (unsigned i = 0; i < mux->count; i++) {
		if (mux->slots[i].conf.id == id && node < BFT_NODES_MAX) {
			return mux->slots[i].faults[node];
		}
	}
	return 0;
}

int mux_start(mux_t *mux, const bft_env_t *env, bft_step_t *step)
{
	assert(mux != NULL && step != NULL);
	int ret = BFT_EOK;
	for (unsigned i = 0; ret == BFT_EOK && i < mux->count; i++) {
		mux_slot_t *slot = &mux->slots[i];
		if (slot->conf.start == NULL) {
			continue;
		}
		ret = slot->conf.start(slot->proto, env, &mux->scratch);
		int lifted = mux_lift(mux, slot, step);
		ret = ret != BFT_EOK ? ret : lifted;
	}
	return ret;
}

int mux_tick(mux_t *mux, const bft_env_t *env, bft_step_t *step)
{
	assert(mux != NULL && step != NULL);
	int ret = BFT_EOK;
	for (unsigned i = 0; ret == BFT_EOK && i < mux->count; i++) {
		mux_slot_t *slot = &mux->slots[i];
		if (slot->conf.tick == NULL) {
			continue;
		}
		ret = slot->conf.tick(slot->proto, env, &mux->scratch);
		int lifted = mux_lift(mux, slot, step);
		ret = ret != BFT_EOK ? ret : lifted;
	}
	return ret;
}

int mux_handle_input(mux_t *mux, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	assert(mux != NULL && step != NULL);
	mux_slot_t *slot = len >= 1 ? mux_find(mux, input[0]) : NULL;
	if (slot == NULL) {
		return BFT_EINVAL;  /* Our own caller named no member. */
	}
	int ret = slot->conf.ops->handle_input(slot->proto, input + 1, len - 1, env, &mux->scratch);
	int lifted = mux_lift(mux, slot, step);
	return ret != BFT_EOK ? ret : lifted;
}

int mux_handle_message(mux_t *mux, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	assert(mux != NULL && step != NULL);
	if (from >= mux->params.n) {
		return BFT_EINVAL;
	}
	mux_slot_t *slot = len >= 1 ? mux_find(mux, msg[0]) : NULL;
	if (slot == NULL) {
		bft_step_fault(step, from, MUX_FAULT_BAD_MEMBER);
		return BFT_EOK;
	}
	int ret = slot->conf.ops->handle_message(slot->proto, from, msg + 1, len - 1, env,
	                                         &mux->scratch);
	int lifted = mux_lift(mux, slot, step);
	return ret != BFT_EOK ? ret : lifted;
}

bool mux_terminated(const mux_t *mux)
{
	for (unsigned i = 0; i < mux->count; i++) {
		if (!mux->slots[i].conf.ops->terminated(mux->slots[i].proto)) {
			return false;
		}
	}
	return true;
}

void *mux_member(mux_t *mux, uint8_t id)
{
	mux_slot_t *slot = mux != NULL ? mux_find(mux, id) : NULL;
	return slot != NULL ? slot->proto : NULL;
}

static int ops_create(const bft_params_t *params, void **proto)
{
	return mux_create(params, (mux_t **)proto);
}

static void ops_destroy(void *proto)
{
	mux_destroy(proto);
}

static int ops_input(void *proto, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	return mux_handle_input(proto, input, len, env, step);
}

static int ops_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	return mux_handle_message(proto, from, msg, len, env, step);
}

static bool ops_terminated(const void *proto)
{
	return mux_terminated(proto);
}

/* Kinds are allocated so that the production members' never overlap; a
 * member that joins adds its names here. */
static const char *ops_fault_name(uint16_t kind)
{
	if (kind == MUX_FAULT_BAD_MEMBER) {
		return "message for no sub-protocol";
	}
	const char *name = tsign_fault_name(kind);
	if (name == NULL) {
		name = xfer_ops.fault_name(kind);
	}
	return (name != NULL) ? name : abc_ops.fault_name(kind);
}

const bft_protocol_ops_t mux_ops = {
	.name = "mux",
	.create = ops_create,
	.destroy = ops_destroy,
	.handle_input = ops_input,
	.handle_message = ops_message,
	.terminated = ops_terminated,
	.fault_name = ops_fault_name,
};
