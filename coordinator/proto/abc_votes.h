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
 * The atomic broadcast's vote store (doc/broadcast.md, "Restart"): which
 * epoch messages a node sends are votes, their key, and a bounded store
 * key -> (targets, bytes) of everything this node sent in the epochs kept.
 *
 * Safety of Bracha's RBC and of MMR's ABA with CONF needs only that a
 * correct node never sends two different messages in a slot where it may
 * send one. Those slots are the votes:
 *
 *   RBC  VALUE (the proposer's own), ECHO, READY   per (epoch, instance)
 *   ABA  AUX, CONF                                  per (epoch, instance, round)
 *   ABA  TERM                                       per (epoch, instance)
 *
 * BVAL is set-valued (a node may send both values; the key includes the
 * value, so it never conflicts) and a COIN share is deterministic: they
 * are relays, kept and re-sent like votes (a restarted peer needs them to
 * rebuild a round) but never suppressed.
 *
 * The store keeps entries per epoch; epochs are dropped whole, oldest
 * first (abc_votes_drop_before()). A record is the self-describing form of
 * one entry that a driver makes durable and gives back after a restart:
 *
 *   u8 version (ABC_VOTE_VERSION), u64 epoch, u32 targets (bit i: node i),
 *   then the abc wire message (kind EPOCH, u64 epoch, the ACS message).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/proto/step.h"

/*! Record format version. */
#define ABC_VOTE_VERSION	1
/*! Record header: version, epoch, targets. */
#define ABC_VOTE_HDR		(1 + 8 + 4)
/*! Header of an abc EPOCH message (kind, epoch) that the record carries. */
#define ABC_VOTE_MSG_HDR	9

/*! What an outgoing epoch message is to the store. */
typedef enum {
	ABC_VOTE_NEW = 0,       /*!< Not sent before: store it (and make it durable). */
	ABC_VOTE_SAME,          /*!< Sent before with these bytes: a retransmission. */
	ABC_VOTE_CONFLICT,      /*!< A vote sent before with other bytes: never send. */
	ABC_VOTE_RELAY_OTHER,   /*!< A relay sent before with other bytes: send, keep the first. */
} abc_vote_verdict_t;

/*! One kept message. */
typedef struct {
	uint64_t key;           /*!< abc_vote_key() of the ACS message. */
	bft_nodeset_t to;
	uint32_t len;
	uint8_t *msg;           /*!< The ACS message (without the abc epoch header). */
} abc_vote_t;

/*! The entries of one epoch, in the order they were sent. */
typedef struct {
	uint64_t epoch;
	abc_vote_t *votes;
	size_t count;
	size_t cap;
} abc_vote_epoch_t;

/*! The store: epochs in increasing order. */
typedef struct {
	abc_vote_epoch_t *epochs;
	size_t count;
	size_t cap;
	size_t entries;         /*!< Messages kept, in all epochs. */
	size_t bytes;           /*!< Their bytes. */
} abc_votes_t;

/*!
 * The key of an ACS message (sub-protocol, instance, kind, round, and the
 * value of a BVAL) and whether it is a vote. BFT_EMALF unless the bytes
 * are one well-formed ACS message for an instance below n.
 */
int abc_vote_key(const uint8_t *acs_msg, size_t len, unsigned n, uint64_t *key, bool *vote);

void abc_votes_init(abc_votes_t *store);
void abc_votes_free(abc_votes_t *store);

/*! The entry of (epoch, key), or NULL. */
const abc_vote_t *abc_votes_find(const abc_votes_t *store, uint64_t epoch, uint64_t key);

/*!
 * Classifies an outgoing message against what was sent (nothing stored).
 * `vote`: from abc_vote_key(). Here and below `msg` is the ACS message of
 * an epoch message (the epoch is an argument).
 */
abc_vote_verdict_t abc_votes_check(const abc_votes_t *store, uint64_t epoch, uint64_t key,
                                   bool vote, const uint8_t *msg, size_t len);

/*!
 * Stores a message (a NEW one; for an existing key with the same bytes
 * the targets are merged). BFT_EEXIST for an existing key with other
 * bytes (unchanged), BFT_ENOMEM.
 */
int abc_votes_add(abc_votes_t *store, uint64_t epoch, uint64_t key, bft_nodeset_t to,
                  const uint8_t *msg, size_t len);

/*! Drops every epoch below `epoch`. */
void abc_votes_drop_before(abc_votes_t *store, uint64_t epoch);
/*!
 * While the store holds more than bytes_max bytes, drops its oldest epoch
 * if it is below `keep_from` (epochs from keep_from on are never dropped:
 * a node must remember what it said in epochs it has not finished).
 */
void abc_votes_trim(abc_votes_t *store, size_t bytes_max, uint64_t keep_from);

/*! The first kept epoch >= epoch (index into store->epochs), or store->count. */
size_t abc_votes_seek(const abc_votes_t *store, uint64_t epoch);

/*! Bytes of the record of one ACS message. */
static inline size_t abc_vote_record_size(size_t msg_len)
{
	return ABC_VOTE_HDR + ABC_VOTE_MSG_HDR + msg_len;
}

/*! Adds the record of (epoch, to, ACS message) to step as an output with `tag`. */
int abc_vote_record_output(bft_step_t *step, uint32_t tag, uint64_t epoch, bft_nodeset_t to,
                           const uint8_t *msg, size_t len);

/*!
 * Reads a record: its epoch, targets and ACS message (pointing into rec). BFT_EMALF unless the version is known, the targets are within n
 * nodes and non-empty, and the message is an EPOCH message of that epoch
 * with a well-formed ACS message (whose key and kind are returned).
 */
int abc_vote_record_read(const uint8_t *rec, size_t len, unsigned n, uint64_t *epoch,
                         bft_nodeset_t *to, const uint8_t **msg, size_t *msg_len,
                         uint64_t *key, bool *vote);

/*!
 * The epoch of a record, for a driver that drops records of old epochs
 * (abc.h, ABC_VOTES_KEEP). BFT_EMALF if it is too short or of another version.
 */
int abc_vote_record_epoch(const uint8_t *rec, size_t len, uint64_t *epoch);
