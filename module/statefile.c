/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libknot/errcode.h"
#include "module/statefile.h"

static int errno_code(int err)
{
	return knot_map_errno_code(err);
}

int bftdns_statefile_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return errno_code(errno);
	}
	int ret = (fsync(fd) == 0) ? KNOT_EOK : errno_code(errno);
	close(fd);
	return ret;
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return n < 0 ? errno_code(errno) : KNOT_ERROR;
		}
		data += n;
		len -= (size_t)n;
	}
	return KNOT_EOK;
}

int bftdns_statefile_write(const char *dir, const char *name, const uint8_t *data,
                           size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp)) {
		return KNOT_ERANGE;
	}
	/* mkstemp() makes it 0600, and unique: two module instances of the
	 * zone (during a reload) may write at once. */
	int fd = mkstemp(tmp);
	if (fd < 0) {
		return errno_code(errno);
	}
	int ret = write_all(fd, data, len);
	if (ret == KNOT_EOK && fsync(fd) != 0) {
		ret = errno_code(errno);
	}
	if (close(fd) != 0 && ret == KNOT_EOK) {
		ret = errno_code(errno);
	}
	if (ret == KNOT_EOK && rename(tmp, path) != 0) {
		ret = errno_code(errno);
	}
	if (ret != KNOT_EOK) {
		unlink(tmp);
		return ret;
	}
	return bftdns_statefile_sync_dir(dir);
}

int bftdns_statefile_read(const char *dir, const char *name, size_t max, uint8_t **data,
                          size_t *len)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		return KNOT_ERANGE;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return errno == ENOENT ? KNOT_ENOENT : errno_code(errno);
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int ret = errno_code(errno);
		close(fd);
		return ret;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return KNOT_ESPACE;
	}
	size_t size = (size_t)st.st_size;
	uint8_t *buf = malloc(size > 0 ? size : 1);
	if (buf == NULL) {
		close(fd);
		return KNOT_ENOMEM;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;  /* Shorter than it was a moment ago: take what is there. */
		}
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = got;
	return KNOT_EOK;
}
