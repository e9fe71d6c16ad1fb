/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "coordinator/net/link_key.h"
#include "coordinator/proto/abc.h"
#include "coordinator/proto/error.h"
#include "module/conf.h"

#define MOD_REPLICA_ID	"\x0a""replica-id"
#define MOD_REPLICAS	"\x08""replicas"
#define MOD_FAULTS	"\x06""faults"
#define MOD_PEER	"\x04""peer"
#define MOD_KEY_SHARE	"\x09""key-share"
#define MOD_PROTOCOL	"\x10""signing-protocol"
#define MOD_DESIGNATED	"\x12""signing-designated"
#define MOD_CONTROL	"\x0e""control-socket"
#define MOD_REFRESH	"\x10""refresh-interval"
#define MOD_BATCH	"\x0b""batch-limit"
#define MOD_QUEUE	"\x0b""queue-limit"
#define MOD_BATCH_LOG	"\x09""batch-log"
#define MOD_REPLAY	"\x06""replay"
#define MOD_LISTEN	"\x06""listen"
#define MOD_LINK_KEY	"\x08""link-key"
#define MOD_COIN_KEY	"\x08""coin-key"
#define MOD_MISBEHAVE	"\x09""misbehave"
#define MOD_DIGEST	"\x0f""digest-interval"
#define MOD_CONSISTENCY	"\x0b""consistency"
#define MOD_XFER	"\x0e""state-transfer"
#define MOD_RETAIN	"\x0e""retain-batches"
#define MOD_UPDATE_KEY	"\x0a""update-key"
#define MOD_UPDATE_AUTH	"\x0b""update-auth"
#define MOD_ORDERED_READS	"\x0d""ordered-reads"
#define MOD_READ_TIMEOUT	"\x14""ordered-read-timeout"

static const knot_lookup_t bftdns_protocols[] = {
	{ SHOUP_STRATEGY_BASIC,    "basic" },
	{ SHOUP_STRATEGY_OPTPROOF, "optproof" },
	{ SHOUP_STRATEGY_OPTTE,    "optte" },
	{ 0, NULL }
};

static const knot_lookup_t bftdns_misbehaviours[] = {
	{ BFTDNS_MISBEHAVE_INVERT_SHARES, "invert-shares" },
	{ BFTDNS_MISBEHAVE_RANDOM_SHARES, "random-shares" },
	{ BFTDNS_MISBEHAVE_SILENT_SIGNER, "silent-signer" },
	{ BFTDNS_MISBEHAVE_SILENT,        "silent" },
	{ BFTDNS_MISBEHAVE_EQUIVOCATE,    "equivocate" },
	{ BFTDNS_MISBEHAVE_CORRUPT_DIGEST, "corrupt-digest" },
	{ BFTDNS_MISBEHAVE_CORRUPT_SNAPSHOT, "corrupt-snapshot" },
	{ 0, NULL }
};

static const knot_lookup_t bftdns_consistencies[] = {
	{ BFTDNS_CONSISTENCY_LOG,    "log" },
	{ BFTDNS_CONSISTENCY_STRICT, "strict" },
	{ 0, NULL }
};

static const knot_lookup_t bftdns_update_auths[] = {
	{ BFTDNS_UPDATE_AUTH_BOTH, "both" },
	{ BFTDNS_UPDATE_AUTH_SIG0, "sig0" },
	{ BFTDNS_UPDATE_AUTH_TSIG, "tsig" },
	{ 0, NULL }
};

const yp_item_t bftdns_conf_items[] = {
	{ MOD_REPLICA_ID, YP_TINT,  YP_VINT = { 1, SHOUP_PLAYERS_MAX, YP_NIL } },
	{ MOD_REPLICAS,   YP_TINT,  YP_VINT = { 1, SHOUP_PLAYERS_MAX, YP_NIL } },
	{ MOD_FAULTS,     YP_TINT,  YP_VINT = { 0, (SHOUP_PLAYERS_MAX - 1) / 3, 0 } },
	{ MOD_PEER,       YP_TSTR,  YP_VNONE, YP_FMULTI },
	{ MOD_KEY_SHARE,  YP_TSTR,  YP_VNONE },
	{ MOD_PROTOCOL,   YP_TOPT,  YP_VOPT = { bftdns_protocols, SHOUP_STRATEGY_OPTTE } },
	{ MOD_DESIGNATED, YP_TBOOL, YP_VBOOL = { true } },
	{ MOD_CONTROL,    YP_TSTR,  YP_VNONE },
	{ MOD_REFRESH,    YP_TINT,  YP_VINT = { 60, 7 * 24 * 3600, 3600, YP_STIME } },
	{ MOD_BATCH,      YP_TINT,  YP_VINT = { 1, 4096, 256 } },
	{ MOD_QUEUE,      YP_TINT,  YP_VINT = { 1, 1 << 20, 4096 } },
	{ MOD_BATCH_LOG,  YP_TSTR,  YP_VNONE },
	{ MOD_REPLAY,     YP_TSTR,  YP_VNONE },
	{ MOD_LISTEN,     YP_TSTR,  YP_VNONE },
	{ MOD_LINK_KEY,   YP_TSTR,  YP_VNONE },
	{ MOD_COIN_KEY,   YP_TSTR,  YP_VNONE },
	{ MOD_MISBEHAVE,  YP_TOPT,  YP_VOPT = { bftdns_misbehaviours, 0 }, YP_FMULTI },
	{ MOD_DIGEST,     YP_TINT,  YP_VINT = { 0, 1 << 20, 100 } },
	{ MOD_CONSISTENCY, YP_TOPT, YP_VOPT = { bftdns_consistencies, BFTDNS_CONSISTENCY_LOG } },
	{ MOD_XFER,       YP_TBOOL, YP_VBOOL = { true } },
	{ MOD_RETAIN,     YP_TINT,  YP_VINT = { 1, ABC_RETAIN_MAX, ABC_RETAIN_DEFAULT } },
	{ MOD_UPDATE_KEY, YP_TSTR,  YP_VNONE, YP_FMULTI },
	{ MOD_UPDATE_AUTH, YP_TOPT, YP_VOPT = { bftdns_update_auths, BFTDNS_UPDATE_AUTH_BOTH } },
	{ MOD_ORDERED_READS, YP_TBOOL, YP_VNONE },
	{ MOD_READ_TIMEOUT, YP_TINT, YP_VINT = { 10, 60000, 2000 } },
	{ NULL }
};

/*!
 * Parses "ADDRESS@PORT" (a literal IPv4 or IPv6 address: a replica never
 * depends on DNS to find its peers). text is modified.
 */
static int addr_parse(char *text, bool peer, struct sockaddr_storage *addr, const char **err)
{
	char *at = strrchr(text, '@');
	if (at == NULL) {
		*err = peer ? "peer address must be ADDRESS@PORT" : "listen must be ADDRESS@PORT";
		return KNOT_EINVAL;
	}
	*at = '\0';
	char *end = NULL;
	unsigned long port = strtoul(at + 1, &end, 10);
	if (*end != '\0' || at[1] == '\0' || port < 1 || port > 65535) {
		*err = peer ? "peer port must be between 1 and 65535" :
		       "listen port must be between 1 and 65535";
		return KNOT_EINVAL;
	}

	memset(addr, 0, sizeof(*addr));
	struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
	if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
	} else {
		*err = peer ? "peer address must be an IPv4 or IPv6 address" :
		       "listen address must be an IPv4 or IPv6 address";
		return KNOT_EINVAL;
	}

	return KNOT_EOK;
}

static bool pin_valid(const char *text)
{
	bft_pin_t pin;
	return bft_pin_parse(text, &pin) == BFT_EOK;
}

/*!
 * Parses "ID ADDRESS@PORT [PIN]". The text comes from the operator's file,
 * so every part is checked; on failure err names the problem.
 */
static int peer_parse(const char *text, unsigned replicas, bftdns_peer_conf_t *peer,
                      const char **err)
{
	char id_str[16], addr_str[128], pin[sizeof(peer->pin)] = "";
	char extra[2];
	int fields = sscanf(text, "%15s %127s %127s %1s", id_str, addr_str, pin, extra);
	if (fields < 2 || fields > 3) {
		*err = "peer must be 'ID ADDRESS@PORT [PIN]'";
		return KNOT_EINVAL;
	}

	char *end = NULL;
	unsigned long id = strtoul(id_str, &end, 10);
	if (*end != '\0' || id < 1 || id > replicas) {
		*err = "peer ID must be a replica number between 1 and replicas";
		return KNOT_EINVAL;
	}

	int ret = addr_parse(addr_str, true, &peer->addr, err);
	if (ret != KNOT_EOK) {
		return ret;
	}

	peer->id = id;
	strcpy(peer->pin, pin);
	return KNOT_EOK;
}

/*! Parses and cross-checks the peer list; fills conf->peers if conf is set. */
static int peers_check(const knotd_conf_t *peers, unsigned replica_id, unsigned replicas,
                       bftdns_conf_t *conf, const char **err)
{
	if (peers->count != replicas - 1) {
		*err = "peer must list every other replica exactly once (replicas - 1 entries)";
		return KNOT_EINVAL;
	}

	uint64_t seen = 0;
	for (size_t i = 0; i < peers->count; i++) {
		bftdns_peer_conf_t peer;
		int ret = peer_parse(peers->multi[i].string, replicas, &peer, err);
		if (ret != KNOT_EOK) {
			return ret;
		}
		if (peer.id == replica_id) {
			*err = "peer must not list this replica's own replica-id";
			return KNOT_EINVAL;
		}
		if (seen & (1ull << peer.id)) {
			*err = "peer lists the same replica twice";
			return KNOT_EINVAL;
		}
		seen |= 1ull << peer.id;
		if (conf != NULL) {
			conf->peers[i] = peer;
		}
	}
	if (conf != NULL) {
		conf->peer_count = peers->count;
	}

	return KNOT_EOK;
}

static bool path_absolute(const knotd_conf_t *val)
{
	return val->count > 0 && val->single.string[0] == '/';
}

static bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return false;
	}
	size_t len = (a->ss_family == AF_INET) ? sizeof(struct sockaddr_in) :
	                                         sizeof(struct sockaddr_in6);
	return memcmp(a, b, len) == 0;
}

/*!
 * What a replica of a group (replicas > 1) needs beyond the common items:
 * where it listens, its link and coin keys, and a pin for every peer (a
 * link is never made to an unpinned key). Runs after peers_check().
 */
static int cluster_check(knotd_conf_check_args_t *args, const knotd_conf_t *peers,
                         unsigned replicas)
{
	knotd_conf_t listen = knotd_conf_check_item(args, MOD_LISTEN);
	knotd_conf_t link = knotd_conf_check_item(args, MOD_LINK_KEY);
	knotd_conf_t coin = knotd_conf_check_item(args, MOD_COIN_KEY);

	if (listen.count == 0) {
		args->err_str = "listen is required with replicas > 1 (this replica's link "
		                "address, ADDRESS@PORT)";
		return KNOT_EINVAL;
	}
	char text[128];
	struct sockaddr_storage own;
	if (strlen(listen.single.string) >= sizeof(text)) {
		args->err_str = "listen must be ADDRESS@PORT";
		return KNOT_EINVAL;
	}
	strcpy(text, listen.single.string);
	int ret = addr_parse(text, false, &own, &args->err_str);
	if (ret != KNOT_EOK) {
		return ret;
	}
	if (!path_absolute(&link)) {
		args->err_str = "link-key is required with replicas > 1 (the absolute path of "
		                "this replica's link-<id>.key)";
		return KNOT_EINVAL;
	}
	if (!path_absolute(&coin)) {
		args->err_str = "coin-key is required with replicas > 1 (the absolute path of "
		                "this replica's coin-<id>.key)";
		return KNOT_EINVAL;
	}

	for (size_t i = 0; i < peers->count; i++) {
		bftdns_peer_conf_t peer;
		(void)peer_parse(peers->multi[i].string, replicas, &peer, &args->err_str);
		if (!pin_valid(peer.pin)) {
			args->err_str = "peer must end with the replica's link key pin, "
			                "sha256//<base64 of 32 bytes> (pins.txt of bftdns-keygen)";
			return KNOT_EINVAL;
		}
		if (addr_equal(&peer.addr, &own)) {
			args->err_str = "peer address must differ from listen";
			return KNOT_EINVAL;
		}
	}

	return KNOT_EOK;
}

/*!
 * Parses every update-key (sig0.h); fills keys if set. A key listed twice
 * is refused: it is a copy-and-paste slip, not a second key.
 */
static int update_keys_parse(const knotd_conf_t *val, bftdns_sig0_keys_t *keys,
                             const char **err)
{
	bftdns_sig0_key_t *parsed = calloc(val->count + 1, sizeof(*parsed));
	if (parsed == NULL) {
		return KNOT_ENOMEM;
	}
	int ret = KNOT_EOK;
	size_t i;
	for (i = 0; i < val->count && ret == KNOT_EOK; i++) {
		ret = bftdns_sig0_key_parse(val->multi[i].string, &parsed[i], err);
		for (size_t j = 0; ret == KNOT_EOK && j < i; j++) {
			if (bftdns_sig0_key_equal(&parsed[i], &parsed[j])) {
				*err = "update-key lists the same key twice";
				ret = KNOT_EINVAL;
			}
		}
	}
	bftdns_sig0_keys_t result = { .count = i, .keys = parsed };
	if (ret == KNOT_EOK && keys != NULL) {
		*keys = result;
	} else {
		bftdns_sig0_keys_clear(&result);
	}
	return ret;
}

/*! update-key and update-auth: keys valid, and used. */
static int update_auth_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t keys = knotd_conf_check_item(args, MOD_UPDATE_KEY);
	knotd_conf_t auth = knotd_conf_check_item(args, MOD_UPDATE_AUTH);
	int ret = update_keys_parse(&keys, NULL, &args->err_str);
	if (ret == KNOT_EOK && auth.single.option == BFTDNS_UPDATE_AUTH_SIG0 &&
	    keys.count == 0) {
		args->err_str = "update-auth sig0 needs at least one update-key";
		ret = KNOT_EINVAL;
	}
	if (ret == KNOT_EOK && auth.single.option == BFTDNS_UPDATE_AUTH_TSIG &&
	    keys.count > 0) {
		args->err_str = "update-key is never used with update-auth tsig";
		ret = KNOT_EINVAL;
	}
	knotd_conf_free(&keys);
	return ret;
}

int bftdns_conf_check(knotd_conf_check_args_t *args)
{
	knotd_conf_t id = knotd_conf_check_item(args, MOD_REPLICA_ID);
	knotd_conf_t n = knotd_conf_check_item(args, MOD_REPLICAS);
	knotd_conf_t f = knotd_conf_check_item(args, MOD_FAULTS);
	knotd_conf_t share = knotd_conf_check_item(args, MOD_KEY_SHARE);

	if (id.count == 0) {
		args->err_str = "replica-id is required (this replica's number, 1..replicas)";
		return KNOT_EINVAL;
	}
	if (n.count == 0) {
		args->err_str = "replicas is required (the number of replicas n)";
		return KNOT_EINVAL;
	}
	if (share.count == 0 || share.single.string[0] == '\0') {
		args->err_str = "key-share is required (the path of this replica's key share file)";
		return KNOT_EINVAL;
	}
	if (id.single.integer > n.single.integer) {
		args->err_str = "replica-id must be between 1 and replicas";
		return KNOT_EINVAL;
	}
	if (n.single.integer < 3 * f.single.integer + 1) {
		args->err_str = "replicas must be at least 3 * faults + 1";
		return KNOT_EINVAL;
	}

	knotd_conf_t peers = knotd_conf_check_item(args, MOD_PEER);
	int ret = peers_check(&peers, id.single.integer, n.single.integer, NULL,
	                      &args->err_str);
	if (ret == KNOT_EOK && n.single.integer > 1) {
		ret = cluster_check(args, &peers, n.single.integer);
	}
	knotd_conf_free(&peers);
	if (ret != KNOT_EOK) {
		return ret;
	}

	knotd_conf_t control = knotd_conf_check_item(args, MOD_CONTROL);
	if (control.count > 0) {
		const char *path = control.single.string;
		if (path[0] != '/' || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			args->err_str = "control-socket must be an absolute path of at most 107 bytes";
			return KNOT_EINVAL;
		}
	}

	knotd_conf_t log = knotd_conf_check_item(args, MOD_BATCH_LOG);
	knotd_conf_t replay = knotd_conf_check_item(args, MOD_REPLAY);
	if (log.count > 0 && replay.count > 0 &&
	    strcmp(log.single.string, replay.single.string) == 0) {
		args->err_str = "batch-log and replay must be different files";
		return KNOT_EINVAL;
	}
	if (replay.count > 0 && n.single.integer > 1) {
		args->err_str = "replay is possible with replicas 1 only";
		return KNOT_EINVAL;
	}
	knotd_conf_t ordered_reads = knotd_conf_check_item(args, MOD_ORDERED_READS);
	if (replay.count > 0 && ordered_reads.single.boolean) {
		args->err_str = "ordered-reads is not possible with replay (a replaying "
		                "replica orders nothing but the log's batches)";
		return KNOT_EINVAL;
	}

	/* A replica that installed the latest stable checkpoint K (state
	 * transfer) goes on with the peers' kept batches after K. How far the
	 * newest batch runs ahead of K is not bounded exactly (a checkpoint
	 * batch of reports only is skipped, and epochs without requests are
	 * delivered too: 13 batches after K with digest-interval 3 in the
	 * test); this rule of thumb keeps it within the kept batches. */
	knotd_conf_t digest = knotd_conf_check_item(args, MOD_DIGEST);
	knotd_conf_t xfer = knotd_conf_check_item(args, MOD_XFER);
	knotd_conf_t retain = knotd_conf_check_item(args, MOD_RETAIN);
	if (n.single.integer > 1 && digest.single.integer > 0 && xfer.single.boolean &&
	    retain.single.integer < 4 * (digest.single.integer + n.single.integer)) {
		args->err_str = "retain-batches must be at least 4 * (digest-interval + replicas) "
		                "with state-transfer on (a replica that installed the latest "
		                "stable checkpoint needs the batches after it)";
		return KNOT_EINVAL;
	}

	knotd_conf_t batch = knotd_conf_check_item(args, MOD_BATCH);
	knotd_conf_t queue = knotd_conf_check_item(args, MOD_QUEUE);
	if (queue.single.integer < batch.single.integer) {
		args->err_str = "queue-limit must be at least batch-limit";
		return KNOT_EINVAL;
	}

	return update_auth_check(args);
}

int bftdns_conf_load(knotd_mod_t *mod, bftdns_conf_t *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->replica_id = knotd_conf_mod(mod, MOD_REPLICA_ID).single.integer;
	conf->replicas = knotd_conf_mod(mod, MOD_REPLICAS).single.integer;
	conf->faults = knotd_conf_mod(mod, MOD_FAULTS).single.integer;
	conf->protocol = knotd_conf_mod(mod, MOD_PROTOCOL).single.option;
	conf->designated = knotd_conf_mod(mod, MOD_DESIGNATED).single.boolean;
	conf->refresh_interval = knotd_conf_mod(mod, MOD_REFRESH).single.integer;
	conf->batch_limit = knotd_conf_mod(mod, MOD_BATCH).single.integer;
	conf->queue_limit = knotd_conf_mod(mod, MOD_QUEUE).single.integer;
	conf->digest_interval = knotd_conf_mod(mod, MOD_DIGEST).single.integer;
	conf->consistency = knotd_conf_mod(mod, MOD_CONSISTENCY).single.option;
	conf->state_transfer = knotd_conf_mod(mod, MOD_XFER).single.boolean;
	conf->retain_batches = knotd_conf_mod(mod, MOD_RETAIN).single.integer;
	conf->update_auth = knotd_conf_mod(mod, MOD_UPDATE_AUTH).single.option;
	conf->ordered_reads = knotd_conf_mod(mod, MOD_ORDERED_READS).single.boolean;
	conf->read_timeout_ms = knotd_conf_mod(mod, MOD_READ_TIMEOUT).single.integer;

	conf->key_share = strdup(knotd_conf_mod(mod, MOD_KEY_SHARE).single.string);
	/* Optional paths: NULL when not configured. */
	const yp_name_t *paths[] = { MOD_CONTROL, MOD_BATCH_LOG, MOD_REPLAY,
	                             MOD_LISTEN, MOD_LINK_KEY, MOD_COIN_KEY };
	char **dests[] = { &conf->control_socket, &conf->batch_log, &conf->replay,
	                   &conf->listen, &conf->link_key, &conf->coin_key };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		knotd_conf_t val = knotd_conf_mod(mod, paths[i]);
		if (val.count > 0 && (*dests[i] = strdup(val.single.string)) == NULL) {
			bftdns_conf_clear(conf);
			return KNOT_ENOMEM;
		}
	}
	if (conf->key_share == NULL) {
		bftdns_conf_clear(conf);
		return KNOT_ENOMEM;
	}

	knotd_conf_t misbehave = knotd_conf_mod(mod, MOD_MISBEHAVE);
	for (size_t i = 0; i < misbehave.count; i++) {
		conf->misbehave |= misbehave.multi[i].option;
	}
	knotd_conf_free(&misbehave);

	/* Checked by bftdns_conf_check(); parsed again for the keys. */
	const char *key_err = NULL;
	knotd_conf_t update_keys = knotd_conf_mod(mod, MOD_UPDATE_KEY);
	int key_ret = update_keys_parse(&update_keys, &conf->update_keys, &key_err);
	knotd_conf_free(&update_keys);
	if (key_ret != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "%s", (key_err != NULL) ? key_err : knot_strerror(key_ret));
		bftdns_conf_clear(conf);
		return key_ret;
	}

	if (conf->listen != NULL) {
		char text[128];
		const char *err = NULL;
		snprintf(text, sizeof(text), "%s", conf->listen);
		if (addr_parse(text, false, &conf->listen_addr, &err) != KNOT_EOK) {
			knotd_mod_log(mod, LOG_ERR, "%s", err);
			bftdns_conf_clear(conf);
			return KNOT_EINVAL;
		}
	}

	/* Checked by bftdns_conf_check(); parsed again for the values. */
	const char *err = NULL;
	knotd_conf_t peers = knotd_conf_mod(mod, MOD_PEER);
	int ret = peers_check(&peers, conf->replica_id, conf->replicas, conf, &err);
	knotd_conf_free(&peers);
	if (ret != KNOT_EOK) {
		knotd_mod_log(mod, LOG_ERR, "%s", err);
		bftdns_conf_clear(conf);
		return ret;
	}

	return KNOT_EOK;
}

void bftdns_conf_clear(bftdns_conf_t *conf)
{
	free(conf->key_share);
	free(conf->control_socket);
	free(conf->batch_log);
	free(conf->replay);
	free(conf->listen);
	free(conf->link_key);
	free(conf->coin_key);
	bftdns_sig0_keys_clear(&conf->update_keys);
	memset(conf, 0, sizeof(*conf));
}

void bftdns_conf_misbehave_text(unsigned misbehave, char *out, size_t out_size)
{
	size_t len = 0;
	out[0] = '\0';
	for (const knot_lookup_t *m = bftdns_misbehaviours; m->name != NULL; m++) {
		if ((misbehave & (unsigned)m->id) && len < out_size) {
			int ret = snprintf(out + len, out_size - len, "%s%s",
			                   len > 0 ? ", " : "", m->name);
			len += (ret > 0) ? (size_t)ret : 0;
		}
	}
}
