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
 * The two byte formats of the atomic broadcast (abc.h) and its agreed time.
 *
 * A proposal (one node's input to one epoch's ACS):
 *   u64 proposer's clock (ms), u32 count (0..BATCH_PROPOSAL_REQUESTS_MAX),
 *   count x (u8 origin < n, u32 length 1..BATCH_REQUEST_MAX, request bytes);
 *   at most BATCH_PROPOSAL_MAX bytes in all.
 *
 * A delivered batch (the atomic broadcast's output, the same bytes on every
 * correct node):
 *   u64 epoch, u64 agreed time (ms), u32 count,
 *   count x (u8 proposer, u8 origin, u32 length, request bytes).
 *
 * The origin is the node a client gave the request to (the one that
 * answers the client); the proposer the node whose proposal carried it.
 *
 * Agreed time: the lower median of the clocks in the well-formed proposals
 * of the subset, and never below the previous batch's time. Why it lies
 * within the correct nodes' clocks: doc/broadcast.md.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/step.h"
#include "coordinator/proto/wire.h"

/*! A DNS message is at most 65535 bytes. */
#define BATCH_REQUEST_MAX		65535u
#define BATCH_PROPOSAL_REQUESTS_MAX	1024u
#define BATCH_PROPOSAL_MAX		(80u << 10)
#define BATCH_PROPOSAL_HDR		12u
#define BATCH_REQUEST_HDR		5u

/*! A decoded proposal; requests are read with batch_proposal_next(). */
typedef struct {
	uint64_t time_ms;
	uint32_t count;
	uint32_t read;
	bft_wire_r_t r;
} batch_proposal_t;

/*!
 * Checks untrusted proposal bytes completely (every length, the count, the
 * end) and opens them for reading: BFT_EOK or BFT_EMALF.
 */
int batch_proposal_open(batch_proposal_t *prop, const uint8_t *buf, size_t len, unsigned n);
/*! Next request of an opened proposal: true, its origin and bytes, or false at the end. */
bool batch_proposal_next(batch_proposal_t *prop, bft_node_t *origin, const uint8_t **req,
                         size_t *len);

/*! Writer of a proposal into buf (cap >= BATCH_PROPOSAL_HDR). */
typedef struct {
	bft_wire_w_t w;
	uint32_t count;
} batch_writer_t;

void batch_proposal_begin(batch_writer_t *bw, uint8_t *buf, size_t cap, uint64_t time_ms);
/*! True if the request fits (then it is added). */
bool batch_proposal_add(batch_writer_t *bw, bft_node_t origin, const uint8_t *req, size_t len);
/*! Ends the proposal; returns its length. */
size_t batch_proposal_end(batch_writer_t *bw);

/*!
 * The agreed time: lower median of times[0..count) (count >= 1; sorted in
 * place), or prev if that is later.
 */
uint64_t batch_agreed_time(uint64_t prev, uint64_t *times, size_t count);

/*! Reader of a delivered batch (output of abc). */
typedef struct {
	uint64_t epoch;
	uint64_t time_ms;
	uint32_t count;
	uint32_t read;
	bft_wire_r_t r;
} batch_reader_t;

/*! Opens a delivered batch and checks its framing: BFT_EOK or BFT_EMALF. */
int batch_reader_open(batch_reader_t *br, const uint8_t *buf, size_t len);
/*! Next request: true with its proposer, origin and bytes, false at the end. */
bool batch_reader_next(batch_reader_t *br, bft_node_t *proposer, bft_node_t *origin,
                       const uint8_t **req, size_t *len);
