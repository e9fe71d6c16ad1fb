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
 * CRC-32C (Castagnoli), the check of the files on disk: the module's
 * (module/batchstore.h, module/checkpoint_cert.h) and the coordinator's
 * vote log (coordinator/core/votelog.h). It finds a torn or flipped
 * record, not a forged one (what must be authentic is signed or
 * re-verified).
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

/*! CRC-32C of len bytes, continuing crc (0 to start). */
uint32_t bftdns_crc32c(uint32_t crc, const void *data, size_t len);
