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
 * The vote log of one replica: the agreement state of the atomic
 * broadcast's unfinished epochs, on disk, so that a replica killed with all
 * the others can take up its earlier votes instead of voting anew (abc.h,
 * ABC_OUTPUT_VOTE and abc_restore_vote(); doc/broadcast.md, "Restart").
 * The records are opaque here; each is kept with its epoch, which the
 * driver reads from it (abc_vote_epoch()) and which trimming goes by.
 *
 * The driver (drive.c) appends every vote output of a step before it sends
 * any message of that step: every vote a peer may have seen is in the log.
 * If an append fails, that no longer holds for what follows, so the driver
 * sends nothing more (the replica is mute, as a crashed one, until it is
 * restarted) and says why; what it never sent contradicts nothing.
 *
 * Files in the directory given (created 0700 if missing): segments
 * `votes-<sequence, 20 digits>.seg` (0600), each the magic "BFTDNSV1",
 * u64 complete-from epoch, u32 CRC-32C of both, then records
 *   u32 length L, u64 epoch, u32 CRC-32C of the length, epoch and bytes,
 *   L bytes of the record,
 * big endian; and `lock`, held (flock) by the open log, so that two
 * coordinators of one zone in a process (a reload) never write at once.
 *
 * Written with write() and no fsync, the policy of the batch store
 * (module/batchstore.h): what was written survives a crash of the process
 * (kill -9: the page cache keeps it), not a power loss or a kernel crash,
 * which may lose the newest records. A write() that did not return before
 * the crash sent nothing, so a torn last record is cut without harm.
 *
 * Complete-from: the log holds every vote this replica sent in the epochs
 * from that one on. A log begun by a replica that ran before without one
 * (an upgrade, a lost directory) cannot vouch for the votes of its earlier
 * incarnation: they may lie up to ABC_EPOCHS_AHEAD epochs beyond the epoch
 * it resumes at, so a new log is complete from there on (from 0 for a
 * replica that never ran). A start at an epoch before complete-from takes
 * no votes from the log (votelog_usable() false; the broadcast's silence
 * after a restart, as without the log). Any damage but a torn tail (a bad
 * magic or CRC, a short record that is not the last one) makes the whole
 * log untrustworthy: it is removed and begun anew the same way, with a log
 * line; bad bytes never crash.
 *
 * Bounded: a segment ends after VOTELOG_SEGMENT_BYTES or when a record's
 * epoch is VOTELOG_SEGMENT_EPOCHS beyond its first; whole segments whose
 * records all lie more than VOTELOG_KEEP_EPOCHS before the durable
 * position (votelog_trim()) are deleted: a restart resumes at that
 * position or later, and abc takes back only the votes of the last
 * ABC_VOTES_KEEP epochs before it (to re-send them to restarted peers).
 *
 * Not thread-safe: the coordinator thread owns it (bftdns_core_start()
 * opens and reads it before the thread runs).
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/net/log.h"
#include "coordinator/proto/abc.h"

#define VOTELOG_SEGMENT_BYTES	(1u << 20)
#define VOTELOG_SEGMENT_EPOCHS	16
/*! Epochs kept before the durable position: abc re-sends its votes of as
 *  many delivered epochs to a peer that restarts (abc.h). */
#define VOTELOG_KEEP_EPOCHS	ABC_VOTES_KEEP
/*! A record longer than this is damage, not a vote. */
#define VOTELOG_RECORD_MAX	(1u << 20)

typedef struct votelog votelog_t;

/*! A record: one to append, or one read back at the open (valid until
 *  votelog_drop_loaded()). */
typedef struct {
	uint64_t epoch;
	const uint8_t *data;
	size_t len;
} votelog_record_t;

typedef struct {
	size_t segments;
	uint64_t bytes;           /*!< On disk, all segments. */
	uint64_t loaded;          /*!< Records read back at the open. */
	uint64_t appended;        /*!< Records appended since the open. */
	uint64_t appended_bytes;  /*!< ...and the bytes written for them. */
	uint64_t removed;         /*!< Segments deleted by trimming since the open. */
	uint64_t complete_from;   /*!< See above. */
	bool usable;              /*!< The records loaded are all this replica's votes. */
	bool failed;              /*!< An append failed: the log is incomplete from then. */
} votelog_stats_t;

/*!
 * Opens the log in dir for a coordinator resuming at `epoch` (the atomic
 * broadcast's next epoch: the batch number of the last batch applied, 0 if
 * none), loading and checking every record (see above) and starting a new
 * segment for this incarnation. BFT_EOK, BFT_EAGAIN if another open log
 * holds it, or BFT_EIO (why says what; nothing changed then).
 */
int votelog_open(const char *dir, uint64_t epoch, const bft_logger_t *log, votelog_t **out,
                 char *why, size_t why_len);

/*! Closes the files (flushing nothing: see above). NULL is fine. */
void votelog_close(votelog_t *vl);

/*! The log holds every vote this replica sent from the epoch it was opened at. */
bool votelog_usable(const votelog_t *vl);

/*! The records loaded at the open, in the order written (empty if not usable). */
void votelog_loaded(const votelog_t *vl, const votelog_record_t **records, size_t *count);

/*! Frees the records loaded (after they were given to the broadcast). */
void votelog_drop_loaded(votelog_t *vl);

/*!
 * Appends records (one step's votes: few write()s), whole or not at all
 * (of the ones a failed write() held; those before it stay). BFT_EOK,
 * BFT_EINVAL (one empty or longer than VOTELOG_RECORD_MAX: nothing
 * written), or BFT_EIO; after that the log stays failed
 * (votelog_stats_t.failed) and refuses further appends.
 */
int votelog_append(votelog_t *vl, const votelog_record_t *recs, size_t count);

/*!
 * The broadcast's epochs before `durable` are applied durably (a restart
 * resumes at it or later): deletes the older segments whose records all
 * lie before durable - VOTELOG_KEEP_EPOCHS. Returns how many went.
 */
size_t votelog_trim(votelog_t *vl, uint64_t durable);

void votelog_stats(const votelog_t *vl, votelog_stats_t *out);
