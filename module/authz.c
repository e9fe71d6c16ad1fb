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

uint16_t bftdns_authz_check(bftdns_t *ctx, const uint8_t *wire, size_t wire_len,
                            const struct sockaddr_storage *remote, uint64_t now)
{
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
