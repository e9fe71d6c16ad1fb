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
 * The parts of bftdns-keygen (not API): options, the output directory, and
 * one writer per kind of key material. Every function that can fail prints
 * its message ("bftdns-keygen: error: ...") and returns one of the exit codes
 * below, so the caller only passes the code on.
 *
 * Output layout (doc/keys.md):
 *
 *   DIR/share-<i>.key, public.key, <zone>.dnskey, <zone>.ds   the zone key
 *   DIR/coin-public.key, pins.txt [, peers.txt]                public, all replicas
 *   DIR/replica-<i>/   what replica i needs and nothing else: share-<i>.key,
 *                      link-<i>.key, coin-<i>.key, public.key, coin-public.key,
 *                      pins.txt [, peers.txt, mod-bftdns.conf]
 */

#pragma once

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/crypto/coin.h"
#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/crypto/shoup.h"
#include "coordinator/keys/dname.h"
#include "coordinator/keys/keyfile.h"
#include "coordinator/net/link_key.h"

#define PROGRAM "bftdns-keygen"

/* Exit codes (also in the --help text and doc/keys.md). */
enum {
	EXIT_OK       = 0,
	EXIT_USAGE    = 1,   /* Bad or missing arguments. */
	EXIT_OUTDIR   = 2,   /* The output directory cannot be used. */
	EXIT_IMPORT   = 3,   /* The key to import was refused. */
	EXIT_MAKE     = 4,   /* Key generation or writing failed. */
};

#define KEYGEN_PATH_LEN		4096
/* "ADDRESS@PORT": the longest IPv6 text, '@' and five digits. */
#define KEYGEN_ADDR_MAX		(INET6_ADDRSTRLEN + 8)
/* Where the fragment says a replica's files are, unless --install-dir. */
#define KEYGEN_INSTALL_DIR	"/var/lib/knot/bftdns"
/* Longest --install-dir: the fragment's paths must stay well below PATH_MAX. */
#define KEYGEN_INSTALL_DIR_MAX	1024

/* File names (the flat share-<i>.key and the link-<i>.key of
 * coordinator/net/link_key.h are formatted where they are written). */
#define KEYGEN_PUBLIC		"public.key"
#define KEYGEN_COIN_PUBLIC	"coin-public.key"
#define KEYGEN_PINS		"pins.txt"
#define KEYGEN_PEERS		"peers.txt"
#define KEYGEN_FRAGMENT		"mod-bftdns.conf"

typedef struct {
	char zone[KEYS_DNAME_TEXT_MAX];
	unsigned replicas;
	unsigned faults;
	unsigned bits;
	bool bits_given;
	const bftdns_alg_t *alg;
	bool alg_given;
	uint32_t ttl;
	const char *out;
	const char *import;
	bool force;
	/* --peer ID=ADDRESS: "ADDRESS@PORT" at [ID - 1], empty if not given. */
	char peer_addr[SHOUP_PLAYERS_MAX][KEYGEN_ADDR_MAX];
	unsigned peers_given;
	const char *install_dir;          /* NULL: KEYGEN_INSTALL_DIR. */
} keygen_opt_t;

/* Prints "bftdns-keygen: error: ..." and returns the exit code given. */
int keygen_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The output directory and what this run wrote into it. */
typedef struct {
	const keygen_opt_t *opt;
	bool created;                     /* DIR was made by this run. */
	bool owned;                       /* DIR was made or empty: a failure undoes all. */
	bool replica_created[SHOUP_PLAYERS_MAX];
	char **written;                   /* Paths of the files written, for the undo. */
	size_t written_count;
} keygen_out_t;

/* Checks (and creates) DIR and DIR/replica-1..n, before any key is made. */
int keygen_out_prepare(keygen_out_t *out, const keygen_opt_t *opt);
/* With --force: removes the files of an older key that this run will not
 * replace (more replicas, or peers and fragments the new key has not). */
int keygen_out_remove_stale(keygen_out_t *out, bool with_peers, bool with_fragment);
/* DIR/name (replica 0) or DIR/replica-<replica>/name into path[KEYGEN_PATH_LEN];
 * name NULL: the directory itself. */
void keygen_out_path(const keygen_out_t *out, unsigned replica, const char *name, char *path);
/* Remembers a written file (for the undo); EXIT_MAKE if out of memory. */
int keygen_out_wrote(keygen_out_t *out, const char *path);
/* Writes text atomically to DIR[/replica-<i>]/name with mode; remembers it. */
int keygen_out_text(keygen_out_t *out, unsigned replica, const char *name, const char *text,
                    size_t len, unsigned mode);
/* After a failure: undoes the run if DIR was ours, else says what is left. */
void keygen_out_abort(keygen_out_t *out);
void keygen_out_free(keygen_out_t *out);

/* A bounded text being built (pins, peers, fragment). */
typedef struct {
	char buf[64 * 1024];
	size_t len;
	bool overflow;
} keygen_text_t;

void keygen_text_add(keygen_text_t *text, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The zone key (keygen_zone.c). */
int keygen_zone_make(const keygen_opt_t *opt, keys_public_t *pub, shoup_secret_t *secrets);
/* "<zone>" in file names: the name without its trailing dot; "root" for ".". */
void keygen_zone_stem(const char *zone, char *out, size_t size);
int keygen_zone_write(keygen_out_t *out, const keys_public_t *pub,
                      const shoup_secret_t *secrets);

/* Link keys and coin keys (keygen_replica.c). */
int keygen_coin_make(const keygen_opt_t *opt, coin_public_t *pub, coin_secret_t *secrets);
int keygen_coin_write(keygen_out_t *out, const coin_public_t *pub, const coin_secret_t *secrets);
int keygen_link_write(keygen_out_t *out, char pins[][BFT_PIN_STR_MAX]);

/* Addresses, peers.txt and the knot.conf fragment (keygen_conf.c). */
int keygen_peer_parse(keygen_opt_t *opt, const char *arg);
int keygen_peer_check(const keygen_opt_t *opt);
/* Whether the run writes peers.txt / the fragments (every address known;
 * a single replica has no peers, so its fragment needs none). */
bool keygen_with_peers(const keygen_opt_t *opt);
bool keygen_with_fragment(const keygen_opt_t *opt);
int keygen_conf_write(keygen_out_t *out, const keys_public_t *pub,
                      char pins[][BFT_PIN_STR_MAX]);
