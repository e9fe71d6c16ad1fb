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
 * The threshold signing core's state, shared by its files; not API.
 *
 * tsign.c       the service: instance table, id window, early messages,
 *               routing, the ops view
 * tsign_inst.c  one unfinished request: own shares, collectors, fallback
 * tsign_send.c  building the messages, the misbehaviour modes, finished
 *               requests answering late peers
 * tsign_msg.c   the wire format
 * tsign_request.c  request and output encodings, names
 * tsign_restore.c  finished requests given back after a restart
 */

#pragma once

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "coordinator/proto/tsign.h"
#include "coordinator/proto/tsign_msg.h"

/*! A set of message indexes 0..TSIGN_MSGS_MAX-1. */
typedef struct {
	uint64_t w[TSIGN_MSGS_MAX / 64];
} tsign_bits_t;

static inline void tsign_bits_set(tsign_bits_t *b, unsigned i)
{
	assert(i < TSIGN_MSGS_MAX);
	b->w[i / 64] |= UINT64_C(1) << (i % 64);
}

static inline bool tsign_bits_has(const tsign_bits_t *b, unsigned i)
{
	assert(i < TSIGN_MSGS_MAX);
	return (b->w[i / 64] >> (i % 64)) & 1;
}

static inline unsigned tsign_bits_count(const tsign_bits_t *b)
{
	unsigned count = 0;
	for (unsigned i = 0; i < TSIGN_MSGS_MAX / 64; i++) {
		count += (unsigned)__builtin_popcountll(b->w[i]);
	}
	return count;
}

/*! out = a & ~b. */
static inline void tsign_bits_minus(tsign_bits_t *out, const tsign_bits_t *a,
                                    const tsign_bits_t *b)
{
	for (unsigned i = 0; i < TSIGN_MSGS_MAX / 64; i++) {
		out->w[i] = a->w[i] & ~b->w[i];
	}
}

/*! a |= b. */
static inline void tsign_bits_add(tsign_bits_t *a, const tsign_bits_t *b)
{
	for (unsigned i = 0; i < TSIGN_MSGS_MAX / 64; i++) {
		a->w[i] |= b->w[i];
	}
}

/*! The set {0..m-1}. */
static inline void tsign_bits_all(tsign_bits_t *b, unsigned m)
{
	*b = (tsign_bits_t){ { 0 } };
	for (unsigned i = 0; i < m; i++) {
		tsign_bits_set(b, i);
	}
}

typedef enum {
	TSIGN_INST_FREE = 0,
	TSIGN_INST_ACTIVE,      /*!< Started, collecting. */
	TSIGN_INST_FINISHED,    /*!< Output; only the signatures are kept. */
} tsign_state_t;

/*! Bytes before the signatures in an output: u64 id, u16 m, u16 L. */
#define TSIGN_OUTPUT_HDR	12

typedef struct {
	tsign_state_t state;
	uint64_t id;
	uint16_t m;
	uint8_t rdigest[TSIGN_RDIGEST_LEN];
	bool resend;                    /*!< Our SHARES carry RESEND. */
	bft_nodeset_t dset;             /*!< D(id): who signs at input (all if designated is off). */
	bool designated;                /*!< We are in dset. */
	bool timing;                    /*!< A share from another member of D came: the
	                                     help delay runs from start_ms. */
	bool clocked;                   /*!< start_ms is a time from env. */
	bool overdue;                   /*!< Unfinished help_delay_ms after start_ms. */
	uint64_t start_ms;
	/* ACTIVE: m of each. */
	shoup_collector_t *cols;
	shoup_share_t *own;             /*!< Our true shares (has_proof once proven). */
	tsign_bits_t own_proven;
	tsign_bits_t proofs_sent;       /*!< Our proven shares went to all. */
	tsign_bits_t requested;         /*!< We asked all for proofs. */
	tsign_bits_t shares_sent;       /*!< Our shares went to all (with proofs under BASIC). */
	tsign_bits_t fed;               /*!< Our share is in our collector. */
	tsign_bits_t help_asked;        /*!< We sent HELP for these. */
	tsign_bits_t done;              /*!< The collector has the signature. */
	bool used_sigs;                 /*!< A forwarded signature finished one. */
	/* Both states. */
	bft_nodeset_t finished_peers;   /*!< Sent us SIGS. */
	bft_nodeset_t sigs_to;          /*!< We sent them SIGS. */
	uint8_t resend_answers[BFT_NODES_MAX]; /*!< Their RESENDs answered (TSIGN_RESEND_ANSWERS). */
	/* FINISHED: the output, TSIGN_OUTPUT_HDR + m * L bytes; SIGS' body follows the header. */
	uint8_t *output;
	size_t output_len;
} tsign_inst_t;

/*! A message that came before its request was input. */
typedef struct tsign_early {
	struct tsign_early *next;
	uint64_t id;
	bft_node_t from;
	size_t len;
	uint8_t data[];
} tsign_early_t;

struct tsign {
	bft_params_t params;
	tsign_conf_t conf;              /*!< Copy, defaults filled in. */
	const shoup_public_t *pub;
	const shoup_secret_t *secret;
	tsign_sizes_t sizes;
	bft_nodeset_t others;           /*!< Every node but this one. */
	bool started;                   /*!< A request was input. */
	uint64_t last_id;               /*!< Its id (else conf.start_id). */
	bool lost;                      /*!< Messages may have been lost... */
	uint64_t lost_max;              /*!< ...for ids up to this one. */
	tsign_inst_t *insts;
	uint32_t inst_cap;
	uint32_t active_count;
	uint32_t finished_count;
	size_t finished_bytes;          /*!< Their outputs' bytes. */
	tsign_early_t *early_head;
	tsign_early_t *early_tail;
	uint32_t early_msgs[BFT_NODES_MAX];
	size_t early_bytes[BFT_NODES_MAX];
	uint8_t *scratch;               /*!< Entries of a message being built. */
	size_t scratch_cap;
	bool clocked;                   /*!< now_ms came from an env. */
	uint64_t now_ms;                /*!< The latest env->now_ms. */
	uint64_t next_check_ms;         /*!< No request becomes overdue before this. */
	tsign_stats_t stats;
};

/*! Peers blamed while one message was handled, reported once each. */
typedef struct {
	bft_nodeset_t invalid;
	bft_nodeset_t equivocation;
} tsign_blame_t;

void tsign_blame_report(const tsign_blame_t *blame, bft_step_t *step);

/* tsign_inst.c */

/*! Makes inst ACTIVE for req (collectors ready; nothing signed or sent). */
int tsign_inst_open(tsign_t *ts, tsign_inst_t *inst, const tsign_request_t *req);
/*! Frees everything; inst becomes FREE. */
void tsign_inst_release(tsign_inst_t *inst);
/*! In D: our shares of every message computed, sent, fed to our collectors. */
int tsign_inst_begin(tsign_t *ts, tsign_inst_t *inst, bft_step_t *step);
/*! Unfinished help_delay_ms after it started: ask for help (may finish it). */
int tsign_inst_on_overdue(tsign_t *ts, tsign_inst_t *inst, bft_step_t *step);
/*! A decoded message for an ACTIVE inst (may finish it). */
int tsign_inst_on_message(tsign_t *ts, tsign_inst_t *inst, bft_node_t from,
                          const tsign_msg_t *msg, bft_step_t *step);
/*! Outputs and forwards once every collector is done; then FINISHED. */
int tsign_inst_try_finish(tsign_t *ts, tsign_inst_t *inst, bft_step_t *step);

/* tsign_send.c */

/*! Sends a message: header and entries (nothing in silent-signer mode). */
int tsign_send(tsign_t *ts, bft_nodeset_t to, const uint8_t *hdr, size_t hdr_len,
               const uint8_t *body, size_t body_len, bft_step_t *step);
/*! Our shares of the messages in which, with proofs or not, to `to` (mode applied). */
int tsign_send_shares(tsign_t *ts, tsign_inst_t *inst, const tsign_bits_t *which,
                      bool proofs, bft_nodeset_t to, bft_step_t *step);
/*! PROOF_REQ (or HELP) for the messages in which, to every peer. */
int tsign_send_proof_req(tsign_t *ts, tsign_inst_t *inst, tsign_kind_t kind,
                         const tsign_bits_t *which, bft_step_t *step);
/*! RESEND (no shares: we are outside D) to every peer. */
int tsign_send_resend(tsign_t *ts, tsign_inst_t *inst, bft_step_t *step);
/*! SIGS of a FINISHED inst to `to`. */
int tsign_send_sigs(tsign_t *ts, tsign_inst_t *inst, bft_nodeset_t to, bft_step_t *step);
/*! A message for a FINISHED inst: answered with SIGS where a peer needs them. */
int tsign_finished_on_message(tsign_t *ts, tsign_inst_t *inst, bft_node_t from,
                              const tsign_msg_t *msg, bft_step_t *step);

/* tsign_request.c */

/*! SHA-256 of the request's encoding. */
void tsign_request_digest(const tsign_request_t *req, uint8_t out[TSIGN_RDIGEST_LEN]);
