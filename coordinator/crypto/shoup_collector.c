/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The collector of one message's shares, for the three strategies of Cachin
 * and Samar (DSN 2004, section 3). Sans-I/O: shares go in, a verdict comes
 * out; the caller sends, asks for proofs and forwards signatures.
 *
 * Rules common to all strategies:
 * - A share is attributed to share->id (the caller passes the authenticated
 *   sender). Ids out of range are ignored; shares from faulty senders too.
 * - Honest players are deterministic (same share and proof bytes for a
 *   message), so a resent identical share is ignored, and a different second
 *   share from the same id is equivocation: the sender is faulty.
 * - Only a failed proof or an equivocation marks a sender faulty. OPTTE does
 *   not blame the members of failing subsets: colluding players can choose
 *   errors that cancel out in one subset, so a verifying subset does not
 *   prove each of its members correct, and blaming from it could blame an
 *   honest player.
 */

#include <assert.h>
#include <string.h>

#include "coordinator/crypto/shoup_internal.h"

static unsigned bits_count(uint32_t v)
{
	return (unsigned)__builtin_popcount(v);
}

static uint32_t id_bit(unsigned id)
{
	assert(id >= 1 && id <= SHOUP_PLAYERS_MAX);
	return UINT32_C(1) << (id - 1);
}

static uint32_t col_all(const shoup_collector_t *col)
{
	unsigned n = col->pub->n;
	return n == 32 ? UINT32_MAX : (UINT32_C(1) << n) - 1;
}

static unsigned col_k(const shoup_collector_t *col)
{
	return col->pub->f + 1;
}

static shoup_collect_t col_status(const shoup_collector_t *col)
{
	if (col->done) {
		return SHOUP_COLLECT_DONE;
	}
	return col->failed ? SHOUP_COLLECT_FAILED : SHOUP_COLLECT_MORE;
}

static shoup_share_t *col_find(shoup_collector_t *col, unsigned id)
{
	for (unsigned i = 0; i < col->count; i++) {
		if (col->shares[i].id == id) {
			return &col->shares[i];
		}
	}
	return NULL;
}

static void share_copy_proof(shoup_share_t *dst, const shoup_share_t *src)
{
	dst->has_proof = src->has_proof;
	mpz_set(dst->proof_z, src->proof_z);
	mpz_set(dst->proof_c, src->proof_c);
}

static void col_store(shoup_collector_t *col, const shoup_share_t *share)
{
	assert(col->count < col->pub->n);
	assert((col->seen & id_bit(share->id)) == 0);
	shoup_share_t *dst = &col->shares[col->count++];
	dst->id = share->id;
	mpz_set(dst->value, share->value);
	share_copy_proof(dst, share);
	col->seen |= id_bit(share->id);
}

static bool share_same(const shoup_share_t *a, const shoup_share_t *b)
{
	if (a->id != b->id || mpz_cmp(a->value, b->value) != 0 ||
	    a->has_proof != b->has_proof) {
		return false;
	}
	return !a->has_proof || (mpz_cmp(a->proof_z, b->proof_z) == 0 &&
	                         mpz_cmp(a->proof_c, b->proof_c) == 0);
}

/* Combines exactly k shares and keeps the result if it verifies. */
static bool col_try(shoup_collector_t *col, const shoup_share_t *const *set)
{
	col->combine_attempts++;
	if (shoup_combine(col->pub, col->x, set, col_k(col), col->signature) != SHOUP_EOK ||
	    !shoup_signature_verify(col->pub, col->x, col->signature)) {
		return false;
	}
	col->done = true;
	return true;
}

/* The first (in arrival order) up to max stored shares whose sender is in mask. */
static unsigned col_pick(const shoup_collector_t *col, uint32_t mask,
                         const shoup_share_t **set, unsigned max)
{
	unsigned got = 0;
	for (unsigned i = 0; i < col->count && got < max; i++) {
		if (mask & id_bit(col->shares[i].id)) {
			set[got++] = &col->shares[i];
		}
	}
	return got;
}

/* With proofs, any k verified shares make the signature. */
static void col_try_proven(shoup_collector_t *col)
{
	uint32_t usable = col->proven & ~col->faulty;
	if (bits_count(usable) < col_k(col)) {
		return;
	}
	const shoup_share_t *set[SHOUP_PLAYERS_MAX];
	unsigned got = col_pick(col, usable, set, col_k(col));
	assert(got == col_k(col));
	if (!col_try(col, set)) {
		/* k shares with valid proofs always combine unless the proofs'
		 * soundness failed or x shares a factor with N: both negligible,
		 * and more shares would not change the outcome. */
		col->failed = true;
	}
}

/* BASIC and OPTPROOF's fallback: can enough proven shares still come? */
static void col_check_proven_reachable(shoup_collector_t *col)
{
	uint32_t usable = col->proven & ~col->faulty;
	uint32_t silent = col_all(col) & ~(col->proven | col->faulty);
	if (!col->done && bits_count(usable) + bits_count(silent) < col_k(col)) {
		col->failed = true;
	}
}

static shoup_collect_t basic_add(shoup_collector_t *col, const shoup_share_t *share)
{
	uint32_t bit = id_bit(share->id);
	shoup_share_t *stored = col_find(col, share->id);
	if (stored != NULL) {
		if (!share_same(stored, share)) {
			col->faulty |= bit;
		}
	} else if (shoup_share_verify(col->pub, col->x, share) != SHOUP_EOK) {
		col->faulty |= bit;	/* also a share without a proof */
	} else {
		col_store(col, share);
		col->proven |= bit;
		col_try_proven(col);
	}
	col_check_proven_reachable(col);
	return col_status(col);
}

/* OPTPROOF falls back: verify the proofs that came along, ask for the rest. */
static shoup_collect_t optproof_fall_back(shoup_collector_t *col)
{
	assert(!col->proofs_requested && !col->done);
	col->proofs_requested = true;
	for (unsigned i = 0; i < col->count; i++) {
		const shoup_share_t *sh = &col->shares[i];
		uint32_t bit = id_bit(sh->id);
		if (!sh->has_proof || (col->faulty & bit)) {
			continue;
		}
		if (shoup_share_verify(col->pub, col->x, sh) == SHOUP_EOK) {
			col->proven |= bit;
		} else {
			col->faulty |= bit;
		}
	}
	col_try_proven(col);
	col_check_proven_reachable(col);
	if (col->done || col->failed) {
		return col_status(col);
	}
	return SHOUP_COLLECT_NEED_PROOFS;
}

/* OPTPROOF before the fallback: proofs are optional and not checked yet. */
static shoup_collect_t optproof_add_optimistic(shoup_collector_t *col,
                                               const shoup_share_t *share)
{
	uint32_t bit = id_bit(share->id);
	shoup_share_t *stored = col_find(col, share->id);
	if (stored != NULL) {
		if (mpz_cmp(stored->value, share->value) != 0) {
			col->faulty |= bit;
		} else if (!stored->has_proof && share->has_proof) {
			share_copy_proof(stored, share);
		}
	} else {
		col_store(col, share);
	}

	uint32_t usable = col->seen & ~col->faulty;
	if (bits_count(usable) >= col_k(col)) {
		const shoup_share_t *set[SHOUP_PLAYERS_MAX];
		unsigned got = col_pick(col, usable, set, col_k(col));
		assert(got == col_k(col));
		if (col_try(col, set)) {
			return SHOUP_COLLECT_DONE;
		}
		return optproof_fall_back(col);
	}
	if ((col->seen | col->faulty) == col_all(col)) {
		return optproof_fall_back(col);	/* equivocators left too few */
	}
	return SHOUP_COLLECT_MORE;
}

/* OPTPROOF after the fallback: like BASIC for shares with proofs. */
static shoup_collect_t optproof_add_proven(shoup_collector_t *col,
                                           const shoup_share_t *share)
{
	uint32_t bit = id_bit(share->id);
	if (!share->has_proof) {
		return col_status(col);	/* may be a late optimistic share */
	}
	shoup_share_t *stored = col_find(col, share->id);
	if (stored != NULL && (col->proven & bit)) {
		if (!share_same(stored, share)) {
			col->faulty |= bit;
		}
	} else if (shoup_share_verify(col->pub, col->x, share) != SHOUP_EOK) {
		col->faulty |= bit;
	} else if (stored != NULL && mpz_cmp(stored->value, share->value) != 0) {
		col->faulty |= bit;	/* its optimistic share was a different value */
	} else {
		if (stored != NULL) {
			share_copy_proof(stored, share);
		} else {
			col_store(col, share);
		}
		col->proven |= bit;
		col_try_proven(col);
	}
	col_check_proven_reachable(col);
	return col_status(col);
}

static uint64_t binomial(unsigned n, unsigned k)
{
	assert(k <= n && n <= SHOUP_PLAYERS_MAX);
	uint64_t b = 1;
	for (unsigned i = 1; i <= k; i++) {
		b = b * (n - k + i) / i;	/* exact at every step */
	}
	return b;
}

/* Every k-subset of usable[0..m) that contains usable[m - 1], in
 * lexicographic order of the other k - 1 members. */
static bool optte_search(shoup_collector_t *col, const shoup_share_t **usable,
                         unsigned m)
{
	unsigned r = col_k(col) - 1;
	unsigned pool = m - 1;
	assert(m >= col_k(col));
	const shoup_share_t *set[SHOUP_PLAYERS_MAX];
	unsigned idx[SHOUP_PLAYERS_MAX];
	for (unsigned i = 0; i < r; i++) {
		idx[i] = i;
	}
	set[r] = usable[m - 1];

	uint64_t subsets = binomial(pool, r);
	for (uint64_t s = 0; s < subsets; s++) {
		for (unsigned i = 0; i < r; i++) {
			set[i] = usable[idx[i]];
		}
		if (col_try(col, set)) {
			return true;
		}
		/* Next combination: bump the rightmost index that can move. */
		unsigned i = r;
		while (i > 0 && idx[i - 1] == pool - r + i - 1) {
			i--;
		}
		if (i == 0) {
			assert(s + 1 == subsets);
			break;
		}
		idx[i - 1]++;
		for (unsigned j = i; j < r; j++) {
			idx[j] = idx[j - 1] + 1;
		}
	}
	return false;
}

static shoup_collect_t optte_add(shoup_collector_t *col, const shoup_share_t *share)
{
	uint32_t bit = id_bit(share->id);
	shoup_share_t *stored = col_find(col, share->id);
	if (stored != NULL) {
		if (mpz_cmp(stored->value, share->value) != 0) {
			col->faulty |= bit;
		}
	} else {
		col_store(col, share);
		const shoup_share_t *usable[SHOUP_PLAYERS_MAX];
		unsigned m = col_pick(col, col->seen & ~col->faulty, usable,
		                      SHOUP_PLAYERS_MAX);
		assert(m > 0 && usable[m - 1]->id == share->id);
		if (m >= col_k(col) && optte_search(col, usable, m)) {
			return SHOUP_COLLECT_DONE;
		}
		/* Every k-subset of the usable shares has now been tried; 2f + 1
		 * of them hold k honest ones if at most f players are faulty. */
		if (m >= 2 * col->pub->f + 1) {
			col->failed = true;
		}
	}
	if ((col->seen | col->faulty) == col_all(col)) {
		col->failed = true;
	}
	return col_status(col);
}

/* A sender was found faulty outside the strategies' own paths. */
static shoup_collect_t col_after_fault(shoup_collector_t *col)
{
	bool all_heard = (col->seen | col->faulty) == col_all(col);
	if (col->strategy == SHOUP_STRATEGY_OPTTE) {
		col->failed = all_heard;
	} else if (col->strategy == SHOUP_STRATEGY_OPTPROOF && !col->proofs_requested) {
		return all_heard ? optproof_fall_back(col) : SHOUP_COLLECT_MORE;
	} else {
		col_check_proven_reachable(col);	/* BASIC, or OPTPROOF fallen back */
	}
	return col_status(col);
}

int shoup_collector_init(shoup_collector_t *col, const shoup_public_t *pub,
                         const mpz_t x, shoup_strategy_t strategy)
{
	if (col == NULL || pub == NULL || !shoup_params_valid(pub->n, pub->f) ||
	    mpz_sgn(pub->modulus) <= 0 || !shoup_in_unit_range(x, pub->modulus)) {
		return SHOUP_EINVAL;
	}
	if (strategy != SHOUP_STRATEGY_BASIC && strategy != SHOUP_STRATEGY_OPTPROOF &&
	    strategy != SHOUP_STRATEGY_OPTTE) {
		return SHOUP_EINVAL;
	}
	memset(col, 0, sizeof(*col));
	col->pub = pub;
	col->strategy = strategy;
	mpz_init_set(col->x, x);
	mpz_init(col->signature);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_share_init(&col->shares[i]);
	}
	return SHOUP_EOK;
}

void shoup_collector_clear(shoup_collector_t *col)
{
	assert(col != NULL);
	mpz_clears(col->x, col->signature, NULL);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_share_clear(&col->shares[i]);
	}
	memset(col, 0, sizeof(*col));
}

shoup_collect_t shoup_collector_add(shoup_collector_t *col, const shoup_share_t *share)
{
	assert(col != NULL && col->pub != NULL && share != NULL);
	if (col->done || col->failed) {
		return col_status(col);
	}
	if (share->id < 1 || share->id > col->pub->n) {
		return col_status(col);	/* no player to blame */
	}
	uint32_t bit = id_bit(share->id);
	if (col->faulty & bit) {
		return col_status(col);
	}
	if (!shoup_in_unit_range(share->value, col->pub->modulus)) {
		col->faulty |= bit;
		return col_after_fault(col);
	}

	switch (col->strategy) {
	case SHOUP_STRATEGY_BASIC:
		return basic_add(col, share);
	case SHOUP_STRATEGY_OPTPROOF:
		return col->proofs_requested ? optproof_add_proven(col, share)
		                             : optproof_add_optimistic(col, share);
	case SHOUP_STRATEGY_OPTTE:
		return optte_add(col, share);
	}
	assert(0);
	return SHOUP_COLLECT_FAILED;
}

shoup_collect_t shoup_collector_add_signature(shoup_collector_t *col, const mpz_t sig)
{
	assert(col != NULL && col->pub != NULL);
	if (col->done) {
		return SHOUP_COLLECT_DONE;
	}
	if (shoup_signature_verify(col->pub, col->x, sig)) {
		mpz_set(col->signature, sig);
		col->done = true;
		col->failed = false;
	}
	return col_status(col);
}
