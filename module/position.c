/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <inttypes.h>
#include <urcu/uatomic.h>

#include "coordinator/proto/batch.h"
#include "coordinator/proto/error.h"
#include "module/position.h"

#define POSITION_VERSION	1

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

int bftdns_position_of_batch(const bftdns_batch_t *batch, bftdns_position_t *out)
{
	batch_reader_t br;
	if (batch->raw == NULL || batch_reader_open(&br, batch->raw, batch->raw_len) != BFT_EOK ||
	    br.epoch + 1 != batch->seq) {
		return KNOT_EINVAL;
	}
	*out = (bftdns_position_t) { .seq = batch->seq, .time_ms = br.time_ms };
	return KNOT_EOK;
}

void bftdns_position_encode(const bftdns_position_t *pos, uint8_t out[BFTDNS_POSITION_LEN])
{
	out[0] = POSITION_VERSION;
	put_u64(out + 1, pos->seq);
	put_u64(out + 9, pos->time_ms);
}

int bftdns_position_decode(const uint8_t *in, size_t len, bftdns_position_t *out)
{
	if (len != BFTDNS_POSITION_LEN || in[0] != POSITION_VERSION) {
		return KNOT_EMALF;
	}
	bftdns_position_t pos = { .seq = get_u64(in + 1), .time_ms = get_u64(in + 9) };
	if (pos.seq == 0) {
		return KNOT_EMALF;  /* Batch numbers start at 1: never stored. */
	}
	*out = pos;
	return KNOT_EOK;
}

int bftdns_position_load(bftdns_t *ctx, bftdns_position_t *out)
{
	uint8_t buf[KNOTD_POSITION_MAX];
	size_t len = 0;
	uint32_t serial = 0;
	int ret = knotd_zone_position(ctx->mod, buf, sizeof(buf), &len, &serial);
	if (ret == KNOT_ENOENT) {
		*out = (bftdns_position_t) { 0 };
		return KNOT_EOK;
	}
	if (ret != KNOT_EOK && ret != KNOT_ESEMCHECK) {
		return ret;
	}
	/* Either stops this replica for good (the caller asks again, and
	 * only the first time is logged): going on would apply the batches
	 * after the position to another zone than the one they follow, some
	 * twice or some never. */
	bftdns_position_t pos;
	if (bftdns_position_decode(buf, len, &pos) != KNOT_EOK) {
		if (uatomic_cmpxchg(&ctx->diverged, 0, 1) == 0) {
			knotd_mod_log(ctx->mod, LOG_ERR, "the position stored with the zone's "
			              "journal is not one this module wrote; replica stops "
			              "applying");
		}
		return KNOT_EMALF;
	}
	if (ret == KNOT_ESEMCHECK) {
		if (uatomic_cmpxchg(&ctx->diverged, 0, 1) == 0) {
			knotd_mod_log(ctx->mod, LOG_ERR, "the zone's SOA serial is not %u, the "
			              "serial stored with batch %"PRIu64" (the zone changed "
			              "outside the ordered batches, or its journal was lost); "
			              "replica stops applying", serial, pos.seq);
		}
		return ret;
	}
	*out = pos;
	return KNOT_EOK;
}
