/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/keys/file.h"

/* Temporary names tried before giving up (each is "<path>.tmp.<pid>.<i>"). */
#define TEMP_TRIES	16

static int file_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *pos = data;
	size_t left = len;
	/* Each pass writes at least one byte or fails, so at most len passes. */
	while (left > 0) {
		ssize_t done = write(fd, pos, left);
		if (done < 0 && errno == EINTR) {
			continue;
		}
		if (done <= 0) {
			return -1;
		}
		pos += done;
		left -= (size_t)done;
	}
	return 0;
}

/* fsync the directory holding path, so that the rename itself is durable. */
static int file_sync_dir(const char *path)
{
	char copy[PATH_MAX];
	if (strlen(path) >= sizeof(copy)) {
		return -1;
	}
	strcpy(copy, path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -1;
	}
	int ret = fsync(fd);
	close(fd);
	return ret;
}

static int file_open_temp(const char *path, mode_t mode, char *temp, size_t temp_size)
{
	for (unsigned i = 0; i < TEMP_TRIES; i++) {
		int len = snprintf(temp, temp_size, "%s.tmp.%ld.%u", path, (long)getpid(), i);
		if (len < 0 || (size_t)len >= temp_size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST) {
			return fd;
		}
	}
	errno = EEXIST;
	return -1;
}

static int file_install(const char *temp, const char *path, bool replace)
{
	if (replace) {
		return rename(temp, path);
	}
	/* link() fails if path exists, which makes "no replace" race-free. */
	if (link(temp, path) != 0) {
		return -1;
	}
	return unlink(temp);
}

int keys_file_write(const char *path, const void *data, size_t len, mode_t mode,
                    bool replace, keys_err_t *err)
{
	assert(path != NULL && (data != NULL || len == 0));
	if (!replace && access(path, F_OK) == 0) {
		return keys_err_set(err, KEYS_EEXIST, "%s exists; not replacing it", path);
	}

	char temp[PATH_MAX];
	int fd = file_open_temp(path, mode, temp, sizeof(temp));
	if (fd < 0) {
		return keys_err_set(err, KEYS_EIO, "cannot create a temporary file next to %s: %s",
		                    path, strerror(errno));
	}
	if (file_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		int saved = errno;
		close(fd);
		unlink(temp);
		return keys_err_set(err, KEYS_EIO, "cannot write %s: %s", temp, strerror(saved));
	}
	if (close(fd) != 0) {
		int saved = errno;
		unlink(temp);
		return keys_err_set(err, KEYS_EIO, "cannot write %s: %s", temp, strerror(saved));
	}
	if (file_install(temp, path, replace) != 0) {
		int saved = errno;
		unlink(temp);
		if (saved == EEXIST) {
			return keys_err_set(err, KEYS_EEXIST, "%s exists; not replacing it", path);
		}
		return keys_err_set(err, KEYS_EIO, "cannot rename %s to %s: %s", temp, path,
		                    strerror(saved));
	}
	if (file_sync_dir(path) != 0) {
		return keys_err_set(err, KEYS_EIO, "cannot sync the directory of %s: %s", path,
		                    strerror(errno));
	}
	return KEYS_EOK;
}

static int file_check_stat(const char *path, const struct stat *st, size_t max, bool secret,
                           keys_err_t *err)
{
	if (!S_ISREG(st->st_mode)) {
		return keys_err_set(err, KEYS_EIO, "%s is not a regular file", path);
	}
	if (secret && (st->st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		return keys_err_set(err, KEYS_EPERM,
		                    "%s has mode %04o: a secret key file must not be accessible to "
		                    "group or others (chmod 600 %s)",
		                    path, (unsigned)(st->st_mode & 07777), path);
	}
	if ((uint64_t)st->st_size > max) {
		return keys_err_set(err, KEYS_EFORMAT, "%s is larger than %zu bytes; not a key file",
		                    path, max);
	}
	return KEYS_EOK;
}

static int file_read_fd(int fd, const char *path, size_t max, char **data, size_t *len,
                        keys_err_t *err)
{
	char *buf = malloc(max + 1);
	if (buf == NULL) {
		return keys_err_set(err, KEYS_ENOMEM, "out of memory reading %s", path);
	}
	size_t used = 0;
	/* Reads until EOF; the buffer bound stops a file that grows meanwhile.
	 * O_NONBLOCK (so that a FIFO cannot hang open()) does not affect a
	 * regular file, the only kind that gets here. */
	while (used <= max) {
		ssize_t got = read(fd, buf + used, max + 1 - used);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			int saved = errno;
			free(buf);
			return keys_err_set(err, KEYS_EIO, "cannot read %s: %s", path, strerror(saved));
		}
		if (got == 0) {
			break;
		}
		used += (size_t)got;
	}
	if (used > max) {
		free(buf);
		return keys_err_set(err, KEYS_EFORMAT, "%s is larger than %zu bytes; not a key file",
		                    path, max);
	}
	if (memchr(buf, '\0', used) != NULL) {
		free(buf);
		return keys_err_set(err, KEYS_EFORMAT, "%s contains a NUL byte; not a text key file",
		                    path);
	}
	buf[used] = '\0';
	*data = buf;
	*len = used;
	return KEYS_EOK;
}

int keys_file_read(const char *path, size_t max, bool secret, char **data, size_t *len,
                   keys_err_t *err)
{
	assert(path != NULL && data != NULL && len != NULL);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		return keys_err_set(err, KEYS_EIO, "cannot open %s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int saved = errno;
		close(fd);
		return keys_err_set(err, KEYS_EIO, "cannot stat %s: %s", path, strerror(saved));
	}
	int ret = file_check_stat(path, &st, max, secret, err);
	if (ret == KEYS_EOK) {
		ret = file_read_fd(fd, path, max, data, len, err);
	}
	close(fd);
	return ret;
}
