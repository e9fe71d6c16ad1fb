/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <urcu/uatomic.h>

#include "module/batch.h"
#include "module/bftdns.h"
#include "module/control.h"
#include "module/intake.h"

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

	/* As Knot would: question, ACL (with update-type/owner rules), TSIG. On
	 * failure qdata->rcode holds NOTAUTH, FORMERR, ... for the error reply. */
	int ret = knotd_update_authorize(qdata);
	if (ret != KNOT_EOK) {
		return intake_refuse(ctx, qdata);
	}

	/* The replicas that apply an UPDATE taken here cannot tell the client
	 * address this replica reports from a made-up one; a TSIG they check
	 * themselves at the batch time (authz.c) is the only evidence. */
	if (ctx->conf.replicas > 1 && qdata->query->tsig_rr == NULL) {
		knotd_mod_log(mod, LOG_NOTICE, "UPDATE without TSIG refused, "
		              "replicas > 1 take only TSIG-signed UPDATEs "
		              "(the zone's ACL must name keys)");
		qdata->rcode = KNOT_RCODE_REFUSED;
		return intake_refuse(ctx, qdata);
	}

	knotd_update_t *update = NULL;
	ret = knotd_update_take(qdata, &update);
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
