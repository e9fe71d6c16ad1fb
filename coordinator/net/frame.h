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
 * Frames on a peer link (inside TLS):
 *
 *   u8 version (BFT_FRAME_VERSION) | u8 kind | u32 payload length | payload
 *
 * big-endian, payload at most max_payload bytes (the receiver's limit,
 * checked from the header before a byte of payload is buffered). Kinds:
 *
 *   HELLO  first frame each way: u16 sender index, u16 receiver index,
 *          u16 n, 32-byte cluster id (SHA-256 over every pin, in order):
 *          both ends must run the same membership
 *   DATA   one protocol message (opaque here), at least one byte
 *   PING   empty; answered by PONG (idle links prove they are alive)
 *   PONG   empty
 *
 * The decoder is a pure function over bytes (fuzzed by tests/net/fuzz_frame):
 * it never reads outside its input and reports why it rejects a frame, so
 * the link can log it and drop the connection.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BFT_FRAME_VERSION	1
#define BFT_FRAME_HEADER	6
#define BFT_FRAME_HELLO_LEN	(2 + 2 + 2 + 32)
#define BFT_CLUSTER_ID_LEN	32
/*! Default limit: a 4 MiB protocol message plus the event loop's routing. */
#define BFT_FRAME_PAYLOAD_MAX	((4u << 20) + 64)

typedef enum {
	BFT_FRAME_HELLO = 1,
	BFT_FRAME_DATA  = 2,
	BFT_FRAME_PING  = 3,
	BFT_FRAME_PONG  = 4,
} bft_frame_kind_t;

/*! Why a frame was refused (for the log line that names the peer). */
typedef enum {
	BFT_FRAME_OK = 0,
	BFT_FRAME_INCOMPLETE,    /*!< Not an error: more bytes are needed. */
	BFT_FRAME_BAD_VERSION,
	BFT_FRAME_BAD_KIND,
	BFT_FRAME_TOO_BIG,
	BFT_FRAME_BAD_LENGTH,    /*!< Length wrong for the kind (empty DATA, PING with payload...). */
} bft_frame_status_t;

const char *bft_frame_status_name(bft_frame_status_t status);

/*! A decoded frame; payload points into the decoded bytes. */
typedef struct {
	bft_frame_kind_t kind;
	const uint8_t *payload;
	uint32_t len;
} bft_frame_t;

/*!
 * Decodes the first frame of buf[0..len). BFT_FRAME_OK: *frame is set and
 * *used is its total size. INCOMPLETE: *used is the total size needed so
 * far (at least the header). Anything else: the stream is bad.
 */
bft_frame_status_t bft_frame_decode(const uint8_t *buf, size_t len, uint32_t max_payload,
                                    bft_frame_t *frame, size_t *used);

/*! Writes the 6-byte header of a frame of kind with len payload bytes. */
void bft_frame_header(uint8_t out[BFT_FRAME_HEADER], bft_frame_kind_t kind, uint32_t len);

/*! The HELLO payload. */
typedef struct {
	uint16_t from;
	uint16_t to;
	uint16_t n;
	uint8_t cluster_id[BFT_CLUSTER_ID_LEN];
} bft_hello_t;

void bft_hello_encode(const bft_hello_t *hello, uint8_t out[BFT_FRAME_HELLO_LEN]);
/*! False if payload is not exactly one HELLO. Does not judge the values. */
bool bft_hello_decode(const uint8_t *payload, size_t len, bft_hello_t *hello);

/*!
 * Reassembles frames from a byte stream in a bounded buffer (header +
 * max_payload at most), growing only as far as announced frames need.
 */
typedef struct {
	uint8_t *buf;
	size_t cap;
	size_t len;         /*!< Bytes held. */
	size_t start;       /*!< First byte of the next frame. */
	uint32_t max_payload;
} bft_frame_reader_t;

int bft_frame_reader_init(bft_frame_reader_t *reader, uint32_t max_payload);
void bft_frame_reader_deinit(bft_frame_reader_t *reader);
/*! Empties the reader (a new connection). */
void bft_frame_reader_reset(bft_frame_reader_t *reader);

/*!
 * Room to read into: *space, at least 1 byte and at most what the next
 * frame needs (so the reader never holds more than one frame plus a
 * header). BFT_ENOMEM if it cannot grow.
 */
int bft_frame_reader_space(bft_frame_reader_t *reader, uint8_t **space, size_t *len);
/*! Records that n bytes were written into the space. */
void bft_frame_reader_commit(bft_frame_reader_t *reader, size_t n);

/*!
 * The next complete frame, valid until the next call on the reader.
 * BFT_FRAME_INCOMPLETE when more bytes are needed; an error status means
 * the stream is bad and the connection must go.
 */
bft_frame_status_t bft_frame_reader_next(bft_frame_reader_t *reader, bft_frame_t *frame);
