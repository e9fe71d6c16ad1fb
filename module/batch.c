/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <stdlib.h>

#include "module/batch.h"
#include "module/read.h"

bftdns_request_t *bftdns_request_update(knotd_update_t *client)
{
	bftdns_request_t *request = calloc(1, sizeof(*request));
	if (request == NULL) {
		return NULL;
	}
	request->kind = BFTDNS_OP_UPDATE;
	request->client = client;
	request->wire = knotd_update_wire(client, &request->wire_len);
	const struct sockaddr_storage *remote = knotd_update_remote(client);
	if (remote != NULL) {
		request->remote = *remote;
	}
	return request;
}

bftdns_request_t *bftdns_request_sign(void)
{
	bftdns_request_t *request = calloc(1, sizeof(*request));
	if (request != NULL) {
		request->kind = BFTDNS_OP_SIGN;
	}
	return request;
}

bftdns_request_t *bftdns_request_read(struct bftdns_reads *reads, uint64_t id)
{
	bftdns_request_t *request = calloc(1, sizeof(*request));
	if (request != NULL) {
		request->kind = BFTDNS_OP_READ;
		request->read_id = id;
		request->reads = reads;
	}
	return request;
}

void bftdns_request_free(bftdns_request_t *request)
{
	if (request != NULL) {
		free(request->owned_wire);
		free(request);
	}
}

void bftdns_request_finish(bftdns_request_t *request, uint16_t rcode)
{
	if (request == NULL) {
		return;
	}
	if (request->client != NULL) {
		/* A client that went away is not our failure. */
		(void)knotd_update_reply(request->client, rcode);
	}
	if (request->kind == BFTDNS_OP_READ) {
		bftdns_read_done(request->reads, request->read_id, rcode == KNOT_RCODE_NOERROR);
	}
	bftdns_request_free(request);
}

bftdns_batch_t *bftdns_batch_new(size_t capacity)
{
	return calloc(1, sizeof(bftdns_batch_t) + capacity * sizeof(bftdns_request_t *));
}

void bftdns_batch_free(bftdns_batch_t *batch)
{
	if (batch != NULL) {
		free(batch->raw);
		free(batch);
	}
}

void bftdns_batch_fail(bftdns_batch_t *batch, uint16_t rcode)
{
	if (batch == NULL) {
		return;
	}
	for (size_t i = 0; i < batch->count; i++) {
		bftdns_request_finish(batch->requests[i], rcode);
	}
	bftdns_batch_free(batch);
}
