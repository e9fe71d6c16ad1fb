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
 * The atomic broadcast's state, shared by abc.c (epochs, requests,
 * delivery), abc_hold.c (epoch messages held back for lagging peers),
 * abc_catchup.c (announcements, kept batches, fetching) and abc_guard.c
 * (the vote guard: what was sent, restored votes, re-sends). Not an API.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/abc.h"
#include "coordinator/proto/abc_votes.h"
#include "coordinator/proto/acs.h"
#include "coordinator/proto/dedup.h"

#define ABC_RING	(ABC_EPOCHS_AHEAD + 1)

enum {
	ABC_MSG_EPOCH   = 1,
	ABC_MSG_REQUEST = 2,
	ABC_MSG_STARTED = 3,
	ABC_MSG_FETCH   = 4,
	ABC_MSG_BATCH   = 5,
	ABC_MSG_GONE    = 6,
};

/* Epochs beyond a restart's epoch in which a repeated epoch message is no
 * fault: re-sends (abc_guard.c) cross the originals in flight. Our window,
 * and a peer's window beyond it that it may re-send in. */
#define ABC_DUP_SPAN	(2 * ABC_EPOCHS_AHEAD + 2)

/*! STARTED flag: the sender just started and wants everyone's epoch. */
#define ABC_STARTED_HELLO	0x01
/*! STARTED flag, in an answer to a HELLO: the sender holds no epoch message
 *  of the HELLO's sender's earlier incarnation that it could contradict
 *  (abc_catchup.c, abc_resume_check()). */
#define ABC_STARTED_CLEAN	0x02

/* A pending request: its bytes, its digest (the dedup key), the node a
 * client gave it to, and (forwarded ones) the delivered epochs in which
 * its origin could have got it in and did not (abc_queue_age()). */
typedef struct {
	uint8_t *data;
	uint32_t len;
	uint8_t key[DEDUP_KEY_LEN];
	bft_node_t origin;
	uint32_t waited;
} abc_req_t;

/* An epoch message held back for a peer (header included). */
typedef struct abc_held {
	struct abc_held *next;
	uint64_t epoch;
	uint32_t len;
	uint8_t data[];
} abc_held_t;

/* A batch a peer sent us while we catch up, and its digest. */
typedef struct {
	uint8_t *data;
	uint32_t len;
	uint8_t digest[DEDUP_KEY_LEN];
} abc_offer_t;

/* What we know of one peer. */
typedef struct {
	uint64_t epoch;             /*!< The epoch it last announced (0 before). */
	bool replied;               /*!< We answered a STARTED of it ... */
	uint64_t replied_at;        /*!< ... when we were in this epoch. */
	bool hello_answered;        /*!< The same for its HELLOs. */
	uint64_t hello_answered_at;
	/* Restarts (abc_catchup.c): the highest epoch of an epoch message it
	 * sent us since its last HELLO, and whether it said (CLEAN) that it
	 * holds nothing our earlier incarnation said in our epochs. */
	bool heard;
	uint64_t heard_max;
	bool clean;
	/* Epoch messages held back for it, oldest first. */
	abc_held_t *held_head;
	abc_held_t *held_tail;
	size_t held_count;
	size_t held_bytes;
	/* As a server of its FETCHes: the end of the range we last sent and
	 * our epoch then (a repeat is answered only after we moved on). */
	bool served;
	uint64_t served_end;
	uint64_t served_at;
	/* As a client: our epoch and its announced one when we last asked it. */
	bool asked;
	uint64_t asked_epoch;
	uint64_t asked_its_epoch;
	size_t offer_bytes;         /*!< Bytes of its offers we hold. */
	bool gone;                  /*!< It said our epoch is older than it keeps. */
	/* Its epoch messages for epochs beyond our window, oldest first, kept
	 * until we get there: it sent them before it knew how far behind we
	 * are (we restarted), and will not send them again. */
	abc_held_t *parked_head;
	abc_held_t *parked_tail;
	size_t parked_count;
	size_t parked_bytes;
	/* Re-sending our kept messages to it (abc_guard.c) from resend_epoch,
	 * entry resend_index on; votes_owed: we restarted with durable votes
	 * and give them back once it announces its epoch. peers[self] is the
	 * re-send of our restored messages to ourselves. */
	bool resend;
	uint64_t resend_epoch;
	size_t resend_index;
	bool votes_owed;
	/* An exact repeat of its epoch message for an epoch below this is not
	 * blamed: one of us restarted, and re-sends cross originals. */
	uint64_t dup_ok_until;
} abc_peer_t;

/* A delivered batch kept for lagging peers. */
typedef struct {
	uint8_t *data;
	uint32_t len;
} abc_kept_t;

struct abc {
	bft_params_t params;
	pcoin_keys_t keys;
	uint8_t session[ABC_SESSION_MAX];
	size_t session_len;
	uint32_t batch_max;
	bool coin_every_round;

	uint64_t epoch;                 /*!< The epoch to deliver next. */
	bool proposed;                  /*!< We proposed in `epoch`. */
	acs_t *acs[ABC_RING];           /*!< acs[e % ABC_RING] for e in [epoch, epoch + AHEAD]. */
	uint64_t last_time_ms;
	bool used;                      /*!< Anything but abc_restore() happened. */
	bool restored;                  /*!< abc_restore() took a batch. */
	/* The silence ended early (abc_resume_check()): until silent_until the
	 * node still fetches as soon as f + 1 peers are one epoch ahead. */
	bool resumed_early;

	abc_req_t queue[ABC_QUEUE_MAX]; /*!< Pending requests, oldest first. */
	size_t queue_count;
	size_t queue_bytes;
	size_t queued_from[BFT_NODES_MAX];       /*!< Requests pending, per origin. */
	size_t queued_bytes_from[BFT_NODES_MAX]; /*!< Their bytes. */
	dedup_t *delivered;             /*!< Digests of recently delivered requests. */

	abc_peer_t peers[BFT_NODES_MAX];
	bool hello;                     /*!< abc_start(): announce with HELLO. */
	bool announced_any;
	uint64_t announced;             /*!< The epoch we last announced. */
	/* After a restart our earlier incarnation may have sent messages for
	 * epochs up to ABC_EPOCHS_AHEAD beyond the one we restart in; what we
	 * would send for them now could contradict those, so we stay silent
	 * in them (up to silent_until) and fetch them. */
	bool restarted;
	uint64_t silent_until;
	size_t parked_total;            /*!< Sum of the peers' parked_count. */
	uint64_t parked_min;            /*!< At most the lowest parked epoch. */
	bool fetching;                  /*!< Our last batch was fetched: catching up. */

	/* What we sent in the kept epochs (abc_guard.c, abc_votes.h). */
	abc_votes_t votes;
	bool votes_durable;             /*!< conf->votes_durable. */
	uint32_t resend_msgs_max;       /*!< Re-sends per call (conf, at most ABC_VOTES_RESEND_MSGS). */
	bool votes_incomplete;          /*!< conf->votes_incomplete. */

	/* The last delivered batches: kept[(kept_head + i) % kept_cap] is
	 * epoch kept_first + i, i < kept_count. */
	abc_kept_t *kept;
	size_t kept_cap;
	size_t kept_head;
	size_t kept_count;
	size_t kept_bytes;
	uint64_t kept_first;

	/* Batches offered for epochs [epoch, epoch + ABC_FETCH_BATCHES):
	 * offers[e % ABC_FETCH_BATCHES][sender], valid if offer_epoch matches. */
	abc_offer_t offers[ABC_FETCH_BATCHES][BFT_NODES_MAX];
	uint64_t offer_epoch[ABC_FETCH_BATCHES];

	abc_stats_t stats;
	bft_step_t scratch;
	uint8_t *proposal;              /*!< BATCH_PROPOSAL_MAX bytes, reused. */

	/* Misbehaviour (abc_mode.c); all unused while honest. */
	abc_mode_t mode;
	bool alt_valid;                 /*!< alt is our other proposal for alt_epoch. */
	uint64_t alt_epoch;
	uint8_t *alt;                   /*!< BATCH_PROPOSAL_MAX bytes. */
	size_t alt_len;
	uint8_t alt_digest[DEDUP_KEY_LEN];  /*!< SHA-256 of alt ... */
	uint8_t real_digest[DEDUP_KEY_LEN]; /*!< ... and of the proposal we made. */
	uint8_t *lie;                   /*!< A message being altered, lie_cap bytes. */
	size_t lie_cap;
};

/* abc.c */
void abc_digest(const uint8_t *data, size_t len, uint8_t out[DEDUP_KEY_LEN]);
/*!
 * Takes a delivered batch (ours, fetched or restored; its epoch must be
 * abc->epoch) as the next one: its keys enter the dedup window unless
 * keys_done, its time, a kept copy, the output if step is not NULL, then
 * the next epoch. BFT_EINVAL if it is not the next batch.
 */
int abc_commit(abc_t *abc, const uint8_t *batch, size_t len, bool keys_done, bft_step_t *step);
/*! True if we send nothing for epoch (we restarted, see `restarted`). */
bool abc_silent(const abc_t *abc, uint64_t epoch);

/* abc_mode.c */
/*! Equivocate: makes the other proposal for `epoch` from our real one. */
void abc_mode_propose(abc_t *abc, uint64_t epoch, const uint8_t *real, size_t len);
/*!
 * Applies a misbehaviour mode to the messages step holds from index
 * `first` on (those of the current call): SILENT keeps only copies to
 * ourselves; EQUIVOCATE sends altered copies to half of the targets.
 * Passes ret through if it is an error.
 */
int abc_mode_apply(abc_t *abc, int ret, bft_step_t *step, size_t first);
void abc_mode_free(abc_t *abc);

/* abc_guard.c */
/*!
 * The vote guard for one outgoing ACS message of `epoch` (to `to`): sets
 * *send false for a vote that contradicts one we sent before (counted),
 * else keeps a new one and, with durable votes, outputs its record to
 * step first. An error leaves the message unsent and unkept.
 */
int abc_guard_check(abc_t *abc, uint64_t epoch, bft_nodeset_t to, const uint8_t *msg,
                    size_t len, bft_step_t *step, bool *send);
/*! After a restart with durable votes: give them back to ourselves and to each peer. */
void abc_guard_restart(abc_t *abc);
/*! Peer j announced `epoch` after a restart (or answered ours): re-send it ours from there. */
void abc_guard_resend_to(abc_t *abc, bft_node_t j, uint64_t epoch);
/*! Repeats from peer j (or from anyone: j == BFT_NODES_MAX) are no fault up to `epoch`. */
void abc_guard_dup_ok(abc_t *abc, bft_node_t j, uint64_t epoch);
/*! Sends due re-sends, within ABC_VOTES_RESEND_* (resend_msgs_max) per call. */
int abc_guard_pump(abc_t *abc, bft_step_t *step);
/*! After the epoch moved on: frees what is no longer kept. */
void abc_guard_gc(abc_t *abc);

/* abc_hold.c */
/*!
 * Sends one ACS message of `epoch` with the epoch header to `to`: peers
 * that announced a later epoch are left out, copies for peers too far
 * behind are held back (no guard: the caller passed it).
 */
int abc_hold_send(abc_t *abc, uint64_t epoch, bft_nodeset_t to, const uint8_t *msg, size_t len,
                  bft_step_t *step);
/*!
 * Lifts the scratch step of the ACS of `epoch` into step with the epoch
 * header, each message through the vote guard (abc_guard_check()): peers
 * that announced a later epoch are left out, and copies for peers too far
 * behind to take it are held back. Clears the scratch step.
 */
int abc_hold_lift(abc_t *abc, uint64_t epoch, bft_step_t *step);
/*! Sends what is held for peer j and fits its announced epoch now. */
int abc_hold_release(abc_t *abc, bft_node_t j, bft_step_t *step);
void abc_hold_free(abc_t *abc);
/*!
 * Keeps an epoch message from `from` for an epoch beyond our window (more
 * than ABC_EPOCHS_AHEAD ahead) until we get there; over the peer's bound
 * it is dropped (future_dropped).
 */
int abc_park_add(abc_t *abc, bft_node_t from, uint64_t epoch, const uint8_t *msg, size_t len);
/*!
 * The next parked message whose epoch is within our window now, taken off
 * its list (the caller frees it) with its sender; those of epochs we
 * finished are freed on the way. NULL if none.
 */
abc_held_t *abc_park_next(abc_t *abc, bft_node_t *from);

/* abc_catchup.c */
int abc_kept_init(abc_t *abc, uint32_t retain_max);
void abc_kept_free(abc_t *abc);
/*! Keeps a copy of a delivered batch (epoch kept_first + kept_count). */
int abc_kept_add(abc_t *abc, uint64_t epoch, const uint8_t *batch, size_t len);
/*! Frees the offers for epochs below abc->epoch (after it moved on). */
void abc_offers_drop_old(abc_t *abc);
void abc_offers_free(abc_t *abc);
/*! STARTED, FETCH, BATCH and GONE from a peer (r is past the kind byte). */
int abc_catchup_message(abc_t *abc, bft_node_t from, uint8_t kind, const uint8_t *body,
                        size_t len, bft_step_t *step);
/*! Our own announcement if the epoch moved, then a FETCH if we lag. */
int abc_catchup_after(abc_t *abc, bft_step_t *step);
/*! Delivers offered batches of the current epoch on f + 1 equal copies. */
int abc_catchup_take(abc_t *abc, bft_step_t *step, bool *took);
/*! An epoch message from a peer (before it is handled): noted for its restarts. */
void abc_catchup_heard(abc_t *abc, bft_node_t from, const uint8_t *msg, size_t len);
/*!
 * Once every peer either sent this incarnation a HELLO or answered its
 * HELLO with CLEAN, ends a restart's silence and sends what was held back
 * during it.
 */
int abc_resume_check(abc_t *abc, bft_step_t *step);
