/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "module/statedir.h"

#define STATEDIR_SUB	"bftdns"

/*! The zone's name as one path component (see statedir.h). */
static int statedir_component(const knot_dname_t *zone, char *out, size_t size)
{
	char text[KNOT_DNAME_TXT_MAXLEN + 1];
	if (knot_dname_to_str(text, zone, sizeof(text)) == NULL) {
		return KNOT_EINVAL;
	}
	size_t len = 0;
	for (const char *c = text; *c != '\0'; c++) {
		bool safe = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		            (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
		            (*c == '.' && c != text);
		int n = safe ? snprintf(out + len, size - len, "%c", *c)
		             : snprintf(out + len, size - len, "%%%02x", (unsigned char)*c);
		if (n < 0 || (size_t)n >= size - len) {
			return KNOT_ERANGE;
		}
		len += (size_t)n;
	}
	return KNOT_EOK;
}

static int statedir_mkdir(const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		return knot_map_errno();
	}
	return KNOT_EOK;
}

int bftdns_statedir_init(bftdns_t *ctx)
{
	knotd_conf_t storage = knotd_conf(ctx->mod, (const yp_name_t *)"\x08""database",
	                                  (const yp_name_t *)"\x07""storage", NULL);
	char zone[3 * (KNOT_DNAME_TXT_MAXLEN + 1)], path[PATH_MAX];
	int ret = statedir_component(knotd_mod_zone(ctx->mod), zone, sizeof(zone));
	const char *base = storage.single.string;
	if (ret == KNOT_EOK && (base == NULL || base[0] == '\0')) {
		ret = KNOT_EINVAL;
	}
	if (ret == KNOT_EOK &&
	    snprintf(path, sizeof(path), "%s/%s", base, STATEDIR_SUB) >= (int)sizeof(path)) {
		ret = KNOT_ERANGE;
	}
	if (ret == KNOT_EOK && (ret = statedir_mkdir(path)) == KNOT_EOK) {
		size_t len = strlen(path);
		if (snprintf(path + len, sizeof(path) - len, "/%s", zone) >=
		    (int)(sizeof(path) - len)) {
			ret = KNOT_ERANGE;
		} else {
			ret = statedir_mkdir(path);
		}
	}
	knotd_conf_free(&storage);
	if (ret != KNOT_EOK) {
		knotd_mod_log(ctx->mod, LOG_ERR, "module state directory under the database "
		              "storage not usable (%s): no batch store and no checkpoint file; "
		              "a restart resumes at the durable position without the bytes of "
		              "earlier batches", knot_strerror(ret));
		return ret;
	}
	ctx->state_dir = strdup(path);
	return ctx->state_dir != NULL ? KNOT_EOK : KNOT_ENOMEM;
}
