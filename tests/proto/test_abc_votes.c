/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The vote guard of the atomic broadcast (abc_votes.h, abc_guard.c;
 * doc/broadcast.md, "Restart"):
 * - the store: keys (votes and relays), verdicts, bounds, records that
 *   round-trip and malformed records that are refused;
 * - one node driven by hand (n = 4, node 1) with durable votes: every new
 *   epoch message is output as a record with the same bytes; after a
 *   restart from those records, a conflicting VALUE (its own proposal),
 *   ECHO, READY, AUX, CONF and TERM are suppressed (votes_suppressed), an
 *   identical vote goes out again without a new record, relays (BVAL) are
 *   sent, and the restored votes come back to the node itself;
 * - abc_restore_vote() on bad input changes nothing;
 * - re-sends beyond the per-call bound (ABC_VOTES_RESEND_MSGS) wait for a
 *   later call, and abc_tick() is one: with no other input they finish.
 */

#include <stdlib.h>
#include <string.h>
#include <nettle/sha2.h>

#include "coordinator/proto/aba.h"
#include "coordinator/proto/abc.h"
#include "coordinator/proto/abc_votes.h"
#include "coordinator/proto/acs.h"
#include "coordinator/proto/rbc.h"
#include "coordinator/proto/wire.h"
#include "tests/proto/bcast_sim.h"

#define N	4
#define F	1
#define SELF	1
#define RECS_MAX	512

static test_coin_keys_t keys;
static abc_conf_t conf;
static bft_step_t step;
static bft_prng_t prng;

/* Records a node output, as a driver keeps them. */
typedef struct {
	uint8_t *data[RECS_MAX];
	size_t len[RECS_MAX];
	size_t count;
} recs_t;

static bft_env_t env_now(void)
{
	static uint64_t clock_ms = 1700000000000ull;
	bft_env_t env = { .now_ms = clock_ms++, .random = bft_prng_random, .random_ctx = &prng };
	return env;
}

/* An ACS message: sub-protocol, instance, then the child's bytes. */
static size_t acs_rbc(uint8_t *buf, size_t cap, bft_node_t inst, rbc_kind_t kind,
                      const char *value)
{
	rbc_msg_t m = { .kind = kind };
	if (kind == RBC_READY) {
		/* READY carries SHA-256 of the value (rbc.c). */
		struct sha256_ctx ctx;
		sha256_init(&ctx);
		sha256_update(&ctx, strlen(value), (const uint8_t *)value);
		sha256_digest(&ctx, RBC_DIGEST_LEN, m.digest);
	} else {
		m.value = (const uint8_t *)value;
		m.value_len = strlen(value);
	}
	buf[0] = ACS_SUB_RBC;
	buf[1] = (uint8_t)inst;
	size_t len = 0;
	CHECK_EQ(rbc_msg_encode(&m, buf + 2, cap - 2, &len), BFT_EOK);
	return len + 2;
}

static size_t acs_aba(uint8_t *buf, size_t cap, bft_node_t inst, aba_kind_t kind, uint32_t round,
                      uint8_t value)
{
	aba_msg_t m = { .kind = kind, .round = round, .value = value };
	buf[0] = ACS_SUB_ABA;
	buf[1] = (uint8_t)inst;
	size_t len = 0;
	CHECK_EQ(aba_msg_encode(&m, buf + 2, cap - 2, &len), BFT_EOK);
	return len + 2;
}

/* Feeds one epoch-0 ACS message from `from` into the node; the step is kept. */
static void feed(abc_t *abc, bft_node_t from, const uint8_t *acs_msg, size_t len)
{
	uint8_t msg[1024];
	bft_wire_w_t w;
	bft_wire_w_init(&w, msg, sizeof(msg));
	bft_wire_put_u8(&w, 1);
	bft_wire_put_u64(&w, 0);
	bft_wire_put_raw(&w, acs_msg, len);
	CHECK(bft_wire_w_ok(&w));
	bft_env_t env = env_now();
	CHECK_EQ(abc_handle_message(abc, from, msg, w.len, &env, &step), BFT_EOK);
}

/* Epoch-0 messages of the step whose ACS part starts with prefix (sub, inst, kind). */
static unsigned step_count(const bft_step_t *s, uint8_t sub, uint8_t inst, uint8_t kind,
                           bft_nodeset_t to)
{
	unsigned count = 0;
	for (size_t i = 0; i < s->msg_count; i++) {
		const uint8_t *d = bft_step_msg_data(s, i);
		if (s->msgs[i].len >= 12 && d[0] == 1 && d[9] == sub && d[10] == inst && d[11] == kind &&
		    (s->msgs[i].to & to) != 0) {
			count++;
		}
	}
	return count;
}

/* Every epoch message of the step has a vote record with its bytes (the
 * guard outputs it in the same call, before the message). */
static void check_recorded(const bft_step_t *s, recs_t *recs)
{
	for (size_t k = 0; k < s->output_count; k++) {
		if (s->outputs[k].tag != ABC_OUTPUT_VOTE) {
			continue;
		}
		CHECK(recs->count < RECS_MAX);
		size_t len = s->outputs[k].len;
		recs->data[recs->count] = malloc(len);
		memcpy(recs->data[recs->count], bft_step_output_data(s, k), len);
		recs->len[recs->count++] = len;
	}
	for (size_t i = 0; i < s->msg_count; i++) {
		const uint8_t *d = bft_step_msg_data(s, i);
		if (d[0] != 1) {
			continue;
		}
		bool found = false;
		for (size_t r = 0; r < recs->count && !found; r++) {
			found = recs->len[r] == ABC_VOTE_HDR + s->msgs[i].len &&
			        memcmp(recs->data[r] + ABC_VOTE_HDR, d, s->msgs[i].len) == 0;
		}
		CHECK(found);
	}
}

static abc_t *node_new(bool durable)
{
	conf.votes_durable = durable;
	bft_params_t p = { .n = N, .f = F, .self = SELF, .conf = &conf };
	abc_t *abc = NULL;
	CHECK_EQ(abc_create(&p, &abc), BFT_EOK);
	return abc;
}

static void test_store(void)
{
	uint8_t m[256];
	uint64_t key_echo, key_ready, key_bval0, key_bval1, key_aux, key_coin;
	bool vote = false;
	size_t len = acs_rbc(m, sizeof(m), 2, RBC_ECHO, "v");
	CHECK_EQ(abc_vote_key(m, len, N, &key_echo, &vote), BFT_EOK);
	CHECK(vote);
	len = acs_rbc(m, sizeof(m), 2, RBC_READY, "v");
	CHECK_EQ(abc_vote_key(m, len, N, &key_ready, &vote), BFT_EOK);
	CHECK(vote && key_ready != key_echo);
	len = acs_aba(m, sizeof(m), 2, ABA_BVAL, 3, 0);
	CHECK_EQ(abc_vote_key(m, len, N, &key_bval0, &vote), BFT_EOK);
	CHECK(!vote);
	len = acs_aba(m, sizeof(m), 2, ABA_BVAL, 3, 1);
	CHECK_EQ(abc_vote_key(m, len, N, &key_bval1, &vote), BFT_EOK);
	CHECK(!vote && key_bval0 != key_bval1);  /* Both values may be sent. */
	uint8_t aux0[16], aux1[16];
	size_t aux0_len = acs_aba(aux0, sizeof(aux0), 2, ABA_AUX, 3, 0);
	size_t aux1_len = acs_aba(aux1, sizeof(aux1), 2, ABA_AUX, 3, 1);
	uint64_t key_aux1;
	CHECK_EQ(abc_vote_key(aux0, aux0_len, N, &key_aux, &vote), BFT_EOK);
	CHECK(vote);
	CHECK_EQ(abc_vote_key(aux1, aux1_len, N, &key_aux1, &vote), BFT_EOK);
	CHECK_EQ(key_aux, key_aux1);             /* One AUX per round. */
	uint8_t share[COIN_SHARE_LEN] = { 0 };
	aba_msg_t coin = { .kind = ABA_COIN, .round = 3, .share = share };
	m[0] = ACS_SUB_ABA;
	m[1] = 2;
	CHECK_EQ(aba_msg_encode(&coin, m + 2, sizeof(m) - 2, &len), BFT_EOK);
	CHECK_EQ(abc_vote_key(m, len + 2, N, &key_coin, &vote), BFT_EOK);
	CHECK(!vote);
	/* Not an ACS message, or an instance beyond n. */
	CHECK_EQ(abc_vote_key(m, 1, N, &key_coin, &vote), BFT_EMALF);
	len = acs_rbc(m, sizeof(m), 2, RBC_ECHO, "v");
	m[1] = N;
	CHECK_EQ(abc_vote_key(m, len, N, &key_coin, &vote), BFT_EMALF);
	m[1] = 2;
	m[0] = 9;
	CHECK_EQ(abc_vote_key(m, len, N, &key_coin, &vote), BFT_EMALF);

	abc_votes_t store;
	abc_votes_init(&store);
	CHECK_EQ(abc_votes_check(&store, 5, key_aux, true, aux0, aux0_len), ABC_VOTE_NEW);
	CHECK_EQ(abc_votes_add(&store, 5, key_aux, 0x3, aux0, aux0_len), BFT_EOK);
	CHECK_EQ(abc_votes_check(&store, 5, key_aux, true, aux0, aux0_len), ABC_VOTE_SAME);
	CHECK_EQ(abc_votes_check(&store, 5, key_aux, true, aux1, aux1_len), ABC_VOTE_CONFLICT);
	CHECK_EQ(abc_votes_check(&store, 5, key_aux, false, aux1, aux1_len), ABC_VOTE_RELAY_OTHER);
	CHECK_EQ(abc_votes_check(&store, 6, key_aux, true, aux1, aux1_len), ABC_VOTE_NEW);
	CHECK_EQ(abc_votes_add(&store, 5, key_aux, 0x4, aux1, aux1_len), BFT_EEXIST);
	CHECK_EQ(abc_votes_add(&store, 5, key_aux, 0x4, aux0, aux0_len), BFT_EOK);
	CHECK_EQ(abc_votes_find(&store, 5, key_aux)->to, 0x7u);   /* Targets merged. */
	CHECK_EQ(store.entries, 1);
	/* Epochs kept in order whatever the order of adds. */
	for (uint64_t e = 20; e >= 7; e--) {
		CHECK_EQ(abc_votes_add(&store, e, key_aux, 0xf, aux1, aux1_len), BFT_EOK);
	}
	CHECK_EQ(store.count, 15);
	for (size_t i = 1; i < store.count; i++) {
		CHECK(store.epochs[i - 1].epoch < store.epochs[i].epoch);
	}
	CHECK_EQ(store.bytes, 15 * aux0_len);
	abc_votes_drop_before(&store, 10);
	CHECK_EQ(store.epochs[0].epoch, 10);
	CHECK_EQ(store.entries, 11);
	/* Over the byte bound only epochs below keep_from go. */
	abc_votes_trim(&store, 0, 13);
	CHECK_EQ(store.epochs[0].epoch, 13);
	CHECK_EQ(store.bytes, 8 * aux0_len);
	abc_votes_trim(&store, 100000, 20);
	CHECK_EQ(store.epochs[0].epoch, 13);
	abc_votes_free(&store);
	CHECK_EQ(store.count, 0);

	/* Records round-trip; damaged ones are refused. */
	bft_step_t s;
	CHECK_EQ(bft_step_init(&s, 1 << 20), BFT_EOK);
	CHECK_EQ(abc_vote_record_output(&s, 77, 123456789, 0xb, aux1, aux1_len), BFT_EOK);
	CHECK_EQ(s.output_count, 1);
	const uint8_t *rec = bft_step_output_data(&s, 0);
	size_t rec_len = s.outputs[0].len;
	CHECK_EQ(rec_len, abc_vote_record_size(aux1_len));
	uint64_t epoch = 0, key = 0;
	bft_nodeset_t to = 0;
	const uint8_t *msg = NULL;
	size_t msg_len = 0;
	CHECK_EQ(abc_vote_record_read(rec, rec_len, N, &epoch, &to, &msg, &msg_len, &key, &vote),
	         BFT_EOK);
	CHECK(epoch == 123456789 && to == 0xb && msg_len == aux1_len && key == key_aux && vote);
	CHECK(memcmp(msg, aux1, aux1_len) == 0);
	CHECK_EQ(abc_vote_record_epoch(rec, rec_len, &epoch), BFT_EOK);
	CHECK_EQ(epoch, 123456789);
	uint8_t bad[64];
	memcpy(bad, rec, rec_len);
	for (size_t cut = 0; cut < rec_len; cut++) {
		CHECK_EQ(abc_vote_record_read(bad, cut, N, &epoch, &to, &msg, &msg_len, &key, &vote),
		         BFT_EMALF);
	}
	size_t offsets[] = { 0, 8, 12, 13, 21, ABC_VOTE_HDR + ABC_VOTE_MSG_HDR,
	                     ABC_VOTE_HDR + ABC_VOTE_MSG_HDR + 1, ABC_VOTE_HDR + ABC_VOTE_MSG_HDR + 2 };
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		memcpy(bad, rec, rec_len);
		bad[offsets[i]] ^= 0x40;   /* version, epoch, targets, kind, inner epoch, ACS. */
		CHECK_EQ(abc_vote_record_read(bad, rec_len, N, &epoch, &to, &msg, &msg_len, &key, &vote),
		         BFT_EMALF);
	}
	memcpy(bad, rec, rec_len);
	bad[ABC_VOTE_HDR - 1] = 0;     /* No target. */
	CHECK_EQ(abc_vote_record_read(bad, rec_len, N, &epoch, &to, &msg, &msg_len, &key, &vote),
	         BFT_EMALF);
	CHECK_EQ(abc_vote_record_read(rec, rec_len, 3, &epoch, &to, &msg, &msg_len, &key, &vote),
	         BFT_EMALF);          /* Target 3 (and instance 2 fits, target does not). */
	bft_step_deinit(&s);
}

/* The first incarnation of node 1: its proposal, an ECHO and a READY for
 * proposer 0's value "a", and in ABA 2 the votes of a decision for 1. */
static void run_first(abc_t *abc, recs_t *recs)
{
	bft_env_t env = env_now();
	CHECK_EQ(abc_start(abc, false, &env, &step), BFT_EOK);
	bft_step_clear(&step);
	CHECK_EQ(abc_handle_input(abc, (const uint8_t *)"first request", 13, &env, &step), BFT_EOK);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, SELF, RBC_VALUE, 0xf), 1);
	check_recorded(&step, recs);
	bft_step_clear(&step);

	uint8_t m[256];
	size_t len = acs_rbc(m, sizeof(m), 0, RBC_VALUE, "a");
	feed(abc, 0, m, len);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_ECHO, 0xf), 1);
	check_recorded(&step, recs);
	bft_step_clear(&step);
	len = acs_rbc(m, sizeof(m), 0, RBC_ECHO, "a");
	feed(abc, 0, m, len);
	feed(abc, 2, m, len);
	feed(abc, 3, m, len);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_READY, 0xf), 1);
	check_recorded(&step, recs);
	bft_step_clear(&step);

	/* ABA 2, round 0 (fixed coin 1): BVAL, AUX, CONF of 1 from three
	 * peers make node 1 vote AUX(1), CONF({1}), decide 1 and send TERM(1). */
	aba_kind_t kinds[] = { ABA_BVAL, ABA_AUX, ABA_CONF };
	for (size_t k = 0; k < 3; k++) {
		len = acs_aba(m, sizeof(m), 2, kinds[k], 0, kinds[k] == ABA_CONF ? 2 : 1);
		feed(abc, 0, m, len);
		feed(abc, 2, m, len);
		feed(abc, 3, m, len);
	}
	CHECK_EQ(step_count(&step, ACS_SUB_ABA, 2, ABA_AUX, 0xf), 1);
	CHECK_EQ(step_count(&step, ACS_SUB_ABA, 2, ABA_CONF, 0xf), 1);
	CHECK_EQ(step_count(&step, ACS_SUB_ABA, 2, ABA_TERM, 0xf), 1);
	check_recorded(&step, recs);
	bft_step_clear(&step);
	abc_stats_t st;
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_kept, recs->count);
	CHECK_EQ(st.votes_suppressed, 0);
}

static void test_guard(void)
{
	recs_t recs = { .count = 0 };
	abc_t *abc = node_new(true);
	run_first(abc, &recs);
	CHECK(recs.count >= 7);
	abc_destroy(abc);

	/* Restart from the records (any order: here reversed). */
	abc = node_new(true);
	for (size_t r = recs.count; r-- > 0;) {
		CHECK_EQ(abc_restore_vote(abc, recs.data[r], recs.len[r]), BFT_EOK);
	}
	/* The same record again is taken (a driver may write one twice). */
	CHECK_EQ(abc_restore_vote(abc, recs.data[0], recs.len[0]), BFT_EOK);
	bft_env_t env = env_now();
	CHECK_EQ(abc_start(abc, true, &env, &step), BFT_EOK);
	/* Not silent: its restored votes go back to itself at once. */
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_ECHO, bft_nodeset_one(SELF)), 1);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_READY, bft_nodeset_one(SELF)), 1);
	CHECK_EQ(step_count(&step, ACS_SUB_ABA, 2, ABA_TERM, bft_nodeset_one(SELF)), 1);
	abc_stats_t st;
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_resent, recs.count);
	/* ... and to a peer once it tells its epoch (STARTED, epoch 0). */
	bft_step_clear(&step);
	uint8_t started[10] = { 3, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	CHECK_EQ(abc_handle_message(abc, 2, started, sizeof(started), &env, &step), BFT_EOK);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_ECHO, bft_nodeset_one(2)), 1);
	CHECK_EQ(step_count(&step, ACS_SUB_ABA, 2, ABA_AUX, bft_nodeset_one(2)), 1);
	bft_step_clear(&step);
	CHECK_EQ(abc_handle_message(abc, 2, started, sizeof(started), &env, &step), BFT_EOK);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_ECHO, 0xf), 0);   /* Once. */
	bft_step_clear(&step);
	size_t before = recs.count;

	/* Its own proposal again, with another request: suppressed. */
	CHECK_EQ(abc_handle_input(abc, (const uint8_t *)"second request", 14, &env, &step), BFT_EOK);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, SELF, RBC_VALUE, 0xf), 0);
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_suppressed, 1);
	bft_step_clear(&step);

	/* Proposer 0 equivocates to it after the restart: VALUE "b". */
	uint8_t m[256];
	size_t len = acs_rbc(m, sizeof(m), 0, RBC_VALUE, "b");
	feed(abc, 0, m, len);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_ECHO, 0xf), 0);
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_suppressed, 2);
	bft_step_clear(&step);
	/* Three ECHOs of "b" would make it READY for "b": suppressed. (Only
	 * faulty nodes could send them; the guard does not care why.) */
	len = acs_rbc(m, sizeof(m), 0, RBC_ECHO, "b");
	feed(abc, 2, m, len);
	feed(abc, 3, m, len);
	len = acs_rbc(m, sizeof(m), 0, RBC_ECHO, "b");
	feed(abc, 0, m, len);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_READY, 0xf), 0);
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_suppressed, 3);
	bft_step_clear(&step);

	/* An identical vote (ECHO "c" of proposer 3 is new; proposer 2's VALUE
	 * "a"... ) : an ECHO for proposer 3 is a new vote with a new record. */
	len = acs_rbc(m, sizeof(m), 3, RBC_VALUE, "c");
	feed(abc, 3, m, len);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 3, RBC_ECHO, 0xf), 1);
	check_recorded(&step, &recs);
	CHECK_EQ(recs.count, before + 1);
	bft_step_clear(&step);

	/* ABA 2 with the other value: BVAL(0) is a relay and goes out; AUX(0)
	 * and CONF({0}) contradict the restored AUX(1), CONF({1}). */
	aba_kind_t kinds[] = { ABA_BVAL, ABA_AUX, ABA_CONF };
	for (size_t k = 0; k < 3; k++) {
		len = acs_aba(m, sizeof(m), 2, kinds[k], 0, kinds[k] == ABA_CONF ? 1 : 0);
		feed(abc, 0, m, len);
		feed(abc, 2, m, len);
		feed(abc, 3, m, len);
	}
	CHECK(step_count(&step, ACS_SUB_ABA, 2, ABA_BVAL, 0xf) >= 1);
	CHECK_EQ(step_count(&step, ACS_SUB_ABA, 2, ABA_AUX, 0xf), 0);
	CHECK_EQ(step_count(&step, ACS_SUB_ABA, 2, ABA_CONF, 0xf), 0);
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_suppressed, 5);
	bft_step_clear(&step);
	/* Round 1 (fixed coin 0), all 0: it decides 0 and would send TERM(0)
	 * against its TERM(1): suppressed. */
	for (size_t k = 0; k < 3; k++) {
		len = acs_aba(m, sizeof(m), 2, kinds[k], 1, kinds[k] == ABA_CONF ? 1 : 0);
		feed(abc, 0, m, len);
		feed(abc, 2, m, len);
		feed(abc, 3, m, len);
	}
	CHECK_EQ(step_count(&step, ACS_SUB_ABA, 2, ABA_TERM, 0xf), 0);
	abc_stats(abc, &st);
	CHECK(st.votes_suppressed >= 6);
	printf("guard: %zu records, after the restart %llu votes suppressed, %llu re-sent\n",
	       recs.count, (unsigned long long)st.votes_suppressed,
	       (unsigned long long)st.votes_resent);
	bft_step_clear(&step);
	abc_destroy(abc);

	/* Without durable votes nothing is output (the messages are still
	 * kept, for restarted peers), and a restart is silent as before. */
	abc = node_new(false);
	CHECK_EQ(abc_start(abc, false, &env, &step), BFT_EOK);
	bft_step_clear(&step);
	CHECK_EQ(abc_handle_input(abc, (const uint8_t *)"first request", 13, &env, &step), BFT_EOK);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, SELF, RBC_VALUE, 0xf), 1);
	CHECK_EQ(step.output_count, 0);
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_kept, 1);
	bft_step_clear(&step);
	abc_destroy(abc);
	abc = node_new(false);
	for (size_t r = 0; r < recs.count; r++) {
		CHECK_EQ(abc_restore_vote(abc, recs.data[r], recs.len[r]), BFT_EOK);
	}
	CHECK_EQ(abc_start(abc, true, &env, &step), BFT_EOK);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_ECHO, 0xf), 0);
	bft_step_clear(&step);
	abc_destroy(abc);

	/* An incomplete vote log: records output, the restart silent, and the
	 * restored votes still never contradicted. */
	conf.votes_incomplete = true;
	abc = node_new(true);
	for (size_t r = 0; r < recs.count; r++) {
		CHECK_EQ(abc_restore_vote(abc, recs.data[r], recs.len[r]), BFT_EOK);
	}
	CHECK_EQ(abc_start(abc, true, &env, &step), BFT_EOK);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_ECHO, 0xf), 0);
	bft_step_clear(&step);
	len = acs_rbc(m, sizeof(m), 0, RBC_VALUE, "b");
	feed(abc, 0, m, len);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_ECHO, 0xf), 0);
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_suppressed, 1);
	bft_step_clear(&step);
	len = acs_rbc(m, sizeof(m), 2, RBC_VALUE, "d");
	feed(abc, 2, m, len);
	/* Its ECHO is held back from the peers (silent) but recorded. */
	bool recorded = false;
	for (size_t k = 0; k < step.output_count; k++) {
		recorded |= step.outputs[k].tag == ABC_OUTPUT_VOTE;
	}
	CHECK(recorded);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 2, RBC_ECHO, 0xf & ~bft_nodeset_one(SELF)), 0);
	bft_step_clear(&step);
	abc_destroy(abc);
	conf.votes_incomplete = false;
	for (size_t r = 0; r < recs.count; r++) {
		free(recs.data[r]);
	}
}

/* A restart that repeats the same ECHO: sent again without a new record. */
static void test_same(void)
{
	recs_t recs = { .count = 0 };
	abc_t *abc = node_new(true);
	bft_env_t env = env_now();
	CHECK_EQ(abc_start(abc, false, &env, &step), BFT_EOK);
	bft_step_clear(&step);
	uint8_t m[64];
	size_t len = acs_rbc(m, sizeof(m), 0, RBC_VALUE, "a");
	feed(abc, 0, m, len);
	check_recorded(&step, &recs);
	CHECK_EQ(recs.count, 1);
	bft_step_clear(&step);
	abc_destroy(abc);
	abc = node_new(true);
	CHECK_EQ(abc_restore_vote(abc, recs.data[0], recs.len[0]), BFT_EOK);
	CHECK_EQ(abc_start(abc, true, &env, &step), BFT_EOK);
	bft_step_clear(&step);
	feed(abc, 0, m, len);
	CHECK_EQ(step_count(&step, ACS_SUB_RBC, 0, RBC_ECHO, 0xf), 1);
	for (size_t k = 0; k < step.output_count; k++) {
		CHECK(step.outputs[k].tag != ABC_OUTPUT_VOTE);
	}
	abc_stats_t st;
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_suppressed, 0);
	bft_step_clear(&step);
	abc_destroy(abc);
	free(recs.data[0]);
}

/* abc_restore_vote() refuses bad input and changes nothing then. */
static void test_restore_bad(void)
{
	uint8_t m[64];
	size_t len = acs_aba(m, sizeof(m), 1, ABA_AUX, 0, 1);
	bft_step_t s;
	CHECK_EQ(bft_step_init(&s, 1 << 20), BFT_EOK);
	CHECK_EQ(abc_vote_record_output(&s, ABC_OUTPUT_VOTE, 20, 0xf, m, len), BFT_EOK);
	len = acs_aba(m, sizeof(m), 1, ABA_AUX, 0, 0);
	CHECK_EQ(abc_vote_record_output(&s, ABC_OUTPUT_VOTE, 20, 0xf, m, len), BFT_EOK);
	CHECK_EQ(abc_vote_record_output(&s, ABC_OUTPUT_VOTE, 3, 0xf, m, len), BFT_EOK);
	const uint8_t *rec = bft_step_output_data(&s, 0);
	const uint8_t *other = bft_step_output_data(&s, 1);
	const uint8_t *old = bft_step_output_data(&s, 2);
	size_t rec_len = s.outputs[0].len;

	abc_t *abc = node_new(true);
	CHECK_EQ(abc_restore_at(abc, 16, 1700000000000ull), BFT_EOK);
	abc_stats_t st;
	CHECK_EQ(abc_restore_vote(abc, rec, rec_len - 1), BFT_EMALF);
	CHECK_EQ(abc_restore_vote(abc, NULL, 0), BFT_EMALF);
	uint8_t garbage[40] = { 1, 2, 3 };
	CHECK_EQ(abc_restore_vote(abc, garbage, sizeof(garbage)), BFT_EMALF);
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_kept, 0);
	CHECK_EQ(st.votes_restored, 0);
	CHECK_EQ(abc_restore_vote(abc, rec, rec_len), BFT_EOK);
	/* Another vote in the same slot: a driver's bug, refused. */
	CHECK_EQ(abc_restore_vote(abc, other, s.outputs[1].len), BFT_EINVAL);
	/* Epoch 3 is older than ABC_VOTES_KEEP before 16: taken, not kept. */
	CHECK_EQ(abc_restore_vote(abc, old, s.outputs[2].len), BFT_EOK);
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_kept, 1);
	CHECK_EQ(st.votes_restored, 2);
	bft_env_t env = env_now();
	CHECK_EQ(abc_start(abc, true, &env, &step), BFT_EOK);
	bft_step_clear(&step);
	CHECK_EQ(abc_restore_vote(abc, rec, rec_len), BFT_EINVAL);   /* Late. */
	abc_destroy(abc);
	bft_step_deinit(&s);
}

/* Epoch messages of the step to node j, and the re-sends pending. */
static unsigned step_to(const bft_step_t *s, bft_node_t j)
{
	unsigned count = 0;
	for (size_t i = 0; i < s->msg_count; i++) {
		const uint8_t *d = bft_step_msg_data(s, i);
		count += d[0] == 1 && bft_nodeset_has(s->msgs[i].to, j) ? 1u : 0u;
	}
	return count;
}

static unsigned resends_pending(const abc_t *abc)
{
	abc_stats_t st;
	abc_stats(abc, &st);
	return st.resends_pending;
}

/*
 * More kept messages than one call re-sends: 5 epochs (the window at
 * epoch 0) of 64 AUX votes each (4 instances, 16 rounds), all to all. The
 * restart gives 256 back to the node itself; a peer's announcement gets it
 * the other 64 and the peer 192; the peer's last 128 then wait for another
 * call. Without one (an idle group) they never go; ticks send them.
 */
static void test_resend_tick(void)
{
	enum { EPOCHS = 5, ROUNDS = 16, PEER = 2 };
	const unsigned total = EPOCHS * N * ROUNDS;
	CHECK(total > ABC_VOTES_RESEND_MSGS && total < 2 * ABC_VOTES_RESEND_MSGS);
	abc_t *abc = node_new(true);
	bft_step_t s;
	CHECK_EQ(bft_step_init(&s, 1 << 20), BFT_EOK);
	for (uint64_t e = 0; e < EPOCHS; e++) {
		for (bft_node_t inst = 0; inst < N; inst++) {
			for (uint32_t round = 0; round < ROUNDS; round++) {
				uint8_t aux[16];
				size_t aux_len = acs_aba(aux, sizeof(aux), inst, ABA_AUX, round, 1);
				CHECK_EQ(abc_vote_record_output(&s, ABC_OUTPUT_VOTE, e, 0xf, aux, aux_len),
				         BFT_EOK);
				CHECK_EQ(abc_restore_vote(abc, bft_step_output_data(&s, 0),
				                          s.outputs[0].len), BFT_EOK);
				bft_step_clear(&s);
			}
		}
	}
	bft_step_deinit(&s);
	abc_stats_t st;
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_kept, total);

	bft_env_t env = env_now();
	CHECK_EQ(abc_start(abc, true, &env, &step), BFT_EOK);
	CHECK_EQ(step_to(&step, SELF), ABC_VOTES_RESEND_MSGS);
	CHECK_EQ(resends_pending(abc), 1);
	bft_step_clear(&step);
	/* Peer 2 tells its epoch: our last 64 to ourselves, then 192 to it. */
	uint8_t started[10] = { 3, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	CHECK_EQ(abc_handle_message(abc, PEER, started, sizeof(started), &env, &step), BFT_EOK);
	unsigned to_self = total - ABC_VOTES_RESEND_MSGS;
	CHECK_EQ(step_to(&step, SELF), to_self);
	CHECK_EQ(step_to(&step, PEER), ABC_VOTES_RESEND_MSGS - to_self);
	unsigned to_peer = step_to(&step, PEER);
	bft_step_clear(&step);
	/* Nothing else comes: the peer's tail stays pending. */
	CHECK_EQ(resends_pending(abc), 1);
	/* The tick sends it, once; then ticks send nothing. */
	unsigned ticks = 0, by_ticks = 0;
	for (; ticks < 8 && resends_pending(abc) > 0; ticks++) {
		CHECK_EQ(abc_tick(abc, &env, &step), BFT_EOK);
		by_ticks += step_to(&step, PEER);
		CHECK_EQ(step_to(&step, SELF), 0);
		CHECK_EQ(step.output_count, 0);
		bft_step_clear(&step);
	}
	CHECK_EQ(ticks, 1);
	CHECK_EQ(to_peer + by_ticks, total);
	CHECK_EQ(abc_tick(abc, &env, &step), BFT_EOK);
	CHECK_EQ(step.msg_count, 0);
	abc_stats(abc, &st);
	CHECK_EQ(st.votes_resent, 2 * total);
	printf("resend tick: %u kept messages; to the peer %u in the calls, %u more by %u tick\n",
	       total, to_peer, by_ticks, ticks);
	abc_destroy(abc);
}

int main(void)
{
	CHECK_EQ(coin_init(), COIN_EOK);
	CHECK_EQ(test_coin_deal(&keys, N, F), COIN_EOK);
	conf = (abc_conf_t){ .coin = keys.keys, .session = (const uint8_t *)"votes", .session_len = 5 };
	bft_prng_seed(&prng, 42);
	CHECK_EQ(bft_step_init(&step, BFT_MSG_MAX * 4ull), BFT_EOK);
	test_store();
	test_guard();
	test_same();
	test_restore_bad();
	test_resend_tick();
	bft_step_deinit(&step);
	return check_result("test_abc_votes");
}
