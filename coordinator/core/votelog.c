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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "coordinator/core/votelog.h"
#include "coordinator/proto/abc.h"
#include "coordinator/proto/error.h"
#include "coordinator/util/crc32c.h"
#include "coordinator/util/segfile.h"

#define VL_MAGIC		"BFTDNSV1"
#define VL_MAGIC_LEN		8
/*! Magic, complete-from epoch, CRC. */
#define VL_SEGMENT_HDR		(VL_MAGIC_LEN + 8 + 4)
/*! Length, epoch, CRC. */
#define VL_RECORD_HDR		BFTDNS_SEG_RECORD_HDR
#define VL_PREFIX		"votes-"
#define VL_LOCK			"lock"
/*! Records per writev() (two iovecs each, within IOV_MAX). */
#define VL_WRITE_RECORDS	256
/*! Segments at once: far more than trimming lets live. */
#define VL_SEGMENTS_MAX		4096

/*! One segment file: records of epochs min..max (min > max: none). */
typedef struct {
	uint64_t seq;
	uint64_t min, max;
	uint64_t bytes;
} vl_segment_t;

struct votelog {
	char *dir;
	bft_logger_t log;
	int lock_fd;
	int fd;                       /*!< The current (last) segment, open for appends. */
	vl_segment_t *segs;           /*!< Oldest first; the last is the current one. */
	size_t seg_count, seg_cap;
	uint64_t complete_from;
	bool usable;
	bool failed;
	votelog_record_t *loaded;     /*!< Records read back (data malloc'ed each). */
	size_t loaded_count, loaded_cap;
	uint64_t loaded_total;
	uint64_t appended, appended_bytes, removed;
};

static const bftdns_seg_kind_t vl_kind = {
	.prefix = VL_PREFIX, .seq_min = 0, .count_max = VL_SEGMENTS_MAX,
};

static void vl_path(const votelog_t *vl, uint64_t seq, char *out, size_t size)
{
	bftdns_seg_path(&vl_kind, vl->dir, seq, out, size);
}

static int vl_push_segment(votelog_t *vl, vl_segment_t seg)
{
	if (vl->seg_count == vl->seg_cap) {
		size_t cap = (vl->seg_cap == 0) ? 16 : 2 * vl->seg_cap;
		vl_segment_t *segs = (cap <= VL_SEGMENTS_MAX) ? realloc(vl->segs, cap * sizeof(*segs)) : NULL;
		if (segs == NULL) {
			return (cap > VL_SEGMENTS_MAX) ? BFT_ESPACE : BFT_ENOMEM;
		}
		vl->segs = segs;
		vl->seg_cap = cap;
	}
	vl->segs[vl->seg_count++] = seg;
	return BFT_EOK;
}

static int vl_push_record(votelog_t *vl, uint64_t epoch, uint8_t *data, size_t len)
{
	if (vl->loaded_count == vl->loaded_cap) {
		size_t cap = (vl->loaded_cap == 0) ? 64 : 2 * vl->loaded_cap;
		votelog_record_t *more = realloc(vl->loaded, cap * sizeof(*more));
		if (more == NULL) {
			return BFT_ENOMEM;
		}
		vl->loaded = more;
		vl->loaded_cap = cap;
	}
	vl->loaded[vl->loaded_count++] = (votelog_record_t){ .epoch = epoch, .data = data, .len = len };
	return BFT_EOK;
}

void votelog_drop_loaded(votelog_t *vl)
{
	for (size_t i = 0; i < vl->loaded_count; i++) {
		free((void *)vl->loaded[i].data);
	}
	free(vl->loaded);
	vl->loaded = NULL;
	vl->loaded_count = vl->loaded_cap = 0;
}

/*! How the reading of one segment ended. */
typedef enum {
	VL_READ_END,      /*!< Every record whole. */
	VL_READ_TORN,     /*!< A short record at the end of the file. */
	VL_READ_DAMAGED,  /*!< Anything else that cannot be trusted. */
} vl_read_end_t;

/*!
 * Reads one segment's records into vl->loaded; *end says how it ended,
 * seg->bytes is the offset after the last whole record, *why what was
 * wrong; *has_header and *complete_from once its header was read.
 * BFT_EOK, or an error of the system (BFT_EIO, BFT_ENOMEM).
 */
static int vl_read_segment(votelog_t *vl, int fd, vl_segment_t *seg, uint64_t *complete_from,
                           bool *has_header, vl_read_end_t *end, const char **why)
{
	uint8_t hdr[VL_SEGMENT_HDR];
	size_t got;
	*end = VL_READ_END;
	seg->bytes = 0;
	int ret = bftdns_seg_read_full(fd, hdr, sizeof(hdr), &got);
	if (ret != BFT_EOK) {
		return ret;
	}
	if (got < sizeof(hdr)) {
		/* A segment is begun with its header in one write(). */
		*end = VL_READ_TORN;
		*why = "torn segment header";
		return BFT_EOK;
	}
	if (memcmp(hdr, VL_MAGIC, VL_MAGIC_LEN) != 0 ||
	    bftdns_seg_get_u32(hdr + VL_MAGIC_LEN + 8) != bftdns_crc32c(0, hdr, VL_MAGIC_LEN + 8)) {
		*end = VL_READ_DAMAGED;
		*why = "bad segment header";
		return BFT_EOK;
	}
	*complete_from = bftdns_seg_get_u64(hdr + VL_MAGIC_LEN);
	*has_header = true;
	seg->bytes = VL_SEGMENT_HDR;
	while (true) {
		uint8_t rh[VL_RECORD_HDR];
		ret = bftdns_seg_record_read_head(fd, rh, why);
		if (ret == BFT_ENOENT) {
			return BFT_EOK;
		}
		if (ret == BFT_EMALF) {
			*end = VL_READ_TORN;
			return BFT_EOK;
		}
		if (ret != BFT_EOK) {
			return ret;
		}
		uint32_t len = bftdns_seg_get_u32(rh);
		uint64_t epoch = bftdns_seg_get_u64(rh + 4);
		if (len == 0 || len > VOTELOG_RECORD_MAX) {
			*end = VL_READ_DAMAGED;
			*why = "impossible record length";
			return BFT_EOK;
		}
		uint8_t *data = NULL;
		bool torn = false;
		ret = bftdns_seg_record_read_body(fd, rh, len, &data, &torn, why);
		if (ret == BFT_EMALF) {
			*end = torn ? VL_READ_TORN : VL_READ_DAMAGED;
			return BFT_EOK;
		}
		if (ret != BFT_EOK) {
			return ret;
		}
		ret = vl_push_record(vl, epoch, data, len);
		if (ret != BFT_EOK) {
			free(data);
			return ret;
		}
		seg->min = (epoch < seg->min) ? epoch : seg->min;
		seg->max = (epoch > seg->max) ? epoch : seg->max;
		seg->bytes += VL_RECORD_HDR + len;
	}
}

/*! Removes every segment file (the log is begun anew). */
static void vl_remove_all(votelog_t *vl, const uint64_t *seqs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		bftdns_seg_remove(&vl_kind, vl->dir, seqs[i]);
	}
	vl->seg_count = 0;
	votelog_drop_loaded(vl);
}

/*!
 * Reads every segment. *fresh: no segment with a whole header was there
 * (none, or one whose creation a crash cut short); *reset: the log could
 * not be trusted and was removed (logged).
 */
static int vl_load(votelog_t *vl, uint64_t *next_seq, bool *fresh, bool *reset)
{
	uint64_t *seqs = NULL;
	size_t count = 0;
	int ret = bftdns_seg_list(&vl_kind, vl->dir, &seqs, &count);
	if (ret != BFT_EOK) {
		return ret;
	}
	bool any_header = false;
	*reset = false;
	*next_seq = (count > 0) ? seqs[count - 1] + 1 : 1;
	uint64_t complete_from = 0;
	for (size_t i = 0; i < count && ret == BFT_EOK; i++) {
		char path[PATH_MAX];
		vl_path(vl, seqs[i], path, sizeof(path));
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			ret = BFT_EIO;
			break;
		}
		vl_segment_t seg = { .seq = seqs[i], .min = UINT64_MAX, .max = 0 };
		uint64_t from = 0;
		vl_read_end_t end;
		const char *why = NULL;
		bool has_header = false;
		ret = vl_read_segment(vl, fd, &seg, &from, &has_header, &end, &why);
		any_header = any_header || has_header;
		bool last = (i + 1 == count);
		if (ret == BFT_EOK && end == VL_READ_TORN && last) {
			/* A write() the crash cut short: nothing of it was sent. */
			bft_log(&vl->log, LOG_INFO, "vote log: %s: %s at offset %" PRIu64 ", cut there "
			        "(a write the crash interrupted)", path, why, seg.bytes);
			if (ftruncate(fd, (off_t)seg.bytes) != 0) {
				ret = BFT_EIO;
			}
		} else if (ret == BFT_EOK && end != VL_READ_END) {
			bft_log(&vl->log, LOG_WARNING, "vote log: %s: %s at offset %" PRIu64 "; the log "
			        "cannot vouch for this replica's votes and is begun anew", path, why,
			        seg.bytes);
			close(fd);
			vl_remove_all(vl, seqs, count);
			*reset = true;
			free(seqs);
			return BFT_EOK;
		}
		close(fd);
		if (ret != BFT_EOK) {
			break;
		}
		/* Every segment of one log carries the same mark; the highest
		 * is the safe one if not. */
		complete_from = (from > complete_from) ? from : complete_from;
		if (seg.bytes <= VL_SEGMENT_HDR) {
			(void)unlink(path);  /* No record (a start with no vote since). */
			continue;
		}
		ret = vl_push_segment(vl, seg);
	}
	free(seqs);
	vl->complete_from = complete_from;
	*fresh = !any_header;
	return ret;
}

/*! Starts segment seq (the current one from now on). */
static int vl_roll(votelog_t *vl, uint64_t seq)
{
	if (vl->fd >= 0) {
		close(vl->fd);
		vl->fd = -1;
	}
	char path[PATH_MAX];
	vl_path(vl, seq, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		return BFT_EIO;
	}
	uint8_t hdr[VL_SEGMENT_HDR];
	memcpy(hdr, VL_MAGIC, VL_MAGIC_LEN);
	bftdns_seg_put_u64(hdr + VL_MAGIC_LEN, vl->complete_from);
	bftdns_seg_put_u32(hdr + VL_MAGIC_LEN + 8, bftdns_crc32c(0, hdr, VL_MAGIC_LEN + 8));
	int ret = vl_push_segment(vl, (vl_segment_t){ .seq = seq, .min = UINT64_MAX, .max = 0,
	                                              .bytes = VL_SEGMENT_HDR });
	if (ret != BFT_EOK || write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr)) {
		if (ret == BFT_EOK) {
			vl->seg_count--;
		}
		close(fd);
		(void)unlink(path);
		return (ret != BFT_EOK) ? ret : BFT_EIO;
	}
	vl->fd = fd;
	return BFT_EOK;
}

/*! The directory (0700) and its lock: BFT_EAGAIN if another log holds it. */
static int vl_lock(votelog_t *vl, char *why, size_t why_len)
{
	if (mkdir(vl->dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, why_len, "cannot create %s: %s", vl->dir, strerror(errno));
		return BFT_EIO;
	}
	char path[PATH_MAX];
	(void)snprintf(path, sizeof(path), "%s/" VL_LOCK, vl->dir);
	vl->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (vl->lock_fd < 0) {
		snprintf(why, why_len, "cannot open %s: %s", path, strerror(errno));
		return BFT_EIO;
	}
	if (flock(vl->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int busy = (errno == EWOULDBLOCK);
		snprintf(why, why_len, "%s: %s", path, busy ? "held by another coordinator "
		         "of this zone (one still stopping)" : strerror(errno));
		return busy ? BFT_EAGAIN : BFT_EIO;
	}
	return BFT_EOK;
}

int votelog_open(const char *dir, uint64_t epoch, const bft_logger_t *log, votelog_t **out,
                 char *why, size_t why_len)
{
	if (dir == NULL || out == NULL) {
		return BFT_EINVAL;
	}
	votelog_t *vl = calloc(1, sizeof(*vl));
	if (vl == NULL || (vl->dir = strdup(dir)) == NULL) {
		free(vl);
		return BFT_ENOMEM;
	}
	vl->lock_fd = -1;
	vl->fd = -1;
	vl->log = (log != NULL) ? *log : (bft_logger_t){ 0 };
	int ret = vl_lock(vl, why, why_len);
	uint64_t next_seq = 1;
	bool fresh = false, reset = false;
	if (ret == BFT_EOK && (ret = vl_load(vl, &next_seq, &fresh, &reset)) != BFT_EOK) {
		snprintf(why, why_len, "cannot read the vote log in %s: %s", dir, bft_strerror(ret));
	}
	if (ret == BFT_EOK && (fresh || reset)) {
		/* An earlier incarnation without this log may have voted up to
		 * ABC_EPOCHS_AHEAD epochs beyond where we resume (none if it
		 * never ran). */
		vl->complete_from = (epoch == 0 && !reset) ? 0 : epoch + ABC_EPOCHS_AHEAD + 1;
	}
	vl->usable = (ret == BFT_EOK && vl->complete_from <= epoch);
	if (!vl->usable) {
		votelog_drop_loaded(vl);
	}
	vl->loaded_total = vl->loaded_count;
	if (ret == BFT_EOK && (ret = vl_roll(vl, next_seq)) != BFT_EOK) {
		snprintf(why, why_len, "cannot start a vote log segment in %s: %s", dir,
		         strerror(errno));
	}
	if (ret != BFT_EOK) {
		votelog_close(vl);
		return ret;
	}
	(void)votelog_trim(vl, epoch);
	*out = vl;
	return BFT_EOK;
}

void votelog_close(votelog_t *vl)
{
	if (vl == NULL) {
		return;
	}
	if (vl->fd >= 0) {
		close(vl->fd);
	}
	if (vl->lock_fd >= 0) {
		close(vl->lock_fd);  /* Releases the flock. */
	}
	votelog_drop_loaded(vl);
	free(vl->segs);
	free(vl->dir);
	free(vl);
}

bool votelog_usable(const votelog_t *vl)
{
	return vl != NULL && vl->usable;
}

void votelog_loaded(const votelog_t *vl, const votelog_record_t **records, size_t *count)
{
	*records = vl->loaded;
	*count = vl->loaded_count;
}

/*! Appends records with one writev(): whole, or the file back as it was. */
static int vl_write(votelog_t *vl, const votelog_record_t *recs, size_t count)
{
	vl_segment_t *cur = &vl->segs[vl->seg_count - 1];
	uint8_t hdrs[VL_WRITE_RECORDS][VL_RECORD_HDR];
	struct iovec iov[2 * VL_WRITE_RECORDS];
	size_t total = 0;
	for (size_t i = 0; i < count; i++) {
		uint8_t *hdr = hdrs[i];
		bftdns_seg_record_frame(hdr, (uint32_t)recs[i].len, recs[i].epoch, recs[i].data,
		                        recs[i].len);
		iov[2 * i] = (struct iovec){ hdr, VL_RECORD_HDR };
		iov[2 * i + 1] = (struct iovec){ (void *)recs[i].data, recs[i].len };
		total += VL_RECORD_HDR + recs[i].len;
	}
	/* Back to the last whole record if we can; the next load cuts a
	 * torn tail anyway. */
	int err = 0;
	bool restored;
	if (bftdns_seg_append(vl->fd, iov, (int)(2 * count), total, cur->bytes, &err,
	                      &restored) != BFT_EOK) {
		bft_log(&vl->log, LOG_ERR, "vote log: %zu records of epoch %" PRIu64 " on not "
		        "written in %s: %s", count, recs[0].epoch, vl->dir, strerror(err));
		return BFT_EIO;
	}
	for (size_t i = 0; i < count; i++) {
		cur->min = (recs[i].epoch < cur->min) ? recs[i].epoch : cur->min;
		cur->max = (recs[i].epoch > cur->max) ? recs[i].epoch : cur->max;
	}
	cur->bytes += total;
	vl->appended += count;
	vl->appended_bytes += total;
	return BFT_EOK;
}

int votelog_append(votelog_t *vl, const votelog_record_t *recs, size_t count)
{
	if (vl == NULL || (recs == NULL && count > 0)) {
		return BFT_EINVAL;
	}
	for (size_t i = 0; i < count; i++) {
		if (recs[i].data == NULL || recs[i].len == 0 || recs[i].len > VOTELOG_RECORD_MAX) {
			return BFT_EINVAL;
		}
	}
	if (vl->failed) {
		return BFT_EIO;
	}
	assert(vl->seg_count > 0 && vl->fd >= 0);
	for (size_t done = 0; done < count;) {
		size_t chunk = (count - done < VL_WRITE_RECORDS) ? count - done : VL_WRITE_RECORDS;
		const vl_segment_t *cur = &vl->segs[vl->seg_count - 1];
		uint64_t top = 0;
		for (size_t i = done; i < done + chunk; i++) {
			top = (recs[i].epoch > top) ? recs[i].epoch : top;
		}
		bool full = cur->bytes >= VOTELOG_SEGMENT_BYTES ||
		            (cur->min <= cur->max && top >= cur->min + VOTELOG_SEGMENT_EPOCHS);
		if (full && vl_roll(vl, cur->seq + 1) != BFT_EOK) {
			bft_log(&vl->log, LOG_ERR, "vote log: cannot start a segment in %s: %s",
			        vl->dir, strerror(errno));
			vl->failed = true;
			return BFT_EIO;
		}
		if (vl_write(vl, recs + done, chunk) != BFT_EOK) {
			vl->failed = true;
			return BFT_EIO;
		}
		done += chunk;
	}
	return BFT_EOK;
}

size_t votelog_trim(votelog_t *vl, uint64_t durable)
{
	if (vl == NULL || durable <= VOTELOG_KEEP_EPOCHS) {
		return 0;
	}
	const uint64_t below = durable - VOTELOG_KEEP_EPOCHS;
	size_t removed = 0, i = 0;
	/* Never the current segment: appends go there. */
	while (i + 1 < vl->seg_count) {
		const vl_segment_t *seg = &vl->segs[i];
		if (seg->min <= seg->max && seg->max >= below) {
			i++;
			continue;
		}
		bftdns_seg_remove(&vl_kind, vl->dir, seg->seq);
		memmove(&vl->segs[i], &vl->segs[i + 1], (vl->seg_count - i - 1) * sizeof(vl->segs[0]));
		vl->seg_count--;
		removed++;
	}
	vl->removed += removed;
	return removed;
}

void votelog_stats(const votelog_t *vl, votelog_stats_t *out)
{
	*out = (votelog_stats_t){ 0 };
	if (vl == NULL) {
		return;
	}
	for (size_t i = 0; i < vl->seg_count; i++) {
		out->bytes += vl->segs[i].bytes;
	}
	out->segments = vl->seg_count;
	out->loaded = vl->loaded_total;
	out->appended = vl->appended;
	out->appended_bytes = vl->appended_bytes;
	out->removed = vl->removed;
	out->complete_from = vl->complete_from;
	out->usable = vl->usable;
	out->failed = vl->failed;
}
