/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * mod-bftdns: the Knot glue of bftdns. A zone that enables this module is a
 * replicated zone: its UPDATEs are taken out of Knot's hands (intake.c),
 * ordered (order.c; the atomic broadcast with n > 1), applied through Knot's
 * own DDNS and DNSSEC code at the batch's time (apply.c) and signed by the
 * threshold signer (signer.c). Queries are answered by Knot, untouched,
 * unless ordered-reads is on: then each waits for a READ of its own to be
 * ordered and applied first (read.c).
 * See doc/knot-integration.md and module/bftdns.rst.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <sys/random.h>

#include "knot/module.h"
#include "module/apply.h"
#include "module/bftdns.h"
#include "module/checkpoint.h"
#include "module/conf.h"
#include "module/control.h"
#include "module/digest.h"
#include "module/intake.h"
#include "module/order.h"
#include "module/read.h"
#include "module/replica.h"
#include "module/signer.h"
#include "module/snapshot.h"
#include "module/statedir.h"
#include "module/transfer.h"

/* knotc zone-stats ZONE mod-bftdns: mod-bftdns.NAME, or mod-bftdns.NAME[ID]
 * per replica (doc/operations.md). */
static const struct {
	const char *name;
	bool per_replica;
} counters[] = {
	[BFTDNS_CTR_TAKEN]      = { "updates-taken" },
	[BFTDNS_CTR_REFUSED]    = { "updates-refused" },
	[BFTDNS_CTR_BATCHES]    = { "batches" },
	[BFTDNS_CTR_APPLIED]    = { "updates-applied" },
	[BFTDNS_CTR_FAILED]     = { "updates-failed" },
	[BFTDNS_CTR_SIGNING]    = { "signing-instances" },
	[BFTDNS_CTR_BAD_SHARES] = { "bad-shares", true },
	[BFTDNS_CTR_PEERS_UP]   = { "peers-up" },
	[BFTDNS_CTR_LINK_UPS]   = { "link-ups", true },
	[BFTDNS_CTR_SIGNATURES] = { "signatures" },
	[BFTDNS_CTR_READS_ORDERED]   = { "reads-ordered" },
	[BFTDNS_CTR_READS_TIMED_OUT] = { "reads-timed-out" },
	[BFTDNS_CTR_READS_REFUSED]   = { "reads-refused" },
	[BFTDNS_CTR_READS_FAILED]    = { "reads-failed" },
	[BFTDNS_CTR_SHARES]          = { "signature-shares" },
	[BFTDNS_CTR_HELP_SHARES]     = { "help-shares" },
};

/*! The batch store's lines (batchstore.h) go to the module log. */
static void bftdns_store_log(void *arg, int level, const char *msg)
{
	bftdns_t *ctx = arg;
	knotd_mod_log(ctx->mod, level, "%s", msg);
}

static void bftdns_free(bftdns_t *ctx)
{
	/* The control thread reads everything below: it lets go first. */
	bftdns_control_stop(ctx);
	/* Order first: the apply thread then answers what was never ordered;
	 * the core next, so that nothing is delivered to a stopped apply. */
	bftdns_order_stop(ctx);
	bftdns_replica_stop(ctx);
	bftdns_apply_stop(ctx);
	/* Only now: the apply thread used it until it stopped (signing, state
	 * transfer), and found no core after replica_stop(). */
	bftdns_replica_free(ctx);
	bftdns_transfer_free(ctx);
	bftdns_snapshot_free(ctx);
	/* The last appender and remover stopped. */
	if (ctx->batchstore != NULL) {
		bftdns_batchstore_stats_t st;
		bftdns_batchstore_stats(ctx->batchstore, &st);
		knotd_mod_log(ctx->mod, LOG_INFO, "batch store: %"PRIu64" batches (%"PRIu64" bytes) "
		              "appended since knotd loaded it; %"PRIu64" bytes in %zu segment files "
		              "now", st.appended, st.appended_bytes, st.bytes, st.segments);
	}
	bftdns_batchstore_close(ctx->batchstore);
	bftdns_checkpoint_free(ctx);
	bftdns_digest_free(ctx);
	/* After apply: it wakes the READs it drops while stopping. */
	bftdns_reads_free(ctx->reads);
	bftdns_queue_deinit(&ctx->intake);
	bftdns_queue_deinit(&ctx->delivered);
	bftdns_signer_free(ctx->signer);
	if (ctx->batch_log != NULL) {
		fclose(ctx->batch_log);
	}
	bftdns_conf_clear(&ctx->conf);
	free(ctx->state_dir);
	free(ctx);
}

/*!
 * ordered-reads: at most half of knotd's workers wait for reads at once, so
 * that the others go on answering (other zones, UPDATEs, the refused reads).
 * Read ids start at a random point: a READ of an earlier incarnation that
 * is delivered after a restart must not wake a query of this one.
 */
static int reads_init(bftdns_t *ctx)
{
	unsigned limit = knotd_mod_threads(ctx->mod) / 2;
	uint32_t incarnation = 0;
	if (getrandom(&incarnation, sizeof(incarnation), 0) != sizeof(incarnation)) {
		incarnation = (uint32_t)(uintptr_t)ctx;
	}
	return bftdns_reads_init(&ctx->reads, (limit > 0) ? limit : 1,
	                         (uint64_t)incarnation << 32);
}

int bftdns_load(knotd_mod_t *mod)
{
	/* Refuse an unpatched knotd: the symbol resolves only in a patched one. */
	if (knotd_bftdns_patch_level() < KNOTD_BFTDNS_PATCH_LEVEL) {
		knotd_mod_log(mod, LOG_ERR, "knotd carries bftdns patch level %u, need %u",
		              knotd_bftdns_patch_level(), KNOTD_BFTDNS_PATCH_LEVEL);
		return KNOT_ENOTSUP;
	}

	bftdns_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	ctx->mod = mod;
	ctx->store_log = (bftdns_batchstore_log_t) { bftdns_store_log, ctx };
	ctx->intake.event_fd = -1;
	ctx->delivered.event_fd = -1;

	int ret = bftdns_conf_load(mod, &ctx->conf);
	if (ret != KNOT_EOK) {
		free(ctx);
		return ret;
	}
	if (ctx->conf.misbehave != 0) {
		char modes[128];
		bftdns_conf_misbehave_text(ctx->conf.misbehave, modes, sizeof(modes));
		knotd_mod_log(mod, LOG_WARNING, "TEST MODE: this replica MISBEHAVES on purpose "
		              "(misbehave: %s, knot.conf); never run it in production", modes);
	}

	ret = bftdns_signer_load(mod, &ctx->conf, &ctx->signer);
	if (ret != KNOT_EOK) {
		bftdns_free(ctx);
		return ret;
	}

	if (ctx->conf.batch_log != NULL) {
		ctx->batch_log = fopen(ctx->conf.batch_log, "a");
		if (ctx->batch_log == NULL) {
			ret = knot_map_errno();
			knotd_mod_log(mod, LOG_ERR, "batch log '%s' cannot be opened (%s)",
			              ctx->conf.batch_log, knot_strerror(ret));
			bftdns_free(ctx);
			return ret;
		}
	}

	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		ret = counters[i].per_replica
		    ? knotd_mod_stats_add(mod, counters[i].name, ctx->conf.replicas,
		                          bftdns_control_replica_name)
		    : knotd_mod_stats_add(mod, counters[i].name, 1, NULL);
		if (ret != KNOT_EOK) {
			bftdns_free(ctx);
			return ret;
		}
	}

	if (ctx->conf.ordered_reads) {
		ret = reads_init(ctx);
		if (ret != KNOT_EOK) {
			bftdns_free(ctx);
			return ret;
		}
	}

	/* Without its state directory (logged) a replica still runs: it keeps
	 * no batch store and no checkpoint file, and resumes at its position. */
	if (ctx->conf.replicas > 1) {
		(void)bftdns_statedir_init(ctx);
	}
	if ((ret = bftdns_digest_init(ctx)) != KNOT_EOK ||
	    (ret = bftdns_checkpoint_init(ctx)) != KNOT_EOK ||
	    (bftdns_transfer_on(ctx) && (ret = bftdns_snapshot_init(ctx)) != KNOT_EOK) ||
	    (bftdns_transfer_on(ctx) && (ret = bftdns_transfer_init(ctx)) != KNOT_EOK) ||
	    (ret = bftdns_queue_init(&ctx->intake)) != KNOT_EOK ||
	    (ret = bftdns_queue_init(&ctx->delivered)) != KNOT_EOK ||
	    (ret = bftdns_apply_start(ctx)) != KNOT_EOK ||
	    (ctx->conf.replicas > 1 && (ret = bftdns_replica_start(ctx)) != KNOT_EOK) ||
	    (ret = bftdns_order_start(ctx)) != KNOT_EOK) {
		bftdns_free(ctx);
		return ret;
	}

	/* First: a replica in the minority (digest.h) answers nothing else. */
	ret = knotd_mod_hook(mod, KNOTD_STAGE_BEGIN, bftdns_digest_hook);
	if (ret == KNOT_EOK) {
		ret = knotd_mod_hook(mod, KNOTD_STAGE_BEGIN, bftdns_intake_hook);
	}
	if (ret == KNOT_EOK && ctx->conf.ordered_reads) {
		ret = knotd_mod_hook(mod, KNOTD_STAGE_BEGIN, bftdns_read_hook);
	}
	if (ret != KNOT_EOK) {
		bftdns_free(ctx);
		return ret;
	}
	/* Last: what bftdnsctl asks about is running now. */
	ret = bftdns_control_start(ctx);
	if (ret != KNOT_EOK) {
		bftdns_free(ctx);
		return ret;
	}
	knotd_mod_ctx_set(mod, ctx);

	unsigned algorithm, key_tag, bits;
	bftdns_signer_describe(ctx->signer, &algorithm, &key_tag, &bits);
	knotd_mod_log(mod, LOG_INFO, "active, replica %u of %u (f = %u), signing protocol %s, "
	              "key tag %u (algorithm %u, %u bits)%s",
	              ctx->conf.replica_id, ctx->conf.replicas, ctx->conf.faults,
	              shoup_strategy_name(ctx->conf.protocol), key_tag, algorithm, bits,
	              ctx->conf.ordered_reads ? ", ordered reads" : "");
	return KNOT_EOK;
}

void bftdns_unload(knotd_mod_t *mod)
{
	bftdns_t *ctx = knotd_mod_ctx(mod);
	if (ctx != NULL) {
		bftdns_free(ctx);
	}
}

KNOTD_MOD_API(bftdns, KNOTD_MOD_FLAG_SCOPE_ZONE | KNOTD_MOD_FLAG_ORDERS_CHANGES,
              bftdns_load, bftdns_unload, bftdns_conf_items, bftdns_conf_check);
