/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libknot/errcode.h>
#include <libknot/error.h>
#include <libknot/yparser/yparser.h>

#include "coordinator/ctl/conf_find.h"

#define SECTION	"mod-bftdns"
#define ITEM	"control-socket"

typedef struct {
	const char *want_id;      /*!< NULL: any section. */
	bool in_section;          /*!< Inside a mod-bftdns section. */
	bool id_matches;
	bool section_seen;        /*!< A mod-bftdns section (with want_id) exists. */
	bool include_seen;        /*!< The file includes others (not followed). */
	char id[YP_MAX_TXT_DATA_LEN + 1];
	char found_id[256];
	int found;                /*!< Distinct paths found. */
	char path[YP_MAX_TXT_DATA_LEN + 1];
	bool ambiguous;
} find_t;

static void event_take(find_t *f, const yp_parser_t *p)
{
	switch (p->event) {
	case YP_EKEY0:
		f->in_section = strcmp(p->key, SECTION) == 0;
		f->id_matches = false;
		f->include_seen |= strcmp(p->key, "include") == 0;
		break;
	case YP_EID:
		if (f->in_section) {
			snprintf(f->id, sizeof(f->id), "%s", p->data);
			f->id_matches = f->want_id == NULL || strcmp(p->data, f->want_id) == 0;
			f->section_seen |= f->id_matches;
		}
		break;
	case YP_EKEY1:
		if (f->in_section && f->id_matches && strcmp(p->key, ITEM) == 0) {
			if (f->found > 0 && strcmp(f->path, p->data) != 0) {
				f->ambiguous = true;
			}
			snprintf(f->path, sizeof(f->path), "%s", p->data);
			snprintf(f->found_id, sizeof(f->found_id), "%.200s", f->id);
			f->found++;
		}
		break;
	default:
		break;
	}
}

static int file_check(const char *file, char *err, size_t err_size)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_size, "cannot read %s: %s", file, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int result(const find_t *f, const char *file, char *path, size_t path_size,
                  char *err, size_t err_size)
{
	const char *inc = f->include_seen ? " (include: files are not read; use -s SOCKET)" : "";
	if (!f->section_seen) {
		if (f->want_id != NULL) {
			snprintf(err, err_size, "%s has no mod-bftdns section with id '%s'%s",
			         file, f->want_id, inc);
		} else {
			snprintf(err, err_size, "%s has no mod-bftdns section%s", file, inc);
		}
		return -1;
	}
	if (f->found == 0) {
		snprintf(err, err_size, "%s: no control-socket item in its mod-bftdns section%s; "
		         "add one (module/bftdns.rst)", file, f->want_id != NULL ? "" : "s");
		return -1;
	}
	if (f->ambiguous) {
		snprintf(err, err_size, "%s: several mod-bftdns sections set different "
		         "control-socket paths; choose one with -i ID", file);
		return -1;
	}
	if (f->path[0] != '/' || strlen(f->path) >= path_size) {
		snprintf(err, err_size, "%s: control-socket of section '%s' is not an absolute "
		         "path of at most %zu bytes", file, f->found_id, path_size - 1);
		return -1;
	}
	memcpy(path, f->path, strlen(f->path) + 1);
	return 0;
}

int ctl_conf_find(const char *file, const char *id, char *path, size_t path_size,
                  char *err, size_t err_size)
{
	if (file_check(file, err, err_size) != 0) {
		return -1;
	}
	/* The parser and the search state hold 32 KiB buffers each: heap, not stack. */
	yp_parser_t *p = malloc(sizeof(*p));
	find_t *f = calloc(1, sizeof(*f));
	if (p == NULL || f == NULL) {
		free(p);
		free(f);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	f->want_id = id;
	yp_init(p);
	int ret = yp_set_input_file(p, file);
	while (ret == KNOT_EOK && (ret = yp_parse(p)) == KNOT_EOK) {
		event_take(f, p);
	}
	if (ret != KNOT_EOF) {
		snprintf(err, err_size, "%s: line %zu: %s (not a knot.conf?)", file,
		         p->line_count, knot_strerror(ret));
		ret = -1;
	} else {
		ret = result(f, file, path, path_size, err, err_size);
	}
	yp_deinit(p);
	free(p);
	free(f);
	return ret;
}
