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
 * Canonical binary encoding for protocol messages: fixed-width big-endian
 * integers and length-prefixed byte strings, nothing optional, nothing
 * implicit. One value has exactly one encoding, so a decoder that reads
 * every field and then requires the end of input (bft_wire_r_done())
 * rejects anything that is not the output of the encoder.
 *
 * Both sides use a sticky error flag: after the first overflow or short
 * read every further call is a no-op, and one check at the end suffices.
 * A reader never reads outside [p, p + len).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! Writer over a caller's buffer. */
typedef struct {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
} bft_wire_w_t;

/*! Reader over untrusted bytes. */
typedef struct {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool error;
} bft_wire_r_t;

void bft_wire_w_init(bft_wire_w_t *w, uint8_t *buf, size_t cap);
void bft_wire_put_u8(bft_wire_w_t *w, uint8_t v);
void bft_wire_put_u16(bft_wire_w_t *w, uint16_t v);
void bft_wire_put_u32(bft_wire_w_t *w, uint32_t v);
void bft_wire_put_u64(bft_wire_w_t *w, uint64_t v);
/*! Raw bytes, no length: for fixed-size fields (digests). */
void bft_wire_put_raw(bft_wire_w_t *w, const uint8_t *data, size_t len);
/*! A u32 length then the bytes. */
void bft_wire_put_bytes(bft_wire_w_t *w, const uint8_t *data, size_t len);
/*! True if everything fit. */
static inline bool bft_wire_w_ok(const bft_wire_w_t *w) { return !w->overflow; }

void bft_wire_r_init(bft_wire_r_t *r, const uint8_t *p, size_t len);
uint8_t bft_wire_get_u8(bft_wire_r_t *r);
uint16_t bft_wire_get_u16(bft_wire_r_t *r);
uint32_t bft_wire_get_u32(bft_wire_r_t *r);
uint64_t bft_wire_get_u64(bft_wire_r_t *r);
/*! Points *out at len raw bytes (NULL on error). */
void bft_wire_get_raw(bft_wire_r_t *r, size_t len, const uint8_t **out);
/*!
 * Reads a u32 length (at most max) then the bytes; *out points into the
 * input (NULL and error set if short or longer than max).
 */
void bft_wire_get_bytes(bft_wire_r_t *r, size_t max, const uint8_t **out, size_t *out_len);
/*! Marks the input bad (a field value out of its range). */
static inline void bft_wire_r_fail(bft_wire_r_t *r) { r->error = true; }
/*! Bytes not read yet. */
static inline size_t bft_wire_r_left(const bft_wire_r_t *r) { return r->error ? 0 : r->len - r->pos; }
/*! True if no error and every byte was read: the only acceptable end. */
static inline bool bft_wire_r_done(const bft_wire_r_t *r) { return !r->error && r->pos == r->len; }
