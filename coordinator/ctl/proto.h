/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*!
 * \file
 *
 * The control protocol's text, both sides (doc/operations.md, "The control
 * socket protocol"). One request per connection:
 *
 *   bftdns-ctl 1\n
 *   COMMAND [ZONE]\n
 *
 * and the answer: `key: value` lines, then `ok` or `error: KIND: sentence`,
 * then the server closes. Pure functions: no I/O, no clock.
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "coordinator/ctl/ctl.h"

#define CTL_VERSION_LINE	"bftdns-ctl 1"
/*! Longest request (both lines); anything longer is refused unread. */
#define CTL_REQUEST_MAX		512
/*! Longest answer: the largest status (BFTDNS_CTL_ZONES_MAX zones of
 *  the longest names, digests and checkpoints, every byte escaped as
 *  \DDD) fits. */
#define CTL_RESPONSE_MAX	196608
/*! A counter's value when the module does not count it yet. */
#define CTL_UNCOUNTED		"not counted yet"

typedef enum {
	CTL_CMD_STATUS = 1,
	CTL_CMD_SIGN_ZONE,
	CTL_CMD_REFRESH,
} ctl_cmd_t;

typedef struct {
	ctl_cmd_t cmd;
	char zone[BFTDNS_CTL_ZONE_LEN];   /*!< Lower case, ends with '.'; "" for status. */
} ctl_request_t;

typedef enum {
	CTL_REQ_INCOMPLETE = 0,  /*!< Need more bytes. */
	CTL_REQ_OK,
	CTL_REQ_BAD,             /*!< *err says why (a static sentence). */
} ctl_req_status_t;

/*! Parses the bytes a client sent so far (not NUL-terminated). */
ctl_req_status_t ctl_request_parse(const char *buf, size_t len, ctl_request_t *out,
                                   const char **err);

/*! The command line for a request: "status", "sign-zone example.com."... */
int ctl_request_line(ctl_cmd_t cmd, const char *zone, char *out, size_t size);

/*! Checks and normalises a zone name (lower case, trailing dot) into out. */
int ctl_zone_normalise(const char *in, size_t len, char *out, size_t size);

/*! The KIND word of an error line for an ops callback's error code. */
const char *ctl_error_kind(int code);

/*!
 * Formats a status as `key: value` lines (without the final `ok`).
 * BFT_EINVAL if the struct is inconsistent (n < 3f + 1, id > n...),
 * BFT_ESPACE if it does not fit.
 */
int ctl_status_format(const bftdns_ctl_status_t *st, char *out, size_t size, size_t *len);

/*!
 * Appends one line (`error: KIND: msg` or `ok[: msg]`) with msg made safe:
 * bytes outside printable ASCII become \DDD, so a message never breaks the
 * framing. Returns the new length, or size if it did not fit.
 */
size_t ctl_final_line(char *out, size_t size, size_t len, const char *kind, const char *msg);

typedef enum {
	CTL_LINE_DATA = 0,   /*!< key: value */
	CTL_LINE_OK,         /*!< ok, or ok: message */
	CTL_LINE_ERROR,      /*!< error: KIND: message */
	CTL_LINE_MALFORMED,
} ctl_line_kind_t;

/*! Classifies one answer line (without its '\n'; NUL-terminated). */
ctl_line_kind_t ctl_response_line(const char *line);
