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
 * Deterministic network simulator for sans-I/O protocol cores (after
 * hbbft's VirtualNet and TigerBeetle's VOPR). n instances of one protocol
 * exchange messages through one pending-event list; virtual time, delays,
 * partitions, crashes and the faulty nodes' behaviour all come from one
 * seed, so a seed replays a run exactly (same trace hash).
 *
 * Node classes (for the checks in scenario.h):
 * - faulty: in conf.faulty; runs the protocol, but every message it sends
 *   goes through the adversary's tamper hook (silent, garbage, ...);
 * - impaired: crashed and restarted with a fresh state (amnesia), or cut
 *   off by a partition that drops messages; counts against f like a
 *   faulty node, but its outputs must still agree;
 * - correct: everything else.
 *
 * Every loop is bounded: steps_max deliveries, SIM_PENDING_MAX messages in
 * flight, SIM_OUTPUTS_MAX outputs kept per node.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/protocol.h"

#define SIM_PENDING_MAX		(1u << 20)
#define SIM_OUTPUTS_MAX		(1u << 16)
#define SIM_TRACE_LEN		32

typedef struct sim sim_t;

typedef enum {
	SIM_EV_MESSAGE = 0,
	SIM_EV_CRASH,
	SIM_EV_RESTART,
	SIM_EV_INPUT,         /*!< A client's request due at a node (sim_input_at()). */
} sim_event_kind_t;

/*! One pending event; a message's bytes follow the struct. */
typedef struct {
	uint64_t at_ms;       /*!< Virtual delivery time. */
	uint64_t seq;         /*!< Creation order: ties are broken by it. */
	sim_event_kind_t kind;
	bft_node_t from;
	bft_node_t to;        /*!< Also the node of CRASH / RESTART. */
	uint32_t len;
	uint8_t data[];
} sim_event_t;

/*!
 * Adversary hooks. pre_crank picks which pending event runs next (an
 * index below sim_pending_count(), or SIZE_MAX for the earliest);
 * tamper sees each copy of each message a faulty node sends and decides
 * what goes out instead (zero or more sim_inject() calls).
 */
typedef struct {
	void *ctx;
	size_t (*pre_crank)(void *ctx, const sim_t *sim);
	void (*tamper)(void *ctx, sim_t *sim, bft_node_t from, bft_node_t to,
	               const uint8_t *msg, size_t len);
} sim_adversary_t;

typedef struct {
	const bft_protocol_ops_t *ops;
	const void *proto_conf;       /*!< bft_params_t.conf for every instance ... */
	/*! ... but node i gets node_conf[i] if it is not NULL (e.g. a faulty
	 *  node's core in one of the protocol's misbehaviour modes). */
	const void *node_conf[BFT_NODES_MAX];
	uint16_t n, f;
	uint64_t seed;
	bft_nodeset_t faulty;         /*!< Their messages go through adversary.tamper. */
	sim_adversary_t adversary;
	uint32_t delay_max_ms;        /*!< Each message: uniform in [0, max]. */
	uint32_t clock_skew_max_ms;   /*!< Each node's clock: now + [0, max]. */
	bft_nodeset_t isolated;       /*!< Partitioned from the others until heal_ms. */
	uint64_t heal_ms;
	bool partition_drops;         /*!< Cross-partition messages are lost, not held. */
	bft_nodeset_t crashed;        /*!< Crash at crash_ms, restart fresh at restart_ms. */
	uint64_t crash_ms;
	uint64_t restart_ms;
	uint64_t steps_max;           /*!< Bound on events processed. */
	/*!
	 * Called when a crashed node restarts, right after its fresh instance
	 * is made; NULL: amnesia. It may restore what a real replica keeps
	 * durably (e.g. its outputs so far: sim_node_output()) and put
	 * messages in step, which the simulator then sends.
	 */
	int (*restart)(const sim_t *sim, bft_node_t node, void *proto, const bft_env_t *env,
	               bft_step_t *step);
	/*!
	 * A message that reaches a crashed node waits for its restart and then
	 * goes to the fresh instance (the links' send queues outlive
	 * connections, doc/links.md); false: it is lost.
	 */
	bool queue_while_down;
	/*!
	 * Requests keep arriving until then (a protocol's inputs hook spreads
	 * them with sim_input_at()); 0: all at time 0.
	 */
	uint64_t load_until_ms;
} sim_conf_t;

/*! Creates the n instances at time 0. */
int sim_create(const sim_conf_t *conf, sim_t **out);
void sim_destroy(sim_t *sim);

/*! Gives node an input now (processed at once, like a local request). */
int sim_input(sim_t *sim, bft_node_t node, const uint8_t *input, size_t len);
/*!
 * Gives node an input at virtual time at_ms. If the node is down then, the
 * client tries again: the input reaches it right after its restart (or
 * never, if it does not restart).
 */
int sim_input_at(sim_t *sim, bft_node_t node, uint64_t at_ms, const uint8_t *input, size_t len);

/*!
 * Runs until no event is pending or steps_max events ran. BFT_EOK when
 * quiescent; BFT_ESPACE if a bound was hit; a protocol's error code if
 * one returned an error (see sim_failure()).
 */
int sim_run(sim_t *sim);
/*!
 * The same, but only events due by until_ms (the adversary's choice of a
 * later one is overridden); then virtual time is until_ms if it was less.
 * BFT_EOK when no event due by then is left.
 */
int sim_run_until(sim_t *sim, uint64_t until_ms);

/*! Sends a message as `from` (for adversaries; delay and partition apply). */
int sim_inject(sim_t *sim, bft_node_t from, bft_node_t to, const uint8_t *msg, size_t len);

/*! Pending events, for pre_crank. */
size_t sim_pending_count(const sim_t *sim);
const sim_event_t *sim_pending(const sim_t *sim, size_t i);

uint64_t sim_now(const sim_t *sim);
const sim_conf_t *sim_conf(const sim_t *sim);
/*! The adversary's own seeded randomness (deterministic per seed). */
uint64_t sim_random(sim_t *sim);

/*! Nodes that were crashed or cut off with message loss. */
bft_nodeset_t sim_impaired(const sim_t *sim);
/*! Nodes that are neither faulty nor impaired. */
bft_nodeset_t sim_correct(const sim_t *sim);

bool sim_node_terminated(const sim_t *sim, bft_node_t node);
/*! The node's protocol instance (NULL while crashed), for tests' inspection. */
const void *sim_node_proto(const sim_t *sim, bft_node_t node);
/*! Nodes `node` reported a fault about. */
bft_nodeset_t sim_node_blamed(const sim_t *sim, bft_node_t node);
size_t sim_node_output_count(const sim_t *sim, bft_node_t node);
/*! Output i of node: tag, bytes, length. */
const uint8_t *sim_node_output(const sim_t *sim, bft_node_t node, size_t i,
                               uint32_t *tag, size_t *len);

/*! SHA-256 over every event and every output, in order. */
void sim_trace_hash(const sim_t *sim, uint8_t out[SIM_TRACE_LEN]);

typedef struct {
	uint64_t steps;
	uint64_t delivered;
	uint64_t dropped;
	uint64_t injected;     /*!< Messages sent by tamper. */
	uint64_t faults;       /*!< Faults reported by any node. */
	bft_nodeset_t talkers; /*!< Nodes that sent a message to another node. */
	uint64_t end_ms;       /*!< Virtual time at the end. */
} sim_stats_t;

void sim_stats(const sim_t *sim, sim_stats_t *out);

/*! Why the last sim_run() failed, or "" . */
const char *sim_failure(const sim_t *sim);
