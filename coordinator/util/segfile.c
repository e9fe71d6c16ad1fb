/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coordinator/proto/error.h"
#include "coordinator/util/crc32c.h"
#include "coordinator/util/segfile.h"

#define SEG_DIGITS	20
#define SEG_SUFFIX	".seg"

void bftdns_seg_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void bftdns_seg_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint32_t bftdns_seg_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t bftdns_seg_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

void bftdns_seg_path(const bftdns_seg_kind_t *kind, const char *dir, uint64_t seq,
                     char *out, size_t size)
{
	(void)snprintf(out, size, "%s/%s%020" PRIu64 SEG_SUFFIX, dir, kind->prefix, seq);
}

void bftdns_seg_remove(const bftdns_seg_kind_t *kind, const char *dir, uint64_t seq)
{
	char path[PATH_MAX];
	bftdns_seg_path(kind, dir, seq, path, sizeof(path));
	(void)unlink(path);
}

/*! A segment's number from its file name; false if not one of kind. */
static bool seg_name(const bftdns_seg_kind_t *kind, const char *name, uint64_t *seq)
{
	const size_t prefix = strlen(kind->prefix), suffix = strlen(SEG_SUFFIX);
	if (strlen(name) != prefix + SEG_DIGITS + suffix ||
	    strncmp(name, kind->prefix, prefix) != 0 ||
	    strcmp(name + prefix + SEG_DIGITS, SEG_SUFFIX) != 0) {
		return false;
	}
	uint64_t v = 0;
	for (size_t i = prefix; i < prefix + SEG_DIGITS; i++) {
		/* Twenty digits can exceed 2^64: such a name is not ours. */
		if (name[i] < '0' || name[i] > '9' || v > (UINT64_MAX - 9) / 10) {
			return false;
		}
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*seq = v;
	return v >= kind->seq_min;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int bftdns_seg_list(const bftdns_seg_kind_t *kind, const char *dir, uint64_t **out,
                    size_t *count)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		return BFT_EIO;
	}
	uint64_t *seqs = NULL;
	size_t n = 0, cap = 0;
	int ret = BFT_EOK;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint64_t seq;
		if (!seg_name(kind, e->d_name, &seq)) {
			continue;
		}
		if (n == cap) {
			cap = (cap == 0) ? 16 : 2 * cap;
			/* Bounded: a directory filled by something else must not
			 * make the owner allocate without end. */
			uint64_t *more = (cap <= kind->count_max) ?
			                 realloc(seqs, cap * sizeof(*seqs)) : NULL;
			if (more == NULL) {
				ret = (cap > kind->count_max) ? BFT_ESPACE : BFT_ENOMEM;
				break;
			}
			seqs = more;
		}
		seqs[n++] = seq;
	}
	closedir(d);
	if (ret != BFT_EOK) {
		free(seqs);
		return ret;
	}
	if (n > 0) {
		qsort(seqs, n, sizeof(*seqs), cmp_u64);
	}
	*out = seqs;
	*count = n;
	return BFT_EOK;
}

int bftdns_seg_read_full(int fd, uint8_t *buf, size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = read(fd, buf + *got, len - *got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return BFT_EIO;
		}
		if (n == 0) {
			break;
		}
		*got += (size_t)n;
	}
	return BFT_EOK;
}

uint32_t bftdns_seg_record_crc_head(const uint8_t hdr[BFTDNS_SEG_RECORD_HDR])
{
	return bftdns_crc32c(0, hdr, 12);
}

void bftdns_seg_record_frame(uint8_t hdr[BFTDNS_SEG_RECORD_HDR], uint32_t field,
                             uint64_t number, const uint8_t *data, size_t len)
{
	bftdns_seg_put_u32(hdr, field);
	bftdns_seg_put_u64(hdr + 4, number);
	bftdns_seg_put_u32(hdr + 12, bftdns_crc32c(bftdns_seg_record_crc_head(hdr), data, len));
}

int bftdns_seg_record_read_head(int fd, uint8_t hdr[BFTDNS_SEG_RECORD_HDR], const char **why)
{
	size_t got;
	int ret = bftdns_seg_read_full(fd, hdr, BFTDNS_SEG_RECORD_HDR, &got);
	if (ret != BFT_EOK) {
		return ret;
	}
	if (got == 0) {
		return BFT_ENOENT;
	}
	if (got < BFTDNS_SEG_RECORD_HDR) {
		*why = "torn record header";
		return BFT_EMALF;
	}
	return BFT_EOK;
}

int bftdns_seg_record_read_body(int fd, const uint8_t hdr[BFTDNS_SEG_RECORD_HDR], size_t len,
                                uint8_t **data, bool *torn, const char **why)
{
	uint8_t *buf = malloc(len);
	if (buf == NULL) {
		return BFT_ENOMEM;
	}
	size_t got;
	int ret = bftdns_seg_read_full(fd, buf, len, &got);
	if (ret != BFT_EOK) {
		free(buf);
		return ret;
	}
	*torn = (got < len);
	if (*torn || bftdns_seg_get_u32(hdr + 12) !=
	             bftdns_crc32c(bftdns_seg_record_crc_head(hdr), buf, len)) {
		*why = *torn ? "torn record" : "CRC mismatch";
		free(buf);
		return BFT_EMALF;
	}
	*data = buf;
	return BFT_EOK;
}

int bftdns_seg_append(int fd, const struct iovec *iov, int iovcnt, size_t total,
                      uint64_t whole, int *err, bool *restored)
{
	*restored = true;
	ssize_t n = writev(fd, iov, iovcnt);
	if (n == (ssize_t)total) {
		return BFT_EOK;
	}
	*err = (n < 0) ? errno : ENOSPC;
	*restored = (ftruncate(fd, (off_t)whole) == 0);
	return (n < 0) ? BFT_EIO : BFT_ESPACE;
}
