/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-keygen's configuration output: the replicas' addresses (--peer),
 * peers.txt, and per replica the mod-bftdns section of knot.conf.
 *
 * The fragment holds only items that module/conf.c defines (replica-id,
 * replicas, faults, key-share, peer); the peer values use the module's own
 * syntax "ID ADDRESS@PORT PIN", so knotc conf-check accepts them as they are.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/keys/number.h"
#include "coordinator/tools/keygen.h"

/* "ADDRESS@PORT", "IPV4:PORT" or "[IPV6]:PORT" into host and port text. */
static int peer_split(const char *arg, const char *text, char *host, size_t host_size,
                      const char **port)
{
	const char *sep = strrchr(text, '@');
	const char *host_start = text;
	size_t host_len = 0;
	if (sep != NULL) {
		host_len = (size_t)(sep - text);
	} else if (text[0] == '[') {
		sep = strstr(text, "]:");
		if (sep == NULL) {
			return keygen_fail(EXIT_USAGE, "--peer %s: write an IPv6 address as "
			                   "[ADDRESS]:PORT or ADDRESS@PORT", arg);
		}
		host_start = text + 1;
		host_len = (size_t)(sep - host_start);
		sep++;
	} else {
		sep = strrchr(text, ':');
		if (sep != NULL && strchr(text, ':') != sep) {
			return keygen_fail(EXIT_USAGE, "--peer %s: write an IPv6 address as "
			                   "[ADDRESS]:PORT or ADDRESS@PORT", arg);
		}
		host_len = sep != NULL ? (size_t)(sep - text) : 0;
	}
	if (sep == NULL || host_len == 0 || host_len >= host_size) {
		return keygen_fail(EXIT_USAGE, "--peer %s: the address must be ADDRESS:PORT, "
		                   "[IPV6]:PORT or ADDRESS@PORT", arg);
	}
	memcpy(host, host_start, host_len);
	host[host_len] = '\0';
	*port = sep + 1;
	return EXIT_OK;
}

/* Canonical text of a literal address: the module takes no host names
 * (a replica must not depend on DNS to find its peers). */
static int peer_address(const char *arg, const char *host, char *canon, size_t size)
{
	unsigned char bytes[sizeof(struct in6_addr)];
	int family = inet_pton(AF_INET, host, bytes) == 1 ? AF_INET :
	             inet_pton(AF_INET6, host, bytes) == 1 ? AF_INET6 : 0;
	if (family == 0 || inet_ntop(family, bytes, canon, (socklen_t)size) == NULL) {
		return keygen_fail(EXIT_USAGE, "--peer %s: '%s' is not an IPv4 or IPv6 address "
		                   "(mod-bftdns takes no host names)", arg, host);
	}
	return EXIT_OK;
}

int keygen_peer_parse(keygen_opt_t *opt, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char id_text[16], host[KEYGEN_ADDR_MAX], canon[INET6_ADDRSTRLEN];
	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(id_text)) {
		return keygen_fail(EXIT_USAGE, "--peer %s: must be ID=ADDRESS:PORT "
		                   "(e.g. 2=192.0.2.2:5400)", arg);
	}
	memcpy(id_text, arg, (size_t)(eq - arg));
	id_text[eq - arg] = '\0';
	uint64_t id = 0;
	if (!keys_parse_decimal(id_text, SHOUP_PLAYERS_MAX, &id) || id == 0) {
		return keygen_fail(EXIT_USAGE, "--peer %s: the replica ID must be a number in 1..%d",
		                   arg, SHOUP_PLAYERS_MAX);
	}
	const char *port_text = NULL;
	int ret = peer_split(arg, eq + 1, host, sizeof(host), &port_text);
	if (ret == EXIT_OK) {
		ret = peer_address(arg, host, canon, sizeof(canon));
	}
	if (ret != EXIT_OK) {
		return ret;
	}
	uint64_t port = 0;
	if (!keys_parse_decimal(port_text, 65535, &port) || port == 0) {
		return keygen_fail(EXIT_USAGE, "--peer %s: the port must be a number in 1..65535",
		                   arg);
	}
	char *slot = opt->peer_addr[id - 1];
	if (slot[0] != '\0') {
		return keygen_fail(EXIT_USAGE, "--peer %s: replica %u's address is already given "
		                   "(%s)", arg, (unsigned)id, slot);
	}
	snprintf(slot, KEYGEN_ADDR_MAX, "%s@%u", canon, (unsigned)port);
	opt->peers_given++;
	return EXIT_OK;
}

bool keygen_with_peers(const keygen_opt_t *opt)
{
	return opt->peers_given > 0 && opt->peers_given == opt->replicas;
}

bool keygen_with_fragment(const keygen_opt_t *opt)
{
	return opt->replicas == 1 || keygen_with_peers(opt);
}

/* The fragment quotes the path: nothing in it may end or escape the quote. */
static int install_dir_check(const char *dir)
{
	if (dir[0] != '/') {
		return keygen_fail(EXIT_USAGE, "--install-dir must be an absolute path (where the "
		                   "replica's files will be on its machine), not '%s'", dir);
	}
	if (strlen(dir) > KEYGEN_INSTALL_DIR_MAX) {
		return keygen_fail(EXIT_USAGE, "--install-dir is longer than %d characters",
		                   KEYGEN_INSTALL_DIR_MAX);
	}
	for (const char *c = dir; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20 || *c == 0x7f) {
			return keygen_fail(EXIT_USAGE, "--install-dir must not contain quotes, "
			                   "backslashes or control characters");
		}
	}
	return EXIT_OK;
}

static int peer_check_missing(const keygen_opt_t *opt)
{
	char missing[SHOUP_PLAYERS_MAX * 4] = "";
	size_t len = 0;
	for (unsigned i = 1; i <= opt->replicas; i++) {
		if (opt->peer_addr[i - 1][0] == '\0') {
			len += (size_t)snprintf(missing + len, sizeof(missing) - len, "%s%u",
			                        len > 0 ? " " : "", i);
		}
	}
	return keygen_fail(EXIT_USAGE, "--peer is given for %u of the %u replicas; give every "
	                   "replica's address (missing: %s)", opt->peers_given, opt->replicas,
	                   missing);
}

int keygen_peer_check(const keygen_opt_t *opt)
{
	for (unsigned i = opt->replicas + 1; i <= SHOUP_PLAYERS_MAX; i++) {
		if (opt->peer_addr[i - 1][0] != '\0') {
			return keygen_fail(EXIT_USAGE, "--peer %u=%s: there are only %u replicas", i,
			                   opt->peer_addr[i - 1], opt->replicas);
		}
	}
	if (opt->peers_given > 0 && opt->peers_given < opt->replicas) {
		return peer_check_missing(opt);
	}
	/* Two replicas cannot listen on one address; a copy-and-paste slip
	 * would otherwise show up only as links that never come up. */
	for (unsigned i = 1; i <= opt->replicas; i++) {
		for (unsigned j = i + 1; opt->peers_given > 0 && j <= opt->replicas; j++) {
			if (strcmp(opt->peer_addr[i - 1], opt->peer_addr[j - 1]) == 0) {
				return keygen_fail(EXIT_USAGE, "--peer: replicas %u and %u have the same "
				                   "address %s", i, j, opt->peer_addr[i - 1]);
			}
		}
	}
	if (opt->install_dir != NULL) {
		if (!keygen_with_fragment(opt)) {
			return keygen_fail(EXIT_USAGE, "--install-dir is used only in the knot.conf "
			                   "fragments, which need every replica's --peer address");
		}
		return install_dir_check(opt->install_dir);
	}
	return EXIT_OK;
}

/* peers.txt: "ID ADDRESS@PORT PIN" for every replica, each line the value
 * of a peer item of the module. */
static int conf_write_peers(keygen_out_t *out, char pins[][BFT_PIN_STR_MAX])
{
	static keygen_text_t text;
	text.len = 0;
	text.overflow = false;
	for (unsigned i = 1; i <= out->opt->replicas; i++) {
		keygen_text_add(&text, "%u %s %s\n", i, out->opt->peer_addr[i - 1], pins[i - 1]);
	}
	if (text.overflow) {
		return keygen_fail(EXIT_MAKE, "the peer list does not fit in %zu bytes",
		                   sizeof(text.buf));
	}
	int ret = EXIT_OK;
	for (unsigned i = 0; ret == EXIT_OK && i <= out->opt->replicas; i++) {
		ret = keygen_out_text(out, i, KEYGEN_PEERS, text.buf, text.len, 0644);
	}
	return ret;
}

static void conf_fragment_header(keygen_text_t *text, const keygen_opt_t *opt,
                                 const keys_public_t *pub, const char *id,
                                 const char *digest, unsigned replica)
{
	const char *dir = opt->install_dir != NULL ? opt->install_dir : KEYGEN_INSTALL_DIR;
	keygen_text_add(text,
		"# mod-bftdns for replica %u of %u of %s (written by " PROGRAM ").\n"
		"# Zone key: %s, %u bits, key tag %u,\n"
		"# public digest %s.\n"
		"# Copy the files of replica-%u/ to %s on replica %u (owned by the user\n"
		"# knotd runs as; the .key files stay mode 0600), put this section after the\n"
		"# 'module:' section that loads mod-bftdns, and enable it in the zone's section:\n"
		"#     module: mod-bftdns/%s\n",
		replica, opt->replicas, pub->zone, pub->alg->mnemonic, pub->key.bits,
		pub->key_tag, digest, replica, dir, replica, id);
}

static int conf_write_fragment(keygen_out_t *out, const keys_public_t *pub,
                               char pins[][BFT_PIN_STR_MAX], const char *digest,
                               unsigned replica)
{
	const keygen_opt_t *opt = out->opt;
	const char *dir = opt->install_dir != NULL ? opt->install_dir : KEYGEN_INSTALL_DIR;
	/* The section's id: one per zone, so fragments of several zones can
	 * share one knot.conf. */
	char id[KEYS_DNAME_TEXT_MAX];
	keygen_zone_stem(pub->zone, id, sizeof(id));

	static keygen_text_t text;
	text.len = 0;
	text.overflow = false;
	conf_fragment_header(&text, opt, pub, id, digest, replica);
	keygen_text_add(&text,
		"mod-bftdns:\n"
		"  - id: %s\n"
		"    replica-id: %u\n"
		"    replicas: %u\n"
		"    faults: %u\n"
		"    key-share: \"%s%sshare-%u.key\"\n",
		id, replica, opt->replicas, opt->faults, dir,
		dir[strlen(dir) - 1] == '/' ? "" : "/", replica);
	if (opt->replicas > 1) {
		const char *sep = "";
		keygen_text_add(&text, "    peer: [ ");
		for (unsigned i = 1; i <= opt->replicas; i++) {
			if (i != replica) {
				keygen_text_add(&text, "%s\"%u %s %s\"", sep, i, opt->peer_addr[i - 1],
				                pins[i - 1]);
				sep = ", ";
			}
		}
		keygen_text_add(&text, " ]\n");
		/* What the replica's own links need (module/conf.c: listen,
		 * link-key, coin-key). */
		const char *slash = dir[strlen(dir) - 1] == '/' ? "" : "/";
		keygen_text_add(&text,
			"    listen: \"%s\"\n"
			"    link-key: \"%s%slink-%u.key\"\n"
			"    coin-key: \"%s%scoin-%u.key\"\n",
			opt->peer_addr[replica - 1], dir, slash, replica, dir, slash, replica);
	}
	if (text.overflow) {
		return keygen_fail(EXIT_MAKE, "the knot.conf fragment does not fit in %zu bytes",
		                   sizeof(text.buf));
	}
	return keygen_out_text(out, replica, KEYGEN_FRAGMENT, text.buf, text.len, 0644);
}

int keygen_conf_write(keygen_out_t *out, const keys_public_t *pub,
                      char pins[][BFT_PIN_STR_MAX])
{
	int ret = EXIT_OK;
	if (keygen_with_peers(out->opt)) {
		ret = conf_write_peers(out, pins);
	}
	if (ret != EXIT_OK || !keygen_with_fragment(out->opt)) {
		return ret;
	}
	uint8_t digest[KEYS_PUBLIC_DIGEST_SIZE];
	char digest_hex[2 * KEYS_PUBLIC_DIGEST_SIZE + 1];
	keys_err_t err;
	if (keys_public_digest(pub, digest, &err) != KEYS_EOK) {
		return keygen_fail(EXIT_MAKE, "%s", err.text);
	}
	for (size_t k = 0; k < sizeof(digest); k++) {
		snprintf(digest_hex + 2 * k, 3, "%02x", digest[k]);
	}
	for (unsigned i = 1; ret == EXIT_OK && i <= out->opt->replicas; i++) {
		ret = conf_write_fragment(out, pub, pins, digest_hex, i);
	}
	return ret;
}
