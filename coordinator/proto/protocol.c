/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/protocol.h"

int bft_env_random(const bft_env_t *env, uint8_t *out, size_t len)
{
	assert(env != NULL && env->random != NULL);
	return env->random(env->random_ctx, out, len) == 0 ? BFT_EOK : BFT_EIO;
}

int bft_params_check(const bft_params_t *params)
{
	if (params == NULL || params->n == 0 || params->n > BFT_NODES_MAX) {
		return BFT_EINVAL;
	}
	if (params->n < 3u * params->f + 1 || params->self >= params->n) {
		return BFT_EINVAL;
	}
	return BFT_EOK;
}

const char *bft_protocol_fault_name(const bft_protocol_ops_t *ops, uint16_t kind)
{
	const char *name = bft_fault_name(kind);
	if (name == NULL && ops != NULL && ops->fault_name != NULL) {
		name = ops->fault_name(kind);
	}
	return name != NULL ? name : "fault";
}
