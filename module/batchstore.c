/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include "coordinator/proto/batch.h"
#include "coordinator/proto/error.h"
#include "libknot/errcode.h"
#include "libknot/error.h"
#include "module/batchstore.h"
#include "coordinator/util/crc32c.h"
#include "coordinator/util/segfile.h"
#include "module/statefile.h"

/* Format 2 adds signature records; format 1 segments (batches only) are
 * still read. */
#define STORE_MAGIC		"BFTDNSB2"
#define STORE_MAGIC_V1		"BFTDNSB1"
#define STORE_MAGIC_LEN		8
#define STORE_RECORD_HDR	BFTDNS_SEG_RECORD_HDR
/*! Length field bit of a signature record (batchstore.h). */
#define STORE_SIGS_FLAG		UINT32_C(0x80000000)
/*! Signature record body before the digests: u8 alg, u16 m, u16 D, u16 L. */
#define STORE_SIGS_HDR		7
#define STORE_PREFIX		"batches-"
/*! Segments at once: far more than the limits let live (they are removed). */
#define STORE_SEGMENTS_MAX	65536

/*! One segment file: batches first..last (last < first: none yet). */
typedef struct {
	uint64_t first;
	uint64_t last;
	uint64_t bytes;       /*!< File size. */
	uint64_t sig_bytes;   /*!< ...of which signature records. */
} segment_t;

struct bftdns_batchstore {
	struct bftdns_batchstore *next;   /*!< In the process-wide list. */
	unsigned refs;
	char *dir;
	pthread_mutex_t lock;
	bftdns_batchstore_limits_t limits;
	segment_t *segs;                  /*!< Oldest first. */
	size_t seg_count, seg_cap;
	int fd;                           /*!< Open for appends: the last segment, or -1. */
	bool roll;                        /*!< The next append starts a segment. */
	uint64_t last_sigs;               /*!< Id of the current segment's last signature record. */
	uint64_t appended, appended_bytes;/*!< Since the load (stats). */
	uint64_t appended_sigs;           /*!< Signature records, since the load. */
};

/* Process-wide on purpose (batchstore.h: shared across a reload). */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static bftdns_batchstore_t *stores;

static void store_log(const bftdns_batchstore_log_t *log, int level, const char *fmt, ...)
{
	if (log == NULL || log->fn == NULL) {
		return;
	}
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(log->ctx, level, msg);
}

static const bftdns_seg_kind_t store_kind = {
	.prefix = STORE_PREFIX, .seq_min = 1, .count_max = STORE_SEGMENTS_MAX,
};

/*!
 * The module's code for an error of coordinator/util/segfile.h: BFT_EIO
 * left errno as the call set it; a directory of too many segments was
 * always reported as KNOT_ENOMEM.
 */
static int store_error(int bft)
{
	switch (bft) {
	case BFT_EOK:     return KNOT_EOK;
	case BFT_ENOENT:  return KNOT_ENOENT;
	case BFT_EMALF:   return KNOT_EMALF;
	case BFT_ENOMEM:
	case BFT_ESPACE:  return KNOT_ENOMEM;
	default:          return knot_map_errno();
	}
}

static void segment_path(const bftdns_batchstore_t *store, uint64_t first, char *out,
                         size_t size)
{
	bftdns_seg_path(&store_kind, store->dir, first, out, size);
}

/*! Where a segment's reading is: what the next record may be. */
typedef struct {
	bool sigs;            /*!< Format 2: signature records allowed. */
	uint64_t first;       /*!< The segment's first batch. */
	uint64_t last;        /*!< Last batch read (first - 1: none yet). */
	uint64_t last_sigs;   /*!< Last signature record's id (0: none yet). */
} reader_t;

/*! One record read (data malloc'ed). */
typedef struct {
	bool is_sigs;
	uint64_t number;      /*!< Batch number, or a signature record's id. */
	uint8_t *data;
	size_t len;
} record_t;

/*! A signature record's body, checked (pointers into data). */
static bool sigs_parse(const uint8_t *data, size_t len, uint64_t id, bftdns_stored_sigs_t *out)
{
	if (len < STORE_SIGS_HDR) {
		return false;
	}
	uint16_t m = (uint16_t)(data[1] << 8 | data[2]);
	uint16_t dlen = (uint16_t)(data[3] << 8 | data[4]);
	uint16_t slen = (uint16_t)(data[5] << 8 | data[6]);
	if (m == 0 || m > BFTDNS_BATCHSTORE_SIGS_MAX || dlen == 0 ||
	    dlen > BFTDNS_BATCHSTORE_DIGEST_MAX || slen == 0 ||
	    slen > BFTDNS_BATCHSTORE_SIG_MAX ||
	    len != STORE_SIGS_HDR + (size_t)m * (dlen + slen)) {
		return false;
	}
	*out = (bftdns_stored_sigs_t) {
		.id = id, .alg = data[0], .count = m, .digest_len = dlen, .sig_len = slen,
		.digests = data + STORE_SIGS_HDR,
		.sigs = data + STORE_SIGS_HDR + (size_t)m * dlen,
	};
	return true;
}

/*!
 * Reads the next record at the file's offset: the next batch, or (format
 * 2) a signature record of a batch read before in this segment, ids
 * growing. KNOT_EOK (rec; its data malloc'ed), KNOT_ENOENT at a clean end,
 * KNOT_EMALF for a torn or damaged one (why says how), or a read error.
 */
static int record_read(int fd, reader_t *rd, record_t *rec, const char **why)
{
	uint8_t hdr[STORE_RECORD_HDR];
	int ret = bftdns_seg_record_read_head(fd, hdr, why);
	if (ret != BFT_EOK) {
		return store_error(ret);
	}
	uint32_t field = bftdns_seg_get_u32(hdr);
	bool is_sigs = rd->sigs && (field & STORE_SIGS_FLAG);
	uint32_t size = is_sigs ? (field & ~STORE_SIGS_FLAG) : field;
	uint64_t number = bftdns_seg_get_u64(hdr + 4);
	if (size == 0 || size > BFTDNS_BATCHSTORE_RECORD_MAX) {
		*why = "impossible record length";
		return KNOT_EMALF;
	}
	if (!is_sigs && number != rd->last + 1) {
		*why = "batch number out of sequence";
		return KNOT_EMALF;
	}
	uint64_t batch = number >> BFTDNS_BATCHSTORE_ID_POSITION_BITS;
	if (is_sigs && (batch < rd->first || batch > rd->last || number <= rd->last_sigs)) {
		*why = "signatures of a batch not stored before them, or out of sequence";
		return KNOT_EMALF;
	}
	uint8_t *buf = NULL;
	bool torn;
	ret = bftdns_seg_record_read_body(fd, hdr, size, &buf, &torn, why);
	if (ret != BFT_EOK) {
		return store_error(ret);
	}
	batch_reader_t br;
	bftdns_stored_sigs_t sigs;
	if (!is_sigs && (batch_reader_open(&br, buf, size) != BFT_EOK ||
	                 br.epoch + 1 != number)) {
		*why = "not a delivered batch of that number";
		free(buf);
		return KNOT_EMALF;
	}
	if (is_sigs && !sigs_parse(buf, size, number, &sigs)) {
		*why = "malformed signature record";
		free(buf);
		return KNOT_EMALF;
	}
	if (is_sigs) {
		rd->last_sigs = number;
	} else {
		rd->last = number;
	}
	*rec = (record_t) { .is_sigs = is_sigs, .number = number, .data = buf, .len = size };
	return KNOT_EOK;
}

/*! Checks a segment's magic: KNOT_EOK (rd ready), KNOT_EMALF, or an error. */
static int segment_start(int fd, uint64_t first, reader_t *rd)
{
	uint8_t magic[STORE_MAGIC_LEN];
	size_t got;
	int ret = bftdns_seg_read_full(fd, magic, sizeof(magic), &got);
	if (ret != BFT_EOK) {
		return store_error(ret);
	}
	bool v2 = got == sizeof(magic) && memcmp(magic, STORE_MAGIC, got) == 0;
	bool v1 = got == sizeof(magic) && memcmp(magic, STORE_MAGIC_V1, got) == 0;
	if (!v1 && !v2) {
		return KNOT_EMALF;
	}
	*rd = (reader_t) { .sigs = v2, .first = first, .last = first - 1 };
	return KNOT_EOK;
}

static int segments_push(bftdns_batchstore_t *store, segment_t seg)
{
	if (store->seg_count == store->seg_cap) {
		size_t cap = store->seg_cap == 0 ? 16 : 2 * store->seg_cap;
		if (cap > STORE_SEGMENTS_MAX) {
			return KNOT_ESPACE;
		}
		segment_t *segs = realloc(store->segs, cap * sizeof(*segs));
		if (segs == NULL) {
			return KNOT_ENOMEM;
		}
		store->segs = segs;
		store->seg_cap = cap;
	}
	store->segs[store->seg_count++] = seg;
	return KNOT_EOK;
}

/*! Removes segment i (file and entry). */
static void segment_remove(bftdns_batchstore_t *store, size_t i)
{
	bftdns_seg_remove(&store_kind, store->dir, store->segs[i].first);
	if (i == store->seg_count - 1 && store->fd >= 0) {
		close(store->fd);
		store->fd = -1;
	}
	memmove(&store->segs[i], &store->segs[i + 1],
	        (store->seg_count - i - 1) * sizeof(store->segs[0]));
	store->seg_count--;
}

/*!
 * Checks one segment file, cutting it at the first record it cannot trust
 * or that lies beyond position. *cut: later segments must go. The segment
 * is pushed if it keeps at least one batch, else removed.
 */
static int store_load_segment(bftdns_batchstore_t *store, uint64_t first, uint64_t position,
                              bool *cut, const bftdns_batchstore_log_t *log)
{
	char path[PATH_MAX];
	segment_path(store, first, path, sizeof(path));
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		return knot_map_errno();
	}
	segment_t seg = { .first = first, .last = first - 1, .bytes = 0 };
	reader_t rd;
	const char *why = NULL;
	int ret = segment_start(fd, first, &rd);
	if (ret == KNOT_EMALF) {
		why = "not a segment of this format";
		ret = KNOT_EOK;
	}
	if (ret == KNOT_EOK && why == NULL) {
		seg.bytes = STORE_MAGIC_LEN;
		while (true) {
			record_t rec;
			ret = record_read(fd, &rd, &rec, &why);
			if (ret != KNOT_EOK) {
				break;
			}
			free(rec.data);
			if (rec.is_sigs) {
				seg.bytes += STORE_RECORD_HDR + rec.len;
				seg.sig_bytes += STORE_RECORD_HDR + rec.len;
				continue;
			}
			const uint64_t seq = rec.number;
			const size_t len = rec.len;
			if (seq > position) {
				store_log(log, LOG_INFO, "batch store: batches from %"PRIu64" on were "
				          "delivered but not applied (durable position %"PRIu64"), "
				          "dropped: they are fetched again", seq, position);
				*cut = true;
				break;
			}
			seg.last = seq;
			seg.bytes += STORE_RECORD_HDR + len;
		}
		if (ret == KNOT_ENOENT) {
			ret = KNOT_EOK;
		} else if (ret == KNOT_EMALF) {
			ret = KNOT_EOK;  /* why says what; cut below. */
		}
	}
	if (why != NULL) {
		store_log(log, LOG_WARNING, "batch store: %s: %s at offset %"PRIu64" (after batch "
		          "%"PRIu64"), cut there; later batches are fetched again", path, why,
		          seg.bytes, seg.last);
		*cut = true;
	}
	if (ret == KNOT_EOK && *cut && ftruncate(fd, (off_t)seg.bytes) != 0) {
		ret = knot_map_errno();
	}
	if (ret == KNOT_EOK && *cut) {
		(void)fsync(fd);
	}
	close(fd);
	if (ret != KNOT_EOK) {
		return ret;
	}
	if (seg.last < seg.first) {
		(void)unlink(path);
		return KNOT_EOK;
	}
	return segments_push(store, seg);
}

/*! First open in the process: every segment checked, cut at position. */
static int store_load(bftdns_batchstore_t *store, uint64_t position,
                      const bftdns_batchstore_log_t *log)
{
	uint64_t *firsts = NULL;
	size_t count = 0;
	int ret = store_error(bftdns_seg_list(&store_kind, store->dir, &firsts, &count));
	if (ret != KNOT_EOK) {
		return ret;
	}
	bool cut = false;
	size_t removed = 0;
	for (size_t i = 0; i < count && ret == KNOT_EOK; i++) {
		uint64_t last = store->seg_count > 0 ? store->segs[store->seg_count - 1].last : 0;
		if (cut || firsts[i] <= last || firsts[i] > position) {
			/* After a cut, overlapping, or entirely beyond position. */
			bftdns_seg_remove(&store_kind, store->dir, firsts[i]);
			removed++;
			continue;
		}
		ret = store_load_segment(store, firsts[i], position, &cut, log);
	}
	free(firsts);
	if (removed > 0) {
		store_log(log, LOG_INFO, "batch store: %zu later segments removed (beyond the "
		          "durable position or after a damaged record)", removed);
	}
	if (ret == KNOT_EOK && (removed > 0 || cut)) {
		(void)bftdns_statefile_sync_dir(store->dir);
	}
	/* Appends go to a new segment: a cut one may end torn on some disks. */
	store->roll = true;
	return ret;
}

int bftdns_batchstore_open(const char *dir, uint64_t position,
                           const bftdns_batchstore_limits_t *limits,
                           const bftdns_batchstore_log_t *log, bftdns_batchstore_t **out)
{
	if (dir == NULL || limits == NULL || out == NULL) {
		return KNOT_EINVAL;
	}
	pthread_mutex_lock(&stores_lock);
	for (bftdns_batchstore_t *s = stores; s != NULL; s = s->next) {
		if (strcmp(s->dir, dir) == 0) {
			s->refs++;
			pthread_mutex_unlock(&stores_lock);
			*out = s;
			return KNOT_EOK;
		}
	}
	bftdns_batchstore_t *store = calloc(1, sizeof(*store));
	if (store == NULL || (store->dir = strdup(dir)) == NULL) {
		free(store);
		pthread_mutex_unlock(&stores_lock);
		return KNOT_ENOMEM;
	}
	store->refs = 1;
	store->fd = -1;
	store->limits = *limits;
	if (store->limits.segment_batches == 0) {
		store->limits.segment_batches = BFTDNS_BATCHSTORE_SEGMENT_BATCHES;
	}
	if (store->limits.segment_bytes == 0) {
		store->limits.segment_bytes = BFTDNS_BATCHSTORE_SEGMENT_BYTES;
	}
	if (store->limits.sig_bytes == 0) {
		store->limits.sig_bytes = BFTDNS_BATCHSTORE_SIG_BYTES;
	}
	pthread_mutex_init(&store->lock, NULL);
	int ret = store_load(store, position, log);
	if (ret != KNOT_EOK) {
		store_log(log, LOG_ERR, "batch store in %s not usable (%s)", dir,
		          knot_strerror(ret));
		pthread_mutex_destroy(&store->lock);
		free(store->segs);
		free(store->dir);
		free(store);
		pthread_mutex_unlock(&stores_lock);
		return ret;
	}
	store->next = stores;
	stores = store;
	pthread_mutex_unlock(&stores_lock);
	*out = store;
	return KNOT_EOK;
}

void bftdns_batchstore_close(bftdns_batchstore_t *store)
{
	if (store == NULL) {
		return;
	}
	pthread_mutex_lock(&stores_lock);
	if (--store->refs > 0) {
		pthread_mutex_unlock(&stores_lock);
		return;
	}
	for (bftdns_batchstore_t **p = &stores; *p != NULL; p = &(*p)->next) {
		if (*p == store) {
			*p = store->next;
			break;
		}
	}
	pthread_mutex_unlock(&stores_lock);
	if (store->fd >= 0) {
		(void)fsync(store->fd);
		close(store->fd);
	}
	pthread_mutex_destroy(&store->lock);
	free(store->segs);
	free(store->dir);
	free(store);
}

/*!
 * Appends one record (its iovecs, total bytes) to the current segment cur:
 * whole, or back to the last whole record and the next record goes to a
 * new segment (nothing half-written stays).
 */
static int store_write(bftdns_batchstore_t *store, segment_t *cur, const struct iovec *iov,
                       int iovcnt, size_t total, const bftdns_batchstore_log_t *log)
{
	int err = 0;
	bool restored;
	int ret = bftdns_seg_append(store->fd, iov, iovcnt, total, cur->bytes, &err, &restored);
	if (ret == BFT_EOK) {
		return KNOT_EOK;
	}
	if (!restored) {
		store_log(log, LOG_WARNING, "batch store: a partial record could not be "
		          "removed; it is cut at the next load");
	}
	store->roll = true;
	return (ret == BFT_EIO) ? knot_map_errno_code(err) : KNOT_ESPACE;
}

/*! Ends the current segment and starts one at batch first. */
static int store_roll(bftdns_batchstore_t *store, uint64_t first)
{
	if (store->fd >= 0) {
		(void)fsync(store->fd);
		close(store->fd);
		store->fd = -1;
	}
	char path[PATH_MAX];
	segment_path(store, first, path, sizeof(path));
	/* A file of that name is an earlier cut-off attempt: replaced. */
	(void)unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		return knot_map_errno();
	}
	ssize_t n = write(fd, STORE_MAGIC, STORE_MAGIC_LEN);
	int ret = segments_push(store, (segment_t) { .first = first, .last = first - 1,
	                                               .bytes = STORE_MAGIC_LEN });
	if (n != STORE_MAGIC_LEN || ret != KNOT_EOK) {
		close(fd);
		(void)unlink(path);
		return ret != KNOT_EOK ? ret : KNOT_ERROR;
	}
	(void)bftdns_statefile_sync_dir(store->dir);
	store->fd = fd;
	store->roll = false;
	store->last_sigs = 0;
	return KNOT_EOK;
}

/*!
 * Removes the oldest segments the newer ones make unnecessary for a restart:
 * their batches within the limits, and their signature records within
 * limits.sig_bytes (more than the signing core keeps is of no use).
 */
static size_t store_trim(bftdns_batchstore_t *store)
{
	size_t removed = 0;
	while (store->seg_count > 1) {
		const segment_t *newest = &store->segs[store->seg_count - 1];
		uint64_t batches = 0, bytes = 0, sig_bytes = 0;
		for (size_t i = 1; i < store->seg_count; i++) {
			bytes += store->segs[i].bytes - store->segs[i].sig_bytes;
			sig_bytes += store->segs[i].sig_bytes;
		}
		batches = newest->last - store->segs[1].first + 1;
		if (batches < store->limits.batches && bytes < store->limits.bytes &&
		    sig_bytes < store->limits.sig_bytes) {
			break;
		}
		segment_remove(store, 0);
		removed++;
	}
	return removed;
}

int bftdns_batchstore_append(bftdns_batchstore_t *store, uint64_t seq, const uint8_t *batch,
                             size_t len, const bftdns_batchstore_log_t *log)
{
	if (store == NULL || seq == 0 || batch == NULL || len == 0 ||
	    len > BFTDNS_BATCHSTORE_RECORD_MAX) {
		return KNOT_EINVAL;
	}
	pthread_mutex_lock(&store->lock);
	segment_t *cur = store->seg_count > 0 ? &store->segs[store->seg_count - 1] : NULL;
	if (cur != NULL && seq <= cur->last) {
		pthread_mutex_unlock(&store->lock);
		return KNOT_EOK;
	}
	int ret = KNOT_EOK;
	if (cur == NULL || store->fd < 0 || store->roll || seq != cur->last + 1 ||
	    cur->last - cur->first + 1 >= store->limits.segment_batches ||
	    cur->bytes >= store->limits.segment_bytes) {
		ret = store_roll(store, seq);
		cur = &store->segs[store->seg_count - 1];
	}
	if (ret != KNOT_EOK) {
		pthread_mutex_unlock(&store->lock);
		return ret;
	}

	uint8_t hdr[STORE_RECORD_HDR];
	bftdns_seg_record_frame(hdr, (uint32_t)len, seq, batch, len);
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)batch, len } };
	ret = store_write(store, cur, iov, 2, sizeof(hdr) + len, log);
	if (ret != KNOT_EOK) {
		pthread_mutex_unlock(&store->lock);
		return ret;
	}
	cur->last = seq;
	cur->bytes += sizeof(hdr) + len;
	store->appended++;
	store->appended_bytes += sizeof(hdr) + len;
	(void)store_trim(store);
	pthread_mutex_unlock(&store->lock);
	return KNOT_EOK;
}

/*! Stored batches, a window of the newest within the limits. */
typedef struct {
	bftdns_stored_batch_t *items;
	size_t first, count, cap;
	uint64_t bytes;
} window_t;

static void window_drop_oldest(window_t *w)
{
	bftdns_stored_batch_t *old = &w->items[w->first];
	w->bytes -= old->len;
	free(old->data);
	old->data = NULL;
	w->first = (w->first + 1) % w->cap;
	w->count--;
}

static void window_add(window_t *w, const bftdns_batchstore_limits_t *limits,
                       bftdns_stored_batch_t b)
{
	if (w->count > 0 && w->items[(w->first + w->count - 1) % w->cap].seq + 1 != b.seq) {
		while (w->count > 0) {
			window_drop_oldest(w);  /* A gap: only what follows it counts. */
		}
	}
	if (w->count == w->cap) {
		window_drop_oldest(w);
	}
	w->items[(w->first + w->count) % w->cap] = b;
	w->count++;
	w->bytes += b.len;
	while (w->count > 1 && w->bytes > limits->bytes) {
		window_drop_oldest(w);
	}
}

int bftdns_batchstore_replay(bftdns_batchstore_t *store, uint64_t position,
                             bftdns_stored_batch_t **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	if (store == NULL || position == 0 || store->limits.batches == 0) {
		return KNOT_EOK;
	}
	pthread_mutex_lock(&store->lock);
	window_t w = { .cap = store->limits.batches };
	w.items = calloc(w.cap, sizeof(*w.items));
	int ret = (w.items != NULL) ? KNOT_EOK : KNOT_ENOMEM;
	for (size_t i = 0; i < store->seg_count && ret == KNOT_EOK; i++) {
		const segment_t *seg = &store->segs[i];
		if (seg->last < seg->first || seg->first > position ||
		    seg->last + store->limits.batches < position) {
			continue;  /* Empty, after position, or wholly too old. */
		}
		char path[PATH_MAX];
		segment_path(store, seg->first, path, sizeof(path));
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		reader_t rd;
		ret = (fd < 0) ? knot_map_errno() : segment_start(fd, seg->first, &rd);
		if (ret != KNOT_EOK) {
			if (fd >= 0) {
				close(fd);
			}
			break;
		}
		while (rd.last < seg->last && rd.last < position) {
			record_t rec;
			const char *why = NULL;
			ret = record_read(fd, &rd, &rec, &why);
			if (ret != KNOT_EOK) {
				break;
			}
			if (rec.is_sigs) {
				free(rec.data);
				continue;
			}
			window_add(&w, &store->limits, (bftdns_stored_batch_t) {
				.seq = rec.number, .data = rec.data, .len = rec.len });
		}
		close(fd);
	}
	pthread_mutex_unlock(&store->lock);

	bool ends = ret == KNOT_EOK && w.count > 0 &&
	            w.items[(w.first + w.count - 1) % w.cap].seq == position;
	bftdns_stored_batch_t *list = ends ? malloc(w.count * sizeof(*list)) : NULL;
	if (ends && list == NULL) {
		ret = KNOT_ENOMEM;
	}
	size_t n = 0;
	while (w.count > 0) {
		if (list != NULL) {
			list[n++] = w.items[w.first];
			w.first = (w.first + 1) % w.cap;
			w.count--;
		} else {
			window_drop_oldest(&w);
		}
	}
	free(w.items);
	if (ret != KNOT_EOK) {
		bftdns_batchstore_free(list, n);
		return ret;
	}
	*out = list;
	*count = n;
	return KNOT_EOK;
}

void bftdns_batchstore_free(bftdns_stored_batch_t *batches, size_t count)
{
	for (size_t i = 0; batches != NULL && i < count; i++) {
		free(batches[i].data);
	}
	free(batches);
}

size_t bftdns_batchstore_forget(bftdns_batchstore_t *store, uint64_t checkpoint,
                                const bftdns_batchstore_log_t *log)
{
	if (store == NULL) {
		return 0;
	}
	pthread_mutex_lock(&store->lock);
	size_t removed = 0;
	uint64_t bytes = 0, upto = 0;
	while (store->seg_count > 0 && store->segs[0].last <= checkpoint) {
		bytes += store->segs[0].bytes;
		upto = store->segs[0].last;
		segment_remove(store, 0);
		removed++;
	}
	/* The current segment holds the checkpoint's batch or ones before it:
	 * it ends here, so that the next stable checkpoint removes it whole. */
	if (store->seg_count > 0 && store->segs[store->seg_count - 1].first <= checkpoint) {
		store->roll = true;
	}
	if (removed > 0) {
		(void)bftdns_statefile_sync_dir(store->dir);
		store_log(log, LOG_INFO, "batch store: %zu segments (%"PRIu64" bytes, batches up "
		          "to %"PRIu64") removed after the stable checkpoint at batch %"PRIu64,
		          removed, bytes, upto, checkpoint);
	}
	pthread_mutex_unlock(&store->lock);
	return removed;
}

void bftdns_batchstore_stats(bftdns_batchstore_t *store, bftdns_batchstore_stats_t *out)
{
	*out = (bftdns_batchstore_stats_t) { 0 };
	if (store == NULL) {
		return;
	}
	pthread_mutex_lock(&store->lock);
	for (size_t i = 0; i < store->seg_count; i++) {
		const segment_t *seg = &store->segs[i];
		out->bytes += seg->bytes;
		if (seg->last < seg->first) {
			continue;
		}
		if (out->first == 0) {
			out->first = seg->first;
		}
		out->last = seg->last;
	}
	out->segments = store->seg_count;
	out->appended = store->appended;
	out->appended_bytes = store->appended_bytes;
	out->appended_sigs = store->appended_sigs;
	pthread_mutex_unlock(&store->lock);
}

int bftdns_batchstore_append_sigs(bftdns_batchstore_t *store, const bftdns_stored_sigs_t *sigs,
                                  const bftdns_batchstore_log_t *log)
{
	if (store == NULL || sigs == NULL || sigs->digests == NULL || sigs->sigs == NULL ||
	    sigs->count == 0 || sigs->count > BFTDNS_BATCHSTORE_SIGS_MAX ||
	    sigs->digest_len == 0 || sigs->digest_len > BFTDNS_BATCHSTORE_DIGEST_MAX ||
	    sigs->sig_len == 0 || sigs->sig_len > BFTDNS_BATCHSTORE_SIG_MAX) {
		return KNOT_EINVAL;
	}
	const size_t dbytes = (size_t)sigs->count * sigs->digest_len;
	const size_t sbytes = (size_t)sigs->count * sigs->sig_len;
	const size_t len = STORE_SIGS_HDR + dbytes + sbytes;
	const uint64_t batch = sigs->id >> BFTDNS_BATCHSTORE_ID_POSITION_BITS;
	pthread_mutex_lock(&store->lock);
	segment_t *cur = store->seg_count > 0 ? &store->segs[store->seg_count - 1] : NULL;
	/* Only next to its batch, in the segment being written (the apply
	 * thread stores a batch before it signs it): anything else (a gap, a
	 * failed append, an id not above the last) is not stored, and the
	 * batch's signatures are then as lost after a restart as before. */
	if (cur == NULL || store->fd < 0 || batch < cur->first || batch > cur->last ||
	    sigs->id <= store->last_sigs) {
		pthread_mutex_unlock(&store->lock);
		return KNOT_ENOENT;
	}
	uint8_t body[STORE_SIGS_HDR] = {
		sigs->alg, (uint8_t)(sigs->count >> 8), (uint8_t)sigs->count,
		(uint8_t)(sigs->digest_len >> 8), (uint8_t)sigs->digest_len,
		(uint8_t)(sigs->sig_len >> 8), (uint8_t)sigs->sig_len,
	};
	uint8_t hdr[STORE_RECORD_HDR];
	bftdns_seg_put_u32(hdr, STORE_SIGS_FLAG | (uint32_t)len);
	bftdns_seg_put_u64(hdr + 4, sigs->id);
	/* One record of four pieces: the CRC runs over them in order. */
	uint32_t crc = bftdns_crc32c(bftdns_seg_record_crc_head(hdr), body, sizeof(body));
	crc = bftdns_crc32c(crc, sigs->digests, dbytes);
	bftdns_seg_put_u32(hdr + 12, bftdns_crc32c(crc, sigs->sigs, sbytes));
	struct iovec iov[4] = { { hdr, sizeof(hdr) }, { body, sizeof(body) },
	                        { (void *)sigs->digests, dbytes }, { (void *)sigs->sigs, sbytes } };
	/* As for a batch: whole, or back to the last whole record. */
	int ret = store_write(store, cur, iov, 4, sizeof(hdr) + len, log);
	if (ret == KNOT_EOK) {
		store->last_sigs = sigs->id;
		cur->bytes += sizeof(hdr) + len;
		store->appended_sigs++;
		cur->sig_bytes += sizeof(hdr) + len;
		(void)store_trim(store);
	}
	pthread_mutex_unlock(&store->lock);
	return ret;
}

int bftdns_batchstore_read_sigs(bftdns_batchstore_t *store, uint64_t position, size_t max,
                                bftdns_stored_sigs_t **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	if (store == NULL || position == 0 || max == 0 || store->limits.batches == 0) {
		return KNOT_EOK;
	}
	/* The newest max records of the batches a restart replays (a ring). */
	bftdns_stored_sigs_t *ring = calloc(max, sizeof(*ring));
	if (ring == NULL) {
		return KNOT_ENOMEM;
	}
	size_t first = 0, n = 0;
	const uint64_t oldest = (position > store->limits.batches) ?
	                        position - store->limits.batches + 1 : 1;
	int ret = KNOT_EOK;
	pthread_mutex_lock(&store->lock);
	for (size_t i = 0; i < store->seg_count && ret == KNOT_EOK; i++) {
		const segment_t *seg = &store->segs[i];
		if (seg->last < seg->first || seg->first > position || seg->last < oldest) {
			continue;
		}
		char path[PATH_MAX];
		segment_path(store, seg->first, path, sizeof(path));
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		reader_t rd;
		ret = (fd < 0) ? knot_map_errno() : segment_start(fd, seg->first, &rd);
		while (ret == KNOT_EOK && rd.sigs) {
			record_t rec;
			const char *why = NULL;
			ret = record_read(fd, &rd, &rec, &why);
			if (ret != KNOT_EOK) {
				break;
			}
			uint64_t batch = rec.number >> BFTDNS_BATCHSTORE_ID_POSITION_BITS;
			if (!rec.is_sigs || batch < oldest || batch > position) {
				free(rec.data);
				continue;
			}
			if (n == max) {
				free(ring[first].data);
				first = (first + 1) % max;
				n--;
			}
			bftdns_stored_sigs_t *s = &ring[(first + n) % max];
			bool ok = sigs_parse(rec.data, rec.len, rec.number, s);
			assert(ok);  /* record_read checked it */
			(void)ok;
			s->data = rec.data;
			n++;
		}
		if (ret == KNOT_ENOENT || ret == KNOT_EMALF) {
			ret = KNOT_EOK;  /* The end, or a torn tail the next load cuts. */
		}
		if (fd >= 0) {
			close(fd);
		}
	}
	pthread_mutex_unlock(&store->lock);
	bftdns_stored_sigs_t *list = (ret == KNOT_EOK && n > 0) ? malloc(n * sizeof(*list)) : NULL;
	if (ret == KNOT_EOK && n > 0 && list == NULL) {
		ret = KNOT_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		bftdns_stored_sigs_t *s = &ring[(first + i) % max];
		if (list != NULL) {
			list[i] = *s;
		} else {
			free(s->data);
		}
	}
	free(ring);
	if (ret != KNOT_EOK) {
		return ret;
	}
	*out = list;
	*count = (list != NULL) ? n : 0;
	return KNOT_EOK;
}

void bftdns_batchstore_free_sigs(bftdns_stored_sigs_t *sigs, size_t count)
{
	for (size_t i = 0; sigs != NULL && i < count; i++) {
		free(sigs[i].data);
	}
	free(sigs);
}
