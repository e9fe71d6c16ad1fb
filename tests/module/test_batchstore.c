/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The delivered-batch store (module/batchstore.h), in a temporary
 * directory: appends read back after a reopen; batches after the position
 * are dropped at load; a torn tail (cut in a header, cut in the bytes), a
 * flipped byte (CRC), a record out of sequence and a file that is no
 * segment are cut with a log line and never replayed, and appends go on
 * after; replay takes the newest consecutive batches within the limits and
 * only if they end at the position; a stable checkpoint removes the
 * segments at or before it, and under endless appends the files stay
 * within the limits; segment files are 0600; a second open shares.
 * Signature records: stored after their batch only, read back (the newest,
 * up to the position), cut and checked like batches, removed with their
 * segments; a format 1 segment is still read.
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "libknot/errcode.h"
#include "module/batchstore.h"
#include "coordinator/util/crc32c.h"
#include "tests/common/check.h"

static char dir[] = "/tmp/test_batchstore.XXXXXX";
static char last_log[512];
static int warnings;

static void log_line(void *ctx, int level, const char *msg)
{
	(void)ctx;
	snprintf(last_log, sizeof(last_log), "%s", msg);
	if (level <= LOG_WARNING) {
		warnings++;
	}
}
static const bftdns_batchstore_log_t logger = { log_line, NULL };

/* Delivered batch seq (epoch seq - 1): one request of fill bytes. */
static size_t batch_make(uint64_t seq, size_t fill, uint8_t *out)
{
	uint64_t epoch = seq - 1, time_ms = 1790000000000ull + seq;
	size_t p = 0;
	for (int i = 7; i >= 0; i--) out[p++] = (uint8_t)(epoch >> (8 * i));
	for (int i = 7; i >= 0; i--) out[p++] = (uint8_t)(time_ms >> (8 * i));
	out[p++] = 0; out[p++] = 0; out[p++] = 0; out[p++] = 1;  /* count */
	out[p++] = 0; out[p++] = 1;                              /* proposer, origin */
	out[p++] = 0; out[p++] = 0; out[p++] = (uint8_t)(fill >> 8); out[p++] = (uint8_t)fill;
	memset(out + p, (int)(seq & 0xff), fill);
	return p + fill;
}

static const bftdns_batchstore_limits_t limits = {
	.batches = 40, .bytes = 1u << 20, .segment_batches = 10,
};

static bftdns_batchstore_t *open_at(uint64_t position, const bftdns_batchstore_limits_t *l)
{
	bftdns_batchstore_t *store = NULL;
	CHECK_EQ(bftdns_batchstore_open(dir, position, l, &logger, &store), KNOT_EOK);
	return store;
}

static void append_range(bftdns_batchstore_t *store, uint64_t from, uint64_t to)
{
	uint8_t buf[512];
	for (uint64_t seq = from; seq <= to; seq++) {
		size_t len = batch_make(seq, 20 + seq % 50, buf);
		CHECK_EQ(bftdns_batchstore_append(store, seq, buf, len, &logger), KNOT_EOK);
	}
}

/* Replay at position gives batches first..position, each as appended. */
static void check_replay(bftdns_batchstore_t *store, uint64_t position, uint64_t first)
{
	bftdns_stored_batch_t *b = NULL;
	size_t count = 99;
	CHECK_EQ(bftdns_batchstore_replay(store, position, &b, &count), KNOT_EOK);
	uint64_t want = (first == 0) ? 0 : position - first + 1;
	CHECK_EQ(count, want);
	uint8_t buf[512];
	for (size_t i = 0; i < count && b != NULL; i++) {
		size_t len = batch_make(first + i, 20 + (first + i) % 50, buf);
		CHECK(b[i].seq == first + i && b[i].len == len && memcmp(b[i].data, buf, len) == 0);
	}
	bftdns_batchstore_free(b, count);
}

/* The newest segment file's path. */
static void newest_segment(char *out, size_t size)
{
	DIR *d = opendir(dir);
	char best[300] = "";
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "batches-", 8) == 0 && strcmp(e->d_name, best) > 0) {
			snprintf(best, sizeof(best), "%s", e->d_name);
		}
	}
	if (d != NULL) closedir(d);
	snprintf(out, size, "%s/%s", dir, best);
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_append_reload(void)
{
	bftdns_batchstore_t *store = open_at(0, &limits);
	append_range(store, 1, 25);
	/* Again: already there, nothing written. */
	append_range(store, 20, 25);
	bftdns_batchstore_stats_t st;
	bftdns_batchstore_stats(store, &st);
	CHECK(st.first == 1 && st.last == 25 && st.segments == 3);
	CHECK(st.appended == 25 && st.appended_bytes + 3 * 8 == st.bytes);
	check_replay(store, 25, 1);
	check_replay(store, 24, 1);  /* Up to a position before the end (a reload). */
	check_replay(store, 26, 0);  /* Not stored: nothing. */
	/* A second open in the process shares the store. */
	bftdns_batchstore_t *again = open_at(0, &limits);
	CHECK(again == store);
	bftdns_batchstore_close(again);
	bftdns_batchstore_close(store);

	char path[512];
	newest_segment(path, sizeof(path));
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);

	/* Reopened (a knotd restart) at position 25: all of it. */
	store = open_at(25, &limits);
	check_replay(store, 25, 1);
	bftdns_batchstore_close(store);
	/* At position 22: 23..25 were delivered, not applied: dropped. */
	warnings = 0;
	store = open_at(22, &limits);
	CHECK(strstr(last_log, "from 23 on were delivered but not applied") != NULL);
	CHECK_EQ(warnings, 0);
	bftdns_batchstore_stats(store, &st);
	CHECK(st.first == 1 && st.last == 22);
	check_replay(store, 22, 1);
	/* Appends go on after the cut: 23 again, with the same bytes. */
	append_range(store, 23, 30);
	check_replay(store, 30, 1);
	bftdns_batchstore_close(store);
}

/* Reopens at position 30 after damaging the newest segment; replay must
 * end at want_last (0: nothing from that segment's damage on). */
static void damage_and_reload(const char *what, void (*damage)(const char *path),
                              uint64_t want_last)
{
	char path[512];
	newest_segment(path, sizeof(path));
	damage(path);
	warnings = 0;
	last_log[0] = '\0';
	bftdns_batchstore_t *store = open_at(30, &limits);
	if (warnings != 1 || strstr(last_log, what) == NULL) {
		fprintf(stderr, "damage '%s': log '%s'\n", what, last_log);
	}
	CHECK_EQ(warnings, 1);
	CHECK(strstr(last_log, what) != NULL);
	bftdns_batchstore_stats_t st;
	bftdns_batchstore_stats(store, &st);
	CHECK_EQ(st.last, want_last);
	/* Never replayed: the store no longer ends at 30. */
	check_replay(store, 30, 0);
	check_replay(store, want_last, 1);
	/* Repaired by appending what was lost (the peers' bytes are the same). */
	append_range(store, want_last + 1, 30);
	check_replay(store, 30, 1);
	bftdns_batchstore_close(store);
}

static void cut_in_header(const char *path)
{
	/* 10 bytes into the last record's header. */
	CHECK(truncate(path, file_size(path) - (16 + 26 + 20 + 30 % 50) + 10) == 0);
}
static void cut_in_bytes(const char *path)
{
	CHECK(truncate(path, file_size(path) - 5) == 0);
}
static void flip_last_byte(const char *path)
{
	int fd = open(path, O_RDWR);
	uint8_t c;
	off_t at = file_size(path) - 1;
	CHECK(fd >= 0 && pread(fd, &c, 1, at) == 1);
	c ^= 0x40;
	CHECK(pwrite(fd, &c, 1, at) == 1);
	close(fd);
}
static void renumber_last(const char *path)
{
	/* The last record (batch 30) says 31: out of sequence. Its header is
	 * 16 + its batch bytes (26 + 20 + 30 % 50) before the end. */
	int fd = open(path, O_RDWR);
	off_t at = file_size(path) - (16 + 26 + 20 + 30 % 50) + 4 + 7;
	uint8_t c = 31;
	CHECK(fd >= 0 && pwrite(fd, &c, 1, at) == 1);
	close(fd);
}
static void not_a_segment(const char *path)
{
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "NOTASEGM", 8, 0) == 8);
	close(fd);
}

static void test_damage(void)
{
	/* The newest segment holds 23..30 (a reopen starts a segment); after
	 * the first repair 30 is alone in a segment of its own. */
	damage_and_reload("torn record", cut_in_bytes, 29);
	damage_and_reload("CRC mismatch", flip_last_byte, 29);
	damage_and_reload("out of sequence", renumber_last, 29);
	damage_and_reload("torn record header", cut_in_header, 29);
	damage_and_reload("not a segment", not_a_segment, 29);
}

static void test_limits_and_gc(void)
{
	bftdns_batchstore_t *store = open_at(30, &limits);
	/* Endless appends: the files stay within the limits (40 batches,
	 * plus the segment being written). */
	uint64_t peak = 0;
	for (uint64_t seq = 31; seq <= 1000; seq += 10) {
		append_range(store, seq, seq + 9);
		bftdns_batchstore_stats_t st;
		bftdns_batchstore_stats(store, &st);
		CHECK(st.last - st.first + 1 <= limits.batches + limits.segment_batches);
		peak = st.bytes > peak ? st.bytes : peak;
	}
	CHECK(peak > 0 && peak < 60 * 120);
	/* Replay: the newest 40, ending at 1000. */
	check_replay(store, 1000, 961);

	/* A stable checkpoint at 995: every segment up to it goes; the one
	 * holding 991..1000 ends; the next checkpoint after 1000 removes it. */
	size_t removed = bftdns_batchstore_forget(store, 995, &logger);
	CHECK_EQ(removed, 3);  /* 961..970, 971..980, 981..990 */
	CHECK(strstr(last_log, "removed after the stable checkpoint at batch 995") != NULL);
	bftdns_batchstore_stats_t st;
	bftdns_batchstore_stats(store, &st);
	CHECK(st.first == 991 && st.last == 1000 && st.segments == 1);
	append_range(store, 1001, 1004);
	bftdns_batchstore_stats(store, &st);
	CHECK_EQ(st.segments, 2);
	CHECK_EQ(bftdns_batchstore_forget(store, 1002, &logger), 1);
	bftdns_batchstore_stats(store, &st);
	CHECK(st.first == 1001 && st.last == 1004 && st.segments == 1);
	check_replay(store, 1004, 1001);
	bftdns_batchstore_close(store);

	/* A gap (a failed append, or a resume without bytes): a new segment;
	 * replay takes only what follows the gap. */
	store = open_at(1004, &limits);
	append_range(store, 1010, 1012);
	check_replay(store, 1012, 1010);
	bftdns_batchstore_close(store);
	/* And after a restart at 1012 as well. */
	store = open_at(1012, &limits);
	check_replay(store, 1012, 1010);
	bftdns_batchstore_close(store);
}

/* Signature record of request id: m = 2, 32-byte digests, 128-byte
 * signatures, their bytes made from id. */
static bftdns_stored_sigs_t sigs_make(uint64_t id, uint8_t *buf)
{
	for (size_t i = 0; i < 2 * (32 + 128); i++) {
		buf[i] = (uint8_t)(id * 7 + i);
	}
	return (bftdns_stored_sigs_t) { .id = id, .alg = 8, .count = 2, .digest_len = 32,
	                                .sig_len = 128, .digests = buf, .sigs = buf + 64 };
}

static uint64_t sig_id(uint64_t batch, uint32_t position)
{
	return batch << BFTDNS_BATCHSTORE_ID_POSITION_BITS | position;
}

static void append_sigs(bftdns_batchstore_t *store, uint64_t id, int want)
{
	uint8_t buf[2 * (32 + 128)];
	bftdns_stored_sigs_t rec = sigs_make(id, buf);
	CHECK_EQ(bftdns_batchstore_append_sigs(store, &rec, &logger), want);
}

/* read_sigs at position, max: the records of ids[0..count), each as appended. */
static void check_sigs(bftdns_batchstore_t *store, uint64_t position, size_t max,
                       const uint64_t *ids, size_t count)
{
	bftdns_stored_sigs_t *got = NULL;
	size_t n = 99;
	CHECK_EQ(bftdns_batchstore_read_sigs(store, position, max, &got, &n), KNOT_EOK);
	CHECK_EQ(n, count);
	uint8_t buf[2 * (32 + 128)];
	for (size_t i = 0; i < n && i < count; i++) {
		bftdns_stored_sigs_t want = sigs_make(ids[i], buf);
		CHECK(got[i].id == ids[i] && got[i].alg == 8 && got[i].count == 2 &&
		      got[i].digest_len == 32 && got[i].sig_len == 128 &&
		      memcmp(got[i].digests, want.digests, 64) == 0 &&
		      memcmp(got[i].sigs, want.sigs, 256) == 0);
	}
	bftdns_batchstore_free_sigs(got, n);
}

static void remove_segments(void);

/* Signature records (batchstore.h): after their batch, read back after a
 * reopen, cut with their batches, checked like batches, gone with their
 * segments; format 1 segments still read. */
static void test_sigs(void)
{
	remove_segments();
	bftdns_batchstore_t *store = open_at(0, &limits);
	for (uint64_t b = 1; b <= 3; b++) {
		append_range(store, b, b);
		append_sigs(store, sig_id(b, 0), KNOT_EOK);
		append_sigs(store, sig_id(b, 1), KNOT_EOK);
	}
	/* Not next to a stored batch, not growing, beyond the bounds. */
	append_sigs(store, sig_id(5, 0), KNOT_ENOENT);
	append_sigs(store, sig_id(3, 1), KNOT_ENOENT);
	uint8_t buf[2 * (32 + 128)];
	bftdns_stored_sigs_t bad = sigs_make(sig_id(3, 2), buf);
	bad.count = 0;
	CHECK_EQ(bftdns_batchstore_append_sigs(store, &bad, &logger), KNOT_EINVAL);
	bad = sigs_make(sig_id(3, 2), buf);
	bad.sig_len = BFTDNS_BATCHSTORE_SIG_MAX + 1;
	CHECK_EQ(bftdns_batchstore_append_sigs(store, &bad, &logger), KNOT_EINVAL);
	bftdns_batchstore_stats_t st;
	bftdns_batchstore_stats(store, &st);
	CHECK_EQ(st.appended_sigs, 6);

	const uint64_t all[] = { sig_id(1, 0), sig_id(1, 1), sig_id(2, 0), sig_id(2, 1),
	                         sig_id(3, 0), sig_id(3, 1) };
	check_sigs(store, 3, 100, all, 6);
	check_sigs(store, 3, 4, all + 2, 4);   /* the newest max */
	check_sigs(store, 2, 100, all, 4);     /* none after the position */
	check_replay(store, 3, 1);             /* batches skip them */
	bftdns_batchstore_close(store);

	/* Reloaded as they were; at a lower position, cut with their batch. */
	warnings = 0;
	store = open_at(3, &limits);
	CHECK_EQ(warnings, 0);
	check_sigs(store, 3, 100, all, 6);
	check_replay(store, 3, 1);
	bftdns_batchstore_close(store);
	store = open_at(2, &limits);
	check_sigs(store, 2, 100, all, 4);
	/* Batch 3 again, one record; a flipped byte in it is cut at the load. */
	append_range(store, 3, 3);
	append_sigs(store, sig_id(3, 0), KNOT_EOK);
	bftdns_batchstore_close(store);
	char path[512];
	newest_segment(path, sizeof(path));
	flip_last_byte(path);
	warnings = 0;
	last_log[0] = '\0';
	store = open_at(3, &limits);
	CHECK_EQ(warnings, 1);
	CHECK(strstr(last_log, "CRC mismatch") != NULL);
	check_sigs(store, 3, 100, all, 4);
	check_replay(store, 3, 1);

	/* A stable checkpoint takes them with their segments. */
	append_range(store, 4, 4);
	CHECK(bftdns_batchstore_forget(store, 4, &logger) > 0);
	check_sigs(store, 4, 100, NULL, 0);
	bftdns_batchstore_close(store);

	/* A format 1 segment (batches only) is read; appends go on in format 2. */
	remove_segments();
	snprintf(path, sizeof(path), "%s/batches-%020u.seg", dir, 1u);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	uint8_t batch[512], hdr[16];
	size_t len = batch_make(1, 21, batch);
	memset(hdr, 0, sizeof(hdr));
	hdr[3] = (uint8_t)len;
	hdr[11] = 1;
	uint32_t crc = bftdns_crc32c(bftdns_crc32c(0, hdr, 12), batch, len);
	for (int i = 0; i < 4; i++) {
		hdr[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
	}
	CHECK(fd >= 0 && write(fd, "BFTDNSB1", 8) == 8 && write(fd, hdr, 16) == 16 &&
	      write(fd, batch, len) == (ssize_t)len);
	close(fd);
	warnings = 0;
	store = open_at(1, &limits);
	CHECK_EQ(warnings, 0);
	check_replay(store, 1, 1);
	append_range(store, 2, 2);
	append_sigs(store, sig_id(2, 0), KNOT_EOK);
	check_sigs(store, 2, 100, all + 2, 1);
	bftdns_batchstore_close(store);

	/* Signature records are bounded on their own (sig_bytes): older
	 * segments go, though the batches alone would stay. */
	remove_segments();
	bftdns_batchstore_limits_t small = limits;
	small.sig_bytes = 3000;  /* about 8 records of 343 bytes */
	store = open_at(0, &small);
	for (uint64_t b = 1; b <= 35; b++) {
		append_range(store, b, b);
		append_sigs(store, sig_id(b, 0), KNOT_EOK);
	}
	bftdns_batchstore_stats(store, &st);
	CHECK(st.first == 21 && st.last == 35 && st.segments == 2);
	const uint64_t newest[] = { sig_id(21, 0), sig_id(22, 0), sig_id(23, 0) };
	check_sigs(store, 23, 100, newest, 3);
	bftdns_batchstore_close(store);
}

static void remove_segments(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[600];
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	if (d != NULL) closedir(d);
}

static void cleanup(void)
{
	remove_segments();
	rmdir(dir);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_append_reload();
	test_damage();
	test_limits_and_gc();
	test_sigs();
	cleanup();
	return check_result("test_batchstore");
}
