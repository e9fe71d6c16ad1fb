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
 * Wire format of the threshold signing protocol (tsign.h). Every number is
 * big-endian and every value has a fixed width given by the key, so each
 * message has exactly one encoding:
 *
 *   SHARES    u8 1, u64 id, u8 flags, 32 request digest, u16 m, u16 count,
 *             count x { u16 index, value[L] (, z[Z], c[32] if PROOFS) }
 *   PROOF_REQ u8 2, u64 id, u16 m, u16 count, count x u16 index
 *   SIGS      u8 3, u64 id, u16 m, m x signature[L]
 *   HELP      u8 4, u64 id, u16 m, u16 count, count x u16 index
 *   RESEND    u8 5, u64 id, u16 m
 *
 * L = bytes of the modulus N, Z = bytes of the largest proof response
 * (bits(N) + 513 bits). flags: PROOFS (entries carry proofs), RESEND (the
 * sender may have lost messages of this instance); other bits are refused.
 * m is 1..msgs_max, count 1..m, indexes strictly increasing below m
 * (RESEND: no entries, count 0).
 * Value ranges ([1, N), proofs) are the collector's to judge, not the
 * decoder's: a well-formed message with a bad share is a different fault.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gmp.h>

#include "coordinator/proto/tsign.h"

typedef enum {
	TSIGN_MSG_SHARES    = 1,
	TSIGN_MSG_PROOF_REQ = 2,
	TSIGN_MSG_SIGS      = 3,
	TSIGN_MSG_HELP      = 4,  /*!< The designated signers were not enough (tsign.h). */
	TSIGN_MSG_RESEND    = 5,  /*!< RESEND without shares: from a replica outside D. */
} tsign_kind_t;

#define TSIGN_FLAG_PROOFS	0x01
#define TSIGN_FLAG_RESEND	0x02
#define TSIGN_FLAGS_ALL		(TSIGN_FLAG_PROOFS | TSIGN_FLAG_RESEND)

/*! Bytes of a proof's challenge c (SHA-256). */
#define TSIGN_C_LEN		32
/*! Bits a proof response z may have beyond bits(N) (shoup: 2 * 256 + 1). */
#define TSIGN_Z_EXTRA_BITS	513

/*! The fixed widths one key gives the fields. */
typedef struct {
	size_t value_len;       /*!< L: share values and signatures. */
	size_t z_len;           /*!< Z: proof responses. */
	uint16_t msgs_max;      /*!< Bound of m. */
} tsign_sizes_t;

/*! Widths for a modulus of bits bits; msgs_max 1..TSIGN_MSGS_MAX. */
void tsign_sizes_init(tsign_sizes_t *sizes, unsigned bits, uint16_t msgs_max);

/*!
 * A decoded message. entries points into the decoded bytes: count records
 * of tsign_entry_size() bytes (SIGS: m signatures of L bytes).
 */
typedef struct {
	tsign_kind_t kind;
	uint64_t id;
	uint8_t flags;
	const uint8_t *rdigest;   /*!< SHARES: TSIGN_RDIGEST_LEN bytes. */
	uint16_t m;
	uint16_t count;           /*!< SHARES, PROOF_REQ; SIGS: m. */
	const uint8_t *entries;
} tsign_msg_t;

/*! Bytes of one entry of a message kind (flags for SHARES). */
size_t tsign_entry_size(const tsign_sizes_t *sizes, tsign_kind_t kind, uint8_t flags);
/*! Bytes of a whole message with count entries. */
size_t tsign_msg_size(const tsign_sizes_t *sizes, tsign_kind_t kind, uint8_t flags,
                      uint16_t count);

/*!
 * Encodes msg, whose entries are already in wire form (built with the
 * tsign_entry_put_* helpers). BFT_EINVAL if a field is out of its range
 * (checked as strictly as the decoder does), BFT_ESPACE if cap is short.
 */
int tsign_msg_encode(const tsign_sizes_t *sizes, const tsign_msg_t *msg,
                     uint8_t *buf, size_t cap, size_t *len);

/*!
 * Encodes only the part before the entries (for bft_step_send2(), which
 * appends the entries without a copy). *len gets the header's length.
 */
int tsign_msg_encode_header(const tsign_sizes_t *sizes, const tsign_msg_t *msg,
                            uint8_t *buf, size_t cap, size_t *len);

/*! Longest header (SHARES). */
#define TSIGN_HEADER_MAX	(1 + 8 + 1 + TSIGN_RDIGEST_LEN + 2 + 2)

/*! Strict decode of untrusted bytes: BFT_EMALF unless exactly one canonical message. */
int tsign_msg_decode(const tsign_sizes_t *sizes, const uint8_t *buf, size_t len,
                     tsign_msg_t *msg);

/*! The index of entry i (SHARES, PROOF_REQ, HELP; SIGS: i itself). */
uint16_t tsign_msg_index(const tsign_sizes_t *sizes, const tsign_msg_t *msg, uint16_t i);

/*!
 * Entry i of a SHARES message into a share of player id: value, and the
 * proof if the message has PROOFS.
 */
void tsign_msg_share(const tsign_sizes_t *sizes, const tsign_msg_t *msg, uint16_t i,
                     unsigned id, shoup_share_t *share);

/*! Signature i of a SIGS message. */
void tsign_msg_signature(const tsign_sizes_t *sizes, const tsign_msg_t *msg, uint16_t i,
                         mpz_t sig);

/*!
 * Writes one SHARES entry at out (tsign_entry_size bytes): the index, the
 * value, and the proof if proofs. False if a number does not fit its width
 * (our bug: the caller asserts).
 */
bool tsign_entry_put_share(const tsign_sizes_t *sizes, uint8_t *out, uint16_t index,
                           const shoup_share_t *share, bool proofs);
/*! Writes v as exactly len big-endian bytes; false if v < 0 or too long. */
bool tsign_put_fixed(uint8_t *out, size_t len, const mpz_t v);
