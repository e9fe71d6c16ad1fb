/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "module/sigset.h"

/*! Largest digest of a DNSSEC RSA algorithm (SHA-512). */
#define SIGSET_DIGEST_MAX	64
/*! First table size; it doubles at half load. */
#define SIGSET_SLOTS_MIN	64

typedef struct {
	uint8_t *sig;                       /*!< NULL: noted, not signed yet. */
	bool used;
	uint8_t digest[SIGSET_DIGEST_MAX];
} sigset_slot_t;

/*! Knot's view of the set in one of its two roles. */
typedef struct {
	knotd_signer_t knotd;
	bftdns_sigset_t *set;
} sigset_role_t;

struct bftdns_sigset {
	pthread_mutex_t lock;
	size_t digest_size;
	size_t sig_size;
	sigset_slot_t *slots;
	size_t slot_count;                  /*!< A power of two. */
	size_t used;
	size_t missing;                     /*!< Used slots without a signature. */
	bftdns_sigset_verify_fn verify;
	const void *verify_ctx;
	sigset_role_t record;
	sigset_role_t serve;
};

/* Digests are hashes: their first bytes are as good an index as any. A
 * client who grinds record contents for colliding prefixes only makes its
 * own change's lookups slower. */
static size_t sigset_index(const bftdns_sigset_t *set, const uint8_t *digest)
{
	uint64_t h = 0;
	memcpy(&h, digest, sizeof(h) <= set->digest_size ? sizeof(h) : set->digest_size);
	h ^= h >> 29;
	return (size_t)h & (set->slot_count - 1);
}

/*! The slot of digest, or the free slot where it belongs. */
static sigset_slot_t *sigset_find(bftdns_sigset_t *set, const uint8_t *digest)
{
	size_t i = sigset_index(set, digest);
	while (set->slots[i].used &&
	       memcmp(set->slots[i].digest, digest, set->digest_size) != 0) {
		i = (i + 1) & (set->slot_count - 1);
	}
	return &set->slots[i];
}

static int sigset_grow(bftdns_sigset_t *set)
{
	sigset_slot_t *old = set->slots;
	size_t old_count = set->slot_count;
	sigset_slot_t *slots = calloc(old_count * 2, sizeof(*slots));
	if (slots == NULL) {
		return KNOT_ENOMEM;
	}
	set->slots = slots;
	set->slot_count = old_count * 2;
	for (size_t i = 0; i < old_count; i++) {
		if (old[i].used) {
			*sigset_find(set, old[i].digest) = old[i];
		}
	}
	free(old);
	return KNOT_EOK;
}

/*! Notes digest (locked); the slot, or NULL if out of memory. */
static sigset_slot_t *sigset_note(bftdns_sigset_t *set, const uint8_t *digest)
{
	sigset_slot_t *slot = sigset_find(set, digest);
	if (slot->used) {
		return slot;
	}
	if (2 * (set->used + 1) > set->slot_count) {
		if (sigset_grow(set) != KNOT_EOK) {
			return NULL;
		}
		slot = sigset_find(set, digest);
	}
	slot->used = true;
	memcpy(slot->digest, digest, set->digest_size);
	set->used++;
	set->missing++;
	return slot;
}

/*!
 * Knot's sign callback for both roles: a known signature is copied; an
 * unknown digest is noted and, in the dry run, answered with a placeholder
 * (zeros), in the real apply refused, which fails the change.
 */
static int sigset_sign(void *ctx, const uint8_t *digest, size_t digest_len,
                       uint8_t *sig, size_t sig_len)
{
	sigset_role_t *role = ctx;
	bftdns_sigset_t *set = role->set;
	if (digest_len != set->digest_size || sig_len != set->sig_size) {
		return KNOT_EINVAL;
	}

	pthread_mutex_lock(&set->lock);
	int ret = KNOT_EOK;
	sigset_slot_t *slot = sigset_note(set, digest);
	if (slot == NULL) {
		ret = KNOT_ENOMEM;
	} else if (slot->sig != NULL) {
		memcpy(sig, slot->sig, sig_len);
	} else if (role == &set->record) {
		memset(sig, 0, sig_len);
	} else {
		ret = KNOT_ENOENT;
	}
	pthread_mutex_unlock(&set->lock);
	return ret;
}

bftdns_sigset_t *bftdns_sigset_new(size_t digest_size, size_t sig_size,
                                   const knotd_signer_t *base,
                                   bftdns_sigset_verify_fn verify, const void *verify_ctx)
{
	if (digest_size < 8 || digest_size > SIGSET_DIGEST_MAX || sig_size == 0 ||
	    base == NULL || verify == NULL) {
		return NULL;
	}
	bftdns_sigset_t *set = calloc(1, sizeof(*set));
	if (set == NULL) {
		return NULL;
	}
	set->slots = calloc(SIGSET_SLOTS_MIN, sizeof(*set->slots));
	if (set->slots == NULL) {
		free(set);
		return NULL;
	}
	pthread_mutex_init(&set->lock, NULL);
	set->slot_count = SIGSET_SLOTS_MIN;
	set->digest_size = digest_size;
	set->sig_size = sig_size;
	set->verify = verify;
	set->verify_ctx = verify_ctx;
	for (int i = 0; i < 2; i++) {
		sigset_role_t *role = (i == 0) ? &set->record : &set->serve;
		role->set = set;
		role->knotd = (knotd_signer_t) {
			.dnskey = base->dnskey,
			.dnskey_len = base->dnskey_len,
			.sign = sigset_sign,
			.ctx = role,
		};
	}
	return set;
}

void bftdns_sigset_free(bftdns_sigset_t *set)
{
	if (set == NULL) {
		return;
	}
	for (size_t i = 0; i < set->slot_count; i++) {
		free(set->slots[i].sig);
	}
	free(set->slots);
	pthread_mutex_destroy(&set->lock);
	free(set);
}

const knotd_signer_t *bftdns_sigset_signer(bftdns_sigset_t *set, bool record)
{
	return record ? &set->record.knotd : &set->serve.knotd;
}

static int sigset_cmp(const void *a, const void *b, void *size)
{
	return memcmp(a, b, *(const size_t *)size);
}

size_t bftdns_sigset_missing(bftdns_sigset_t *set, uint8_t **digests)
{
	*digests = NULL;
	pthread_mutex_lock(&set->lock);
	size_t count = set->missing;
	uint8_t *out = (count > 0) ? malloc(count * set->digest_size) : NULL;
	if (count > 0 && out == NULL) {
		pthread_mutex_unlock(&set->lock);
		return SIZE_MAX;
	}
	size_t k = 0;
	for (size_t i = 0; i < set->slot_count && k < count; i++) {
		if (set->slots[i].used && set->slots[i].sig == NULL) {
			memcpy(out + k * set->digest_size, set->slots[i].digest, set->digest_size);
			k++;
		}
	}
	assert(k == count);
	qsort_r(out, count, set->digest_size, sigset_cmp, &set->digest_size);
	pthread_mutex_unlock(&set->lock);
	*digests = out;
	return count;
}

int bftdns_sigset_fill(bftdns_sigset_t *set, const uint8_t *digests, size_t count,
                       const uint8_t *sigs)
{
	/* Checked outside the lock: verifying is the slow part. */
	for (size_t j = 0; j < count; j++) {
		if (!set->verify(set->verify_ctx, digests + j * set->digest_size,
		                 sigs + j * set->sig_size)) {
			return KNOT_EINVAL;
		}
	}

	int ret = KNOT_EOK;
	pthread_mutex_lock(&set->lock);
	for (size_t j = 0; j < count && ret == KNOT_EOK; j++) {
		sigset_slot_t *slot = sigset_note(set, digests + j * set->digest_size);
		if (slot == NULL) {
			ret = KNOT_ENOMEM;
		} else if (slot->sig == NULL) {
			slot->sig = malloc(set->sig_size);
			if (slot->sig == NULL) {
				ret = KNOT_ENOMEM;
				break;
			}
			memcpy(slot->sig, sigs + j * set->sig_size, set->sig_size);
			set->missing--;
		}
	}
	pthread_mutex_unlock(&set->lock);
	return ret;
}

size_t bftdns_sigset_size(const bftdns_sigset_t *set)
{
	return set->used;
}
