/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The segment-file mechanics (coordinator/util/segfile.h) the vote log and
 * the batch store share, in a temporary directory: names (prefix, 20
 * digits, ".seg"; the kind's smallest number; other files and numbers
 * beyond 2^64 not listed), listing sorted and bounded (BFT_ESPACE), the
 * record frame's bytes (big-endian length, number, CRC-32C over both and
 * the data), a record read back; a clean end (BFT_ENOENT), a torn header,
 * a torn body and a flipped byte told apart; an append that cannot be
 * whole (file size limit) cut back to the whole bytes.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/proto/error.h"
#include "coordinator/util/crc32c.h"
#include "coordinator/util/segfile.h"
#include "tests/common/check.h"

static char dir[] = "/tmp/test_segfile.XXXXXX";

static const bftdns_seg_kind_t kind = { .prefix = "t-", .seq_min = 1, .count_max = 16 };

static void touch(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	close(fd);
}

static void test_list(void)
{
	touch("t-00000000000000000030.seg");
	touch("t-00000000000000000002.seg");
	touch("t-00000000000000000000.seg");        /* Below seq_min. */
	touch("t-99999999999999999999.seg");        /* Beyond 2^64. */
	touch("t-0000000000000000003.seg");         /* 19 digits. */
	touch("u-00000000000000000005.seg");        /* Another kind. */
	touch("t-00000000000000000007.seg.tmp");
	uint64_t *seqs = NULL;
	size_t count = 0;
	CHECK_EQ(bftdns_seg_list(&kind, dir, &seqs, &count), BFT_EOK);
	CHECK_EQ(count, 2);
	if (count == 2) {
		CHECK_EQ(seqs[0], 2);
		CHECK_EQ(seqs[1], 30);
	}
	free(seqs);

	char path[512];
	bftdns_seg_path(&kind, dir, 30, path, sizeof(path));
	char want[512];
	snprintf(want, sizeof(want), "%s/t-00000000000000000030.seg", dir);
	CHECK(strcmp(path, want) == 0);
	bftdns_seg_remove(&kind, dir, 30);
	CHECK(access(want, F_OK) != 0);

	/* More than count_max: refused, not allocated without end. */
	for (int i = 100; i < 120; i++) {
		char name[64];
		snprintf(name, sizeof(name), "t-%020d.seg", i);
		touch(name);
	}
	CHECK_EQ(bftdns_seg_list(&kind, dir, &seqs, &count), BFT_ESPACE);
	for (int i = 100; i < 120; i++) {
		bftdns_seg_remove(&kind, dir, (uint64_t)i);
	}
	CHECK_EQ(bftdns_seg_list(&kind, "/nonexistent/segfile", &seqs, &count), BFT_EIO);
}

/* A file holding one record of data "abcde", number 7, cut to size bytes
 * (or with byte flip flipped when flip >= 0). */
static int record_file(const char *name, off_t size, int flip)
{
	static const uint8_t data[] = "abcde";
	uint8_t hdr[BFTDNS_SEG_RECORD_HDR];
	bftdns_seg_record_frame(hdr, 5, 7, data, 5);
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, hdr, sizeof(hdr)) == sizeof(hdr) && write(fd, data, 5) == 5);
	if (flip >= 0) {
		uint8_t b;
		CHECK(pread(fd, &b, 1, flip) == 1);
		b ^= 1;
		CHECK(pwrite(fd, &b, 1, flip) == 1);
	}
	if (size >= 0) {
		CHECK(ftruncate(fd, size) == 0);
	}
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	unlink(path);
	return fd;
}

static void test_records(void)
{
	/* The frame's bytes: big-endian length and number, then the CRC. */
	uint8_t hdr[BFTDNS_SEG_RECORD_HDR];
	bftdns_seg_record_frame(hdr, 0x80000005u, 7, (const uint8_t *)"abcde", 5);
	static const uint8_t head[12] = { 0x80, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 7 };
	CHECK(memcmp(hdr, head, sizeof(head)) == 0);
	CHECK_EQ(bftdns_seg_get_u32(hdr + 12),
	         bftdns_crc32c(bftdns_crc32c(0, head, 12), "abcde", 5));
	CHECK_EQ(bftdns_seg_get_u64(hdr + 4), 7);

	const char *why = NULL;
	uint8_t *data = NULL;
	bool torn = false;
	int fd = record_file("whole", -1, -1);
	CHECK_EQ(bftdns_seg_record_read_head(fd, hdr, &why), BFT_EOK);
	CHECK_EQ(bftdns_seg_record_read_body(fd, hdr, 5, &data, &torn, &why), BFT_EOK);
	CHECK(data != NULL && memcmp(data, "abcde", 5) == 0);
	free(data);
	CHECK_EQ(bftdns_seg_record_read_head(fd, hdr, &why), BFT_ENOENT);
	close(fd);

	fd = record_file("torn-head", 10, -1);
	CHECK_ERR(bftdns_seg_record_read_head(fd, hdr, &why), BFT_EMALF, why, "torn record header");
	close(fd);

	fd = record_file("torn-body", 19, -1);
	CHECK_EQ(bftdns_seg_record_read_head(fd, hdr, &why), BFT_EOK);
	CHECK_ERR(bftdns_seg_record_read_body(fd, hdr, 5, &data, &torn, &why), BFT_EMALF, why,
	          "torn record");
	CHECK(torn);
	close(fd);

	fd = record_file("flipped", -1, 18);
	CHECK_EQ(bftdns_seg_record_read_head(fd, hdr, &why), BFT_EOK);
	CHECK_ERR(bftdns_seg_record_read_body(fd, hdr, 5, &data, &torn, &why), BFT_EMALF, why,
	          "CRC mismatch");
	CHECK(!torn);
	close(fd);
}

static void test_append(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/append", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
	CHECK(fd >= 0);
	uint8_t a[100], b[200];
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	int err = 0;
	bool restored = false;
	CHECK_EQ(bftdns_seg_append(fd, iov, 2, 300, 0, &err, &restored), BFT_EOK);
	/* A file size limit cuts the next write short: nothing of it stays. */
	struct rlimit old, lim = { .rlim_cur = 450, .rlim_max = RLIM_INFINITY };
	CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	int ret = bftdns_seg_append(fd, iov, 2, 300, 300, &err, &restored);
	CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
	CHECK(ret == BFT_ESPACE || ret == BFT_EIO);
	CHECK(err != 0 && restored);
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == 300);
	close(fd);
	unlink(path);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_list();
	test_records();
	test_append();
	const char *left[] = { "t-00000000000000000002.seg", "t-00000000000000000000.seg",
	                       "t-99999999999999999999.seg", "t-0000000000000000003.seg",
	                       "u-00000000000000000005.seg", "t-00000000000000000007.seg.tmp" };
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, left[i]);
		unlink(path);
	}
	CHECK(rmdir(dir) == 0);
	return check_result("test_segfile");
}
