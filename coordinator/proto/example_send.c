/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <stdlib.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/example_send.h"
#include "coordinator/proto/wire.h"

typedef struct {
	bft_params_t params;
} exsend_t;

int exsend_input(bft_nodeset_t to, const uint8_t *payload, size_t len,
                 uint8_t *out, size_t cap, size_t *out_len)
{
	bft_wire_w_t w;
	bft_wire_w_init(&w, out, cap);
	bft_wire_put_u32(&w, to);
	bft_wire_put_raw(&w, payload, len);
	if (!bft_wire_w_ok(&w)) {
		return BFT_ESPACE;
	}
	*out_len = w.len;
	return BFT_EOK;
}

static int exsend_create(const bft_params_t *params, void **out)
{
	if (bft_params_check(params) != BFT_EOK) {
		return BFT_EINVAL;
	}
	exsend_t *x = calloc(1, sizeof(*x));
	if (x == NULL) {
		return BFT_ENOMEM;
	}
	x->params = *params;
	*out = x;
	return BFT_EOK;
}

static void exsend_destroy(void *proto)
{
	free(proto);
}

static int exsend_handle_input(void *proto, const uint8_t *input, size_t len,
                               const bft_env_t *env, bft_step_t *step)
{
	const exsend_t *x = proto;
	bft_wire_r_t r;
	bft_wire_r_init(&r, input, len);
	bft_nodeset_t to = bft_wire_get_u32(&r) & bft_nodeset_all(x->params.n);
	if (r.error || bft_wire_r_left(&r) == 0 || to == 0) {
		return BFT_EINVAL;   /* our own input: misuse, not a fault */
	}
	return bft_step_send(step, to, input + 4, len - 4);
}

static int exsend_handle_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                                 const bft_env_t *env, bft_step_t *step)
{
	return bft_step_output(step, from, msg, len);
}

static bool exsend_terminated(const void *proto)
{
	return false;
}

const bft_protocol_ops_t exsend_ops = {
	.name = "example-send",
	.create = exsend_create,
	.destroy = exsend_destroy,
	.handle_input = exsend_handle_input,
	.handle_message = exsend_handle_message,
	.terminated = exsend_terminated,
};
