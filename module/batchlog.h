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
 * The batch log: every ordered batch as applied, in a text form one can
 * read, diff and edit:
 *
 *   batch SEQ NOW COUNT
 *   sign
 *   update BASE64-OF-THE-UPDATE-MESSAGE
 *   ...
 *
 * Replaying a log (the `replay` item) applies the same batches with the
 * same times: replicas that replay the same log must end with byte-identical
 * zones, which is how the determinism of the apply path is tested, and a
 * log is what a lagging replica would need to catch up.
 */

#pragma once

#include <stdio.h>

#include "module/batch.h"

/*! Appends a batch and flushes it. */
int bftdns_batchlog_write(FILE *log, const bftdns_batch_t *batch);

/*!
 * Reads the next batch. *batch is NULL at the end of the log. A malformed
 * log gives KNOT_EMALF with *line set to the offending line number.
 */
int bftdns_batchlog_read(FILE *log, bftdns_batch_t **batch, size_t *line);
