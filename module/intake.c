/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <urcu/uatomic.h>

#include "module/batch.h"
#include "module/bftdns.h"
#include "module/control.h"
#include "module/intake.h"
#include "module/sig0.h"

static const char *proto_name(knotd_query_proto_t proto)
{
	switch (proto) {
	case KNOTD_QUERY_PROTO_TLS:  return "TLS";
	case KNOTD_QUERY_PROTO_QUIC: return "QUIC";
	case KNOTD_QUERY_PROTO_TCP:  return "TCP";
	default:                     return "UDP";
	}
}

static knotd_state_t intake_refuse(bftdns_t *ctx, knotd_qdata_t *qdata)
{
	bftdns_control_count(ctx, qdata->params->thread_id, BFTDNS_CTR_REFUSED, 0, 1);
	return KNOTD_STATE_FAIL;
}

/*! Whether the UPDATE is SIG(0)-signed: no TSIG and a SIG record last
 *  (authz.c decides the same way for the ordered copy). */
static bool intake_is_sig0(const knot_pkt_t *query)
{
	bftdns_sig0_rr_t last;
	return query->tsig_rr == NULL &&
	       bftdns_sig0_last_record(query->wire, query->size, &last) == KNOT_EOK &&
	       last.type == KNOT_RRTYPE_SIG && last.additional > 0;
}

/*! The client's address as text for a log line, "unknown" if not IP. */
static const char *intake_addr_str(knotd_qdata_t *qdata, char *buf, size_t size)
{
	const struct sockaddr_storage *remote = knotd_qdata_remote_addr(qdata);
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

/*!
 * Authorizes a SIG(0)-signed UPDATE in place of knotd_update_authorize(),
 * which knows TSIG only (and would match the zone's ACL as if the message
 * were unsigned): the question, then the signature with the update-key
 * public keys at this replica's clock. Every replica checks the ordered
 * copy again at the batch time (authz.c). On success the query is marked
 * authorized, as knotd_update_authorize() does, for knotd_update_take().
 */
static int intake_sig0_authorize(bftdns_t *ctx, knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (qdata->params->xdp_msg != NULL) {
		qdata->rcode = KNOT_RCODE_SERVFAIL;  /* As Knot: no UPDATE over XDP. */
		return KNOT_ENOTSUP;
	}
	if (knot_pkt_qtype(qdata->query) != KNOT_RRTYPE_SOA) {
		qdata->rcode = KNOT_RCODE_FORMERR;
		return KNOT_EMALF;
	}

	char addr[INET6_ADDRSTRLEN];
	if (ctx->conf.update_auth == BFTDNS_UPDATE_AUTH_TSIG) {
		knotd_mod_log(mod, LOG_NOTICE, "SIG(0)-signed UPDATE from %s refused, "
		              "update-auth tsig", intake_addr_str(qdata, addr, sizeof(addr)));
		qdata->rcode = KNOT_RCODE_REFUSED;
		return KNOT_EDENIED;
	}

	const char *reason = NULL;
	bftdns_sig0_result_t result = bftdns_sig0_verify(&ctx->conf.update_keys,
	                                                 qdata->query->wire, qdata->query->size,
	                                                 (uint64_t)time(NULL), NULL, &reason);
	switch (result) {
	case BFTDNS_SIG0_OK:
		qdata->params->flags |= KNOTD_QUERY_FLAG_AUTHORIZED;
		return KNOT_EOK;
	case BFTDNS_SIG0_MALFORMED: qdata->rcode = KNOT_RCODE_FORMERR; break;
	case BFTDNS_SIG0_ERROR:     qdata->rcode = KNOT_RCODE_SERVFAIL; break;
	default:                    qdata->rcode = KNOT_RCODE_NOTAUTH; break;
	}
	knotd_mod_log(mod, LOG_NOTICE, "SIG(0)-signed UPDATE from %s refused, %s (%s)",
	              intake_addr_str(qdata, addr, sizeof(addr)),
	              bftdns_sig0_result_str(result), reason);
	return KNOT_EACCES;
}

/*! Authorizes an UPDATE at intake; on failure qdata->rcode is set. */
static int intake_authorize(bftdns_t *ctx, knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	if (intake_is_sig0(qdata->query)) {
		return intake_sig0_authorize(ctx, qdata, mod);
	}

	/* Every replica holds the TSIG secrets, so a TSIG is no proof against a
	 * compromised one; with sig0 only, the others would refuse it anyway. */
	if (ctx->conf.update_auth == BFTDNS_UPDATE_AUTH_SIG0) {
		knotd_mod_log(mod, LOG_NOTICE, "UPDATE without SIG(0) refused, "
		              "update-auth sig0 takes only SIG(0)-signed UPDATEs");
		qdata->rcode = KNOT_RCODE_REFUSED;
		return KNOT_EDENIED;
	}

	/* As Knot would: question, ACL (with update-type/owner rules), TSIG. On
	 * failure qdata->rcode holds NOTAUTH, FORMERR, ... for the error reply. */
	int ret = knotd_update_authorize(qdata);
	if (ret != KNOT_EOK) {
		return ret;
	}

	/* The replicas that apply an UPDATE taken here cannot tell the client
	 * address this replica reports from a made-up one; a signature they
	 * check themselves at the batch time (authz.c) is the only evidence. */
	if (ctx->conf.replicas > 1 && qdata->query->tsig_rr == NULL) {
		knotd_mod_log(mod, LOG_NOTICE, "UPDATE without TSIG refused, "
		              "replicas > 1 take only TSIG-signed UPDATEs "
		              "(the zone's ACL must name keys)");
		qdata->rcode = KNOT_RCODE_REFUSED;
		return KNOT_EDENIED;
	}

	return KNOT_EOK;
}

knotd_state_t bftdns_intake_hook(knotd_state_t state, knot_pkt_t *pkt,
                                 knotd_qdata_t *qdata, knotd_mod_t *mod)
{
	/* Reads must not pay for replication: anything but an UPDATE returns at
	 * once, as does an UPDATE another module already answered. */
	if (qdata->type != KNOTD_QUERY_TYPE_UPDATE || state == KNOTD_STATE_NOOP ||
	    state == KNOTD_STATE_DONE || state == KNOTD_STATE_FAIL ||
	    state == KNOTD_STATE_FINAL) {
		return state;
	}

	bftdns_t *ctx = knotd_mod_ctx(mod);

	/* A replaying replica applies the log's batches and nothing else. */
	if (ctx->conf.replay != NULL) {
		qdata->rcode = KNOT_RCODE_REFUSED;
		return intake_refuse(ctx, qdata);
	}

	if (intake_authorize(ctx, qdata, mod) != KNOT_EOK) {
		return intake_refuse(ctx, qdata);
	}

	knotd_update_t *update = NULL;
	int ret = knotd_update_take(qdata, &update);
	if (ret == KNOT_ENOTSUP) {
		knotd_mod_log(mod, LOG_NOTICE, "UPDATE over %s refused, "
		              "replicated zones take UPDATEs over UDP and TCP",
		              proto_name(qdata->params->proto));
		return intake_refuse(ctx, qdata);
	} else if (ret != KNOT_EOK) {
		return intake_refuse(ctx, qdata);
	}

	/* Bound the UPDATEs in flight: beyond it the client hears REFUSED at
	 * once instead of waiting behind a queue that cannot drain in time. */
	if (uatomic_add_return(&ctx->inflight, 1) > ctx->conf.queue_limit ||
	    uatomic_read(&ctx->stopping)) {
		uatomic_dec(&ctx->inflight);
		knotd_update_free(update);
		qdata->rcode = KNOT_RCODE_REFUSED;
		qdata->rcode_ede = KNOT_EDNS_EDE_NOT_READY;
		return intake_refuse(ctx, qdata);
	}

	bftdns_request_t *request = bftdns_request_update(update);
	if (request == NULL) {
		uatomic_dec(&ctx->inflight);
		knotd_update_free(update);
		qdata->rcode = KNOT_RCODE_SERVFAIL;
		return intake_refuse(ctx, qdata);
	}

	bftdns_queue_push(&ctx->intake, &request->node);
	bftdns_control_count(ctx, qdata->params->thread_id, BFTDNS_CTR_TAKEN, 0, 1);

	/* The reply comes from the apply thread once the change is applied. */
	return KNOTD_STATE_NOOP;
}
