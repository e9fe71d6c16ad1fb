/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "coordinator/ctl/socket.h"
#include "coordinator/proto/error.h"

static int address_make(const char *path, struct sockaddr_un *addr)
{
	size_t len = strlen(path);
	if (path[0] != '/' || len >= sizeof(addr->sun_path)) {
		return BFT_EINVAL;
	}
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, path, len + 1);
	return BFT_EOK;
}

int ctl_socket_connect(const char *path)
{
	struct sockaddr_un addr;
	if (address_make(path, &addr) != BFT_EOK) {
		return -EINVAL;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* A file at path: a live socket is refused, a dead one removed. */
static int stale_remove(const char *path, bool *replaced)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		return errno == ENOENT ? BFT_EOK : BFT_EIO;
	}
	if (!S_ISSOCK(st.st_mode)) {
		return BFT_EEXIST;
	}
	int fd = ctl_socket_connect(path);
	if (fd >= 0) {
		close(fd);
		return BFT_EEXIST;
	}
	/* ECONNREFUSED is the mark of a socket whose process is gone. */
	if (fd != -ECONNREFUSED) {
		errno = -fd;
		return BFT_EIO;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		return BFT_EIO;
	}
	*replaced = true;
	return BFT_EOK;
}

int ctl_socket_listen(const char *path, bool *replaced, dev_t *dev, ino_t *ino)
{
	struct sockaddr_un addr;
	*replaced = false;
	if (address_make(path, &addr) != BFT_EOK) {
		return BFT_EINVAL;
	}
	int ret = stale_remove(path, replaced);
	if (ret != BFT_EOK) {
		return ret;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return BFT_EIO;
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int err = errno;
		close(fd);
		errno = err;
		/* Another process bound it between our check and our bind. */
		return err == EADDRINUSE ? BFT_EEXIST : BFT_EIO;
	}
	/* The mode is set before listen(): until then a connect is refused, so
	 * nobody gets in through the umask's mode. */
	struct stat st;
	if (chmod(path, CTL_SOCKET_MODE) != 0 || lstat(path, &st) != 0 ||
	    listen(fd, 16) != 0) {
		int err = errno;
		unlink(path);
		close(fd);
		errno = err;
		return BFT_EIO;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	return fd;
}
