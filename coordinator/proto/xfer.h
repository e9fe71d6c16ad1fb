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
 * State transfer (doc/broadcast.md, "State transfer"): a replica that is
 * further behind than its peers keep batches, or lost its storage, takes
 * the zone as it was at a stable checkpoint from one peer, and goes on
 * with live batches from there. A sans-I/O member of the multiplexer
 * (MUX_XFER) like abc and tsign: no sockets, files, clock or timers.
 *
 * Every node serves: what it has to offer is the latest stable checkpoint
 * it holds a snapshot of, through xfer_store_ops_t (the module keeps it in
 * memory: the checkpoint's certificate, and the zone's RRsets at that
 * batch). A node that needs a transfer (input START) asks every peer (ASK),
 * checks each offered certificate with conf->verify (f + 1 signed, matching
 * DIGEST reports: the certificate names batch K, its agreed time and the
 * zone digest, so one correct replica vouches for it), and once f + 1 peers
 * answered (a valid OFFER or NONE; or at the driver's RETRY, with what is
 * there) picks the highest verified K, at least a correct replica's latest
 * stable checkpoint, and fetches the snapshot from that peer in chunks (GET/DATA,
 * at most XFER_WINDOW chunks of at most XFER_CHUNK_MAX bytes outstanding,
 * taken only in order and only as asked). Accepted bytes go out as
 * outputs; when all arrived, DONE. Nothing a peer says is trusted but the
 * certificate: the driver checks the whole snapshot against the certified
 * digest (the module: knotd_zone_install(), which commits only on a match)
 * and answers REJECT if it does not match: the source is blamed
 * (XFER_FAULT_BAD_SNAPSHOT) and excluded, and the transfer starts again
 * from the next peer's offer. A silent or slow source is no fault the core
 * can see without a clock: the driver, on its own timer, inputs RETRY when
 * no byte came for a while, which moves to the next offer (and asks every
 * peer again once none is left). So a Byzantine server can delay a
 * transfer, never change what is installed.
 *
 * Bounds: certificate XFER_CERT_MAX bytes, snapshot conf->snapshot_max
 * (an offer above it is a fault), one offer kept per peer; a server
 * answers a peer's GETs in order, at most XFER_SERVE_PASSES passes (over
 * either snapshot it keeps) and 2 * XFER_SERVE_PASSES ASKs per peer until it
 * offers that peer a later checkpoint (a faulty peer cannot make it send for
 * ever: a new count needs a new checkpoint of the group).
 *
 * Wire: u8 kind, then
 *   1 ASK    u64 least K wanted
 *   2 OFFER  u64 K, u64 snapshot size, u32 length + certificate
 *   3 NONE   (no snapshot of a stable checkpoint at or beyond the least K)
 *   4 GET    u64 K, u64 offset, u32 length (1..XFER_CHUNK_MAX)
 *   5 DATA   u64 K, u64 offset, the bytes (exactly the length asked, or
 *            the rest of the snapshot)
 *
 * Inputs: u8 kind, then
 *   1 START  u64 least K: begin a transfer (or begin again)
 *   2 RETRY  no progress for a while: the next offer, or ask again
 *   3 REJECT u64 K: the snapshot just completed did not verify
 *   4 STOP   the transfer is over (installed, or given up)
 *
 * Outputs (tags):
 *   XFER_OUTPUT_BEGIN  u16 source node, u64 K, u64 size, certificate:
 *                      bytes of this snapshot follow; earlier ones are void
 *   XFER_OUTPUT_CHUNK  u64 offset, bytes (in order, from 0, without gaps)
 *   XFER_OUTPUT_DONE   u16 source node, u64 K: every byte was given
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/protocol.h"

/*! Largest certificate (32 signed reports and then some). */
#define XFER_CERT_MAX		(16u << 10)
/*! Largest chunk a GET asks for, and that a DATA carries. */
#define XFER_CHUNK_MAX		(256u << 10)
/*! GETs outstanding at once. */
#define XFER_WINDOW		8
/*! Default and largest snapshot size (conf->snapshot_max). */
#define XFER_SNAPSHOT_DEFAULT	(256ull << 20)
/*! Passes over one snapshot a server makes for one peer. */
#define XFER_SERVE_PASSES	4

/*! Output tags. */
#define XFER_OUTPUT_BEGIN	1
#define XFER_OUTPUT_CHUNK	2
#define XFER_OUTPUT_DONE	3

/*! Input kinds. */
#define XFER_IN_START		1
#define XFER_IN_RETRY		2
#define XFER_IN_REJECT		3
#define XFER_IN_STOP		4

/*! Fault: an offered certificate that does not verify, or names another K. */
#define XFER_FAULT_BAD_CERT	(BFT_FAULT_PROTOCOL + 0x60)
/*! Fault: a completed snapshot that did not match its certified digest. */
#define XFER_FAULT_BAD_SNAPSHOT	(BFT_FAULT_PROTOCOL + 0x61)

/*! What a server offers now (pointers valid until the next call of the store). */
typedef struct {
	uint64_t k;                 /*!< Checkpoint batch, 0: nothing to offer. */
	const uint8_t *cert;
	size_t cert_len;
	uint64_t size;              /*!< Bytes of the snapshot. */
} xfer_offer_t;

/*!
 * The server's snapshots (the driver's storage; the module keeps them in
 * memory, so that a call never blocks the coordinator's thread).
 */
typedef struct {
	/*! The latest offer (k 0 if none). */
	void (*latest)(void *ctx, xfer_offer_t *out);
	/*! Copies len bytes at offset of snapshot k; false if k is gone. */
	bool (*read)(void *ctx, uint64_t k, uint64_t offset, uint8_t *out, size_t len);
} xfer_store_ops_t;

/*!
 * Checks a certificate from a peer (untrusted bytes): true and its K if
 * it is valid for this replica group and zone. Pure: same bytes, same answer.
 */
typedef bool (*xfer_verify_fn)(void *ctx, const uint8_t *cert, size_t len, uint64_t *k);

/*! bft_params_t.conf (required); copied at create. */
typedef struct {
	const xfer_store_ops_t *store;   /*!< NULL: this node serves nothing. */
	void *store_ctx;
	xfer_verify_fn verify;           /*!< Required to take a transfer. */
	void *verify_ctx;
	uint64_t snapshot_max;           /*!< 0: XFER_SNAPSHOT_DEFAULT. */
	uint32_t chunk;                  /*!< Bytes per GET; 0: XFER_CHUNK_MAX. */
} xfer_conf_t;

typedef struct xfer xfer_t;

typedef struct {
	bool active;                /*!< A transfer is under way. */
	uint64_t k;                 /*!< Checkpoint being fetched, 0: none yet. */
	int source;                 /*!< Node it comes from, -1: none. */
	uint64_t received;          /*!< Bytes of it so far. */
	uint64_t size;
	uint64_t offers;            /*!< Valid offers seen. */
	uint64_t rejected;          /*!< Snapshots rejected by the driver. */
	uint64_t retries;           /*!< RETRY inputs. */
	uint64_t served_chunks;     /*!< DATA messages sent. */
	uint64_t served_bytes;
} xfer_stats_t;

int xfer_create(const bft_params_t *params, xfer_t **out);
void xfer_destroy(xfer_t *xfer);
int xfer_handle_input(xfer_t *xfer, const uint8_t *input, size_t len,
                      const bft_env_t *env, bft_step_t *step);
int xfer_handle_message(xfer_t *xfer, bft_node_t from, const uint8_t *msg, size_t len,
                        const bft_env_t *env, bft_step_t *step);
void xfer_stats(const xfer_t *xfer, xfer_stats_t *out);

/*! Encodes an input (out: at least 9 bytes); returns its length. */
size_t xfer_input_encode(uint8_t kind, uint64_t k, uint8_t out[9]);

/*! Reads a BEGIN output: false if malformed (our own bytes: a bug). */
bool xfer_begin_decode(const uint8_t *data, size_t len, bft_node_t *source, uint64_t *k,
                       uint64_t *size, const uint8_t **cert, size_t *cert_len);
/*! Reads a CHUNK output. */
bool xfer_chunk_decode(const uint8_t *data, size_t len, uint64_t *offset,
                       const uint8_t **bytes, size_t *bytes_len);
/*! Reads a DONE output. */
bool xfer_done_decode(const uint8_t *data, size_t len, bft_node_t *source, uint64_t *k);

extern const bft_protocol_ops_t xfer_ops;
