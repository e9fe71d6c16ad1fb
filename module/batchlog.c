/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <nettle/base64.h>

#include "module/batchlog.h"

/*! Most requests in one logged batch (a batch holds at most 4096 + 1). */
#define BATCHLOG_REQUESTS_MAX	8192
/*! Longest line: "update " and a base64 UPDATE of at most 64 KiB. */
#define BATCHLOG_LINE_MAX	(16 + BASE64_ENCODE_RAW_LENGTH(65535))

int bftdns_batchlog_write(FILE *log, const bftdns_batch_t *batch)
{
	/* A READ changes nothing and has no client on replay: not logged. */
	size_t count = 0;
	for (size_t i = 0; i < batch->count; i++) {
		count += (batch->requests[i]->kind != BFTDNS_OP_READ) ? 1 : 0;
	}
	if (fprintf(log, "batch %"PRIu64" %"PRIu64" %zu\n",
	            batch->seq, batch->now, count) < 0) {
		return KNOT_EFEWDATA;
	}

	for (size_t i = 0; i < batch->count; i++) {
		const bftdns_request_t *request = batch->requests[i];
		if (request->kind == BFTDNS_OP_READ) {
			continue;
		}
		if (request->kind == BFTDNS_OP_SIGN) {
			fputs("sign\n", log);
			continue;
		}
		char *text = malloc(BASE64_ENCODE_RAW_LENGTH(request->wire_len) + 1);
		if (text == NULL) {
			return KNOT_ENOMEM;
		}
		base64_encode_raw(text, request->wire_len, request->wire);
		text[BASE64_ENCODE_RAW_LENGTH(request->wire_len)] = '\0';
		fprintf(log, "update %s\n", text);
		free(text);
	}

	return (fflush(log) == 0 && !ferror(log)) ? KNOT_EOK : KNOT_EFEWDATA;
}

/*! Reads one line without its newline; false at the end or if too long. */
static bool read_line(FILE *log, char *buf, size_t size, size_t *line, bool *eof)
{
	*eof = false;
	if (fgets(buf, size, log) == NULL) {
		*eof = true;
		return false;
	}
	(*line)++;
	size_t len = strlen(buf);
	if (len == 0 || buf[len - 1] != '\n') {
		return false;
	}
	buf[len - 1] = '\0';
	return true;
}

static bftdns_request_t *parse_update(const char *text)
{
	size_t text_len = strlen(text);
	if (text_len == 0 || text_len > BASE64_ENCODE_RAW_LENGTH(65535)) {
		return NULL;
	}

	bftdns_request_t *request = calloc(1, sizeof(*request));
	uint8_t *wire = malloc(BASE64_DECODE_LENGTH(text_len));
	if (request == NULL || wire == NULL) {
		free(request);
		free(wire);
		return NULL;
	}

	struct base64_decode_ctx ctx;
	base64_decode_init(&ctx);
	size_t wire_len = BASE64_DECODE_LENGTH(text_len);
	if (!base64_decode_update(&ctx, &wire_len, wire, text_len, text) ||
	    !base64_decode_final(&ctx) || wire_len == 0 || wire_len > 65535) {
		free(request);
		free(wire);
		return NULL;
	}

	request->kind = BFTDNS_OP_UPDATE;
	request->owned_wire = wire;
	request->wire = wire;
	request->wire_len = wire_len;
	return request;
}

int bftdns_batchlog_read(FILE *log, bftdns_batch_t **out, size_t *line)
{
	*out = NULL;
	char *buf = malloc(BATCHLOG_LINE_MAX);
	if (buf == NULL) {
		return KNOT_ENOMEM;
	}

	bool eof;
	if (!read_line(log, buf, BATCHLOG_LINE_MAX, line, &eof)) {
		free(buf);
		return eof ? KNOT_EOK : KNOT_EMALF;
	}

	uint64_t seq, now;
	size_t count;
	char extra;
	if (sscanf(buf, "batch %"SCNu64" %"SCNu64" %zu %c", &seq, &now, &count, &extra) != 3 ||
	    count == 0 || count > BATCHLOG_REQUESTS_MAX) {
		free(buf);
		return KNOT_EMALF;
	}

	bftdns_batch_t *batch = bftdns_batch_new(count);
	if (batch == NULL) {
		free(buf);
		return KNOT_ENOMEM;
	}
	batch->seq = seq;
	batch->now = now;

	int ret = KNOT_EOK;
	while (batch->count < count) {
		if (!read_line(log, buf, BATCHLOG_LINE_MAX, line, &eof)) {
			ret = KNOT_EMALF;
			break;
		}
		bftdns_request_t *request = NULL;
		if (strcmp(buf, "sign") == 0) {
			request = bftdns_request_sign();
		} else if (strncmp(buf, "update ", 7) == 0) {
			request = parse_update(buf + 7);
		}
		if (request == NULL) {
			ret = KNOT_EMALF;
			break;
		}
		batch->requests[batch->count++] = request;
	}
	free(buf);

	if (ret != KNOT_EOK) {
		bftdns_batch_fail(batch, KNOT_RCODE_SERVFAIL);
		return ret;
	}
	*out = batch;
	return KNOT_EOK;
}
