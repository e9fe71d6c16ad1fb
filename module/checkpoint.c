/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/uatomic.h>

#include "module/checkpoint.h"
#include "module/digest.h"
#include "module/statefile.h"

#define CHECKPOINT_FILE		"checkpoint"
/*! Hex digits of the digest in status and the log (as digest.h shows it). */
#define CHECKPOINT_HEX_BYTES	(BFTDNS_DIGEST_HEX / 2)

struct bftdns_checkpoints {
	pthread_mutex_t lock;        /*!< Apply thread writes; any thread reads. */
	bftdns_checkpoint_t latest;  /*!< claim.batch 0: none yet. */
};

static void checkpoint_hex(const uint8_t *digest, char out[BFTDNS_DIGEST_HEX + 1])
{
	for (size_t i = 0; i < CHECKPOINT_HEX_BYTES; i++) {
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	}
}

/*! The file of an earlier run, if it is a certificate of this group. */
static void checkpoint_load(bftdns_t *ctx, bftdns_checkpoints_t *cps)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int ret = bftdns_statefile_read(ctx->state_dir, CHECKPOINT_FILE,
	                                BFTDNS_CHECKPOINT_SIZE_MAX, &data, &len);
	if (ret == KNOT_ENOENT) {
		return;
	}
	bftdns_checkpoint_t *cp = calloc(1, sizeof(*cp));
	char why[160] = "";
	const knot_dname_t *zone = knotd_mod_zone(ctx->mod);
	if (ret == KNOT_EOK && cp != NULL &&
	    (ret = bftdns_checkpoint_decode(data, len, cp)) == KNOT_EOK) {
		ret = bftdns_checkpoint_verify(cp, zone, knot_dname_size(zone),
		                               bftdns_digest_pins(ctx), ctx->conf.replicas,
		                               2 * ctx->conf.faults + 1, why, sizeof(why));
	}
	if (ret == KNOT_EOK) {
		cps->latest = *cp;
		char hex[BFTDNS_DIGEST_HEX + 1];
		checkpoint_hex(cp->claim.digest, hex);
		knotd_mod_log(ctx->mod, LOG_INFO, "stable checkpoint at batch %"PRIu64" (zone "
		              "digest %s) read from %s/%s", cp->claim.batch, hex,
		              ctx->state_dir, CHECKPOINT_FILE);
	} else {
		/* Nothing depends on it but what may be forgotten: the next
		 * stable checkpoint replaces it. */
		knotd_mod_log(ctx->mod, LOG_WARNING, "%s/%s is not a certificate of this "
		              "group (%s%s%s), ignored", ctx->state_dir, CHECKPOINT_FILE,
		              knot_strerror(ret), why[0] != '\0' ? ": " : "", why);
	}
	free(cp);
	free(data);
}

int bftdns_checkpoint_init(bftdns_t *ctx)
{
	bftdns_checkpoints_t *cps = calloc(1, sizeof(*cps));
	if (cps == NULL) {
		return KNOT_ENOMEM;
	}
	pthread_mutex_init(&cps->lock, NULL);
	if (bftdns_digest_pins(ctx) != NULL && ctx->state_dir != NULL) {
		checkpoint_load(ctx, cps);
	}
	ctx->checkpoints = cps;
	return KNOT_EOK;
}

void bftdns_checkpoint_free(bftdns_t *ctx)
{
	if (ctx->checkpoints != NULL) {
		pthread_mutex_destroy(&ctx->checkpoints->lock);
		free(ctx->checkpoints);
		ctx->checkpoints = NULL;
	}
}

void bftdns_checkpoint_stable(bftdns_t *ctx, const bftdns_checkpoint_t *cp)
{
	bftdns_checkpoints_t *cps = ctx->checkpoints;
	if (cps == NULL || ctx->state_dir == NULL) {
		return;
	}
	pthread_mutex_lock(&cps->lock);
	bool newer = cp->claim.batch > cps->latest.claim.batch;
	pthread_mutex_unlock(&cps->lock);
	if (!newer) {
		return;
	}

	char hex[BFTDNS_DIGEST_HEX + 1];
	checkpoint_hex(cp->claim.digest, hex);
	uint8_t buf[BFTDNS_CHECKPOINT_SIZE_MAX];
	size_t len = bftdns_checkpoint_encode(cp, buf, sizeof(buf));
	int ret = (len > 0) ? bftdns_statefile_write(ctx->state_dir, CHECKPOINT_FILE, buf, len)
	                    : KNOT_EINVAL;
	if (ret != KNOT_EOK) {
		/* Not durable: nothing may be forgotten for it. */
		knotd_mod_log(ctx->mod, LOG_ERR, "stable checkpoint at batch %"PRIu64" not "
		              "written to %s/%s (%s)", cp->claim.batch, ctx->state_dir,
		              CHECKPOINT_FILE, knot_strerror(ret));
		return;
	}
	pthread_mutex_lock(&cps->lock);
	cps->latest = *cp;
	pthread_mutex_unlock(&cps->lock);
	knotd_mod_log(ctx->mod, LOG_INFO, "stable checkpoint: batch %"PRIu64", zone digest "
	              "%s, certified by %u of %u replicas", cp->claim.batch, hex, cp->count,
	              ctx->conf.replicas);

	/* Durable now: what is at or before it is no longer needed on disk,
	 * but only up to what this replica applied (a batch not applied here,
	 * e.g. one that failed while knotd stopped, is what a restart resumes
	 * from). */
	uint64_t applied = uatomic_read(&ctx->last_batch_seq);
	uint64_t upto = (cp->claim.batch < applied) ? cp->claim.batch : applied;
	(void)bftdns_batchstore_forget(ctx->batchstore, upto, &ctx->store_log);
}

int bftdns_checkpoint_latest(bftdns_t *ctx, bftdns_checkpoint_t *out)
{
	bftdns_checkpoints_t *cps = ctx->checkpoints;
	if (cps == NULL || out == NULL) {
		return KNOT_EINVAL;
	}
	pthread_mutex_lock(&cps->lock);
	int ret = (cps->latest.claim.batch != 0) ? KNOT_EOK : KNOT_ENOENT;
	if (ret == KNOT_EOK) {
		*out = cps->latest;
	}
	pthread_mutex_unlock(&cps->lock);
	return ret;
}

void bftdns_checkpoint_status(bftdns_t *ctx, char *out, size_t size)
{
	bftdns_checkpoints_t *cps = ctx->checkpoints;
	if (cps == NULL || bftdns_digest_pins(ctx) == NULL) {
		snprintf(out, size, "off");
		return;
	}
	pthread_mutex_lock(&cps->lock);
	if (cps->latest.claim.batch == 0) {
		snprintf(out, size, "none yet");
	} else {
		char hex[BFTDNS_DIGEST_HEX + 1];
		checkpoint_hex(cps->latest.claim.digest, hex);
		snprintf(out, size, "batch %"PRIu64": %s (%u reports)", cps->latest.claim.batch,
		         hex, cps->latest.count);
	}
	pthread_mutex_unlock(&cps->lock);
}
