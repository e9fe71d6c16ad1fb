/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* The control protocol's text: requests, every refusal, the status format,
 * the answer lines, and random bytes that must never crash the parser. */

#include <string.h>

#include "coordinator/ctl/proto.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"
#include "tests/common/check.h"

static ctl_req_status_t parse(const char *text, ctl_request_t *req, const char **err)
{
	return ctl_request_parse(text, strlen(text), req, err);
}

static void test_requests(void)
{
	ctl_request_t req;
	const char *err = NULL;
	CHECK_EQ(parse("bftdns-ctl 1\nstatus\n", &req, &err), CTL_REQ_OK);
	CHECK_EQ(req.cmd, CTL_CMD_STATUS);
	CHECK_EQ(parse("bftdns-ctl 1\r\nstatus\r\n", &req, &err), CTL_REQ_OK);
	CHECK_EQ(parse("bftdns-ctl 1\nsign-zone Example.COM\n", &req, &err), CTL_REQ_OK);
	CHECK(req.cmd == CTL_CMD_SIGN_ZONE && strcmp(req.zone, "example.com.") == 0);
	CHECK_EQ(parse("bftdns-ctl 1\nrefresh .\n", &req, &err), CTL_REQ_OK);
	CHECK(req.cmd == CTL_CMD_REFRESH && strcmp(req.zone, ".") == 0);
	/* Every prefix of a good request is incomplete, never bad. */
	const char *good = "bftdns-ctl 1\nrefresh example.com.\n";
	for (size_t cut = 0; cut < strlen(good); cut++) {
		CHECK_EQ(ctl_request_parse(good, cut, &req, &err), CTL_REQ_INCOMPLETE);
	}
	/* Refusals, each with a sentence. */
	const char *bad[] = {
		"bftdns-ctl 2\nstatus\n", "BFTDNS-CTL 1\nstatus\n", "hello\n", "GET / HTTP/1.0\r\n",
		"bftdns-ctl 1\n\n", "bftdns-ctl 1\nstatus \n", "bftdns-ctl 1\nstatus x\n",
		"bftdns-ctl 1\nsign-zone\n", "bftdns-ctl 1\nsign-zone \n",
		"bftdns-ctl 1\nsign-zone a..b\n", "bftdns-ctl 1\nsign-zone a b\n",
		"bftdns-ctl 1\nsign-zone ex\001mple\n", "bftdns-ctl 1\nreload\n",
		"bftdns-ctl 1\nstatus\nstatus\n", "bftdns-ctl 1\nsign-zone .example\n",
		"bftdns-ctl 1\nrefresh caf\xc3\xa9.example\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		CHECK_EQ(parse(bad[i], &req, &err), CTL_REQ_BAD);
		CHECK(err != NULL && err[0] != '\0');
	}
	/* A wrong version is refused before its line ends. */
	CHECK_EQ(parse("xftdns", &req, &err), CTL_REQ_BAD);
	/* Labels of 63 pass, 64 do not; names of 253 pass, 254 + dot do not. */
	char name[300];
	memset(name, 'a', 63);
	strcpy(name + 63, ".b");
	char line[400], zone[BFTDNS_CTL_ZONE_LEN];
	snprintf(line, sizeof(line), "bftdns-ctl 1\nrefresh %s\n", name);
	CHECK_EQ(parse(line, &req, &err), CTL_REQ_OK);
	memset(name, 'a', 64);
	CHECK_EQ(ctl_zone_normalise(name, 64, zone, sizeof(zone)), BFT_EINVAL);
	for (size_t i = 0; i < 253; i++) {
		name[i] = i % 2 == 0 ? 'a' : '.';
	}
	CHECK_EQ(ctl_zone_normalise(name, 253, zone, sizeof(zone)), BFT_EOK);
	CHECK_EQ(strlen(zone), 254);
	name[253] = '.';
	name[254] = 'a';
	CHECK_EQ(ctl_zone_normalise(name, 255, zone, sizeof(zone)), BFT_EINVAL);
	/* Oversized: a command line longer than the limit. */
	char big[CTL_REQUEST_MAX + 64];
	memset(big, 'x', sizeof(big));
	memcpy(big, "bftdns-ctl 1\n", 13);
	CHECK_EQ(ctl_request_parse(big, CTL_REQUEST_MAX, &req, &err), CTL_REQ_BAD);
	big[sizeof(big) - 1] = '\n';
	CHECK_EQ(ctl_request_parse(big, sizeof(big), &req, &err), CTL_REQ_BAD);
	/* The client's side of the same lines. */
	CHECK_EQ(ctl_request_line(CTL_CMD_STATUS, NULL, line, sizeof(line)), BFT_EOK);
	CHECK(strcmp(line, "status") == 0);
	CHECK_EQ(ctl_request_line(CTL_CMD_STATUS, "a.", line, sizeof(line)), BFT_EINVAL);
	CHECK_EQ(ctl_request_line(CTL_CMD_REFRESH, NULL, line, sizeof(line)), BFT_EINVAL);
	CHECK_EQ(ctl_request_line(CTL_CMD_REFRESH, "a.", line, 5), BFT_ESPACE);
}

static void status_fill(bftdns_ctl_status_t *st)
{
	memset(st, 0, sizeof(*st));
	st->replica_id = 2;
	st->replicas = 4;
	st->faults = 1;
	st->peers_connected = 3;
	st->has_batch = 1;
	st->last_batch = 17;
	st->last_batch_time = 1767225600;
	st->batches_delivered = 17;
	st->updates_received = 9;
	st->updates_applied = 7;
	st->updates_rejected = 2;
	st->signing_instances = 5;
	st->bad_shares[2] = 4;
	st->link_msgs_sent = 1200;
	st->link_bytes_sent = 345678;
	st->link_msgs_received = 1190;
	st->link_bytes_received = 340001;
	st->zone_count = 1;
	strcpy(st->zones[0].name, "example.com.");
	strcpy(st->zones[0].digest, "sha256:00ff");
	strcpy(st->zones[0].signing, "optte");
}

static void test_status(void)
{
	static bftdns_ctl_status_t st;
	static char out[CTL_RESPONSE_MAX];
	size_t len = 0;
	status_fill(&st);
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	const char *want =
		"replica: 2\nreplicas: 4\nfaults: 1\npeers: 3/3 connected\n"
		"last-batch: 17\nlast-batch-time: 1767225600 (2026-01-01T00:00:00Z)\n"
		"batches-delivered: 17\nupdates-received: 9\nupdates-applied: 7\n"
		"updates-rejected: 2\nsigning-instances: 5\nbad-shares: 1=0 3=4 4=0\n"
		"link-messages-sent: 1200\nlink-bytes-sent: 345678\n"
		"link-messages-received: 1190\nlink-bytes-received: 340001\n"
		"zones: 1\nzone: example.com. digest=sha256:00ff signing=optte\n";
	CHECK(strcmp(out, want) == 0);
	/* Every line the server writes is a line the client accepts. */
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		CHECK_EQ(ctl_response_line(line), CTL_LINE_DATA);
	}
	/* Inconsistent structs are refused, not printed. */
	st.faults = 2;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EINVAL);
	status_fill(&st);
	st.replica_id = 5;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EINVAL);
	status_fill(&st);
	st.peers_connected = 4;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EINVAL);
	status_fill(&st);
	st.zone_count = BFTDNS_CTL_ZONES_MAX + 1;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EINVAL);
	/* Module strings cannot break the framing, even unterminated ones. */
	status_fill(&st);
	strcpy(st.zones[0].digest, "a\nok\n");
	memset(st.zones[0].signing, 'x', sizeof(st.zones[0].signing));
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	CHECK(strstr(out, "digest=a\\010ok\\010 signing=xxxxxxxxxxxxxxxx\n") != NULL);
	/* A stable checkpoint (replicas > 1) follows the signing protocol. */
	status_fill(&st);
	strcpy(st.zones[0].checkpoint, "batch 64: 0011223344556677 (3 reports)");
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	CHECK(strstr(out, "zone: example.com. digest=sha256:00ff signing=optte "
	                  "checkpoint=batch 64: 0011223344556677 (3 reports)\n") != NULL);
	/* The largest status fits in an answer; a small buffer is ESPACE. */
	st.zone_count = BFTDNS_CTL_ZONES_MAX;
	for (size_t i = 0; i < BFTDNS_CTL_ZONES_MAX; i++) {
		memset(st.zones[i].name, '\xff', sizeof(st.zones[i].name));
		memset(st.zones[i].digest, '\n', sizeof(st.zones[i].digest));
		memset(st.zones[i].checkpoint, '\n', sizeof(st.zones[i].checkpoint));
	}
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out) - 256, &len), BFT_EOK);
	CHECK_EQ(ctl_status_format(&st, out, 100, &len), BFT_ESPACE);
	st.has_batch = 0;
	st.zone_count = 0;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	CHECK(strstr(out, "last-batch: none\n") != NULL && strstr(out, "last-batch-time") == NULL);

	/* Counters the module does not count are said to be so, not printed as 0. */
	status_fill(&st);
	st.uncounted = BFTDNS_CTL_UNCOUNTED_UPDATES | BFTDNS_CTL_UNCOUNTED_BAD_SHARES;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	CHECK(strstr(out, "updates-received: not counted yet\nupdates-applied: not counted yet\n"
	                  "updates-rejected: not counted yet\nsigning-instances: 5\n"
	                  "bad-shares: not counted yet\n") != NULL);
	st.uncounted = BFTDNS_CTL_UNCOUNTED_SIGNING;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	CHECK(strstr(out, "updates-rejected: 2\nsigning-instances: not counted yet\n"
	                  "bad-shares: 1=0 3=4 4=0\n") != NULL);
	/* n = 1: no peers, and still a `key: value` line for bad-shares. */
	status_fill(&st);
	st.replica_id = st.replicas = 1;
	st.faults = st.peers_connected = 0;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	CHECK(strstr(out, "peers: 0/0 connected\n") != NULL);
	CHECK(strstr(out, "bad-shares: none\n") != NULL);
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		CHECK_EQ(ctl_response_line(line), CTL_LINE_DATA);
	}
	/* ordered-reads on: its counters after the update counters, and only then. */
	status_fill(&st);
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	CHECK(strstr(out, "reads-") == NULL);
	st.ordered_reads = 1;
	st.reads_ordered = 40;
	st.reads_timed_out = 3;
	st.reads_refused = 2;
	st.reads_failed = 1;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	CHECK(strstr(out, "signing-instances: 5\nreads-ordered: 40\nreads-timed-out: 3\n"
	                  "reads-refused: 2\nreads-failed: 1\nbad-shares: ") != NULL);
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		CHECK_EQ(ctl_response_line(line), CTL_LINE_DATA);
	}
	/* A vote log: its lines after the link counters, and only then; a
	 * state out of range is refused. */
	status_fill(&st);
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	CHECK(strstr(out, "vote") == NULL);
	st.vote_log = BFTDNS_CTL_VOTES_INCOMPLETE;
	st.votes_logged = 5120;
	st.votes_suppressed = 2;
	st.votes_restored = 0;
	st.vote_log_bytes = 81920;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EOK);
	out[len] = '\0';
	CHECK(strstr(out, "link-bytes-received: 340001\nvote-log: incomplete\nvotes-logged: 5120\n"
	                  "votes-suppressed: 2\nvotes-restored: 0\nvote-log-bytes: 81920\n"
	                  "zones: 1\n") != NULL);
	st.vote_log = BFTDNS_CTL_VOTES_FAILED + 1;
	CHECK_EQ(ctl_status_format(&st, out, sizeof(out), &len), BFT_EINVAL);
}

static void test_lines(void)
{
	char out[128];
	size_t len = ctl_final_line(out, sizeof(out), 0, NULL, NULL);
	CHECK(len == 3 && memcmp(out, "ok\n", 3) == 0);
	len = ctl_final_line(out, sizeof(out), 0, "not-ready", "links\nup: 0");
	out[len] = '\0';
	CHECK(strcmp(out, "error: not-ready: links\\010up: 0\n") == 0);
	CHECK_EQ(ctl_final_line(out, 10, 0, "failed", "a long message"), 10);
	CHECK_EQ(ctl_response_line("ok"), CTL_LINE_OK);
	CHECK_EQ(ctl_response_line("ok: queued"), CTL_LINE_OK);
	CHECK_EQ(ctl_response_line("error: failed: x"), CTL_LINE_ERROR);
	CHECK_EQ(ctl_response_line("replica: 1"), CTL_LINE_DATA);
	CHECK_EQ(ctl_response_line("Replica: 1"), CTL_LINE_MALFORMED);
	CHECK_EQ(ctl_response_line("replica:1"), CTL_LINE_MALFORMED);
	CHECK_EQ(ctl_response_line(": 1"), CTL_LINE_MALFORMED);
	CHECK_EQ(ctl_response_line("okay"), CTL_LINE_MALFORMED);
	CHECK_EQ(ctl_response_line("zone: a\tb"), CTL_LINE_MALFORMED);
	CHECK(strcmp(ctl_error_kind(BFT_EAGAIN), "not-ready") == 0);
	CHECK(strcmp(ctl_error_kind(BFT_ENOENT), "no-zone") == 0);
	CHECK(strcmp(ctl_error_kind(BFT_EINVAL), "not-supported") == 0);
	CHECK(strcmp(ctl_error_kind(BFT_EIO), "failed") == 0);
}

/* Random bytes, and random mutations of a good request: any answer but a crash. */
static void test_fuzz(void)
{
	bft_prng_t rng;
	bft_prng_seed(&rng, 20260101);
	static char buf[CTL_REQUEST_MAX + 32];
	const char *good = "bftdns-ctl 1\nsign-zone example.com.\n";
	size_t ok = 0;
	for (int round = 0; round < 200000; round++) {
		size_t len = bft_prng_below(&rng, sizeof(buf) + 1);
		if (round % 2 == 0) {
			len = strlen(good);
			memcpy(buf, good, len);
			buf[bft_prng_below(&rng, len)] = (char)bft_prng_below(&rng, 256);
			len -= bft_prng_below(&rng, 3);
		} else {
			for (size_t i = 0; i < len; i++) {
				buf[i] = (char)bft_prng_below(&rng, 256);
			}
		}
		ctl_request_t req;
		const char *err = NULL;
		ctl_req_status_t st = ctl_request_parse(buf, len, &req, &err);
		CHECK(st == CTL_REQ_OK || st == CTL_REQ_INCOMPLETE || st == CTL_REQ_BAD);
		CHECK(st != CTL_REQ_BAD || err != NULL);
		CHECK(st != CTL_REQ_INCOMPLETE || len < CTL_REQUEST_MAX);
		if (st == CTL_REQ_OK) {
			ok++;
			CHECK(req.cmd == CTL_CMD_STATUS || strlen(req.zone) > 0);
		}
	}
	/* Some mutations (case, a letter for a letter) still parse. */
	CHECK(ok > 0);
}

int main(void)
{
	test_requests();
	test_status();
	test_lines();
	test_fuzz();
	return check_result("test_ctl_proto");
}
