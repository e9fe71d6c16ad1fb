/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <urcu/uatomic.h>

#include "coordinator/core/core.h"
#include "coordinator/net/link_key.h"
#include "coordinator/proto/batch.h"
#include "coordinator/proto/error.h"
#include "module/apply.h"
#include "module/digest.h"
#include "module/history.h"
#include "module/position.h"
#include "module/replica.h"
#include "module/signer.h"
#include "module/snapshot.h"
#include "module/transfer.h"

#define ENVELOPE_VERSION	2
/*! version, kind, handle, address family, address, port. */
#define ENVELOPE_HDR		(1 + 1 + 8 + 1 + 16 + 2)
#define ENVELOPE_FAMILY_NONE	0
#define ENVELOPE_FAMILY_IPV4	4
#define ENVELOPE_FAMILY_IPV6	6
/*! A DNS header: the least an UPDATE can be. */
#define ENVELOPE_UPDATE_MIN	12

/*! Signing requests of the apply thread waiting at once (one wave). */
#define REPLICA_SIGN_SLOTS	BFTDNS_REPLICA_SIGN_WAVE
/*! A wait for signatures says so in the log after this long, then every minute. */
#define REPLICA_SIGN_LOG_FIRST_MS	5000
#define REPLICA_SIGN_LOG_EVERY_MS	60000

/*! A signing request of the apply thread and, once there, its answer. */
typedef struct {
	bool active;
	bool done;
	uint64_t id;
	uint16_t count;
	size_t sig_len;
	uint8_t *sigs;                 /*!< count * sig_len bytes, set by the core thread. */
} sign_slot_t;

/*! A local request waiting for its batch, by handle. */
typedef struct pending {
	struct pending *next;
	uint64_t handle;
	bftdns_request_t *request;
} pending_t;

struct bftdns_replica {
	/*! Guards core: read for its use, write to start or stop it (a state
	 *  transfer restarts it while other threads submit and read stats). */
	pthread_rwlock_t core_lock;
	bftdns_core_t *core;
	char hosts[SHOUP_PLAYERS_MAX][INET6_ADDRSTRLEN];
	char *vote_dir;                /*!< <state dir>/votes, or NULL (statedir.h). */
	char own_pin[BFT_PIN_STR_MAX];
	bftdns_core_conf_t core_conf;  /*!< Filled at load; the core starts later. */
	pthread_mutex_t lock;          /*!< Guards pending (order and core threads). */
	pending_t *pending;
	uint64_t handle_next;          /*!< Order thread only. */
	tsign_mode_t sign_mode;        /*!< Test-only misbehaviour of the signer. */
	pthread_mutex_t sign_lock;     /*!< Guards sign_slots (apply and core threads). */
	pthread_cond_t sign_done;
	sign_slot_t sign_slots[REPLICA_SIGN_SLOTS];
};

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*! The client's address into an envelope (zeros and family NONE if unknown). */
static void envelope_put_remote(uint8_t *p, const struct sockaddr_storage *remote)
{
	memset(p, 0, 1 + 16 + 2);
	if (remote->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)remote;
		p[0] = ENVELOPE_FAMILY_IPV4;
		memcpy(p + 1, &in->sin_addr, 4);
		memcpy(p + 17, &in->sin_port, 2);
	} else if (remote->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)remote;
		p[0] = ENVELOPE_FAMILY_IPV6;
		memcpy(p + 1, &in6->sin6_addr, 16);
		memcpy(p + 17, &in6->sin6_port, 2);
	}
}

/*! A peer's address field: false if malformed (unknown family, junk in padding). */
static bool envelope_get_remote(const uint8_t *p, struct sockaddr_storage *remote)
{
	static const uint8_t zeros[16] = { 0 };
	memset(remote, 0, sizeof(*remote));
	switch (p[0]) {
	case ENVELOPE_FAMILY_NONE:
		return memcmp(p + 1, zeros, 16) == 0 && get_u16(p + 17) == 0;
	case ENVELOPE_FAMILY_IPV4: {
		struct sockaddr_in *in = (struct sockaddr_in *)remote;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, p + 1, 4);
		memcpy(&in->sin_port, p + 17, 2);
		return memcmp(p + 5, zeros, 12) == 0;
	}
	case ENVELOPE_FAMILY_IPV6: {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)remote;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, p + 1, 16);
		memcpy(&in6->sin6_port, p + 17, 2);
		return true;
	}
	default:
		return false;
	}
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

/*! Takes the pending local request with this handle out of the table. */
static bftdns_request_t *pending_take(bftdns_replica_t *rep, uint64_t handle)
{
	bftdns_request_t *found = NULL;
	pthread_mutex_lock(&rep->lock);
	for (pending_t **p = &rep->pending; *p != NULL; p = &(*p)->next) {
		if ((*p)->handle == handle) {
			pending_t *hit = *p;
			*p = hit->next;
			found = hit->request;
			free(hit);
			break;
		}
	}
	pthread_mutex_unlock(&rep->lock);
	return found;
}

/*!
 * One ordered request as this replica applies it. Peer bytes: every field
 * is checked; a malformed request is left out (the same on every correct
 * replica, since all see the same bytes). NULL if left out.
 */
static bftdns_request_t *request_of_envelope(bftdns_t *ctx, bft_node_t origin,
                                             const uint8_t *req, size_t len)
{
	if (len < ENVELOPE_HDR || req[0] != ENVELOPE_VERSION) {
		return NULL;
	}
	uint8_t kind = req[1];
	uint64_t handle = get_u64(req + 2);
	struct sockaddr_storage remote;
	if (!envelope_get_remote(req + 10, &remote)) {
		return NULL;
	}
	const uint8_t *wire = req + ENVELOPE_HDR;
	size_t wire_len = len - ENVELOPE_HDR;
	if (kind == BFTDNS_OP_SIGN) {
		return (wire_len == 0 && remote.ss_family == AF_UNSPEC) ?
		       bftdns_request_sign() : NULL;
	}
	if (kind == BFTDNS_OP_DIGEST) {
		return (remote.ss_family == AF_UNSPEC) ?
		       bftdns_digest_request(ctx, origin, wire, wire_len) : NULL;
	}
	if (kind == BFTDNS_OP_READ) {
		/* Its handle is the read's id; only this replica's own READs
		 * have a query waiting here (ctx->reads, NULL if the mode is
		 * off). A peer's is ignored at apply, like any READ. */
		if (wire_len != 0 || remote.ss_family != AF_UNSPEC) {
			return NULL;
		}
		bool own = ((unsigned)origin + 1 == ctx->conf.replica_id);
		return bftdns_request_read(own ? ctx->reads : NULL, handle);
	}
	if (kind != BFTDNS_OP_UPDATE || wire_len < ENVELOPE_UPDATE_MIN ||
	    remote.ss_family == AF_UNSPEC) {
		return NULL;
	}

	/* It came in here: its client waits (unless it was a previous
	 * incarnation's, whose client got SERVFAIL at unload). */
	if ((unsigned)origin + 1 == ctx->conf.replica_id) {
		bftdns_request_t *local = pending_take(ctx->replica, handle);
		if (local != NULL) {
			return local;
		}
	}

	bftdns_request_t *request = calloc(1, sizeof(*request));
	uint8_t *copy = malloc(wire_len);
	if (request == NULL || copy == NULL) {
		free(request);
		free(copy);
		return NULL;
	}
	memcpy(copy, wire, wire_len);
	request->remote = remote;
	request->kind = BFTDNS_OP_UPDATE;
	request->owned_wire = copy;
	request->wire = copy;
	request->wire_len = wire_len;
	return request;
}

/*! Core thread: the signatures of a request go to the waiting apply thread. */
static void replica_deliver_sigs(bftdns_t *ctx, const uint8_t *data, size_t len)
{
	bftdns_replica_t *rep = ctx->replica;
	uint64_t id;
	uint16_t count;
	size_t sig_len;
	const uint8_t *sigs;
	if (tsign_output_decode(data, len, &id, &count, &sig_len, &sigs) != BFT_EOK) {
		knotd_mod_log(ctx->mod, LOG_ERR, "threshold signing output is malformed, ignored");
		return;
	}
	pthread_mutex_lock(&rep->sign_lock);
	for (size_t i = 0; i < REPLICA_SIGN_SLOTS; i++) {
		sign_slot_t *slot = &rep->sign_slots[i];
		if (!slot->active || slot->done || slot->id != id) {
			continue;
		}
		/* If it cannot be kept, the wait fails the change: never skip one. */
		slot->sigs = malloc((size_t)count * sig_len);
		if (slot->sigs != NULL) {
			memcpy(slot->sigs, sigs, (size_t)count * sig_len);
		}
		slot->count = count;
		slot->sig_len = sig_len;
		slot->done = true;
		pthread_cond_broadcast(&rep->sign_done);
		break;
	}
	pthread_mutex_unlock(&rep->sign_lock);
}

/*! Core thread: a delivered batch goes to the apply thread (never blocks). */
static void replica_deliver(void *arg, uint32_t tag, const uint8_t *data, size_t len)
{
	bftdns_t *ctx = arg;
	if (tag == BFTDNS_CORE_OUT_SIGS) {
		replica_deliver_sigs(ctx, data, len);
		return;
	}
	if (MUX_TAG_MEMBER(tag) == MUX_XFER) {
		bftdns_transfer_output(ctx, tag, data, len);
		return;
	}
	if (tag != BFTDNS_CORE_OUT_BATCH) {
		return;
	}

	batch_reader_t br;
	if (batch_reader_open(&br, data, len) != BFT_EOK) {
		knotd_mod_log(ctx->mod, LOG_ERR, "delivered batch is malformed, replica stops "
		              "applying");
		uatomic_set(&ctx->diverged, 1);
		return;
	}
	bftdns_batch_t *batch = bftdns_batch_new(br.count);
	if (batch == NULL) {
		/* Skipping a batch would make this replica's zone differ from
		 * the others': stop applying instead, loudly. */
		knotd_mod_log(ctx->mod, LOG_ERR, "batch %"PRIu64": no memory, replica stops "
		              "applying", br.epoch);
		uatomic_set(&ctx->diverged, 1);
		return;
	}
	batch->raw = malloc(len);
	if (batch->raw == NULL) {
		knotd_mod_log(ctx->mod, LOG_ERR, "batch %"PRIu64": no memory, replica stops "
		              "applying", br.epoch);
		uatomic_set(&ctx->diverged, 1);
		bftdns_batch_free(batch);
		return;
	}
	memcpy(batch->raw, data, len);
	batch->raw_len = len;
	batch->seq = br.epoch + 1;
	batch->now = br.time_ms / 1000;

	bft_node_t proposer, origin;
	const uint8_t *req;
	size_t req_len;
	while (batch->count < br.count &&
	       batch_reader_next(&br, &proposer, &origin, &req, &req_len)) {
		bftdns_request_t *request = request_of_envelope(ctx, origin, req, req_len);
		if (request != NULL) {
			batch->requests[batch->count++] = request;
		}
	}
	ctx->batches_delivered = batch->seq;
	bftdns_apply_deliver(ctx, batch);
}

/*! Core log lines go to Knot's log with the zone. */
static void replica_log(void *arg, int level, const char *msg)
{
	bftdns_t *ctx = arg;
	knotd_mod_log(ctx->mod, level, "%s", msg);
}

/*! The signer's test-only misbehaviour from knot.conf (one mode at most). */
static tsign_mode_t replica_sign_mode(unsigned misbehave)
{
	if (misbehave & BFTDNS_MISBEHAVE_INVERT_SHARES) {
		return TSIGN_MODE_INVERT_SHARES;
	}
	if (misbehave & BFTDNS_MISBEHAVE_RANDOM_SHARES) {
		return TSIGN_MODE_RANDOM_SHARES;
	}
	/* A silent replica sends nothing at all, shares included. */
	if (misbehave & (BFTDNS_MISBEHAVE_SILENT_SIGNER | BFTDNS_MISBEHAVE_SILENT)) {
		return TSIGN_MODE_SILENT_SIGNER;
	}
	return TSIGN_MODE_HONEST;
}

int bftdns_replica_start(bftdns_t *ctx)
{
	const bftdns_conf_t *c = &ctx->conf;
	bftdns_replica_t *rep = calloc(1, sizeof(*rep));
	if (rep == NULL) {
		return KNOT_ENOMEM;
	}
	pthread_rwlock_init(&rep->core_lock, NULL);
	pthread_mutex_init(&rep->lock, NULL);
	pthread_mutex_init(&rep->sign_lock, NULL);
	pthread_cond_init(&rep->sign_done, NULL);
	/* Handles of an earlier incarnation must not match this one's: its
	 * batches may still be delivered after a restart. Not on the apply
	 * path: a handle only finds a local client. */
	uint32_t incarnation = 0;
	if (getrandom(&incarnation, sizeof(incarnation), 0) != sizeof(incarnation)) {
		incarnation = (uint32_t)(uintptr_t)rep;
	}
	rep->handle_next = (uint64_t)incarnation << 32;
	ctx->replica = rep;

	bftdns_core_conf_t *ccp = &rep->core_conf;
	*ccp = (bftdns_core_conf_t) {
		.n = c->replicas,
		.f = c->faults,
		.self = c->replica_id - 1,
		.key_file = c->link_key,
		.coin_file = c->coin_key,
		.batch_max = c->batch_limit,
		.retain_max = c->retain_batches,
		.deliver = replica_deliver,
		.deliver_ctx = ctx,
		.log = { .fn = replica_log, .ctx = ctx },
	};
	if (bftdns_signer_threshold(ctx->signer)) {
		const keys_share_t *share = bftdns_signer_share(ctx->signer);
		ccp->sign_pub = &share->pub.key;
		ccp->sign_secret = &share->secret;
		ccp->sign_strategy = c->protocol;
		ccp->sign_all = !c->designated;
		ccp->sign_mode = replica_sign_mode(c->misbehave);
		rep->sign_mode = ccp->sign_mode;
	}
	/* The vote log (coordinator/core/votelog.h) beside the batch store:
	 * without the state directory there is none, and a restart of this
	 * replica is silent in the epochs it may have spoken in. */
	if (ctx->state_dir != NULL) {
		size_t len = strlen(ctx->state_dir) + sizeof("/votes");
		rep->vote_dir = malloc(len);
		if (rep->vote_dir == NULL) {
			bftdns_replica_free(ctx);
			return KNOT_ENOMEM;
		}
		snprintf(rep->vote_dir, len, "%s/votes", ctx->state_dir);
		ccp->vote_dir = rep->vote_dir;
		ccp->durable_reported = true;
	}
	if (bftdns_transfer_on(ctx)) {
		ccp->xfer_store = &bftdns_snapshot_store;
		ccp->xfer_store_ctx = ctx;
		ccp->xfer_verify = bftdns_transfer_verify;
		ccp->xfer_verify_ctx = ctx;
	}
	if (c->misbehave & BFTDNS_MISBEHAVE_SILENT) {
		ccp->abc_mode = ABC_MODE_SILENT;
	} else if (c->misbehave & BFTDNS_MISBEHAVE_EQUIVOCATE) {
		ccp->abc_mode = ABC_MODE_EQUIVOCATE;
	}
	for (unsigned i = 0; i <= c->peer_count; i++) {
		const struct sockaddr_storage *addr = (i < c->peer_count) ? &c->peers[i].addr :
		                                                            &c->listen_addr;
		unsigned id = (i < c->peer_count) ? c->peers[i].id : c->replica_id;
		char *host = rep->hosts[id - 1];
		const void *ip = (addr->ss_family == AF_INET) ?
			(const void *)&((const struct sockaddr_in *)addr)->sin_addr :
			(const void *)&((const struct sockaddr_in6 *)addr)->sin6_addr;
		uint16_t port = (addr->ss_family == AF_INET) ?
			((const struct sockaddr_in *)addr)->sin_port :
			((const struct sockaddr_in6 *)addr)->sin6_port;
		inet_ntop(addr->ss_family, ip, host, INET6_ADDRSTRLEN);
		ccp->peers[id - 1].host = host;
		ccp->peers[id - 1].port = ntohs(port);
		ccp->peers[id - 1].pin = (i < c->peer_count) ? c->peers[i].pin : rep->own_pin;
	}

	char why[BFT_WHY_MAX];
	if (bft_link_key_pin(c->link_key, rep->own_pin, why, sizeof(why)) != BFT_EOK) {
		knotd_mod_log(ctx->mod, LOG_ERR, "link key '%s' unusable: %s", c->link_key, why);
		bftdns_replica_free(ctx);
		return KNOT_EINVAL;
	}

	return KNOT_EOK;
}

int bftdns_replica_run_core(bftdns_t *ctx)
{
	bftdns_replica_t *rep = ctx->replica;
	if (rep->core != NULL) {
		return KNOT_EOK;
	}

	/* The durable position decides where the coordinator goes on: the
	 * last batch whose change is in the zone and its journal (position.h).
	 * Until the zone is loaded it is not known: the caller tries again. */
	bftdns_position_t pos;
	int ret = bftdns_position_load(ctx, &pos);
	if (ret != KNOT_EOK) {
		return ret;
	}

	/* The bytes of the batches up to the position give the broadcast its
	 * dedup window and the batches it keeps for lagging peers: from the
	 * batch store (batchstore.h, also after a knotd restart), or from what
	 * this process kept (a knotc reload, history.h) if the store has none;
	 * without them it goes on at the position alone. */
	bftdns_core_conf_t cc = rep->core_conf;
	uint64_t retain = (cc.retain_max != 0) ? cc.retain_max : ABC_RETAIN_DEFAULT;
	bftdns_stored_batch_t *stored = NULL;
	size_t stored_count = 0;
	if (ctx->batchstore == NULL && ctx->state_dir != NULL) {
		bftdns_batchstore_limits_t limits = { .batches = retain,
		                                      .bytes = ABC_RETAIN_BYTES_MAX };
		/* Not usable (logged): the replica runs without it. */
		(void)bftdns_batchstore_open(ctx->state_dir, pos.seq, &limits, &ctx->store_log,
		                             &ctx->batchstore);
	}
	if (ctx->batchstore != NULL && pos.seq > 0 &&
	    bftdns_batchstore_replay(ctx->batchstore, pos.seq, &stored, &stored_count) != KNOT_EOK) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "batch store: batches up to %"PRIu64" not "
		              "read back; resuming without their bytes", pos.seq);
		stored_count = 0;
	}

	uint8_t *kept[BFTDNS_HISTORY_MAX];
	size_t kept_len[BFTDNS_HISTORY_MAX];
	ssize_t count = 0;
	if (stored_count == 0) {
		count = bftdns_history_copy(knotd_mod_zone(ctx->mod), kept, kept_len);
		if (count < 0) {
			return KNOT_ENOMEM;
		}
	}
	batch_reader_t br;
	if (count > 0 && (batch_reader_open(&br, kept[count - 1], kept_len[count - 1]) != BFT_EOK ||
	                  br.epoch + 1 != pos.seq)) {
		bftdns_history_free(kept, (size_t)count);
		count = 0;
	}
	size_t resume_count = (stored_count > 0) ? stored_count : (size_t)count;
	bftdns_core_batch_t *resume = calloc(resume_count + 1, sizeof(*resume));
	if (resume == NULL) {
		bftdns_batchstore_free(stored, stored_count);
		bftdns_history_free(kept, (size_t)count);
		return KNOT_ENOMEM;
	}
	for (size_t i = 0; i < resume_count; i++) {
		resume[i] = (stored_count > 0) ?
		            (bftdns_core_batch_t) { .data = stored[i].data, .len = stored[i].len } :
		            (bftdns_core_batch_t) { .data = kept[i], .len = kept_len[i] };
	}
	cc.resume = resume;
	cc.resume_count = resume_count;
	if (resume_count == 0 && pos.seq > 0) {
		cc.resume_at = true;
		cc.resume_epoch = pos.seq;      /* Batch seq is epoch seq - 1. */
		cc.resume_time_ms = pos.time_ms;
	}
	/* The apply thread never applies a batch at or below it (apply.c). */
	uatomic_set(&ctx->last_batch_seq, pos.seq);

	/* Signing instances are named by batch (threshold.h): the first one
	 * this incarnation starts is the next batch's. Peers may have finished
	 * the instances of every batch it can still catch up on (those they
	 * keep, retain-max) and sent it their signatures while it was away:
	 * for those it asks again (RESEND). */
	uint64_t next_seq = pos.seq + 1;
	cc.sign_start_id = tsign_id_make(next_seq, 0);
	cc.sign_catchup_until = tsign_id_make(next_seq + retain, 0);

	/* And the signatures of the batches it applied before the restart
	 * (batchstore.h), for a peer that catches up on them: when every
	 * replica restarted since such a batch, no one else has them. As many
	 * as the signing core keeps (coordinator/core/stack.c). */
	bftdns_stored_sigs_t *sigs = NULL;
	size_t sigs_count = 0;
	bftdns_core_sigs_t *restore = NULL;
	if (ctx->batchstore != NULL && pos.seq > 0 &&
	    bftdns_batchstore_read_sigs(ctx->batchstore, pos.seq, 2 * retain, &sigs,
	                                &sigs_count) != KNOT_EOK) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "batch store: signatures up to batch "
		              "%"PRIu64" not read back", pos.seq);
		sigs_count = 0;
	}
	if (sigs_count > 0 && (restore = calloc(sigs_count, sizeof(*restore))) == NULL) {
		bftdns_batchstore_free_sigs(sigs, sigs_count);
		sigs = NULL;
		sigs_count = 0;
	}
	/* Only records of this key's algorithm: the core reads digests of its
	 * size (and verifies every signature before keeping it). */
	const keys_public_t *pub = (sigs_count > 0 && bftdns_signer_threshold(ctx->signer)) ?
	                           &bftdns_signer_share(ctx->signer)->pub : NULL;
	size_t restore_count = 0;
	for (size_t i = 0; pub != NULL && i < sigs_count; i++) {
		if (sigs[i].alg != pub->alg->number ||
		    sigs[i].digest_len != pub->alg->digest_size) {
			continue;
		}
		restore[restore_count++] = (bftdns_core_sigs_t) {
			.req = { .id = sigs[i].id, .alg = sigs[i].alg, .count = sigs[i].count,
			         .digests = sigs[i].digests },
			.sig_len = sigs[i].sig_len, .sigs = sigs[i].sigs,
		};
	}
	cc.sign_restore = restore;
	cc.sign_restore_count = restore_count;

	bftdns_core_t *core = NULL;
	ret = bftdns_core_start(&cc, &core);
	bftdns_history_free(kept, (size_t)count);
	bftdns_batchstore_free(stored, stored_count);
	bftdns_batchstore_free_sigs(sigs, sigs_count);
	free(restore);
	free(resume);
	if (ret != BFT_EOK) {
		return KNOT_ERROR;
	}
	pthread_rwlock_wrlock(&rep->core_lock);
	rep->core = core;
	pthread_rwlock_unlock(&rep->core_lock);
	if (pos.seq > 0) {
		char with[96] = "";
		if (resume_count > 0) {
			snprintf(with, sizeof(with), ", with the bytes of the last %zu batches (%s)",
			         resume_count, stored_count > 0 ? "batch store" : "kept in memory");
		}
		knotd_mod_log(ctx->mod, LOG_INFO, "coordinator started, links on %s to %u peers, "
		              "resumed after batch %"PRIu64" (durable with the zone's journal)%s",
		              ctx->conf.listen, ctx->conf.peer_count, pos.seq, with);
	} else {
		knotd_mod_log(ctx->mod, LOG_INFO, "coordinator started, links on %s to %u peers",
		              ctx->conf.listen, ctx->conf.peer_count);
	}
	return KNOT_EOK;
}

/*! Local requests the coordinator will not deliver: answered SERVFAIL. */
static void replica_fail_pending(bftdns_t *ctx)
{
	bftdns_replica_t *rep = ctx->replica;
	pthread_mutex_lock(&rep->lock);
	pending_t *list = rep->pending;
	rep->pending = NULL;
	pthread_mutex_unlock(&rep->lock);
	while (list != NULL) {
		pending_t *p = list;
		list = p->next;
		uatomic_dec(&ctx->inflight);
		bftdns_request_finish(p->request, KNOT_RCODE_SERVFAIL);
		free(p);
	}
}

void bftdns_replica_restart(bftdns_t *ctx)
{
	uatomic_set(&ctx->core_restart, 1);
	bftdns_queue_wake(&ctx->intake);
}

bool bftdns_replica_restarting(const bftdns_t *ctx)
{
	return uatomic_read(&((bftdns_t *)ctx)->core_restart) != 0;
}

int bftdns_replica_restart_core(bftdns_t *ctx)
{
	bftdns_replica_t *rep = ctx->replica;
	if (!bftdns_replica_restarting(ctx)) {
		return KNOT_EOK;
	}
	if (rep->core != NULL) {
		pthread_rwlock_wrlock(&rep->core_lock);
		bftdns_core_t *old = rep->core;
		rep->core = NULL;
		pthread_rwlock_unlock(&rep->core_lock);
		bftdns_core_stop(old);
		replica_fail_pending(ctx);
		knotd_mod_log(ctx->mod, LOG_INFO, "coordinator stopped for a restart at the "
		              "installed checkpoint");
	}
	int ret = bftdns_replica_run_core(ctx);
	if (ret == KNOT_EOK) {
		uatomic_set(&ctx->core_restart, 0);
	}
	return ret;
}

void bftdns_replica_stop(bftdns_t *ctx)
{
	bftdns_replica_t *rep = ctx->replica;
	if (rep == NULL) {
		return;
	}
	/* The apply thread may still ask for stats or submit (transfer.c):
	 * it finds no core, and the structure stays until replica_free(). */
	pthread_rwlock_wrlock(&rep->core_lock);
	bftdns_core_t *core = rep->core;
	rep->core = NULL;
	pthread_rwlock_unlock(&rep->core_lock);
	bftdns_core_stop(core);
	replica_fail_pending(ctx);
}

void bftdns_replica_free(bftdns_t *ctx)
{
	bftdns_replica_t *rep = ctx->replica;
	if (rep == NULL) {
		return;
	}
	bftdns_replica_stop(ctx);
	for (size_t i = 0; i < REPLICA_SIGN_SLOTS; i++) {
		free(rep->sign_slots[i].sigs);
	}
	pthread_cond_destroy(&rep->sign_done);
	pthread_mutex_destroy(&rep->sign_lock);
	pthread_mutex_destroy(&rep->lock);
	pthread_rwlock_destroy(&rep->core_lock);
	free(rep->vote_dir);
	free(rep);
	ctx->replica = NULL;
}

int bftdns_replica_submit(bftdns_t *ctx, bftdns_request_t *request)
{
	bftdns_replica_t *rep = ctx->replica;
	bool no_wire = (request->kind == BFTDNS_OP_SIGN || request->kind == BFTDNS_OP_READ);
	size_t wire_len = no_wire ? 0 : request->wire_len;
	if (wire_len > BATCH_REQUEST_MAX - ENVELOPE_HDR) {
		return KNOT_ESPACE;
	}
	uint8_t *env = malloc(ENVELOPE_HDR + wire_len);
	pending_t *p = calloc(1, sizeof(*p));
	if (env == NULL || p == NULL) {
		free(env);
		free(p);
		return KNOT_ENOMEM;
	}
	/* A READ is told apart from any other by its id (read.h), which makes
	 * every READ's bytes unique to the broadcast. */
	uint64_t handle = (request->kind == BFTDNS_OP_READ) ? request->read_id :
	                  rep->handle_next++;
	env[0] = ENVELOPE_VERSION;
	env[1] = (uint8_t)request->kind;
	put_u64(env + 2, handle);
	envelope_put_remote(env + 10, &request->remote);
	if (wire_len > 0) {
		memcpy(env + ENVELOPE_HDR, request->wire, wire_len);
	}

	/* In the table before the broadcast can deliver it. */
	bool local_client = (request->kind == BFTDNS_OP_UPDATE);
	if (local_client) {
		p->handle = handle;
		p->request = request;
		pthread_mutex_lock(&rep->lock);
		p->next = rep->pending;
		rep->pending = p;
		pthread_mutex_unlock(&rep->lock);
	}

	pthread_rwlock_rdlock(&rep->core_lock);
	int ret = (rep->core == NULL) ? BFT_EAGAIN :
	          bftdns_core_submit(rep->core, env, ENVELOPE_HDR + wire_len);
	pthread_rwlock_unlock(&rep->core_lock);
	free(env);
	if (ret != BFT_EOK) {
		if (local_client) {
			(void)pending_take(rep, handle);
		} else {
			free(p);
		}
		return (ret == BFT_EAGAIN) ? KNOT_EBUSY : KNOT_ERROR;
	}
	if (!local_client) {
		/* A proposal or READ has no client: the delivered copy is what
		 * counts (for a READ, it wakes the waiting query at apply). */
		free(p);
		bftdns_request_free(request);
	}
	return KNOT_EOK;
}

int bftdns_replica_submit_to(bftdns_t *ctx, uint8_t member, const uint8_t *data, size_t len)
{
	bftdns_replica_t *rep = ctx->replica;
	if (rep == NULL) {
		return KNOT_EINVAL;
	}
	pthread_rwlock_rdlock(&rep->core_lock);
	int ret = (rep->core == NULL) ? BFT_EAGAIN :
	          bftdns_core_submit_to(rep->core, member, data, len);
	pthread_rwlock_unlock(&rep->core_lock);
	return (ret == BFT_EOK) ? KNOT_EOK : (ret == BFT_EAGAIN) ? KNOT_EBUSY : KNOT_ERROR;
}

unsigned bftdns_replica_links_up(const bftdns_t *ctx)
{
	bftdns_replica_t *rep = ctx->replica;
	if (rep == NULL) {
		return 0;
	}
	pthread_rwlock_rdlock(&rep->core_lock);
	bft_nodeset_t up = (rep->core != NULL) ? bftdns_core_links_up(rep->core) : 0;
	pthread_rwlock_unlock(&rep->core_lock);
	unsigned count = 0;
	for (unsigned i = 0; i < ctx->conf.replicas; i++) {
		count += bft_nodeset_has(up, i) ? 1 : 0;
	}
	return count;
}

void bftdns_replica_set_durable(bftdns_t *ctx, uint64_t seq)
{
	bftdns_replica_t *rep = ctx->replica;
	if (rep == NULL) {
		return;
	}
	/* Batch seq is epoch seq - 1: the epochs before seq are durable. */
	pthread_rwlock_rdlock(&rep->core_lock);
	bftdns_core_set_durable(rep->core, seq);
	pthread_rwlock_unlock(&rep->core_lock);
}

bool bftdns_replica_stats(const bftdns_t *ctx, bftdns_core_stats_t *out)
{
	bftdns_replica_t *rep = ctx->replica;
	if (rep == NULL) {
		return false;
	}
	pthread_rwlock_rdlock(&rep->core_lock);
	bool running = (rep->core != NULL);
	if (running) {
		bftdns_core_stats(rep->core, out);
	}
	pthread_rwlock_unlock(&rep->core_lock);
	return running;
}

int bftdns_replica_sign_start(bftdns_t *ctx, const tsign_request_t *req)
{
	bftdns_replica_t *rep = ctx->replica;
	size_t len = tsign_request_size(req);
	uint8_t *buf = (len > 0) ? malloc(len) : NULL;
	if (buf == NULL || tsign_request_encode(req, buf, len, &len) != BFT_EOK) {
		free(buf);
		return (len == 0) ? KNOT_EINVAL : KNOT_ENOMEM;
	}

	/* In the table before the core can answer it. */
	sign_slot_t *slot = NULL;
	pthread_mutex_lock(&rep->sign_lock);
	for (size_t i = 0; i < REPLICA_SIGN_SLOTS && slot == NULL; i++) {
		if (!rep->sign_slots[i].active) {
			slot = &rep->sign_slots[i];
			*slot = (sign_slot_t) { .active = true, .id = req->id };
		}
	}
	pthread_mutex_unlock(&rep->sign_lock);
	if (slot == NULL) {
		free(buf);
		return KNOT_EBUSY;
	}

	/* The inbox is full only briefly (the core drains it every loop). */
	int ret = BFT_EAGAIN;
	while (!uatomic_read(&ctx->stopping)) {
		pthread_rwlock_rdlock(&rep->core_lock);
		ret = (rep->core == NULL) ? BFT_ESTOPPED :
		      bftdns_core_submit_to(rep->core, MUX_TSIGN, buf, len);
		pthread_rwlock_unlock(&rep->core_lock);
		if (ret != BFT_EAGAIN) {
			break;
		}
		(void)bftdns_queue_wait(&ctx->delivered, 10);
	}
	free(buf);
	if (ret != BFT_EOK) {
		pthread_mutex_lock(&rep->sign_lock);
		slot->active = false;
		pthread_mutex_unlock(&rep->sign_lock);
		return (ret == BFT_EAGAIN) ? KNOT_ECONNABORTED : KNOT_ERROR;
	}
	return KNOT_EOK;
}

static uint64_t replica_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bftdns_replica_sign_wait(bftdns_t *ctx, uint64_t id, uint8_t *sigs, size_t count,
                             size_t sig_len)
{
	bftdns_replica_t *rep = ctx->replica;
	/* Monotonic time only says how long we waited, in the log. */
	uint64_t since = replica_now_ms(), logged = 0;
	int ret = KNOT_ENOENT;

	pthread_mutex_lock(&rep->sign_lock);
	sign_slot_t *slot = NULL;
	for (size_t i = 0; i < REPLICA_SIGN_SLOTS; i++) {
		if (rep->sign_slots[i].active && rep->sign_slots[i].id == id) {
			slot = &rep->sign_slots[i];
		}
	}
	while (slot != NULL && !slot->done && !uatomic_read(&ctx->stopping)) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		(void)pthread_cond_timedwait(&rep->sign_done, &rep->sign_lock, &until);

		uint64_t waited = replica_now_ms() - since;
		if (!slot->done && waited >= REPLICA_SIGN_LOG_FIRST_MS &&
		    (logged == 0 || waited - logged >= REPLICA_SIGN_LOG_EVERY_MS)) {
			logged = waited;
			knotd_mod_log(ctx->mod, LOG_NOTICE, "batch %"PRIu64" waits for signature "
			              "shares from peers (%"PRIu64" s so far, links up to %u of %u "
			              "peers; f + 1 = %u replicas must take part)",
			              id >> TSIGN_ID_POSITION_BITS, waited / 1000,
			              bftdns_replica_links_up(ctx), ctx->conf.replicas - 1,
			              ctx->conf.faults + 1);
		}
	}
	if (slot != NULL && slot->done) {
		if (slot->sigs == NULL) {
			ret = KNOT_ENOMEM;
		} else if (slot->count != count || slot->sig_len != sig_len) {
			ret = KNOT_EMALF;
		} else {
			memcpy(sigs, slot->sigs, count * sig_len);
			ret = KNOT_EOK;
		}
	} else if (slot != NULL) {
		ret = KNOT_ECONNABORTED;
	}
	if (slot != NULL) {
		free(slot->sigs);
		*slot = (sign_slot_t) { .active = false };
	}
	pthread_mutex_unlock(&rep->sign_lock);
	return ret;
}
