/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Threshold signing through the simulator's registry (bftdns-sim
 * --protocol tsign-*): the simulator's own scenarios (every Byzantine kind
 * of coordinator/sim/adversary.h, delays, partitions with and without
 * loss, crashes with amnesia, a starved node) over many seeds, for each
 * strategy and n = 4 and 7. The scenario checks agreement and "no correct
 * node blamed"; the protocol's check, that every correct node output
 * signatures that verify.
 */

#include "tests/proto/bcast_sim.h"

int main(void)
{
	static const char *const names[] = { "tsign-basic", "tsign-optproof", "tsign-optte" };
	static const struct { uint16_t n, f; unsigned seeds; } sizes[] = { { 4, 1, 250 }, { 7, 2, 100 } };
	for (size_t p = 0; p < sizeof(names) / sizeof(names[0]); p++) {
		const sim_protocol_t *proto = sim_protocol_find(names[p]);
		CHECK(proto != NULL);
		for (size_t s = 0; proto != NULL && s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			sim_opts_t opts;
			sim_opts_default(&opts, sizes[s].n, sizes[s].f);
			/* BASIC verifies a proof per share: fewer seeds for the same time. */
			unsigned seeds = p == 0 ? sizes[s].seeds / 3 : sizes[s].seeds;
			unsigned failures = test_run_seeds(proto, &opts, 5000, seeds);
			CHECK_EQ(failures, 0);
			printf("%-15s n=%u f=%u: %u seeds, %u failed\n", names[p], sizes[s].n, sizes[s].f,
			       seeds, failures);
		}
	}
	return check_result("test_tsign_bftsim");
}
