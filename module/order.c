/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <time.h>
#include <urcu.h>
#include <urcu/uatomic.h>

#include "module/apply.h"
#include "module/batch.h"
#include "module/batchlog.h"
#include "module/jsize.h"
#include "module/order.h"
#include "module/replica.h"

/*! Batches delivered and not applied yet: one applying, one waiting. */
#define ORDER_PIPELINE	2

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*! Checks of the journal size while the zone is not loaded: 1 s apart. */
#define ORDER_JSIZE_TRIES	30
#define ORDER_JSIZE_RETRY_MS	1000

typedef struct {
	bool checked;      /*!< The estimate was made (once per instance). */
	unsigned tries;    /*!< Attempts while the zone was not loaded. */
} order_jsize_t;

/*!
 * Whether this replica proposes the signing pass that is due (jsize.h): not
 * if the first pass cannot fit the zone's journal, nor after the journal
 * refused one, until a knotc reload (a new instance) estimates again. Only
 * whether to propose depends on it, never what a batch applies.
 *
 * 
etval KNOT_EOK     Propose it.
 * 
etval KNOT_ESPACE  Do not (said in the log once, and by bftdnsctl status).
 * 
etval KNOT_EAGAIN  The zone is not loaded yet: ask again in a second.
 */
static int order_sign_check(bftdns_t *ctx, order_jsize_t *chk)
{
	if (uatomic_read(&ctx->sign_too_large) || uatomic_read(&ctx->sign_nospace)) {
		return KNOT_ESPACE;
	}
	if (chk->checked) {
		return KNOT_EOK;
	}
	bftdns_jsize_t js = { 0 };
	int ret = bftdns_jsize_check(ctx, &js);
	if (ret == KNOT_ENOZONE || ret == KNOT_EEMPTYZONE || ret == KNOT_EBUSY) {
		if (++chk->tries < ORDER_JSIZE_TRIES) {
			return KNOT_EAGAIN;
		}
		knotd_mod_log(ctx->mod, LOG_WARNING, "signing pass proposed without the "
		              "journal size check, the zone is not loaded (%s)",
		              knot_strerror(ret));
		chk->checked = true;
		return KNOT_EOK;
	}
	chk->checked = true;
	if (ret == KNOT_ESPACE) {
		snprintf(ctx->sign_too_large_text, sizeof(ctx->sign_too_large_text),
		         "signing pass not proposed: the zone (%"PRIu64" B) and its signing "
		         "(about %"PRIu64" B) exceed journal-max-usage (%"PRIu64" B); set "
		         "'journal-max-usage: %"PRIu64"M' for the zone and knotc reload",
		         js.zone, js.change, js.limit, js.suggested);
		cmm_smp_wmb();  /* The text before the flag (control.c reads it). */
		uatomic_set(&ctx->sign_too_large, 1);
		knotd_mod_log(ctx->mod, LOG_ERR, "%s", ctx->sign_too_large_text);
		return KNOT_ESPACE;
	}
	if (ret != KNOT_EOK) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "signing pass proposed without the "
		              "journal size check (%s)", knot_strerror(ret));
		return KNOT_EOK;
	}
	knotd_mod_log(ctx->mod, LOG_INFO, "journal size check: zone %"PRIu64" bytes, signing "
	              "adds about %"PRIu64", journal-max-usage %"PRIu64, js.zone, js.change,
	              js.limit);
	return KNOT_EOK;
}

/*!
 * Takes up to batch_limit queued requests, plus a signing proposal if one is
 * due, and delivers them as the next batch.
 *
 * \return true if it stopped at the limit (more requests may be queued).
 */
static bool order_form_batch(bftdns_t *ctx, bool propose_sign)
{
	size_t limit = ctx->conf.batch_limit;
	bftdns_batch_t *batch = bftdns_batch_new(limit + 1);
	if (batch == NULL) {
		knotd_mod_log(ctx->mod, LOG_ERR, "no memory for a batch, retrying");
		return false;
	}

	if (propose_sign) {
		bftdns_request_t *sign = bftdns_request_sign();
		if (sign != NULL) {
			batch->requests[batch->count++] = sign;
		}
	}
	size_t updates = 0;
	while (updates < limit) {
		struct cds_wfcq_node *node = bftdns_queue_pop(&ctx->intake);
		if (node == NULL) {
			break;
		}
		batch->requests[batch->count++] = caa_container_of(node, bftdns_request_t, node);
		updates++;
	}

	if (batch->count == 0) {
		free(batch);
		return false;
	}

	/* The batch time: read once, here, when the batch is formed. Applying
	 * and signing use only this value (with n > 1 the agreed time). */
	batch->now = (uint64_t)time(NULL);
	batch->seq = ++ctx->batches_delivered;
	bftdns_apply_deliver(ctx, batch);

	return updates == limit;
}

/*! Waits (bounded steps) until fewer than limit delivered batches are unapplied. */
static bool order_wait_applied(bftdns_t *ctx, uint64_t limit)
{
	while (!uatomic_read(&ctx->stopping)) {
		if (ctx->batches_delivered - uatomic_read(&ctx->batches_applied) < limit) {
			return true;
		}
		(void)bftdns_queue_wait(&ctx->intake, 1000);
	}
	return false;
}

/*!
 * The order step of a replica that replays a batch log: the log's batches,
 * with their times, and nothing else.
 */
static void order_replay(bftdns_t *ctx)
{
	FILE *log = fopen(ctx->conf.replay, "r");
	if (log == NULL) {
		knotd_mod_log(ctx->mod, LOG_ERR, "replay '%s' cannot be read (%s)",
		              ctx->conf.replay, knot_strerror(knot_map_errno()));
		return;
	}

	size_t line = 0;
	while (order_wait_applied(ctx, ORDER_PIPELINE)) {
		bftdns_batch_t *batch = NULL;
		int ret = bftdns_batchlog_read(log, &batch, &line);
		if (ret != KNOT_EOK) {
			knotd_mod_log(ctx->mod, LOG_ERR, "replay '%s', line %zu: %s, "
			              "replay stopped", ctx->conf.replay, line, knot_strerror(ret));
			break;
		}
		if (batch == NULL) {
			if (order_wait_applied(ctx, 1)) {
				knotd_mod_log(ctx->mod, LOG_INFO, "replay finished, %"PRIu64
				              " batches applied", ctx->batches_delivered);
			}
			break;
		}
		ctx->batches_delivered++;
		bftdns_apply_deliver(ctx, batch);
	}
	fclose(log);
}

/*! Logs when the number of peers with a link up changes (n > 1). */
static void order_log_links(bftdns_t *ctx)
{
	unsigned up = bftdns_replica_links_up(ctx);
	if (up == ctx->links_up_logged) {
		return;
	}
	ctx->links_up_logged = up;
	unsigned peers = ctx->conf.replicas - 1;
	if (up == peers) {
		knotd_mod_log(ctx->mod, LOG_INFO, "links up to all %u peers", peers);
	} else {
		knotd_mod_log(ctx->mod, LOG_NOTICE, "links up to %u of %u peers", up, peers);
	}
}

/*!
 * Submits one request to the broadcast; answers it if that is impossible.
 * False if the inbox is full (the request is kept in *held for later).
 */
static bool order_submit(bftdns_t *ctx, bftdns_request_t *request, bftdns_request_t **held)
{
	int ret = bftdns_replica_submit(ctx, request);
	if (ret == KNOT_EBUSY) {
		*held = request;
		return false;
	}
	if (ret != KNOT_EOK) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "request not submitted for ordering (%s)",
		              knot_strerror(ret));
		if (request->client != NULL) {
			uatomic_dec(&ctx->inflight);
		}
		bftdns_request_finish(request, KNOT_RCODE_SERVFAIL);
	}
	return true;
}

/*!
 * The order step of a replica of a group: every request goes to the atomic
 * broadcast (replica.c), which delivers the batches to the apply thread on
 * every replica; this thread reads no batch time (the broadcast agrees on
 * it). A signing proposal is submitted at start and every refresh-interval.
 */
static void order_replicated(bftdns_t *ctx)
{
	/* Every replica proposes the signing pass, so that it happens while any
	 * f + 1 run. Staggered by replica id, and a pass applied from anyone's
	 * proposal restarts every timer: usually one pass per interval, not n. */
	const uint64_t interval_ms = (uint64_t)ctx->conf.refresh_interval * 1000;
	const uint64_t stagger_ms = interval_ms / 2 * (ctx->conf.replica_id - 1) /
	                            ctx->conf.replicas;
	/* At start every replica proposes at once: the zone may be unsigned,
	 * and the replicas that would be first may be down or faulty. */
	uint64_t next_sign_ms = monotonic_ms();
	uint64_t passes_seen = uatomic_read(&ctx->sign_passes);
	bftdns_request_t *held = NULL;
	order_jsize_t jsize = { 0 };

	/* After knotc reload the old instance holds the port until Knot
	 * unloads it, after this instance was loaded. */
	unsigned attempts = 0;
	while (!uatomic_read(&ctx->stopping) && bftdns_replica_run_core(ctx) != KNOT_EOK) {
		attempts++;
		(void)bftdns_queue_wait(&ctx->intake, attempts < 50 ? 200 : 5000);
	}

	while (!uatomic_read(&ctx->stopping)) {
		/* A state transfer installed a checkpoint (transfer.h): the
		 * coordinator goes on from its position. */
		if (bftdns_replica_restarting(ctx) && bftdns_replica_restart_core(ctx) != KNOT_EOK) {
			(void)bftdns_queue_wait(&ctx->intake, 200);
			continue;
		}
		order_log_links(ctx);
		uint64_t passes = uatomic_read(&ctx->sign_passes);
		if (passes != passes_seen) {
			passes_seen = passes;
			next_sign_ms = monotonic_ms() + interval_ms + stagger_ms;
		}
		if (held != NULL) {
			bftdns_request_t *again = held;
			held = NULL;
			if (!order_submit(ctx, again, &held)) {
				(void)bftdns_queue_wait(&ctx->intake, 10);
				continue;
			}
		}
		if (monotonic_ms() >= next_sign_ms) {
			next_sign_ms = monotonic_ms() + interval_ms + stagger_ms;
			int check = order_sign_check(ctx, &jsize);
			if (check == KNOT_EAGAIN) {
				next_sign_ms = monotonic_ms() + ORDER_JSIZE_RETRY_MS;
			}
			bftdns_request_t *sign = (check == KNOT_EOK) ? bftdns_request_sign() : NULL;
			if (sign != NULL && !order_submit(ctx, sign, &held)) {
				continue;
			}
		}
		/* While the apply thread is behind the broadcast, requests gather
		 * in the intake and go out together in the next proposal, as with
		 * n = 1: every delivered batch costs a dry run, a signing round
		 * and a new SOA, so many small ones are slower than a few large
		 * ones (doc/benchmarks.md, update throughput). Only when this
		 * replica proposes depends on it: what is delivered is agreed. */
		if (uatomic_read(&ctx->batches_queued) -
		    uatomic_read(&ctx->batches_applied) >= ORDER_PIPELINE) {
			/* The apply thread wakes the intake after every batch. */
			(void)bftdns_queue_wait(&ctx->intake, 1000);
			continue;
		}
		struct cds_wfcq_node *node = bftdns_queue_pop(&ctx->intake);
		if (node != NULL) {
			(void)order_submit(ctx, caa_container_of(node, bftdns_request_t, node), &held);
			continue;
		}
		/* At most a second: the link state is logged as it changes. */
		(void)bftdns_queue_wait(&ctx->intake, 1000);
	}
	if (held != NULL) {
		if (held->client != NULL) {
			uatomic_dec(&ctx->inflight);
		}
		bftdns_request_finish(held, KNOT_RCODE_SERVFAIL);
	}
}

static void *order_main(void *arg)
{
	bftdns_t *ctx = arg;
	rcu_register_thread();

	if (ctx->conf.replicas > 1) {
		order_replicated(ctx);
		rcu_unregister_thread();
		return NULL;
	}

	if (ctx->conf.replay != NULL) {
		order_replay(ctx);
		while (!uatomic_read(&ctx->stopping)) {
			(void)bftdns_queue_wait(&ctx->intake, -1);
		}
		rcu_unregister_thread();
		return NULL;
	}

	/* Propose signing at once (initial signing, or a check after a
	 * restart), then every refresh-interval. The proposal timer may read
	 * the local clock: only what a batch carries reaches the zone. */
	const uint64_t interval_ms = (uint64_t)ctx->conf.refresh_interval * 1000;
	uint64_t next_sign_ms = monotonic_ms();
	order_jsize_t jsize = { 0 };

	while (!uatomic_read(&ctx->stopping)) {
		bool more = false;

		/* While the apply thread is busy, requests gather into the next
		 * batch instead of making many small ones. */
		uint64_t applied = uatomic_read(&ctx->batches_applied);
		bool pipeline_full = (ctx->batches_delivered - applied >= ORDER_PIPELINE);
		if (!pipeline_full) {
			bool sign_due = (monotonic_ms() >= next_sign_ms);
			if (sign_due) {
				next_sign_ms = monotonic_ms() + interval_ms;
				int check = order_sign_check(ctx, &jsize);
				if (check == KNOT_EAGAIN) {
					next_sign_ms = monotonic_ms() + ORDER_JSIZE_RETRY_MS;
				}
				sign_due = (check == KNOT_EOK);
			}
			more = order_form_batch(ctx, sign_due);
		}
		if (more) {
			continue;
		}

		/* Sleep until a request arrives, a batch is applied (the apply
		 * thread wakes this queue), or the next proposal is due. */
		uint64_t now_ms = monotonic_ms();
		uint64_t wait_ms = (next_sign_ms > now_ms) ? next_sign_ms - now_ms : 0;
		if (pipeline_full || wait_ms > 60000) {
			wait_ms = 60000;
		}
		(void)bftdns_queue_wait(&ctx->intake, (int)wait_ms);
	}

	rcu_unregister_thread();
	return NULL;
}

int bftdns_order_start(bftdns_t *ctx)
{
	int ret = pthread_create(&ctx->order_thread, NULL, order_main, ctx);
	if (ret != 0) {
		return knot_map_errno_code(ret);
	}
	ctx->order_started = true;
	return KNOT_EOK;
}

void bftdns_order_stop(bftdns_t *ctx)
{
	if (!ctx->order_started) {
		return;
	}
	uatomic_set(&ctx->stopping, 1);
	bftdns_queue_wake(&ctx->intake);
	pthread_join(ctx->order_thread, NULL);
	ctx->order_started = false;
}
