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
 * What the ordering step works on: requests (a client's UPDATE, or a
 * proposal of this replica such as "refresh the signatures") and ordered
 * batches of them with their agreed time.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <urcu/wfcqueue.h>

#include "knot/module.h"

typedef enum {
	BFTDNS_OP_UPDATE = 1,  /*!< A client's UPDATE message. */
	BFTDNS_OP_SIGN   = 2,  /*!< Sign the zone: initial signing, RRSIG refresh. */
	BFTDNS_OP_DIGEST = 3,  /*!< A replica's zone digest after a batch (digest.h). */
	BFTDNS_OP_READ   = 4,  /*!< An ordered read's place in the order (read.h): no change. */
} bftdns_op_kind_t;

struct bftdns_reads;

/*! A request on its way through ordering and apply. */
typedef struct {
	struct cds_wfcq_node node;
	bftdns_op_kind_t kind;
	knotd_update_t *client;  /*!< The client to answer (taken-over UPDATE), or NULL. */
	const uint8_t *wire;     /*!< UPDATE message (the client's, or owned_wire);
	                              DIGEST: the report (digest_report.h). */
	size_t wire_len;
	uint8_t *owned_wire;     /*!< A message without a client here (replayed). */
	struct sockaddr_storage remote; /*!< The client's address as its replica saw
	                                     it (AF_UNSPEC: not known). */
	unsigned origin;         /*!< DIGEST: the replica that reported it (0-based). */
	uint64_t read_id;        /*!< READ: its id, unique to the replica that made it. */
	struct bftdns_reads *reads; /*!< READ: the waiting query's table (read.h), or
	                                 NULL if it waits elsewhere (a peer's READ). */
} bftdns_request_t;

/*! An ordered batch: the same requests, order and time on every replica. */
typedef struct {
	struct cds_wfcq_node node;
	uint64_t seq;            /*!< Batch number, from 1. */
	uint64_t now;            /*!< Agreed time of the batch (seconds since the epoch). */
	uint8_t *raw;            /*!< replicas > 1: the bytes as delivered (history.h), or NULL. */
	size_t raw_len;
	size_t count;
	bftdns_request_t *requests[];
} bftdns_batch_t;

bftdns_request_t *bftdns_request_update(knotd_update_t *client);
bftdns_request_t *bftdns_request_sign(void);
bftdns_request_t *bftdns_request_read(struct bftdns_reads *reads, uint64_t id);

/*!
 * Answers the client (if any) with rcode and frees the request. A READ's
 * waiting query is told whether it may be answered (rcode NOERROR: its
 * batch and every one before it are applied) or not.
 */
void bftdns_request_finish(bftdns_request_t *request, uint16_t rcode);

/*! Frees a request whose delivered copy answers it (a submitted proposal or READ). */
void bftdns_request_free(bftdns_request_t *request);

bftdns_batch_t *bftdns_batch_new(size_t capacity);

/*! Frees a batch whose requests were finished. */
void bftdns_batch_free(bftdns_batch_t *batch);

/*! Answers every request still in the batch with rcode and frees it. */
void bftdns_batch_fail(bftdns_batch_t *batch, uint16_t rcode);
