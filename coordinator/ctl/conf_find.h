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
 * Finds the control socket in a knot.conf, for bftdnsctl -c. The file is
 * read with libknot's own YAML lexer (yparser), the one knotd uses, so
 * quoting, comments, flow lists and indentation mean what they mean to
 * knotd; only the schema check is left out. Not in the coordinator library:
 * it needs libknot, which the coordinator does not link.
 */

#pragma once

#include <stddef.h>

/*!
 * Looks for `control-socket` in the `mod-bftdns` sections of file. With id
 * NULL, exactly one section may set it (or several to the same path); with
 * an id, that section's. Returns 0 and the path, or -1 and a sentence in err.
 */
int ctl_conf_find(const char *file, const char *id, char *path, size_t path_size,
                  char *err, size_t err_size);
