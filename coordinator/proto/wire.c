/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <string.h>

#include "coordinator/proto/wire.h"

void bft_wire_w_init(bft_wire_w_t *w, uint8_t *buf, size_t cap)
{
	assert(w != NULL && (buf != NULL || cap == 0));
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = false;
}

static uint8_t *wire_w_take(bft_wire_w_t *w, size_t len)
{
	if (w->overflow || len > w->cap - w->len) {
		w->overflow = true;
		return NULL;
	}
	uint8_t *at = w->buf + w->len;
	w->len += len;
	return at;
}

/* Writes the low `len` bytes of v, most significant first. */
static void wire_put_be(bft_wire_w_t *w, uint64_t v, size_t len)
{
	uint8_t *at = wire_w_take(w, len);
	if (at == NULL) {
		return;
	}
	for (size_t i = 0; i < len; i++) {
		at[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
	}
}

void bft_wire_put_u8(bft_wire_w_t *w, uint8_t v)   { wire_put_be(w, v, 1); }
void bft_wire_put_u16(bft_wire_w_t *w, uint16_t v) { wire_put_be(w, v, 2); }
void bft_wire_put_u32(bft_wire_w_t *w, uint32_t v) { wire_put_be(w, v, 4); }
void bft_wire_put_u64(bft_wire_w_t *w, uint64_t v) { wire_put_be(w, v, 8); }

void bft_wire_put_raw(bft_wire_w_t *w, const uint8_t *data, size_t len)
{
	uint8_t *at = wire_w_take(w, len);
	if (at != NULL && len > 0) {
		memcpy(at, data, len);
	}
}

void bft_wire_put_bytes(bft_wire_w_t *w, const uint8_t *data, size_t len)
{
	if (len > UINT32_MAX) {
		w->overflow = true;
		return;
	}
	bft_wire_put_u32(w, (uint32_t)len);
	bft_wire_put_raw(w, data, len);
}

void bft_wire_r_init(bft_wire_r_t *r, const uint8_t *p, size_t len)
{
	assert(r != NULL && (p != NULL || len == 0));
	r->p = p;
	r->len = len;
	r->pos = 0;
	r->error = false;
}

static const uint8_t *wire_r_take(bft_wire_r_t *r, size_t len)
{
	if (r->error || len > r->len - r->pos) {
		r->error = true;
		return NULL;
	}
	/* An empty input may have no buffer at all: no arithmetic on NULL. */
	const uint8_t *at = r->p != NULL ? r->p + r->pos : NULL;
	r->pos += len;
	return at;
}

static uint64_t wire_get_be(bft_wire_r_t *r, size_t len)
{
	const uint8_t *at = wire_r_take(r, len);
	uint64_t v = 0;
	for (size_t i = 0; at != NULL && i < len; i++) {
		v = (v << 8) | at[i];
	}
	return v;
}

uint8_t bft_wire_get_u8(bft_wire_r_t *r)   { return (uint8_t)wire_get_be(r, 1); }
uint16_t bft_wire_get_u16(bft_wire_r_t *r) { return (uint16_t)wire_get_be(r, 2); }
uint32_t bft_wire_get_u32(bft_wire_r_t *r) { return (uint32_t)wire_get_be(r, 4); }
uint64_t bft_wire_get_u64(bft_wire_r_t *r) { return wire_get_be(r, 8); }

void bft_wire_get_raw(bft_wire_r_t *r, size_t len, const uint8_t **out)
{
	*out = wire_r_take(r, len);
}

void bft_wire_get_bytes(bft_wire_r_t *r, size_t max, const uint8_t **out, size_t *out_len)
{
	uint32_t len = bft_wire_get_u32(r);
	*out = NULL;
	*out_len = 0;
	if (r->error) {
		return;
	}
	if (len > max) {
		r->error = true;
		return;
	}
	*out = wire_r_take(r, len);
	if (*out != NULL) {
		*out_len = len;
	}
}
