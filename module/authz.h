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
 * Authorization of an ordered UPDATE by the replica that applies it.
 *
 * With replicas > 1 an UPDATE enters the atomic broadcast at one replica,
 * which checked it at intake; the others must not take its word for it.
 * Every replica therefore checks every ordered UPDATE again when it applies
 * it, at the batch's agreed time:
 *
 * - SIG(0)-signed (its last record is SIG): the signature with the public
 *   keys of update-key (sig0.h); a key may update the whole zone, the ACL
 *   is not consulted. Refused with update-auth tsig.
 * - otherwise, with update-auth sig0: refused (REFUSED). A TSIG secret is
 *   held by every replica, so a compromised one could have made the TSIG.
 * - otherwise the TSIG with this knotd's own keys (a fudge over 300 s is
 *   refused first), then the zone's ACL for the client address the origin
 *   reported. The address is hearsay, so with replicas > 1 only signed
 *   UPDATEs pass.
 *
 * The result depends on the message, the address, the configuration and
 * the batch time only: honest replicas configured alike agree on it.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "module/bftdns.h"

/*! Authorises one ordered UPDATE at the batch time: SIG(0) with the
 *  configured public keys, or TSIG with this knotd's keys and then the
 *  zone's update ACL for the reported client address (see above).
 *  Returns the rcode the client gets (KNOT_RCODE_NOERROR: apply it).
 *
 *  The verdicts are NOERROR, NOTAUTH (SIG(0), TSIG or ACL), REFUSED
 *  (unsigned with replicas > 1, a kind of signature update-auth does not
 *  take) and FORMERR; each refusal is logged with its reason.
 *  SERVFAIL is no verdict but a local failure (no memory): other replicas
 *  may have applied the UPDATE. remote: AF_UNSPEC (or NULL) if not known,
 *  which matches no address rule. Call from the apply thread (liburcu). */
uint16_t bftdns_authz_check(bftdns_t *ctx, const uint8_t *wire, size_t wire_len,
                            const struct sockaddr_storage *remote, uint64_t now);
