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
 * Files of a zone's module state directory (statedir.h): small ones
 * replaced whole and atomically. A crash leaves the old file or the new
 * one, never a mix: the bytes go to a temporary file in the same
 * directory, which is flushed (fsync) and renamed over the old name, and
 * the directory is flushed so that the rename itself survives a power
 * loss. Files are 0600: only knotd's user reads them.
 *
 * Without knotd, so that the unit tests use it.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

/*! Replaces dir/name with len bytes of data. KNOT_EOK or an error (nothing replaced). */
int bftdns_statefile_write(const char *dir, const char *name, const uint8_t *data,
                           size_t len);

/*!
 * Reads dir/name whole into *data (malloc'ed, free()) if it has at most max
 * bytes. KNOT_ENOENT if there is none, KNOT_ESPACE if larger, or an error.
 */
int bftdns_statefile_read(const char *dir, const char *name, size_t max, uint8_t **data,
                          size_t *len);

/*! Flushes a directory (after a file in it was created, renamed or removed). */
int bftdns_statefile_sync_dir(const char *dir);
