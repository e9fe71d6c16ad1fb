/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*!
 * \file
 *
 * The control socket file: creating it (replacing a dead one) and connecting
 * to it. Both sides use ctl_socket_connect, so "is anyone there?" means the
 * same thing to the server's stale check and to bftdnsctl.
 */

#pragma once

#include <stdbool.h>
#include <sys/types.h>

/*! File mode of the socket: the owner (knotd's user) and its group. */
#define CTL_SOCKET_MODE	0660

/*!
 * Connects to the socket at path. Returns the fd, or -errno (-ENOENT: no
 * such file, -ECONNREFUSED: nobody listens, -EACCES...). The fd is blocking
 * and close-on-exec.
 */
int ctl_socket_connect(const char *path);

/*!
 * Creates a listening socket at path, mode CTL_SOCKET_MODE, non-blocking.
 * A socket file nobody answers on is removed first (*replaced set to true).
 * Returns the fd, or a BFT_E* code: BFT_EEXIST (someone answers, or the file
 * is not a socket), BFT_EINVAL (path too long or relative), BFT_EIO (the
 * directory is missing or not writable: errno is kept for the message).
 * *dev and *ino identify the file created, so that stop removes only ours.
 */
int ctl_socket_listen(const char *path, bool *replaced, dev_t *dev, ino_t *ino);
