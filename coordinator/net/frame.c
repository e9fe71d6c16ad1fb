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

#include "coordinator/net/frame.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/wire.h"

/* Reads from the TLS session in chunks of this much when frames are small. */
#define FRAME_READ_CHUNK	(16u << 10)

const char *bft_frame_status_name(bft_frame_status_t status)
{
	switch (status) {
	case BFT_FRAME_OK:          return "ok";
	case BFT_FRAME_INCOMPLETE:  return "incomplete frame";
	case BFT_FRAME_BAD_VERSION: return "unsupported frame version";
	case BFT_FRAME_BAD_KIND:    return "unknown frame kind";
	case BFT_FRAME_TOO_BIG:     return "frame larger than the limit";
	case BFT_FRAME_BAD_LENGTH:  return "frame length wrong for its kind";
	}
	return "unknown frame status";
}

/* Checks a payload length against what its kind allows. */
static bool frame_length_ok(uint8_t kind, uint32_t len)
{
	switch (kind) {
	case BFT_FRAME_HELLO: return len == BFT_FRAME_HELLO_LEN;
	case BFT_FRAME_DATA:  return len > 0;
	case BFT_FRAME_PING:
	case BFT_FRAME_PONG:  return len == 0;
	}
	return false;
}

bft_frame_status_t bft_frame_decode(const uint8_t *buf, size_t len, uint32_t max_payload,
                                    bft_frame_t *frame, size_t *used)
{
	*used = BFT_FRAME_HEADER;
	/* Judge the version and kind as soon as they arrive: a peer speaking
	 * another language is cut off without waiting for more. */
	if (len >= 1 && buf[0] != BFT_FRAME_VERSION) {
		return BFT_FRAME_BAD_VERSION;
	}
	if (len >= 2 && (buf[1] < BFT_FRAME_HELLO || buf[1] > BFT_FRAME_PONG)) {
		return BFT_FRAME_BAD_KIND;
	}
	if (len < BFT_FRAME_HEADER) {
		return BFT_FRAME_INCOMPLETE;
	}
	uint32_t payload = (uint32_t)buf[2] << 24 | (uint32_t)buf[3] << 16 |
	                   (uint32_t)buf[4] << 8 | buf[5];
	if (payload > max_payload) {
		return BFT_FRAME_TOO_BIG;
	}
	if (!frame_length_ok(buf[1], payload)) {
		return BFT_FRAME_BAD_LENGTH;
	}
	*used = BFT_FRAME_HEADER + (size_t)payload;
	if (len < *used) {
		return BFT_FRAME_INCOMPLETE;
	}
	frame->kind = (bft_frame_kind_t)buf[1];
	frame->payload = buf + BFT_FRAME_HEADER;
	frame->len = payload;
	return BFT_FRAME_OK;
}

void bft_frame_header(uint8_t out[BFT_FRAME_HEADER], bft_frame_kind_t kind, uint32_t len)
{
	assert(frame_length_ok((uint8_t)kind, len));
	out[0] = BFT_FRAME_VERSION;
	out[1] = (uint8_t)kind;
	out[2] = (uint8_t)(len >> 24);
	out[3] = (uint8_t)(len >> 16);
	out[4] = (uint8_t)(len >> 8);
	out[5] = (uint8_t)len;
}

void bft_hello_encode(const bft_hello_t *hello, uint8_t out[BFT_FRAME_HELLO_LEN])
{
	bft_wire_w_t w;
	bft_wire_w_init(&w, out, BFT_FRAME_HELLO_LEN);
	bft_wire_put_u16(&w, hello->from);
	bft_wire_put_u16(&w, hello->to);
	bft_wire_put_u16(&w, hello->n);
	bft_wire_put_raw(&w, hello->cluster_id, BFT_CLUSTER_ID_LEN);
	assert(bft_wire_w_ok(&w) && w.len == BFT_FRAME_HELLO_LEN);
}

bool bft_hello_decode(const uint8_t *payload, size_t len, bft_hello_t *hello)
{
	bft_wire_r_t r;
	const uint8_t *id = NULL;
	bft_wire_r_init(&r, payload, len);
	hello->from = bft_wire_get_u16(&r);
	hello->to = bft_wire_get_u16(&r);
	hello->n = bft_wire_get_u16(&r);
	bft_wire_get_raw(&r, BFT_CLUSTER_ID_LEN, &id);
	if (!bft_wire_r_done(&r)) {
		return false;
	}
	memcpy(hello->cluster_id, id, BFT_CLUSTER_ID_LEN);
	return true;
}

int bft_frame_reader_init(bft_frame_reader_t *reader, uint32_t max_payload)
{
	if (reader == NULL || max_payload < BFT_FRAME_HELLO_LEN) {
		return BFT_EINVAL;
	}
	memset(reader, 0, sizeof(*reader));
	reader->max_payload = max_payload;
	return BFT_EOK;
}

void bft_frame_reader_deinit(bft_frame_reader_t *reader)
{
	if (reader != NULL) {
		free(reader->buf);
		memset(reader, 0, sizeof(*reader));
	}
}

void bft_frame_reader_reset(bft_frame_reader_t *reader)
{
	reader->len = 0;
	reader->start = 0;
}

/* Total bytes the next frame needs, from what is held (header size if unknown). */
static size_t reader_need(const bft_frame_reader_t *reader)
{
	if (reader->buf == NULL) {
		return BFT_FRAME_HEADER;
	}
	bft_frame_t frame;
	size_t used = BFT_FRAME_HEADER;
	bft_frame_status_t st = bft_frame_decode(reader->buf + reader->start,
	                                         reader->len - reader->start,
	                                         reader->max_payload, &frame, &used);
	return st == BFT_FRAME_OK || st == BFT_FRAME_INCOMPLETE ? used : BFT_FRAME_HEADER;
}

int bft_frame_reader_space(bft_frame_reader_t *reader, uint8_t **space, size_t *len)
{
	if (reader->start == reader->len) {
		reader->start = reader->len = 0;
	}
	size_t held = reader->len - reader->start;
	size_t need = reader_need(reader);
	if (held >= need) {
		return BFT_EAGAIN;   /* a whole frame waits: take it with next() first */
	}
	/* Move the partial frame to the front when the tail cannot finish it. */
	if (reader->start > 0 && reader->cap - reader->start < (need > FRAME_READ_CHUNK ? need : FRAME_READ_CHUNK)) {
		memmove(reader->buf, reader->buf + reader->start, held);
		reader->start = 0;
		reader->len = held;
	}
	size_t want = reader->start + (need > FRAME_READ_CHUNK ? need : FRAME_READ_CHUNK);
	if (reader->cap < want) {
		uint8_t *buf = realloc(reader->buf, want);
		if (buf == NULL) {
			return BFT_ENOMEM;
		}
		reader->buf = buf;
		reader->cap = want;
	}
	assert(reader->cap > reader->len);
	*space = reader->buf + reader->len;
	*len = reader->cap - reader->len;
	return BFT_EOK;
}

void bft_frame_reader_commit(bft_frame_reader_t *reader, size_t n)
{
	assert(n <= reader->cap - reader->len);
	reader->len += n;
}

bft_frame_status_t bft_frame_reader_next(bft_frame_reader_t *reader, bft_frame_t *frame)
{
	if (reader->buf == NULL) {
		return BFT_FRAME_INCOMPLETE;   /* nothing read yet */
	}
	size_t used = 0;
	bft_frame_status_t st = bft_frame_decode(reader->buf + reader->start,
	                                         reader->len - reader->start,
	                                         reader->max_payload, frame, &used);
	if (st == BFT_FRAME_OK) {
		reader->start += used;
	}
	return st;
}
