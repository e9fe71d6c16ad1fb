/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The production protocol stack: the coin key share from its file, the
 * atomic broadcast's conf (coins named by the cluster id, so two replica
 * groups never share a coin), the multiplexer with abc as member MUX_ABC
 * and, given the replica's key share, threshold signing as MUX_TSIGN,
 * the replay of batches delivered before a restart, the vote log (its
 * records given back to abc after a restart, votelog.h), and the log lines
 * that tell an operator how catch-up goes.
 */

#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/core/core_internal.h"
#include "coordinator/proto/batch.h"
#include "coordinator/crypto/coin_file.h"
#include "coordinator/proto/abc_votes.h"
#include "coordinator/proto/error.h"

/* Catch-up progress lines at most this often. */
#define STACK_LOG_EVERY_MS	1000

static int stack_start_fresh(void *proto, const bft_env_t *env, bft_step_t *step)
{
	return abc_start(proto, false, env, step);
}

static int stack_start_restarted(void *proto, const bft_env_t *env, bft_step_t *step)
{
	return abc_start(proto, true, env, step);
}

/* Signing requests whose designated signers were not enough in time ask
 * for help (tsign.h): the driver's time reaches tsign through this. */
static int stack_tick_tsign(void *proto, const bft_env_t *env, bft_step_t *step)
{
	return tsign_tick(proto, env, step);
}

/* Re-sends of kept messages to restarted peers go on when the group is
 * idle (abc_tick()). */
static int stack_tick_abc(void *proto, const bft_env_t *env, bft_step_t *step)
{
	return abc_tick(proto, env, step);
}

static int stack_coin(bftdns_core_t *core, char *why, size_t why_len)
{
	const bftdns_core_conf_t *c = &core->conf;
	keys_err_t err = { .text = "" };
	if (c->coin_file == NULL) {
		snprintf(why, why_len, "the atomic broadcast needs a coin key file");
		return BFT_EINVAL;
	}
	if (coin_init() != COIN_EOK) {
		snprintf(why, why_len, "libsodium cannot be initialised");
		return BFT_EIO;
	}
	int ret = coin_file_read_secret(c->coin_file, &core->coin_pub, &core->coin_sec, &err);
	if (ret != KEYS_EOK) {
		snprintf(why, why_len, "%s", err.text);
		return ret == KEYS_EPERM ? BFT_EAUTH : BFT_EINVAL;
	}
	if (core->coin_pub.n != c->n || core->coin_pub.f != c->f || core->coin_sec.id != c->self + 1u) {
		snprintf(why, why_len, "%s is replica %u's coin key for n = %u, f = %u; this is "
		         "replica %u of n = %u, f = %u", c->coin_file, core->coin_sec.id,
		         core->coin_pub.n, core->coin_pub.f, c->self + 1u, c->n, c->f);
		return BFT_EINVAL;
	}
	return BFT_EOK;
}

/*
 * What every replica of a group must agree on beyond the membership: f,
 * and whether and how it signs with which key. Bound into the cluster id
 * (bft_tls_bind_params()), so a replica configured with another signing
 * protocol, f or zone key is refused at the HELLO with a sentence, instead
 * of stalling every signature (its shares would not be what peers expect).
 */
static void stack_bind_params(bftdns_core_t *core)
{
	const bftdns_core_conf_t *c = &core->conf;
	struct sha256_ctx ctx;
	uint8_t head[4] = { (uint8_t)(c->f >> 8), (uint8_t)c->f, c->sign_pub != NULL,
	                    (uint8_t)c->sign_strategy };
	uint8_t params[sizeof(head) + SHA256_DIGEST_SIZE] = { 0 };
	memcpy(params, head, sizeof(head));
	if (c->sign_pub != NULL) {
		size_t len = 0;
		uint8_t *modulus = mpz_export(NULL, &len, 1, 1, 1, 0, c->sign_pub->modulus);
		sha256_init(&ctx);
		sha256_update(&ctx, len, modulus);
		sha256_digest(&ctx, SHA256_DIGEST_SIZE, params + sizeof(head));
		free(modulus);
	}
	bft_tls_bind_params(&core->tls, params, sizeof(params));
}

int core_stack_conf(bftdns_core_t *core, char *why, size_t why_len)
{
	const bftdns_core_conf_t *c = &core->conf;
	if (c->batch_max > BATCH_PROPOSAL_REQUESTS_MAX || c->retain_max > ABC_RETAIN_MAX) {
		snprintf(why, why_len, "batch_max is at most %u and retain_max at most %u",
		         BATCH_PROPOSAL_REQUESTS_MAX, ABC_RETAIN_MAX);
		return BFT_EINVAL;
	}
	stack_bind_params(core);
	int ret = stack_coin(core, why, why_len);
	if (ret != BFT_EOK) {
		return ret;
	}
	core->abc_conf = (abc_conf_t){
		.coin = { .pub = &core->coin_pub, .secrets = &core->coin_sec, .secret_count = 1 },
		.session = core->tls.cluster_id, .session_len = sizeof(core->tls.cluster_id),
		.batch_max = c->batch_max, .retain_max = c->retain_max, .mode = c->abc_mode,
	};
	bool restarted = c->restarted || c->resume_count > 0 || c->resume_at;
	core->mux_conf = (mux_conf_t){
		.members = { { .id = MUX_ABC, .ops = &abc_ops, .conf = &core->abc_conf,
		               .start = restarted ? stack_start_restarted : stack_start_fresh,
		               .tick = stack_tick_abc } },
		.count = 1,
	};
	if (c->sign_pub != NULL) {
		if (c->sign_secret == NULL) {
			snprintf(why, why_len, "threshold signing needs this replica's key share");
			return BFT_EINVAL;
		}
		/* A peer that catches up on a kept batch needs its signatures
		 * too (it signs the batch's change again and asks with RESEND):
		 * keep those of as many batches, two instances per batch. */
		uint32_t retain = (c->retain_max != 0) ? c->retain_max : ABC_RETAIN_DEFAULT;
		uint32_t keep = (2 * retain < TSIGN_KEEP_MAX) ? 2 * retain : TSIGN_KEEP_MAX;
		core->tsign_conf = (tsign_conf_t){
			.pub = c->sign_pub, .secrets = c->sign_secret, .secret_count = 1,
			.strategy = c->sign_strategy, .mode = c->sign_mode,
			.start_id = c->sign_start_id, .catchup_until = c->sign_catchup_until,
			.designated = c->sign_all ? TSIGN_DESIGNATED_OFF : TSIGN_DESIGNATED_ON,
			.help_delay_ms = c->sign_help_delay_ms,
			.keep_max = (keep > TSIGN_KEEP_DEFAULT) ? keep : TSIGN_KEEP_DEFAULT,
		};
		core->mux_conf.members[core->mux_conf.count++] = (mux_member_t){
			.id = MUX_TSIGN, .ops = &tsign_ops, .conf = &core->tsign_conf,
			.tick = stack_tick_tsign,
		};
	}
	if (c->xfer_store != NULL || c->xfer_verify != NULL) {
		core->xfer_conf = (xfer_conf_t){
			.store = c->xfer_store, .store_ctx = c->xfer_store_ctx,
			.verify = c->xfer_verify, .verify_ctx = c->xfer_verify_ctx,
		};
		core->mux_conf.members[core->mux_conf.count++] = (mux_member_t){
			.id = MUX_XFER, .ops = &xfer_ops, .conf = &core->xfer_conf,
		};
	}
	core->production = true;
	core->conf.ops = &mux_ops;
	core->conf.proto_conf = &core->mux_conf;
	return BFT_EOK;
}

/* Signatures of batches applied before the restart, for peers catching up
 * on them (tsign_restore()). One that is refused (damaged, not verifying,
 * beyond the bounds) only leaves that request unanswered, as before. */
static void core_stack_restore_sigs(bftdns_core_t *core)
{
	tsign_t *ts = mux_member(core->proto, MUX_TSIGN);
	if (ts == NULL || core->conf.sign_restore_count == 0) {
		return;
	}
	size_t refused = 0;
	for (size_t i = 0; i < core->conf.sign_restore_count; i++) {
		const bftdns_core_sigs_t *s = &core->conf.sign_restore[i];
		int ret = tsign_restore(ts, &s->req, s->sig_len, s->sigs);
		if (ret != BFT_EOK && ret != BFT_ESPACE) {
			refused++;
			bft_log(&core->conf.log, LOG_WARNING, "stored signatures of request %llu "
			        "not used: %s", (unsigned long long)s->req.id, bft_strerror(ret));
		}
	}
	tsign_stats_t st;
	tsign_stats(ts, &st);
	bft_log(&core->conf.log, LOG_INFO, "signatures of %llu requests finished before the "
	        "restart kept for peers catching up (%zu stored, %zu refused)",
	        (unsigned long long)st.restored, core->conf.sign_restore_count, refused);
}

/* The epoch the broadcast resumes at: after the last batch given back. */
static uint64_t stack_resume_epoch(const bftdns_core_conf_t *c)
{
	batch_reader_t br;
	if (c->resume_at) {
		return c->resume_epoch;
	}
	if (c->resume_count > 0 && batch_reader_open(&br, c->resume[c->resume_count - 1].data,
	                                             c->resume[c->resume_count - 1].len) == BFT_EOK) {
		return br.epoch + 1;
	}
	return 0;
}

/* The records loaded are votes of this group, each of the epoch it was
 * logged with: the CRC only says the bytes are the ones written. */
static bool stack_votes_check(bftdns_core_t *core)
{
	const votelog_record_t *recs;
	size_t count;
	votelog_loaded(core->votelog, &recs, &count);
	for (size_t i = 0; i < count; i++) {
		uint64_t epoch, key;
		bft_nodeset_t to;
		const uint8_t *msg;
		size_t msg_len;
		bool vote;
		if (abc_vote_record_read(recs[i].data, recs[i].len, core->conf.n, &epoch, &to, &msg,
		                         &msg_len, &key, &vote) != BFT_EOK || epoch != recs[i].epoch) {
			bft_log(&core->conf.log, LOG_WARNING, "vote log: record %zu of %zu (epoch %llu) "
			        "is no vote record of this group", i + 1, count,
			        (unsigned long long)recs[i].epoch);
			return false;
		}
	}
	return true;
}

int core_stack_votes(bftdns_core_t *core, char *why, size_t why_len)
{
	const bftdns_core_conf_t *c = &core->conf;
	if (!core->production || c->vote_dir == NULL) {
		return BFT_EOK;
	}
	const uint64_t epoch = stack_resume_epoch(c);
	/* Until the caller reports more: nothing before it needs the log. */
	atomic_store(&core->durable, epoch);
	char err[BFT_WHY_MAX] = "";
	int ret = votelog_open(c->vote_dir, epoch, &c->log, &core->votelog, err, sizeof(err));
	if (ret == BFT_EAGAIN) {
		snprintf(why, why_len, "vote log: %s", err);
		return ret;
	}
	if (ret != BFT_EOK) {
		bft_log(&c->log, LOG_ERR, "vote log not usable (%s): this replica keeps no votes, "
		        "and restarts silent in the epochs it may have spoken in (doc/operations.md)",
		        err);
		core->votelog = NULL;
		return BFT_EOK;
	}
	core->votes_durable = votelog_usable(core->votelog) && stack_votes_check(core);
	/* Votes go to the log from now on in any case, so that it vouches for
	 * this incarnation at the next start; only a complete one is trusted
	 * at this one. */
	core->abc_conf.votes_durable = true;
	core->abc_conf.votes_incomplete = !core->votes_durable;
	if (!core->votes_durable) {
		votelog_drop_loaded(core->votelog);
		votelog_stats_t st;
		votelog_stats(core->votelog, &st);
		bft_log(&c->log, LOG_NOTICE, "vote log in %s holds this replica's votes from epoch "
		        "%llu on (begun after it ran without one, or anew after damage); resuming at "
		        "epoch %llu it stays silent in the epochs it may have spoken in, as without "
		        "the log", c->vote_dir, (unsigned long long)st.complete_from,
		        (unsigned long long)epoch);
	}
	return BFT_EOK;
}

/* The votes of the earlier incarnation back into the broadcast (after its
 * batches). One refused (a slot that holds another vote: the log holds
 * two, which only a bug writes) is logged and skipped: the first one
 * given back stays the vote of that slot. */
static void stack_restore_votes(bftdns_core_t *core, abc_t *abc)
{
	if (!core->votes_durable) {
		return;
	}
	const votelog_record_t *recs;
	size_t count;
	votelog_loaded(core->votelog, &recs, &count);
	uint64_t first = UINT64_MAX, last = 0;
	for (size_t i = 0; i < count; i++) {
		int ret = abc_restore_vote(abc, recs[i].data, recs[i].len);
		if (ret != BFT_EOK) {
			if (core->votes_refused++ < 8) {
				bft_log(&core->conf.log, LOG_WARNING, "vote log: a record of epoch %llu "
				        "refused by the broadcast: %s", (unsigned long long)recs[i].epoch,
				        bft_strerror(ret));
			}
			continue;
		}
		core->votes_restored++;
		first = (recs[i].epoch < first) ? recs[i].epoch : first;
		last = (recs[i].epoch > last) ? recs[i].epoch : last;
	}
	votelog_drop_loaded(core->votelog);
	if (count > 0) {
		bft_log(&core->conf.log, LOG_INFO, "vote log: %llu votes of epochs %llu..%llu given "
		        "back to the broadcast (%llu refused): it takes part at once, without "
		        "contradicting what it sent before the restart",
		        (unsigned long long)core->votes_restored,
		        (unsigned long long)(core->votes_restored > 0 ? first : 0),
		        (unsigned long long)last, (unsigned long long)core->votes_refused);
	}
}

static int stack_resume_batches(bftdns_core_t *core, abc_t *abc, char *why, size_t why_len)
{
	if (core->conf.resume_at) {
		if (core->conf.resume_count > 0) {
			snprintf(why, why_len, "resume from batches or at an epoch, not both");
			return BFT_EINVAL;
		}
		int ret = abc_restore_at(abc, core->conf.resume_epoch, core->conf.resume_time_ms);
		if (ret != BFT_EOK) {
			snprintf(why, why_len, "cannot resume at batch %llu",
			         (unsigned long long)core->conf.resume_epoch);
			return ret;
		}
		/* Batch numbers are epoch + 1: epoch e delivers batch e + 1. */
		bft_log(&core->conf.log, LOG_INFO, "resumed after the last applied batch: next "
		        "batch %llu (earlier batches not kept)",
		        (unsigned long long)core->conf.resume_epoch + 1);
		return BFT_EOK;
	}
	for (size_t i = 0; i < core->conf.resume_count; i++) {
		const bftdns_core_batch_t *b = &core->conf.resume[i];
		int ret = abc_restore(abc, b->data, b->len);
		if (ret != BFT_EOK) {
			snprintf(why, why_len, "resume batch %zu of %zu: %s", i + 1, core->conf.resume_count,
			         ret == BFT_EMALF ? "not a delivered batch" : "not the next batch");
			return ret;
		}
	}
	if (core->conf.resume_count > 0) {
		abc_stats_t st;
		abc_stats(abc, &st);
		/* What the broadcast holds now (tests/cluster/batchstore.sh reads it). */
		bft_log(&core->conf.log, LOG_INFO, "resumed from %zu delivered batches: next batch "
		        "%llu; batches %llu..%llu kept for lagging peers, %zu requests in the "
		        "dedup window", core->conf.resume_count, (unsigned long long)st.epoch + 1,
		        (unsigned long long)st.kept_first + 1,
		        (unsigned long long)(st.kept_first + st.kept), st.dedup_keys);
	}
	return BFT_EOK;
}

int core_stack_resume(bftdns_core_t *core, char *why, size_t why_len)
{
	core_stack_restore_sigs(core);
	abc_t *abc = mux_member(core->proto, MUX_ABC);
	int ret = stack_resume_batches(core, abc, why, why_len);
	if (ret == BFT_EOK) {
		stack_restore_votes(core, abc);
	}
	return ret;
}

/* The vote log's counters, and what it no longer needs: the epochs before
 * the durable position (the delivered epoch if the caller reports none). */
static void stack_watch_votes(bftdns_core_t *core, const abc_stats_t *st)
{
	if (core->votelog == NULL) {
		return;
	}
	uint64_t upto = core->conf.durable_reported ? atomic_load(&core->durable) : st->epoch;
	if (upto != core->trimmed_at) {
		(void)votelog_trim(core->votelog, upto);
		core->trimmed_at = upto;
	}
	votelog_stats(core->votelog, &core->stats.votelog);
	core->stats.votelog_on = true;
	core->stats.votes_durable = core->votes_durable;
	core->stats.votes_restored = core->votes_restored;
	core->stats.votes_refused = core->votes_refused;
	core->stats.votes_muted = core->muted;
}

/* Lines for an operator: catch-up progress, and a replica that cannot catch up. */
void core_stack_watch(bftdns_core_t *core)
{
	if (!core->production) {
		return;
	}
	abc_stats_t st;
	abc_stats(mux_member(core->proto, MUX_ABC), &st);
	core->stats.abc_on = true;
	core->stats.abc = st;
	stack_watch_votes(core, &st);
	tsign_t *ts = mux_member(core->proto, MUX_TSIGN);
	if (ts != NULL) {
		tsign_stats(ts, &core->stats.tsign);
		core->stats.tsign_on = true;
		for (bft_node_t i = 0; i < core->conf.n; i++) {
			core->stats.sign_faults[i] = mux_member_faults(core->proto, MUX_TSIGN, i);
		}
	}
	if (st.batches_fetched > core->fetched_logged &&
	    core->now_ms >= core->fetched_log_ms + STACK_LOG_EVERY_MS) {
		bft_log(&core->conf.log, LOG_NOTICE, "catching up: %llu batches taken from peers "
		        "so far, now at batch %llu", (unsigned long long)st.batches_fetched,
		        (unsigned long long)st.epoch);
		core->fetched_logged = st.batches_fetched;
		core->fetched_log_ms = core->now_ms;
	}
	xfer_t *xf = mux_member(core->proto, MUX_XFER);
	if (xf != NULL) {
		xfer_stats(xf, &core->stats.xfer);
		core->stats.xfer_on = true;
	}
	bool stuck = st.gone >= core->conf.f + 1u;
	if (stuck && (!core->gone_logged || core->gone_epoch != st.epoch)) {
		bool xfer = mux_member(core->proto, MUX_XFER) != NULL &&
		            core->conf.xfer_verify != NULL;
		bft_log(&core->conf.log, xfer ? LOG_NOTICE : LOG_ERR, "this replica is at batch "
		        "%llu, but %u peers no longer keep it (they keep only their last "
		        "retain-max batches): it needs a state transfer%s",
		        (unsigned long long)st.epoch, st.gone, xfer ? " from its peers" :
		        ", which is off here; it cannot take part until then");
		core->gone_logged = true;
		core->gone_epoch = st.epoch;
	}
}
