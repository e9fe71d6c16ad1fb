/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * What bftdns-keygen writes for the replicas, read back with the readers
 * the replicas use: every file of the layout with its mode and nothing
 * else; each replica's coin key share reads back, its shares verify, and
 * every set of f + 1 replicas makes the same coin; each link key's pin is
 * the one in pins.txt and peers.txt; each replica's zone key share is the
 * flat one; the knot.conf fragment holds the right values and pins.
 *
 * Usage: test_keygen_files BFTDNS-KEYGEN
 */

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coordinator/crypto/coin_file.h"
#include "coordinator/keys/file.h"
#include "coordinator/keys/keyfile.h"
#include "coordinator/net/link_key.h"
#include "coordinator/proto/error.h"
#include "tests/common/check.h"

#define PATH_LEN	4096
/* Room for a run's directory: /tmp/bftdns-test-keygen.XXXXXX/<label>. */
#define DIR_LEN		256
#define TOP_LEN		64
#define ARGS_MAX	64

static const char *keygen;
static char top[TOP_LEN];

/* One run of the tool and what it was asked for. */
typedef struct {
	const char *label;
	unsigned n, f;
	const char *addr[8];      /* --peer values as given, NULL: none. */
	const char *canon[8];     /* The ADDRESS@PORT keygen should write. */
	const char *install_dir;  /* NULL: not given (default). */
	char dir[DIR_LEN];
	char pins[8][BFT_PIN_STR_MAX];
} run_t;

static bool run_with_peers(const run_t *run)
{
	return run->addr[0] != NULL;
}

static bool run_with_fragment(const run_t *run)
{
	return run->n == 1 || run_with_peers(run);
}

static int keygen_spawn(run_t *run)
{
	char n[16], f[16], log[PATH_LEN], peers[8][128];
	const char *argv[ARGS_MAX] = { keygen, "--zone", "Example.COM", "--bits", "1024",
	                               "--replicas", n, "--faults", f, "--out", run->dir };
	size_t argc = 11;
	snprintf(n, sizeof(n), "%u", run->n);
	snprintf(f, sizeof(f), "%u", run->f);
	for (unsigned i = 0; i < run->n && run->addr[i] != NULL; i++) {
		snprintf(peers[i], sizeof(peers[i]), "%u=%s", i + 1, run->addr[i]);
		argv[argc++] = "--peer";
		argv[argc++] = peers[i];
	}
	if (run->install_dir != NULL) {
		argv[argc++] = "--install-dir";
		argv[argc++] = run->install_dir;
	}
	snprintf(log, sizeof(log), "%s.log", run->dir);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
			_exit(127);
		}
		execv(keygen, (char *const *)argv);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: bftdns-keygen failed; its output is in %s\n", run->label, log);
		return -1;
	}
	return 0;
}

static void path_of(const run_t *run, unsigned replica, const char *name, char *path)
{
	if (replica == 0) {
		snprintf(path, PATH_LEN, "%s/%s", run->dir, name);
	} else {
		snprintf(path, PATH_LEN, "%s/replica-%u/%s", run->dir, replica, name);
	}
}

/* Whole file as text (NULL if unreadable); free() it. */
static char *text_of(const char *path, bool secret)
{
	char *data = NULL;
	size_t len = 0;
	keys_err_t err;
	if (keys_file_read(path, KEYS_FILE_MAX, secret, &data, &len, &err) != KEYS_EOK) {
		fprintf(stderr, "cannot read %s: %s\n", path, err.text);
		return NULL;
	}
	return data;
}

static bool same_bytes(const char *a, const char *b, bool secret)
{
	char *ta = text_of(a, secret), *tb = text_of(b, secret);
	bool same = ta != NULL && tb != NULL && strcmp(ta, tb) == 0;
	free(ta);
	free(tb);
	return same;
}

static unsigned mode_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0;
}

/* The directory holds exactly the names given (each with its mode). */
static void check_listing(const char *dir, const char *const *names, const unsigned *modes,
                          size_t count)
{
	size_t found = 0;
	DIR *handle = opendir(dir);
	CHECK(handle != NULL);
	struct dirent *entry;
	while (handle != NULL && (entry = readdir(handle)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) {
			continue;
		}
		size_t k = 0;
		while (k < count && strcmp(names[k], entry->d_name) != 0) {
			k++;
		}
		if (k == count) {
			fprintf(stderr, "%s: unexpected file %s\n", dir, entry->d_name);
			CHECK(k < count);
			continue;
		}
		char path[PATH_LEN];
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		if (mode_of(path) != modes[k]) {
			fprintf(stderr, "%s has mode %o, want %o\n", path, mode_of(path), modes[k]);
		}
		CHECK_EQ(mode_of(path), modes[k]);
		found++;
	}
	if (handle != NULL) {
		closedir(handle);
	}
	CHECK_EQ(found, count);
}

static void check_layout(const run_t *run)
{
	char names[64][64];
	const char *list[64];
	unsigned modes[64];
	size_t count = 0;
#define ADD(mode, ...) do { snprintf(names[count], sizeof(names[count]), __VA_ARGS__); \
	list[count] = names[count]; modes[count++] = (mode); } while (0)
	ADD(0644, "public.key");
	ADD(0644, "coin-public.key");
	ADD(0644, "pins.txt");
	ADD(0644, "example.com.dnskey");
	ADD(0644, "example.com.ds");
	if (run_with_peers(run)) {
		ADD(0644, "peers.txt");
	}
	for (unsigned i = 1; i <= run->n; i++) {
		ADD(0600, "share-%u.key", i);
		ADD(0700, "replica-%u", i);
	}
	CHECK_EQ(mode_of(run->dir), 0700);
	check_listing(run->dir, list, modes, count);

	for (unsigned i = 1; i <= run->n; i++) {
		count = 0;
		ADD(0600, "share-%u.key", i);
		ADD(0600, "link-%u.key", i);
		ADD(0600, "coin-%u.key", i);
		ADD(0644, "public.key");
		ADD(0644, "coin-public.key");
		ADD(0644, "pins.txt");
		if (run_with_peers(run)) {
			ADD(0644, "peers.txt");
		}
		if (run_with_fragment(run)) {
			ADD(0644, "mod-bftdns.conf");
		}
		char dir[PATH_LEN];
		path_of(run, i, "", dir);
		check_listing(dir, list, modes, count);
	}
#undef ADD
}

/* The files every replica gets a copy of are the dealer's. */
static void check_copies(const run_t *run)
{
	static const char *const names[] = { "public.key", "coin-public.key", "pins.txt",
	                                      "peers.txt" };
	for (unsigned i = 1; i <= run->n; i++) {
		for (size_t k = 0; k < 4; k++) {
			if (k == 3 && !run_with_peers(run)) {
				continue;
			}
			char flat[PATH_LEN], copy[PATH_LEN];
			path_of(run, 0, names[k], flat);
			path_of(run, i, names[k], copy);
			CHECK(same_bytes(flat, copy, false));
		}
		char name[32], flat[PATH_LEN], copy[PATH_LEN];
		snprintf(name, sizeof(name), "share-%u.key", i);
		path_of(run, 0, name, flat);
		path_of(run, i, name, copy);
		CHECK(same_bytes(flat, copy, true));
		keys_share_t share;
		keys_err_t err;
		keys_share_init(&share);
		CHECK_EQ(keys_share_read(copy, &share, &err), KEYS_EOK);
		CHECK_EQ(share.secret.id, i);
		CHECK_EQ(share.pub.key.n, run->n);
		CHECK_EQ(share.pub.key.f, run->f);
		CHECK(strcmp(share.pub.zone, "example.com.") == 0);
		keys_share_clear(&share);
	}
}

/* The coin: every replica's file reads back and belongs to the public key,
 * its share of a coin verifies, and every (f + 1)-subset combines to the
 * same value, while another coin name gives another value. */
static void coin_value(const coin_public_t *pub, const coin_share_t *shares, unsigned mask,
                       const char *name, uint8_t value[COIN_VALUE_LEN])
{
	coin_share_t chosen[COIN_PLAYERS_MAX];
	size_t count = 0;
	for (unsigned i = 0; i < pub->n; i++) {
		if (mask & (1u << i)) {
			chosen[count++] = shares[i];
		}
	}
	CHECK_EQ(coin_combine(pub, (const uint8_t *)name, strlen(name), chosen, count, value),
	         COIN_EOK);
}

static void check_coin(const run_t *run)
{
	static const char *const coin_names[] = { "epoch 7 round 3", "epoch 7 round 4" };
	char path[PATH_LEN];
	keys_err_t err;
	coin_public_t pub;
	path_of(run, 0, "coin-public.key", path);
	CHECK_EQ(coin_file_read_public(path, &pub, &err), KEYS_EOK);
	CHECK_EQ(pub.n, run->n);
	CHECK_EQ(pub.f, run->f);

	uint8_t values[2][COIN_VALUE_LEN];
	for (size_t c = 0; c < 2; c++) {
		const char *name = coin_names[c];
		coin_share_t shares[COIN_PLAYERS_MAX];
		for (unsigned i = 1; i <= run->n; i++) {
			char file[32];
			coin_public_t own;
			coin_secret_t sec;
			snprintf(file, sizeof(file), "coin-%u.key", i);
			path_of(run, i, file, path);
			CHECK_EQ(coin_file_read_secret(path, &own, &sec, &err), KEYS_EOK);
			CHECK_EQ(sec.id, i);
			CHECK(memcmp(&own, &pub, sizeof(pub)) == 0);
			CHECK_EQ(coin_share_make(&pub, &sec, (const uint8_t *)name, strlen(name),
			                         &shares[i - 1]), COIN_EOK);
			CHECK_EQ(coin_share_verify(&pub, (const uint8_t *)name, strlen(name),
			                           &shares[i - 1]), COIN_EOK);
			coin_secret_wipe(&sec);
		}
		unsigned subsets = 0;
		for (unsigned mask = 1; mask < (1u << run->n); mask++) {
			if ((unsigned)__builtin_popcount(mask) != run->f + 1) {
				continue;
			}
			uint8_t value[COIN_VALUE_LEN];
			coin_value(&pub, shares, mask, name, value);
			if (subsets++ == 0) {
				memcpy(values[c], value, COIN_VALUE_LEN);
			}
			CHECK(memcmp(value, values[c], COIN_VALUE_LEN) == 0);
		}
		CHECK(subsets >= 1);
	}
	CHECK(memcmp(values[0], values[1], COIN_VALUE_LEN) != 0);
}

/* pins.txt: "ID PIN" lines in order; peers.txt: "ID ADDRESS@PORT PIN". */
static void check_pins(run_t *run)
{
	char path[PATH_LEN];
	path_of(run, 0, "pins.txt", path);
	char *pins = text_of(path, false);
	char *peers = NULL;
	if (run_with_peers(run)) {
		path_of(run, 0, "peers.txt", path);
		peers = text_of(path, false);
		CHECK(peers != NULL);
	}
	CHECK(pins != NULL);
	char *pin_line = pins, *peer_line = peers;
	for (unsigned i = 1; i <= run->n && pin_line != NULL; i++) {
		char name[32], why[BFT_WHY_MAX] = "", want[256];
		snprintf(name, sizeof(name), "link-%u.key", i);
		path_of(run, i, name, path);
		CHECK_EQ(bft_link_key_pin(path, run->pins[i - 1], why, sizeof(why)), BFT_EOK);
		bft_pin_t parsed;
		CHECK_EQ(bft_pin_parse(run->pins[i - 1], &parsed), BFT_EOK);
		for (unsigned j = 1; j < i; j++) {
			CHECK(strcmp(run->pins[j - 1], run->pins[i - 1]) != 0);
		}
		snprintf(want, sizeof(want), "%u %s\n", i, run->pins[i - 1]);
		CHECK(strncmp(pin_line, want, strlen(want)) == 0);
		pin_line += strlen(want);
		if (peer_line != NULL) {
			snprintf(want, sizeof(want), "%u %s %s\n", i, run->canon[i - 1],
			         run->pins[i - 1]);
			CHECK(strncmp(peer_line, want, strlen(want)) == 0);
			peer_line += strnlen(peer_line, strlen(want));
		}
	}
	CHECK(pin_line != NULL && *pin_line == '\0');
	CHECK(peer_line == NULL || *peer_line == '\0');
	free(pins);
	free(peers);
}

/* The fragment's items: what the run asked for, the other replicas' pins. */
static void check_fragment(const run_t *run)
{
	for (unsigned i = 1; i <= run->n && run_with_fragment(run); i++) {
		char path[PATH_LEN], want[2048];
		path_of(run, i, "mod-bftdns.conf", path);
		char *text = text_of(path, false);
		CHECK(text != NULL);
		if (text == NULL) {
			continue;
		}
		const char *dir = run->install_dir != NULL ? run->install_dir : "/var/lib/knot/bftdns";
		snprintf(want, sizeof(want), "mod-bftdns:\n  - id: example.com\n    replica-id: %u\n"
		         "    replicas: %u\n    faults: %u\n    key-share: \"%s/share-%u.key\"\n",
		         i, run->n, run->f, dir, i);
		CHECK(strstr(text, want) != NULL);
		if (run->n > 1) {
			size_t len = (size_t)snprintf(want, sizeof(want), "    peer: [ ");
			const char *sep = "";
			for (unsigned j = 1; j <= run->n; j++) {
				if (j != i) {
					len += (size_t)snprintf(want + len, sizeof(want) - len, "%s\"%u %s %s\"",
					                        sep, j, run->canon[j - 1], run->pins[j - 1]);
					sep = ", ";
				}
			}
			snprintf(want + len, sizeof(want) - len, " ]\n");
			CHECK(strstr(text, want) != NULL);
		} else {
			CHECK(strstr(text, "peer:") == NULL);
		}
		/* Its own pin is not among its peers. */
		CHECK(strstr(text, run->pins[i - 1]) == NULL);
		free(text);
	}
}

static void check_run(run_t *run)
{
	snprintf(run->dir, sizeof(run->dir), "%s/%s", top, run->label);
	CHECK_EQ(keygen_spawn(run), 0);
	check_layout(run);
	check_copies(run);
	check_coin(run);
	check_pins(run);
	check_fragment(run);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_keygen_files BFTDNS-KEYGEN\n");
		return 2;
	}
	keygen = argv[1];
	snprintf(top, sizeof(top), "/tmp/bftdns-test-keygen.XXXXXX");
	if (mkdtemp(top) == NULL) {
		perror("mkdtemp");
		return 1;
	}

	run_t with_peers = {
		.label = "n4", .n = 4, .f = 1,
		.addr  = { "192.0.2.1:5400", "[2001:DB8::2]:5400", "192.0.2.3@5401", "2001:db8::4@53" },
		.canon = { "192.0.2.1@5400", "2001:db8::2@5400", "192.0.2.3@5401", "2001:db8::4@53" },
		.install_dir = "/srv/bftdns",
	};
	run_t without_peers = { .label = "n7", .n = 7, .f = 2 };
	run_t single = { .label = "n1", .n = 1, .f = 0 };
	check_run(&with_peers);
	check_run(&without_peers);
	check_run(&single);

	if (check_failures == 0) {
		nftw(top, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	} else {
		fprintf(stderr, "kept %s for inspection\n", top);
	}
	return check_result("test_keygen_files");
}
