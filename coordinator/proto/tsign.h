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
 * Threshold signing over the network (doc/signing.md): the sans-I/O core
 * that turns one replica's Shoup key share into ordinary RSA signatures,
 * after Cachin and Samar (DSN 2004, section 3).
 *
 * The apply path gives every honest replica the same ordered requests; a
 * request is an instance id and the m digests (one per RRSIG) of one zone
 * change, signed together:
 *
 *   input request(id, alg, d_1..d_m)
 *       x_j = EMSA-PKCS1-v1_5(d_j); if we are in D(id): own shares of all
 *       x_j -> SHARES to all
 *   on SHARES: feed each share to the collector of its x_j (shoup.h);
 *       a collector that has heard every member of D(id) (or blamed it)
 *       and is not done -> HELP (below)
 *   OPTPROOF: a collector says NEED_PROOFS -> PROOF_REQ to all, and our
 *       own shares of those x_j with proofs -> SHARES to all; a replica
 *       that gets PROOF_REQ sends its shares with proofs to all (once)
 *   all m collectors DONE -> output the m signatures, and SIGS to every
 *       peer that was not seen finishing (a SIGS from it)
 *   on SIGS: each signature is used only if it verifies (RSA signatures
 *       are unique: a valid one is THE signature)
 *
 * Designated signers. k = f + 1 shares make a signature, and a share costs
 * far more than combining (a modular exponentiation by a secret of the
 * modulus' size), so only the f + 1 replicas of D(id) = { (b + p + j) mod n
 * : j = 0..f }, b and p the batch and position of id (tsign_id_make),
 * compute and send their shares at input; D rotates with the id, so the
 * work spreads over all replicas, and every replica derives the same D.
 * Every replica still collects and combines on its own: with D honest a
 * request costs one round, and (f + 1)/n of the shares it cost before.
 * A replica asks for help, and helps, when D is not enough:
 *   stuck: a collector not done although every member of D sent a share
 *       or was blamed (a bad share: OPTTE's combination failed, BASIC's
 *       proof did not verify), or the request is unfinished help_delay_ms
 *       after the first share of another member of D came (a silent or
 *       crashed member, or one that sent its share to some only) -> our own shares of
 *       those messages to all (if not sent yet), and HELP for them to all
 *       (once per message)
 *   on HELP: our shares of the messages named -> SHARES to all, each
 *       message's share computed and sent at most once (with its proof
 *       under BASIC); a finished replica answers with SIGS, once
 *   OPTPROOF: NEED_PROOFS is itself the evidence; PROOF_REQ already makes
 *       every replica, designated or not, send its proven shares.
 * A faulty peer's HELPs can only make us compute our shares of a request,
 * which is what every replica did before D existed: the work stays bounded
 * by one share (and one proof) per message per request. Safety never
 * depends on the delay (every signature is verified, and unique); the
 * delay only decides when liveness stops relying on D. It runs from a
 * share of D, not from our input: a replica that is ahead of D (the apply
 * pipelines of replicas drift apart by seconds under load) would
 * otherwise help with every request; D holds at least one correct member
 * when at most f are faulty, so its share always comes. Time comes in as
 * env->now_ms, at every call and through tsign_tick(), which the driver
 * calls periodically; with env NULL the delay counts from the first call
 * that brings a time. conf->designated = TSIGN_DESIGNATED_OFF makes every
 * replica sign every request at input (D is everyone), as before. A
 * replica outside D that may have lost messages of a request (RESEND,
 * below) sends no SHARES to carry the flag: it sends a RESEND message of
 * its own instead, answered the same way.
 *
 * Instances: ids grow with every input. Messages for ids not started yet
 * are kept (bounded per sender) if at most conf->window ids ahead of the
 * last started one, else dropped as BFT_FAULT_FUTURE. Finished instances
 * keep only their signatures (the last keep_max of them, at most
 * keep_bytes_max bytes), to answer a PROOF_REQ or a resend request with
 * SIGS; older ones are forgotten and late messages for them are ignored
 * without blame. A replica that catches up on old batches needs the
 * signatures of each of them, so the driver keeps as many as the batches
 * it keeps for lagging peers (coordinator/core/stack.c).
 *
 * A replica that may have lost messages of an instance (it dropped some as
 * FUTURE, or it restarted: conf->catchup_until) sets RESEND in its SHARES:
 * unfinished peers send it their shares again, finished peers their SIGS.
 * A peer answers the RESENDs of one replica for one request at most
 * TSIGN_RESEND_ANSWERS times: a replica restarted with nothing kept sends
 * the same bytes as its earlier incarnation did, so "once" left a replica
 * that was killed while signing a batch (or wiped and replaying from
 * batch 1) without an answer for good; the bound keeps a liar from making
 * it talk on.
 *
 * Faults: bytes that do not decode (MALFORMED); a request that differs
 * from ours (TSIGN_FAULT_MISMATCH: a replica that diverged, or lies); a
 * share that is proven bad or out of range, or a forwarded signature that
 * does not verify (INVALID); a second, different share for the same
 * message (EQUIVOCATION); a proof request where the strategy has none
 * (UNEXPECTED); too far ahead (FUTURE). Identical duplicates are no fault.
 *
 * Misbehaviour modes (tsign_mode_t) are for tests and demonstrations and
 * must be configured explicitly; the default is honest.
 *
 * The core reads no clock and no randomness (shares and proofs are
 * deterministic, coordinator/crypto/shoup.h): env may be NULL (then the
 * help delay only runs from calls that bring a time).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/crypto/shoup.h"
#include "coordinator/proto/protocol.h"

/*! Most messages (RRSIGs) one request may hold; conf->msgs_max may be lower. */
#define TSIGN_MSGS_MAX		256
/*! Largest digest of a DNSSEC RSA algorithm (SHA-512). */
#define TSIGN_DIGEST_MAX	64
/*! SHA-256 of a request, carried in SHARES to detect divergent replicas. */
#define TSIGN_RDIGEST_LEN	32

/*! tsign_id_make(): low bits are the position inside a batch. */
#define TSIGN_ID_POSITION_BITS	16

/*! Defaults of tsign_conf_t's bounds (0 in the conf means these). */
#define TSIGN_WINDOW_DEFAULT		(UINT64_C(8) << TSIGN_ID_POSITION_BITS)
#define TSIGN_ACTIVE_DEFAULT		32
#define TSIGN_KEEP_DEFAULT		64
#define TSIGN_FUTURE_MSGS_DEFAULT	64
#define TSIGN_FUTURE_BYTES_DEFAULT	(4u << 20)
#define TSIGN_KEEP_BYTES_DEFAULT	(32u << 20)
/*! Default of tsign_conf_t.help_delay_ms: a few rounds under load. */
#define TSIGN_HELP_DELAY_DEFAULT	500
/*! Answers to one peer's RESENDs for one request (see above). */
#define TSIGN_RESEND_ANSWERS		8
/*! Hard bounds of the same. */
#define TSIGN_ACTIVE_MAX		1024
#define TSIGN_KEEP_MAX			4096
#define TSIGN_FUTURE_MSGS_MAX		4096

/*! Output tag: the signatures of one request (tsign_output_decode()). */
#define TSIGN_OUTPUT_SIGS	1

/*! Fault: a peer's request (digest or size) differs from ours. */
#define TSIGN_FAULT_MISMATCH	(BFT_FAULT_PROTOCOL + 0x40)

/*! How this replica behaves; anything but HONEST is a test mode. */
typedef enum {
	TSIGN_MODE_HONEST = 0,
	TSIGN_MODE_INVERT_SHARES,  /*!< Every bit of every share value it sends inverted (the paper's). */
	TSIGN_MODE_RANDOM_SHARES,  /*!< Share values replaced by pseudo-random ones in [1, N). */
	TSIGN_MODE_SILENT_SIGNER,  /*!< Sends nothing (still collects and outputs). */
	TSIGN_MODES,
} tsign_mode_t;

/*! "honest", "invert-shares", "random-shares", "silent-signer"; NULL if out of range. */
const char *tsign_mode_name(tsign_mode_t mode);
/*! Parses a mode name; BFT_EINVAL if unknown. */
int tsign_mode_parse(const char *name, tsign_mode_t *out);

/*! Who signs at input (see "Designated signers" above). */
typedef enum {
	TSIGN_DESIGNATED_ON = 0,   /*!< The f + 1 of D(id); the default. */
	TSIGN_DESIGNATED_OFF,      /*!< Every replica, every request. */
} tsign_designated_t;

/*!
 * bft_params_t.conf (required). Read at create; pub and secrets must
 * outlive the instance.
 */
typedef struct {
	const shoup_public_t *pub;        /*!< Checked by the caller (shoup_public_check). */
	const shoup_secret_t *secrets;    /*!< This replica's (count 1), or all n (tests):
	                                       node i takes secrets[i]. */
	size_t secret_count;
	shoup_strategy_t strategy;        /*!< The same on every replica. */
	tsign_mode_t mode;
	uint16_t msgs_max;                /*!< Per request; 0: TSIGN_MSGS_MAX. */
	uint64_t window;                  /*!< Ids ahead kept; 0: TSIGN_WINDOW_DEFAULT. */
	uint64_t start_id;                /*!< The first id may be this or above. */
	uint64_t catchup_until;           /*!< Ids up to this start with RESEND (after a
	                                       restart); 0: none. */
	uint32_t active_max;              /*!< Unfinished requests; 0: default. */
	uint32_t keep_max;                /*!< Finished ones kept; 0: default. */
	uint32_t keep_bytes_max;          /*!< Their signatures' bytes (the newest is
	                                       always kept); 0: default. */
	uint32_t future_msgs_max;         /*!< Early messages kept per sender; 0: default. */
	uint32_t future_bytes_max;        /*!< Their bytes per sender; 0: default. */
	tsign_designated_t designated;    /*!< The same on every replica. */
	uint32_t help_delay_ms;           /*!< Unfinished this long: help and ask for it;
	                                       0: TSIGN_HELP_DELAY_DEFAULT. */
} tsign_conf_t;

/*! One signing request: m digests of alg, digests[j * digest_size ...]. */
typedef struct {
	uint64_t id;
	uint8_t alg;                      /*!< DNSSEC algorithm number (dnssec_alg.h). */
	uint16_t count;                   /*!< m, 1..TSIGN_MSGS_MAX. */
	const uint8_t *digests;
} tsign_request_t;

/*!
 * The instance id the apply path derives the same way on every replica:
 * the batch number and the position of the change inside the batch
 * (position below 2^TSIGN_ID_POSITION_BITS, batch below 2^48).
 */
uint64_t tsign_id_make(uint64_t batch, uint32_t position);

/*!
 * True if node is one of the f + 1 designated signers of request id among
 * n replicas (see above); the same on every replica.
 */
bool tsign_designated(uint16_t n, uint16_t f, uint64_t id, bft_node_t node);

/*! Bytes of an encoded request (the ops view's input); 0 if req is bad. */
size_t tsign_request_size(const tsign_request_t *req);
/*!
 * Input encoding: u64 id, u8 alg, u16 m, m digests of the algorithm's size.
 * BFT_EINVAL if req is bad, BFT_ESPACE if cap is too small.
 */
int tsign_request_encode(const tsign_request_t *req, uint8_t *buf, size_t cap, size_t *len);
/*! Strict decode (digests point into buf); BFT_EMALF unless exactly one request. */
int tsign_request_decode(const uint8_t *buf, size_t len, uint16_t msgs_max, tsign_request_t *req);

/*!
 * Reads a TSIGN_OUTPUT_SIGS output: u64 id, u16 m, u16 L, then m
 * signatures of L bytes each (big-endian, left-padded: RRSIG fields).
 */
int tsign_output_decode(const uint8_t *buf, size_t len, uint64_t *id, uint16_t *count,
                        size_t *sig_len, const uint8_t **sigs);

typedef struct tsign tsign_t;

/*! Counters for tests, logs and benchmarks. */
typedef struct {
	uint64_t started;          /*!< Requests input. */
	uint64_t finished;         /*!< Requests output. */
	uint64_t finished_by_sigs; /*!< ...with at least one forwarded signature. */
	uint64_t shares_made;      /*!< Own shares computed without a proof. */
	uint64_t help_shares;      /*!< Of shares_made and proofs_made: outside D(id). */
	uint64_t help_requests;    /*!< HELP messages sent. */
	uint64_t helps_answered;   /*!< Peers' HELPs that made us send shares or SIGS. */
	uint64_t proofs_made;      /*!< Own shares computed with a proof. */
	uint64_t proof_requests;   /*!< PROOF_REQ messages sent. */
	uint64_t sigs_sent;        /*!< SIGS messages sent (forward or answer). */
	uint64_t resends;          /*!< Answers to RESEND. */
	uint64_t combine_attempts; /*!< Summed over finished requests' collectors. */
	uint64_t future_kept;      /*!< Early messages kept. */
	uint64_t future_dropped;   /*!< Early messages dropped (FUTURE). */
	uint64_t late_ignored;     /*!< Messages for forgotten instances. */
	uint64_t msgs_sent;        /*!< Messages put in steps. */
	uint64_t bytes_sent;       /*!< Their bytes, times their targets. */
	uint64_t restored;         /*!< Finished requests given back (tsign_restore()). */
} tsign_stats_t;

int tsign_create(const bft_params_t *params, tsign_t **out);
void tsign_destroy(tsign_t *ts);

/*!
 * Starts a request. Its id must be above the last one (and at least
 * conf->start_id); BFT_EINVAL otherwise, or for an unknown algorithm, a
 * bad count, a digest whose encoding does not fit the key. BFT_EAGAIN if
 * active_max requests are unfinished (back-pressure).
 */
int tsign_start(tsign_t *ts, const tsign_request_t *req, bft_step_t *step);

/*!
 * Gives back a request this replica finished before a restart, with its
 * count signatures of sig_len bytes (the output's, in the request's digest
 * order; the driver keeps them durably, module/batchstore.h): it is kept
 * as a finished instance, so that a peer that catches up on that batch and
 * sends RESEND gets SIGS, as if this process had signed it. A replica
 * restarted after a batch has no shares of it to give (its dry-run digests
 * are of a zone state it no longer has), so without this a peer behind
 * that batch waits for good when every peer restarted since.
 *
 * Only before the first tsign_start() and only for ids below
 * conf->start_id (never in place of a request this process starts);
 * BFT_EINVAL otherwise, or for a bad algorithm, count or sig_len, or a
 * signature that does not verify for its digest (bytes from disk are not
 * trusted; receivers verify forwarded signatures against their own digests
 * too, so a wrong one would only be rejected there). BFT_EEXIST if id is
 * kept already. Bounded like finished requests (keep_max,
 * keep_bytes_max): the oldest kept goes, or BFT_ESPACE if that would be
 * this one. Give them oldest first.
 */
int tsign_restore(tsign_t *ts, const tsign_request_t *req, size_t sig_len, const uint8_t *sigs);

/*! The ops view's input: an encoded request (tsign_request_encode). */
int tsign_handle_input(tsign_t *ts, const uint8_t *input, size_t len,
                       const bft_env_t *env, bft_step_t *step);
int tsign_handle_message(tsign_t *ts, bft_node_t from, const uint8_t *msg, size_t len,
                         const bft_env_t *env, bft_step_t *step);
/*!
 * The driver's periodic call (any period below help_delay_ms): requests
 * unfinished help_delay_ms after they started ask for help (see above).
 */
int tsign_tick(tsign_t *ts, const bft_env_t *env, bft_step_t *step);
/*! Never: signing is a service. */
bool tsign_terminated(const tsign_t *ts);
/*! True if no request is unfinished. */
bool tsign_idle(const tsign_t *ts);
/*! True if request id finished here and is still kept. */
bool tsign_finished(const tsign_t *ts, uint64_t id);
void tsign_stats(const tsign_t *ts, tsign_stats_t *out);

/*! Names TSIGN_FAULT_*; NULL for others. */
const char *tsign_fault_name(uint16_t kind);

extern const bft_protocol_ops_t tsign_ops;
