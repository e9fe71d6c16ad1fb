/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * The threshold signing service at one replica: a table of requests
 * (unfinished, and finished ones kept for late peers), the window of ids
 * for messages that come before their request, and the routing of
 * messages. The protocol of one request is in tsign_inst.c.
 */

#include <stdlib.h>
#include <string.h>

#include "coordinator/proto/error.h"
#include "coordinator/proto/tsign_internal.h"

/* Fills in the defaults and checks every bound; BFT_EINVAL if out of range. */
static int conf_fill(tsign_conf_t *conf)
{
	if (conf->msgs_max == 0) {
		conf->msgs_max = TSIGN_MSGS_MAX;
	}
	if (conf->window == 0) {
		conf->window = TSIGN_WINDOW_DEFAULT;
	}
	if (conf->active_max == 0) {
		conf->active_max = TSIGN_ACTIVE_DEFAULT;
	}
	if (conf->keep_max == 0) {
		conf->keep_max = TSIGN_KEEP_DEFAULT;
	}
	if (conf->keep_bytes_max == 0) {
		conf->keep_bytes_max = TSIGN_KEEP_BYTES_DEFAULT;
	}
	if (conf->future_msgs_max == 0) {
		conf->future_msgs_max = TSIGN_FUTURE_MSGS_DEFAULT;
	}
	if (conf->future_bytes_max == 0) {
		conf->future_bytes_max = TSIGN_FUTURE_BYTES_DEFAULT;
	}
	if (conf->help_delay_ms == 0) {
		conf->help_delay_ms = TSIGN_HELP_DELAY_DEFAULT;
	}
	bool strategy_ok = conf->strategy == SHOUP_STRATEGY_BASIC ||
	                   conf->strategy == SHOUP_STRATEGY_OPTPROOF ||
	                   conf->strategy == SHOUP_STRATEGY_OPTTE;
	bool designated_ok = conf->designated == TSIGN_DESIGNATED_ON ||
	                     conf->designated == TSIGN_DESIGNATED_OFF;
	if (!strategy_ok || !designated_ok || (unsigned)conf->mode >= TSIGN_MODES ||
	    conf->msgs_max > TSIGN_MSGS_MAX || conf->active_max > TSIGN_ACTIVE_MAX ||
	    conf->keep_max > TSIGN_KEEP_MAX || conf->future_msgs_max > TSIGN_FUTURE_MSGS_MAX) {
		return BFT_EINVAL;
	}
	return BFT_EOK;
}

/* This node's secret share, or NULL if the keys do not fit params. */
static const shoup_secret_t *conf_secret(const tsign_conf_t *conf, const bft_params_t *params)
{
	const shoup_public_t *pub = conf->pub;
	if (pub == NULL || conf->secrets == NULL || pub->n != params->n || pub->f != params->f ||
	    pub->bits < SHOUP_BITS_MIN || pub->bits > SHOUP_BITS_MAX) {
		return NULL;
	}
	const shoup_secret_t *sec = NULL;
	if (conf->secret_count == 1) {
		sec = &conf->secrets[0];
	} else if (conf->secret_count == params->n) {
		sec = &conf->secrets[params->self];
	}
	return sec != NULL && sec->id == (unsigned)params->self + 1 ? sec : NULL;
}

int tsign_create(const bft_params_t *params, tsign_t **out)
{
	if (out == NULL || bft_params_check(params) != BFT_EOK || params->conf == NULL) {
		return BFT_EINVAL;
	}
	tsign_conf_t conf = *(const tsign_conf_t *)params->conf;
	const shoup_secret_t *secret = conf_secret(&conf, params);
	if (secret == NULL || conf_fill(&conf) != BFT_EOK) {
		return BFT_EINVAL;
	}
	tsign_t *ts = calloc(1, sizeof(*ts));
	if (ts == NULL) {
		return BFT_ENOMEM;
	}
	ts->params = *params;
	ts->params.conf = NULL;  /* Copied here; the caller may reuse it. */
	ts->conf = conf;
	ts->pub = conf.pub;
	ts->secret = secret;
	tsign_sizes_init(&ts->sizes, conf.pub->bits, conf.msgs_max);
	ts->others = bft_nodeset_all(params->n) & ~bft_nodeset_one(params->self);
	ts->last_id = conf.start_id;
	ts->lost = conf.catchup_until > 0;
	ts->lost_max = conf.catchup_until;
	ts->inst_cap = conf.active_max + conf.keep_max;
	ts->insts = calloc(ts->inst_cap, sizeof(*ts->insts));
	ts->scratch_cap = (size_t)conf.msgs_max *
	                  tsign_entry_size(&ts->sizes, TSIGN_MSG_SHARES, TSIGN_FLAGS_ALL);
	ts->scratch = malloc(ts->scratch_cap);
	if (ts->insts == NULL || ts->scratch == NULL) {
		tsign_destroy(ts);
		return BFT_ENOMEM;
	}
	*out = ts;
	return BFT_EOK;
}

static void early_free(tsign_t *ts, tsign_early_t *e)
{
	assert(ts->early_msgs[e->from] > 0 && ts->early_bytes[e->from] >= e->len);
	ts->early_msgs[e->from]--;
	ts->early_bytes[e->from] -= e->len;
	free(e);
}

void tsign_destroy(tsign_t *ts)
{
	if (ts == NULL) {
		return;
	}
	for (uint32_t i = 0; ts->insts != NULL && i < ts->inst_cap; i++) {
		tsign_inst_release(&ts->insts[i]);
	}
	while (ts->early_head != NULL) {
		tsign_early_t *next = ts->early_head->next;
		early_free(ts, ts->early_head);
		ts->early_head = next;
	}
	free(ts->insts);
	free(ts->scratch);
	free(ts);
}

bool tsign_terminated(const tsign_t *ts)
{
	return false;
}

bool tsign_idle(const tsign_t *ts)
{
	return ts->active_count == 0;
}

void tsign_stats(const tsign_t *ts, tsign_stats_t *out)
{
	*out = ts->stats;
}

static tsign_inst_t *inst_find(const tsign_t *ts, uint64_t id)
{
	for (uint32_t i = 0; i < ts->inst_cap; i++) {
		if (ts->insts[i].state != TSIGN_INST_FREE && ts->insts[i].id == id) {
			return &ts->insts[i];
		}
	}
	return NULL;
}

bool tsign_finished(const tsign_t *ts, uint64_t id)
{
	const tsign_inst_t *inst = inst_find(ts, id);
	return inst != NULL && inst->state == TSIGN_INST_FINISHED;
}

/* Forgets the oldest finished requests beyond keep_max or keep_bytes_max
 * (the newest stays). */
static void insts_trim(tsign_t *ts)
{
	while (ts->finished_count > ts->conf.keep_max ||
	       (ts->finished_count > 1 && ts->finished_bytes > ts->conf.keep_bytes_max)) {
		tsign_inst_t *oldest = NULL;
		for (uint32_t i = 0; i < ts->inst_cap; i++) {
			tsign_inst_t *inst = &ts->insts[i];
			if (inst->state == TSIGN_INST_FINISHED && (oldest == NULL || inst->id < oldest->id)) {
				oldest = inst;
			}
		}
		assert(oldest != NULL && ts->finished_bytes >= oldest->output_len);
		ts->finished_bytes -= oldest->output_len;
		tsign_inst_release(oldest);
		ts->finished_count--;
	}
}

static tsign_inst_t *inst_free_slot(tsign_t *ts)
{
	for (uint32_t i = 0; i < ts->inst_cap; i++) {
		if (ts->insts[i].state == TSIGN_INST_FREE) {
			return &ts->insts[i];
		}
	}
	return NULL;
}

/* Ids at or below the last started one are started, finished or never will be. */
static bool id_is_old(const tsign_t *ts, uint64_t id)
{
	return ts->started ? id <= ts->last_id : id < ts->conf.start_id;
}

static int route(tsign_t *ts, tsign_inst_t *inst, bft_node_t from, const tsign_msg_t *msg,
                 bft_step_t *step)
{
	if (inst->state == TSIGN_INST_ACTIVE) {
		return tsign_inst_on_message(ts, inst, from, msg, step);
	}
	return tsign_finished_on_message(ts, inst, from, msg, step);
}

/* Keeps a message for a request not input yet, within the window and the
 * sender's budget; beyond them it is lost, and RESEND will ask again. */
static void early_keep(tsign_t *ts, bft_node_t from, uint64_t id, const uint8_t *msg,
                       size_t len, bft_step_t *step)
{
	uint64_t base = ts->started ? ts->last_id : ts->conf.start_id;
	assert(id >= base);
	bool fits = id - base <= ts->conf.window &&
	            ts->early_msgs[from] < ts->conf.future_msgs_max &&
	            len <= ts->conf.future_bytes_max - ts->early_bytes[from];
	tsign_early_t *e = fits ? malloc(sizeof(*e) + len) : NULL;
	if (e == NULL) {
		bft_step_fault(step, from, BFT_FAULT_FUTURE);
		ts->lost_max = ts->lost && ts->lost_max > id ? ts->lost_max : id;
		ts->lost = true;
		ts->stats.future_dropped++;
		return;
	}
	e->next = NULL;
	e->id = id;
	e->from = from;
	e->len = len;
	memcpy(e->data, msg, len);
	*(ts->early_tail != NULL ? &ts->early_tail->next : &ts->early_head) = e;
	ts->early_tail = e;
	ts->early_msgs[from]++;
	ts->early_bytes[from] += len;
	ts->stats.future_kept++;
}

/* Takes the early messages of id out of the list, in arrival order, and
 * frees those of lower ids: those requests will never start here. */
static tsign_early_t *early_take(tsign_t *ts, uint64_t id)
{
	tsign_early_t *taken = NULL, **taken_tail = &taken;
	tsign_early_t **link = &ts->early_head;
	ts->early_tail = NULL;
	while (*link != NULL) {
		tsign_early_t *e = *link;
		if (e->id > id) {
			ts->early_tail = e;
			link = &e->next;
			continue;
		}
		*link = e->next;
		if (e->id == id) {
			e->next = NULL;
			*taken_tail = e;
			taken_tail = &e->next;
		} else {
			early_free(ts, e);
		}
	}
	return taken;
}

/* Feeds early messages to a request just opened: SIGS first (they may
 * finish it before we spend a share on it), then our shares, then the rest. */
static int early_replay(tsign_t *ts, tsign_inst_t *inst, const tsign_early_t *list,
                        bft_step_t *step)
{
	tsign_msg_t msg;
	for (const tsign_early_t *e = list; e != NULL; e = e->next) {
		int ret = tsign_msg_decode(&ts->sizes, e->data, e->len, &msg);
		assert(ret == BFT_EOK);  /* decoded before it was kept */
		/* Whatever we send now (shares or SIGS) reaches them anyway. */
		bool resend = msg.kind == TSIGN_MSG_RESEND ||
		              (msg.kind == TSIGN_MSG_SHARES && (msg.flags & TSIGN_FLAG_RESEND));
		if (resend &&
		    inst->resend_answers[e->from] < TSIGN_RESEND_ANSWERS) {
			inst->resend_answers[e->from]++;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		for (const tsign_early_t *e = list; e != NULL; e = e->next) {
			int ret = tsign_msg_decode(&ts->sizes, e->data, e->len, &msg);
			assert(ret == BFT_EOK);
			if ((msg.kind == TSIGN_MSG_SIGS) == (pass == 0)) {
				ret = route(ts, inst, e->from, &msg, step);
				if (ret != BFT_EOK) {
					return ret;
				}
			}
		}
		if (pass == 0 && inst->state == TSIGN_INST_ACTIVE) {
			int ret = tsign_inst_begin(ts, inst, step);
			if (ret != BFT_EOK) {
				return ret;
			}
		}
	}
	return BFT_EOK;
}

/* Takes the time from env, if it brings one. */
static void clock_take(tsign_t *ts, const bft_env_t *env)
{
	if (env != NULL) {
		ts->now_ms = env->now_ms;
		ts->clocked = true;
	}
}

/*
 * Requests unfinished help_delay_ms after the first share of another
 * member of D came ask for help. A delay that began without a time begins
 * at the first time we get. next_check_ms keeps this to one comparison
 * between deadlines.
 */
static int overdue_check(tsign_t *ts, bft_step_t *step)
{
	if (!ts->clocked || ts->active_count == 0 || ts->now_ms < ts->next_check_ms ||
	    ts->conf.designated == TSIGN_DESIGNATED_OFF) {
		return BFT_EOK;
	}
	uint64_t next = UINT64_MAX;
	for (uint32_t i = 0; i < ts->inst_cap; i++) {
		tsign_inst_t *inst = &ts->insts[i];
		if (inst->state != TSIGN_INST_ACTIVE || inst->overdue || !inst->timing) {
			continue;
		}
		if (!inst->clocked) {
			inst->clocked = true;
			inst->start_ms = ts->now_ms;
		}
		uint64_t due = inst->start_ms + ts->conf.help_delay_ms;
		if (ts->now_ms < due) {
			next = due < next ? due : next;
			continue;
		}
		int ret = tsign_inst_on_overdue(ts, inst, step);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	ts->next_check_ms = next;
	return BFT_EOK;
}

int tsign_tick(tsign_t *ts, const bft_env_t *env, bft_step_t *step)
{
	assert(ts != NULL && step != NULL);
	clock_take(ts, env);
	int ret = overdue_check(ts, step);
	insts_trim(ts);
	return ret;
}

int tsign_start(tsign_t *ts, const tsign_request_t *req, bft_step_t *step)
{
	if (ts == NULL || req == NULL || step == NULL || id_is_old(ts, req->id)) {
		return BFT_EINVAL;
	}
	if (ts->active_count >= ts->conf.active_max) {
		return BFT_EAGAIN;
	}
	/* active_count < active_max and finished_count <= keep_max. */
	tsign_inst_t *inst = inst_free_slot(ts);
	assert(inst != NULL);
	int ret = tsign_inst_open(ts, inst, req);
	if (ret != BFT_EOK) {
		return ret;
	}
	ts->started = true;
	ts->last_id = req->id;
	ts->active_count++;
	ts->stats.started++;
	inst->resend = ts->lost && req->id <= ts->lost_max;

	tsign_early_t *early = early_take(ts, req->id);
	ret = early_replay(ts, inst, early, step);
	while (early != NULL) {
		tsign_early_t *next = early->next;
		early_free(ts, early);
		early = next;
	}
	insts_trim(ts);
	return ret;
}

int tsign_handle_input(tsign_t *ts, const uint8_t *input, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	assert(ts != NULL && step != NULL);
	tsign_request_t req;
	if (tsign_request_decode(input, len, ts->conf.msgs_max, &req) != BFT_EOK) {
		return BFT_EINVAL;  /* our own apply path's bytes */
	}
	clock_take(ts, env);
	int ret = tsign_start(ts, &req, step);
	return ret == BFT_EOK ? overdue_check(ts, step) : ret;
}

int tsign_handle_message(tsign_t *ts, bft_node_t from, const uint8_t *msg, size_t len,
                         const bft_env_t *env, bft_step_t *step)
{
	assert(ts != NULL && step != NULL);
	if (from >= ts->params.n) {
		return BFT_EINVAL;  /* The driver maps peers to indices: our bug. */
	}
	if (from == ts->params.self) {
		/* We never send to ourselves (our collectors take our shares
		 * directly); a copy can only be a replay of our own bytes. */
		ts->stats.late_ignored++;
		return BFT_EOK;
	}
	clock_take(ts, env);
	int ret = overdue_check(ts, step);
	if (ret != BFT_EOK) {
		return ret;
	}
	tsign_msg_t decoded;
	if (tsign_msg_decode(&ts->sizes, msg, len, &decoded) != BFT_EOK) {
		bft_step_fault(step, from, BFT_FAULT_MALFORMED);
		return BFT_EOK;
	}
	if (decoded.kind == TSIGN_MSG_PROOF_REQ && ts->conf.strategy != SHOUP_STRATEGY_OPTPROOF) {
		bft_step_fault(step, from, BFT_FAULT_UNEXPECTED);
		return BFT_EOK;
	}
	tsign_inst_t *inst = inst_find(ts, decoded.id);
	if (inst != NULL) {
		ret = route(ts, inst, from, &decoded, step);
		insts_trim(ts);
		return ret;
	}
	if (id_is_old(ts, decoded.id)) {
		ts->stats.late_ignored++;  /* forgotten, or never started here */
		return BFT_EOK;
	}
	early_keep(ts, from, decoded.id, msg, len, step);
	return BFT_EOK;
}

/* The generic view. */

static int ops_create(const bft_params_t *params, void **proto)
{
	return tsign_create(params, (tsign_t **)proto);
}

static void ops_destroy(void *proto)
{
	tsign_destroy(proto);
}

static int ops_input(void *proto, const uint8_t *input, size_t len,
                     const bft_env_t *env, bft_step_t *step)
{
	return tsign_handle_input(proto, input, len, env, step);
}

static int ops_message(void *proto, bft_node_t from, const uint8_t *msg, size_t len,
                       const bft_env_t *env, bft_step_t *step)
{
	return tsign_handle_message(proto, from, msg, len, env, step);
}

static bool ops_terminated(const void *proto)
{
	return tsign_terminated(proto);
}

const bft_protocol_ops_t tsign_ops = {
	.name = "tsign",
	.create = ops_create,
	.destroy = ops_destroy,
	.handle_input = ops_input,
	.handle_message = ops_message,
	.terminated = ops_terminated,
	.fault_name = tsign_fault_name,
};
