/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <stdarg.h>
#include <stdio.h>

#include "coordinator/net/log.h"

void bft_log(const bft_logger_t *log, int level, const char *fmt, ...)
{
	if (log != NULL && level > log->level_max) {
		return;
	}
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log != NULL && log->fn != NULL) {
		log->fn(log->ctx, level, line);
	} else {
		fprintf(stderr, "bftdns: %s\n", line);
	}
}
