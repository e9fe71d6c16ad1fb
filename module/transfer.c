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
#include <time.h>
#include <urcu/uatomic.h>

#include "coordinator/core/core.h"
#include "coordinator/proto/error.h"
#include "module/checkpoint.h"
#include "module/digest.h"
#include "module/replica.h"
#include "module/snapshot.h"
#include "module/transfer.h"

struct bftdns_transfer {
	pthread_mutex_t lock;      /*!< Core thread writes the bytes, apply thread takes them. */
	/* Apply thread only. */
	bool active;
	uint64_t least;            /*!< Least checkpoint asked for. */
	uint64_t started_ms;
	uint64_t retried_ms;       /*!< Last RETRY (or start). */
	uint64_t backoff_until_ms;
	uint64_t logged_ms;        /*!< Last "no progress" line (at most one a minute). */
	uint64_t at_batch;         /*!< Where this replica was when it started. */
	/* Under lock. */
	bool begun;                /*!< A snapshot's bytes are coming. */
	bool done;                 /*!< ... and all of them came. */
	bft_node_t source;
	uint64_t k;
	uint64_t size;
	uint8_t *data;
	size_t len, cap;
	uint8_t *cert;
	size_t cert_len;
	uint64_t progress_ms;      /*!< Last BEGIN or CHUNK. */
	uint64_t begun_ms;         /*!< BEGIN of the snapshot under way. */
};

static uint64_t transfer_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool bftdns_transfer_on(const bftdns_t *ctx)
{
	return ctx->conf.replicas > 1 && ctx->conf.digest_interval > 0 &&
	       ctx->conf.state_transfer && ctx->state_dir != NULL &&
	       bftdns_digest_pins(ctx) != NULL;
}

int bftdns_transfer_init(bftdns_t *ctx)
{
	bftdns_transfer_t *tr = calloc(1, sizeof(*tr));
	if (tr == NULL) {
		return KNOT_ENOMEM;
	}
	pthread_mutex_init(&tr->lock, NULL);
	ctx->transfer = tr;
	return KNOT_EOK;
}

void bftdns_transfer_free(bftdns_t *ctx)
{
	bftdns_transfer_t *tr = ctx->transfer;
	if (tr == NULL) {
		return;
	}
	free(tr->data);
	free(tr->cert);
	pthread_mutex_destroy(&tr->lock);
	free(tr);
	ctx->transfer = NULL;
}

/*! Decodes and checks a certificate with f + 1 reports (a receiver's need). */
static int transfer_cert(bftdns_t *ctx, const uint8_t *cert, size_t len,
                         bftdns_checkpoint_t *cp, char *why, size_t why_len)
{
	const bft_pin_t *pins = bftdns_digest_pins(ctx);
	const knot_dname_t *zone = knotd_mod_zone(ctx->mod);
	if (pins == NULL) {
		return KNOT_EINVAL;
	}
	int ret = bftdns_checkpoint_decode(cert, len, cp);
	if (ret != KNOT_EOK) {
		snprintf(why, why_len, "not a certificate");
		return ret;
	}
	return bftdns_checkpoint_verify(cp, zone, knot_dname_size(zone), pins,
	                                ctx->conf.replicas, ctx->conf.faults + 1, why, why_len);
}

bool bftdns_transfer_verify(void *arg, const uint8_t *cert, size_t len, uint64_t *k)
{
	bftdns_t *ctx = arg;
	bftdns_checkpoint_t *cp = calloc(1, sizeof(*cp));
	char why[128];
	bool ok = cp != NULL && transfer_cert(ctx, cert, len, cp, why, sizeof(why)) == KNOT_EOK;
	if (ok) {
		*k = cp->claim.batch;
	}
	free(cp);
	return ok;
}

void bftdns_transfer_output(bftdns_t *ctx, uint32_t tag, const uint8_t *data, size_t len)
{
	bftdns_transfer_t *tr = ctx->transfer;
	if (tr == NULL) {
		return;
	}
	pthread_mutex_lock(&tr->lock);
	if (tag == BFTDNS_CORE_OUT_XFER_BEGIN) {
		bft_node_t source;
		uint64_t k, size;
		const uint8_t *cert;
		size_t cert_len;
		if (xfer_begin_decode(data, len, &source, &k, &size, &cert, &cert_len)) {
			free(tr->cert);
			tr->cert = malloc(cert_len);
			if (tr->cert != NULL) {
				memcpy(tr->cert, cert, cert_len);
			}
			tr->cert_len = cert_len;
			tr->begun = true;
			tr->done = false;
			tr->source = source;
			tr->k = k;
			tr->size = size;
			tr->len = 0;
			tr->begun_ms = transfer_now_ms();
		}
	} else if (tag == BFTDNS_CORE_OUT_XFER_CHUNK && tr->begun && !tr->done) {
		uint64_t offset;
		const uint8_t *bytes;
		size_t bytes_len;
		if (xfer_chunk_decode(data, len, &offset, &bytes, &bytes_len) &&
		    offset == tr->len && bytes_len <= tr->size - tr->len) {
			if (tr->len + bytes_len > tr->cap) {
				size_t cap = tr->cap ? tr->cap : (1u << 20);
				while (cap < tr->len + bytes_len) {
					cap *= 2;
				}
				uint8_t *grown = realloc(tr->data, cap);
				if (grown != NULL) {
					tr->data = grown;
					tr->cap = cap;
				}
			}
			/* Without memory the snapshot stays short and fails its check. */
			if (tr->len + bytes_len <= tr->cap) {
				memcpy(tr->data + tr->len, bytes, bytes_len);
				tr->len += bytes_len;
			}
		}
	} else if (tag == BFTDNS_CORE_OUT_XFER_DONE && tr->begun) {
		tr->done = true;
	}
	tr->progress_ms = transfer_now_ms();
	pthread_mutex_unlock(&tr->lock);
	/* The apply thread installs it. */
	bftdns_queue_wake(&ctx->delivered);
}

static void transfer_input(bftdns_t *ctx, uint8_t kind, uint64_t k)
{
	uint8_t in[9];
	size_t len = xfer_input_encode(kind, k, in);
	int ret = bftdns_replica_submit_to(ctx, MUX_XFER, in, len);
	if (ret != KNOT_EOK) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "state transfer: the coordinator did not "
		              "take the request (%s)", knot_strerror(ret));
	}
}

/*! f + 1 peers said GONE: ask for their latest stable checkpoint. */
static void transfer_start(bftdns_t *ctx, const bftdns_core_stats_t *st)
{
	bftdns_transfer_t *tr = ctx->transfer;
	uint64_t last = uatomic_read(&ctx->last_batch_seq);
	tr->active = true;
	tr->least = last + 1;
	tr->at_batch = last;
	tr->started_ms = tr->retried_ms = transfer_now_ms();
	tr->logged_ms = 0;
	pthread_mutex_lock(&tr->lock);
	tr->begun = tr->done = false;
	tr->len = 0;
	tr->progress_ms = tr->started_ms;
	pthread_mutex_unlock(&tr->lock);
	knotd_mod_log(ctx->mod, LOG_NOTICE, "state transfer: this replica is at batch %"PRIu64
	              " and %u peers no longer keep the batches after it; asking the peers "
	              "for the zone at their latest stable checkpoint", last, st->abc.gone);
	transfer_input(ctx, XFER_IN_START, tr->least);
}

/*! Installs a complete snapshot, or rejects it. */
static void transfer_install(bftdns_t *ctx)
{
	bftdns_transfer_t *tr = ctx->transfer;
	pthread_mutex_lock(&tr->lock);
	uint8_t *data = tr->data, *cert = tr->cert;
	size_t len = tr->len, cert_len = tr->cert_len;
	uint64_t k = tr->k;
	unsigned source = tr->source + 1u;
	tr->data = NULL;
	tr->cert = NULL;
	tr->len = tr->cap = tr->cert_len = 0;
	tr->begun = tr->done = false;
	pthread_mutex_unlock(&tr->lock);

	bftdns_checkpoint_t *cp = calloc(1, sizeof(*cp));
	char why[128] = "";
	int ret = (cp == NULL) ? KNOT_ENOMEM :
	          (cert == NULL) ? KNOT_EMALF :
	          transfer_cert(ctx, cert, cert_len, cp, why, sizeof(why));
	if (ret == KNOT_EOK && cp->claim.batch != k) {
		ret = KNOT_EMALF;
	}
	size_t rrs = 0;
	uint32_t serial = 0;
	uint64_t t0 = transfer_now_ms();
	if (ret == KNOT_EOK) {
		ret = bftdns_snapshot_install(ctx, data, len, &cp->claim, &rrs, &serial);
	}
	if (ret == KNOT_EMALF) {
		knotd_mod_log(ctx->mod, LOG_WARNING, "state transfer: the snapshot of checkpoint "
		              "%"PRIu64" from replica %u is not the certified state (%zu bytes; "
		              "wrong bytes or digest), trying another peer", k, source, len);
		transfer_input(ctx, XFER_IN_REJECT, k);
	} else if (ret != KNOT_EOK) {
		knotd_mod_log(ctx->mod, LOG_ERR, "state transfer: checkpoint %"PRIu64" from "
		              "replica %u not installed (%s); asking again in %u s", k, source,
		              knot_strerror(ret), BFTDNS_TRANSFER_BACKOFF_MS / 1000);
		transfer_input(ctx, XFER_IN_STOP, 0);
		tr->active = false;
		tr->backoff_until_ms = transfer_now_ms() + BFTDNS_TRANSFER_BACKOFF_MS;
	} else {
		uint64_t now = transfer_now_ms();
		char hex[2 * 8 + 1];
		for (int i = 0; i < 8; i++) {
			snprintf(hex + 2 * i, 3, "%02x", cp->claim.digest[i]);
		}
		knotd_mod_log(ctx->mod, LOG_NOTICE, "state transfer: installed the zone at "
		              "checkpoint %"PRIu64" from replica %u, %zu RRs, %zu bytes, digest "
		              "%s ok (%u reports), serial %u; %"PRIu64" ms in all, install %"PRIu64
		              " ms; going on after batch %"PRIu64, k, source, rrs, len, hex,
		              cp->count, serial, now - tr->started_ms, now - t0, k);
		transfer_input(ctx, XFER_IN_STOP, 0);
		tr->active = false;
		/* This replica now holds the checkpoint's state: its certificate
		 * is its latest stable checkpoint (it may serve it). */
		if (cp->count >= 2u * ctx->conf.faults + 1) {
			bftdns_checkpoint_stable(ctx, cp);
		}
		uatomic_set(&ctx->last_batch_seq, k);
		uatomic_set(&ctx->last_batch_time, cp->claim.time_ms / 1000);
		bftdns_replica_restart(ctx);
	}
	free(cp);
	free(cert);
	free(data);
}

void bftdns_transfer_tick(bftdns_t *ctx)
{
	bftdns_transfer_t *tr = ctx->transfer;
	if (tr == NULL || uatomic_read(&ctx->diverged) || bftdns_replica_restarting(ctx)) {
		return;
	}
	uint64_t now = transfer_now_ms();
	if (!tr->active) {
		bftdns_core_stats_t *st = calloc(1, sizeof(*st));
		if (st != NULL && now >= tr->backoff_until_ms && bftdns_replica_stats(ctx, st) &&
		    st->abc_on && st->abc.gone >= ctx->conf.faults + 1u) {
			transfer_start(ctx, st);
		}
		free(st);
		return;
	}

	pthread_mutex_lock(&tr->lock);
	bool done = tr->done;
	uint64_t progress = tr->progress_ms, received = tr->len, size = tr->size, k = tr->k;
	bool begun = tr->begun;
	unsigned source = tr->source + 1u;
	uint64_t begun_ms = tr->begun_ms;
	pthread_mutex_unlock(&tr->lock);
	if (done) {
		transfer_install(ctx);
		return;
	}
	/* A source that drips: it gets time for its size, not for ever. */
	uint64_t allowed = BFTDNS_TRANSFER_SOURCE_MS + (size >> 20) * BFTDNS_TRANSFER_MS_PER_MIB;
	if (begun && now > begun_ms && now - begun_ms > allowed && now - tr->retried_ms > allowed) {
		knotd_mod_log(ctx->mod, LOG_NOTICE, "state transfer: checkpoint %"PRIu64" from "
		              "replica %u too slow (%"PRIu64" of %"PRIu64" bytes in %"PRIu64" s), "
		              "trying another peer", k, source, received, size,
		              (now - begun_ms) / 1000);
		tr->retried_ms = now;
		transfer_input(ctx, XFER_IN_RETRY, 0);
		return;
	}
	/* progress may be later than now: the core thread wrote it since. */
	uint64_t since = (progress > tr->retried_ms) ? progress : tr->retried_ms;
	if (now > since && now - since >= BFTDNS_TRANSFER_RETRY_MS) {
		bool quiet = tr->logged_ms != 0 && now - tr->logged_ms < 60000;
		if (!quiet) {
			tr->logged_ms = now;
		}
		if (quiet) {
			/* Said less than a minute ago. */
		} else if (begun) {
			knotd_mod_log(ctx->mod, LOG_NOTICE, "state transfer: no progress for %u s "
			              "(checkpoint %"PRIu64" from replica %u, %"PRIu64" of %"PRIu64
			              " bytes), trying another peer", BFTDNS_TRANSFER_RETRY_MS / 1000,
			              k, source, received, size);
		} else {
			knotd_mod_log(ctx->mod, LOG_NOTICE, "state transfer: no peer offered a "
			              "checkpoint at or after batch %"PRIu64" within %u s, asking "
			              "again every %u s (a group that orders nothing makes no new "
			              "checkpoint)", tr->least, BFTDNS_TRANSFER_RETRY_MS / 1000,
			              BFTDNS_TRANSFER_RETRY_MS / 1000);
		}
		tr->retried_ms = now;
		transfer_input(ctx, XFER_IN_RETRY, 0);
	}
}
