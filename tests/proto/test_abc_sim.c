/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The atomic broadcast in the simulator, as `./run.sh sim --protocol abc`
 * runs it (coordinator/sim/protocols_bcast.h lists the checks): total
 * order, validity, integrity, agreed time, no correct node blamed, over
 * thousands of seeds with f faulty nodes of every kind (silent, garbage,
 * replay, equivocate, bit flips, a mix), partitions, crashes (a restarted
 * node replays its own batches and must catch up) and a starved node. An
 * optional argument multiplies the seed counts.
 */

#include <stdlib.h>

#include "tests/proto/bcast_sim.h"

typedef struct {
	const char *name;
	uint16_t n, f;
	uint64_t seeds;
	sim_byz_t byz;
	uint64_t first;
} run_t;

int main(int argc, char **argv)
{
	uint64_t scale = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
	static const run_t runs[] = {
		{ "abc", 4, 1, 4000, SIM_BYZ_KINDS, 0 },
		{ "abc", 4, 1, 300, SIM_BYZ_SILENT, 0 },
		{ "abc", 4, 1, 300, SIM_BYZ_EQUIVOCATE, 0 },
		{ "abc", 4, 1, 300, SIM_BYZ_BITFLIP, 0 },
		{ "abc", 4, 1, 300, SIM_BYZ_GARBAGE, 0 },
		{ "abc", 4, 1, 300, SIM_BYZ_REPLAY, 0 },
		{ "abc", 7, 2, 1000, SIM_BYZ_KINDS, 0 },
		{ "abc", 10, 3, 200, SIM_BYZ_KINDS, 0 },
		{ "abc-coin", 4, 1, 150, SIM_BYZ_KINDS, 0 },
		/* Seed 108578: a correct node fell more than ABC_EPOCHS_AHEAD
		 * epochs behind (partition) and blamed a correct one as FUTURE
		 * before catch-up existed (doc/broadcast.md). */
		{ "abc", 4, 1, 200, SIM_BYZ_KINDS, 108500 },
	};
	if (coin_init() != COIN_EOK) {
		return 1;
	}
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		const run_t *run = &runs[i];
		const sim_protocol_t *proto = sim_protocol_find(run->name);
		CHECK(proto != NULL);
		if (proto == NULL) {
			continue;
		}
		sim_opts_t opts;
		sim_opts_default(&opts, run->n, run->f);
		opts.byz = run->byz;
		if (run->byz != SIM_BYZ_KINDS) {
			opts.faulty = run->f;   /* All f faulty, all of this kind. */
		}
		uint64_t seeds = run->seeds * scale;
		unsigned failures = test_run_seeds(proto, &opts, run->first, seeds);
		printf("%s n=%u f=%u byz=%s: %" PRIu64 " seeds from %" PRIu64 ", %u violations\n",
		       run->name, run->n, run->f,
		       run->byz < SIM_BYZ_KINDS ? sim_byz_name(run->byz) : "any", seeds, run->first,
		       failures);
		CHECK_EQ(failures, 0);
	}
	return check_result("test_abc_sim");
}
