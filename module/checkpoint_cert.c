/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "libknot/errcode.h"
#include "module/checkpoint_cert.h"
#include "coordinator/util/crc32c.h"

#define CERT_MAGIC	"BFTDNSCK"
#define CERT_MAGIC_LEN	8
#define CERT_VERSION	1

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool claim_equal(const bftdns_digest_claim_t *a, const bftdns_digest_claim_t *b)
{
	return a->batch == b->batch && a->time_ms == b->time_ms &&
	       memcmp(a->digest, b->digest, BFTDNS_DIGEST_SIZE) == 0;
}

static int cert_fail(char *why, size_t why_len, const char *fmt, unsigned a, unsigned b)
{
	if (why != NULL && why_len > 0) {
		snprintf(why, why_len, fmt, a, b);
	}
	return KNOT_EMALF;
}

int bftdns_checkpoint_verify(const bftdns_checkpoint_t *cp, const uint8_t *zone,
                             size_t zone_len, const bft_pin_t *pins, unsigned n,
                             unsigned need, char *why, size_t why_len)
{
	if (cp == NULL || zone == NULL || pins == NULL || n == 0 ||
	    n > BFTDNS_CHECKPOINT_REPORTS_MAX || need == 0 || need > n) {
		return KNOT_EINVAL;
	}
	if (cp->claim.batch == 0) {
		return cert_fail(why, why_len, "it names no batch", 0, 0);
	}
	if (cp->count < need || cp->count > n) {
		return cert_fail(why, why_len, "%u reports, %u needed", cp->count, need);
	}
	bool seen[BFTDNS_CHECKPOINT_REPORTS_MAX] = { false };
	for (unsigned i = 0; i < cp->count; i++) {
		unsigned origin = cp->origin[i];
		if (origin >= n || seen[origin]) {
			return cert_fail(why, why_len, "report %u: replica %u is not a replica, "
			                 "or reports twice", i + 1, origin + 1);
		}
		seen[origin] = true;
		bftdns_digest_claim_t claim;
		if (!bftdns_digest_report_read(cp->report[i], BFTDNS_DIGEST_REPORT_SIZE, zone,
		                               zone_len, &pins[origin], &claim)) {
			return cert_fail(why, why_len, "report %u: not signed by replica %u's "
			                 "pinned link key for this zone", i + 1, origin + 1);
		}
		if (!claim_equal(&claim, &cp->claim)) {
			return cert_fail(why, why_len, "report %u (replica %u) claims another "
			                 "batch, time or digest", i + 1, origin + 1);
		}
	}
	return KNOT_EOK;
}

size_t bftdns_checkpoint_encode(const bftdns_checkpoint_t *cp, uint8_t *out, size_t size)
{
	if (cp == NULL || out == NULL || cp->count > BFTDNS_CHECKPOINT_REPORTS_MAX ||
	    size < BFTDNS_CHECKPOINT_SIZE(cp->count)) {
		return 0;
	}
	uint8_t *p = out;
	memcpy(p, CERT_MAGIC, CERT_MAGIC_LEN);
	p += CERT_MAGIC_LEN;
	*p++ = CERT_VERSION;
	put_u64(p, cp->claim.batch);
	put_u64(p + 8, cp->claim.time_ms);
	memcpy(p + 16, cp->claim.digest, BFTDNS_DIGEST_SIZE);
	p += BFTDNS_DIGEST_CLAIM_SIZE;
	*p++ = (uint8_t)cp->count;
	for (unsigned i = 0; i < cp->count; i++) {
		*p++ = cp->origin[i];
		memcpy(p, cp->report[i], BFTDNS_DIGEST_REPORT_SIZE);
		p += BFTDNS_DIGEST_REPORT_SIZE;
	}
	put_u32(p, bftdns_crc32c(0, out, (size_t)(p - out)));
	p += 4;
	return (size_t)(p - out);
}

int bftdns_checkpoint_decode(const uint8_t *in, size_t len, bftdns_checkpoint_t *out)
{
	const size_t head = CERT_MAGIC_LEN + 1 + BFTDNS_DIGEST_CLAIM_SIZE + 1;
	if (in == NULL || out == NULL || len < head + 4 ||
	    memcmp(in, CERT_MAGIC, CERT_MAGIC_LEN) != 0 || in[CERT_MAGIC_LEN] != CERT_VERSION) {
		return KNOT_EMALF;
	}
	unsigned count = in[head - 1];
	if (count > BFTDNS_CHECKPOINT_REPORTS_MAX || len != BFTDNS_CHECKPOINT_SIZE(count) ||
	    get_u32(in + len - 4) != bftdns_crc32c(0, in, len - 4)) {
		return KNOT_EMALF;
	}
	const uint8_t *p = in + CERT_MAGIC_LEN + 1;
	out->claim.batch = get_u64(p);
	out->claim.time_ms = get_u64(p + 8);
	memcpy(out->claim.digest, p + 16, BFTDNS_DIGEST_SIZE);
	p = in + head;
	out->count = count;
	for (unsigned i = 0; i < count; i++) {
		out->origin[i] = *p++;
		memcpy(out->report[i], p, BFTDNS_DIGEST_REPORT_SIZE);
		p += BFTDNS_DIGEST_REPORT_SIZE;
	}
	return KNOT_EOK;
}
