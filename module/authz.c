/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "module/authz.h"
#include "module/sig0.h"

/*! The longest TSIG fudge accepted: what nsupdate and knsupdate use. The
 *  fudge is the client's choice (up to 65535 s) and is the window in which
 *  a captured or replayed UPDATE still passes; no replay cache exists. */
#define AUTHZ_FUDGE_MAX		300

/*! The reported client address as text, "unknown" if it is none. */
static const char *authz_addr_str(const struct sockaddr_storage *remote,
                                  char *buf, size_t size)
{
	const void *ip = NULL;
	if (remote != NULL && remote->ss_family == AF_INET) {
		ip = &((const struct sockaddr_in *)remote)->sin_addr;
	} else if (remote != NULL && remote->ss_family == AF_INET6) {
		ip = &((const struct sockaddr_in6 *)remote)->sin6_addr;
	}
	if (ip == NULL || inet_ntop(remote->ss_family, ip, buf, size) == NULL) {
		return "unknown";
	}
	return buf;
}

/*! An RCODE or TSIG error by name (16: BADSIG as a TSIG error, else BADVERS). */
static const char *authz_rcode_str(uint16_t rcode, bool tsig)
{
	const knot_lookup_t *item = tsig ? knot_lookup_by_id(knot_tsig_rcode_names, rcode) : NULL;
	if (item == NULL) {
		item = knot_lookup_by_id(knot_rcode_names, rcode);
	}
	return (item != NULL) ? item->name : "?";
}

/*! Logs a refusal by the module's own rules (SIG(0), update-auth, fudge). */
static void authz_log(bftdns_t *ctx, const struct sockaddr_storage *remote, uint64_t now,
                      uint16_t rcode, const char *what, const char *reason)
{
	char addr[INET6_ADDRSTRLEN];
	knotd_mod_log(ctx->mod, LOG_NOTICE, "ordered UPDATE from %s refused at "
	              "batch time %"PRIu64", %s, %s (%s)",
	              authz_addr_str(remote, addr, sizeof(addr)), now,
	              authz_rcode_str(rcode, false), what, reason);
}

/*! A SIG(0)-signed UPDATE: the signature with the configured public keys
 *  at the batch time decides alone (no ACL: a key may update the zone). */
static uint16_t authz_sig0(bftdns_t *ctx, const uint8_t *wire, size_t wire_len,
                           const struct sockaddr_storage *remote, uint64_t now)
{
	if (ctx->conf.update_auth == BFTDNS_UPDATE_AUTH_TSIG) {
		authz_log(ctx, remote, now, KNOT_RCODE_REFUSED, "SIG(0)",
		          "update-auth tsig takes TSIG-signed UPDATEs only");
		return KNOT_RCODE_REFUSED;
	}

	const char *reason = NULL;
	bftdns_sig0_result_t result = bftdns_sig0_verify(&ctx->conf.update_keys, wire,
	                                                 wire_len, now, NULL, &reason);
	uint16_t rcode;
	switch (result) {
	case BFTDNS_SIG0_OK:        return KNOT_RCODE_NOERROR;
	case BFTDNS_SIG0_MALFORMED: rcode = KNOT_RCODE_FORMERR; break;
	case BFTDNS_SIG0_ERROR:     rcode = KNOT_RCODE_SERVFAIL; break;
	default:                    rcode = KNOT_RCODE_NOTAUTH; break;
	}
	char what[32];
	(void)snprintf(what, sizeof(what), "SIG(0) %s", bftdns_sig0_result_str(result));
	authz_log(ctx, remote, now, rcode, what, reason);
	return rcode;
}

/*! The fudge of the message's TSIG, if it ends with one (else false). */
static bool authz_tsig_fudge(const uint8_t *wire, size_t wire_len, uint16_t *fudge)
{
	bftdns_sig0_rr_t rr;
	if (bftdns_sig0_last_record(wire, wire_len, &rr) != KNOT_EOK ||
	    rr.type != KNOT_RRTYPE_TSIG || rr.additional == 0) {
		return false;
	}
	/* RDATA: algorithm name, time signed (48 bits), fudge (16 bits). */
	const uint8_t *rdata = wire + rr.rdata;
	size_t pos = 0;
	while (pos < rr.rdata_len && rdata[pos] != 0 && (rdata[pos] & 0xC0) == 0) {
		pos += 1 + rdata[pos];
	}
	if (pos < rr.rdata_len && (rdata[pos] & 0xC0) == 0xC0) {
		pos += 2;  /* Compressed: Knot's parser decides whether that is valid. */
	} else if (pos < rr.rdata_len && rdata[pos] == 0) {
		pos += 1;
	} else {
		return false;  /* Malformed: Knot's TSIG check refuses it. */
	}
	if (pos > rr.rdata_len || rr.rdata_len - pos < 8) {
		return false;  /* Malformed: Knot's TSIG check refuses it. */
	}
	*fudge = (uint16_t)(rdata[pos + 6] << 8 | rdata[pos + 7]);
	return true;
}

uint16_t bftdns_authz_check(bftdns_t *ctx, const uint8_t *wire, size_t wire_len,
                            const struct sockaddr_storage *remote, uint64_t now)
{
	/* The last record of the message says how it is signed; intake.c
	 * decides the same way, so a replica's verdict matches its intake's. */
	bftdns_sig0_rr_t last;
	if (bftdns_sig0_last_record(wire, wire_len, &last) == KNOT_EOK &&
	    last.type == KNOT_RRTYPE_SIG && last.additional > 0) {
		return authz_sig0(ctx, wire, wire_len, remote, now);
	}

	/* With sig0 only, a TSIG proves nothing: every replica holds the secret,
	 * so one compromised replica could have made it. */
	if (ctx->conf.update_auth == BFTDNS_UPDATE_AUTH_SIG0) {
		authz_log(ctx, remote, now, KNOT_RCODE_REFUSED, "not SIG(0)-signed",
		          "update-auth sig0 takes SIG(0)-signed UPDATEs only");
		return KNOT_RCODE_REFUSED;
	}

	uint16_t fudge = 0;
	if (authz_tsig_fudge(wire, wire_len, &fudge) && fudge > AUTHZ_FUDGE_MAX) {
		char reason[64];
		(void)snprintf(reason, sizeof(reason), "fudge %u s, at most %u s accepted",
		               fudge, AUTHZ_FUDGE_MAX);
		authz_log(ctx, remote, now, KNOT_RCODE_NOTAUTH, "TSIG BADTIME", reason);
		return KNOT_RCODE_NOTAUTH;
	}

	/* Alone, this replica took the UPDATE itself and its address is a fact;
	 * in a group it may come from a peer, whose address claim proves
	 * nothing, so only a key the replica holds can vouch for it. */
	knotd_authorize_flag_t flags = (ctx->conf.replicas > 1) ?
	                               KNOTD_AUTHORIZE_TSIG_REQUIRED : 0;

	uint16_t rcode = KNOT_RCODE_SERVFAIL;
	uint16_t tsig_rcode = KNOT_RCODE_NOERROR;
	int ret = knotd_zone_authorize(ctx->mod, wire, wire_len, remote, now, flags,
	                               &rcode, &tsig_rcode);
	if (ret == KNOT_EOK) {
		return KNOT_RCODE_NOERROR;
	}

	/* Never the key's secret or the message: the reason is enough. */
	char addr[INET6_ADDRSTRLEN];
	knotd_mod_log(ctx->mod, LOG_NOTICE, "ordered UPDATE from %s refused at "
	              "batch time %"PRIu64", %s%s%s (%s)",
	              authz_addr_str(remote, addr, sizeof(addr)), now,
	              authz_rcode_str(rcode, false),
	              (tsig_rcode != KNOT_RCODE_NOERROR) ? ", TSIG " : "",
	              (tsig_rcode != KNOT_RCODE_NOERROR) ?
	              authz_rcode_str(tsig_rcode, true) : "",
	              (ret == KNOT_EDENIED) ? "not TSIG-signed, replicas > 1 "
	              "take only signed UPDATEs" : knot_strerror(ret));

	/* Whatever failed, nothing of the UPDATE may be applied. */
	return (rcode != KNOT_RCODE_NOERROR) ? rcode : KNOT_RCODE_SERVFAIL;
}
