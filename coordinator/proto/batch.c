/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/batch.h"
#include "coordinator/proto/error.h"

int batch_proposal_open(batch_proposal_t *prop, const uint8_t *buf, size_t len, unsigned n)
{
	memset(prop, 0, sizeof(*prop));
	if (len > BATCH_PROPOSAL_MAX) {
		return BFT_EMALF;
	}
	bft_wire_r_t r;
	bft_wire_r_init(&r, buf, len);
	uint64_t time_ms = bft_wire_get_u64(&r);
	uint32_t count = bft_wire_get_u32(&r);
	if (count > BATCH_PROPOSAL_REQUESTS_MAX) {
		bft_wire_r_fail(&r);
	}
	size_t body = r.pos;
	/* Walk the whole proposal once, so that reading it later cannot fail. */
	for (uint32_t i = 0; i < count && !r.error; i++) {
		const uint8_t *req;
		size_t req_len;
		uint8_t origin = bft_wire_get_u8(&r);
		bft_wire_get_bytes(&r, BATCH_REQUEST_MAX, &req, &req_len);
		if (!r.error && (req_len == 0 || origin >= n)) {
			bft_wire_r_fail(&r);
		}
	}
	if (!bft_wire_r_done(&r)) {
		return BFT_EMALF;
	}
	prop->time_ms = time_ms;
	prop->count = count;
	bft_wire_r_init(&prop->r, buf, len);
	prop->r.pos = body;
	return BFT_EOK;
}

bool batch_proposal_next(batch_proposal_t *prop, bft_node_t *origin, const uint8_t **req,
                         size_t *len)
{
	if (prop->read == prop->count) {
		assert(bft_wire_r_done(&prop->r));
		return false;
	}
	*origin = bft_wire_get_u8(&prop->r);
	bft_wire_get_bytes(&prop->r, BATCH_REQUEST_MAX, req, len);
	assert(!prop->r.error && *len > 0);
	prop->read++;
	return true;
}

void batch_proposal_begin(batch_writer_t *bw, uint8_t *buf, size_t cap, uint64_t time_ms)
{
	assert(cap >= BATCH_PROPOSAL_HDR);
	bft_wire_w_init(&bw->w, buf, cap > BATCH_PROPOSAL_MAX ? BATCH_PROPOSAL_MAX : cap);
	bw->count = 0;
	bft_wire_put_u64(&bw->w, time_ms);
	bft_wire_put_u32(&bw->w, 0);  /* The count, filled in at the end. */
}

bool batch_proposal_add(batch_writer_t *bw, bft_node_t origin, const uint8_t *req, size_t len)
{
	assert(len >= 1 && len <= BATCH_REQUEST_MAX);
	if (bw->count >= BATCH_PROPOSAL_REQUESTS_MAX ||
	    bw->w.cap - bw->w.len < BATCH_REQUEST_HDR + len) {
		return false;
	}
	bft_wire_put_u8(&bw->w, (uint8_t)origin);
	bft_wire_put_bytes(&bw->w, req, len);
	assert(bft_wire_w_ok(&bw->w));
	bw->count++;
	return true;
}

size_t batch_proposal_end(batch_writer_t *bw)
{
	assert(bft_wire_w_ok(&bw->w));
	uint8_t *at = bw->w.buf + 8;
	at[0] = (uint8_t)(bw->count >> 24);
	at[1] = (uint8_t)(bw->count >> 16);
	at[2] = (uint8_t)(bw->count >> 8);
	at[3] = (uint8_t)bw->count;
	return bw->w.len;
}

static int batch_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t batch_agreed_time(uint64_t prev, uint64_t *times, size_t count)
{
	assert(count >= 1);
	qsort(times, count, sizeof(times[0]), batch_cmp_u64);
	uint64_t median = times[(count - 1) / 2];
	return median > prev ? median : prev;
}

int batch_reader_open(batch_reader_t *br, const uint8_t *buf, size_t len)
{
	memset(br, 0, sizeof(*br));
	bft_wire_r_init(&br->r, buf, len);
	br->epoch = bft_wire_get_u64(&br->r);
	br->time_ms = bft_wire_get_u64(&br->r);
	br->count = bft_wire_get_u32(&br->r);
	size_t body = br->r.pos;
	for (uint32_t i = 0; i < br->count && !br->r.error; i++) {
		const uint8_t *req;
		size_t req_len;
		bft_wire_get_u8(&br->r);
		bft_wire_get_u8(&br->r);
		bft_wire_get_bytes(&br->r, BATCH_REQUEST_MAX, &req, &req_len);
	}
	if (!bft_wire_r_done(&br->r)) {
		return BFT_EMALF;
	}
	br->r.pos = body;
	return BFT_EOK;
}

bool batch_reader_next(batch_reader_t *br, bft_node_t *proposer, bft_node_t *origin,
                       const uint8_t **req, size_t *len)
{
	if (br->read == br->count) {
		return false;
	}
	*proposer = bft_wire_get_u8(&br->r);
	*origin = bft_wire_get_u8(&br->r);
	bft_wire_get_bytes(&br->r, BATCH_REQUEST_MAX, req, len);
	assert(!br->r.error);
	br->read++;
	return true;
}
