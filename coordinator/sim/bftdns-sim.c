/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-sim: runs a protocol core under the deterministic simulator for
 * one seed or a range of seeds, checks the invariants, and prints the
 * command that replays any failing seed. Entry point: ./run.sh sim ...
 */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/error.h"
#include "coordinator/sim/scenario.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: bftdns-sim [--protocol NAME (abc)] [--n|--replicas N] [--f|--faults F] [--seed S] [--seeds COUNT]\n"
	        "                  [--byz KIND|any] [--faulty K] [--mode MODE] [--no-crashes]\n"
	        "                  [--crash-all]\n"
	        "                  [--no-partitions] [--no-starve] [--steps-max STEPS] [--verbose] [--list]\n"
	        "Runs seeds S..S+COUNT-1 (default 0, 100); exit 1 if any seed fails.\n"
	        "KIND: honest silent garbage replay equivocate bitflip mix (default: any): what the\n"
	        "simulator does to faulty nodes' messages.\n"
	        "MODE: a misbehaviour mode of the protocol's own core for every faulty node\n"
	        "(--list names them; abc: silent equivocate mix).\n"
	        "--crash-all: every non-faulty node crashes at once under a stream of requests\n"
	        "and restarts (abc keeps its batches and, unless abc-silent, its vote records).\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 0);
	if (s[0] == '\0' || s[0] == '-' || *end != '\0') {
		return BFT_EINVAL;
	}
	*out = v;
	return BFT_EOK;
}

typedef struct {
	const sim_protocol_t *proto;
	sim_opts_t opts;
	uint64_t seed;
	uint64_t seeds;
	bool verbose;
	const char *mode;         /*!< Resolved once the protocol is known. */
} cli_t;

static int cli_option(cli_t *cli, int opt, const char *arg)
{
	uint64_t v = 0;
	switch (opt) {
	case 'p':
		cli->proto = sim_protocol_find(arg);
		return cli->proto != NULL ? BFT_EOK : BFT_ENOENT;
	case 'n':
	case 'f':
		if (parse_u64(arg, &v) != BFT_EOK || v > BFT_NODES_MAX) {
			return BFT_EINVAL;
		}
		*(opt == 'n' ? &cli->opts.n : &cli->opts.f) = (uint16_t)v;
		return BFT_EOK;
	case 's': return parse_u64(arg, &cli->seed);
	case 'c': return parse_u64(arg, &cli->seeds);
	case 'm': return parse_u64(arg, &cli->opts.steps_max);
	case 'b':
		if (strcmp(arg, "any") == 0) {
			cli->opts.byz = SIM_BYZ_KINDS;
			return BFT_EOK;
		}
		return sim_byz_parse(arg, &cli->opts.byz);
	case 'k':
		if (parse_u64(arg, &v) != BFT_EOK || v > BFT_NODES_MAX) {
			return BFT_EINVAL;
		}
		cli->opts.faulty = (int)v;
		return BFT_EOK;
	case 'M': cli->mode = arg; return BFT_EOK;
	case 'C': cli->opts.crashes = false; return BFT_EOK;
	case 'A': cli->opts.crash_all = true; return BFT_EOK;
	case 'P': cli->opts.partitions = false; return BFT_EOK;
	case 'S': cli->opts.starve = false; return BFT_EOK;
	case 'v': cli->verbose = true; return BFT_EOK;
	}
	return BFT_EINVAL;
}

static void print_hex(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		printf("%02x", p[i]);
	}
}

static int run_seeds(const cli_t *cli)
{
	uint64_t failed = 0, steps = 0, delivered = 0;
	for (uint64_t k = 0; k < cli->seeds; k++) {
		uint64_t seed = cli->seed + k;
		sim_result_t res;
		int ret = sim_run_seed(cli->proto, &cli->opts, seed, &res);
		if (ret != BFT_EOK) {
			fprintf(stderr, "bftdns-sim: seed %" PRIu64 ": cannot set up: %s\n", seed, bft_strerror(ret));
			return 2;
		}
		steps += res.stats.steps;
		delivered += res.stats.delivered;
		if (cli->verbose || !res.ok) {
			printf("seed %" PRIu64 ": %s  %s\n  steps %" PRIu64 ", delivered %" PRIu64
			       ", dropped %" PRIu64 ", faults %" PRIu64 ", virtual %" PRIu64 " ms, trace ",
			       seed, res.ok ? "ok" : "FAILED", res.scenario, res.stats.steps,
			       res.stats.delivered, res.stats.dropped, res.stats.faults, res.stats.end_ms);
			print_hex(res.trace, SIM_TRACE_LEN);
			printf("\n");
		}
		if (!res.ok) {
			char cmd[512];
			sim_replay_command(cli->proto, &cli->opts, seed, cmd, sizeof(cmd));
			printf("  %s\n  replay: %s\n", res.why, cmd);
			failed++;
		}
	}
	printf("%s n=%u f=%u: %" PRIu64 " seeds from %" PRIu64 ", %" PRIu64 " failed; "
	       "%" PRIu64 " steps, %" PRIu64 " messages delivered\n",
	       cli->proto->name, cli->opts.n, cli->opts.f, cli->seeds, cli->seed, failed,
	       steps, delivered);
	printf("%" PRIu64 " seeds, %" PRIu64 " violations\n", cli->seeds, failed);
	return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "protocol", required_argument, NULL, 'p' },
		{ "n", required_argument, NULL, 'n' },
		{ "f", required_argument, NULL, 'f' },
		{ "replicas", required_argument, NULL, 'n' },
		{ "faults", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "seeds", required_argument, NULL, 'c' },
		{ "byz", required_argument, NULL, 'b' },
		{ "faulty", required_argument, NULL, 'k' },
		{ "steps-max", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "no-crashes", no_argument, NULL, 'C' },
		{ "crash-all", no_argument, NULL, 'A' },
		{ "no-partitions", no_argument, NULL, 'P' },
		{ "no-starve", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* The atomic broadcast by default: `./run.sh sim --seeds N --replicas n --faults f`. */
	const sim_protocol_t *abc = sim_protocol_find("abc");
	cli_t cli = { .proto = abc != NULL ? abc : sim_protocols[0], .seed = 0, .seeds = 100 };
	sim_opts_default(&cli.opts, 4, 1);
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'h' || opt == 'l') {
			if (opt == 'h') {
				usage(stdout);
			}
			for (size_t i = 0; sim_protocols[i] != NULL; i++) {
				const sim_protocol_t *p = sim_protocols[i];
				printf("protocol: %s", p->name);
				for (unsigned m = 1; p->mode_name != NULL && m <= BFT_NODES_MAX &&
				                     p->mode_name(m) != NULL; m++) {
					printf("%s%s", m == 1 ? " (modes: " : " ", p->mode_name(m));
					printf("%s", p->mode_name(m + 1) == NULL ? ")" : "");
				}
				printf("\n");
			}
			return 0;
		}
		if (opt == '?' || cli_option(&cli, opt, optarg) != BFT_EOK) {
			if (opt != '?') {
				fprintf(stderr, "bftdns-sim: bad value for --%s: %s\n",
				        longopts[0].name, optarg != NULL ? optarg : "");
			}
			usage(stderr);
			return 2;
		}
	}
	bft_params_t check = { .n = cli.opts.n, .f = cli.opts.f, .self = 0 };
	if (optind != argc || bft_params_check(&check) != BFT_EOK || cli.seeds == 0) {
		fprintf(stderr, "bftdns-sim: need 1 <= n <= %d, n >= 3f + 1, seeds >= 1\n", BFT_NODES_MAX);
		usage(stderr);
		return 2;
	}
	if (cli.mode != NULL && (cli.opts.mode = sim_mode_find(cli.proto, cli.mode)) == 0) {
		fprintf(stderr, "bftdns-sim: protocol %s has no mode %s\n", cli.proto->name, cli.mode);
		return 2;
	}
	return run_seeds(&cli);
}
