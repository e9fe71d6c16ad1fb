/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Every replica killed at once (issue 9; doc/broadcast.md, "Restart"), in
 * the simulator (`./run.sh sim --crash-all`): all non-faulty nodes crash
 * at the same instant under a stream of requests, mid-epoch, and restart
 * with what a replica keeps on disk: its delivered batches and, with
 * durable votes, the vote records it output (the simulator keeps a step's
 * outputs before it sends its messages, the driver contract of abc.h).
 *
 * - abc (durable votes): the agreement of everything delivered before
 *   and after the crash, validity of the requests given after the
 *   restart, over many seeds, with and without f faulty nodes (silent or
 *   of any kind) at n = 4 and 7.
 * - abc-silent (the restart without votes): the same scenario finds a
 *   divergence: a replica delivered batch e before the crash and the
 *   others, all restarted and speaking afresh, ordered another batch e.
 *   The test expects it (at least one seed of the first 400), so that a
 *   change which hides the scenario's teeth shows up here.
 *
 * An optional argument multiplies the seed counts.
 */

#include <stdlib.h>

#include "coordinator/proto/abc.h"
#include "tests/proto/bcast_sim.h"

typedef struct {
	uint16_t n, f;
	int faulty;             /*!< -1: drawn per seed. */
	sim_byz_t byz;
	uint64_t seeds;
} run_t;

static void run_durable(const run_t *run, uint64_t scale)
{
	const sim_protocol_t *proto = sim_protocol_find("abc");
	CHECK(proto != NULL);
	sim_opts_t opts;
	sim_opts_default(&opts, run->n, run->f);
	opts.crash_all = true;
	opts.faulty = run->faulty;
	opts.byz = run->byz;
	uint64_t seeds = run->seeds * scale;
	unsigned failures = test_run_seeds(proto, &opts, 0, seeds);
	printf("abc crash-all n=%u f=%u faulty=%d byz=%s: %" PRIu64 " seeds, %u violations\n",
	       run->n, run->f, run->faulty,
	       run->byz < SIM_BYZ_KINDS ? sim_byz_name(run->byz) : "any", seeds, failures);
	CHECK_EQ(failures, 0);
}

/* The restart without votes: counts the seeds whose agreement fails. */
static void run_silent(uint64_t seeds)
{
	const sim_protocol_t *proto = sim_protocol_find("abc-silent");
	CHECK(proto != NULL);
	sim_opts_t opts;
	sim_opts_default(&opts, 4, 1);
	opts.crash_all = true;
	opts.faulty = 0;
	unsigned diverged = 0, other = 0;
	uint64_t first = UINT64_MAX;
	for (uint64_t seed = 0; seed < seeds; seed++) {
		sim_result_t res;
		CHECK_EQ(sim_run_seed(proto, &opts, seed, &res), BFT_EOK);
		if (res.ok) {
			continue;
		}
		if (strncmp(res.why, "agreement:", 10) == 0) {
			diverged++;
			first = first < seed ? first : seed;
		} else {
			other++;
		}
	}
	printf("abc-silent crash-all n=4 f=1: %" PRIu64 " seeds, %u diverged (first: seed %" PRIu64
	       "), %u other violations (a silent restart of all can also stall)\n",
	       seeds, diverged, first, other);
	CHECK(diverged > 0);
}

/* What durable votes cost: records and bytes per node and delivered epoch,
 * in a run without faults under the stream of requests (printed; bounded
 * by the protocol, see doc/broadcast.md, "Restart"). */
static void measure(uint16_t n, uint16_t f)
{
	const sim_protocol_t *proto = sim_protocol_find("abc");
	sim_conf_t conf = {
		.ops = proto->ops, .n = n, .f = f, .seed = 7, .steps_max = 2000000,
		.delay_max_ms = 10, .load_until_ms = 300, .restart = proto->restart,
	};
	sim_t *sim = NULL;
	CHECK_EQ(sim_create(&conf, &sim), BFT_EOK);
	CHECK_EQ(proto->inputs(sim), BFT_EOK);
	CHECK_EQ(sim_run(sim), BFT_EOK);
	/* More epochs than ABC_VOTES_KEEP, for the bound below. */
	for (unsigned k = 0; k < 24; k++) {
		char req[32];
		int len = snprintf(req, sizeof(req), "more %u", k);
		CHECK_EQ(sim_input(sim, (bft_node_t)(k % n), (const uint8_t *)req, (size_t)len), BFT_EOK);
	}
	CHECK_EQ(sim_run(sim), BFT_EOK);
	size_t records = 0, bytes = 0, batches = 0, batch_bytes = 0;
	for (size_t k = 0; k < sim_node_output_count(sim, 0); k++) {
		uint32_t tag;
		size_t len;
		sim_node_output(sim, 0, k, &tag, &len);
		records += tag == ABC_OUTPUT_VOTE ? 1u : 0u;
		bytes += tag == ABC_OUTPUT_VOTE ? len : 0u;
		batches += tag == ABC_OUTPUT_BATCH ? 1u : 0u;
		batch_bytes += tag == ABC_OUTPUT_BATCH ? len : 0u;
	}
	CHECK(batches > ABC_VOTES_KEEP + 1);
	/* Memory: only the last ABC_VOTES_KEEP delivered epochs and the open
	 * ones are kept, the older ones were freed. */
	abc_stats_t st;
	abc_stats(sim_node_proto(sim, 0), &st);
	CHECK(st.votes_kept > 0 && st.votes_kept < records);
	CHECK(st.votes_kept <= (ABC_VOTES_KEEP + ABC_EPOCHS_AHEAD + 1) * (records / batches + 2 * n));
	if (batches > 0) {
		printf("costs n=%u: %zu epochs, per epoch and node %.1f vote records, %.0f bytes "
		       "(batch %.0f bytes); kept at the end %zu records, %zu bytes\n", n, batches,
		       (double)records / batches, (double)bytes / batches,
		       (double)batch_bytes / batches, st.votes_kept, st.votes_bytes);
	}
	sim_destroy(sim);
}

int main(int argc, char **argv)
{
	uint64_t scale = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
	static const run_t runs[] = {
		{ 4, 1, 0, SIM_BYZ_KINDS, 1500 },
		{ 4, 1, 1, SIM_BYZ_SILENT, 400 },
		{ 4, 1, 1, SIM_BYZ_KINDS, 400 },
		{ 7, 2, 0, SIM_BYZ_KINDS, 200 },
		{ 7, 2, 2, SIM_BYZ_SILENT, 100 },
		{ 7, 2, -1, SIM_BYZ_KINDS, 100 },
	};
	if (coin_init() != COIN_EOK) {
		return 1;
	}
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		run_durable(&runs[i], scale);
	}
	run_silent(400);
	measure(4, 1);
	measure(7, 2);
	measure(10, 3);
	return check_result("test_abc_crashall");
}
