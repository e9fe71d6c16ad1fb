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
 * Logging for the links and the event loop: a callback that receives a
 * syslog level (LOG_ERR...) and one formatted line. Inside knotd the module
 * routes it to knotd_mod_log; standalone it goes to stderr. Never given a
 * secret.
 */

#pragma once

#include <syslog.h>

typedef void (*bft_log_fn)(void *ctx, int level, const char *line);

typedef struct {
	bft_log_fn fn;    /*!< NULL: stderr. */
	void *ctx;
	int level_max;    /*!< Lines above this level (less severe) are skipped. */
} bft_logger_t;

void bft_log(const bft_logger_t *log, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
