/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* Link frames: encoding, every rejection, HELLO, the streaming reader. */

#include <string.h>

#include "coordinator/net/frame.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "tests/common/check.h"

static size_t put_frame(uint8_t *out, bft_frame_kind_t kind, const void *payload, uint32_t len)
{
	bft_frame_header(out, kind, len);
	if (len > 0) {
		memcpy(out + BFT_FRAME_HEADER, payload, len);
	}
	return BFT_FRAME_HEADER + len;
}

static void test_decode(void)
{
	uint8_t buf[128];
	size_t len = put_frame(buf, BFT_FRAME_DATA, "abc", 3);
	bft_frame_t frame;
	size_t used = 0;
	CHECK_EQ(bft_frame_decode(buf, len, 100, &frame, &used), BFT_FRAME_OK);
	CHECK_EQ(used, 9);
	CHECK_EQ(frame.kind, BFT_FRAME_DATA);
	CHECK(frame.len == 3 && memcmp(frame.payload, "abc", 3) == 0);
	/* Every prefix is incomplete, and says how much it needs. */
	for (size_t cut = 0; cut < len; cut++) {
		CHECK_EQ(bft_frame_decode(buf, cut, 100, &frame, &used), BFT_FRAME_INCOMPLETE);
		CHECK_EQ(used, cut < BFT_FRAME_HEADER ? BFT_FRAME_HEADER : 9);
	}
	/* A limit below the announced length: refused from the header alone. */
	CHECK_EQ(bft_frame_decode(buf, BFT_FRAME_HEADER, 2, &frame, &used), BFT_FRAME_TOO_BIG);
	const uint8_t huge[] = { 1, BFT_FRAME_DATA, 0xff, 0xff, 0xff, 0xff };
	CHECK_EQ(bft_frame_decode(huge, 6, BFT_FRAME_PAYLOAD_MAX, &frame, &used), BFT_FRAME_TOO_BIG);
	/* Wrong version or kind: refused from the first bytes. */
	const uint8_t v2[] = { 2 };
	CHECK_EQ(bft_frame_decode(v2, 1, 100, &frame, &used), BFT_FRAME_BAD_VERSION);
	const uint8_t kind0[] = { 1, 0 }, kind5[] = { 1, 5 };
	CHECK_EQ(bft_frame_decode(kind0, 2, 100, &frame, &used), BFT_FRAME_BAD_KIND);
	CHECK_EQ(bft_frame_decode(kind5, 2, 100, &frame, &used), BFT_FRAME_BAD_KIND);
	/* Lengths wrong for the kind. */
	const uint8_t empty_data[] = { 1, BFT_FRAME_DATA, 0, 0, 0, 0 };
	const uint8_t fat_ping[] = { 1, BFT_FRAME_PING, 0, 0, 0, 1, 0 };
	const uint8_t short_hello[] = { 1, BFT_FRAME_HELLO, 0, 0, 0, 5, 0, 0, 0, 0, 0 };
	CHECK_EQ(bft_frame_decode(empty_data, 6, 100, &frame, &used), BFT_FRAME_BAD_LENGTH);
	CHECK_EQ(bft_frame_decode(fat_ping, 7, 100, &frame, &used), BFT_FRAME_BAD_LENGTH);
	CHECK_EQ(bft_frame_decode(short_hello, 11, 100, &frame, &used), BFT_FRAME_BAD_LENGTH);
	CHECK(strcmp(bft_frame_status_name(BFT_FRAME_TOO_BIG), "frame larger than the limit") == 0);
}

static void test_hello(void)
{
	bft_hello_t a = { .from = 3, .to = 1, .n = 7 }, b;
	memset(a.cluster_id, 0x42, sizeof(a.cluster_id));
	uint8_t buf[BFT_FRAME_HELLO_LEN + 1];
	bft_hello_encode(&a, buf);
	CHECK(bft_hello_decode(buf, BFT_FRAME_HELLO_LEN, &b));
	CHECK(b.from == 3 && b.to == 1 && b.n == 7);
	CHECK(memcmp(a.cluster_id, b.cluster_id, BFT_CLUSTER_ID_LEN) == 0);
	CHECK(!bft_hello_decode(buf, BFT_FRAME_HELLO_LEN - 1, &b));
	CHECK(!bft_hello_decode(buf, BFT_FRAME_HELLO_LEN + 1, &b));
}

/* Random frames through the reader in random chunk sizes come out whole. */
static void test_reader(void)
{
	static uint8_t stream[1 << 20];
	bft_prng_t prng;
	bft_prng_seed(&prng, 3);
	size_t len = 0, frames = 0;
	uint32_t lens[4096];
	while (frames < 4096 && len < sizeof(stream) - 70000) {
		uint32_t n = 1 + (uint32_t)bft_prng_below(&prng, frames % 50 == 0 ? 65000 : 300);
		uint8_t payload[65001];
		memset(payload, (int)(frames & 0xff), n);
		len += put_frame(stream + len, BFT_FRAME_DATA, payload, n);
		lens[frames++] = n;
	}
	len += put_frame(stream + len, BFT_FRAME_PING, NULL, 0);

	bft_frame_reader_t reader;
	CHECK_EQ(bft_frame_reader_init(&reader, 65000), BFT_EOK);
	size_t pos = 0, got = 0;
	bool ping = false, ok = true;
	for (int guard = 0; guard < 10000000 && ok && !ping; guard++) {
		bft_frame_t frame;
		bft_frame_status_t st = bft_frame_reader_next(&reader, &frame);
		if (st == BFT_FRAME_OK) {
			if (frame.kind == BFT_FRAME_PING) {
				ping = true;
				continue;
			}
			ok = got < frames && frame.len == lens[got] &&
			     frame.payload[0] == (got & 0xff) && frame.payload[frame.len - 1] == (got & 0xff);
			got++;
			continue;
		}
		ok = st == BFT_FRAME_INCOMPLETE && pos < len;
		uint8_t *space;
		size_t room;
		if (!ok || bft_frame_reader_space(&reader, &space, &room) != BFT_EOK) {
			ok = false;
			break;
		}
		size_t chunk = 1 + bft_prng_below(&prng, 5000);
		chunk = chunk < room ? chunk : room;
		chunk = chunk < len - pos ? chunk : len - pos;
		memcpy(space, stream + pos, chunk);
		bft_frame_reader_commit(&reader, chunk);
		pos += chunk;
		CHECK(reader.cap <= BFT_FRAME_HEADER + 65000 + (16u << 10));
	}
	CHECK(ok);
	CHECK(ping);
	CHECK_EQ(got, frames);
	/* An oversized announcement is an error before its payload is buffered. */
	bft_frame_reader_reset(&reader);
	const uint8_t huge[] = { 1, BFT_FRAME_DATA, 0, 1, 0, 0 };   /* 65536 > 65000 */
	uint8_t *space;
	size_t room;
	CHECK_EQ(bft_frame_reader_space(&reader, &space, &room), BFT_EOK);
	memcpy(space, huge, sizeof(huge));
	bft_frame_reader_commit(&reader, sizeof(huge));
	bft_frame_t frame;
	CHECK_EQ(bft_frame_reader_next(&reader, &frame), BFT_FRAME_TOO_BIG);
	bft_frame_reader_deinit(&reader);
}

int main(void)
{
	test_decode();
	test_hello();
	test_reader();
	return check_result("test_frame");
}
