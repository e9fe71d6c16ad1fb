/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdlib.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/example_multi.h"
#include "coordinator/proto/example_rbc.h"

struct exmulti {
	bft_params_t params;
	exrbc_t *child[BFT_NODES_MAX];        /*!< child[i]: proposer i's broadcast. */
	exrbc_conf_t child_conf[BFT_NODES_MAX];
	bft_nodeset_t delivered;
	bft_step_t scratch;                   /*!< The children's step, lifted after each call. */
};

int exmulti_create(const bft_params_t *params, exmulti_t **out)
{
	if (out == NULL || bft_params_check(params) != BFT_EOK) {
		return BFT_EINVAL;
	}
	exmulti_t *multi = calloc(1, sizeof(*multi));
	if (multi == NULL) {
		return BFT_ENOMEM;
	}
	multi->params = *params;
	int ret = bft_step_init(&multi->scratch, BFT_MSG_MAX);
	for (bft_node_t i = 0; ret == BFT_EOK && i < params->n; i++) {
		multi->child_conf[i].proposer = i;
		bft_params_t child = *params;
		child.conf = &multi->child_conf[i];
		ret = exrbc_create(&child, &multi->child[i]);
	}
	if (ret != BFT_EOK) {
		exmulti_destroy(multi);
		return ret;
	}
	*out = multi;
	return BFT_EOK;
}

void exmulti_destroy(exmulti_t *multi)
{
	if (multi == NULL) {
		return;
	}
	for (unsigned i = 0; i < BFT_NODES_MAX; i++) {
		exrbc_destroy(multi->child[i]);
	}
	bft_step_deinit(&multi->scratch);
	free(multi);
}

bool exmulti_terminated(const exmulti_t *multi)
{
	return multi->delivered == bft_nodeset_all(multi->params.n);
}

/* Lifts child i's scratch step: messages get header byte i, outputs become ours. */
static int multi_lift(exmulti_t *multi, bft_node_t i, bft_step_t *step)
{
	const uint8_t hdr = (uint8_t)i;
	int ret = bft_step_lift(step, &multi->scratch, &hdr, 1);
	for (size_t k = 0; ret == BFT_EOK && k < multi->scratch.output_count; k++) {
		/* The child outputs once (it terminates), so this is a first delivery. */
		assert(!bft_nodeset_has(multi->delivered, i));
		multi->delivered |= bft_nodeset_one(i);
		ret = bft_step_output(step, i, bft_step_output_data(&multi->scratch, k),
		                      multi->scratch.outputs[k].len);
	}
	bft_step_clear(&multi->scratch);
	return ret;
}

int exmulti_handle_input(exmulti_t *multi, const uint8_t *value, size_t len,
                         const bft_env_t *env, bft_step_t *step)
{
	bft_node_t self = multi->params.self;
	bft_step_clear(&multi->scratch);
	int ret = exrbc_handle_input(multi->child[self], value, len, env, &multi->scratch);
	if (ret != BFT_EOK) {
		bft_step_clear(&multi->scratch);
		return ret;
	}
	return multi_lift(multi, self, step);
}

int exmulti_handle_message(exmulti_t *multi, bft_node_t from, const uint8_t *msg, size_t len,
                           const bft_env_t *env, bft_step_t *step)
{
	if (from >= multi->params.n) {
		return BFT_EINVAL;
	}
	if (len < 1 || msg[0] >= multi->params.n) {
		bft_step_fault(step, from, len < 1 ? BFT_FAULT_MALFORMED : EXMULTI_FAULT_BAD_INSTANCE);
		return BFT_EOK;
	}
	bft_node_t i = msg[0];
	bft_step_clear(&multi->scratch);
	int ret = exrbc_handle_message(multi->child[i], from, msg + 1, len - 1, env, &multi->scratch);
	if (ret != BFT_EOK) {
		bft_step_clear(&multi->scratch);
		return ret;
	}
	return multi_lift(multi, i, step);
}

static int ops_create(const bft_params_t *params, void **proto)
{
	return exmulti_create(params, (exmulti_t **)proto);
}

static void ops_destroy(void *proto)
{
	exmulti_destroy(proto);
}

static int ops_input(void *proto, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	return exmulti_handle_input(proto, input, len, env, step);
}

static int ops_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	return exmulti_handle_message(proto, from, msg, len, env, step);
}

static bool ops_terminated(const void *proto)
{
	return exmulti_terminated(proto);
}

static const char *ops_fault_name(uint16_t kind)
{
	return kind == EXMULTI_FAULT_BAD_INSTANCE ? "no such broadcast instance" : NULL;
}

const bft_protocol_ops_t exmulti_ops = {
	.name = "example-multi",
	.create = ops_create,
	.destroy = ops_destroy,
	.handle_input = ops_input,
	.handle_message = ops_message,
	.terminated = ops_terminated,
	.fault_name = ops_fault_name,
};
