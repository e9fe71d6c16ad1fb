/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/aba.h"
#include "coordinator/proto/abc_votes.h"
#include "coordinator/proto/acs.h"
#include "coordinator/proto/batch.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/rbc.h"
#include "coordinator/proto/wire.h"

/* The abc wire kind of an epoch message (abc_internal.h, ABC_MSG_EPOCH). */
#define VOTE_MSG_EPOCH	1

/* Key layout: round << 24 | sub << 20 | kind << 16 | instance << 8 | value. */
static uint64_t vote_pack(uint8_t sub, uint8_t instance, uint8_t kind, uint32_t round,
                          uint8_t value)
{
	return (uint64_t)round << 24 | (uint64_t)(sub & 0xf) << 20 | (uint64_t)(kind & 0xf) << 16 |
	       (uint64_t)instance << 8 | value;
}

int abc_vote_key(const uint8_t *acs_msg, size_t len, unsigned n, uint64_t *key, bool *vote)
{
	if (acs_msg == NULL || len < 2 || acs_msg[1] >= n) {
		return BFT_EMALF;
	}
	uint8_t sub = acs_msg[0], instance = acs_msg[1];
	if (sub == ACS_SUB_RBC) {
		rbc_msg_t m;
		if (rbc_msg_decode(acs_msg + 2, len - 2, BATCH_PROPOSAL_MAX, &m) != BFT_EOK) {
			return BFT_EMALF;
		}
		/* VALUE (the proposer's own), ECHO and READY: one each. */
		*key = vote_pack(sub, instance, (uint8_t)m.kind, 0, 0);
		*vote = true;
		return BFT_EOK;
	}
	if (sub == ACS_SUB_ABA) {
		aba_msg_t m;
		if (aba_msg_decode(acs_msg + 2, len - 2, &m) != BFT_EOK) {
			return BFT_EMALF;
		}
		/* BVAL may carry both values (its key holds the value, so it never
		 * conflicts); a COIN share is deterministic. Both are relays. */
		bool relay = m.kind == ABA_BVAL || m.kind == ABA_COIN;
		*key = vote_pack(sub, instance, (uint8_t)m.kind, m.round,
		                 m.kind == ABA_BVAL ? m.value : 0);
		*vote = !relay;
		return BFT_EOK;
	}
	return BFT_EMALF;
}

void abc_votes_init(abc_votes_t *store)
{
	memset(store, 0, sizeof(*store));
}

static void votes_epoch_free(abc_votes_t *store, abc_vote_epoch_t *e)
{
	for (size_t i = 0; i < e->count; i++) {
		assert(store->entries > 0 && store->bytes >= e->votes[i].len);
		store->entries--;
		store->bytes -= e->votes[i].len;
		free(e->votes[i].msg);
	}
	free(e->votes);
	memset(e, 0, sizeof(*e));
}

void abc_votes_free(abc_votes_t *store)
{
	for (size_t i = 0; i < store->count; i++) {
		votes_epoch_free(store, &store->epochs[i]);
	}
	assert(store->entries == 0 && store->bytes == 0);
	free(store->epochs);
	abc_votes_init(store);
}

size_t abc_votes_seek(const abc_votes_t *store, uint64_t epoch)
{
	/* Few epochs are kept (ABC_VOTES_KEEP + ABC_EPOCHS_AHEAD + 1 while
	 * running): a linear scan is enough. */
	size_t i = 0;
	while (i < store->count && store->epochs[i].epoch < epoch) {
		i++;
	}
	return i;
}

static abc_vote_epoch_t *votes_epoch(const abc_votes_t *store, uint64_t epoch)
{
	size_t i = abc_votes_seek(store, epoch);
	return i < store->count && store->epochs[i].epoch == epoch ? &store->epochs[i] : NULL;
}

const abc_vote_t *abc_votes_find(const abc_votes_t *store, uint64_t epoch, uint64_t key)
{
	const abc_vote_epoch_t *e = votes_epoch(store, epoch);
	for (size_t i = 0; e != NULL && i < e->count; i++) {
		if (e->votes[i].key == key) {
			return &e->votes[i];
		}
	}
	return NULL;
}

abc_vote_verdict_t abc_votes_check(const abc_votes_t *store, uint64_t epoch, uint64_t key,
                                   bool vote, const uint8_t *msg, size_t len)
{
	const abc_vote_t *v = abc_votes_find(store, epoch, key);
	if (v == NULL) {
		return ABC_VOTE_NEW;
	}
	if (v->len == len && memcmp(v->msg, msg, len) == 0) {
		return ABC_VOTE_SAME;
	}
	return vote ? ABC_VOTE_CONFLICT : ABC_VOTE_RELAY_OTHER;
}

/* The epoch's entry list, made (in order) if missing. */
static int votes_epoch_get(abc_votes_t *store, uint64_t epoch, abc_vote_epoch_t **out)
{
	size_t i = abc_votes_seek(store, epoch);
	if (i < store->count && store->epochs[i].epoch == epoch) {
		*out = &store->epochs[i];
		return BFT_EOK;
	}
	if (store->count == store->cap) {
		size_t cap = store->cap > 0 ? 2 * store->cap : 16;
		abc_vote_epoch_t *grown = realloc(store->epochs, cap * sizeof(*grown));
		if (grown == NULL) {
			return BFT_ENOMEM;
		}
		store->epochs = grown;
		store->cap = cap;
	}
	memmove(&store->epochs[i + 1], &store->epochs[i], (store->count - i) * sizeof(*store->epochs));
	memset(&store->epochs[i], 0, sizeof(store->epochs[i]));
	store->epochs[i].epoch = epoch;
	store->count++;
	*out = &store->epochs[i];
	return BFT_EOK;
}

int abc_votes_add(abc_votes_t *store, uint64_t epoch, uint64_t key, bft_nodeset_t to,
                  const uint8_t *msg, size_t len)
{
	assert(msg != NULL && len >= 2 && len <= BFT_MSG_MAX && to != 0);
	abc_vote_t *old = (abc_vote_t *)abc_votes_find(store, epoch, key);
	if (old != NULL) {
		if (old->len != len || memcmp(old->msg, msg, len) != 0) {
			return BFT_EEXIST;
		}
		old->to |= to;
		return BFT_EOK;
	}
	uint8_t *copy = malloc(len);
	if (copy == NULL) {
		return BFT_ENOMEM;
	}
	abc_vote_epoch_t *e = NULL;
	int ret = votes_epoch_get(store, epoch, &e);
	if (ret == BFT_EOK && e->count == e->cap) {
		size_t cap = e->cap > 0 ? 2 * e->cap : 32;
		abc_vote_t *grown = realloc(e->votes, cap * sizeof(*grown));
		if (grown == NULL) {
			ret = BFT_ENOMEM;
		} else {
			e->votes = grown;
			e->cap = cap;
		}
	}
	if (ret != BFT_EOK) {
		free(copy);
		return ret;   /* An epoch made empty stays: dropped with its epoch. */
	}
	memcpy(copy, msg, len);
	e->votes[e->count++] = (abc_vote_t){ .key = key, .to = to, .len = (uint32_t)len, .msg = copy };
	store->entries++;
	store->bytes += len;
	return BFT_EOK;
}

static void votes_drop_first(abc_votes_t *store)
{
	assert(store->count > 0);
	votes_epoch_free(store, &store->epochs[0]);
	memmove(&store->epochs[0], &store->epochs[1], (store->count - 1) * sizeof(*store->epochs));
	store->count--;
}

void abc_votes_drop_before(abc_votes_t *store, uint64_t epoch)
{
	while (store->count > 0 && store->epochs[0].epoch < epoch) {
		votes_drop_first(store);
	}
}

void abc_votes_trim(abc_votes_t *store, size_t bytes_max, uint64_t keep_from)
{
	while (store->bytes > bytes_max && store->count > 0 && store->epochs[0].epoch < keep_from) {
		votes_drop_first(store);
	}
}

int abc_vote_record_output(bft_step_t *step, uint32_t tag, uint64_t epoch, bft_nodeset_t to,
                           const uint8_t *msg, size_t len)
{
	/* The step copies one buffer: the headers and the ACS message are
	 * joined here. Epoch messages are at most BFT_MSG_MAX bytes. */
	assert(len >= 2 && len <= BFT_MSG_MAX);
	uint8_t *rec = malloc(abc_vote_record_size(len));
	if (rec == NULL) {
		return BFT_ENOMEM;
	}
	bft_wire_w_t w;
	bft_wire_w_init(&w, rec, abc_vote_record_size(len));
	bft_wire_put_u8(&w, ABC_VOTE_VERSION);
	bft_wire_put_u64(&w, epoch);
	bft_wire_put_u32(&w, to);
	bft_wire_put_u8(&w, VOTE_MSG_EPOCH);
	bft_wire_put_u64(&w, epoch);
	bft_wire_put_raw(&w, msg, len);
	assert(bft_wire_w_ok(&w) && w.len == abc_vote_record_size(len));
	int ret = bft_step_output(step, tag, rec, w.len);
	free(rec);
	return ret;
}

int abc_vote_record_epoch(const uint8_t *rec, size_t len, uint64_t *epoch)
{
	bft_wire_r_t r;
	bft_wire_r_init(&r, rec, len);
	uint8_t version = bft_wire_get_u8(&r);
	uint64_t e = bft_wire_get_u64(&r);
	if (r.error || version != ABC_VOTE_VERSION) {
		return BFT_EMALF;
	}
	*epoch = e;
	return BFT_EOK;
}

int abc_vote_record_read(const uint8_t *rec, size_t len, unsigned n, uint64_t *epoch,
                         bft_nodeset_t *to, const uint8_t **msg, size_t *msg_len,
                         uint64_t *key, bool *vote)
{
	if (rec == NULL || len < ABC_VOTE_HDR + ABC_VOTE_MSG_HDR + 2 ||
	    len - ABC_VOTE_HDR - ABC_VOTE_MSG_HDR > BFT_MSG_MAX) {
		return BFT_EMALF;
	}
	bft_wire_r_t r;
	bft_wire_r_init(&r, rec, len);
	uint8_t version = bft_wire_get_u8(&r);
	uint64_t e = bft_wire_get_u64(&r);
	bft_nodeset_t targets = bft_wire_get_u32(&r);
	uint8_t kind = bft_wire_get_u8(&r);
	uint64_t inner = bft_wire_get_u64(&r);
	if (r.error || version != ABC_VOTE_VERSION || kind != VOTE_MSG_EPOCH || inner != e ||
	    targets == 0 || (targets & ~bft_nodeset_all(n)) != 0) {
		return BFT_EMALF;
	}
	const uint8_t *m = rec + ABC_VOTE_HDR + ABC_VOTE_MSG_HDR;
	size_t m_len = len - ABC_VOTE_HDR - ABC_VOTE_MSG_HDR;
	int ret = abc_vote_key(m, m_len, n, key, vote);
	if (ret != BFT_EOK) {
		return ret;
	}
	*epoch = e;
	*to = targets;
	*msg = m;
	*msg_len = m_len;
	return BFT_EOK;
}
