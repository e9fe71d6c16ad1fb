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
 * Whole-file reads and atomic whole-file writes for key material.
 *
 * A write goes to a fresh temporary file in the target's directory (created
 * with O_CREAT | O_EXCL and the final mode, so a secret is never readable by
 * others, not even for a moment), is fsync'ed, renamed over the target and
 * the directory is fsync'ed: after a crash the target is either the old file
 * or the complete new one.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "coordinator/keys/error.h"

/*! Largest key file read (a 4096-bit, 32-player share file is ~40 KiB). */
#define KEYS_FILE_MAX	(256 * 1024)

/*!
 * Writes len bytes to path atomically with the given mode. If replace is
 * false and path exists, fails with KEYS_EEXIST and changes nothing.
 */
int keys_file_write(const char *path, const void *data, size_t len, mode_t mode,
                    bool replace, keys_err_t *err);

/*!
 * Reads a regular file of at most max bytes into a malloc'd, NUL-terminated
 * buffer (*data, free() it; *len excludes the NUL). A file with a NUL byte
 * is refused (KEYS_EFORMAT): the files read here are text.
 * If secret, a file that group or others may access is refused (KEYS_EPERM).
 */
int keys_file_read(const char *path, size_t max, bool secret, char **data, size_t *len,
                   keys_err_t *err);
