/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/keys/number.h"
#include "coordinator/tools/signzone_replicas.h"

void replicas_init(replicas_t *replicas, shoup_strategy_t strategy)
{
	memset(replicas, 0, sizeof(*replicas));
	replicas->strategy = strategy;
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		keys_share_init(&replicas->shares[i]);
	}
}

void replicas_clear(replicas_t *replicas)
{
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		keys_share_clear(&replicas->shares[i]);
	}
	memset(replicas, 0, sizeof(*replicas));
}

const keys_public_t *replicas_key(const replicas_t *replicas)
{
	assert(replicas->count > 0);
	return &replicas->shares[0].pub;
}

static bool replicas_same_key(const keys_public_t *a, const keys_public_t *b)
{
	uint8_t digest_a[KEYS_PUBLIC_DIGEST_SIZE], digest_b[KEYS_PUBLIC_DIGEST_SIZE];
	return keys_public_digest(a, digest_a, NULL) == KEYS_EOK &&
	       keys_public_digest(b, digest_b, NULL) == KEYS_EOK &&
	       memcmp(digest_a, digest_b, sizeof(digest_a)) == 0;
}

static int replicas_find(const replicas_t *replicas, unsigned id)
{
	for (unsigned i = 0; i < replicas->count; i++) {
		if (replicas->shares[i].secret.id == id) {
			return (int)i;
		}
	}
	return -1;
}

int replicas_add_file(replicas_t *replicas, const char *path, keys_err_t *err)
{
	if (replicas->count == SHOUP_PLAYERS_MAX) {
		return keys_err_set(err, KEYS_EINVAL, "more than %d share files", SHOUP_PLAYERS_MAX);
	}
	keys_share_t *share = &replicas->shares[replicas->count];
	int ret = keys_share_read(path, share, err);
	if (ret != KEYS_EOK) {
		return ret;
	}
	unsigned id = share->secret.id;
	if (replicas->count > 0 && !replicas_same_key(&share->pub, replicas_key(replicas))) {
		ret = keys_err_set(err, KEYS_EKEY, "%s is a share of another key (zone %s, key tag %u) "
		                   "than the first share file (zone %s, key tag %u)", path,
		                   share->pub.zone, share->pub.key_tag, replicas_key(replicas)->zone,
		                   replicas_key(replicas)->key_tag);
	} else if (replicas_find(replicas, id) >= 0) {
		ret = keys_err_set(err, KEYS_EINVAL, "%s is the share of replica %u, given twice", path,
		                   id);
	}
	if (ret != KEYS_EOK) {
		keys_share_clear(share);
		keys_share_init(share);
		return ret;
	}
	replicas->modes[replicas->count++] = REPLICA_HONEST;
	return KEYS_EOK;
}

int replicas_corrupt(replicas_t *replicas, const char *spec, keys_err_t *err)
{
	char id_text[8] = "";
	const char *colon = strchr(spec, ':');
	size_t id_len = colon != NULL ? (size_t)(colon - spec) : 0;
	uint64_t id = 0;
	if (id_len > 0 && id_len < sizeof(id_text)) {
		memcpy(id_text, spec, id_len);
	}
	if (colon == NULL || !keys_parse_decimal(id_text, SHOUP_PLAYERS_MAX, &id)) {
		return keys_err_set(err, KEYS_EINVAL, "--corrupt takes ID:invert or ID:random, not '%s'",
		                    spec);
	}
	replica_mode_t mode;
	if (strcmp(colon + 1, "invert") == 0) {
		mode = REPLICA_INVERT;
	} else if (strcmp(colon + 1, "random") == 0) {
		mode = REPLICA_RANDOM;
	} else {
		return keys_err_set(err, KEYS_EINVAL, "--corrupt mode must be invert or random, not '%s'",
		                    colon + 1);
	}
	int index = replicas_find(replicas, (unsigned)id);
	if (index < 0) {
		return keys_err_set(err, KEYS_EINVAL, "--corrupt %s: no share file of replica %llu was "
		                    "given", spec, (unsigned long long)id);
	}
	replicas->modes[index] = mode;
	return KEYS_EOK;
}

/* The damage a corrupted replica does to its share value. The result stays
 * in [1, N), so that it is not refused as out of range but has to be found
 * by a failed combination or proof, the interesting case. */
static int replica_damage(replica_mode_t mode, const mpz_t modulus, mpz_t value)
{
	if (mode == REPLICA_INVERT) {
		mpz_t mask;
		mpz_init(mask);
		mpz_setbit(mask, mpz_sizeinbase(modulus, 2));
		mpz_sub_ui(mask, mask, 1);
		mpz_xor(value, value, mask);
		mpz_clear(mask);
	} else if (mode == REPLICA_RANDOM) {
		uint8_t bytes[SHOUP_BITS_MAX / 8 + 16];
		size_t len = mpz_sizeinbase(modulus, 256) + 16;
		if (shoup_random_system(NULL, bytes, len) != 0) {
			return KEYS_ECRYPTO;
		}
		mpz_import(value, len, 1, 1, 1, 0, bytes);
	}
	mpz_mod(value, value, modulus);
	if (mpz_sgn(value) == 0) {
		mpz_set_ui(value, 1);
	}
	return KEYS_EOK;
}

/* Every replica, in the order given, sends its share to the collector. */
static shoup_collect_t replicas_feed(replicas_t *replicas, shoup_collector_t *col,
                                     const mpz_t x, bool with_proof)
{
	const shoup_public_t *key = &replicas_key(replicas)->key;
	shoup_collect_t state = SHOUP_COLLECT_MORE;
	for (unsigned i = 0; i < replicas->count; i++) {
		shoup_share_t share;
		shoup_share_init(&share);
		int ret = shoup_share_sign(key, &replicas->shares[i].secret, x, with_proof, &share);
		if (ret == SHOUP_EOK) {
			ret = replica_damage(replicas->modes[i], key->modulus, share.value);
		}
		if (ret == SHOUP_EOK) {
			replicas->shares_made++;
			replicas->proofs_made += with_proof;
			state = shoup_collector_add(col, &share);
		}
		shoup_share_clear(&share);
		if (state != SHOUP_COLLECT_MORE) {
			break;
		}
	}
	return state;
}

static void replicas_list_ids(uint32_t mask, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (unsigned id = 1; id <= SHOUP_PLAYERS_MAX && used < size; id++) {
		if (mask & (UINT32_C(1) << (id - 1))) {
			int n = snprintf(out + used, size - used, "%s%u", used > 0 ? ", " : "", id);
			used += n > 0 ? (size_t)n : 0;
		}
	}
	if (out[0] == '\0') {
		snprintf(out, size, "none");
	}
}

static int replicas_failure(const replicas_t *replicas, const shoup_collector_t *col,
                            shoup_collect_t state, keys_err_t *err)
{
	const keys_public_t *key = replicas_key(replicas);
	char blamed[128];
	replicas_list_ids(col->faulty, blamed, sizeof(blamed));
	return keys_err_set(err, KEYS_ECRYPTO,
	                    "no valid signature could be made with the %s protocol from the %u share "
	                    "files given (f + 1 = %u correct shares are needed; %s; %llu "
	                    "combinations tried; replicas proven faulty: %s)",
	                    shoup_strategy_name(replicas->strategy), replicas->count, key->key.f + 1,
	                    state == SHOUP_COLLECT_FAILED ? "the collector gave up"
	                                                  : "it waits for replicas that were not given",
	                    (unsigned long long)col->combine_attempts, blamed);
}

int replicas_sign(replicas_t *replicas, const uint8_t *data, size_t len, uint8_t *sig,
                  size_t sig_size, keys_err_t *err)
{
	const keys_public_t *key = replicas_key(replicas);
	size_t modulus_bytes = (key->key.bits + 7) / 8;
	assert(sig_size >= modulus_bytes);
	mpz_t x;
	mpz_init(x);
	if (bftdns_alg_encode(key->alg, data, len, modulus_bytes, x) != 0) {
		mpz_clear(x);
		return keys_err_set(err, KEYS_ECRYPTO, "cannot encode the data to sign");
	}
	shoup_collector_t col;
	if (shoup_collector_init(&col, &key->key, x, replicas->strategy) != SHOUP_EOK) {
		mpz_clear(x);
		return keys_err_set(err, KEYS_ECRYPTO, "cannot start collecting shares");
	}
	shoup_collect_t state = replicas_feed(replicas, &col, x,
	                                      replicas->strategy == SHOUP_STRATEGY_BASIC);
	if (state == SHOUP_COLLECT_NEED_PROOFS) {
		state = replicas_feed(replicas, &col, x, true);
	}
	replicas->combine_attempts += col.combine_attempts;
	replicas->blamed |= col.faulty;

	int ret = KEYS_EOK;
	if (state != SHOUP_COLLECT_DONE) {
		ret = replicas_failure(replicas, &col, state, err);
	} else if (!shoup_signature_verify(&key->key, x, col.signature) ||
	           bftdns_alg_signature_bytes(col.signature, modulus_bytes, sig) != 0) {
		ret = keys_err_set(err, KEYS_ECRYPTO, "the combined signature does not verify");
	} else {
		replicas->signatures++;
	}
	shoup_collector_clear(&col);
	mpz_clear(x);
	return ret;
}
