/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/keys/dnskey.h"
#include "coordinator/keys/file.h"
#include "coordinator/tools/signzone_zone.h"

/* NSEC3 hash algorithm 1 is SHA-1, the only one defined (RFC 5155). */
#define NSEC3_HASH_SHA1	1
/* The zone's default TTL for records without one ($TTL overrides it). */
#define ZONE_DEFAULT_TTL	3600

static int zone_read(signzone_t *sz, const char *path, keys_err_t *err)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		return keys_err_set(err, KEYS_EIO, "cannot open %s: %s", path, strerror(errno));
	}
	int line = 0;
	ldns_status status = ldns_zone_new_frm_fp_l(&sz->input, fp, sz->origin, ZONE_DEFAULT_TTL,
	                                            LDNS_RR_CLASS_IN, &line);
	fclose(fp);
	if (status != LDNS_STATUS_OK) {
		sz->input = NULL;
		return keys_err_set(err, KEYS_EFORMAT, "%s:%d: %s", path, line,
		                    ldns_get_errorstr_by_id(status));
	}
	return KEYS_EOK;
}

static const char *zone_type_name(ldns_rr_type type, char *buf, size_t size)
{
	char *name = ldns_rr_type2str(type);
	snprintf(buf, size, "%s", name != NULL ? name : "?");
	free(name);
	return buf;
}

/* The input must be one unsigned zone: SOA at the origin, every name in
 * the zone, no signatures or denial records of an earlier signing. */
static int zone_check_input(signzone_t *sz, const char *path, keys_err_t *err)
{
	ldns_rr *soa = ldns_zone_soa(sz->input);
	if (soa == NULL) {
		return keys_err_set(err, KEYS_EFORMAT, "%s: the zone has no SOA record", path);
	}
	if (ldns_dname_compare(ldns_rr_owner(soa), sz->origin) != 0) {
		char *owner = ldns_rdf2str(ldns_rr_owner(soa));
		keys_err_set(err, KEYS_EFORMAT, "%s: the SOA is at %s, not at the key's zone apex",
		             path, owner != NULL ? owner : "?");
		free(owner);
		return KEYS_EFORMAT;
	}
	ldns_rr_list *rrs = ldns_zone_rrs(sz->input);
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		ldns_rr_type type = ldns_rr_get_type(rr);
		char buf[32];
		if (type == LDNS_RR_TYPE_RRSIG || type == LDNS_RR_TYPE_NSEC ||
		    type == LDNS_RR_TYPE_NSEC3 || type == LDNS_RR_TYPE_NSEC3PARAMS) {
			return keys_err_set(err, KEYS_EFORMAT, "%s: the zone is already signed (it has %s "
			                    "records); give the unsigned zone", path,
			                    zone_type_name(type, buf, sizeof(buf)));
		}
		if (type == LDNS_RR_TYPE_SOA) {
			return keys_err_set(err, KEYS_EFORMAT, "%s: more than one SOA record", path);
		}
		if (ldns_dname_compare(ldns_rr_owner(rr), sz->origin) != 0 &&
		    !ldns_dname_is_subdomain(ldns_rr_owner(rr), sz->origin)) {
			char *owner = ldns_rdf2str(ldns_rr_owner(rr));
			keys_err_set(err, KEYS_EFORMAT, "%s: %s is outside the zone", path,
			             owner != NULL ? owner : "?");
			free(owner);
			return KEYS_EFORMAT;
		}
	}
	return KEYS_EOK;
}

static ldns_rr *zone_make_dnskey(const keys_public_t *key, uint32_t ttl)
{
	uint8_t rdata[KEYS_DNSKEY_RDATA_MAX];
	size_t len = 0;
	char line[KEYS_RR_LINE_MAX];
	if (keys_dnskey_rdata(key->key.modulus, key->key.exponent, KEYS_DNSKEY_FLAGS_KSK,
	                      key->alg->number, rdata, sizeof(rdata), &len) != KEYS_EOK ||
	    keys_dnskey_line(key->zone, ttl, rdata, len, line, sizeof(line), NULL) != KEYS_EOK) {
		return NULL;
	}
	ldns_rr *rr = NULL;
	if (ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL) != LDNS_STATUS_OK) {
		return NULL;
	}
	return rr;
}

/* Our DNSKEY goes into the apex DNSKEY RRset, unless the zone has it
 * already; an added one takes the TTL of the RRset it joins. */
static int zone_add_dnskey(signzone_t *sz, const keys_public_t *key, uint32_t ttl,
                           keys_err_t *err)
{
	ldns_rr *ours = zone_make_dnskey(key, ttl);
	if (ours == NULL) {
		return keys_err_set(err, KEYS_EKEY, "cannot make the DNSKEY record of the key");
	}
	ldns_rr_list *rrs = ldns_zone_rrs(sz->input);
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNSKEY ||
		    ldns_dname_compare(ldns_rr_owner(rr), sz->origin) != 0) {
			continue;
		}
		ldns_rr_set_ttl(ours, ldns_rr_ttl(rr));
		if (ldns_rr_compare(rr, ours) == 0) {
			ldns_rr_free(ours);
			sz->dnskey = rr;
			return KEYS_EOK;
		}
	}
	if (ldns_dnssec_zone_add_rr(sz->zone, ours) != LDNS_STATUS_OK) {
		ldns_rr_free(ours);
		return keys_err_set(err, KEYS_ENOMEM, "cannot add the DNSKEY record");
	}
	ldns_rr_list_push_rr(sz->added, ours);
	sz->dnskey = ours;
	return KEYS_EOK;
}

static int zone_add_nsec3(signzone_t *sz, const signzone_params_t *params, keys_err_t *err)
{
	if (ldns_dnssec_zone_add_empty_nonterminals(sz->zone) != LDNS_STATUS_OK) {
		return keys_err_set(err, KEYS_ENOMEM, "cannot add the empty non-terminals");
	}
	ldns_rr *param = ldns_rr_new_frm_type(LDNS_RR_TYPE_NSEC3PARAMS);
	if (param == NULL) {
		return keys_err_set(err, KEYS_ENOMEM, "out of memory");
	}
	ldns_rr_set_owner(param, ldns_rdf_clone(sz->origin));
	ldns_rr_set_ttl(param, 0);   /* RFC 5155 section 4: NSEC3PARAM is not cached */
	ldns_nsec3_add_param_rdfs(param, NSEC3_HASH_SHA1, 0, params->nsec3_iterations,
	                          params->nsec3_salt_len, params->nsec3_salt);
	if (ldns_dnssec_zone_add_rr(sz->zone, param) != LDNS_STATUS_OK) {
		ldns_rr_free(param);
		return keys_err_set(err, KEYS_ENOMEM, "cannot add the NSEC3PARAM record");
	}
	ldns_rr_list_push_rr(sz->added, param);
	if (ldns_dnssec_zone_create_nsec3s(sz->zone, sz->added, NSEC3_HASH_SHA1, 0,
	                                   params->nsec3_iterations, params->nsec3_salt_len,
	                                   (uint8_t *)params->nsec3_salt) != LDNS_STATUS_OK) {
		return keys_err_set(err, KEYS_ENOMEM, "cannot make the NSEC3 chain");
	}
	return KEYS_EOK;
}

static int zone_add_denial(signzone_t *sz, const signzone_params_t *params, keys_err_t *err)
{
	if (ldns_dnssec_zone_mark_glue(sz->zone) != LDNS_STATUS_OK) {
		return keys_err_set(err, KEYS_ENOMEM, "cannot find the glue records");
	}
	if (params->nsec3) {
		return zone_add_nsec3(sz, params, err);
	}
	if (ldns_dnssec_zone_create_nsecs(sz->zone, sz->added) != LDNS_STATUS_OK) {
		return keys_err_set(err, KEYS_ENOMEM, "cannot make the NSEC chain");
	}
	return KEYS_EOK;
}

static int zone_make_key(signzone_t *sz, const keys_public_t *key,
                         const signzone_params_t *params, keys_err_t *err)
{
	sz->key = ldns_key_new();
	if (sz->key == NULL) {
		return keys_err_set(err, KEYS_ENOMEM, "out of memory");
	}
	/* ldns_signing_algorithm uses the DNSSEC numbers for the RSA ones. */
	ldns_key_set_algorithm(sz->key, (ldns_signing_algorithm)key->alg->number);
	ldns_key_set_flags(sz->key, KEYS_DNSKEY_FLAGS_KSK);
	ldns_key_set_keytag(sz->key, key->key_tag);
	ldns_key_set_inception(sz->key, params->inception);
	ldns_key_set_expiration(sz->key, params->expiration);
	ldns_key_set_pubkey_owner(sz->key, ldns_rdf_clone(sz->origin));
	return KEYS_EOK;
}

static int zone_build(signzone_t *sz, const char *path, const keys_public_t *key,
                      const signzone_params_t *params, keys_err_t *err)
{
	int ret = zone_check_input(sz, path, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	sz->zone = ldns_dnssec_zone_new();
	sz->added = ldns_rr_list_new();
	if (sz->zone == NULL || sz->added == NULL) {
		return keys_err_set(err, KEYS_ENOMEM, "out of memory");
	}
	if (ldns_dnssec_zone_add_rr(sz->zone, ldns_zone_soa(sz->input)) != LDNS_STATUS_OK) {
		return keys_err_set(err, KEYS_ENOMEM, "cannot add the SOA record");
	}
	ldns_rr_list *rrs = ldns_zone_rrs(sz->input);
	for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		if (ldns_dnssec_zone_add_rr(sz->zone, ldns_rr_list_rr(rrs, i)) != LDNS_STATUS_OK) {
			return keys_err_set(err, KEYS_EFORMAT, "%s: cannot add record %zu to the zone",
			                    path, i + 1);
		}
	}
	ret = zone_add_dnskey(sz, key, params->dnskey_ttl, err);
	if (ret == KEYS_EOK) {
		ret = zone_add_denial(sz, params, err);
	}
	if (ret == KEYS_EOK) {
		ret = zone_make_key(sz, key, params, err);
	}
	return ret;
}

int signzone_load(signzone_t *sz, const char *path, const keys_public_t *key,
                  const signzone_params_t *params, keys_err_t *err)
{
	memset(sz, 0, sizeof(*sz));
	sz->check_time = params->inception;
	if (ldns_str2rdf_dname(&sz->origin, key->zone) != LDNS_STATUS_OK) {
		return keys_err_set(err, KEYS_EINVAL, "bad zone name %s", key->zone);
	}
	int ret = zone_read(sz, path, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	return zone_build(sz, path, key, params, err);
}

/* The canonical form of an RRset for signing (RFC 4034 section 6.3): a
 * copy with every RR in canonical form, the original TTL, sorted. */
static ldns_rr_list *zone_canonical_rrset(ldns_dnssec_rrs *rrs)
{
	ldns_rr_list *list = ldns_rr_list_new();
	if (list == NULL) {
		return NULL;
	}
	uint32_t ttl = ldns_rr_ttl(rrs->rr);
	for (ldns_dnssec_rrs *cur = rrs; cur != NULL; cur = cur->next) {
		/* One TTL per RRset (RFC 2181 5.2): the signed one is printed. */
		ldns_rr_set_ttl(cur->rr, ttl);
		ldns_rr *copy = ldns_rr_clone(cur->rr);
		if (copy == NULL) {
			ldns_rr_list_deep_free(list);
			return NULL;
		}
		ldns_rr2canonical(copy);
		ldns_rr_list_push_rr(list, copy);
	}
	ldns_rr_list_sort(list);
	return list;
}

static char *zone_rrset_name(ldns_rr_list *rrset)
{
	char *owner = ldns_rdf2str(ldns_rr_list_owner(rrset));
	char *type = ldns_rr_type2str(ldns_rr_list_type(rrset));
	char *out = NULL;
	if (owner != NULL && type != NULL && asprintf(&out, "%s %s", owner, type) < 0) {
		out = NULL;
	}
	free(owner);
	free(type);
	return out;
}

static void zone_attach(ldns_dnssec_rrs **signatures, ldns_rr *rrsig)
{
	if (*signatures == NULL) {
		*signatures = ldns_dnssec_rrs_new();
		(*signatures)->rr = rrsig;
	} else {
		ldns_dnssec_rrs_add_rr(*signatures, rrsig);
	}
}

/* The threshold signature over the signing data, checked by libldns. */
static int zone_sign_data(signzone_t *sz, replicas_t *replicas, ldns_rr_list *rrset,
                          ldns_rr *rrsig, keys_err_t *err)
{
	ldns_buffer *data = ldns_buffer_new(LDNS_MAX_PACKETLEN);
	if (data == NULL || ldns_rrsig2buffer_wire(data, rrsig) != LDNS_STATUS_OK ||
	    ldns_rr_list2buffer_wire(data, rrset) != LDNS_STATUS_OK) {
		ldns_buffer_free(data);
		return keys_err_set(err, KEYS_ENOMEM, "cannot make the signing data");
	}
	uint8_t sig[SHOUP_BITS_MAX / 8];
	size_t sig_len = (replicas_key(replicas)->key.bits + 7) / 8;
	int ret = replicas_sign(replicas, ldns_buffer_begin(data), ldns_buffer_position(data), sig,
	                        sizeof(sig), err);
	ldns_buffer_free(data);
	if (ret != KEYS_EOK) {
		return ret;
	}
	ldns_rr_rrsig_set_sig(rrsig, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_B64, sig_len, sig));
	/* Checked at the inception time, when the signature is valid. */
	ldns_status status = ldns_verify_rrsig_time(rrset, rrsig, sz->dnskey,
	                                            (time_t)sz->check_time);
	if (status != LDNS_STATUS_OK) {
		return keys_err_set(err, KEYS_ECRYPTO, "libldns rejects the signature: %s",
		                    ldns_get_errorstr_by_id(status));
	}
	return KEYS_EOK;
}

static int zone_sign_rrset(signzone_t *sz, replicas_t *replicas, ldns_dnssec_rrs *rrs,
                           ldns_dnssec_rrs **signatures, keys_err_t *err)
{
	ldns_rr_list *rrset = zone_canonical_rrset(rrs);
	ldns_rr *rrsig = rrset != NULL ? ldns_create_empty_rrsig(rrset, sz->key) : NULL;
	if (rrsig == NULL) {
		ldns_rr_list_deep_free(rrset);
		return keys_err_set(err, KEYS_ENOMEM, "out of memory");
	}
	keys_err_t why;
	int ret = zone_sign_data(sz, replicas, rrset, rrsig, &why);
	if (ret != KEYS_EOK) {
		char *name = zone_rrset_name(rrset);
		keys_err_set(err, ret, "signing %s: %s", name != NULL ? name : "an RRset", why.text);
		free(name);
		ldns_rr_free(rrsig);
	} else {
		zone_attach(signatures, rrsig);
		ldns_rr_list_push_rr(sz->added, rrsig);
		sz->rrsets_signed++;
	}
	ldns_rr_list_deep_free(rrset);
	return ret;
}

/* Every authoritative RRset: at a delegation only DS (and the NSEC); names
 * below a delegation (glue) not at all. */
static int zone_sign_name(signzone_t *sz, replicas_t *replicas, ldns_dnssec_name *name,
                          keys_err_t *err)
{
	bool delegation = ldns_dnssec_name_find_rrset(name, LDNS_RR_TYPE_NS) != NULL &&
	                  ldns_dnssec_name_find_rrset(name, LDNS_RR_TYPE_SOA) == NULL;
	for (ldns_dnssec_rrsets *rrset = name->rrsets; rrset != NULL; rrset = rrset->next) {
		if (delegation && rrset->type != LDNS_RR_TYPE_DS) {
			continue;
		}
		int ret = zone_sign_rrset(sz, replicas, rrset->rrs, &rrset->signatures, err);
		if (ret != KEYS_EOK) {
			return ret;
		}
	}
	if (name->nsec != NULL) {
		ldns_dnssec_rrs nsec = { .rr = name->nsec, .next = NULL };
		return zone_sign_rrset(sz, replicas, &nsec, &name->nsec_signatures, err);
	}
	return KEYS_EOK;
}

int signzone_sign(signzone_t *sz, replicas_t *replicas, keys_err_t *err)
{
	for (ldns_rbnode_t *node = ldns_rbtree_first(sz->zone->names); node != LDNS_RBTREE_NULL;
	     node = ldns_rbtree_next(node)) {
		ldns_dnssec_name *name = (ldns_dnssec_name *)node->data;
		if (ldns_dnssec_name_is_glue(name)) {
			continue;
		}
		int ret = zone_sign_name(sz, replicas, name, err);
		if (ret != KEYS_EOK) {
			return ret;
		}
	}
	return KEYS_EOK;
}

int signzone_write(const signzone_t *sz, const char *path, keys_err_t *err)
{
	if (strcmp(path, "-") == 0) {
		ldns_dnssec_zone_print_fmt(stdout, ldns_output_format_default, sz->zone);
		return fflush(stdout) == 0 ? KEYS_EOK
		                           : keys_err_set(err, KEYS_EIO, "cannot write the zone");
	}
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (mem == NULL) {
		return keys_err_set(err, KEYS_ENOMEM, "out of memory");
	}
	ldns_dnssec_zone_print_fmt(mem, ldns_output_format_default, sz->zone);
	if (fclose(mem) != 0) {
		free(text);
		return keys_err_set(err, KEYS_ENOMEM, "out of memory");
	}
	int ret = keys_file_write(path, text, len, 0644, true, err);
	free(text);
	return ret;
}

void signzone_free(signzone_t *sz)
{
	if (sz->key != NULL) {
		ldns_key_deep_free(sz->key);
	}
	if (sz->zone != NULL) {
		ldns_dnssec_zone_free(sz->zone);
	}
	if (sz->added != NULL) {
		ldns_rr_list_deep_free(sz->added);
	}
	if (sz->input != NULL) {
		ldns_zone_deep_free(sz->input);
	}
	if (sz->origin != NULL) {
		ldns_rdf_deep_free(sz->origin);
	}
	memset(sz, 0, sizeof(*sz));
}
