/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-keygen's output directory: checks before the key is made, the
 * per-replica directories, removal of an older key's leftovers, and the
 * undo of a run that fails part-way.
 */

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/keys/file.h"
#include "coordinator/tools/keygen.h"

/* At most: n flat shares and 6 public files in DIR, 8 files per replica. */
#define OUT_FILES_MAX	(SHOUP_PLAYERS_MAX * 9 + 8)

/* What a replica directory may hold, for --force's clean-up of a replica
 * that the new key no longer has. */
static const char *const replica_file_patterns[] = {
	"share-%u.key", "link-%u.key", "coin-%u.key", KEYGEN_PUBLIC, KEYGEN_COIN_PUBLIC,
	KEYGEN_PINS, KEYGEN_PEERS, KEYGEN_FRAGMENT, NULL
};

int keygen_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROGRAM ": error: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return code;
}

void keygen_text_add(keygen_text_t *text, const char *fmt, ...)
{
	if (text->overflow) {
		return;
	}
	size_t room = sizeof(text->buf) - text->len;
	va_list ap;
	va_start(ap, fmt);
	int ret = vsnprintf(text->buf + text->len, room, fmt, ap);
	va_end(ap);
	if (ret < 0 || (size_t)ret >= room) {
		text->overflow = true;
		return;
	}
	text->len += (size_t)ret;
}

void keygen_out_path(const keygen_out_t *out, unsigned replica, const char *name, char *path)
{
	/* keygen_out_prepare() bounded DIR, so this never truncates. */
	int ret = 0;
	if (replica == 0) {
		ret = snprintf(path, KEYGEN_PATH_LEN, "%s%s%s", out->opt->out, name ? "/" : "",
		               name ? name : "");
	} else {
		ret = snprintf(path, KEYGEN_PATH_LEN, "%s/replica-%u%s%s", out->opt->out, replica,
		               name ? "/" : "", name ? name : "");
	}
	assert(ret > 0 && ret < KEYGEN_PATH_LEN);
	(void)ret;
}

static void replica_dir_path(const keygen_out_t *out, unsigned replica, char *path)
{
	keygen_out_path(out, replica, NULL, path);
}

/* Whether dir holds nothing but . and ..; *empty is only set on success. */
static int dir_is_empty(const char *dir, bool *empty)
{
	DIR *handle = opendir(dir);
	if (handle == NULL) {
		return keygen_fail(EXIT_OUTDIR, "cannot read directory %s: %s", dir, strerror(errno));
	}
	*empty = true;
	struct dirent *entry;
	while (*empty && (entry = readdir(handle)) != NULL) {
		*empty = strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0;
	}
	closedir(handle);
	return EXIT_OK;
}

/* Creating and removing a file tells "writable" better than access(2),
 * which ignores read-only mounts and is not what root is subject to. */
static int dir_check_writable(const char *dir)
{
	char probe[KEYGEN_PATH_LEN];
	snprintf(probe, sizeof(probe), "%s/.%s-probe.%ld", dir, PROGRAM, (long)getpid());
	int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		return keygen_fail(EXIT_OUTDIR, "cannot write to directory %s: %s", dir,
		                   strerror(errno));
	}
	close(fd);
	unlink(probe);
	return EXIT_OK;
}

/* DIR itself: made with 0700 if missing, else a directory that is empty
 * unless --force. */
static int out_prepare_top(keygen_out_t *out)
{
	const keygen_opt_t *opt = out->opt;
	/* Room for "/replica-32/" and the longest file name. */
	if (strlen(opt->out) > KEYGEN_PATH_LEN - 128) {
		return keygen_fail(EXIT_OUTDIR, "the path %s is too long", opt->out);
	}
	struct stat st;
	if (stat(opt->out, &st) != 0) {
		if (errno != ENOENT || mkdir(opt->out, 0700) != 0) {
			return keygen_fail(EXIT_OUTDIR, "cannot create directory %s: %s", opt->out,
			                   strerror(errno));
		}
		out->created = true;
		out->owned = true;
		return EXIT_OK;
	}
	if (!S_ISDIR(st.st_mode)) {
		return keygen_fail(EXIT_OUTDIR, "%s exists and is not a directory", opt->out);
	}
	bool empty = false;
	int ret = dir_is_empty(opt->out, &empty);
	if (ret != EXIT_OK) {
		return ret;
	}
	if (!empty && !opt->force) {
		return keygen_fail(EXIT_OUTDIR, "%s is not empty; use --force to write the key files "
		                   "into it anyway (replacing those of an older key)", opt->out);
	}
	out->owned = empty;
	return EXIT_OK;
}

/* Replica directories are made before the (slow) key search, so that a
 * name taken by a file is reported at once, not after minutes. */
static int out_prepare_replica(keygen_out_t *out, unsigned replica)
{
	char path[KEYGEN_PATH_LEN];
	replica_dir_path(out, replica, path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			return keygen_fail(EXIT_OUTDIR, "%s exists and is not a directory; remove it "
			                   "(it would hold replica %u's files)", path, replica);
		}
		return EXIT_OK;
	}
	if (errno != ENOENT || mkdir(path, 0700) != 0) {
		return keygen_fail(EXIT_OUTDIR, "cannot create directory %s: %s", path,
		                   strerror(errno));
	}
	out->replica_created[replica - 1] = true;
	return EXIT_OK;
}

int keygen_out_prepare(keygen_out_t *out, const keygen_opt_t *opt)
{
	memset(out, 0, sizeof(*out));
	out->opt = opt;
	out->written = calloc(OUT_FILES_MAX, sizeof(*out->written));
	if (out->written == NULL) {
		return keygen_fail(EXIT_MAKE, "out of memory");
	}
	int ret = out_prepare_top(out);
	if (ret == EXIT_OK) {
		ret = dir_check_writable(opt->out);
	}
	for (unsigned i = 1; ret == EXIT_OK && i <= opt->replicas; i++) {
		ret = out_prepare_replica(out, i);
	}
	return ret;
}

/* Removes path if it exists; says so if loud, since the operator may wonder. */
static int remove_file(const char *path, bool loud)
{
	if (unlink(path) == 0) {
		if (loud) {
			fprintf(stderr, PROGRAM ": removed %s of an older key\n", path);
		}
		return EXIT_OK;
	}
	if (errno == ENOENT) {
		return EXIT_OK;
	}
	return keygen_fail(EXIT_MAKE, "cannot remove %s of an older key: %s", path,
	                   strerror(errno));
}

/* A replica the new key does not have: its known files, then the
 * directory if nothing else is in it. */
static int remove_stale_replica(keygen_out_t *out, unsigned replica)
{
	char dir[KEYGEN_PATH_LEN];
	replica_dir_path(out, replica, dir);
	struct stat st;
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		return EXIT_OK;
	}
	for (size_t k = 0; replica_file_patterns[k] != NULL; k++) {
		char name[64], path[KEYGEN_PATH_LEN];
		snprintf(name, sizeof(name), replica_file_patterns[k], replica);
		keygen_out_path(out, replica, name, path);
		int ret = remove_file(path, false);
		if (ret != EXIT_OK) {
			return ret;
		}
	}
	if (rmdir(dir) == 0) {
		fprintf(stderr, PROGRAM ": removed %s of an older key\n", dir);
	} else {
		fprintf(stderr, PROGRAM ": removed the key files of an older key from %s, but kept "
		        "the directory: it holds files bftdns-keygen did not write\n", dir);
	}
	return EXIT_OK;
}

int keygen_out_remove_stale(keygen_out_t *out, bool with_peers, bool with_fragment)
{
	const keygen_opt_t *opt = out->opt;
	int ret = EXIT_OK;
	/* Share files of an older key with more replicas would look valid next
	 * to the new ones. */
	for (unsigned i = opt->replicas + 1; ret == EXIT_OK && i <= SHOUP_PLAYERS_MAX; i++) {
		char name[32], path[KEYGEN_PATH_LEN];
		snprintf(name, sizeof(name), "share-%u.key", i);
		keygen_out_path(out, 0, name, path);
		ret = remove_file(path, true);
		if (ret == EXIT_OK) {
			ret = remove_stale_replica(out, i);
		}
	}
	/* An older run's peer list and fragments carry the older link pins:
	 * a replica configured from them could not talk to the new ones. */
	for (unsigned i = 0; ret == EXIT_OK && i <= opt->replicas; i++) {
		char path[KEYGEN_PATH_LEN];
		if (!with_peers) {
			keygen_out_path(out, i, KEYGEN_PEERS, path);
			ret = remove_file(path, true);
		}
		if (ret == EXIT_OK && !with_fragment && i > 0) {
			keygen_out_path(out, i, KEYGEN_FRAGMENT, path);
			ret = remove_file(path, true);
		}
	}
	return ret;
}

int keygen_out_wrote(keygen_out_t *out, const char *path)
{
	assert(out->written_count < OUT_FILES_MAX);
	char *copy = strdup(path);
	if (copy == NULL) {
		return keygen_fail(EXIT_MAKE, "out of memory");
	}
	out->written[out->written_count++] = copy;
	return EXIT_OK;
}

int keygen_out_text(keygen_out_t *out, unsigned replica, const char *name, const char *text,
                    size_t len, unsigned mode)
{
	char path[KEYGEN_PATH_LEN];
	keygen_out_path(out, replica, name, path);
	keys_err_t err;
	if (keys_file_write(path, text, len, (mode_t)mode, out->opt->force, &err) != KEYS_EOK) {
		return keygen_fail(EXIT_MAKE, "%s", err.text);
	}
	return keygen_out_wrote(out, path);
}

/* rmdir() only removes empty directories: a replica directory made by this
 * run goes, unless the failure left files in it. */
static void out_remove_replica_dirs(const keygen_out_t *out)
{
	for (unsigned i = 1; i <= out->opt->replicas; i++) {
		char path[KEYGEN_PATH_LEN];
		replica_dir_path(out, i, path);
		if (out->replica_created[i - 1]) {
			rmdir(path);
		}
	}
}

void keygen_out_abort(keygen_out_t *out)
{
	const char *dir = out->opt->out;
	if (!out->owned) {
		out_remove_replica_dirs(out);
		/* Files of the older key were replaced one by one: what is there
		 * now is a mix, and nothing can bring the old files back. */
		if (out->written_count > 0) {
			fprintf(stderr, PROGRAM ": writing stopped part-way: %s now mixes %zu files of "
			        "the new key with files of the older one; do not use them, fix the "
			        "problem and run again with --force\n", dir, out->written_count);
		}
		return;
	}
	size_t removed = 0;
	for (size_t k = 0; k < out->written_count; k++) {
		removed += unlink(out->written[k]) == 0;
	}
	out_remove_replica_dirs(out);
	if (out->created) {
		rmdir(dir);
	}
	if (removed < out->written_count) {
		fprintf(stderr, PROGRAM ": could remove only %zu of the %zu files written before "
		        "the failure; remove %s by hand\n", removed, out->written_count, dir);
	} else if (removed > 0) {
		fprintf(stderr, PROGRAM ": removed the %zu files written before the failure%s\n",
		        removed, out->created ? ", and the directory" : "");
	}
}

void keygen_out_free(keygen_out_t *out)
{
	if (out->written != NULL) {
		for (size_t k = 0; k < out->written_count; k++) {
			free(out->written[k]);
		}
		free(out->written);
	}
	out->written = NULL;
	out->written_count = 0;
}
