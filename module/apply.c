/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <urcu.h>
#include <urcu/uatomic.h>

#include "module/apply.h"
#include "module/authz.h"
#include "module/control.h"
#include "module/batchlog.h"
#include "module/digest.h"
#include "module/history.h"
#include "module/jsize.h"
#include "module/position.h"
#include "module/replica.h"
#include "module/signer.h"
#include "module/threshold.h"
#include "module/transfer.h"

/*! Wait for the zone to be loaded (or a reload to finish): 100 ms steps. */
#define APPLY_RETRY_MS		100
#define APPLY_RETRIES_MAX	600

void bftdns_apply_deliver(bftdns_t *ctx, bftdns_batch_t *batch)
{
	uatomic_inc(&ctx->batches_queued);
	bftdns_queue_push(&ctx->delivered, &batch->node);
}

/*! Errors that leave the zone untouched and may pass: try again later. */
static bool apply_may_retry(int ret)
{
	return ret == KNOT_ENOZONE || ret == KNOT_EEMPTYZONE || ret == KNOT_EBUSY;
}

/*! Answers the local clients of a batch that is not applied. */
static void apply_answer_all(bftdns_t *ctx, bftdns_batch_t *batch, uint16_t rcode)
{
	for (size_t i = 0; i < batch->count; i++) {
		if (batch->requests[i]->client != NULL) {
			uatomic_dec(&ctx->inflight);
		}
	}
	bftdns_batch_fail(batch, rcode);
}

static int apply_change(bftdns_t *ctx, knotd_change_t *change, uint64_t seq)
{
	int ret = KNOT_EOK;
	for (unsigned attempt = 0; attempt <= APPLY_RETRIES_MAX; attempt++) {
		ret = knotd_zone_apply(ctx->mod, change);
		if (!apply_may_retry(ret) || uatomic_read(&ctx->stopping)) {
			break;
		}
		if (attempt == 0) {
			knotd_mod_log(ctx->mod, LOG_INFO, "batch %"PRIu64" waits for the "
			              "zone (%s)", seq, knot_strerror(ret));
		}
		/* Woken early by a delivery or by unload; both are fine. */
		(void)bftdns_queue_wait(&ctx->delivered, APPLY_RETRY_MS);
	}
	return ret;
}

/*!
 * Every replica authorizes every ordered UPDATE itself, at the batch time
 * (authz.h): with replicas > 1 it may come from a peer, and a replayed
 * batch log is bytes from a file. A replayed UPDATE has no client address:
 * only rules with a key can allow it.
 */
static uint16_t apply_authorize(bftdns_t *ctx, const bftdns_request_t *request,
                                uint64_t now)
{
	return bftdns_authz_check(ctx, request->wire, request->wire_len,
	                          &request->remote, now);
}

/*!
 * replicas > 1: a batch at or below the last one applied is in the zone
 * already (the coordinator resumes after the durable position, position.h,
 * so this never happens; if it did, applying it again would apply its
 * UPDATEs twice). Its local clients, if any, were answered by then.
 */
static bool apply_already(bftdns_t *ctx, bftdns_batch_t *batch)
{
	uint64_t last = uatomic_read(&ctx->last_batch_seq);
	if (ctx->conf.replicas == 1 || batch->seq > last) {
		return false;
	}
	knotd_mod_log(ctx->mod, LOG_WARNING, "batch %"PRIu64" delivered again, not applied: "
	              "batch %"PRIu64" is applied", batch->seq, last);
	apply_answer_all(ctx, batch, KNOT_RCODE_SERVFAIL);
	return true;
}

/*!
 * The journal refused a change with a signing pass (too large for the
 * zone's journal-max-usage, jsize.h): every replica with the same
 * configuration failed it the same way, so proposing it again would only
 * repeat the signing rounds and the failure. This instance proposes no more
 * (order.c) until a knotc reload; batches already ordered are applied as
 * they come, the same on every replica.
 */
static void apply_sign_refused(bftdns_t *ctx, uint64_t seq)
{
	if (uatomic_read(&ctx->sign_nospace)) {
		return;
	}
	bftdns_jsize_t js = { 0 };
	int ret = bftdns_jsize_check(ctx, &js);
	char suggested[64] = "a larger value";
	if (ret == KNOT_EOK || ret == KNOT_ESPACE) {
		snprintf(suggested, sizeof(suggested), "'journal-max-usage: %"PRIu64"M'",
		         js.suggested);
	}
	snprintf(ctx->sign_nospace_text, sizeof(ctx->sign_nospace_text),
	         "signing pass of batch %"PRIu64" refused by the journal, no more "
	         "proposed by this replica; set %s for the zone and knotc reload",
	         seq, suggested);
	cmm_smp_wmb();  /* The text before the flag (control.c reads it). */
	uatomic_set(&ctx->sign_nospace, 1);
	knotd_mod_log(ctx->mod, LOG_ERR, "%s", ctx->sign_nospace_text);
}

static void apply_batch(bftdns_t *ctx, bftdns_batch_t *batch)
{
	/* After a lost batch this replica's zone would differ from the
	 * others': it applies nothing more (and says so at the loss). */
	if (uatomic_read(&ctx->diverged)) {
		apply_answer_all(ctx, batch, KNOT_RCODE_SERVFAIL);
		return;
	}
	if (apply_already(ctx, batch)) {
		return;
	}

	/* replicas > 1: on disk before it is applied, for a restart to give
	 * the broadcast back (batchstore.h). A failure costs only that. */
	if (ctx->batchstore != NULL && batch->raw != NULL) {
		int ret = bftdns_batchstore_append(ctx->batchstore, batch->seq, batch->raw,
		                                   batch->raw_len, &ctx->store_log);
		if (ret != KNOT_EOK) {
			knotd_mod_log(ctx->mod, LOG_WARNING, "batch store: batch %"PRIu64" not "
			              "stored (%s); a restart resumes without the bytes before "
			              "it", batch->seq, knot_strerror(ret));
		}
	}

	if (ctx->batch_log != NULL) {
		int ret = bftdns_batchlog_write(ctx->batch_log, batch);
		if (ret != KNOT_EOK) {
			knotd_mod_log(ctx->mod, LOG_ERR, "batch log '%s': batch %"PRIu64
			              " not written (%s)", ctx->conf.batch_log, batch->seq,
			              knot_strerror(ret));
		}
	}

	knotd_change_update_t *updates = calloc(batch->count + 1, sizeof(*updates));
	uint16_t *refused = calloc(batch->count + 1, sizeof(*refused));
	if (updates == NULL || refused == NULL) {
		knotd_mod_log(ctx->mod, LOG_ERR, "batch %"PRIu64" dropped, no memory", batch->seq);
		free(updates);
		free(refused);
		bftdns_batch_fail(batch, KNOT_RCODE_SERVFAIL);
		return;
	}

	knotd_change_t change = {
		.now = batch->now,
		.updates = updates,
	};
	/* replicas > 1: the batch's position is durable with its change
	 * (position.h); one without it could be applied twice after a crash. */
	uint8_t position[BFTDNS_POSITION_LEN];
	bftdns_position_t pos;
	if (ctx->conf.replicas > 1) {
		if (bftdns_position_of_batch(batch, &pos) != KNOT_EOK) {
			knotd_mod_log(ctx->mod, LOG_ERR, "batch %"PRIu64" has no position, "
			              "replica stops applying", batch->seq);
			uatomic_set(&ctx->diverged, 1);
			free(updates);
			free(refused);
			apply_answer_all(ctx, batch, KNOT_RCODE_SERVFAIL);
			return;
		}
		bftdns_position_encode(&pos, position);
		change.position = position;
		change.position_len = sizeof(position);
	}
	for (size_t i = 0; i < batch->count; i++) {
		const bftdns_request_t *request = batch->requests[i];
		if (request->kind == BFTDNS_OP_UPDATE) {
			refused[i] = apply_authorize(ctx, request, batch->now);
			if (refused[i] != KNOT_RCODE_NOERROR) {
				continue;
			}
			updates[change.update_count].wire = request->wire;
			updates[change.update_count].wire_len = request->wire_len;
			change.update_count++;
		} else if (request->kind == BFTDNS_OP_SIGN) {
			change.flags |= KNOTD_CHANGE_SIGN_ZONE;
		}
	}
	int ret;
	if (change.update_count == 0 && change.flags == 0) {
		/* Every UPDATE refused: nothing to apply but the position. */
		ret = (change.position != NULL) ? apply_change(ctx, &change, batch->seq) : KNOT_EOK;
	} else if (bftdns_signer_threshold(ctx->signer)) {
		ret = bftdns_threshold_apply(ctx, &change, batch->seq, apply_change);
	} else {
		change.signer = bftdns_signer_knotd(ctx->signer);
		ret = apply_change(ctx, &change, batch->seq);
	}
	if (ret != KNOT_EOK) {
		knotd_mod_log(ctx->mod, LOG_ERR, "batch %"PRIu64" of %zu updates not "
		              "applied (%s)", batch->seq, change.update_count,
		              knot_strerror(ret));
		if (ret == KNOT_ESPACE && (change.flags & KNOTD_CHANGE_SIGN_ZONE)) {
			apply_sign_refused(ctx, batch->seq);
		}
	} else if (change.flags & KNOTD_CHANGE_SIGN_ZONE) {
		uatomic_inc(&ctx->sign_passes);
	}
	/* Its position is in the journal with the change: a restart resumes
	 * after it, and the vote log may forget the epochs before. */
	if (ret == KNOT_EOK && change.position != NULL) {
		bftdns_replica_set_durable(ctx, batch->seq);
	}

	/* Consistency checks: the batch's DIGEST reports, and the zone's digest
	 * if the batch is a checkpoint (digest.h); they change nothing. */
	bftdns_digest_after_batch(ctx, batch, ret);

	/* A READ's query may be answered once the zone is the state after its
	 * batch: applied, or failed the same way on every replica. Not if the
	 * zone went to a new instance (reload) before this batch was in it. */
	uint16_t read_rcode = (apply_may_retry(ret) || ret == KNOT_ECONNABORTED) ?
	                      KNOT_RCODE_SERVFAIL : KNOT_RCODE_NOERROR;

	/* The rcodes are in the order of the UPDATEs in the batch. */
	size_t next = 0;
	for (size_t i = 0; i < batch->count; i++) {
		bftdns_request_t *request = batch->requests[i];
		if (request->kind != BFTDNS_OP_UPDATE) {
			bftdns_request_finish(request, (request->kind == BFTDNS_OP_READ) ?
			                      read_rcode : KNOT_RCODE_NOERROR);
			continue;
		}
		uint16_t rcode = refused[i];
		if (rcode == KNOT_RCODE_NOERROR) {
			rcode = (ret == KNOT_EOK) ? updates[next].rcode : KNOT_RCODE_SERVFAIL;
			next++;
		}
		bool local = (request->client != NULL);
		bftdns_request_finish(request, rcode);
		if (local) {
			uatomic_dec(&ctx->inflight);
			bftdns_control_count(ctx, 0, (rcode == KNOT_RCODE_NOERROR) ?
			                     BFTDNS_CTR_APPLIED : BFTDNS_CTR_FAILED, 0, 1);
		}
	}
	bftdns_control_count(ctx, 0, BFTDNS_CTR_BATCHES, 0, 1);
	uatomic_set(&ctx->last_batch_time, batch->now);
	uatomic_set(&ctx->last_batch_seq, batch->seq);

	/* Applied (or failed the same way on every replica): a coordinator
	 * started after a reload goes on after it. Not for a batch this
	 * instance could not apply because its zone went to a new instance. */
	if (batch->raw != NULL && !apply_may_retry(ret) && ret != KNOT_ECONNABORTED) {
		(void)bftdns_history_record(knotd_mod_zone(ctx->mod), batch->raw, batch->raw_len);
	}
	free(updates);
	free(refused);
	bftdns_batch_free(batch);
}

static void *apply_main(void *arg)
{
	bftdns_t *ctx = arg;
	rcu_register_thread();

	while (true) {
		struct cds_wfcq_node *node = bftdns_queue_pop(&ctx->delivered);
		if (node != NULL && uatomic_read(&ctx->stopping)) {
			/* Unloading: the batches still queued are not applied (a
			 * whole-zone pass takes minutes on a large zone, and its
			 * signing rounds would fail anyway, the core is stopped).
			 * Nothing is lost: the durable position is before them, so
			 * the next coordinator of this zone (after a reload or a
			 * restart) has them delivered again; their clients get
			 * SERVFAIL, nothing was acknowledged. */
			bftdns_batch_t *batch = caa_container_of(node, bftdns_batch_t, node);
			knotd_mod_log(ctx->mod, LOG_INFO, "batch %"PRIu64" not applied, "
			              "the module is stopping", batch->seq);
			apply_answer_all(ctx, batch, KNOT_RCODE_SERVFAIL);
			continue;
		}
		if (node != NULL) {
			apply_batch(ctx, caa_container_of(node, bftdns_batch_t, node));
			uatomic_inc(&ctx->batches_applied);
			bftdns_queue_wake(&ctx->intake);
			continue;
		}
		if (uatomic_read(&ctx->stopping)) {
			break;
		}
		/* Idle (or stuck behind the peers): a state transfer may be
		 * due, under way or complete (transfer.h). */
		bftdns_transfer_tick(ctx);
		(void)bftdns_queue_wait(&ctx->delivered, ctx->transfer != NULL ? 1000 : -1);
	}

	/* Requests the order step never batched: their clients hear now. */
	struct cds_wfcq_node *node;
	while ((node = bftdns_queue_pop(&ctx->intake)) != NULL) {
		bftdns_request_t *request = caa_container_of(node, bftdns_request_t, node);
		if (request->client != NULL) {
			uatomic_dec(&ctx->inflight);
		}
		bftdns_request_finish(request, KNOT_RCODE_SERVFAIL);
	}

	rcu_unregister_thread();
	return NULL;
}

int bftdns_apply_start(bftdns_t *ctx)
{
	int ret = pthread_create(&ctx->apply_thread, NULL, apply_main, ctx);
	if (ret != 0) {
		return knot_map_errno_code(ret);
	}
	ctx->apply_started = true;
	return KNOT_EOK;
}

void bftdns_apply_stop(bftdns_t *ctx)
{
	if (!ctx->apply_started) {
		return;
	}
	uatomic_set(&ctx->stopping, 1);
	bftdns_queue_wake(&ctx->delivered);
	pthread_join(ctx->apply_thread, NULL);
	ctx->apply_started = false;
}
