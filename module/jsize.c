/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <string.h>

#include "libknot/libknot.h"
#include "module/jsize.h"
#include "module/signer.h"

/*! Knot's changeset record: owner, type, class, count; per RR TTL, length. */
#define JSIZE_RRSET_HDR		6
#define JSIZE_RR_HDR		6
/*! RRSIG RDATA before the signer name: type covered .. key tag. */
#define JSIZE_RRSIG_FIXED	18
/*! An NSEC type bitmap of a few types (window 0). */
#define JSIZE_NSEC_BITMAP	10
/*! A signature size when the signer does not say (RSA-4096). */
#define JSIZE_SIG_DEFAULT	512

typedef struct {
	size_t apex_len;
	size_t sig_len;
	uint8_t owner[KNOT_DNAME_MAXLEN];  /*!< The name being counted. */
	size_t owner_len;
	unsigned sets;                     /*!< Its RRsets that get an RRSIG. */
	unsigned signed_sets;              /*!< Types its RRSIGs cover. */
	bool nsec;                         /*!< It has an NSEC (or is an NSEC3 name). */
	uint64_t zone;
	uint64_t change;
} jsize_walk_t;

/*! What signing the name just walked would add. */
static void jsize_name_done(jsize_walk_t *w)
{
	if (w->owner_len == 0) {
		return;
	}
	uint64_t rrsig = w->owner_len + JSIZE_RRSET_HDR + JSIZE_RR_HDR +
	                 JSIZE_RRSIG_FIXED + w->apex_len + w->sig_len;
	if (w->sets > w->signed_sets) {
		w->change += (uint64_t)(w->sets - w->signed_sets) * rrsig;
	}
	if (!w->nsec) {
		/* The NSEC (next name about as long) and its RRSIG. */
		w->change += w->owner_len * 2 + JSIZE_RRSET_HDR + JSIZE_RR_HDR +
		             JSIZE_NSEC_BITMAP + rrsig;
	}
	w->owner_len = 0;
}

static int jsize_rrset(void *arg, const knot_rrset_t *rrset)
{
	jsize_walk_t *w = arg;
	size_t owner_len = knot_dname_size(rrset->owner);

	/* The zone as Knot serialises it (rrset_serialized_size()). */
	w->zone += owner_len + JSIZE_RRSET_HDR;
	knot_rdata_t *rr = rrset->rrs.rdata;
	for (uint16_t i = 0; i < rrset->rrs.count; i++) {
		w->zone += JSIZE_RR_HDR + rr->len;
		rr = knot_rdataset_next(rr);
	}

	if (w->owner_len != owner_len || memcmp(w->owner, rrset->owner, owner_len) != 0) {
		jsize_name_done(w);
		memcpy(w->owner, rrset->owner, owner_len);
		w->owner_len = owner_len;
		w->sets = 0;
		w->signed_sets = 0;
		w->nsec = false;
	}
	switch (rrset->type) {
	case KNOT_RRTYPE_RRSIG:
		/* One RRSIG per covered type and key: counting RRs may count a
		 * type twice (two keys), which only lowers the estimate where
		 * the zone is signed already. */
		w->signed_sets += rrset->rrs.count;
		break;
	case KNOT_RRTYPE_NSEC:
	case KNOT_RRTYPE_NSEC3:
		w->nsec = true;
		w->sets++;
		break;
	default:
		w->sets++;
		break;
	}
	return KNOT_EOK;
}

int bftdns_jsize_check(bftdns_t *ctx, bftdns_jsize_t *out)
{
	const knot_dname_t *apex = knotd_mod_zone(ctx->mod);
	jsize_walk_t w = {
		.apex_len = knot_dname_size(apex),
		.sig_len = ctx->signer != NULL ? bftdns_signer_sig_size(ctx->signer) : 0,
	};
	if (w.sig_len == 0) {
		w.sig_len = JSIZE_SIG_DEFAULT;
	}
	uint8_t digest[KNOTD_ZONE_DIGEST_SIZE];
	int ret = knotd_zone_snapshot(ctx->mod, jsize_rrset, &w, digest, sizeof(digest), NULL);
	if (ret != KNOT_EOK) {
		return ret;
	}
	jsize_name_done(&w);

	knotd_conf_t limit = knotd_conf_zone(ctx->mod, (const yp_name_t *)"\x11""journal-max-usage",
	                                     apex);
	out->zone = w.zone;
	out->change = w.change;
	out->limit = limit.single.integer;
	/* Twice the signed zone: the journal then holds the zone and a pass
	 * re-signing all of it (doc/configuration.md). */
	uint64_t mib = 1024 * 1024;
	out->suggested = ((w.zone + w.change) * 2 + mib - 1) / mib;
	return (w.zone + w.change >= out->limit) ? KNOT_ESPACE : KNOT_EOK;
}
