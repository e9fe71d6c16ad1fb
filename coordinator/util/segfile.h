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
 * Append-only segment files, the mechanics the module's batch store
 * (module/batchstore.h) and the coordinator's vote log
 * (coordinator/core/votelog.h) share: a directory of files named
 * PREFIX + 20 decimal digits + ".seg", each a header of its owner's then
 * records framed as
 *
 *   u32 length field | u64 number | u32 CRC-32C | length bytes
 *
 * (big-endian; the CRC covers the first 12 header bytes, then the bytes).
 * What a record means, a segment's header and when a damaged segment is
 * cut or the whole log dropped stay with the owner: the formats on disk
 * are theirs, this file only reads and writes the common frame. Errors
 * are BFT_E* (coordinator/proto/error.h); BFT_EIO leaves errno as the
 * failed call set it, so the module can map it to its own codes.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*! A record's header: length field, number, CRC. */
#define BFTDNS_SEG_RECORD_HDR	16

/*! One kind of segment file in a directory. */
typedef struct {
	const char *prefix;   /*!< File name before the digits ("votes-"). */
	uint64_t seq_min;     /*!< The smallest number a name may carry. */
	size_t count_max;     /*!< Files listed at most (BFT_ESPACE beyond). */
} bftdns_seg_kind_t;

/*! Big-endian fields, the segment files' byte order. */
void bftdns_seg_put_u32(uint8_t *p, uint32_t v);
void bftdns_seg_put_u64(uint8_t *p, uint64_t v);
uint32_t bftdns_seg_get_u32(const uint8_t *p);
uint64_t bftdns_seg_get_u64(const uint8_t *p);

/*! The path of segment seq of kind in dir. */
void bftdns_seg_path(const bftdns_seg_kind_t *kind, const char *dir, uint64_t seq,
                     char *out, size_t size);

/*! Removes segment seq (a missing one is no error: removal is idempotent). */
void bftdns_seg_remove(const bftdns_seg_kind_t *kind, const char *dir, uint64_t seq);

/*!
 * The numbers of kind's segment files in dir, sorted (*out malloc'ed,
 * NULL when none). BFT_EIO (opendir), BFT_ENOMEM, or BFT_ESPACE when
 * there are more than kind->count_max.
 */
int bftdns_seg_list(const bftdns_seg_kind_t *kind, const char *dir, uint64_t **out,
                    size_t *count);

/*!
 * Reads up to len bytes, retrying short reads; *got < len only at the end
 * of the file. BFT_EOK or BFT_EIO.
 */
int bftdns_seg_read_full(int fd, uint8_t *buf, size_t len, size_t *got);

/*! The CRC of a record begun: over its length and number fields. */
uint32_t bftdns_seg_record_crc_head(const uint8_t hdr[BFTDNS_SEG_RECORD_HDR]);

/*!
 * Fills a record's header for len bytes of data (one piece; a record of
 * several pieces continues bftdns_seg_record_crc_head() and puts the CRC
 * at hdr + 12 itself).
 */
void bftdns_seg_record_frame(uint8_t hdr[BFTDNS_SEG_RECORD_HDR], uint32_t field,
                             uint64_t number, const uint8_t *data, size_t len);

/*!
 * Reads the next record's header. BFT_EOK; BFT_ENOENT at a clean end of
 * the file; BFT_EMALF if the file ends inside it (torn: *why says so);
 * BFT_EIO.
 */
int bftdns_seg_record_read_head(int fd, uint8_t hdr[BFTDNS_SEG_RECORD_HDR], const char **why);

/*!
 * Reads the len bytes of the record whose header is hdr and checks its
 * CRC. BFT_EOK (*data malloc'ed); BFT_EMALF with *torn (the file ends
 * inside it) or not (CRC mismatch), *why saying which; BFT_ENOMEM;
 * BFT_EIO. The torn/damaged difference is the owner's torn-tail rule: a
 * write() a crash cut short leaves only a torn last record.
 */
int bftdns_seg_record_read_body(int fd, const uint8_t hdr[BFTDNS_SEG_RECORD_HDR], size_t len,
                                uint8_t **data, bool *torn, const char **why);

/*!
 * Appends total bytes with one writev(). Whole, or the file is cut back
 * to whole bytes (its size before) so that nothing half-written stays:
 * BFT_EIO (*err the errno) or BFT_ESPACE (short write, *err ENOSPC), and
 * *restored false if that cut failed (the next load cuts the torn tail).
 */
int bftdns_seg_append(int fd, const struct iovec *iov, int iovcnt, size_t total,
                      uint64_t whole, int *err, bool *restored);
