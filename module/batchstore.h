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
 * The delivered-batch store of a replicated zone (replicas > 1): every
 * batch the atomic broadcast delivers is appended, as the bytes it
 * delivered, before it is applied, so that a restarted knotd gives the
 * broadcast back its dedup window and the batches it keeps for lagging
 * peers (abc_restore(), doc/broadcast.md "Catch-up"). Not the batch log of
 * batchlog.h, which is a text log for tests and replay, written only if
 * knot.conf asks for it.
 *
 * Files: segments `batches-<first batch, 20 digits>.seg` (0600) in the
 * zone's state directory (statedir.h): the magic "BFTDNSB2", then records
 *   u32 length L, u64 batch number (epoch + 1), u32 CRC-32C of the
 *   length, number and bytes, L bytes of the batch,
 * big endian, consecutive batch numbers within a segment. Between them,
 * signature records: the signatures threshold signing output for a batch
 * this replica applied (module/threshold.c), so that after a restart it
 * can still give them to a peer that catches up on that batch
 * (tsign_restore(), doc/signing.md "Catch-up"): its peers restarted too
 * have no shares of it to give, and without them that peer waits for good.
 *   u32 0x80000000 | L, u64 signing request id, u32 CRC-32C as above, L
 *   bytes: u8 algorithm, u16 m, u16 digest length D, u16 signature length
 *   S, m digests of D bytes, m signatures of S bytes (the request's order),
 * after their batch's record in the same segment, ids growing. Segments
 * of format 1 ("BFTDNSB1", batches only, before signature records) are
 * still read; appends always go to a new segment of format 2. The
 * signatures are not trusted either: the signing core verifies each one
 * against its digest before keeping it, and a peer that gets one verifies
 * it against its own digest.
 *
 * Loading (the first open in a process, i.e. after a knotd start) reads
 * every record and trusts none it cannot check: a torn or damaged record
 * (short header or bytes, absurd length, wrong CRC, a number out of
 * sequence, bytes that are no batch of that number) ends the store there;
 * the segment is cut to the last good record and later segments are
 * removed, with a log line. Batches after the durable position (delivered,
 * not applied when knotd stopped) are cut too: the broadcast resumes after
 * the position and fetches them again from its peers, which deliver the
 * same bytes (agreement), so keeping them would add a second path for the
 * same batch and nothing else.
 *
 * Appends are write()s without fsync: a knotd crash keeps them (page
 * cache), and a power loss that loses the tail only makes the restart fall
 * back to the durable position without bytes (abc_restore_at()), which is
 * safe. A segment is flushed when it is closed.
 *
 * Bounded: segments end after BFTDNS_BATCHSTORE_SEGMENT_BATCHES batches or
 * BFTDNS_BATCHSTORE_SEGMENT_BYTES bytes, and at each stable checkpoint.
 * The oldest segment goes once the others hold what a restart replays (the
 * limits: what the broadcast keeps in memory, ABC_RETAIN_DEFAULT batches,
 * ABC_RETAIN_BYTES_MAX, and signature records up to what the signing core
 * keeps, BFTDNS_BATCHSTORE_SIG_BYTES; so a batch with more signatures than
 * that, a whole-zone pass of a large zone, shortens what the store keeps),
 * and every segment holding only batches at or
 * before the latest stable checkpoint goes at once (forget()): a peer
 * behind the checkpoint needs a state transfer, and GONE tells it so.
 *
 * Shared by the instances of a zone in one process: on `knotc reload` the
 * new module instance opens the store while the old one still appends to
 * it (the same object, counted; one writer lock). Without knotd, so that
 * the unit tests use it; logging through a callback.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BFTDNS_BATCHSTORE_SEGMENT_BATCHES	128
#define BFTDNS_BATCHSTORE_SEGMENT_BYTES		(4u << 20)
/*! A record longer than this is damage, not a batch. */
#define BFTDNS_BATCHSTORE_RECORD_MAX		(64u << 20)
/*! Bounds of a signature record (TSIGN_MSGS_MAX, TSIGN_DIGEST_MAX, 8192-bit RSA). */
#define BFTDNS_BATCHSTORE_SIGS_MAX		256
#define BFTDNS_BATCHSTORE_DIGEST_MAX		64
#define BFTDNS_BATCHSTORE_SIG_MAX		1024
/*! Signature records kept at least (TSIGN_KEEP_BYTES_DEFAULT, what the
 *  signing core keeps: more is of no use after a restart). */
#define BFTDNS_BATCHSTORE_SIG_BYTES		(32u << 20)
/*! A signing request id's batch is id >> this (tsign_id_make()). */
#define BFTDNS_BATCHSTORE_ID_POSITION_BITS	16

typedef struct bftdns_batchstore bftdns_batchstore_t;

/*! Where the store's lines go (syslog level); may be called under its lock. */
typedef struct {
	void (*fn)(void *ctx, int level, const char *msg);
	void *ctx;
} bftdns_batchstore_log_t;

/*! How much a restart replays, and so what the store keeps at least. */
typedef struct {
	uint64_t batches;     /*!< Batches (ABC_RETAIN_DEFAULT). */
	uint64_t bytes;       /*!< Their bytes (ABC_RETAIN_BYTES_MAX). */
	uint32_t segment_batches;  /*!< 0: BFTDNS_BATCHSTORE_SEGMENT_BATCHES. */
	uint64_t segment_bytes;    /*!< 0: BFTDNS_BATCHSTORE_SEGMENT_BYTES. */
	uint64_t sig_bytes;        /*!< Signature records; 0: BFTDNS_BATCHSTORE_SIG_BYTES. */
} bftdns_batchstore_limits_t;

/*! A batch read back (data malloc'ed). */
typedef struct {
	uint64_t seq;
	uint8_t *data;
	size_t len;
} bftdns_stored_batch_t;

/*! The signatures of one signing request (read back: data malloc'ed). */
typedef struct {
	uint64_t id;               /*!< tsign_id_make(batch, position). */
	uint8_t alg;               /*!< DNSSEC algorithm number. */
	uint16_t count;            /*!< m. */
	uint16_t digest_len;
	uint16_t sig_len;
	const uint8_t *digests;    /*!< m * digest_len bytes. */
	const uint8_t *sigs;       /*!< m * sig_len bytes, in the digests' order. */
	uint8_t *data;             /*!< Read back: what the two point into; else NULL. */
} bftdns_stored_sigs_t;

typedef struct {
	size_t segments;
	uint64_t bytes;       /*!< On disk, all segments. */
	uint64_t first, last; /*!< Batch numbers held; 0, 0: none. */
	uint64_t appended;    /*!< Batches appended since the store was loaded. */
	uint64_t appended_bytes; /*!< ... and the bytes written for them. */
	uint64_t appended_sigs;  /*!< Signature records appended since the load. */
} bftdns_batchstore_stats_t;

/*!
 * Opens the store in dir (which must exist). The first open in the
 * process loads and checks it (see above), cutting at position (the last
 * batch applied, 0: none); a later open of the same dir shares the loaded
 * store. KNOT_EOK or an error (logged).
 */
int bftdns_batchstore_open(const char *dir, uint64_t position,
                           const bftdns_batchstore_limits_t *limits,
                           const bftdns_batchstore_log_t *log, bftdns_batchstore_t **out);

/*! Drops this opener's share; the last one closes the files. NULL is fine. */
void bftdns_batchstore_close(bftdns_batchstore_t *store);

/*!
 * Appends batch seq (its bytes as delivered). A batch at or before the
 * last one stored is there already (another instance stored it; the bytes
 * are the same by agreement): KNOT_EOK, nothing written. A batch after a
 * gap starts a new segment. KNOT_EOK or an error (nothing half-written).
 */
int bftdns_batchstore_append(bftdns_batchstore_t *store, uint64_t seq, const uint8_t *batch,
                             size_t len, const bftdns_batchstore_log_t *log);

/*!
 * The batches a restart replays: the newest consecutive ones ending at
 * position, within the limits, oldest first (out malloc'ed; free with
 * bftdns_batchstore_free()). *count 0 if the store does not hold batch
 * position. (After a load the store ends at position; a store shared over
 * a reload may hold later batches, which the new instance gets delivered
 * again.) KNOT_EOK, or KNOT_ENOMEM / a read error.
 */
int bftdns_batchstore_replay(bftdns_batchstore_t *store, uint64_t position,
                             bftdns_stored_batch_t **out, size_t *count);

void bftdns_batchstore_free(bftdns_stored_batch_t *batches, size_t count);

/*!
 * Appends the signatures of one request of a batch being applied: after
 * the batch's record, in the segment being written, ids growing. KNOT_EOK,
 * KNOT_ENOENT if they cannot go there (the batch was not stored, or is in
 * an older segment, or the id is not above the last one's: nothing
 * written, and a restart will not have them), KNOT_EINVAL for a request
 * beyond the bounds, or a write error (nothing half-written). They go with
 * their segment (trimmed, forgotten at a stable checkpoint).
 */
int bftdns_batchstore_append_sigs(bftdns_batchstore_t *store, const bftdns_stored_sigs_t *sigs,
                                  const bftdns_batchstore_log_t *log);

/*!
 * The signature records of the batches a restart replays (the limits'
 * batches ending at position), the newest max of them, oldest first (out
 * malloc'ed; free with bftdns_batchstore_free_sigs()). KNOT_EOK (*count 0
 * if none), or KNOT_ENOMEM / a read error.
 */
int bftdns_batchstore_read_sigs(bftdns_batchstore_t *store, uint64_t position, size_t max,
                                bftdns_stored_sigs_t **out, size_t *count);

void bftdns_batchstore_free_sigs(bftdns_stored_sigs_t *sigs, size_t count);

/*!
 * A stable checkpoint at batch checkpoint: every segment holding only
 * batches at or before it is removed, and the current one ends (so that
 * the next stable checkpoint removes it). Returns how many were removed.
 */
size_t bftdns_batchstore_forget(bftdns_batchstore_t *store, uint64_t checkpoint,
                                const bftdns_batchstore_log_t *log);

void bftdns_batchstore_stats(bftdns_batchstore_t *store, bftdns_batchstore_stats_t *out);
