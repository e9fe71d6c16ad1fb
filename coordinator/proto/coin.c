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

#include "coordinator/proto/coin.h"
#include "coordinator/proto/error.h"

struct pcoin {
	bft_params_t params;
	const coin_public_t *pub;
	const coin_secret_t *secret;
	uint8_t name[COIN_NAME_MAX];
	size_t name_len;
	bool started;
	bool done;
	bool bit;
	bft_nodeset_t received;     /*!< A share is stored. */
	bft_nodeset_t verified;     /*!< ...and it verified. */
	coin_share_t shares[BFT_NODES_MAX];
};

const coin_secret_t *pcoin_keys_secret(const pcoin_keys_t *keys, const bft_params_t *params)
{
	if (keys == NULL || keys->pub == NULL || keys->secrets == NULL || params == NULL ||
	    keys->pub->n != params->n || keys->pub->f != params->f) {
		return NULL;
	}
	const coin_secret_t *sec = NULL;
	if (keys->secret_count == 1) {
		sec = &keys->secrets[0];
	} else if (keys->secret_count == params->n) {
		sec = &keys->secrets[params->self];
	}
	return sec != NULL && sec->id == (unsigned)params->self + 1 ? sec : NULL;
}

int pcoin_create(const bft_params_t *params, const pcoin_keys_t *keys,
                 const uint8_t *name, size_t name_len, pcoin_t **out)
{
	if (out == NULL || bft_params_check(params) != BFT_EOK ||
	    name == NULL || name_len == 0 || name_len > COIN_NAME_MAX) {
		return BFT_EINVAL;
	}
	const coin_secret_t *sec = pcoin_keys_secret(keys, params);
	if (sec == NULL || coin_init() != COIN_EOK) {
		return BFT_EINVAL;
	}
	pcoin_t *coin = calloc(1, sizeof(*coin));
	if (coin == NULL) {
		return BFT_ENOMEM;
	}
	coin->params = *params;
	coin->params.conf = NULL;
	coin->pub = keys->pub;
	coin->secret = sec;
	memcpy(coin->name, name, name_len);
	coin->name_len = name_len;
	*out = coin;
	return BFT_EOK;
}

void pcoin_destroy(pcoin_t *coin)
{
	free(coin);
}

bool pcoin_started(const pcoin_t *coin)
{
	return coin->started;
}

bool pcoin_done(const pcoin_t *coin)
{
	return coin->done;
}

bool pcoin_bit(const pcoin_t *coin)
{
	assert(coin->done);
	return coin->bit;
}

unsigned pcoin_verified_count(const pcoin_t *coin)
{
	return bft_nodeset_count(coin->verified);
}

/* Verifies stored shares in node order until f + 1 verified, then combines. */
static int pcoin_try_combine(pcoin_t *coin, bft_step_t *step)
{
	unsigned need = coin->params.f + 1;
	if (!coin->started || coin->done || bft_nodeset_count(coin->received) < need) {
		return BFT_EOK;
	}
	for (bft_node_t i = 0; i < coin->params.n && bft_nodeset_count(coin->verified) < need; i++) {
		bft_nodeset_t one = bft_nodeset_one(i);
		if (!(coin->received & one) || (coin->verified & one)) {
			continue;
		}
		int ret = coin_share_verify(coin->pub, coin->name, coin->name_len, &coin->shares[i]);
		if (ret == COIN_EOK) {
			coin->verified |= one;
		} else {
			/* Forget it: the sender has had its one chance for this coin. */
			assert(ret == COIN_EPROOF);
			coin->received &= ~one;
			bft_step_fault(step, i, BFT_FAULT_INVALID);
		}
	}
	if (bft_nodeset_count(coin->verified) < need) {
		return BFT_EOK;
	}
	coin_share_t pick[BFT_NODES_MAX];
	size_t k = 0;
	for (bft_node_t i = 0; i < coin->params.n && k < need; i++) {
		if (bft_nodeset_has(coin->verified, i)) {
			pick[k++] = coin->shares[i];
		}
	}
	uint8_t value[COIN_VALUE_LEN];
	if (coin_combine(coin->pub, coin->name, coin->name_len, pick, k, value) != COIN_EOK) {
		return BFT_EINVAL;  /* Verified shares always combine: our bug. */
	}
	coin->done = true;
	coin->bit = coin_value_bit(value);
	return BFT_EOK;
}

int pcoin_start(pcoin_t *coin, uint8_t share[COIN_SHARE_LEN], bft_step_t *step)
{
	assert(coin != NULL && step != NULL);
	if (coin->started) {
		return BFT_EINVAL;
	}
	coin_share_t own;
	if (coin_share_make(coin->pub, coin->secret, coin->name, coin->name_len, &own) != COIN_EOK) {
		return BFT_EINVAL;
	}
	coin->started = true;
	memcpy(share, own.bytes, COIN_SHARE_LEN);
	/* Our own copy comes back through the network like any other share. */
	return pcoin_try_combine(coin, step);
}

int pcoin_handle_share(pcoin_t *coin, bft_node_t from, const uint8_t *msg, size_t len,
                       bft_step_t *step)
{
	assert(coin != NULL && step != NULL);
	if (from >= coin->params.n) {
		return BFT_EINVAL;
	}
	if (len != COIN_SHARE_LEN) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return BFT_EOK;
	}
	if (bft_nodeset_has(coin->received, from)) {
		bool same = memcmp(coin->shares[from].bytes, msg, COIN_SHARE_LEN) == 0;
		bft_step_fault(step, from, same ? BFT_FAULT_DUPLICATE : BFT_FAULT_EQUIVOCATION);
		return BFT_EOK;
	}
	if (coin->done) {
		return BFT_EOK;  /* Not needed any more; not worth verifying. */
	}
	coin->shares[from].id = (unsigned)from + 1;
	memcpy(coin->shares[from].bytes, msg, COIN_SHARE_LEN);
	coin->received |= bft_nodeset_one(from);
	return pcoin_try_combine(coin, step);
}

/* The generic view: a coin on its own, for the simulator and tests. */

static int ops_create(const bft_params_t *params, void **proto)
{
	const pcoin_conf_t *conf = params != NULL ? params->conf : NULL;
	if (conf == NULL) {
		return BFT_EINVAL;
	}
	return pcoin_create(params, &conf->keys, conf->name, conf->name_len, (pcoin_t **)proto);
}

static void ops_destroy(void *proto)
{
	pcoin_destroy(proto);
}

static int ops_output(pcoin_t *coin, bool was_done, bft_step_t *step)
{
	if (was_done || !coin->done) {
		return BFT_EOK;
	}
	uint8_t bit = coin->bit;
	return bft_step_output(step, PCOIN_OUTPUT_BIT, &bit, 1);
}

static int ops_input(void *proto, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	pcoin_t *coin = proto;
	bool was_done = coin->done;
	uint8_t share[COIN_SHARE_LEN];
	int ret = pcoin_start(coin, share, step);
	if (ret == BFT_EOK) {
		ret = bft_step_send(step, bft_nodeset_all(coin->params.n), share, sizeof(share));
	}
	return ret == BFT_EOK ? ops_output(coin, was_done, step) : ret;
}

static int ops_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	pcoin_t *coin = proto;
	bool was_done = coin->done;
	int ret = pcoin_handle_share(coin, from, msg, len, step);
	return ret == BFT_EOK ? ops_output(coin, was_done, step) : ret;
}

static bool ops_terminated(const void *proto)
{
	return pcoin_done(proto);
}

const bft_protocol_ops_t pcoin_ops = {
	.name = "coin",
	.create = ops_create,
	.destroy = ops_destroy,
	.handle_input = ops_input,
	.handle_message = ops_message,
	.terminated = ops_terminated,
	.fault_name = NULL,
};
