/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * Servers are kept in a list keyed by path (control_entries). An entry has
 * the module instances attached to it, oldest first; the newest answers.
 * Every op, the tick and attach/detach hold control_lock, so an instance
 * that detached (unload) is never touched by the control thread again. The
 * ops are short (atomic reads, one queue push), so holding the lock costs
 * nothing, and the server is stopped outside it (its thread may be waiting
 * for the lock in an op).
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/uatomic.h>

#include "coordinator/core/core.h"
#include "coordinator/ctl/ctl.h"
#include "coordinator/proto/error.h"
#include "module/batch.h"
#include "module/checkpoint.h"
#include "module/control.h"
#include "module/digest.h"
#include "module/replica.h"

/*!
 * The status counters nothing counts through bftdns_control_count() yet
 * (bftdnsctl then says "not counted yet" instead of showing 0): none any
 * more. UPDATEs are counted by intake.c and apply.c, signing instances and
 * the signing faults blamed on each peer (bad-shares) by threshold.c.
 */
#define CONTROL_UNCOUNTED	0

/*! Instances of one zone alive at once: the running one and a reload's new one. */
#define CONTROL_MEMBERS_MAX	4

typedef struct control_entry control_entry_t;

struct bftdns_control {
	bftdns_t *ctx;
	control_entry_t *entry;
	char zone[BFTDNS_CTL_ZONE_LEN];   /*!< Lower case, final dot: as the protocol's. */
	bool sign_queued;                 /*!< A sign-zone/refresh was queued... */
	uint64_t sign_mark;               /*!< ...when batches_applied was this. */
	bftdns_core_stats_t core;         /*!< Scratch for the coordinator's counters. */
};

struct control_entry {
	control_entry_t *next;
	char *path;                       /*!< NULL: no socket, the tick only (not listed). */
	bftdns_ctl_t *server;
	struct bftdns_control *members[CONTROL_MEMBERS_MAX];
	size_t count;
};

static pthread_mutex_t control_lock = PTHREAD_MUTEX_INITIALIZER;
static control_entry_t *control_entries;

void bftdns_control_count(bftdns_t *ctx, unsigned thread, unsigned ctr, unsigned idx,
                          uint64_t val)
{
	knotd_mod_stats_incr(ctx->mod, thread, ctr, idx, val);
	if (ctr == BFTDNS_CTR_BAD_SHARES) {
		if (idx < SHOUP_PLAYERS_MAX) {
			uatomic_add(&ctx->bad_shares[idx], val);
		}
	} else if (ctr < BFTDNS_CTR_COUNT) {
		uatomic_add(&ctx->counts[ctr], val);
	}
}

char *bftdns_control_replica_name(uint32_t idx, uint32_t count)
{
	(void)count;
	char name[16];
	snprintf(name, sizeof(name), "%" PRIu32, idx + 1);
	return strdup(name);
}

/* Under control_lock: the instance that answers, or NULL while none is attached. */
static struct bftdns_control *entry_current(const control_entry_t *entry)
{
	return entry->count > 0 ? entry->members[entry->count - 1] : NULL;
}

static int say(int code, char *msg, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int say(int code, char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
	return code;
}

static const char *control_diverged_text(void)
{
	return "this replica lost a delivered batch and applies nothing more (see its log); "
	       "restore it from a correct replica";
}

/*! The vote log's lines (coordinator/core/votelog.h), if the core keeps one. */
static void status_votes(const bftdns_core_stats_t *core, bftdns_ctl_status_t *st)
{
	if (!core->votelog_on) {
		return;
	}
	st->vote_log = core->votes_muted ? BFTDNS_CTL_VOTES_FAILED :
	               core->votes_durable ? BFTDNS_CTL_VOTES_DURABLE :
	               BFTDNS_CTL_VOTES_INCOMPLETE;
	st->votes_logged = core->votelog.appended;
	st->votes_suppressed = core->abc_on ? core->abc.votes_suppressed : 0;
	st->votes_restored = core->votes_restored;
	st->vote_log_bytes = core->votelog.bytes;
}

static int status_fill(struct bftdns_control *c, bftdns_ctl_status_t *st, char *msg,
                       size_t size)
{
	bftdns_t *ctx = c->ctx;
	if (uatomic_read(&ctx->stopping)) {
		return say(BFT_EAGAIN, msg, size, "the module is stopping (knotd reload or shutdown)");
	}
	st->replica_id = ctx->conf.replica_id;
	st->replicas = ctx->conf.replicas;
	st->faults = ctx->conf.faults;
	if (ctx->conf.replicas > 1) {
		if (!bftdns_replica_stats(ctx, &c->core)) {
			return say(BFT_EAGAIN, msg, size, "the coordinator is not running yet (after "
			           "a reload it waits for the previous instance's link port)");
		}
		for (unsigned i = 0; i < ctx->conf.replicas && i < BFT_NODES_MAX; i++) {
			const bftdns_core_peer_stats_t *ps = &c->core.peers[i];
			st->link_msgs_sent += ps->msgs_out;
			st->link_bytes_sent += ps->bytes_out;
			st->link_msgs_received += ps->msgs_in;
			st->link_bytes_received += ps->bytes_in;
		}
		unsigned up = bftdns_replica_links_up(ctx);
		st->peers_connected = up < ctx->conf.replicas ? up : ctx->conf.replicas - 1;
		status_votes(&c->core, st);
	}
	uint64_t seq = uatomic_read(&ctx->last_batch_seq);
	if (seq > 0) {
		st->has_batch = 1;
		st->last_batch = seq;
		st->last_batch_time = uatomic_read(&ctx->last_batch_time);
	}
	st->batches_delivered = uatomic_read(&ctx->batches_delivered);
	st->updates_received = uatomic_read(&ctx->counts[BFTDNS_CTR_TAKEN]);
	st->updates_applied = uatomic_read(&ctx->counts[BFTDNS_CTR_APPLIED]);
	st->updates_rejected = uatomic_read(&ctx->counts[BFTDNS_CTR_REFUSED]) +
	                       uatomic_read(&ctx->counts[BFTDNS_CTR_FAILED]);
	st->signing_instances = uatomic_read(&ctx->counts[BFTDNS_CTR_SIGNING]);
	st->ordered_reads = ctx->conf.ordered_reads;
	st->reads_ordered = uatomic_read(&ctx->counts[BFTDNS_CTR_READS_ORDERED]);
	st->reads_timed_out = uatomic_read(&ctx->counts[BFTDNS_CTR_READS_TIMED_OUT]);
	st->reads_refused = uatomic_read(&ctx->counts[BFTDNS_CTR_READS_REFUSED]);
	st->reads_failed = uatomic_read(&ctx->counts[BFTDNS_CTR_READS_FAILED]);
	for (unsigned i = 0; i < ctx->conf.replicas && i < BFTDNS_CTL_PEERS_MAX; i++) {
		st->bad_shares[i] = uatomic_read(&ctx->bad_shares[i]);
	}
	st->uncounted = CONTROL_UNCOUNTED;
	if (ctx->conf.replicas == 1) {
		/* No peers, no shares from them: "none" is exact. */
		st->uncounted &= ~(uint32_t)BFTDNS_CTL_UNCOUNTED_BAD_SHARES;
	}
	st->zone_count = 1;
	bftdns_ctl_zone_t *zone = &st->zones[0];
	snprintf(zone->name, sizeof(zone->name), "%s", c->zone);
	/* The last checkpoint, or own digest, and mismatches (digest.h). */
	bftdns_digest_status(ctx, zone->digest, sizeof(zone->digest));
	snprintf(zone->signing, sizeof(zone->signing), "%s",
	         shoup_strategy_name(ctx->conf.protocol));
	/* replicas > 1: the latest stable checkpoint (checkpoint.h). */
	if (ctx->conf.replicas > 1) {
		bftdns_checkpoint_status(ctx, zone->checkpoint, sizeof(zone->checkpoint));
	}
	if (uatomic_read(&ctx->diverged)) {
		snprintf(msg, size, "WARNING: %s", control_diverged_text());
	} else if (uatomic_read(&ctx->sign_too_large)) {
		cmm_smp_rmb();
		snprintf(msg, size, "WARNING: %s", ctx->sign_too_large_text);
	} else if (uatomic_read(&ctx->sign_nospace)) {
		cmm_smp_rmb();
		snprintf(msg, size, "WARNING: %s", ctx->sign_nospace_text);
	}
	return BFT_EOK;
}

/*!
 * Queues an ordered signing pass, the request the order thread makes every
 * refresh-interval: with n = 1 the order thread batches it, with n > 1 it
 * submits it to the broadcast; at its batch Knot signs what is unsigned
 * and re-signs RRSIGs near expiry, at the batch's time.
 */
static int sign_queue(struct bftdns_control *c, const char *zone, char *msg, size_t size)
{
	bftdns_t *ctx = c->ctx;
	if (strcmp(zone, c->zone) != 0) {
		return say(BFT_ENOENT, msg, size, "%s is not served by this mod-bftdns "
		           "(its control socket is %s's)", zone, c->zone);
	}
	if (ctx->conf.replay != NULL) {
		return say(BFT_EINVAL, msg, size, "this replica replays a batch log and orders "
		           "nothing");
	}
	if (uatomic_read(&ctx->stopping)) {
		return say(BFT_EAGAIN, msg, size, "the module is stopping (knotd reload or "
		           "shutdown)");
	}
	if (uatomic_read(&ctx->diverged)) {
		return say(BFT_EIO, msg, size, "%s", control_diverged_text());
	}
	/* A pass the zone's journal cannot hold (order.c, jsize.h). */
	if (uatomic_read(&ctx->sign_too_large)) {
		cmm_smp_rmb();
		return say(BFT_EIO, msg, size, "%s", ctx->sign_too_large_text);
	}
	if (uatomic_read(&ctx->sign_nospace)) {
		cmm_smp_rmb();
		return say(BFT_EIO, msg, size, "%s", ctx->sign_nospace_text);
	}
	unsigned long waiting = uatomic_read(&ctx->inflight);
	if (waiting >= ctx->conf.queue_limit) {
		return say(BFT_EAGAIN, msg, size, "the queue is full (%lu UPDATEs in flight, "
		           "queue-limit %u); try again", waiting, ctx->conf.queue_limit);
	}
	/* One pending pass is enough: no batch applied since the last one was
	 * queued means it is still on its way. This bounds what a client
	 * looping on sign-zone can queue. */
	uint64_t applied = uatomic_read(&ctx->batches_applied);
	if (c->sign_queued && applied == c->sign_mark) {
		return say(BFT_EOK, msg, size, "queued: a signing pass asked for earlier is still "
		           "waiting to be ordered; watch the log");
	}
	bftdns_request_t *request = bftdns_request_sign();
	if (request == NULL) {
		return say(BFT_ENOMEM, msg, size, "out of memory");
	}
	bftdns_queue_push(&ctx->intake, &request->node);
	c->sign_queued = true;
	c->sign_mark = applied;
	return say(BFT_EOK, msg, size, "queued: the signing pass is ordered; watch the log");
}

static int control_status(void *arg, bftdns_ctl_status_t *st, char *msg, size_t size)
{
	control_entry_t *entry = arg;
	pthread_mutex_lock(&control_lock);
	struct bftdns_control *c = entry_current(entry);
	int ret = c != NULL ? status_fill(c, st, msg, size)
	                    : say(BFT_EAGAIN, msg, size, "no zone is loaded (knotd is stopping)");
	pthread_mutex_unlock(&control_lock);
	return ret;
}

static int control_sign(void *arg, const char *zone, char *msg, size_t size)
{
	control_entry_t *entry = arg;
	pthread_mutex_lock(&control_lock);
	struct bftdns_control *c = entry_current(entry);
	int ret = c != NULL ? sign_queue(c, zone, msg, size)
	                    : say(BFT_EAGAIN, msg, size, "no zone is loaded (knotd is stopping)");
	pthread_mutex_unlock(&control_lock);
	return ret;
}

static void control_log(void *arg, int level, const char *line)
{
	control_entry_t *entry = arg;
	pthread_mutex_lock(&control_lock);
	struct bftdns_control *c = entry_current(entry);
	if (c != NULL) {
		knotd_mod_log(c->ctx->mod, level, "%s", line);
	}
	pthread_mutex_unlock(&control_lock);
}

/*!
 * Publishes the levels knotc cannot count itself: the peers up now, and
 * per peer how often its link came up (the coordinator's count, stored on
 * worker slot 0; knotc adds the slots and no other thread writes these).
 */
static void tick_one(struct bftdns_control *c)
{
	bftdns_t *ctx = c->ctx;
	if (ctx->conf.replicas == 1) {
		return;
	}
	knotd_mod_stats_store(ctx->mod, 0, BFTDNS_CTR_PEERS_UP, 0,
	                      bftdns_replica_links_up(ctx));
	if (!bftdns_replica_stats(ctx, &c->core)) {
		return;
	}
	for (unsigned i = 0; i < ctx->conf.replicas && i < BFT_NODES_MAX; i++) {
		if (i + 1 != ctx->conf.replica_id) {
			knotd_mod_stats_store(ctx->mod, 0, BFTDNS_CTR_LINK_UPS, i,
			                      c->core.peers[i].connects);
		}
	}
	if (c->core.tsign_on) {
		const tsign_stats_t *ts = &c->core.tsign;
		knotd_mod_stats_store(ctx->mod, 0, BFTDNS_CTR_SHARES, 0,
		                      ts->shares_made + ts->proofs_made);
		knotd_mod_stats_store(ctx->mod, 0, BFTDNS_CTR_HELP_SHARES, 0, ts->help_shares);
	}
}

static void control_tick(void *arg)
{
	control_entry_t *entry = arg;
	pthread_mutex_lock(&control_lock);
	for (size_t i = 0; i < entry->count; i++) {
		tick_one(entry->members[i]);
	}
	pthread_mutex_unlock(&control_lock);
}

static const bftdns_ctl_ops_t CONTROL_OPS = {
	.status = control_status,
	.sign_zone = control_sign,
	/* The same ordered pass: Knot re-signs what is missing or near expiry. */
	.refresh = control_sign,
	.log = control_log,
	.tick = control_tick,
};

/* Under control_lock. */
static control_entry_t *entry_find(const char *path)
{
	for (control_entry_t *e = control_entries; e != NULL; e = e->next) {
		if (strcmp(e->path, path) == 0) {
			return e;
		}
	}
	return NULL;
}

/* Under control_lock. */
static void entry_unlist(control_entry_t *entry)
{
	for (control_entry_t **p = &control_entries; *p != NULL; p = &(*p)->next) {
		if (*p == entry) {
			*p = entry->next;
			return;
		}
	}
}

static void entry_free(control_entry_t *entry)
{
	free(entry->path);
	free(entry);
}

static int zone_text(bftdns_t *ctx, char *out, size_t size)
{
	const knot_dname_t *apex = knotd_mod_zone(ctx->mod);
	if (apex == NULL || knot_dname_to_str(out, apex, size) == NULL) {
		return KNOT_EINVAL;
	}
	for (char *p = out; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			*p = (char)(*p - 'A' + 'a');
		}
	}
	return KNOT_EOK;
}

/* Another instance serves the path: join it if it is this zone's (a reload). */
static int entry_join(bftdns_t *ctx, control_entry_t *entry, struct bftdns_control *c)
{
	const char *path = ctx->conf.control_socket;
	struct bftdns_control *current = entry_current(entry);
	if (current != NULL && strcmp(current->zone, c->zone) != 0) {
		knotd_mod_log(ctx->mod, LOG_ERR, "control-socket %s is already the socket of zone "
		              "%s in this knotd; give each zone's mod-bftdns section its own "
		              "control-socket path", path, current->zone);
		return KNOT_EEXIST;
	}
	if (entry->count == CONTROL_MEMBERS_MAX) {
		knotd_mod_log(ctx->mod, LOG_ERR, "control-socket %s: %u instances of the zone "
		              "are loaded at once, too many", path, CONTROL_MEMBERS_MAX);
		return KNOT_ELIMIT;
	}
	c->entry = entry;
	entry->members[entry->count++] = c;
	return KNOT_EOK;
}

int bftdns_control_start(bftdns_t *ctx)
{
	const char *path = ctx->conf.control_socket;
	if (path == NULL && ctx->conf.replicas == 1) {
		return KNOT_EOK;  /* Nothing to serve, no coordinator to read. */
	}
	struct bftdns_control *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return KNOT_ENOMEM;
	}
	c->ctx = ctx;
	int ret = zone_text(ctx, c->zone, sizeof(c->zone));
	if (ret != KNOT_EOK) {
		free(c);
		return ret;
	}

	/* Knot loads modules from one thread, so nobody joins an entry
	 * between its creation here and its server's start below. */
	pthread_mutex_lock(&control_lock);
	control_entry_t *entry = path != NULL ? entry_find(path) : NULL;
	if (entry != NULL) {
		ret = entry_join(ctx, entry, c);
		pthread_mutex_unlock(&control_lock);
		if (ret != KNOT_EOK) {
			free(c);
			return ret;
		}
		ctx->control = c;
		knotd_mod_log(ctx->mod, LOG_INFO, "control socket %s: this instance answers "
		              "from now on", path);
		return KNOT_EOK;
	}
	entry = calloc(1, sizeof(*entry));
	if (entry == NULL || (path != NULL && (entry->path = strdup(path)) == NULL)) {
		pthread_mutex_unlock(&control_lock);
		free(entry);
		free(c);
		return KNOT_ENOMEM;
	}
	c->entry = entry;
	entry->members[entry->count++] = c;
	if (path != NULL) {
		entry->next = control_entries;
		control_entries = entry;
	}
	pthread_mutex_unlock(&control_lock);

	bftdns_ctl_t *server = NULL;
	ret = bftdns_ctl_start(path, &CONTROL_OPS, entry, &server);
	pthread_mutex_lock(&control_lock);
	if (ret != BFT_EOK) {
		if (path != NULL) {
			entry_unlist(entry);
		}
	} else {
		entry->server = server;
	}
	pthread_mutex_unlock(&control_lock);
	if (ret != BFT_EOK) {
		/* The server logged why (through control_log); say what it means. */
		knotd_mod_log(ctx->mod, LOG_ERR, "control socket %s not started (%s); the module "
		              "is not loaded for this zone", path != NULL ? path : "(none, counters)",
		              ret == BFT_EEXIST ? "in use or not a socket" :
		              ret == BFT_EINVAL ? "bad path" : "system error");
		entry_free(entry);
		free(c);
		return ret == BFT_EEXIST ? KNOT_EEXIST : ret == BFT_ENOMEM ? KNOT_ENOMEM :
		       KNOT_EINVAL;
	}
	ctx->control = c;
	if (path != NULL) {
		knotd_mod_log(ctx->mod, LOG_INFO, "control socket %s listening", path);
	}
	return KNOT_EOK;
}

void bftdns_control_stop(bftdns_t *ctx)
{
	struct bftdns_control *c = ctx->control;
	if (c == NULL) {
		return;
	}
	control_entry_t *entry = c->entry;
	pthread_mutex_lock(&control_lock);
	size_t j = 0;
	for (size_t i = 0; i < entry->count; i++) {
		if (entry->members[i] != c) {
			entry->members[j++] = entry->members[i];
		}
	}
	entry->count = j;
	bool last = entry->count == 0;
	if (last && entry->path != NULL) {
		entry_unlist(entry);
	}
	pthread_mutex_unlock(&control_lock);
	if (last) {
		/* Outside the lock: the thread may be waiting for it in an op. */
		bftdns_ctl_stop(entry->server);
		entry_free(entry);
	}
	free(c);
	ctx->control = NULL;
}
