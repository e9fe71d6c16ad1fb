/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*!
 * \file
 *
 * Seeded scenarios and invariant checks: from (protocol, options, seed) a
 * whole run is derived (who is faulty and how, delays, clock skews, a
 * partition, crashes, a starved node), run to quiescence, then checked:
 *
 * - the run ends: no protocol error, no bound hit;
 * - agreement: outputs of non-faulty nodes (correct and impaired) agree,
 *   as sequences (one is a prefix of the other) or per output tag;
 * - no correct node reports a fault about a correct node;
 * - termination of the correct nodes, if the protocol promises it;
 * - the protocol's own check (validity, totality...).
 *
 * A failing seed prints the exact command that replays it.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/sim/adversary.h"
#include "coordinator/sim/sim.h"

typedef enum {
	SIM_AGREE_SEQUENCE,   /*!< Output lists are prefixes of each other. */
	SIM_AGREE_BY_TAG,     /*!< Same tag, same bytes (order may differ). */
} sim_agree_t;

/*! A protocol the simulator can run by name. */
typedef struct sim_protocol {
	const char *name;
	const bft_protocol_ops_t *ops;
	const void *conf;                     /*!< bft_params_t.conf. */
	sim_agree_t agree;
	bool expect_termination;              /*!< Every correct node terminates. */
	/*! Gives the inputs of a run (derive them from sim_conf(sim)->seed). */
	int (*inputs)(sim_t *sim);
	/*! Outputs the agreement check compares (e.g. not a node's own vote
	 *  records, which differ per node); NULL: all. */
	bool (*agreed)(uint32_t tag);
	/*! Extra invariant; returns false and writes why. May be NULL. */
	bool (*check)(const sim_t *sim, char *why, size_t why_len);
	/*! sim_conf_t.restart for crashed nodes; NULL: amnesia. */
	int (*restart)(const sim_t *sim, bft_node_t node, void *proto, const bft_env_t *env,
	               bft_step_t *step);
	/*!
	 * The protocol's own misbehaviour modes for faulty nodes (sim_opts_t.mode
	 * 1, 2, ...), or NULL: the name of mode m (NULL past the last one), and
	 * the bft_params_t.conf of the k-th faulty node (in index order) in mode
	 * m, which its create() must understand.
	 */
	const char *(*mode_name)(unsigned mode);
	const void *(*mode_conf)(unsigned mode, unsigned k);
} sim_protocol_t;

/*! The protocols built into the simulator (NULL-terminated by name). */
extern const sim_protocol_t *const sim_protocols[];
const sim_protocol_t *sim_protocol_find(const char *name);

/*! What scenarios may contain. */
typedef struct {
	uint16_t n, f;
	sim_byz_t byz;            /*!< SIM_BYZ_KINDS: drawn per seed. */
	int faulty;               /*!< Faulty nodes; -1: drawn per seed in [0, f]. */
	bool crashes;
	/*! Every non-faulty node crashes at once, mid-epoch under a stream of
	 *  requests (sim_conf_t.load_until_ms), and restarts: beyond f, so the
	 *  agreement of what they delivered before and after is the test. */
	bool crash_all;
	bool partitions;
	bool starve;
	uint64_t steps_max;       /*!< 0: default. */
	/*! 0: faulty nodes run the honest core; else every faulty node's core
	 *  runs in this misbehaviour mode of the protocol (sim_protocol_t), and
	 *  its messages still go through the byz adversary (honest: unchanged). */
	unsigned mode;
} sim_opts_t;

/*! Defaults: everything on, byz drawn per seed, faulty drawn. */
void sim_opts_default(sim_opts_t *opts, uint16_t n, uint16_t f);

typedef struct {
	bool ok;
	char why[320];
	char scenario[256];       /*!< One line describing the drawn scenario. */
	uint8_t trace[SIM_TRACE_LEN];
	sim_stats_t stats;
	bft_nodeset_t faulty;     /*!< The run's faulty nodes. */
	bft_nodeset_t correct;    /*!< ... its correct ones (neither faulty nor impaired). */
	bft_nodeset_t blamed;     /*!< Nodes a correct node reported a fault about. */
} sim_result_t;

/*!
 * Runs one seed and checks it. Returns BFT_EOK if the run could be set up
 * (then res->ok says whether it passed), an error otherwise.
 */
int sim_run_seed(const sim_protocol_t *proto, const sim_opts_t *opts, uint64_t seed,
                 sim_result_t *res);

/*! Finds a protocol's misbehaviour mode by name: 1, 2, ..., or 0 if unknown. */
unsigned sim_mode_find(const sim_protocol_t *proto, const char *name);

/*! The command line that replays seed (for failure messages). */
void sim_replay_command(const sim_protocol_t *proto, const sim_opts_t *opts, uint64_t seed,
                        char *buf, size_t len);
