/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The vote log (coordinator/core/votelog.h), in a temporary directory:
 * records read back after a reopen, in order, with their epochs; a fresh
 * log is complete from 0 for a replica that never ran, and from beyond
 * ABC_EPOCHS_AHEAD for one that ran without it (not usable until then); a
 * torn tail (in a record's header, in its bytes, in a new segment's header)
 * is cut and the rest kept; a flipped byte, an impossible length, a torn
 * record that is not the last, a file that is no segment make the log
 * begin anew, never a crash; a second open is refused while the first
 * holds the lock; trimming deletes whole segments before the durable
 * position (minus the margin) only; a failed write (file size limit) is
 * refused whole and the log stays failed; many records in one append
 * (several writev()s) read back in order; directory 0700, files 0600.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/core/votelog.h"
#include "coordinator/proto/abc.h"
#include "coordinator/proto/error.h"
#include "tests/common/check.h"

static char base[] = "/tmp/test_votelog.XXXXXX";
static char dir[600];
static char last_log[512];
static int warnings;

static void log_line(void *ctx, int level, const char *line)
{
	(void)ctx;
	snprintf(last_log, sizeof(last_log), "%s", line);
	if (level <= LOG_WARNING) {
		warnings++;
	}
}
static const bft_logger_t logger = { .fn = log_line, .level_max = LOG_DEBUG };

/* Record i of a test: its epoch and (len from i) bytes that name it. */
static size_t rec_make(unsigned i, uint8_t *out)
{
	size_t len = 8 + i % 50;
	for (size_t j = 0; j < len; j++) {
		out[j] = (uint8_t)(i * 31 + j);
	}
	return len;
}

static votelog_t *open_at(uint64_t epoch)
{
	votelog_t *vl = NULL;
	char why[256] = "";
	int ret = votelog_open(dir, epoch, &logger, &vl, why, sizeof(why));
	CHECK_EQ(ret, BFT_EOK);
	if (ret != BFT_EOK) {
		fprintf(stderr, "open: %s\n", why);
		exit(1);
	}
	return vl;
}

/* Appends records first..last, record i in epoch i / per_epoch. */
static void append_range(votelog_t *vl, unsigned first, unsigned last, unsigned per_epoch)
{
	uint8_t buf[64];
	for (unsigned i = first; i <= last; i++) {
		size_t len = rec_make(i, buf);
		votelog_record_t rec = { .epoch = i / per_epoch, .data = buf, .len = len };
		CHECK_EQ(votelog_append(vl, &rec, 1), BFT_EOK);
	}
}

/* The log loaded holds exactly records first..last, in order. */
static void check_loaded(votelog_t *vl, unsigned first, unsigned last, unsigned per_epoch)
{
	const votelog_record_t *recs;
	size_t count;
	votelog_loaded(vl, &recs, &count);
	CHECK_EQ(count, last + 1 - first);
	uint8_t buf[64];
	for (size_t k = 0; k < count && k <= last - first; k++) {
		unsigned i = first + (unsigned)k;
		size_t len = rec_make(i, buf);
		CHECK_EQ(recs[k].epoch, i / per_epoch);
		CHECK(recs[k].len == len && memcmp(recs[k].data, buf, len) == 0);
	}
}

static size_t segment_files(char names[][64], size_t max)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "votes-", 6) == 0) {
			if (n < max) {
				snprintf(names[n], 64, "%.60s", e->d_name);
			}
			n++;
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	/* Sorted: the names are fixed width. */
	for (size_t i = 1; i < n && i < max; i++) {
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char t[64];
			memcpy(t, names[j], 64);
			memcpy(names[j], names[j - 1], 64);
			memcpy(names[j - 1], t, 64);
		}
	}
	return n;
}

static void remove_all(void)
{
	char names[256][64];
	size_t n = segment_files(names, 256);
	for (size_t i = 0; i < n && i < 256; i++) {
		char path[700];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
}

/* The path of the newest (k = 0) or an older segment with records. */
static void segment_path(size_t from_newest, char *out, size_t size)
{
	char names[256][64];
	size_t n = segment_files(names, 256);
	CHECK(n > from_newest);
	snprintf(out, size, "%s/%s", dir, names[n - 1 - from_newest]);
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_fresh_and_reload(void)
{
	votelog_t *vl = open_at(0);
	CHECK(votelog_usable(vl));
	check_loaded(vl, 1, 0, 1);
	append_range(vl, 0, 39, 4);   /* Epochs 0..9, four records each. */
	votelog_stats_t st;
	votelog_stats(vl, &st);
	CHECK_EQ(st.appended, 40);
	CHECK_EQ(st.complete_from, 0);
	CHECK(st.usable && !st.failed);
	votelog_close(vl);

	struct stat ds;
	CHECK(stat(dir, &ds) == 0 && (ds.st_mode & 0777) == 0700);
	char path[700];
	segment_path(0, path, sizeof(path));
	CHECK(stat(path, &ds) == 0 && (ds.st_mode & 0777) == 0600);

	/* A restart at epoch 3 gets every record back, the older epochs too
	 * (the broadcast ignores those), and appends to a new segment. */
	vl = open_at(3);
	CHECK(votelog_usable(vl));
	check_loaded(vl, 0, 39, 4);
	append_range(vl, 40, 47, 4);
	votelog_drop_loaded(vl);
	check_loaded(vl, 1, 0, 1);
	votelog_close(vl);
	char names[16][64];
	CHECK_EQ(segment_files(names, 16), 2);
	vl = open_at(3);
	check_loaded(vl, 0, 47, 4);
	votelog_close(vl);
	remove_all();
}

static void test_upgrade(void)
{
	/* A replica that ran without the log resumes at epoch 10: its earlier
	 * votes may reach epoch 10 + ABC_EPOCHS_AHEAD. */
	votelog_t *vl = open_at(10);
	CHECK(!votelog_usable(vl));
	votelog_stats_t st;
	votelog_stats(vl, &st);
	CHECK_EQ(st.complete_from, 10 + ABC_EPOCHS_AHEAD + 1);
	append_range(vl, 40, 60, 4);  /* Epochs 10..15. */
	votelog_close(vl);
	/* The mark outlives the restart: not usable before it, usable from it. */
	vl = open_at(10 + ABC_EPOCHS_AHEAD);
	CHECK(!votelog_usable(vl));
	check_loaded(vl, 1, 0, 1);
	votelog_close(vl);
	vl = open_at(10 + ABC_EPOCHS_AHEAD + 1);
	CHECK(votelog_usable(vl));
	check_loaded(vl, 40, 60, 4);
	votelog_close(vl);
	remove_all();
}

static void test_lock(void)
{
	votelog_t *vl = open_at(0);
	votelog_t *other = NULL;
	char why[256] = "";
	CHECK_ERR(votelog_open(dir, 0, &logger, &other, why, sizeof(why)), BFT_EAGAIN, why,
	          "held by another coordinator");
	CHECK(other == NULL);
	votelog_close(vl);
	vl = open_at(0);
	votelog_close(vl);
	remove_all();
}

typedef void (*damage_fn)(const char *path);

static void cut_bytes(const char *path, off_t n)
{
	CHECK(truncate(path, file_size(path) - n) == 0);
}
static void cut_in_header(const char *path) { cut_bytes(path, 27 + 5); }  /* Record 19: 27 bytes. */
static void cut_in_bytes(const char *path) { cut_bytes(path, 3); }

/* A torn tail: the last record is gone, the others kept, usable. */
static void torn_tail(const char *what, damage_fn damage, unsigned last_kept)
{
	votelog_t *vl = open_at(0);
	append_range(vl, 0, 19, 4);
	votelog_close(vl);
	char path[700];
	segment_path(0, path, sizeof(path));
	damage(path);
	int before = warnings;
	vl = open_at(2);
	CHECK(votelog_usable(vl));
	check_loaded(vl, 0, last_kept, 4);
	CHECK(strstr(last_log, "cut there") != NULL);
	CHECK_EQ(warnings, before);
	/* Appends go on after it; the next load reads both. */
	append_range(vl, last_kept + 1, 25, 4);
	votelog_close(vl);
	vl = open_at(2);
	check_loaded(vl, 0, 25, 4);
	votelog_close(vl);
	if (check_failures > 0) {
		fprintf(stderr, "  (torn tail: %s)\n", what);
	}
	remove_all();
}

static void flip_middle(const char *path)
{
	int fd = open(path, O_RDWR);
	uint8_t b;
	off_t at = file_size(path) / 2;
	CHECK(pread(fd, &b, 1, at) == 1);
	b ^= 0x40;
	CHECK(pwrite(fd, &b, 1, at) == 1);
	close(fd);
}

static void huge_length(const char *path)
{
	/* The first record's length field (after the 20-byte segment header). */
	int fd = open(path, O_RDWR);
	uint8_t len[4] = { 0xff, 0xff, 0xff, 0xf0 };
	CHECK(pwrite(fd, len, 4, 20) == 4);
	close(fd);
}

static void garbage(const char *path)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	char junk[300];
	for (size_t i = 0; i < sizeof(junk); i++) {
		junk[i] = (char)(i * 7 + 3);
	}
	CHECK(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	close(fd);
}

/* Damage anywhere but a torn tail: the log is begun anew, not usable at
 * this epoch, and never crashes; older is the segment damaged (0 newest). */
static void damaged(const char *what, damage_fn damage, size_t older)
{
	votelog_t *vl = open_at(0);
	append_range(vl, 0, 19, 4);
	votelog_close(vl);
	vl = open_at(1);
	append_range(vl, 20, 23, 4);
	votelog_close(vl);
	char path[700];
	segment_path(older, path, sizeof(path));
	damage(path);
	int before = warnings;
	vl = open_at(5);
	CHECK(!votelog_usable(vl));
	check_loaded(vl, 1, 0, 1);
	CHECK(warnings == before + 1 && strstr(last_log, "begun anew") != NULL);
	votelog_stats_t st;
	votelog_stats(vl, &st);
	CHECK_EQ(st.complete_from, 5 + ABC_EPOCHS_AHEAD + 1);
	CHECK_EQ(st.segments, 1);
	votelog_close(vl);
	char names[16][64];
	CHECK_EQ(segment_files(names, 16), 1);
	if (check_failures > 0) {
		fprintf(stderr, "  (damage: %s)\n", what);
	}
	remove_all();
}

static void test_damage(void)
{
	torn_tail("cut in the last record's header", cut_in_header, 18);
	torn_tail("cut in the last record's bytes", cut_in_bytes, 18);
	damaged("a flipped byte in the newest segment", flip_middle, 0);
	damaged("a flipped byte in an older segment", flip_middle, 1);
	damaged("an impossible length", huge_length, 1);
	damaged("a file that is no segment", garbage, 1);
	damaged("a torn record that is not the last", cut_in_bytes, 1);

	/* A new segment whose header a crash cut: as if it were not there. */
	votelog_t *vl = open_at(0);
	append_range(vl, 0, 7, 4);
	votelog_close(vl);
	char path[700];
	segment_path(0, path, sizeof(path));
	snprintf(path + strlen(path) - 8, 9, "%04u.seg", 9999);  /* A later name. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "BFTDNSV1\0\0", 10) == 10);
	close(fd);
	vl = open_at(1);
	CHECK(votelog_usable(vl));
	check_loaded(vl, 0, 7, 4);
	votelog_close(vl);
	remove_all();
}

static void test_trim(void)
{
	/* Epochs 0..99, one record each: a segment per VOTELOG_SEGMENT_EPOCHS. */
	votelog_t *vl = open_at(0);
	append_range(vl, 0, 99, 1);
	votelog_stats_t st;
	votelog_stats(vl, &st);
	CHECK_EQ(st.segments, (100 + VOTELOG_SEGMENT_EPOCHS - 1) / VOTELOG_SEGMENT_EPOCHS);
	CHECK_EQ(votelog_trim(vl, VOTELOG_KEEP_EPOCHS), 0);
	/* Durable at 50: segments wholly before 50 - KEEP go, none after. */
	size_t gone = votelog_trim(vl, 50);
	CHECK_EQ(gone, (50 - VOTELOG_KEEP_EPOCHS) / VOTELOG_SEGMENT_EPOCHS);
	votelog_stats(vl, &st);
	CHECK_EQ(st.removed, gone);
	votelog_close(vl);
	vl = open_at(50);
	const votelog_record_t *recs;
	size_t count;
	votelog_loaded(vl, &recs, &count);
	CHECK(count > 0 && recs[0].epoch <= 50 - VOTELOG_KEEP_EPOCHS &&
	      recs[0].epoch + VOTELOG_SEGMENT_EPOCHS > 50 - VOTELOG_KEEP_EPOCHS);
	CHECK(count > 0 && recs[count - 1].epoch == 99);
	/* The current segment is never removed, even when all is old. */
	CHECK(votelog_trim(vl, 1000) > 0);
	votelog_stats(vl, &st);
	CHECK_EQ(st.segments, 1);
	votelog_close(vl);
	remove_all();
}

/* One step's many votes in one call: more than one writev() holds. */
static void test_many(void)
{
	static uint8_t bufs[700][64];
	static votelog_record_t recs[700];
	for (unsigned i = 0; i < 700; i++) {
		size_t len = rec_make(i, bufs[i]);
		recs[i] = (votelog_record_t){ .epoch = i / 100, .data = bufs[i], .len = len };
	}
	votelog_t *vl = open_at(0);
	CHECK_EQ(votelog_append(vl, recs, 700), BFT_EOK);
	votelog_close(vl);
	vl = open_at(0);
	check_loaded(vl, 0, 699, 100);
	votelog_close(vl);
	remove_all();
}

static void test_write_failure(void)
{
	votelog_t *vl = open_at(0);
	append_range(vl, 0, 3, 4);
	/* The file size limit makes the next write fail (EFBIG, not SIGXFSZ). */
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, small = { .rlim_cur = 0, .rlim_max = 0 };
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	char path[700];
	segment_path(0, path, sizeof(path));
	off_t size = file_size(path);
	small.rlim_cur = (rlim_t)size + 10;
	small.rlim_max = old.rlim_max;
	CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
	uint8_t buf[64];
	size_t len = rec_make(4, buf);
	votelog_record_t two[2] = { { .epoch = 1, .data = buf, .len = len },
	                            { .epoch = 1, .data = buf, .len = len } };
	CHECK_EQ(votelog_append(vl, two, 2), BFT_EIO);
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	CHECK_EQ(file_size(path), size);  /* Nothing half-written. */
	CHECK_EQ(votelog_append(vl, two, 1), BFT_EIO);  /* Failed for good. */
	votelog_stats_t st;
	votelog_stats(vl, &st);
	CHECK(st.failed);
	CHECK_EQ(st.appended, 4);
	two[0].len = 0;
	CHECK_EQ(votelog_append(vl, two, 1), BFT_EINVAL);
	votelog_close(vl);
	/* What was written before is whole. */
	vl = open_at(1);
	CHECK(votelog_usable(vl));
	check_loaded(vl, 0, 3, 4);
	votelog_close(vl);
	remove_all();
}

int main(void)
{
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	/* The log creates its directory. */
	snprintf(dir, sizeof(dir), "%s/votes", base);
	test_fresh_and_reload();
	test_upgrade();
	test_lock();
	test_damage();
	test_trim();
	test_many();
	test_write_failure();
	remove_all();
	char lock[700];
	snprintf(lock, sizeof(lock), "%s/lock", dir);
	unlink(lock);
	rmdir(dir);
	rmdir(base);
	return check_result("test_votelog");
}
