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
 * Asynchronous atomic broadcast: every zone change of bftdns goes through
 * it (doc/broadcast.md). HoneyBadgerBFT's epochs without threshold
 * encryption:
 *
 *   epoch e: each node proposes a batch of its pending requests and its
 *   clock (batch.h) to the epoch's ACS (acs.h); the ACS output, the same
 *   subset of >= n - f proposals everywhere, is delivered in proposer
 *   order as one batch: requests not delivered in the last DEDUP window
 *   (by SHA-256 of their bytes) and not repeated in the batch, with the
 *   agreed time (batch_agreed_time). Then epoch e + 1.
 *
 * A client request given to node i is forwarded by i to every node (its
 * origin is i); all nodes keep it pending until it is delivered in anyone's
 * batch. Node i proposes it at once, the others only after i failed to get
 * it in for ABC_FORWARD_DELAY agreed epochs: epochs in which i's proposal
 * was not in the subset, or was but had room for it (a busy origin whose
 * full proposals drain its queue is not overtaken). So normally one copy
 * travels, and a request whose origin is left out of the subsets, or is
 * faulty, still gets in: n - f proposals include f + 1 correct ones.
 *
 * A node proposes in an epoch while it has pending requests, or once the
 * proposals of f + 1 nodes for that epoch arrived (a correct node wants it); an idle
 * system sends nothing, and one faulty node alone cannot make the correct
 * ones run epochs for ever. Every correct node has every pending request
 * of a correct origin, so all want the same epochs.
 *
 * Memory: epochs up to ABC_EPOCHS_AHEAD beyond the current one are kept
 * (a node may run ahead of us; its ACS waits for us); messages for later
 * ones are kept per sender until we get there (ABC_PARK_*, then dropped),
 * without blame (only a faulty node, or one that has not yet heard that
 * we restarted, sends them); finished epochs are freed at
 * once, and messages for them are dropped silently. Pending requests: at
 * most ABC_QUEUE_MAX requests and ABC_QUEUE_BYTES_MAX bytes in all, at
 * most (ABC_QUEUE_MAX / 2) / n and (ABC_QUEUE_BYTES_MAX / 2) / n forwarded
 * ones per origin, and half that of this node's own (input beyond is
 * BFT_EAGAIN: back-pressure to the caller; a correct origin thereby never
 * forwards more than its peers keep for it).
 *
 * Lagging nodes (doc/broadcast.md, "Catch-up"). Every node announces the
 * epoch it works on (STARTED) when it moves on; a sender holds back, per
 * peer and bounded, epoch messages more than ABC_EPOCHS_AHEAD ahead of the
 * epoch that peer announced, and releases them when it announces more
 * (hbbft's sender queue), so a slow correct node is never sent what it
 * would have to drop. Every node keeps its last retain_max delivered
 * batches. A node that sees f + 1 peers announce epochs at least
 * ABC_FETCH_LAG beyond its own (1 right after a restart) asks them
 * (FETCH) for batches from its epoch on; it takes batch e once f + 1
 * peers sent the same bytes for it (one of them is correct, and all
 * correct nodes deliver the same batch e), delivers it like one of its
 * own and jumps to e + 1. A node further behind than its peers retain
 * cannot catch up this way: that needs a state transfer (not here).
 *
 * Restart: abc_restore() replays batches delivered before (the caller's
 * log, oldest first) into a fresh instance, or abc_restore_at() goes on
 * at a position without them, then abc_start() announces its epoch so
 * that peers answer with theirs. What the node does in the epochs its
 * earlier incarnation may have spoken in depends on its votes:
 * - Durable votes (conf->votes_durable; doc/broadcast.md, "Restart"):
 *   every epoch message the node sends passes the vote guard
 *   (abc_votes.h). A vote (RBC VALUE, ECHO, READY; ABA AUX, CONF, TERM)
 *   not sent before is kept and output (ABC_OUTPUT_VOTE) in the same step,
 *   before the message; the driver makes the output durable before it
 *   sends the step's messages and gives the records back after a restart
 *   (abc_restore_vote()). A vote whose slot already holds another one is
 *   never sent (votes_suppressed): the node cannot contradict what it
 *   said before the crash, so it takes part at once, like a slow correct
 *   node, and needs no silence. Relays (BVAL, COIN) are kept and output
 *   too, so that a restarted peer can rebuild its rounds.
 * - Otherwise the node stays silent in those epochs and fetches them,
 *   unless every peer restarted too or says it holds nothing of that
 *   incarnation (CLEAN). This is unsafe if every replica restarts at once
 *   (each may then speak afresh in an epoch some replica finished).
 * Every node keeps what it sent in the last ABC_VOTES_KEEP delivered
 * epochs and the open ones, and re-sends it to a peer that announces a
 * restart (HELLO), from the epoch the peer announced on, and, after its
 * own restart with durable votes, to every peer once it learns its epoch:
 * a restarted node's received state is rebuilt from them. At most
 * ABC_VOTES_RESEND_* go per call, the rest in later calls, abc_tick()
 * among them, so that they never wait for unrelated traffic.
 *
 * Clock: env->now_ms is taken as the node's wall clock (Unix time in ms);
 * the driver passes CLOCK_REALTIME for this protocol.
 *
 * Misbehaviour modes (abc_mode_t, conf->mode) are for tests and
 * demonstrations of what n >= 3f + 1 tolerates; the default is honest, and
 * an honest node pays one comparison per call for them (abc_mode.c):
 * - SILENT: the node sends no message at all to a peer (no REQUEST
 *   forwarding, proposal, ECHO, READY, agreement vote, coin share,
 *   STARTED, FETCH or catch-up answer; copies to itself are kept, so its
 *   own state stays consistent). It still takes inputs and messages and
 *   delivers what the others agree on, until it falls behind: it never
 *   announces its epoch, so after ABC_EPOCHS_AHEAD epochs its peers hold
 *   their epoch messages back for it, and it cannot fetch. For its peers
 *   it is a crashed node. Requests given only to it are never delivered.
 * - EQUIVOCATE: the node tells two halves of its peers different things
 *   (half B of epoch e: the peers j with j + e odd; the rest and itself
 *   get the honest messages). Its own proposal: half B gets another
 *   well-formed proposal (its requests in reverse order, clock + 1) in
 *   VALUE, and in its ECHO and READY of its own instance; in the other
 *   proposers' instances half B gets ECHOs with the value's last byte
 *   flipped and READYs with another digest; in agreement, half B gets the
 *   other bit in BVAL, AUX and TERM and another set in CONF (coin shares
 *   are verifiable and go out unchanged); a BATCH it serves to a peer of
 *   half B carries another time. Correct nodes still deliver the same
 *   batches and make progress; they blame it where one of them can see
 *   the lie: f + 1 ECHOs for each of two values of its instance
 *   (rbc.h: EQUIVOCATION), a served batch that f + 1 others contradict
 *   (ABC_FAULT_BAD_BATCH). A lie told to one node only is not provable.
  *
 * Wire: u8 kind, then
 *   1 EPOCH    u64 epoch, the epoch's ACS message
 *   2 REQUEST  a forwarded request (within the origin's quota)
 *   3 STARTED  u64 epoch the sender works on now, u8 flags (1: it just
 *              started, everyone answers with a STARTED of their own;
 *              2, in such an answer: the answering node holds no epoch
 *              message of the restarted one's earlier incarnation for the
 *              epochs it restarts in, abc_restore_at())
 *   4 FETCH    u64 first epoch wanted
 *   5 BATCH    one delivered batch (batch.h; its epoch is inside)
 *   6 GONE     u64 oldest epoch the sender still keeps (answer to a FETCH
 *              for older ones)
 *
 * An exact repeat of an epoch message is not blamed in the epochs right
 * after a restart of the sender or the receiver: re-sends of kept
 * messages (see "Restart") cross the originals.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/coin.h"
#include "coordinator/proto/protocol.h"

#define ABC_EPOCHS_AHEAD	4
#define ABC_QUEUE_MAX		4096
#define ABC_QUEUE_BYTES_MAX	(16u << 20)
#define ABC_DEDUP_WINDOW	16384
#define ABC_SESSION_MAX		32
#define ABC_BATCH_DEFAULT	64
/*! Epochs a forwarded request waits before others than its origin propose it. */
#define ABC_FORWARD_DELAY	2
/*! Delivered batches kept for lagging peers (default, and their bytes). */
#define ABC_RETAIN_DEFAULT	1024
#define ABC_RETAIN_MAX		65536
#define ABC_RETAIN_BYTES_MAX	(32u << 20)
/*! Epochs f + 1 peers must be ahead before a node fetches batches. */
#define ABC_FETCH_LAG		2
/*! Batches one FETCH is answered with, and their bytes (at least one batch). */
#define ABC_FETCH_BATCHES	16
#define ABC_FETCH_BYTES_MAX	(2u << 20)
/*! Bytes of fetched batches kept per peer until f + 1 agree. */
#define ABC_OFFER_BYTES_MAX	(4u << 20)
/*! Epoch messages held back per peer (count, bytes); the oldest go first. */
#define ABC_HOLD_MSGS_MAX	256
#define ABC_HOLD_BYTES_MAX	(2u << 20)
/*! Epoch messages beyond our window kept per peer until we get there (count, bytes). */
#define ABC_PARK_MSGS_MAX	256
#define ABC_PARK_BYTES_MAX	(2u << 20)

/*! Delivered epochs whose sent messages (votes) are kept for restarted peers. */
#define ABC_VOTES_KEEP		8
/*! Bytes of those of delivered epochs; the oldest epochs go first. The
 *  votes of epochs not yet delivered are never dropped (see abc_votes.h). */
#define ABC_VOTES_BYTES_MAX	(32u << 20)
/*! Kept messages re-sent per call (count, bytes); the rest go in later
 *  calls, abc_tick() among them, so an idle group gets them too. */
#define ABC_VOTES_RESEND_MSGS	256
#define ABC_VOTES_RESEND_BYTES	(4u << 20)

/*! Output tag: one delivered batch (batch.h, batch_reader_open()). */
#define ABC_OUTPUT_BATCH	1
/*!
 * Output tag (only with conf->votes_durable): the record of an epoch
 * message this node sends for the first time (abc_votes.h: u8 version,
 * u64 epoch, u32 targets, the abc wire message; abc_vote_record_epoch()).
 * Driver contract: the record is durable (written and synced) before any
 * message of the same step is sent, and every record of the earlier
 * incarnation is given back with abc_restore_vote() after a restart.
 * Records of epochs below (delivered epoch - ABC_VOTES_KEEP) may be
 * dropped by then. A record lost after its message went out lets the
 * node contradict itself after a crash: the safety hole this closes.
 */
#define ABC_OUTPUT_VOTE		2

/*! Fault: a proposal in the agreed subset that is not a well-formed batch. */
#define ABC_FAULT_BAD_PROPOSAL	(BFT_FAULT_PROTOCOL + 0x20)
/*! Fault: a fetched batch that differs from the one f + 1 peers sent. */
#define ABC_FAULT_BAD_BATCH	(BFT_FAULT_PROTOCOL + 0x21)

/*! How this replica behaves; anything but HONEST is a test mode (see above). */
typedef enum {
	ABC_MODE_HONEST = 0,
	ABC_MODE_SILENT,      /*!< Sends nothing to its peers (still receives, may deliver). */
	ABC_MODE_EQUIVOCATE,  /*!< Tells half of its peers different things. */
	ABC_MODES,
} abc_mode_t;

/*! "honest", "silent", "equivocate"; NULL if out of range. */
const char *abc_mode_name(abc_mode_t mode);
/*! Parses a mode name; BFT_EINVAL if unknown. */
int abc_mode_parse(const char *name, abc_mode_t *out);

/*! bft_params_t.conf (required); copied at create, the keys must outlive it. */
typedef struct {
	pcoin_keys_t coin;
	const uint8_t *session;     /*!< Names this replica group's coins, 1..ABC_SESSION_MAX. */
	size_t session_len;
	uint32_t batch_max;         /*!< Requests per proposal; 0: ABC_BATCH_DEFAULT. */
	uint32_t retain_max;        /*!< Batches kept for lagging peers; 0: ABC_RETAIN_DEFAULT. */
	bool coin_every_round;      /*!< See aba.h (tests). */
	abc_mode_t mode;            /*!< 0: honest. */
	/*! The driver keeps every ABC_OUTPUT_VOTE durably (see there) and
	 *  gives the earlier incarnation's back at a restart: a restart then
	 *  needs no silence. False when they are unknown (the first start with
	 *  them, a replica whose disk was wiped): the silent restart. */
	bool votes_durable;
	/*! With votes_durable: records are output as usual, but the records
	 *  given back may miss some of the earlier incarnation's (a vote log
	 *  begun while the replica had run without one, or begun anew after
	 *  damage), so this start keeps the silent restart. Restored records
	 *  are still never contradicted. */
	bool votes_incomplete;
	/*! Tests: kept messages re-sent per call, below ABC_VOTES_RESEND_MSGS
	 *  (0: that), to reach the per-call bound with few messages. */
	uint32_t resend_msgs_max;
} abc_conf_t;

typedef struct abc abc_t;

/*! Counters for tests, logs and benchmarks. */
typedef struct {
	uint64_t epoch;             /*!< The epoch being agreed on (= batches delivered). */
	uint64_t requests_delivered;
	uint64_t duplicates_dropped;/*!< Requests left out of a batch as already delivered. */
	uint64_t inputs_ignored;    /*!< Inputs already pending or delivered. */
	size_t pending;             /*!< Requests waiting for delivery. */
	uint64_t last_time_ms;      /*!< Agreed time of the last batch. */
	uint64_t batches_fetched;   /*!< Batches taken from peers (catch-up). */
	uint64_t fetches_sent;      /*!< FETCH messages sent. */
	uint64_t batches_served;    /*!< Batches sent to lagging peers. */
	uint64_t held;              /*!< Epoch messages held back for a lagging peer. */
	uint64_t held_dropped;      /*!< ... dropped again (bound, or the peer moved past). */
	uint64_t future_dropped;    /*!< Messages beyond our epoch window, dropped. */
	uint64_t parked;            /*!< ... kept instead until we got there (catch-up). */
	uint64_t kept_first;        /*!< Oldest delivered batch still kept. */
	size_t kept;                /*!< Delivered batches kept. */
	size_t dedup_keys;          /*!< Delivered requests in the dedup window. */
	/*! Peers that answered our FETCH with GONE: f + 1 of them mean we are
	 *  further behind than they keep, which needs a state transfer. */
	unsigned gone;
	/*! Votes not sent because this node had sent another one in the same
	 *  slot before a restart (abc_votes.h): each would have been a lie. */
	uint64_t votes_suppressed;
	uint64_t votes_resent;      /*!< Kept messages re-sent to restarted peers (and to self). */
	/*! Peers (this node included) whose re-send is not finished: it goes
	 *  on in later calls (abc_tick()); ours waits for our epoch to move. */
	unsigned resends_pending;
	uint64_t votes_restored;    /*!< Records taken by abc_restore_vote(). */
	size_t votes_kept;          /*!< Messages in the vote store ... */
	size_t votes_bytes;         /*!< ... and their bytes. */
} abc_stats_t;

int abc_create(const bft_params_t *params, abc_t **out);
void abc_destroy(abc_t *abc);
/*!
 * Replays a batch this node delivered before it restarted (its output
 * bytes), before any other call but abc_start(): its requests enter the
 * dedup window, its time becomes the last agreed time, it is kept for
 * lagging peers, and the next epoch is the one after it. The first batch
 * may have any epoch; each further one must be the next. For exact
 * duplicate suppression give batches back to epoch 0, or at least the
 * last ABC_DEDUP_WINDOW requests. BFT_EMALF for bytes that are not a
 * batch, BFT_EINVAL for a batch out of order.
 */
int abc_restore(abc_t *abc, const uint8_t *batch, size_t len);
/*!
 * Resumes without the bytes of the batches delivered before a restart
 * (abc_catchup.c): the node goes on at `epoch` (the batches before it were
 * delivered and applied: the caller kept their position durably, not their
 * bytes) with `last_time_ms`, the agreed time of batch epoch - 1 (0 for
 * epoch 0), which the next agreed time depends on. Before any other call
 * but abc_start(), instead of abc_restore(); implies a restart like it.
 * What is lost with the bytes: the node keeps no batch for lagging peers
 * (a FETCH for an older one is answered GONE), and its dedup window is
 * empty, so a request delivered before the restart that a faulty node
 * proposes again could be delivered again by this node while its peers
 * leave it out (doc/broadcast.md, "Restart"). BFT_EINVAL if called late or
 * twice.
 *
 * Silence after a restart (abc_start()) ends early once every peer either
 * announced itself with HELLO to this incarnation (it started after this
 * node's earlier incarnation) or answered its HELLO saying it holds no
 * epoch message of that incarnation for these epochs: then nothing this
 * node says can contradict what a peer holds, and a group of which more
 * than f replicas restarted (all silent in the same epochs, none ahead)
 * can go on. What it said while silent was held and goes out then.
 */
int abc_restore_at(abc_t *abc, uint64_t epoch, uint64_t last_time_ms);
/*!
 * Gives back one vote record (an ABC_OUTPUT_VOTE output of the earlier
 * incarnation), in any order, after abc_restore() or abc_restore_at() and
 * before abc_start(). The node will never send another message in that
 * record's slot, and re-sends it to its recorded targets (itself
 * included) as a restarted node. Records of epochs older than
 * ABC_VOTES_KEEP before the node's epoch are taken and dropped.
 * BFT_EMALF for bytes that are not a record for this group's n,
 * BFT_EINVAL if called late or for a record whose slot holds another
 * message already (a driver's bug); nothing changes then.
 */
int abc_restore_vote(abc_t *abc, const uint8_t *rec, size_t len);
/*!
 * Announces this node's epoch to all (STARTED with HELLO, so that every
 * peer answers with its own). Call once after create
 * and any abc_restore(); without it the first input or message announces.
 * `restarted` (implied by abc_restore() and abc_restore_vote()) says an
 * earlier incarnation of this node may have taken part in epochs from this
 * one on: it may have sent messages for up to ABC_EPOCHS_AHEAD epochs
 * beyond. With conf->votes_durable (and not votes_incomplete) the
 * restored votes keep it from contradicting those: it takes part at once,
 * gives its restored messages back to itself and to each peer once that
 * peer announced its epoch, and fetches as soon as f + 1 peers are one
 * epoch ahead. Without, anything it sent
 * for them now could contradict those: it stays silent in them (no
 * proposal, no ACS message) and fetches them as soon as f + 1 peers are
 * one epoch ahead; it takes part again after them. For the peers it is a
 * crashed node during those epochs (it counts against f).
 */
int abc_start(abc_t *abc, bool restarted, const bft_env_t *env, bft_step_t *step);
/*!
 * A client request (1..BATCH_REQUEST_MAX bytes) to order. One already
 * pending or recently delivered is ignored (BFT_EOK). BFT_EAGAIN if this
 * node's own pending requests reached their bound (try again once batches
 * were delivered).
 */
int abc_handle_input(abc_t *abc, const uint8_t *req, size_t len,
                     const bft_env_t *env, bft_step_t *step);
int abc_handle_message(abc_t *abc, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step);
/*!
 * The driver's periodic time input (every few tens of ms; its time is not
 * read): goes on with re-sends of kept messages (see "Restart") that the
 * per-call bound ABC_VOTES_RESEND_* left for later calls. Without it they
 * would wait for some other input or message, which an idle group after a
 * crash of all replicas may never get while it waits for them. Sends only
 * messages that were sent before, so nothing delivered depends on it; does
 * nothing when no re-send is pending.
 */
int abc_tick(abc_t *abc, const bft_env_t *env, bft_step_t *step);
/*! Never: the broadcast is a service. */
bool abc_terminated(const abc_t *abc);
void abc_stats(const abc_t *abc, abc_stats_t *out);

extern const bft_protocol_ops_t abc_ops;
