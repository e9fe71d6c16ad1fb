/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <urcu/uatomic.h>

#include "coordinator/proto/tsign.h"
#include "module/control.h"
#include "module/replica.h"
#include "module/signer.h"
#include "module/sigset.h"
#include "module/threshold.h"

/*! Real applies that may each find digests the dry run did not. */
#define THRESHOLD_ROUNDS_MAX	3
/*! Above this many signatures in one change, progress goes to the log per wave. */
#define THRESHOLD_PROGRESS_MIN	(BFTDNS_REPLICA_SIGN_WAVE * TSIGN_MSGS_MAX)

/*!
 * Keeps the signatures of one finished request next to its batch
 * (batchstore.h), so that after a restart this replica can still answer a
 * peer that catches up on the batch (tsign_restore()). Best effort: one not
 * stored leaves that peer to the other replicas, as before.
 */
static void threshold_store_sigs(bftdns_t *ctx, uint64_t id, uint8_t alg, const uint8_t *digests,
                                 size_t dsize, size_t m, const uint8_t *sigs, size_t ssize)
{
	/* A batch with more signatures than the signing core keeps (a
	 * whole-zone pass of a large zone) cannot be served whole to a peer
	 * after a restart anyway: its requests beyond that are not written. */
	uint32_t position = (uint32_t)(id & ((1u << TSIGN_ID_POSITION_BITS) - 1));
	if (ctx->batchstore == NULL ||
	    (uint64_t)(position + 1) * TSIGN_MSGS_MAX * ssize > BFTDNS_BATCHSTORE_SIG_BYTES) {
		return;
	}
	bftdns_stored_sigs_t rec = {
		.id = id, .alg = alg, .count = (uint16_t)m, .digest_len = (uint16_t)dsize,
		.sig_len = (uint16_t)ssize, .digests = digests, .sigs = sigs,
	};
	int ret = bftdns_batchstore_append_sigs(ctx->batchstore, &rec, &ctx->store_log);
	if (ret != KNOT_EOK && ret != KNOT_ENOENT) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "batch store: signatures of request %"PRIu64
		              " not stored (%s)", id, knot_strerror(ret));
	}
}

/*!
 * Has the digests (sorted, count of them) signed by the group, as requests
 * from position *position on, and stores the signatures in set. Requests
 * go out in waves of BFTDNS_REPLICA_SIGN_WAVE, signed in parallel.
 */
static int threshold_sign(bftdns_t *ctx, bftdns_sigset_t *set, uint64_t seq,
                          uint32_t *position, const uint8_t *digests, size_t count)
{
	const keys_public_t *pub = &bftdns_signer_share(ctx->signer)->pub;
	const size_t dsize = pub->alg->digest_size;
	const size_t ssize = bftdns_signer_sig_size(ctx->signer);
	uint8_t *sigs = malloc((size_t)TSIGN_MSGS_MAX * ssize);
	if (sigs == NULL) {
		return KNOT_ENOMEM;
	}

	/* A whole-zone pass of a large zone takes a while: say how far it is. */
	const bool progress = (count > THRESHOLD_PROGRESS_MIN);
	if (progress) {
		knotd_mod_log(ctx->mod, LOG_INFO, "batch %"PRIu64" needs %zu signatures, "
		              "signing them with the group", seq, count);
	}

	int ret = KNOT_EOK;
	size_t done = 0;
	while (ret == KNOT_EOK && done < count) {
		/* Start a wave of requests... */
		uint64_t ids[BFTDNS_REPLICA_SIGN_WAVE];
		size_t firsts[BFTDNS_REPLICA_SIGN_WAVE], sizes[BFTDNS_REPLICA_SIGN_WAVE];
		size_t wave = 0, next = done;
		while (ret == KNOT_EOK && wave < BFTDNS_REPLICA_SIGN_WAVE && next < count) {
			if (*position >= (1u << TSIGN_ID_POSITION_BITS)) {
				knotd_mod_log(ctx->mod, LOG_ERR, "batch %"PRIu64" needs more than "
				              "%u signing requests", seq, 1u << TSIGN_ID_POSITION_BITS);
				ret = KNOT_ELIMIT;
				break;
			}
			size_t m = count - next;
			m = (m > TSIGN_MSGS_MAX) ? TSIGN_MSGS_MAX : m;
			tsign_request_t req = {
				.id = tsign_id_make(seq, (*position)++),
				.alg = (uint8_t)pub->alg->number,
				.count = (uint16_t)m,
				.digests = digests + next * dsize,
			};
			ret = bftdns_replica_sign_start(ctx, &req);
			if (ret == KNOT_EOK) {
				ids[wave] = req.id;
				firsts[wave] = next;
				sizes[wave] = m;
				wave++;
				next += m;
			}
		}
		/* ...and collect all of it (also after a failed start: the
		 * started ones hold slots). */
		for (size_t w = 0; w < wave; w++) {
			int r = bftdns_replica_sign_wait(ctx, ids[w], sigs, sizes[w], ssize);
			if (r == KNOT_EOK) {
				threshold_store_sigs(ctx, ids[w], (uint8_t)pub->alg->number,
				                     digests + firsts[w] * dsize, dsize, sizes[w],
				                     sigs, ssize);
				r = bftdns_sigset_fill(set, digests + firsts[w] * dsize, sizes[w], sigs);
				bftdns_control_count(ctx, 0, BFTDNS_CTR_SIGNING, 0, 1);
				bftdns_control_count(ctx, 0, BFTDNS_CTR_SIGNATURES, 0, sizes[w]);
			}
			if (r != KNOT_EOK && ret == KNOT_EOK) {
				ret = r;
			}
		}
		done = next;
		if (progress && ret == KNOT_EOK) {
			knotd_mod_log(ctx->mod, LOG_INFO, "batch %"PRIu64": %zu of %zu signatures "
			              "made (%zu%%)", seq, done, count, done * 100 / count);
		}
	}
	free(sigs);
	return ret;
}

/*! The signing faults the coordinator blamed on each peer, into the counters. */
static void threshold_count_faults(bftdns_t *ctx)
{
	bftdns_core_stats_t st;
	if (!bftdns_replica_stats(ctx, &st)) {
		return;
	}
	for (unsigned i = 0; i < ctx->conf.replicas && i < SHOUP_PLAYERS_MAX; i++) {
		/* Only this thread adds to bad_shares. */
		uint64_t seen = uatomic_read(&ctx->bad_shares[i]);
		if (st.sign_faults[i] > seen) {
			bftdns_control_count(ctx, 0, BFTDNS_CTR_BAD_SHARES, i, st.sign_faults[i] - seen);
		}
	}
}

int bftdns_threshold_apply(bftdns_t *ctx, knotd_change_t *change, uint64_t seq,
                           int (*apply)(bftdns_t *, knotd_change_t *, uint64_t))
{
	const keys_public_t *pub = &bftdns_signer_share(ctx->signer)->pub;
	bftdns_sigset_t *set = bftdns_sigset_new(pub->alg->digest_size,
	                                         bftdns_signer_sig_size(ctx->signer),
	                                         bftdns_signer_knotd(ctx->signer),
	                                         bftdns_signer_verify, ctx->signer);
	if (set == NULL) {
		return KNOT_ENOMEM;
	}

	/* 1. What will be signed. */
	const knotd_change_flag_t flags = change->flags;
	change->flags = flags | KNOTD_CHANGE_DRY_RUN;
	change->signer = bftdns_sigset_signer(set, true);
	int ret = apply(ctx, change, seq);
	change->flags = flags;
	change->signer = bftdns_sigset_signer(set, false);

	uint32_t position = 0;
	int failed = KNOT_EOK;  /* Why the last real apply failed. */
	for (unsigned round = 0; ret == KNOT_EOK; round++) {
		/* 2. Signed by the group. */
		uint8_t *digests = NULL;
		size_t missing = bftdns_sigset_missing(set, &digests);
		if (missing == SIZE_MAX) {
			ret = KNOT_ENOMEM;
			break;
		}
		if (missing > 0) {
			if (round > 0) {
				knotd_mod_log(ctx->mod, LOG_NOTICE, "batch %"PRIu64" asked for %zu "
				              "signatures its dry run did not, signing them too",
				              seq, missing);
			}
			ret = threshold_sign(ctx, set, seq, &position, digests, missing);
		}
		free(digests);
		if (ret != KNOT_EOK) {
			break;
		}
		if (round > 0 && missing == 0) {
			/* The real apply failed for another reason than a missing
			 * signature: that is its result. */
			ret = failed;
			break;
		}

		/* 3. For real. */
		ret = apply(ctx, change, seq);
		if (ret == KNOT_EOK || round + 1 >= THRESHOLD_ROUNDS_MAX) {
			break;
		}
		/* A failed real apply committed nothing; one that failed for a
		 * missing signature noted it, and the next round signs it. */
		failed = ret;
		ret = KNOT_EOK;
	}

	threshold_count_faults(ctx);
	bftdns_sigset_free(set);
	return ret;
}
