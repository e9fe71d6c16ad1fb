/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module/checkpoint.h"
#include "module/position.h"
#include "module/snapshot.h"
#include "module/statefile.h"

#define SNAPSHOT_MAGIC		"BFTDNS-SNAPSHOT1"
#define SNAPSHOT_MAGIC_LEN	16
#define SNAPSHOT_PREFIX		"snapshot-"
/*! Snapshots kept (memory and files): the newest and the one before. */
#define SNAPSHOT_KEEP		2
/*! One RRset's wire size at most (RDATA 64 KiB per RR, many RRs). */
#define SNAPSHOT_RRSET_MAX	(16u << 20)

typedef struct {
	uint64_t batch;                 /*!< 0: unused. */
	uint64_t time_ms;
	uint8_t digest[BFTDNS_DIGEST_SIZE];
	uint8_t *data;
	size_t len;
} snapshot_t;

struct bftdns_snapshots {
	pthread_mutex_t lock;           /*!< Apply thread writes; core thread reads. */
	snapshot_t kept[SNAPSHOT_KEEP];
	bool too_large_logged;          /*!< Apply thread: said once that the zone is too large. */
	/* The offer the core thread was last given (xfer_store_ops_t.latest). */
	uint8_t cert[BFTDNS_CHECKPOINT_SIZE_MAX];
};

/* ---- bytes ---- */

typedef struct {
	uint8_t *data;
	size_t len, cap;
	uint32_t rrsets;
	int error;
} snap_buf_t;

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

static uint8_t *buf_room(snap_buf_t *b, size_t need)
{
	if (need > BFTDNS_SNAPSHOT_MAX - b->len) {
		b->error = KNOT_ESPACE;
		return NULL;
	}
	if (b->len + need > b->cap) {
		size_t cap = (b->cap == 0) ? (1u << 16) : b->cap;
		while (cap < b->len + need) {
			cap *= 2;
		}
		uint8_t *data = realloc(b->data, cap);
		if (data == NULL) {
			b->error = KNOT_ENOMEM;
			return NULL;
		}
		b->data = data;
		b->cap = cap;
	}
	return b->data + b->len;
}

/*! knotd_zone_snapshot() callback: one RRset, u16 RRs then their wire. */
static int snap_add_rrset(void *arg, const knot_rrset_t *rrset)
{
	snap_buf_t *b = arg;
	size_t max = 2 + knot_rrset_size_estimate(rrset);
	if (max > SNAPSHOT_RRSET_MAX) {
		b->error = KNOT_ESPACE;
		return KNOT_ESPACE;
	}
	uint8_t *p = buf_room(b, max);
	if (p == NULL) {
		return b->error;
	}
	int len = knot_rrset_to_wire(rrset, p + 2, (uint32_t)(max - 2), NULL);
	if (len < 0) {
		return len;
	}
	put_be(p, rrset->rrs.count, 2);
	b->len += 2 + (size_t)len;
	b->rrsets++;
	return KNOT_EOK;
}

/* ---- keeping ---- */

static void snapshot_file_name(uint64_t batch, char *out, size_t size)
{
	snprintf(out, size, SNAPSHOT_PREFIX "%020"PRIu64, batch);
}

/*! Reads a snapshot's header (trusted or not): false if it is none. */
static bool snapshot_header(const uint8_t *data, size_t len, uint64_t *batch,
                            uint64_t *time_ms, uint32_t *serial, uint8_t *digest,
                            uint32_t *rrsets)
{
	if (len < BFTDNS_SNAPSHOT_HDR || memcmp(data, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN) != 0) {
		return false;
	}
	const uint8_t *p = data + SNAPSHOT_MAGIC_LEN;
	*batch = get_be(p, 8);
	*time_ms = get_be(p + 8, 8);
	*serial = (uint32_t)get_be(p + 16, 4);
	memcpy(digest, p + 20, BFTDNS_DIGEST_SIZE);
	*rrsets = (uint32_t)get_be(p + 20 + BFTDNS_DIGEST_SIZE, 4);
	return *batch > 0;
}

/*! Keeps a snapshot (takes data), dropping the oldest; removes older files. */
static void snapshot_keep(bftdns_t *ctx, uint64_t batch, uint64_t time_ms,
                          const uint8_t *digest, uint8_t *data, size_t len)
{
	bftdns_snapshots_t *ss = ctx->snapshots;
	pthread_mutex_lock(&ss->lock);
	snapshot_t *slot = &ss->kept[0];
	for (size_t i = 0; i < SNAPSHOT_KEEP; i++) {
		if (ss->kept[i].batch == batch) {
			slot = &ss->kept[i];
			break;
		}
		if (ss->kept[i].batch < slot->batch) {
			slot = &ss->kept[i];
		}
	}
	free(slot->data);
	*slot = (snapshot_t) { .batch = batch, .time_ms = time_ms, .data = data, .len = len };
	memcpy(slot->digest, digest, BFTDNS_DIGEST_SIZE);
	uint64_t oldest = UINT64_MAX;
	for (size_t i = 0; i < SNAPSHOT_KEEP; i++) {
		if (ss->kept[i].batch != 0 && ss->kept[i].batch < oldest) {
			oldest = ss->kept[i].batch;
		}
	}
	pthread_mutex_unlock(&ss->lock);

	DIR *dir = (ctx->state_dir != NULL) ? opendir(ctx->state_dir) : NULL;
	if (dir == NULL) {
		return;
	}
	struct dirent *e;
	bool removed = false;
	while ((e = readdir(dir)) != NULL) {
		unsigned long long k = 0;
		char tail;
		if (sscanf(e->d_name, SNAPSHOT_PREFIX "%llu%c", &k, &tail) == 1 && k < oldest) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, e->d_name);
			removed |= (unlink(path) == 0);
		}
	}
	closedir(dir);
	if (removed) {
		(void)bftdns_statefile_sync_dir(ctx->state_dir);
	}
}

int bftdns_snapshot_take(bftdns_t *ctx, uint64_t batch, uint64_t time_ms,
                         uint8_t digest[BFTDNS_DIGEST_SIZE], uint32_t *serial)
{
	snap_buf_t b = { 0 };
	if (buf_room(&b, BFTDNS_SNAPSHOT_HDR) == NULL) {
		return b.error;
	}
	b.len = BFTDNS_SNAPSHOT_HDR;
	int ret = knotd_zone_snapshot(ctx->mod, snap_add_rrset, &b, digest,
	                              BFTDNS_DIGEST_SIZE, serial);
	if (ret == KNOT_ESPACE && b.error == KNOT_ESPACE) {
		/* Too large to keep: the checkpoint still gets its digest, and
		 * this replica serves no state transfer of it. */
		free(b.data);
		if (!ctx->snapshots->too_large_logged) {
			ctx->snapshots->too_large_logged = true;
			knotd_mod_log(ctx->mod, LOG_WARNING, "the zone is larger than a snapshot "
			              "may be (%llu MiB in wire format): this replica keeps none "
			              "and serves no state transfer", BFTDNS_SNAPSHOT_MAX >> 20);
		}
		size_t len = 0;
		ret = knotd_zone_digest(ctx->mod, digest, BFTDNS_DIGEST_SIZE, &len, serial);
		return (ret == KNOT_EOK && len != BFTDNS_DIGEST_SIZE) ? KNOT_EMALF : ret;
	}
	if (ret != KNOT_EOK) {
		free(b.data);
		return ret;
	}
	uint8_t *p = b.data;
	memcpy(p, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN);
	p += SNAPSHOT_MAGIC_LEN;
	put_be(p, batch, 8);
	put_be(p + 8, time_ms, 8);
	put_be(p + 16, *serial, 4);
	memcpy(p + 20, digest, BFTDNS_DIGEST_SIZE);
	put_be(p + 20 + BFTDNS_DIGEST_SIZE, b.rrsets, 4);

	if (ctx->state_dir != NULL) {
		char name[64];
		snapshot_file_name(batch, name, sizeof(name));
		int wret = bftdns_statefile_write(ctx->state_dir, name, b.data, b.len);
		if (wret != KNOT_EOK) {
			knotd_mod_log(ctx->mod, LOG_WARNING, "snapshot of batch %"PRIu64" not "
			              "written to %s/%s (%s); kept in memory", batch,
			              ctx->state_dir, name, knot_strerror(wret));
		}
	}
	snapshot_keep(ctx, batch, time_ms, digest, b.data, b.len);
	return KNOT_EOK;
}

/*! Load: the snapshot files of an earlier run (the newest SNAPSHOT_KEEP). */
static void snapshot_load(bftdns_t *ctx)
{
	DIR *dir = opendir(ctx->state_dir);
	if (dir == NULL) {
		return;
	}
	uint64_t found[SNAPSHOT_KEEP] = { 0 };
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		unsigned long long k = 0;
		char tail;
		if (sscanf(e->d_name, SNAPSHOT_PREFIX "%llu%c", &k, &tail) != 1 || k == 0) {
			continue;
		}
		size_t low = (found[0] <= found[1]) ? 0 : 1;
		if (k > found[low]) {
			found[low] = k;
		}
	}
	closedir(dir);
	for (size_t i = 0; i < SNAPSHOT_KEEP; i++) {
		if (found[i] == 0) {
			continue;
		}
		char name[64];
		snapshot_file_name(found[i], name, sizeof(name));
		uint8_t *data = NULL;
		size_t len = 0;
		uint64_t batch, time_ms;
		uint32_t serial, rrsets;
		uint8_t digest[BFTDNS_DIGEST_SIZE];
		int ret = bftdns_statefile_read(ctx->state_dir, name, BFTDNS_SNAPSHOT_MAX,
		                                &data, &len);
		if (ret != KNOT_EOK || !snapshot_header(data, len, &batch, &time_ms, &serial,
		                                        digest, &rrsets) || batch != found[i]) {
			knotd_mod_log(ctx->mod, LOG_WARNING, "%s/%s is no snapshot, ignored",
			              ctx->state_dir, name);
			free(data);
			continue;
		}
		snapshot_keep(ctx, batch, time_ms, digest, data, len);
	}
}

int bftdns_snapshot_init(bftdns_t *ctx)
{
	bftdns_snapshots_t *ss = calloc(1, sizeof(*ss));
	if (ss == NULL) {
		return KNOT_ENOMEM;
	}
	pthread_mutex_init(&ss->lock, NULL);
	ctx->snapshots = ss;
	if (ctx->state_dir != NULL) {
		snapshot_load(ctx);
	}
	return KNOT_EOK;
}

void bftdns_snapshot_free(bftdns_t *ctx)
{
	bftdns_snapshots_t *ss = ctx->snapshots;
	if (ss == NULL) {
		return;
	}
	for (size_t i = 0; i < SNAPSHOT_KEEP; i++) {
		free(ss->kept[i].data);
	}
	pthread_mutex_destroy(&ss->lock);
	free(ss);
	ctx->snapshots = NULL;
}

/* ---- serving (core thread) ---- */

static void store_latest(void *arg, xfer_offer_t *out)
{
	bftdns_t *ctx = arg;
	bftdns_snapshots_t *ss = ctx->snapshots;
	*out = (xfer_offer_t) { 0 };
	bftdns_checkpoint_t *cp = calloc(1, sizeof(*cp));
	if (ss == NULL || cp == NULL || bftdns_checkpoint_latest(ctx, cp) != KNOT_EOK) {
		free(cp);
		return;
	}
	pthread_mutex_lock(&ss->lock);
	for (size_t i = 0; i < SNAPSHOT_KEEP; i++) {
		const snapshot_t *s = &ss->kept[i];
		/* Only the certified state: a replica in the minority has
		 * another one, and offers nothing. */
		if (s->batch != cp->claim.batch || s->time_ms != cp->claim.time_ms ||
		    memcmp(s->digest, cp->claim.digest, BFTDNS_DIGEST_SIZE) != 0) {
			continue;
		}
		size_t len = bftdns_checkpoint_encode(cp, ss->cert, sizeof(ss->cert));
		if (len > 0) {
			*out = (xfer_offer_t) { .k = s->batch, .cert = ss->cert,
			                        .cert_len = len, .size = s->len };
		}
		break;
	}
	pthread_mutex_unlock(&ss->lock);
	free(cp);
}

static bool store_read(void *arg, uint64_t k, uint64_t offset, uint8_t *out, size_t len)
{
	bftdns_t *ctx = arg;
	bftdns_snapshots_t *ss = ctx->snapshots;
	bool found = false;
	pthread_mutex_lock(&ss->lock);
	for (size_t i = 0; i < SNAPSHOT_KEEP && !found; i++) {
		const snapshot_t *s = &ss->kept[i];
		if (s->batch == k && offset <= s->len && len <= s->len - offset) {
			memcpy(out, s->data + offset, len);
			found = true;
			/* Test only: a server that lies in the last RDATA byte,
			 * which only the digest of the whole state shows. */
			if ((ctx->conf.misbehave & BFTDNS_MISBEHAVE_CORRUPT_SNAPSHOT) &&
			    offset + len == s->len) {
				out[len - 1] ^= 0x01;
			}
		}
	}
	pthread_mutex_unlock(&ss->lock);
	return found;
}

const xfer_store_ops_t bftdns_snapshot_store = {
	.latest = store_latest,
	.read = store_read,
};

/* ---- installing (apply thread) ---- */

typedef struct {
	const uint8_t *data;
	size_t len;
	size_t pos;
	uint32_t left;          /*!< RRsets still to come. */
	knot_rrset_t rrset;     /*!< The last one given (freed at the next). */
	size_t rrs;
	bool bad;               /*!< Malformed bytes (not an error of Knot's). */
} snap_reader_t;

static int snap_next(void *arg, knot_rrset_t *out)
{
	snap_reader_t *r = arg;
	knot_rrset_clear(&r->rrset, NULL);
	if (r->left == 0) {
		if (r->pos != r->len) {
			r->bad = true;
			return KNOT_EMALF;
		}
		return KNOT_ENOENT;
	}
	r->left--;
	if (r->len - r->pos < 2) {
		r->bad = true;
		return KNOT_EMALF;
	}
	uint16_t count = (uint16_t)get_be(r->data + r->pos, 2);
	r->pos += 2;
	if (count == 0) {
		r->bad = true;
		return KNOT_EMALF;
	}
	knot_rrset_init_empty(&r->rrset);
	for (uint16_t i = 0; i < count; i++) {
		knot_rrset_t rr;
		knot_rrset_init_empty(&rr);
		int ret = knot_rrset_rr_from_wire(r->data, &r->pos, r->len, &rr, NULL, false);
		if (ret != KNOT_EOK) {
			r->bad = true;
			knot_rrset_clear(&rr, NULL);
			return KNOT_EMALF;
		}
		if (i == 0) {
			r->rrset = rr;
		} else if (rr.type != r->rrset.type || rr.rclass != r->rrset.rclass ||
		           rr.ttl != r->rrset.ttl ||
		           !knot_dname_is_equal(rr.owner, r->rrset.owner) ||
		           knot_rdataset_merge(&r->rrset.rrs, &rr.rrs, NULL) != KNOT_EOK) {
			r->bad = true;
			knot_rrset_clear(&rr, NULL);
			return KNOT_EMALF;
		} else {
			knot_rrset_clear(&rr, NULL);
		}
	}
	r->rrs += count;
	*out = r->rrset;
	return KNOT_EOK;
}

int bftdns_snapshot_install(bftdns_t *ctx, const uint8_t *data, size_t len,
                            const bftdns_digest_claim_t *claim, size_t *rrs,
                            uint32_t *serial)
{
	uint64_t batch, time_ms;
	uint32_t hdr_serial, rrsets;
	uint8_t digest[BFTDNS_DIGEST_SIZE];
	if (!snapshot_header(data, len, &batch, &time_ms, &hdr_serial, digest, &rrsets) ||
	    batch != claim->batch || time_ms != claim->time_ms ||
	    memcmp(digest, claim->digest, BFTDNS_DIGEST_SIZE) != 0) {
		return KNOT_EMALF;
	}
	bftdns_position_t pos = { .seq = claim->batch, .time_ms = claim->time_ms };
	uint8_t position[BFTDNS_POSITION_LEN];
	bftdns_position_encode(&pos, position);

	snap_reader_t r = { .data = data, .len = len, .pos = BFTDNS_SNAPSHOT_HDR,
	                    .left = rrsets };
	knot_rrset_init_empty(&r.rrset);
	int ret = knotd_zone_install(ctx->mod, snap_next, &r, claim->digest, BFTDNS_DIGEST_SIZE,
	                             position, sizeof(position), serial);
	knot_rrset_clear(&r.rrset, NULL);
	if (r.bad || ret == KNOT_EOUTOFZONE) {
		ret = KNOT_EMALF;
	}
	if (ret == KNOT_EOK) {
		*rrs = r.rrs;
		/* Kept as this replica's own snapshot of K: it may serve it. */
		uint8_t *copy = malloc(len);
		if (copy != NULL) {
			memcpy(copy, data, len);
			char name[64];
			snapshot_file_name(batch, name, sizeof(name));
			if (ctx->state_dir != NULL) {
				(void)bftdns_statefile_write(ctx->state_dir, name, copy, len);
			}
			snapshot_keep(ctx, batch, time_ms, digest, copy, len);
		}
	}
	return ret;
}
