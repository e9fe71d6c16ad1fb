/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Feeding the protocol instance and carrying out its steps: votes to the
 * vote log first, outputs to the deliver callback, faults to the log,
 * messages to the peers' links or, for this replica itself, to a local
 * queue handled by the loop.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "coordinator/core/core_internal.h"
#include "coordinator/proto/abc_votes.h"
#include "coordinator/proto/error.h"

/* Vote records written with one votelog_append(). */
#define DRIVE_VOTES_CHUNK	256
/* Fault lines per peer before they are only counted (then 1 in 1000). */
#define CORE_FAULT_LOG_FIRST	20

static int drive_random(void *ctx, uint8_t *out, size_t len)
{
	size_t done = 0;
	for (int tries = 0; done < len && tries < 16; tries++) {
		ssize_t got = getrandom(out + done, len - done, 0);
		if (got > 0) {
			done += (size_t)got;
		}
	}
	return done == len ? 0 : -1;
}

/* The protocol's clock is the wall clock: abc's agreed time is made of it (core.h). */
static bft_env_t drive_env(const bftdns_core_t *core)
{
	bft_env_t env = { .now_ms = core->wall_ms, .random = drive_random, .random_ctx = NULL };
	return env;
}

static void drive_local_push(bftdns_core_t *core, const uint8_t *data, size_t len)
{
	if (core->local_count >= CORE_LOCAL_MAX) {
		/* Only a protocol bug makes a replica talk to itself this much. */
		bft_log(&core->conf.log, LOG_ERR, "more than %u messages to self are waiting; "
		        "one dropped", CORE_LOCAL_MAX);
		return;
	}
	core_local_t *item = malloc(sizeof(*item) + len);
	if (item == NULL) {
		bft_log(&core->conf.log, LOG_ERR, "out of memory; a message to self dropped");
		return;
	}
	item->next = NULL;
	item->len = len;
	memcpy(item->data, data, len);
	if (core->local_tail != NULL) {
		core->local_tail->next = item;
	} else {
		core->local_head = item;
	}
	core->local_tail = item;
	core->local_count++;
}

static void drive_fault(bftdns_core_t *core, const bft_fault_t *fault)
{
	core->stats.faults++;
	if (fault->node >= core->conf.n) {
		return;
	}
	core->stats.peer_faults[fault->node]++;
	uint64_t seen = ++core->faults_logged[fault->node];
	if (seen <= CORE_FAULT_LOG_FIRST || seen % 1000 == 0) {
		bft_log(&core->conf.log, LOG_WARNING, "replica %u: %s (fault %u, %llu so far)",
		        fault->node + 1u, bft_protocol_fault_name(core->conf.ops, fault->kind),
		        fault->kind, (unsigned long long)seen);
	}
}

/* A vote that is not in the log must never go out: from now on nothing does. */
static void drive_mute(bftdns_core_t *core, const char *why)
{
	if (!core->muted) {
		bft_log(&core->conf.log, LOG_ERR, "vote log: %s; this replica sends nothing to its "
		        "peers any more (after a crash it could contradict a vote that is not on "
		        "disk); fix the cause and restart it", why);
	}
	core->muted = true;
}

static void drive_votes_write(bftdns_core_t *core, const votelog_record_t *recs, size_t count)
{
	if (count > 0 && !core->muted && votelog_append(core->votelog, recs, count) != BFT_EOK) {
		drive_mute(core, "a vote could not be written (see above)");
	}
}

/*
 * Production: every vote output of the step into the vote log before any
 * message of the step is sent (abc.h, ABC_OUTPUT_VOTE), a few write()s per
 * step. The records are the core's: conf.deliver never sees them.
 */
static void drive_votes(bftdns_core_t *core, const bft_step_t *step)
{
	votelog_record_t recs[DRIVE_VOTES_CHUNK];
	size_t count = 0;
	for (size_t i = 0; i < step->output_count; i++) {
		if (step->outputs[i].tag != BFTDNS_CORE_OUT_VOTE) {
			continue;
		}
		const uint8_t *rec = bft_step_output_data(step, i);
		uint64_t epoch;
		if (core->votelog == NULL) {
			drive_mute(core, "a vote output without a vote log");
		} else if (abc_vote_record_epoch(rec, step->outputs[i].len, &epoch) != BFT_EOK) {
			drive_mute(core, "the broadcast output a vote record that does not read");
		} else {
			recs[count++] = (votelog_record_t){ .epoch = epoch, .data = rec,
			                                    .len = step->outputs[i].len };
		}
		if (count == DRIVE_VOTES_CHUNK) {
			drive_votes_write(core, recs, count);
			count = 0;
		}
	}
	drive_votes_write(core, recs, count);
}

/* Carries out the step in core->step, then clears it. */
static void drive_apply(bftdns_core_t *core)
{
	bft_step_t *step = &core->step;
	if (core->production) {
		drive_votes(core, step);
	}
	for (size_t i = 0; i < step->output_count; i++) {
		if (core->production && step->outputs[i].tag == BFTDNS_CORE_OUT_VOTE) {
			continue;
		}
		core->stats.outputs++;
		if (core->conf.deliver != NULL) {
			core->conf.deliver(core->conf.deliver_ctx, step->outputs[i].tag,
			                   bft_step_output_data(step, i), step->outputs[i].len);
		}
	}
	for (size_t i = 0; i < step->fault_count; i++) {
		drive_fault(core, &step->faults[i]);
	}
	for (size_t i = 0; i < step->msg_count; i++) {
		const uint8_t *data = bft_step_msg_data(step, i);
		for (bft_node_t to = 0; to < core->conf.n; to++) {
			if (!bft_nodeset_has(step->msgs[i].to, to)) {
				continue;
			}
			if (to == core->conf.self) {
				drive_local_push(core, data, step->msgs[i].len);
			} else if (!core->muted) {
				/* A full queue is counted and logged by the link. */
				bft_link_send(&core->links[to], data, step->msgs[i].len);
			}
		}
	}
	bft_step_clear(step);
}

/* Our misuse of the protocol (or a full step) is loud, but never a crash. */
static int drive_check(bftdns_core_t *core, int ret, const char *what)
{
	if (ret != BFT_EOK) {
		bft_log(&core->conf.log, LOG_ERR, "protocol %s: %s failed: %s",
		        core->conf.ops->name, what, bft_strerror(ret));
		bft_step_clear(&core->step);
	}
	return ret;
}

void core_drive_start(bftdns_core_t *core)
{
	if (!core->production) {
		return;
	}
	bft_env_t env = drive_env(core);
	int ret = mux_start(core->proto, &env, &core->step);
	if (drive_check(core, ret, "the start") == BFT_EOK) {
		drive_apply(core);
	}
}

int core_drive_input(bftdns_core_t *core, const uint8_t *data, size_t len)
{
	bft_env_t env = drive_env(core);
	int ret = core->conf.ops->handle_input(core->proto, data, len, &env, &core->step);
	if (ret == BFT_EAGAIN) {
		/* Full for now, not an error: the loop offers it again (loop.c). */
		bft_step_clear(&core->step);
		return ret;
	}
	core->stats.inputs++;
	if (drive_check(core, ret, "an input") == BFT_EOK) {
		drive_apply(core);
	}
	return ret;
}

static void drive_message(bftdns_core_t *core, bft_node_t from, const uint8_t *data, size_t len)
{
	assert(from < core->conf.n);
	bft_env_t env = drive_env(core);
	int ret = core->conf.ops->handle_message(core->proto, from, data, len, &env, &core->step);
	if (drive_check(core, ret, "a message") == BFT_EOK) {
		drive_apply(core);
	}
}

void core_drive_message(void *ctx, bft_node_t from, const uint8_t *data, size_t len)
{
	bftdns_core_t *core = ctx;
	if (from < core->conf.n) {
		core->links[from].stats.msgs_in++;
		core->links[from].stats.bytes_in += len;
	}
	drive_message(core, from, data, len);
}

void core_drive_tick(bftdns_core_t *core)
{
	if (!core->production || core->now_ms < core->next_tick_ms) {
		return;
	}
	core->next_tick_ms = core->now_ms + CORE_TICK_MS;
	bft_env_t env = drive_env(core);
	int ret = mux_tick(core->proto, &env, &core->step);
	if (drive_check(core, ret, "a tick") == BFT_EOK) {
		drive_apply(core);
	}
}

bool core_drive_local(bftdns_core_t *core)
{
	for (unsigned i = 0; i < CORE_LOCAL_PER_LOOP && core->local_head != NULL; i++) {
		core_local_t *item = core->local_head;
		core->local_head = item->next;
		if (core->local_head == NULL) {
			core->local_tail = NULL;
		}
		core->local_count--;
		drive_message(core, core->conf.self, item->data, item->len);
		free(item);
	}
	return core->local_head != NULL;
}

void core_drive_free_local(bftdns_core_t *core)
{
	while (core->local_head != NULL) {
		core_local_t *item = core->local_head;
		core->local_head = item->next;
		free(item);
	}
	core->local_tail = NULL;
	core->local_count = 0;
}
