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

#include "coordinator/proto/error.h"
#include "module/checkpoint.h"
#include "module/digest.h"
#include "module/digest_report.h"
#include "module/position.h"
#include "module/snapshot.h"

/*! What is known of one checkpoint batch. */
typedef struct {
	uint64_t batch;                   /*!< 0: slot unused. */
	bool own_known;                   /*!< This replica hashed its zone after batch. */
	uint8_t own[BFTDNS_DIGEST_SIZE];  /*!< What it reported (corrupt-digest: the lie). */
	bool reported[SHOUP_PLAYERS_MAX]; /*!< Delivered reports, by replica (0-based). */
	uint8_t reports[SHOUP_PLAYERS_MAX][BFTDNS_DIGEST_SIZE];
	uint64_t times[SHOUP_PLAYERS_MAX];/*!< The agreed time of batch each one claims. */
	/*! The signed bytes of each, for a certificate (checkpoint_cert.h). */
	uint8_t signed_reports[SHOUP_PLAYERS_MAX][BFTDNS_DIGEST_REPORT_SIZE];
	unsigned report_count;
	bool formed;                      /*!< The checkpoint digest is known. */
	uint8_t agreed[BFTDNS_DIGEST_SIZE];
	uint64_t agreed_time;             /*!< ... and the time of batch its reports claim. */
	bool stable;                      /*!< 2f + 1 reports agree (checkpoint.h). */
	bool minority_logged;
} digest_round_t;

struct bftdns_digest {
	bftdns_digest_signer_t signer;    /*!< replicas > 1: signs this replica's reports. */
	bft_pin_t pins[SHOUP_PLAYERS_MAX];/*!< Link key pins by replica (0-based). */
	pthread_mutex_t lock;             /*!< Apply thread writes; status reads. */
	digest_round_t rounds[BFTDNS_DIGEST_ROUNDS];

	/* What status shows (under lock). */
	uint64_t own_batch;               /*!< Latest own digest, 0: none yet. */
	uint8_t own_digest[BFTDNS_DIGEST_SIZE];
	uint64_t cp_batch;                /*!< Latest checkpoint, 0: none yet. */
	uint8_t cp_digest[BFTDNS_DIGEST_SIZE];
	unsigned cp_agree;                /*!< Reports equal to it so far. */
	uint64_t mismatches;              /*!< Peer reports that differed from own digests. */
	unsigned last_bad_replica;        /*!< 1-based, of the latest mismatch. */
	uint64_t last_bad_batch;
	uint64_t minority_batch;          /*!< Latest checkpoint this replica missed, 0: none. */
};

/*! The first bytes of a digest in hex (out: 2 * bytes + 1 characters). */
static void digest_hex_n(const uint8_t *digest, size_t bytes, char *out)
{
	for (size_t i = 0; i < bytes; i++) {
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	}
}

/*! The prefix that logs and status show. */
static void digest_hex(const uint8_t *digest, char out[BFTDNS_DIGEST_HEX + 1])
{
	digest_hex_n(digest, BFTDNS_DIGEST_HEX / 2, out);
}

/*! The link key pins of every replica: its own from its key, the peers' from knot.conf. */
static int digest_keys(bftdns_t *ctx, bftdns_digest_t *dg)
{
	char why[BFT_WHY_MAX];
	if (bftdns_digest_signer_load(&dg->signer, ctx->conf.link_key, why,
	                              sizeof(why)) != BFT_EOK) {
		knotd_mod_log(ctx->mod, LOG_ERR, "digest reports cannot be signed: %s", why);
		return KNOT_EINVAL;
	}
	dg->pins[ctx->conf.replica_id - 1] = dg->signer.pin;
	for (unsigned i = 0; i < ctx->conf.peer_count; i++) {
		const bftdns_peer_conf_t *peer = &ctx->conf.peers[i];
		if (bft_pin_parse(peer->pin, &dg->pins[peer->id - 1]) != BFT_EOK) {
			return KNOT_EINVAL;  /* conf-check requires a valid pin. */
		}
	}
	return KNOT_EOK;
}

int bftdns_digest_init(bftdns_t *ctx)
{
	bftdns_digest_t *dg = calloc(1, sizeof(*dg));
	if (dg == NULL) {
		return KNOT_ENOMEM;
	}
	if (ctx->conf.replicas > 1 && ctx->conf.digest_interval > 0) {
		int ret = digest_keys(ctx, dg);
		if (ret != KNOT_EOK) {
			bftdns_digest_signer_clear(&dg->signer);
			free(dg);
			return ret;
		}
	}
	pthread_mutex_init(&dg->lock, NULL);
	ctx->digest = dg;
	return KNOT_EOK;
}

void bftdns_digest_free(bftdns_t *ctx)
{
	if (ctx->digest != NULL) {
		bftdns_digest_signer_clear(&ctx->digest->signer);
		pthread_mutex_destroy(&ctx->digest->lock);
		free(ctx->digest);
		ctx->digest = NULL;
	}
}

bftdns_request_t *bftdns_digest_request(bftdns_t *ctx, unsigned origin,
                                        const uint8_t *payload, size_t len)
{
	const bftdns_digest_t *dg = ctx->digest;
	if (dg == NULL || ctx->conf.digest_interval == 0 || origin >= ctx->conf.replicas) {
		return NULL;
	}
	const knot_dname_t *zone = knotd_mod_zone(ctx->mod);
	bftdns_digest_claim_t claim;
	if (!bftdns_digest_report_read(payload, len, zone, knot_dname_size(zone),
	                               &dg->pins[origin], &claim)) {
		knotd_mod_log(ctx->mod, LOG_NOTICE, "replica %u: DIGEST report malformed or "
		              "not signed with its link key, left out", origin + 1);
		return NULL;
	}

	bftdns_request_t *request = calloc(1, sizeof(*request));
	uint8_t *checked = malloc(BFTDNS_DIGEST_REPORT_SIZE);
	if (request == NULL || checked == NULL) {
		free(request);
		free(checked);
		return NULL;
	}
	/* Verified; whole, since it may become part of a certificate. */
	memcpy(checked, payload, BFTDNS_DIGEST_REPORT_SIZE);
	request->kind = BFTDNS_OP_DIGEST;
	request->origin = origin;
	request->owned_wire = checked;
	request->wire = checked;
	request->wire_len = BFTDNS_DIGEST_REPORT_SIZE;
	return request;
}

/*! The round of batch; with create, a new one replaces the oldest older one. */
static digest_round_t *digest_round(bftdns_digest_t *dg, uint64_t batch, bool create)
{
	digest_round_t *oldest = NULL;
	for (size_t i = 0; i < BFTDNS_DIGEST_ROUNDS; i++) {
		digest_round_t *r = &dg->rounds[i];
		if (r->batch == batch) {
			return r;
		}
		if (oldest == NULL || r->batch < oldest->batch) {
			oldest = r;
		}
	}
	if (!create || oldest->batch > batch) {
		return NULL;
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->batch = batch;
	return oldest;
}

/*! Replica i reported digest and time. */
static bool digest_says(const digest_round_t *r, unsigned i, const uint8_t *digest,
                        uint64_t time_ms)
{
	return r->reported[i] && r->times[i] == time_ms &&
	       memcmp(r->reports[i], digest, BFTDNS_DIGEST_SIZE) == 0;
}

/*! Reports equal to digest and time (others: leaving out this replica's own). */
static unsigned digest_count(const bftdns_t *ctx, const digest_round_t *r,
                             const uint8_t *digest, uint64_t time_ms, bool others)
{
	unsigned count = 0;
	for (unsigned i = 0; i < ctx->conf.replicas; i++) {
		if (others && i + 1 == ctx->conf.replica_id) {
			continue;
		}
		if (digest_says(r, i, digest, time_ms)) {
			count++;
		}
	}
	return count;
}

/*!
 * 2f + 1 reports with f + 1 equal ones name the checkpoint. Two values
 * with f + 1 each (correct replicas that diverged) cannot both win: the
 * first in delivery order does, the same on every replica.
 */
static void digest_try_form(bftdns_t *ctx, digest_round_t *r)
{
	const unsigned f = ctx->conf.faults;
	if (r->formed || r->report_count < 2 * f + 1) {
		return;
	}
	for (unsigned i = 0; i < ctx->conf.replicas && !r->formed; i++) {
		if (r->reported[i] &&
		    digest_count(ctx, r, r->reports[i], r->times[i], false) >= f + 1) {
			memcpy(r->agreed, r->reports[i], BFTDNS_DIGEST_SIZE);
			r->agreed_time = r->times[i];
			r->formed = true;
		}
	}
	if (!r->formed) {
		return;
	}

	bftdns_digest_t *dg = ctx->digest;
	unsigned agree = digest_count(ctx, r, r->agreed, r->agreed_time, false);
	char hex[BFTDNS_DIGEST_HEX + 1];
	digest_hex(r->agreed, hex);
	knotd_mod_log(ctx->mod, LOG_INFO, "checkpoint at batch %"PRIu64": zone digest %s "
	              "(%u of %u replicas agree)", r->batch, hex, agree, ctx->conf.replicas);
	if (r->batch >= dg->cp_batch) {
		dg->cp_batch = r->batch;
		memcpy(dg->cp_digest, r->agreed, BFTDNS_DIGEST_SIZE);
	}
}

/*!
 * This replica is in the minority for a checkpoint if its own digest
 * differs and f + 1 others agree on the checkpoint: then at least one
 * correct replica holds the checkpoint's zone and this one's is wrong.
 */
static void digest_check_minority(bftdns_t *ctx, digest_round_t *r)
{
	if (!r->formed || !r->own_known || r->minority_logged ||
	    memcmp(r->own, r->agreed, BFTDNS_DIGEST_SIZE) == 0) {
		return;
	}
	unsigned others = digest_count(ctx, r, r->agreed, r->agreed_time, true);
	if (others < ctx->conf.faults + 1) {
		return;
	}
	r->minority_logged = true;
	ctx->digest->minority_batch = r->batch;

	char own[BFTDNS_DIGEST_HEX + 1], agreed[BFTDNS_DIGEST_HEX + 1];
	digest_hex(r->own, own);
	digest_hex(r->agreed, agreed);
	const char *then = "";
	if (ctx->conf.consistency == BFTDNS_CONSISTENCY_STRICT) {
		then = uatomic_xchg(&ctx->serve_refused, 1) ?
		       "; it still serves nothing (consistency: strict)" :
		       "; it stops serving the zone (consistency: strict) until restarted";
	}
	knotd_mod_log(ctx->mod, LOG_ERR, "CONSISTENCY: this replica's zone digest after "
	              "batch %"PRIu64" is %s, %u other replicas agree on %s: this replica's "
	              "zone differs from the group's%s", r->batch, own, others, agreed, then);
}

/*!
 * 2f + 1 equal reports make the checkpoint stable: its certificate is
 * those reports (checkpoint.h). The same on every correct replica: it
 * depends on the delivered reports only.
 */
static void digest_try_stable(bftdns_t *ctx, digest_round_t *r)
{
	const unsigned quorum = 2 * ctx->conf.faults + 1;
	if (!r->formed || r->stable ||
	    digest_count(ctx, r, r->agreed, r->agreed_time, false) < quorum) {
		return;
	}
	r->stable = true;
	bftdns_checkpoint_t *cp = calloc(1, sizeof(*cp));
	if (cp == NULL) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "stable checkpoint at batch %"PRIu64
		              " not kept, no memory", r->batch);
		return;
	}
	cp->claim.batch = r->batch;
	cp->claim.time_ms = r->agreed_time;
	memcpy(cp->claim.digest, r->agreed, BFTDNS_DIGEST_SIZE);
	for (unsigned i = 0; i < ctx->conf.replicas && cp->count < quorum; i++) {
		if (digest_says(r, i, r->agreed, r->agreed_time)) {
			cp->origin[cp->count] = (uint8_t)i;
			memcpy(cp->report[cp->count], r->signed_reports[i],
			       BFTDNS_DIGEST_REPORT_SIZE);
			cp->count++;
		}
	}
	bftdns_checkpoint_stable(ctx, cp);
	free(cp);
}

/*! A delivered DIGEST report: recorded, compared, maybe a checkpoint. */
static void digest_on_report(bftdns_t *ctx, const bftdns_request_t *request,
                             uint64_t current)
{
	bftdns_digest_t *dg = ctx->digest;
	const uint32_t interval = ctx->conf.digest_interval;
	unsigned origin = request->origin;
	if (origin >= ctx->conf.replicas || request->wire_len != BFTDNS_DIGEST_REPORT_SIZE) {
		return;  /* Not made by bftdns_digest_request(). */
	}
	bftdns_digest_claim_t claim;
	bftdns_digest_report_claim(request->wire, &claim);
	const uint8_t *digest = claim.digest;
	uint64_t batch = claim.batch;
	/* Signed by its replica; still, a report of a batch not applied yet,
	 * or of no checkpoint, is not a correct replica's. */
	if (batch >= current || batch % interval != 0) {
		knotd_mod_log(ctx->mod, LOG_NOTICE, "replica %u: DIGEST report in batch %"PRIu64
		              " names no checkpoint, ignored", origin + 1, current);
		return;
	}

	digest_round_t *r = digest_round(dg, batch, true);
	if (r == NULL) {
		return;  /* Older than every checkpoint still followed. */
	}
	if (r->reported[origin]) {
		if (!digest_says(r, origin, digest, claim.time_ms)) {
			knotd_mod_log(ctx->mod, LOG_WARNING, "replica %u: a second, different "
			              "DIGEST report for batch %"PRIu64", ignored", origin + 1, batch);
		}
		return;
	}
	r->reported[origin] = true;
	memcpy(r->reports[origin], digest, BFTDNS_DIGEST_SIZE);
	r->times[origin] = claim.time_ms;
	memcpy(r->signed_reports[origin], request->wire, BFTDNS_DIGEST_REPORT_SIZE);
	r->report_count++;

	if (origin + 1 != ctx->conf.replica_id && r->own_known &&
	    memcmp(r->own, digest, BFTDNS_DIGEST_SIZE) != 0) {
		char theirs[BFTDNS_DIGEST_HEX + 1], own[BFTDNS_DIGEST_HEX + 1];
		digest_hex(digest, theirs);
		digest_hex(r->own, own);
		knotd_mod_log(ctx->mod, LOG_ERR, "DIGEST MISMATCH: replica %u reports zone "
		              "digest %s after batch %"PRIu64", this replica has %s",
		              origin + 1, theirs, batch, own);
		dg->mismatches++;
		dg->last_bad_replica = origin + 1;
		dg->last_bad_batch = batch;
	}

	digest_try_form(ctx, r);
	if (r->formed && r->batch == dg->cp_batch) {
		dg->cp_agree = digest_count(ctx, r, r->agreed, r->agreed_time, false);
	}
	digest_check_minority(ctx, r);
	digest_try_stable(ctx, r);
}

/*! Batch K is a checkpoint: a multiple of the interval that is not only reports. */
static bool digest_due(const bftdns_t *ctx, const bftdns_batch_t *batch)
{
	if (batch->seq % ctx->conf.digest_interval != 0) {
		return false;
	}
	/* Reports of reports would make batches forever. */
	for (size_t i = 0; i < batch->count; i++) {
		if (batch->requests[i]->kind != BFTDNS_OP_DIGEST) {
			return true;
		}
	}
	return false;
}

/*! Hashes the zone after batch and reports it (n > 1) or logs it (n = 1). */
static void digest_checkpoint(bftdns_t *ctx, uint64_t batch, uint64_t time_ms)
{
	bftdns_digest_t *dg = ctx->digest;
	uint8_t digest[KNOTD_ZONE_DIGEST_SIZE];
	size_t len = 0;
	uint32_t serial = 0;
	/* With state transfer, the zone's RRsets at this batch are kept with
	 * the digest of the same state (snapshot.h): what a peer may fetch. */
	int ret;
	if (ctx->snapshots != NULL) {
		ret = bftdns_snapshot_take(ctx, batch, time_ms, digest, &serial);
		len = BFTDNS_DIGEST_SIZE;
	} else {
		ret = knotd_zone_digest(ctx->mod, digest, sizeof(digest), &len, &serial);
	}
	if (ret != KNOT_EOK || len != BFTDNS_DIGEST_SIZE) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "batch %"PRIu64": zone digest not "
		              "computed (%s), no checkpoint here", batch,
		              knot_strerror(ret != KNOT_EOK ? ret : KNOT_EMALF));
		return;
	}
	/* Test only: this replica reports, and believes, a wrong digest. */
	if (ctx->conf.misbehave & BFTDNS_MISBEHAVE_CORRUPT_DIGEST) {
		digest[0] ^= 0xff;
	}

	/* In full here: a ZONEMD record made of it can be checked by others
	 * (tests/cluster/digest.sh, ldns-verify-zone). */
	char hex[2 * BFTDNS_DIGEST_SIZE + 1];
	digest_hex_n(digest, BFTDNS_DIGEST_SIZE, hex);
	pthread_mutex_lock(&dg->lock);
	dg->own_batch = batch;
	memcpy(dg->own_digest, digest, BFTDNS_DIGEST_SIZE);
	digest_round_t *r = NULL;
	if (ctx->conf.replicas > 1 && (r = digest_round(dg, batch, true)) != NULL) {
		r->own_known = true;
		memcpy(r->own, digest, BFTDNS_DIGEST_SIZE);
	}
	pthread_mutex_unlock(&dg->lock);

	if (ctx->conf.replicas == 1) {
		knotd_mod_log(ctx->mod, LOG_INFO, "batch %"PRIu64": zone digest %s "
		              "(serial %u)", batch, hex, serial);
		return;
	}

	bftdns_request_t *request = calloc(1, sizeof(*request));
	uint8_t *report = malloc(BFTDNS_DIGEST_REPORT_SIZE);
	const knot_dname_t *zone = knotd_mod_zone(ctx->mod);
	bftdns_digest_claim_t claim = { .batch = batch, .time_ms = time_ms };
	memcpy(claim.digest, digest, BFTDNS_DIGEST_SIZE);
	if (request == NULL || report == NULL ||
	    (ret = bftdns_digest_report_sign(&dg->signer, zone, knot_dname_size(zone), &claim,
	                                     report)) != BFT_EOK) {
		free(request);
		free(report);
		knotd_mod_log(ctx->mod, LOG_WARNING, "batch %"PRIu64": zone digest not "
		              "reported (%s)", batch, (request == NULL || report == NULL) ?
		              "no memory" : "signing failed");
		return;
	}
	request->kind = BFTDNS_OP_DIGEST;
	request->origin = ctx->conf.replica_id - 1;
	request->owned_wire = report;
	request->wire = report;
	request->wire_len = BFTDNS_DIGEST_REPORT_SIZE;
	/* Through the order thread, as the signing proposals go. */
	bftdns_queue_push(&ctx->intake, &request->node);
	knotd_mod_log(ctx->mod, LOG_INFO, "batch %"PRIu64": zone digest %s (serial %u), "
	              "reported to the peers", batch, hex, serial);
}

void bftdns_digest_after_batch(bftdns_t *ctx, const bftdns_batch_t *batch, int ret)
{
	bftdns_digest_t *dg = ctx->digest;
	if (dg == NULL || ctx->conf.digest_interval == 0) {
		return;
	}

	pthread_mutex_lock(&dg->lock);
	for (size_t i = 0; i < batch->count; i++) {
		if (batch->requests[i]->kind == BFTDNS_OP_DIGEST) {
			digest_on_report(ctx, batch->requests[i], batch->seq);
		}
	}
	pthread_mutex_unlock(&dg->lock);

	/* Only a zone that is the state after this batch. */
	if (ret == KNOT_EOK && digest_due(ctx, batch)) {
		/* replicas > 1: the report also fixes the batch's agreed time. */
		bftdns_position_t pos = { .time_ms = batch->now * 1000 };
		if (ctx->conf.replicas > 1 && bftdns_position_of_batch(batch, &pos) != KNOT_EOK) {
			knotd_mod_log(ctx->mod, LOG_WARNING, "batch %"PRIu64": no agreed time, "
			              "no checkpoint here", batch->seq);
			return;
		}
		digest_checkpoint(ctx, batch->seq, pos.time_ms);
	}
}

const bft_pin_t *bftdns_digest_pins(const bftdns_t *ctx)
{
	const bftdns_digest_t *dg = ctx->digest;
	return (dg != NULL && dg->signer.key != NULL) ? dg->pins : NULL;
}

void bftdns_digest_status(bftdns_t *ctx, char *out, size_t size)
{
	bftdns_digest_t *dg = ctx->digest;
	if (dg == NULL || ctx->conf.digest_interval == 0) {
		snprintf(out, size, "off");
		return;
	}

	char hex[BFTDNS_DIGEST_HEX + 1];
	int len;
	pthread_mutex_lock(&dg->lock);
	if (dg->cp_batch != 0) {
		digest_hex(dg->cp_digest, hex);
		len = snprintf(out, size, "batch %"PRIu64": %s (%u of %u agree)",
		               dg->cp_batch, hex, dg->cp_agree, ctx->conf.replicas);
	} else if (dg->own_batch != 0) {
		digest_hex(dg->own_digest, hex);
		len = snprintf(out, size, "batch %"PRIu64": %s (own%s)", dg->own_batch, hex,
		               ctx->conf.replicas > 1 ? ", no checkpoint yet" : "");
	} else {
		len = snprintf(out, size, "none yet (every %u batches)",
		               ctx->conf.digest_interval);
	}
	if (len >= 0 && (size_t)len < size && dg->mismatches > 0) {
		len += snprintf(out + len, size - len, "; %"PRIu64" mismatches, last: "
		                "replica %u at batch %"PRIu64, dg->mismatches,
		                dg->last_bad_replica, dg->last_bad_batch);
	}
	if (len >= 0 && (size_t)len < size && dg->minority_batch != 0) {
		(void)snprintf(out + len, size - len, "; own digest in the minority at "
		               "batch %"PRIu64"%s", dg->minority_batch,
		               uatomic_read(&ctx->serve_refused) ? ", NOT SERVING (strict)" : "");
	}
	pthread_mutex_unlock(&dg->lock);
}

knotd_state_t bftdns_digest_hook(knotd_state_t state, knot_pkt_t *pkt,
                                 knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	bftdns_t *ctx = knotd_mod_ctx(mod);
	if (ctx == NULL || !uatomic_read(&ctx->serve_refused) ||
	    state == KNOTD_STATE_FAIL) {
		return state;
	}
	/* In the minority (digest_check_minority()): this copy of the zone is
	 * not the group's, and a wrong answer is worse than none. */
	qdata->rcode = KNOT_RCODE_SERVFAIL;
	return KNOTD_STATE_FAIL;
}
