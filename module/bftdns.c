/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * mod-bftdns: the Knot glue of bftdns. A zone that enables this module is a
 * replicated zone: its changes are ordered by the coordinator's atomic
 * broadcast and its RRSIGs are made by the threshold signer.
 *
 * This file declares the module's knot.conf section and checks it; the
 * UPDATE interception and the coordinator thread come with the Knot
 * integration (doc/design.md).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knot/module.h"
#include "coordinator/crypto/shoup.h"

#define MOD_REPLICA_ID	"\x0a""replica-id"
#define MOD_REPLICAS	"\x08""replicas"
#define MOD_FAULTS	"\x06""faults"
#define MOD_KEY_SHARE	"\x09""key-share"
#define MOD_PROTOCOL	"\x10""signing-protocol"

static const knot_lookup_t bftdns_protocols[] = {
	{ SHOUP_STRATEGY_BASIC,    "basic" },
	{ SHOUP_STRATEGY_OPTPROOF, "optproof" },
	{ SHOUP_STRATEGY_OPTTE,    "optte" },
	{ 0, NULL }
};

const yp_item_t bftdns_conf[] = {
	{ MOD_REPLICA_ID, YP_TINT,  YP_VINT = { 1, SHOUP_PLAYERS_MAX, YP_NIL } },
	{ MOD_REPLICAS,   YP_TINT,  YP_VINT = { 1, SHOUP_PLAYERS_MAX, YP_NIL } },
	{ MOD_FAULTS,     YP_TINT,  YP_VINT = { 0, (SHOUP_PLAYERS_MAX - 1) / 3, 0 } },
	{ MOD_KEY_SHARE,  YP_TSTR,  YP_VNONE },
	{ MOD_PROTOCOL,   YP_TOPT,  YP_VOPT = { bftdns_protocols, SHOUP_STRATEGY_OPTTE } },
	{ NULL }
};

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
	if (share.count == 0) {
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
	return KNOT_EOK;
}

typedef struct {
	unsigned replica_id;
	unsigned replicas;
	unsigned faults;
	shoup_strategy_t protocol;
} bftdns_ctx_t;

int bftdns_load(knotd_mod_t *mod)
{
	/* Refuse an unpatched knotd: the symbol resolves only in a patched one. */
	if (knotd_bftdns_patch_level() < KNOTD_BFTDNS_PATCH_LEVEL) {
		knotd_mod_log(mod, LOG_ERR, "knotd carries bftdns patch level %u, need %u",
		              knotd_bftdns_patch_level(), KNOTD_BFTDNS_PATCH_LEVEL);
		return KNOT_ENOTSUP;
	}

	bftdns_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		return KNOT_ENOMEM;
	}
	ctx->replica_id = knotd_conf_mod(mod, MOD_REPLICA_ID).single.integer;
	ctx->replicas = knotd_conf_mod(mod, MOD_REPLICAS).single.integer;
	ctx->faults = knotd_conf_mod(mod, MOD_FAULTS).single.integer;
	ctx->protocol = knotd_conf_mod(mod, MOD_PROTOCOL).single.option;
	knotd_mod_ctx_set(mod, ctx);

	knotd_mod_log(mod, LOG_INFO, "active, replica %u of %u (f = %u), signing protocol %s",
	              ctx->replica_id, ctx->replicas, ctx->faults,
	              shoup_strategy_name(ctx->protocol));
	return KNOT_EOK;
}

void bftdns_unload(knotd_mod_t *mod)
{
	free(knotd_mod_ctx(mod));
}

KNOTD_MOD_API(bftdns, KNOTD_MOD_FLAG_SCOPE_ZONE,
              bftdns_load, bftdns_unload, bftdns_conf, bftdns_conf_check);
