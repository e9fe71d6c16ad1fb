/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coordinator/ctl/proto.h"
#include "coordinator/proto/error.h"

static const struct {
	const char *name;
	ctl_cmd_t cmd;
	bool zone;
} COMMANDS[] = {
	{ "status",    CTL_CMD_STATUS,    false },
	{ "sign-zone", CTL_CMD_SIGN_ZONE, true },
	{ "refresh",   CTL_CMD_REFRESH,   true },
};

/* One line from buf: its length without "\n" (or "\r\n"), or -1 if no '\n' yet. */
static long line_take(const char *buf, size_t len, size_t *used)
{
	const char *nl = memchr(buf, '\n', len);
	if (nl == NULL) {
		return -1;
	}
	size_t line = (size_t)(nl - buf);
	*used = line + 1;
	if (line > 0 && buf[line - 1] == '\r') {
		line--;
	}
	return (long)line;
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c == '*';
}

int ctl_zone_normalise(const char *in, size_t len, char *out, size_t size)
{
	/* 253 name characters + the final dot: the longest text of a 255-byte wire name. */
	if (len == 0 || len > 254 || size < len + 2) {
		return BFT_EINVAL;
	}
	if (len == 1 && in[0] == '.') {
		memcpy(out, ".", 2);
		return BFT_EOK;
	}
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		if (c == '.') {
			/* No empty label; a dot ends the name only at the end. */
			if (label == 0) {
				return BFT_EINVAL;
			}
			label = 0;
		} else if (label_char(c)) {
			if (++label > 63) {
				return BFT_EINVAL;
			}
		} else {
			return BFT_EINVAL;
		}
		out[i] = c;
	}
	size_t end = len;
	if (out[end - 1] != '.') {
		if (end + 1 > 254) {
			return BFT_EINVAL;
		}
		out[end++] = '.';
	}
	out[end] = '\0';
	return BFT_EOK;
}

static ctl_req_status_t command_parse(const char *line, size_t len, ctl_request_t *out,
                                      const char **err)
{
	const char *space = memchr(line, ' ', len);
	size_t word = space != NULL ? (size_t)(space - line) : len;
	for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++) {
		if (strlen(COMMANDS[i].name) != word || memcmp(COMMANDS[i].name, line, word) != 0) {
			continue;
		}
		out->cmd = COMMANDS[i].cmd;
		out->zone[0] = '\0';
		if (!COMMANDS[i].zone) {
			if (space != NULL) {
				*err = "this command takes no argument";
				return CTL_REQ_BAD;
			}
			return CTL_REQ_OK;
		}
		if (space == NULL || word + 1 == len) {
			*err = "this command needs a zone name";
			return CTL_REQ_BAD;
		}
		if (ctl_zone_normalise(space + 1, len - word - 1, out->zone,
		                       sizeof(out->zone)) != BFT_EOK) {
			*err = "not a zone name (letters, digits, '-', '_', '.'; labels of 1 to 63)";
			return CTL_REQ_BAD;
		}
		return CTL_REQ_OK;
	}
	*err = "unknown command (status, sign-zone ZONE, refresh ZONE)";
	return CTL_REQ_BAD;
}

ctl_req_status_t ctl_request_parse(const char *buf, size_t len, ctl_request_t *out,
                                   const char **err)
{
	assert(buf != NULL || len == 0);
	*err = NULL;
	size_t used = 0;
	long vlen = line_take(buf, len, &used);
	if (vlen < 0) {
		/* Refuse a wrong version as soon as it cannot become the right one. */
		size_t cmp = len < strlen(CTL_VERSION_LINE) ? len : strlen(CTL_VERSION_LINE);
		if (memcmp(buf, CTL_VERSION_LINE, cmp) != 0 || len > strlen(CTL_VERSION_LINE) + 1) {
			*err = "expected the version line '" CTL_VERSION_LINE "'";
			return CTL_REQ_BAD;
		}
		return CTL_REQ_INCOMPLETE;
	}
	if ((size_t)vlen != strlen(CTL_VERSION_LINE) ||
	    memcmp(buf, CTL_VERSION_LINE, (size_t)vlen) != 0) {
		*err = "expected the version line '" CTL_VERSION_LINE "'";
		return CTL_REQ_BAD;
	}
	const char *cmd = buf + used;
	size_t rest = len - used, cmd_used = 0;
	long clen = line_take(cmd, rest, &cmd_used);
	if (clen < 0) {
		if (len >= CTL_REQUEST_MAX) {
			*err = "request too long";
			return CTL_REQ_BAD;
		}
		return CTL_REQ_INCOMPLETE;
	}
	if (used + cmd_used > CTL_REQUEST_MAX) {
		*err = "request too long";
		return CTL_REQ_BAD;
	}
	if (cmd_used != rest) {
		*err = "one command per connection";
		return CTL_REQ_BAD;
	}
	for (long i = 0; i < clen; i++) {
		unsigned char c = (unsigned char)cmd[i];
		if (c < 0x20 || c > 0x7e) {
			*err = "the command line has a byte that is not printable ASCII";
			return CTL_REQ_BAD;
		}
	}
	if (clen == 0) {
		*err = "empty command";
		return CTL_REQ_BAD;
	}
	return command_parse(cmd, (size_t)clen, out, err);
}

int ctl_request_line(ctl_cmd_t cmd, const char *zone, char *out, size_t size)
{
	for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++) {
		if (COMMANDS[i].cmd != cmd) {
			continue;
		}
		if (COMMANDS[i].zone != (zone != NULL)) {
			return BFT_EINVAL;
		}
		int n = zone != NULL ? snprintf(out, size, "%s %s", COMMANDS[i].name, zone)
		                     : snprintf(out, size, "%s", COMMANDS[i].name);
		return n >= 0 && (size_t)n < size ? BFT_EOK : BFT_ESPACE;
	}
	return BFT_EINVAL;
}

const char *ctl_error_kind(int code)
{
	switch (code) {
	case BFT_EAGAIN: return "not-ready";
	case BFT_ENOENT: return "no-zone";
	case BFT_EINVAL: return "not-supported";
	default:         return "failed";
	}
}

typedef struct {
	char *data;
	size_t size;
	size_t len;
	bool overflow;
} out_t;

static void out_printf(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(out_t *o, const char *fmt, ...)
{
	if (o->overflow) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->data + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
}

/* Text from the module is printed so it cannot break a line: \DDD for the rest. */
static void out_safe(out_t *o, const char *text, size_t max)
{
	size_t len = strnlen(text, max);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 0x20 && c <= 0x7e && c != '\\') {
			out_printf(o, "%c", c);
		} else {
			out_printf(o, "\\%03u", c);
		}
	}
}

static bool status_valid(const bftdns_ctl_status_t *st)
{
	return st->replicas >= 1 && st->replicas <= BFTDNS_CTL_PEERS_MAX &&
	       st->replica_id >= 1 && st->replica_id <= st->replicas &&
	       (uint64_t)st->replicas >= 3 * (uint64_t)st->faults + 1 &&
	       st->peers_connected <= st->replicas - 1 &&
	       st->vote_log <= BFTDNS_CTL_VOTES_FAILED &&
	       st->zone_count <= BFTDNS_CTL_ZONES_MAX;
}

static void time_print(out_t *o, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char text[32];
	if (t > (uint64_t)253402300799ULL || gmtime_r(&tt, &tm) == NULL ||
	    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		out_printf(o, "%llu\n", (unsigned long long)t);
		return;
	}
	out_printf(o, "%llu (%s)\n", (unsigned long long)t, text);
}

/* A counter the module does not count yet is said to be so, never shown as 0. */
static void counter_print(out_t *o, const bftdns_ctl_status_t *st, const char *key,
                          uint32_t flag, uint64_t value)
{
	if (st->uncounted & flag) {
		out_printf(o, "%s: " CTL_UNCOUNTED "\n", key);
	} else {
		out_printf(o, "%s: %llu\n", key, (unsigned long long)value);
	}
}

int ctl_status_format(const bftdns_ctl_status_t *st, char *data, size_t size, size_t *len)
{
	if (!status_valid(st)) {
		return BFT_EINVAL;
	}
	out_t o = { .data = data, .size = size };
	out_printf(&o, "replica: %u\nreplicas: %u\nfaults: %u\n", st->replica_id,
	           st->replicas, st->faults);
	out_printf(&o, "peers: %u/%u connected\n", st->peers_connected, st->replicas - 1);
	if (st->has_batch) {
		out_printf(&o, "last-batch: %llu\nlast-batch-time: ",
		           (unsigned long long)st->last_batch);
		time_print(&o, st->last_batch_time);
	} else {
		out_printf(&o, "last-batch: none\n");
	}
	out_printf(&o, "batches-delivered: %llu\n", (unsigned long long)st->batches_delivered);
	counter_print(&o, st, "updates-received", BFTDNS_CTL_UNCOUNTED_UPDATES,
	              st->updates_received);
	counter_print(&o, st, "updates-applied", BFTDNS_CTL_UNCOUNTED_UPDATES,
	              st->updates_applied);
	counter_print(&o, st, "updates-rejected", BFTDNS_CTL_UNCOUNTED_UPDATES,
	              st->updates_rejected);
	counter_print(&o, st, "signing-instances", BFTDNS_CTL_UNCOUNTED_SIGNING,
	              st->signing_instances);
	if (st->ordered_reads) {
		out_printf(&o, "reads-ordered: %llu\nreads-timed-out: %llu\n"
		           "reads-refused: %llu\nreads-failed: %llu\n",
		           (unsigned long long)st->reads_ordered,
		           (unsigned long long)st->reads_timed_out,
		           (unsigned long long)st->reads_refused,
		           (unsigned long long)st->reads_failed);
	}
	out_printf(&o, "bad-shares:");
	if (st->uncounted & BFTDNS_CTL_UNCOUNTED_BAD_SHARES) {
		out_printf(&o, " " CTL_UNCOUNTED);
	} else if (st->replicas == 1) {
		/* No peers; "key:" alone would not be a `key: value` line. */
		out_printf(&o, " none");
	} else {
		for (uint32_t i = 1; i <= st->replicas; i++) {
			if (i != st->replica_id) {
				out_printf(&o, " %u=%llu", i,
				           (unsigned long long)st->bad_shares[i - 1]);
			}
		}
	}
	out_printf(&o, "\nlink-messages-sent: %llu\nlink-bytes-sent: %llu\n"
	           "link-messages-received: %llu\nlink-bytes-received: %llu\n",
	           (unsigned long long)st->link_msgs_sent, (unsigned long long)st->link_bytes_sent,
	           (unsigned long long)st->link_msgs_received,
	           (unsigned long long)st->link_bytes_received);
	if (st->vote_log != BFTDNS_CTL_VOTES_OFF) {
		static const char *states[] = {
			[BFTDNS_CTL_VOTES_DURABLE] = "durable",
			[BFTDNS_CTL_VOTES_INCOMPLETE] = "incomplete",
			[BFTDNS_CTL_VOTES_FAILED] = "failed",
		};
		out_printf(&o, "vote-log: %s\nvotes-logged: %llu\nvotes-suppressed: %llu\n"
		           "votes-restored: %llu\nvote-log-bytes: %llu\n", states[st->vote_log],
		           (unsigned long long)st->votes_logged,
		           (unsigned long long)st->votes_suppressed,
		           (unsigned long long)st->votes_restored,
		           (unsigned long long)st->vote_log_bytes);
	}
	out_printf(&o, "zones: %zu\n", st->zone_count);
	for (size_t i = 0; i < st->zone_count; i++) {
		const bftdns_ctl_zone_t *z = &st->zones[i];
		out_printf(&o, "zone: ");
		out_safe(&o, z->name, sizeof(z->name));
		out_printf(&o, " digest=");
		out_safe(&o, z->digest, sizeof(z->digest));
		out_printf(&o, " signing=");
		out_safe(&o, z->signing, sizeof(z->signing));
		if (z->checkpoint[0] != '\0') {
			out_printf(&o, " checkpoint=");
			out_safe(&o, z->checkpoint, sizeof(z->checkpoint));
		}
		out_printf(&o, "\n");
	}
	if (o.overflow) {
		return BFT_ESPACE;
	}
	*len = o.len;
	return BFT_EOK;
}

size_t ctl_final_line(char *data, size_t size, size_t len, const char *kind, const char *msg)
{
	out_t o = { .data = data, .size = size, .len = len };
	if (len >= size) {
		return size;
	}
	if (kind == NULL) {
		out_printf(&o, "ok");
		if (msg != NULL && msg[0] != '\0') {
			out_printf(&o, ": ");
		}
	} else {
		out_printf(&o, "error: %s: ", kind);
	}
	if (msg != NULL) {
		out_safe(&o, msg, BFTDNS_CTL_MSG_LEN);
	}
	out_printf(&o, "\n");
	return o.overflow ? size : o.len;
}

ctl_line_kind_t ctl_response_line(const char *line)
{
	if (strcmp(line, "ok") == 0 || strncmp(line, "ok: ", 4) == 0) {
		return CTL_LINE_OK;
	}
	if (strncmp(line, "error: ", 7) == 0) {
		return CTL_LINE_ERROR;
	}
	size_t key = 0;
	while ((line[key] >= 'a' && line[key] <= 'z') || line[key] == '-' ||
	       (line[key] >= '0' && line[key] <= '9')) {
		key++;
	}
	if (key == 0 || line[key] != ':' || line[key + 1] != ' ') {
		return CTL_LINE_MALFORMED;
	}
	for (const char *p = line; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			return CTL_LINE_MALFORMED;
		}
	}
	return CTL_LINE_DATA;
}
