/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * libFuzzer target for the link frame decoder (built with clang, see
 * meson.build; run by fuzz_frame.sh). Input: one byte choosing the size
 * limit, one byte seeding the read chunk sizes, then a byte stream.
 *
 * Checks, besides the sanitizers: a decoded frame lies inside the input,
 * re-encoding its header gives the input bytes back, HELLO re-encodes
 * identically, and the streaming reader fed in random chunks yields
 * exactly the frames and the final verdict of the one-shot decoder.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/net/frame.h"
#include "coordinator/proto/error.h"

#define FUZZ_FRAMES_MAX 4096

typedef struct {
	uint64_t hash;
	size_t frames;
	bft_frame_status_t end;
} fuzz_result_t;

static void fuzz_hash(uint64_t *h, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		*h = (*h ^ p[i]) * 0x100000001b3ull;
	}
}

static void fuzz_account(fuzz_result_t *res, const bft_frame_t *frame)
{
	uint8_t hdr[BFT_FRAME_HEADER];
	bft_frame_header(hdr, frame->kind, frame->len);
	fuzz_hash(&res->hash, hdr, sizeof(hdr));
	fuzz_hash(&res->hash, frame->payload, frame->len);
	res->frames++;
}

static void fuzz_one_shot(const uint8_t *p, size_t len, uint32_t max, fuzz_result_t *res)
{
	size_t pos = 0;
	res->end = BFT_FRAME_INCOMPLETE;
	while (res->frames < FUZZ_FRAMES_MAX) {
		bft_frame_t frame;
		size_t used = 0;
		bft_frame_status_t st = bft_frame_decode(p + pos, len - pos, max, &frame, &used);
		if (st != BFT_FRAME_OK) {
			res->end = st;
			return;
		}
		if (used > len - pos || frame.payload != p + pos + BFT_FRAME_HEADER ||
		    used != BFT_FRAME_HEADER + frame.len || frame.len > max) {
			abort();
		}
		uint8_t hdr[BFT_FRAME_HEADER];
		bft_frame_header(hdr, frame.kind, frame.len);
		if (memcmp(hdr, p + pos, BFT_FRAME_HEADER) != 0) {
			abort();
		}
		if (frame.kind == BFT_FRAME_HELLO) {
			bft_hello_t hello;
			uint8_t again[BFT_FRAME_HELLO_LEN];
			if (!bft_hello_decode(frame.payload, frame.len, &hello)) {
				abort();   /* the frame length check admits exactly HELLO_LEN */
			}
			bft_hello_encode(&hello, again);
			if (memcmp(again, frame.payload, frame.len) != 0) {
				abort();
			}
		}
		fuzz_account(res, &frame);
		pos += used;
	}
}

static void fuzz_streaming(const uint8_t *p, size_t len, uint32_t max, uint8_t seed,
                           fuzz_result_t *res)
{
	bft_frame_reader_t reader;
	if (bft_frame_reader_init(&reader, max) != BFT_EOK) {
		abort();
	}
	uint32_t lcg = seed;
	size_t pos = 0;
	res->end = BFT_FRAME_INCOMPLETE;
	for (int rounds = 0; rounds < 1 << 20 && res->frames < FUZZ_FRAMES_MAX; rounds++) {
		bft_frame_t frame;
		bft_frame_status_t st = bft_frame_reader_next(&reader, &frame);
		if (st == BFT_FRAME_OK) {
			fuzz_account(res, &frame);
			continue;
		}
		if (st != BFT_FRAME_INCOMPLETE || pos == len) {
			res->end = st;
			break;
		}
		uint8_t *space = NULL;
		size_t room = 0;
		if (bft_frame_reader_space(&reader, &space, &room) != BFT_EOK || room == 0) {
			abort();
		}
		/* Never more than one frame + a read chunk, whatever the peer announces. */
		if (reader.cap > BFT_FRAME_HEADER + (size_t)max + (16u << 10)) {
			abort();
		}
		lcg = lcg * 1103515245u + 12345u;
		size_t chunk = 1 + (lcg >> 16) % 37;
		chunk = chunk < room ? chunk : room;
		chunk = chunk < len - pos ? chunk : len - pos;
		memcpy(space, p + pos, chunk);
		bft_frame_reader_commit(&reader, chunk);
		pos += chunk;
	}
	bft_frame_reader_deinit(&reader);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2) {
		return 0;
	}
	uint32_t max = BFT_FRAME_HELLO_LEN + data[0] * 4u;
	uint8_t seed = data[1];
	const uint8_t *stream = data + 2;
	size_t len = size - 2;
	fuzz_result_t a = { .hash = 0xcbf29ce484222325ull }, b = a;
	fuzz_one_shot(stream, len, max, &a);
	fuzz_streaming(stream, len, max, seed, &b);
	if (a.frames != b.frames || a.hash != b.hash || a.end != b.end) {
		abort();
	}
	return 0;
}
