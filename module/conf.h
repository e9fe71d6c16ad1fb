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
 * The mod-bftdns section of knot.conf: schema, checks and the values a
 * module instance runs with (documented in module/bftdns.rst).
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "knot/module.h"
#include "coordinator/crypto/shoup.h"
#include "module/sig0.h"

/*! A peer replica as configured: its id and address. */
typedef struct {
	unsigned id;
	struct sockaddr_storage addr;
	char pin[128];                    /*!< Pinned key (text), empty if none. */
} bftdns_peer_conf_t;

/*!
 * Test-only misbehaviour (knot.conf `misbehave`, a set): makes this replica
 * one of the f faulty ones, to show that the others cope. Logged loudly.
 */
enum {
	BFTDNS_MISBEHAVE_INVERT_SHARES = 1 << 0,  /*!< Signature shares bit-inverted. */
	BFTDNS_MISBEHAVE_RANDOM_SHARES = 1 << 1,  /*!< Signature shares random. */
	BFTDNS_MISBEHAVE_SILENT_SIGNER = 1 << 2,  /*!< No signature shares at all. */
	BFTDNS_MISBEHAVE_SILENT        = 1 << 3,  /*!< Sends nothing to its peers. */
	BFTDNS_MISBEHAVE_EQUIVOCATE    = 1 << 4,  /*!< Different proposals to different peers. */
	BFTDNS_MISBEHAVE_CORRUPT_DIGEST = 1 << 5, /*!< Reports (and believes) a wrong zone digest. */
	BFTDNS_MISBEHAVE_CORRUPT_SNAPSHOT = 1 << 6, /*!< Serves snapshots with their last byte flipped. */
};

/*! What a replica does when its zone digest is in the minority (digest.h). */
typedef enum {
	BFTDNS_CONSISTENCY_LOG    = 0,  /*!< Log it loudly, show it in status. */
	BFTDNS_CONSISTENCY_STRICT = 1,  /*!< Also answer SERVFAIL for the zone until restarted. */
} bftdns_consistency_t;

/*! Which signatures authorize an UPDATE (update-auth). With sig0, no
 *  replica holds a secret that lets it make an authorized UPDATE. */
typedef enum {
	BFTDNS_UPDATE_AUTH_BOTH = 0,  /*!< TSIG (Knot's keys and ACL) or SIG(0). */
	BFTDNS_UPDATE_AUTH_SIG0 = 1,  /*!< SIG(0) with an update-key only. */
	BFTDNS_UPDATE_AUTH_TSIG = 2,  /*!< TSIG only: SIG(0) refused. */
} bftdns_update_auth_t;

/*! The values of one mod-bftdns section. */
typedef struct {
	unsigned replica_id;              /*!< 1..replicas. */
	unsigned replicas;                /*!< n. */
	unsigned faults;                  /*!< f, n >= 3f + 1. */
	shoup_strategy_t protocol;        /*!< How signature shares are combined. */
	bool designated;                  /*!< Only f + 1 replicas sign each request (tsign.h). */
	char *key_share;                  /*!< Path of this replica's key share file. */
	char *control_socket;             /*!< Path, or NULL if none. */
	unsigned peer_count;
	bftdns_peer_conf_t peers[SHOUP_PLAYERS_MAX];
	uint32_t refresh_interval;        /*!< Seconds between RRSIG refresh proposals. */
	uint32_t batch_limit;             /*!< Most UPDATEs in one ordered batch. */
	uint32_t queue_limit;             /*!< Most UPDATEs waiting to be ordered. */
	char *batch_log;                  /*!< Append every ordered batch here, or NULL. */
	char *replay;                     /*!< Apply the batches of this log instead, or NULL. */
	char *listen;                     /*!< This replica's link address (text), n > 1. */
	struct sockaddr_storage listen_addr;
	char *link_key;                   /*!< Path of link-<id>.key, n > 1. */
	char *coin_key;                   /*!< Path of coin-<id>.key, n > 1. */
	unsigned misbehave;               /*!< BFTDNS_MISBEHAVE_* set; 0 for a correct replica. */
	uint32_t digest_interval;         /*!< Batches between zone digests, 0: no checks. */
	bftdns_consistency_t consistency; /*!< When in the minority (digest.h). */
	bool state_transfer;              /*!< Serve and take state transfers (transfer.h). */
	uint32_t retain_batches;          /*!< Delivered batches kept for lagging peers. */
	bftdns_sig0_keys_t update_keys;   /*!< Public keys whose SIG(0) authorizes UPDATEs. */
	bftdns_update_auth_t update_auth; /*!< TSIG, SIG(0) or both. */
	bool ordered_reads;               /*!< Queries wait for a READ to be ordered (read.h). */
	uint32_t read_timeout_ms;         /*!< Longest such wait, then SERVFAIL. */
} bftdns_conf_t;

extern const yp_item_t bftdns_conf_items[];

/*! The section check run by knotc conf-check and at every load. */
int bftdns_conf_check(knotd_conf_check_args_t *args);

/*! Reads the (checked) section of a module instance. */
int bftdns_conf_load(knotd_mod_t *mod, bftdns_conf_t *conf);

void bftdns_conf_clear(bftdns_conf_t *conf);

/*! The names of a misbehave set, comma-separated (for the log). */
void bftdns_conf_misbehave_text(unsigned misbehave, char *out, size_t out_size);
