/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Helpers shared by the broadcast stack's simulator tests: a coin key dealt
 * once per (n, f) and a loop over seeds that prints the replay command of
 * a failing one.
 */

#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "coordinator/crypto/coin.h"
#include "coordinator/proto/coin.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "coordinator/sim/scenario.h"
#include "tests/common/check.h"

typedef struct {
	coin_public_t pub;
	coin_secret_t secrets[COIN_PLAYERS_MAX];
	pcoin_keys_t keys;
} test_coin_keys_t;

/* Deals a coin key for (n, f) from a fixed seed (tests replay). */
static inline int test_coin_deal(test_coin_keys_t *tk, unsigned n, unsigned f)
{
	bft_prng_t prng;
	bft_prng_seed(&prng, 0xc0140000u + n * 64 + f);
	int ret = coin_deal(n, f, bft_prng_random, &prng, &tk->pub, tk->secrets);
	tk->keys.pub = &tk->pub;
	tk->keys.secrets = tk->secrets;
	tk->keys.secret_count = n;
	return ret;
}

/* Runs seeds [first, first + count); returns the failures, printing each. */
static inline unsigned test_run_seeds(const sim_protocol_t *proto, const sim_opts_t *opts,
                                      uint64_t first, uint64_t count)
{
	unsigned failures = 0;
	for (uint64_t seed = first; seed < first + count; seed++) {
		sim_result_t res;
		int ret = sim_run_seed(proto, opts, seed, &res);
		CHECK_EQ(ret, BFT_EOK);
		if (ret == BFT_EOK && !res.ok) {
			char cmd[512];
			sim_replay_command(proto, opts, seed, cmd, sizeof(cmd));
			fprintf(stderr, "%s n=%u f=%u seed %" PRIu64 ": %s\n  scenario: %s\n  replay: %s\n",
			        proto->name, opts->n, opts->f, seed, res.why, res.scenario, cmd);
			failures++;
		}
	}
	return failures;
}
