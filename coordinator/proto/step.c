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

#include "coordinator/proto/error.h"
#include "coordinator/proto/step.h"

const char *bft_fault_name(uint16_t kind)
{
	switch (kind) {
	case BFT_FAULT_MALFORMED:    return "malformed message";
	case BFT_FAULT_DUPLICATE:    return "duplicate message";
	case BFT_FAULT_UNEXPECTED:   return "unexpected message";
	case BFT_FAULT_EQUIVOCATION: return "equivocation";
	case BFT_FAULT_INVALID:      return "invalid share or proof";
	case BFT_FAULT_FUTURE:       return "message too far ahead";
	default:                     return NULL;
	}
}

int bft_step_init(bft_step_t *step, size_t buf_max)
{
	if (step == NULL || buf_max == 0 || buf_max > UINT32_MAX) {
		return BFT_EINVAL;
	}
	memset(step, 0, sizeof(*step));
	step->buf_max = buf_max;
	return BFT_EOK;
}

void bft_step_clear(bft_step_t *step)
{
	assert(step != NULL);
	step->msg_count = 0;
	step->output_count = 0;
	step->fault_count = 0;
	step->faults_dropped = 0;
	step->buf_len = 0;
}

void bft_step_deinit(bft_step_t *step)
{
	if (step == NULL) {
		return;
	}
	free(step->buf);
	memset(step, 0, sizeof(*step));
}

bool bft_step_is_empty(const bft_step_t *step)
{
	return step->msg_count == 0 && step->output_count == 0 &&
	       step->fault_count == 0 && step->faults_dropped == 0;
}

/* Makes room for len more bytes, doubling the arena up to buf_max. */
static int step_reserve(bft_step_t *step, size_t len)
{
	assert(step->buf_len <= step->buf_cap);
	if (len > step->buf_max - step->buf_len) {
		return BFT_ESPACE;
	}
	size_t need = step->buf_len + len;
	if (need <= step->buf_cap) {
		return BFT_EOK;
	}
	size_t cap = step->buf_cap > 0 ? step->buf_cap : 4096;
	while (cap < need) {
		cap = cap > step->buf_max / 2 ? step->buf_max : cap * 2;
	}
	uint8_t *buf = realloc(step->buf, cap);
	if (buf == NULL) {
		return BFT_ENOMEM;
	}
	step->buf = buf;
	step->buf_cap = cap;
	return BFT_EOK;
}

/* Copies hdr and body into the arena; returns the offset in *off. */
static int step_append(bft_step_t *step, const uint8_t *hdr, size_t hdr_len,
                       const uint8_t *body, size_t body_len, uint32_t *off)
{
	if (hdr_len > SIZE_MAX - body_len) {
		return BFT_ESPACE;
	}
	int ret = step_reserve(step, hdr_len + body_len);
	if (ret != BFT_EOK) {
		return ret;
	}
	*off = (uint32_t)step->buf_len;
	if (hdr_len > 0) {
		memcpy(step->buf + step->buf_len, hdr, hdr_len);
	}
	if (body_len > 0) {
		memcpy(step->buf + step->buf_len + hdr_len, body, body_len);
	}
	step->buf_len += hdr_len + body_len;
	return BFT_EOK;
}

int bft_step_send2(bft_step_t *step, bft_nodeset_t to,
                   const uint8_t *hdr, size_t hdr_len,
                   const uint8_t *body, size_t body_len)
{
	assert(step != NULL);
	if (to == 0 || (hdr_len > 0 && hdr == NULL) || (body_len > 0 && body == NULL)) {
		return BFT_EINVAL;
	}
	if (hdr_len + body_len == 0 || hdr_len > BFT_MSG_MAX ||
	    body_len > BFT_MSG_MAX - hdr_len) {
		return BFT_EINVAL;
	}
	if (step->msg_count >= BFT_STEP_MSGS_MAX) {
		return BFT_ESPACE;
	}
	uint32_t off = 0;
	int ret = step_append(step, hdr, hdr_len, body, body_len, &off);
	if (ret != BFT_EOK) {
		return ret;
	}
	bft_step_msg_t *msg = &step->msgs[step->msg_count++];
	msg->to = to;
	msg->off = off;
	msg->len = (uint32_t)(hdr_len + body_len);
	return BFT_EOK;
}

int bft_step_send(bft_step_t *step, bft_nodeset_t to, const uint8_t *msg, size_t len)
{
	return bft_step_send2(step, to, NULL, 0, msg, len);
}

int bft_step_output(bft_step_t *step, uint32_t tag, const uint8_t *data, size_t len)
{
	assert(step != NULL);
	if (len > 0 && data == NULL) {
		return BFT_EINVAL;
	}
	if (step->output_count >= BFT_STEP_OUTPUTS_MAX) {
		return BFT_ESPACE;
	}
	uint32_t off = (uint32_t)step->buf_len;
	int ret = step_append(step, NULL, 0, data, len, &off);
	if (ret != BFT_EOK) {
		return ret;
	}
	bft_step_output_t *out = &step->outputs[step->output_count++];
	out->tag = tag;
	out->off = off;
	out->len = (uint32_t)len;
	return BFT_EOK;
}

void bft_step_fault(bft_step_t *step, bft_node_t node, uint16_t kind)
{
	assert(step != NULL);
	assert(kind != BFT_FAULT_NONE);
	if (step->fault_count >= BFT_STEP_FAULTS_MAX) {
		step->faults_dropped++;
		return;
	}
	step->faults[step->fault_count].node = node;
	step->faults[step->fault_count].kind = kind;
	step->fault_count++;
}

const uint8_t *bft_step_msg_data(const bft_step_t *step, size_t i)
{
	assert(i < step->msg_count);
	return step->buf + step->msgs[i].off;
}

const uint8_t *bft_step_output_data(const bft_step_t *step, size_t i)
{
	assert(i < step->output_count);
	/* An empty output may have no arena at all. */
	return step->outputs[i].len > 0 ? step->buf + step->outputs[i].off : NULL;
}

int bft_step_lift(bft_step_t *parent, const bft_step_t *child,
                  const uint8_t *hdr, size_t hdr_len)
{
	assert(parent != NULL && child != NULL && parent != child);
	for (size_t i = 0; i < child->msg_count; i++) {
		int ret = bft_step_send2(parent, child->msgs[i].to, hdr, hdr_len,
		                         bft_step_msg_data(child, i), child->msgs[i].len);
		if (ret != BFT_EOK) {
			return ret;
		}
	}
	for (size_t i = 0; i < child->fault_count; i++) {
		bft_step_fault(parent, child->faults[i].node, child->faults[i].kind);
	}
	parent->faults_dropped += child->faults_dropped;
	return BFT_EOK;
}
