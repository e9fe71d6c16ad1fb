/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <urcu/uatomic.h>

#include "module/batch.h"
#include "module/bftdns.h"
#include "module/control.h"
#include "module/read.h"
#include "module/replica.h"

/*! A read that timed out is logged at most this often (a sentence, not a flood). */
#define READ_LOG_EVERY_S	10

/*! How a wait ended. */
typedef enum {
	READ_APPLIED,   /*!< Every batch up to the READ's is applied. */
	READ_DROPPED,   /*!< The READ will never be applied (not ordered, unload). */
	READ_TIMEOUT,   /*!< ordered-read-timeout passed first. */
} read_result_t;

/*! One waiting read: a Knot worker sleeps on cond until done or its deadline. */
typedef struct {
	bool used;
	bool done;
	bool applied;
	uint64_t id;
	uint32_t timeout_ms;
	struct bftdns_reads *owner;
	pthread_cond_t cond;    /*!< CLOCK_MONOTONIC. */
} read_slot_t;

struct bftdns_reads {
	pthread_mutex_t lock;   /*!< Guards everything below. */
	pthread_cond_t drained; /*!< Stopping: a slot was let go. */
	bool stopping;
	uint64_t next_id;
	time_t logged_s;        /*!< Monotonic second of the last timeout logged. */
	uint64_t unlogged;      /*!< Timeouts since then, not logged one by one. */
	unsigned limit;
	read_slot_t slots[];
};

int bftdns_reads_init(bftdns_reads_t **out, unsigned limit, uint64_t first_id)
{
	if (out == NULL || limit == 0) {
		return KNOT_EINVAL;
	}
	bftdns_reads_t *reads = calloc(1, sizeof(*reads) + limit * sizeof(read_slot_t));
	if (reads == NULL) {
		return KNOT_ENOMEM;
	}
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&reads->lock, NULL);
	pthread_cond_init(&reads->drained, NULL);
	for (unsigned i = 0; i < limit; i++) {
		pthread_cond_init(&reads->slots[i].cond, &attr);
		reads->slots[i].owner = reads;
	}
	pthread_condattr_destroy(&attr);
	reads->limit = limit;
	reads->next_id = first_id;
	*out = reads;
	return KNOT_EOK;
}

/*! Whether a slot is claimed (a worker is between the hook and its wait's end). */
static bool reads_busy(const bftdns_reads_t *reads)
{
	for (unsigned i = 0; i < reads->limit; i++) {
		if (reads->slots[i].used) {
			return true;
		}
	}
	return false;
}

void bftdns_reads_free(bftdns_reads_t *reads)
{
	if (reads == NULL) {
		return;
	}
	/* A worker waits outside Knot's RCU section (knotd_qdata_wait()), so
	 * unload does not wait for it: wake every waiter (they answer SERVFAIL)
	 * and let go only once none is left. Each leaves at once when woken. */
	pthread_mutex_lock(&reads->lock);
	reads->stopping = true;
	for (unsigned i = 0; i < reads->limit; i++) {
		pthread_cond_broadcast(&reads->slots[i].cond);
	}
	while (reads_busy(reads)) {
		pthread_cond_wait(&reads->drained, &reads->lock);
	}
	pthread_mutex_unlock(&reads->lock);

	for (unsigned i = 0; i < reads->limit; i++) {
		pthread_cond_destroy(&reads->slots[i].cond);
	}
	pthread_cond_destroy(&reads->drained);
	pthread_mutex_destroy(&reads->lock);
	free(reads);
}

void bftdns_read_done(bftdns_reads_t *reads, uint64_t id, bool applied)
{
	if (reads == NULL) {
		return;
	}
	pthread_mutex_lock(&reads->lock);
	for (unsigned i = 0; i < reads->limit; i++) {
		read_slot_t *slot = &reads->slots[i];
		if (slot->used && !slot->done && slot->id == id) {
			slot->done = true;
			slot->applied = applied;
			pthread_cond_signal(&slot->cond);
			break;
		}
	}
	pthread_mutex_unlock(&reads->lock);
}

/*! A free slot with a new id, or NULL if limit reads wait already. */
static read_slot_t *reads_claim(bftdns_reads_t *reads, uint32_t timeout_ms, uint64_t *id)
{
	read_slot_t *found = NULL;
	pthread_mutex_lock(&reads->lock);
	for (unsigned i = 0; i < reads->limit && !reads->stopping; i++) {
		read_slot_t *slot = &reads->slots[i];
		if (!slot->used) {
			slot->used = true;
			slot->done = false;
			slot->applied = false;
			slot->timeout_ms = timeout_ms;
			slot->id = reads->next_id++;
			*id = slot->id;
			found = slot;
			break;
		}
	}
	pthread_mutex_unlock(&reads->lock);
	return found;
}

/*! Lets the slot go (under the lock). */
static void reads_release_locked(bftdns_reads_t *reads, read_slot_t *slot)
{
	slot->used = false;
	if (reads->stopping) {
		pthread_cond_broadcast(&reads->drained);
	}
}

/*! Waits until the slot's READ is done or timeout_ms passed; frees the slot. */
static read_result_t reads_wait(bftdns_reads_t *reads, read_slot_t *slot, uint32_t timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}

	pthread_mutex_lock(&reads->lock);
	int ret = 0;
	while (!slot->done && !reads->stopping && ret != ETIMEDOUT) {
		ret = pthread_cond_timedwait(&slot->cond, &reads->lock, &until);
	}
	read_result_t result = slot->done ? (slot->applied ? READ_APPLIED : READ_DROPPED) :
	                       reads->stopping ? READ_DROPPED : READ_TIMEOUT;
	reads_release_locked(reads, slot);
	pthread_mutex_unlock(&reads->lock);
	return result;
}

/*! knotd_qdata_wait_f: Knot calls it after the hook, outside its RCU section. */
static int read_wait(knotd_qdata_t *qdata, void *arg)
{
	read_slot_t *slot = arg;
	return reads_wait(slot->owner, slot, slot->timeout_ms);
}

/*!
 * Whether this timeout is to be logged now, and how many were not logged
 * before it (a replica without quorum would log one line per query).
 */
static bool reads_log_due(bftdns_reads_t *reads, uint64_t *unlogged)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	bool due = false;
	pthread_mutex_lock(&reads->lock);
	if (reads->logged_s == 0 || now.tv_sec - reads->logged_s >= READ_LOG_EVERY_S) {
		due = true;
		*unlogged = reads->unlogged;
		reads->unlogged = 0;
		reads->logged_s = now.tv_sec;
	} else {
		reads->unlogged++;
	}
	pthread_mutex_unlock(&reads->lock);
	return due;
}

static knotd_state_t read_fail(bftdns_t *ctx, knotd_qdata_t *qdata, unsigned ctr,
                               uint16_t rcode)
{
	bftdns_control_count(ctx, qdata->params->thread_id, ctr, 0, 1);
	qdata->rcode = rcode;
	qdata->rcode_ede = KNOT_EDNS_EDE_NOT_READY;
	return KNOTD_STATE_FAIL;
}

/*!
 * The second pass of a query (knotd_qdata_waited()): Knot found the zone and
 * took its contents again after the wait, so with the READ applied the
 * answer holds every batch up to it.
 */
static knotd_state_t read_answer(bftdns_t *ctx, knotd_state_t state, knotd_qdata_t *qdata,
                                 read_result_t result)
{
	if (result == READ_TIMEOUT) {
		uint64_t unlogged = 0;
		if (reads_log_due(ctx->reads, &unlogged)) {
			knotd_mod_log(ctx->mod, LOG_NOTICE, "ordered read not applied within %u ms, "
			              "answered SERVFAIL (links up to %u of %u peers, n - f = %u "
			              "replicas must take part; %"PRIu64" more since the last "
			              "such line)", ctx->conf.read_timeout_ms,
			              bftdns_replica_links_up(ctx), ctx->conf.replicas - 1,
			              ctx->conf.replicas - ctx->conf.faults, unlogged);
		}
		return read_fail(ctx, qdata, BFTDNS_CTR_READS_TIMED_OUT, KNOT_RCODE_SERVFAIL);
	}
	if (result != READ_APPLIED) {
		return read_fail(ctx, qdata, BFTDNS_CTR_READS_FAILED, KNOT_RCODE_SERVFAIL);
	}
	bftdns_control_count(ctx, qdata->params->thread_id, BFTDNS_CTR_READS_ORDERED, 0, 1);
	return state;
}

knotd_state_t bftdns_read_hook(knotd_state_t state, knot_pkt_t *pkt,
                               knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	/* UPDATEs are ordered by intake; transfers and NOTIFY are answered
	 * as Knot answers them (doc/design.md). */
	if (qdata->type != KNOTD_QUERY_TYPE_NORMAL || state == KNOTD_STATE_NOOP ||
	    state == KNOTD_STATE_DONE || state == KNOTD_STATE_FAIL ||
	    state == KNOTD_STATE_FINAL) {
		return state;
	}

	bftdns_t *ctx = knotd_mod_ctx(mod);
	int waited = 0;
	if (knotd_qdata_waited(qdata, &waited)) {
		return read_answer(ctx, state, qdata, (read_result_t)waited);
	}
	if (uatomic_read(&ctx->stopping)) {
		return read_fail(ctx, qdata, BFTDNS_CTR_READS_FAILED, KNOT_RCODE_SERVFAIL);
	}

	/* Beyond the bound the client hears at once, and tries another
	 * server, instead of one more worker of this knotd waiting. */
	uint64_t id = 0;
	read_slot_t *slot = reads_claim(ctx->reads, ctx->conf.read_timeout_ms, &id);
	if (slot == NULL) {
		return read_fail(ctx, qdata, BFTDNS_CTR_READS_REFUSED, KNOT_RCODE_REFUSED);
	}
	bftdns_request_t *request = bftdns_request_read(ctx->reads, id);
	if (request == NULL || knotd_qdata_wait(qdata, read_wait, slot) != KNOT_EOK) {
		free(request);
		pthread_mutex_lock(&ctx->reads->lock);
		reads_release_locked(ctx->reads, slot);
		pthread_mutex_unlock(&ctx->reads->lock);
		return read_fail(ctx, qdata, BFTDNS_CTR_READS_FAILED, KNOT_RCODE_SERVFAIL);
	}

	/* Knot waits (read_wait()) once the BEGIN hooks ran, outside its RCU
	 * section: applying the READ's batch may need a grace period. */
	bftdns_queue_push(&ctx->intake, &request->node);
	return state;
}
