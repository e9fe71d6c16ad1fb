/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The collector under the three strategies. Scenarios feed shares in a
 * seeded random (or adversarial) order from honest, bad (bit-inverted or
 * random value, the original proof kept) and silent players:
 * - up to f bad: every strategy ends DONE with THE signature (equal to the
 *   honest one, accepted by nettle) and never blames an honest player;
 * - f + 1 bad among 2f + 1 answers: never DONE, never a wrong signature;
 *   OPTTE says FAILED, BASIC/OPTPROOF wait and finish once the silent
 *   honest players answer;
 * - fewer than k honest players at all: FAILED once everyone has answered.
 * Plus duplicates, equivocation, out-of-range ids and values, forwarded
 * signatures, and OPTPROOF's single NEED_PROOFS.
 * TEST_SEED=<n> replays the orders and the choice of bad players (printed
 * first); keys and messages are fresh each run.
 */

#include <stdlib.h>
#include <string.h>

#include "tests/crypto/crypto_test.h"

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* splitmix64: enough for shuffles, and replayable from one seed. */
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void shuffle(unsigned *items, unsigned count)
{
	for (unsigned i = count; i > 1; i--) {
		unsigned j = (unsigned)(rng_next() % i);
		unsigned t = items[i - 1];
		items[i - 1] = items[j];
		items[j] = t;
	}
}

enum { ORDER_RANDOM, ORDER_BAD_FIRST, ORDER_BAD_LAST };

typedef struct {
	const test_key_t *key;
	shoup_strategy_t strategy;
	uint32_t bad;		/* players whose shares are spoiled */
	uint32_t silent;	/* players that never answer */
	test_bad_t how;
	int order;
} scenario_t;

typedef struct {
	shoup_collect_t result;
	unsigned need_proofs;
	uint32_t faulty;
	uint64_t attempts;
	bool right_signature;	/* DONE and equal to the honest signature */
	bool wrong_signature;	/* DONE with anything else: must never happen */
} outcome_t;

/* Every player's share of one message, with and without proof. */
typedef struct {
	test_msg_t msg;
	mpz_t reference;	/* the signature, from honest shares */
	shoup_share_t plain[SHOUP_PLAYERS_MAX];
	shoup_share_t proven[SHOUP_PLAYERS_MAX];
} round_t;

static void round_make(round_t *rd, const scenario_t *sc)
{
	const shoup_public_t *pub = &sc->key->pub;
	test_msg_init(&rd->msg);
	mpz_init(rd->reference);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_share_init(&rd->plain[i]);
		shoup_share_init(&rd->proven[i]);
	}
	test_msg_random(&rd->msg, pub, bftdns_alg_by_number(BFTDNS_ALG_RSASHA256));
	test_shares_make(sc->key, rd->msg.x, false, rd->plain);
	test_shares_make(sc->key, rd->msg.x, true, rd->proven);

	const shoup_share_t *set[SHOUP_PLAYERS_MAX];
	for (unsigned i = 0; i <= pub->f; i++) {
		set[i] = &rd->proven[i];
	}
	CHECK(shoup_combine(pub, rd->msg.x, set, pub->f + 1, rd->reference) == SHOUP_EOK &&
	      shoup_signature_verify(pub, rd->msg.x, rd->reference), "reference signature");

	/* A bad player spoils its value once and sends that same value with
	 * and without the (now wrong) proof: consistently bad, not equivocating. */
	for (unsigned i = 0; i < pub->n; i++) {
		if (sc->bad & (UINT32_C(1) << i)) {
			test_share_spoil(pub, &rd->plain[i], sc->how);
			mpz_set(rd->proven[i].value, rd->plain[i].value);
		}
	}
}

static void round_clear(round_t *rd)
{
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_share_clear(&rd->plain[i]);
		shoup_share_clear(&rd->proven[i]);
	}
	mpz_clear(rd->reference);
	test_msg_clear(&rd->msg);
}

/* The answering players in the scenario's order. */
static unsigned order_make(const scenario_t *sc, unsigned *order)
{
	unsigned count = 0, n = sc->key->pub.n;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < n; i++) {
			uint32_t bit = UINT32_C(1) << i;
			bool bad = (sc->bad & bit) != 0;
			if (sc->silent & bit) {
				continue;
			}
			bool first_pass = sc->order == ORDER_BAD_FIRST ? bad :
			                  sc->order == ORDER_BAD_LAST ? !bad : true;
			if ((pass == 0) == first_pass) {
				order[count++] = i;
			}
		}
	}
	if (sc->order == ORDER_RANDOM) {
		shuffle(order, count);
	}
	return count;
}

static void outcome_note(outcome_t *out, const shoup_collector_t *col,
                         const round_t *rd, shoup_collect_t result)
{
	out->result = result;
	out->faulty = col->faulty;
	out->attempts = col->combine_attempts;
	if (result == SHOUP_COLLECT_DONE) {
		bool same = mpz_cmp(col->signature, rd->reference) == 0;
		out->right_signature = same;
		out->wrong_signature = !same;
	}
}

/* Feeds the first queue; after NEED_PROOFS, interleaves the proven shares of
 * every answering player (in a fresh order) with what is left of it. */
static void scenario_feed(const scenario_t *sc, round_t *rd, shoup_collector_t *col,
                          outcome_t *out)
{
	unsigned first[SHOUP_PLAYERS_MAX], second[SHOUP_PLAYERS_MAX];
	unsigned first_count = order_make(sc, first), second_count = 0;
	unsigned fi = 0, si = 0;
	bool basic = sc->strategy == SHOUP_STRATEGY_BASIC;
	shoup_collect_t result = SHOUP_COLLECT_MORE;

	while ((fi < first_count || si < second_count) &&
	       result != SHOUP_COLLECT_DONE && result != SHOUP_COLLECT_FAILED) {
		bool take_second = si < second_count && (fi == first_count || (rng_next() & 1));
		const shoup_share_t *share = take_second ? &rd->proven[second[si++]] :
		                             basic ? &rd->proven[first[fi++]] :
		                                     &rd->plain[first[fi++]];
		result = shoup_collector_add(col, share);
		if (result == SHOUP_COLLECT_NEED_PROOFS) {
			out->need_proofs++;
			second_count = order_make(sc, second);
			shuffle(second, second_count);
		}
	}
	outcome_note(out, col, rd, result);
}

static void scenario_run(const scenario_t *sc, outcome_t *out, bool finish_silent)
{
	const shoup_public_t *pub = &sc->key->pub;
	round_t rd;
	round_make(&rd, sc);
	memset(out, 0, sizeof(*out));

	shoup_collector_t col;
	CHECK(shoup_collector_init(&col, pub, rd.msg.x, sc->strategy) == SHOUP_EOK, "init");
	scenario_feed(sc, &rd, &col, out);

	if (finish_silent && out->result != SHOUP_COLLECT_DONE) {
		/* The silent (honest) players answer late, with proofs. */
		for (unsigned i = 0; i < pub->n && out->result != SHOUP_COLLECT_DONE; i++) {
			if (sc->silent & (UINT32_C(1) << i)) {
				shoup_collect_t r = shoup_collector_add(&col, &rd.proven[i]);
				out->need_proofs += r == SHOUP_COLLECT_NEED_PROOFS;
				outcome_note(out, &col, &rd, r);
			}
		}
		if (out->result == SHOUP_COLLECT_FAILED) {
			/* An honest peer forwards the finished signature. */
			shoup_collect_t r = shoup_collector_add_signature(&col, rd.reference);
			outcome_note(out, &col, &rd, r);
		}
	}
	shoup_collector_clear(&col);
	round_clear(&rd);
}

static const char *result_name(shoup_collect_t r)
{
	switch (r) {
	case SHOUP_COLLECT_MORE: return "MORE";
	case SHOUP_COLLECT_DONE: return "DONE";
	case SHOUP_COLLECT_NEED_PROOFS: return "NEED_PROOFS";
	case SHOUP_COLLECT_FAILED: return "FAILED";
	}
	return "?";
}

/* Up to f bad players (the first bad_count of a random choice), everyone
 * else honest and answering: DONE with the right signature. */
static uint32_t random_players(unsigned n, unsigned count)
{
	unsigned ids[SHOUP_PLAYERS_MAX];
	for (unsigned i = 0; i < n; i++) {
		ids[i] = i;
	}
	shuffle(ids, n);
	uint32_t mask = 0;
	for (unsigned i = 0; i < count; i++) {
		mask |= UINT32_C(1) << ids[i];
	}
	return mask;
}

static uint64_t binomial(unsigned n, unsigned k)
{
	uint64_t b = 1;
	for (unsigned i = 1; i <= k; i++) {
		b = b * (n - k + i) / i;
	}
	return b;
}

static void test_tolerated(const test_key_t *key, shoup_strategy_t strategy,
                           unsigned bad_count, int order, test_bad_t how)
{
	const shoup_public_t *pub = &key->pub;
	scenario_t sc = {
		.key = key, .strategy = strategy, .how = how, .order = order,
		.bad = random_players(pub->n, bad_count),
	};
	outcome_t out;
	scenario_run(&sc, &out, false);
	const char *name = shoup_strategy_name(strategy);
	CHECK(out.result == SHOUP_COLLECT_DONE && out.right_signature,
	      "%s n=%u f=%u bad=%#x order=%d how=%d: %s", name, pub->n, pub->f,
	      sc.bad, order, how, result_name(out.result));
	CHECK(!out.wrong_signature, "%s: wrong signature", name);
	CHECK((out.faulty & ~sc.bad) == 0, "%s blamed an honest player: %#x", name, out.faulty);
	CHECK(out.need_proofs <= 1, "%s: NEED_PROOFS %u times", name, out.need_proofs);
	if (strategy != SHOUP_STRATEGY_OPTPROOF) {
		CHECK(out.need_proofs == 0, "%s asked for proofs", name);
	}
	if (bad_count == 0 && strategy != SHOUP_STRATEGY_BASIC) {
		CHECK(out.attempts == 1 && out.need_proofs == 0, "%s: %llu attempts", name,
		      (unsigned long long)out.attempts);
	}
	if (strategy == SHOUP_STRATEGY_OPTTE) {
		uint64_t bound = binomial(2 * pub->f + 1, pub->f + 1);
		CHECK(out.attempts <= bound, "optte: %llu attempts > C(2f+1, k) = %llu",
		      (unsigned long long)out.attempts, (unsigned long long)bound);
	}
	if (strategy == SHOUP_STRATEGY_BASIC) {
		CHECK(out.attempts == 1, "basic: %llu attempts", (unsigned long long)out.attempts);
	}
}

/* f + 1 bad and f honest answer, f silent: no signature can be made yet. */
static void test_too_many_bad(const test_key_t *key, shoup_strategy_t strategy,
                              test_bad_t how)
{
	const shoup_public_t *pub = &key->pub;
	unsigned f = pub->f;
	uint32_t bad = random_players(pub->n, f + 1);
	uint32_t silent = 0;
	for (unsigned i = 0, left = pub->n - (2 * f + 1); i < pub->n && left > 0; i++) {
		if (!(bad & (UINT32_C(1) << i))) {
			silent |= UINT32_C(1) << i;
			left--;
		}
	}
	scenario_t sc = {
		.key = key, .strategy = strategy, .how = how, .order = ORDER_RANDOM,
		.bad = bad, .silent = silent,
	};
	const char *name = shoup_strategy_name(strategy);
	outcome_t out;
	scenario_run(&sc, &out, false);
	CHECK(out.result != SHOUP_COLLECT_DONE && !out.wrong_signature,
	      "%s n=%u: f+1 bad gave %s", name, pub->n, result_name(out.result));
	CHECK((out.faulty & ~bad) == 0, "%s blamed an honest player", name);
	bool can_still = silent != 0;	/* the silent ones are honest */
	shoup_collect_t expect = strategy == SHOUP_STRATEGY_OPTTE || !can_still ?
	                         SHOUP_COLLECT_FAILED : SHOUP_COLLECT_MORE;
	CHECK(out.result == expect, "%s n=%u f=%u: %s, expected %s", name, pub->n, f,
	      result_name(out.result), result_name(expect));

	/* When the silent honest players answer (or forward the signature),
	 * it finishes, with the right signature. */
	scenario_run(&sc, &out, true);
	CHECK(out.result == SHOUP_COLLECT_DONE && out.right_signature && !out.wrong_signature,
	      "%s: late answers: %s", name, result_name(out.result));
}

/* Only f honest players exist (n - f bad): FAILED once all have answered. */
static void test_all_answered(const test_key_t *key, shoup_strategy_t strategy)
{
	const shoup_public_t *pub = &key->pub;
	scenario_t sc = {
		.key = key, .strategy = strategy, .how = TEST_BAD_INVERT,
		.order = ORDER_RANDOM, .bad = random_players(pub->n, pub->n - pub->f),
	};
	outcome_t out;
	scenario_run(&sc, &out, false);
	CHECK(out.result == SHOUP_COLLECT_FAILED && !out.wrong_signature,
	      "%s n=%u: all answered: %s", shoup_strategy_name(strategy), pub->n,
	      result_name(out.result));
}

static void test_strategies(const test_key_t *key, unsigned rounds, unsigned optte_bad_max)
{
	const shoup_public_t *pub = &key->pub;
	double start = test_now();
	for (unsigned s = 0; s < 3; s++) {
		shoup_strategy_t strategy = (shoup_strategy_t)s;
		unsigned bad_max = strategy == SHOUP_STRATEGY_OPTTE && optte_bad_max < pub->f ?
		                   optte_bad_max : pub->f;
		for (unsigned r = 0; r < rounds; r++) {
			test_bad_t how = (test_bad_t)(r % TEST_BAD_KINDS);
			test_tolerated(key, strategy, 0, ORDER_RANDOM, how);
			test_tolerated(key, strategy, bad_max, ORDER_RANDOM, how);
			test_tolerated(key, strategy, bad_max, ORDER_BAD_FIRST, how);
			test_tolerated(key, strategy, bad_max, ORDER_BAD_LAST, how);
			if (bad_max > 1) {
				test_tolerated(key, strategy, 1 + r % bad_max, ORDER_RANDOM, how);
			}
		}
		if (strategy != SHOUP_STRATEGY_OPTTE || optte_bad_max >= pub->f) {
			test_too_many_bad(key, strategy, TEST_BAD_INVERT);
			test_too_many_bad(key, strategy, TEST_BAD_RANDOM);
		}
		if (strategy != SHOUP_STRATEGY_OPTTE || pub->f <= 5) {
			test_all_answered(key, strategy);
		}
	}
	fprintf(stderr, "# n=%u f=%u (%u bits): strategies checked in %.2f s\n",
	        pub->n, pub->f, pub->bits, test_now() - start);
}

/* Copies a share for mangling. */
static void share_copy(shoup_share_t *dst, const shoup_share_t *src)
{
	dst->id = src->id;
	dst->has_proof = src->has_proof;
	mpz_set(dst->value, src->value);
	mpz_set(dst->proof_z, src->proof_z);
	mpz_set(dst->proof_c, src->proof_c);
}

/* Duplicates, equivocation, bad ids and values, forwarded signatures. */
static void test_faults(const test_key_t *key, shoup_strategy_t strategy)
{
	const shoup_public_t *pub = &key->pub;
	const char *name = shoup_strategy_name(strategy);
	scenario_t sc = { .key = key, .strategy = strategy };
	round_t rd;
	round_make(&rd, &sc);
	bool basic = strategy == SHOUP_STRATEGY_BASIC;
	shoup_share_t *first = basic ? rd.proven : rd.plain;
	shoup_share_t odd;
	shoup_share_init(&odd);
	shoup_collector_t col;
	CHECK(shoup_collector_init(&col, pub, rd.msg.x, strategy) == SHOUP_EOK, "init");

	/* Id out of range: ignored, nobody blamed. */
	share_copy(&odd, &first[0]);
	odd.id = 0;
	CHECK(shoup_collector_add(&col, &odd) == SHOUP_COLLECT_MORE && col.faulty == 0, "%s id 0", name);
	odd.id = pub->n + 1;
	CHECK(shoup_collector_add(&col, &odd) == SHOUP_COLLECT_MORE && col.faulty == 0, "%s id n+1", name);
	CHECK(col.count == 0, "%s stored a bad id", name);

	/* Value >= N from player 1: blamed. */
	share_copy(&odd, &first[0]);
	mpz_add(odd.value, odd.value, pub->modulus);
	CHECK(shoup_collector_add(&col, &odd) == SHOUP_COLLECT_MORE, "%s value >= N", name);
	CHECK(col.faulty == 1, "%s: player 1 not blamed for a value >= N", name);
	/* ... and its later good share is ignored. */
	CHECK(shoup_collector_add(&col, &first[0]) == SHOUP_COLLECT_MORE && col.count == 0,
	      "%s: faulty player's share used", name);

	/* Player 2 twice, identical: ignored, not blamed. Then a different
	 * share from player 2: equivocation. */
	CHECK(shoup_collector_add(&col, &first[1]) == SHOUP_COLLECT_MORE, "%s player 2", name);
	CHECK(shoup_collector_add(&col, &first[1]) == SHOUP_COLLECT_MORE, "%s player 2 again", name);
	CHECK(col.faulty == 1 && col.count == 1, "%s: identical duplicate blamed", name);
	share_copy(&odd, &first[1]);
	test_share_spoil(pub, &odd, TEST_BAD_RANDOM);
	shoup_collect_t r = shoup_collector_add(&col, &odd);
	CHECK(col.faulty == 3, "%s: equivocation not blamed (%#x)", name, col.faulty);

	/* A wrong forwarded signature changes nothing; the right one finishes. */
	mpz_t wrong;
	mpz_init_set(wrong, rd.reference);
	mpz_add_ui(wrong, wrong, 1);
	r = shoup_collector_add_signature(&col, wrong);
	CHECK(r != SHOUP_COLLECT_DONE && !col.done, "%s: wrong signature accepted", name);
	mpz_set(wrong, pub->modulus);
	CHECK(shoup_collector_add_signature(&col, wrong) != SHOUP_COLLECT_DONE, "%s sig N", name);
	mpz_set_si(wrong, -3);
	CHECK(shoup_collector_add_signature(&col, wrong) != SHOUP_COLLECT_DONE, "%s sig < 0", name);
	CHECK(shoup_collector_add_signature(&col, rd.reference) == SHOUP_COLLECT_DONE &&
	      mpz_cmp(col.signature, rd.reference) == 0, "%s: forwarded signature", name);
	CHECK(shoup_collector_add(&col, &first[2]) == SHOUP_COLLECT_DONE, "%s: stays done", name);
	mpz_clear(wrong);
	shoup_collector_clear(&col);
	shoup_share_clear(&odd);
	round_clear(&rd);
}

/* BASIC refuses shares without proofs; OPTPROOF uses proofs that came
 * early and asks for proofs only once. */
static void test_proof_paths(const test_key_t *key)
{
	const shoup_public_t *pub = &key->pub;
	unsigned k = pub->f + 1;
	scenario_t sc = { .key = key, .strategy = SHOUP_STRATEGY_BASIC };
	round_t rd;
	round_make(&rd, &sc);
	shoup_collector_t col;

	CHECK(shoup_collector_init(&col, pub, rd.msg.x, SHOUP_STRATEGY_BASIC) == SHOUP_EOK, "init");
	CHECK(shoup_collector_add(&col, &rd.plain[0]) != SHOUP_COLLECT_DONE && col.faulty == 1,
	      "basic took a share without proof");
	shoup_collector_clear(&col);

	/* OPTPROOF: player 1 is bad, its proofless share comes first; the
	 * others' first shares carry proofs already. */
	CHECK(shoup_collector_init(&col, pub, rd.msg.x, SHOUP_STRATEGY_OPTPROOF) == SHOUP_EOK, "init");
	shoup_share_t bad;
	shoup_share_init(&bad);
	share_copy(&bad, &rd.plain[0]);
	test_share_spoil(pub, &bad, TEST_BAD_INVERT);
	shoup_collect_t r = shoup_collector_add(&col, &bad);
	unsigned need = 0;
	for (unsigned i = 1; i < pub->n && r != SHOUP_COLLECT_DONE; i++) {
		r = shoup_collector_add(&col, &rd.proven[i]);
		need += r == SHOUP_COLLECT_NEED_PROOFS;
		/* Late proofless copies after the fallback are ignored. */
		shoup_collect_t again = shoup_collector_add(&col, &rd.plain[i]);
		need += again == SHOUP_COLLECT_NEED_PROOFS;
		if (again == SHOUP_COLLECT_DONE) {
			r = again;
		}
	}
	CHECK(r == SHOUP_COLLECT_DONE && mpz_cmp(col.signature, rd.reference) == 0,
	      "optproof with early proofs");
	CHECK(need == (k > 1 ? 1u : 0u), "NEED_PROOFS %u times", need);
	CHECK((col.faulty & ~UINT32_C(1)) == 0, "optproof blamed an honest player");
	shoup_share_clear(&bad);
	shoup_collector_clear(&col);
	round_clear(&rd);
}

static void test_init_errors(const test_key_t *key)
{
	shoup_collector_t col;
	mpz_t x;
	mpz_init_set_ui(x, 0);
	CHECK(shoup_collector_init(&col, &key->pub, x, SHOUP_STRATEGY_BASIC) == SHOUP_EINVAL, "x 0");
	mpz_set(x, key->pub.modulus);
	CHECK(shoup_collector_init(&col, &key->pub, x, SHOUP_STRATEGY_BASIC) == SHOUP_EINVAL, "x N");
	mpz_set_ui(x, 5);
	CHECK(shoup_collector_init(&col, &key->pub, x, (shoup_strategy_t)3) == SHOUP_EINVAL, "strategy");
	CHECK(shoup_collector_init(NULL, &key->pub, x, SHOUP_STRATEGY_BASIC) == SHOUP_EINVAL, "NULL");
	mpz_clear(x);
}

static void seed_init(void)
{
	const char *env = getenv("TEST_SEED");
	if (env != NULL) {
		rng_state = strtoull(env, NULL, 0);
	} else {
		test_random_bytes((uint8_t *)&rng_state, sizeof(rng_state));
	}
	fprintf(stderr, "# TEST_SEED=%llu\n", (unsigned long long)rng_state);
}

int main(void)
{
	seed_init();
	static const unsigned configs[][4] = {
		/* bits, n, f, rounds */
		{ 1024, 1, 0, 6 }, { 1024, 4, 1, 6 }, { 1024, 7, 2, 4 },
		{ 1024, 10, 3, 3 }, { 1024, 16, 5, 2 }, { 2048, 4, 1, 2 }, { 2048, 7, 2, 1 },
	};
	for (unsigned c = 0; c < sizeof(configs) / sizeof(configs[0]); c++) {
		test_key_t key;
		test_key_init(&key);
		test_key_make(&key, configs[c][0], configs[c][1], configs[c][2]);
		test_strategies(&key, configs[c][3], SHOUP_PLAYERS_MAX);
		/* These need a few honest players besides the faulty ones. */
		for (unsigned s = 0; s < 3 && key.pub.n >= 4; s++) {
			test_faults(&key, (shoup_strategy_t)s);
		}
		if (key.pub.n >= 4) {
			test_proof_paths(&key);
		}
		test_init_errors(&key);
		test_key_clear(&key);
	}

	/* n = 32, f = 10: OPTTE tries C(2f+1, f+1) = 352,716 subsets in the
	 * worst case, so it gets at most 3 bad shares here (at most C(14, 11)
	 * = 364 subsets); BASIC and OPTPROOF get the full f. */
	test_key_t key;
	test_key_init(&key);
	test_key_make(&key, 1024, 32, 10);
	test_strategies(&key, 1, 3);
	test_key_clear(&key);
	return test_finish("test-shoup-collector");
}
