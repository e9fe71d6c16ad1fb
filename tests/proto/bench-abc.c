/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bench-abc (./run.sh bench abc): the atomic broadcast in the simulator,
 * all nodes correct, message delays uniform in [0, 10] ms of virtual time.
 * REQUESTS requests of SIZE bytes are given spread over the nodes, in
 * waves of as many as a node takes of its own clients' requests (abc.h's
 * per-origin bound: 256 per node at n = 4, 64 at n = 16; more would be
 * refused with BFT_EAGAIN), each wave at once, the next when the previous
 * one is delivered everywhere; the run goes until every node delivered
 * them all. Printed per n:
 * virtual time until the last delivery, batches, messages per batch, and
 * the CPU time of all n cores together (one process simulates all nodes),
 * as requests per CPU-second per node.
 *
 *   bench-abc [REQUESTS [SIZE [BATCH]]]     defaults 2000 200 64
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coordinator/crypto/coin.h"
#include "coordinator/proto/abc.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "coordinator/sim/sim.h"

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench_one(uint16_t n, unsigned requests, size_t size, uint32_t batch)
{
	uint16_t f = (uint16_t)((n - 1) / 3);
	static coin_public_t pub;
	static coin_secret_t secrets[COIN_PLAYERS_MAX];
	bft_prng_t prng;
	bft_prng_seed(&prng, n);
	if (coin_deal(n, f, bft_prng_random, &prng, &pub, secrets) != COIN_EOK) {
		return 1;
	}
	abc_conf_t conf = {
		.coin = { .pub = &pub, .secrets = secrets, .secret_count = n },
		.session = (const uint8_t *)"bench", .session_len = 5, .batch_max = batch,
	};
	sim_conf_t sc = {
		.ops = &abc_ops, .proto_conf = &conf, .n = n, .f = f, .seed = 1,
		.delay_max_ms = 10, .steps_max = 200000000,
	};
	sim_t *sim = NULL;
	if (sim_create(&sc, &sim) != BFT_EOK) {
		return 1;
	}
	/* abc_within(): a node takes ABC_QUEUE_MAX / 2 / n / 2 of its own, in
	 * count and in bytes; a wave gives each node at most that. */
	size_t per_node = ABC_QUEUE_MAX / 2 / n / 2;
	size_t by_bytes = ABC_QUEUE_BYTES_MAX / 2 / n / 2 / size;
	size_t wave = (per_node < by_bytes ? per_node : by_bytes) * n;
	double start = cpu_seconds();
	uint8_t *req = calloc(1, size);
	int ret = req != NULL && wave > 0 ? BFT_EOK : BFT_ENOMEM;
	for (unsigned k = 0; ret == BFT_EOK && k < requests; ) {
		for (size_t w = 0; ret == BFT_EOK && w < wave && k < requests; w++, k++) {
			snprintf((char *)req, size, "request %u", k);
			ret = sim_input(sim, (bft_node_t)(k % n), req, size);
		}
		if (ret == BFT_EOK) {
			ret = sim_run(sim);
		}
	}
	double cpu = cpu_seconds() - start;
	sim_stats_t st;
	sim_stats(sim, &st);
	size_t batches = sim_node_output_count(sim, 0);
	printf("n=%2u f=%u: %u requests of %zu B in %zu batches, %6" PRIu64 " ms virtual, "
	       "%7.0f messages/batch, CPU %.2f s = %.0f requests/s per node%s\n",
	       n, f, requests, size, batches, st.end_ms,
	       batches > 0 ? (double)st.delivered / (double)batches : 0.0, cpu,
	       cpu > 0 ? requests / (cpu / n) : 0.0, ret == BFT_EOK ? "" : " (run failed)");
	free(req);
	sim_destroy(sim);
	return ret == BFT_EOK ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned requests = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000;
	size_t size = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
	uint32_t batch = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 64;
	if (requests == 0 || size < 16 || size > 65535 || batch == 0 || batch > 1024 ||
	    coin_init() != COIN_EOK) {
		fprintf(stderr, "usage: bench-abc [REQUESTS [SIZE (16..65535) [BATCH (1..1024)]]]\n");
		return 2;
	}
	static const uint16_t ns[] = { 4, 7, 10, 16 };
	int failed = 0;
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		failed |= bench_one(ns[i], requests, size, batch);
	}
	return failed;
}
