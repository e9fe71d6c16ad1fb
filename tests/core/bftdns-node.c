/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-node: one standalone coordinator (no knotd), for tests that need a
 * replica in its own process.
 *
 *   bftdns-node --n N --self I --key FILE --peer HOST:PORT:PIN ... (N times, in order)
 *               [--every MS] [--lifetime S] [--coin FILE --log FILE]
 *
 * Without --coin it runs the example-send protocol: every MS milliseconds it
 * sends "I:k" (k = 0, 1, ...) to every other replica and prints each
 * message it receives as "out TAG PAYLOAD" on stdout.
 *
 * With --coin it runs the atomic broadcast: every MS milliseconds it submits
 * "req I:k", appends every delivered batch to the log FILE (u32 big-endian
 * length, then the batch; flushed per batch, as a replica's batch log
 * would be) and prints "batch EPOCH COUNT". At start it reads the log back
 * and resumes after its last batch (a restarted replica), printing
 * "resumed COUNT".
 *
 * It stops on SIGTERM or SIGINT, or after S seconds (default 120) so that it
 * can never outlive a test by accident.
 */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/core/core.h"
#include "coordinator/proto/batch.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/example_send.h"

/* Batches read back from the log at start: at most this many. */
#define NODE_RESUME_MAX	4096

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static FILE *node_log_file;

/* The atomic broadcast's batches: logged (flushed) before they are printed. */
static void node_deliver_batch(const uint8_t *data, size_t len)
{
	batch_reader_t br;
	if (batch_reader_open(&br, data, len) != BFT_EOK) {
		fprintf(stderr, "bftdns-node: a delivered batch does not parse\n");
		return;
	}
	uint8_t hdr[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };
	if (fwrite(hdr, 1, 4, node_log_file) != 4 || fwrite(data, 1, len, node_log_file) != len ||
	    fflush(node_log_file) != 0) {
		fprintf(stderr, "bftdns-node: cannot write the batch log: %s\n", strerror(errno));
	}
	printf("batch %llu %u\n", (unsigned long long)br.epoch, br.count);
	fflush(stdout);
}

static void node_deliver(void *ctx, uint32_t tag, const uint8_t *data, size_t len)
{
	if (tag == BFTDNS_CORE_OUT_BATCH && node_log_file != NULL) {
		node_deliver_batch(data, len);
		return;
	}
	pthread_mutex_lock(&out_lock);
	/* The first bytes identify a message; big payloads are not echoed whole. */
	printf("out %u %.*s\n", tag, (int)(len < 40 ? len : 40), (const char *)data);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void node_log(void *ctx, int level, const char *line)
{
	fprintf(stderr, "bftdns-node: %s\n", line);
}

/* "HOST:PORT:PIN"; the pin holds no ':' and the host is IPv4 here. */
static int node_peer(char *arg, bftdns_core_peer_t *peer)
{
	char *port = strchr(arg, ':');
	char *pin = port != NULL ? strchr(port + 1, ':') : NULL;
	if (pin == NULL) {
		return BFT_EINVAL;
	}
	*port++ = '\0';
	*pin++ = '\0';
	long p = strtol(port, NULL, 10);
	if (p <= 0 || p > 65535) {
		return BFT_EINVAL;
	}
	peer->host = arg;
	peer->port = (uint16_t)p;
	peer->pin = pin;
	return BFT_EOK;
}

/* Reads the batch log back (a batch cut short by a kill is left out). */
static size_t node_resume(const char *path, bftdns_core_batch_t *out, size_t max)
{
	FILE *in = fopen(path, "rb");
	size_t count = 0;
	while (in != NULL && count < max) {
		uint8_t hdr[4];
		if (fread(hdr, 1, 4, in) != 4) {
			break;
		}
		size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
		uint8_t *data = len <= BFT_MSG_MAX ? malloc(len) : NULL;
		if (data == NULL || fread(data, 1, len, in) != len) {
			free(data);
			break;
		}
		out[count++] = (bftdns_core_batch_t){ .data = data, .len = len };
	}
	if (in != NULL) {
		fclose(in);
	}
	return count;
}

static int node_args(int argc, char **argv, bftdns_core_conf_t *conf, long *every, long *lifetime,
                     const char **log)
{
	static const struct option opts[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "self", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "peer", required_argument, NULL, 'p' },
		{ "every", required_argument, NULL, 'e' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "coin", required_argument, NULL, 'c' },
		{ "log", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned peers = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'n': conf->n = (uint16_t)atoi(optarg); break;
		case 's': conf->self = (bft_node_t)atoi(optarg); break;
		case 'k': conf->key_file = optarg; break;
		case 'e': *every = atol(optarg); break;
		case 'l': *lifetime = atol(optarg); break;
		case 'c': conf->coin_file = optarg; conf->ops = NULL; break;
		case 'g': *log = optarg; break;
		case 'p':
			if (peers >= BFT_NODES_MAX || node_peer(optarg, &conf->peers[peers++]) != BFT_EOK) {
				return BFT_EINVAL;
			}
			break;
		default:
			return BFT_EINVAL;
		}
	}
	conf->f = (uint16_t)((conf->n - 1) / 3);
	bool abc_ok = (conf->coin_file == NULL) == (*log == NULL);
	return peers == conf->n && *every > 0 && *lifetime > 0 && abc_ok ? BFT_EOK : BFT_EINVAL;
}

static void node_tick(bftdns_core_t *core, const bftdns_core_conf_t *conf, unsigned k)
{
	if (conf->coin_file != NULL) {
		char req[48];
		int len = snprintf(req, sizeof(req), "req %u:%u", conf->self, k);
		bftdns_core_submit(core, (const uint8_t *)req, (size_t)len);
		return;
	}
	char text[32];
	uint8_t input[64];
	size_t len = 0;
	int tlen = snprintf(text, sizeof(text), "%u:%u", conf->self, k);
	bft_nodeset_t others = bft_nodeset_all(conf->n) & ~bft_nodeset_one(conf->self);
	if (exsend_input(others, (const uint8_t *)text, (size_t)tlen, input, sizeof(input), &len) == BFT_EOK) {
		bftdns_core_submit(core, input, len);
	}
}

int main(int argc, char **argv)
{
	bftdns_core_conf_t conf = { .ops = &exsend_ops, .deliver = node_deliver,
	                            .log = { .fn = node_log, .level_max = LOG_NOTICE },
	                            .backoff_min_ms = 20, .backoff_max_ms = 300 };
	long every = 50, lifetime = 120;
	const char *log = NULL;
	if (node_args(argc, argv, &conf, &every, &lifetime, &log) != BFT_EOK) {
		fprintf(stderr, "usage: bftdns-node --n N --self I --key FILE --peer HOST:PORT:PIN ... "
		                "[--every MS] [--lifetime S] [--coin FILE --log FILE]\n");
		return 2;
	}
	static bftdns_core_batch_t resume[NODE_RESUME_MAX];
	if (log != NULL) {
		conf.resume = resume;
		conf.resume_count = node_resume(log, resume, NODE_RESUME_MAX);
		/* Appends after the last whole batch (a torn one is cut off). */
		size_t keep = 0;
		for (size_t i = 0; i < conf.resume_count; i++) {
			keep += 4 + resume[i].len;
		}
		node_log_file = fopen(log, conf.resume_count > 0 ? "r+b" : "wb");
		if (node_log_file == NULL || fseek(node_log_file, (long)keep, SEEK_SET) != 0 ||
		    ftruncate(fileno(node_log_file), (off_t)keep) != 0) {
			fprintf(stderr, "bftdns-node: cannot open %s: %s\n", log, strerror(errno));
			return 1;
		}
		printf("resumed %zu\n", conf.resume_count);
		fflush(stdout);
	}
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	bftdns_core_t *core = NULL;
	int started = bftdns_core_start(&conf, &core);
	for (size_t i = 0; i < conf.resume_count; i++) {
		free((void *)resume[i].data);
	}
	if (started != BFT_EOK) {
		return 1;
	}
	/* The tick pace comes from sigtimedwait's timeout; a signal ends the loop. */
	struct timespec wait = { .tv_sec = every / 1000, .tv_nsec = (every % 1000) * 1000000 };
	long ticks = lifetime * 1000 / every;
	for (long k = 0; k < ticks; k++) {
		int sig = sigtimedwait(&stop, NULL, &wait);
		if (sig == SIGTERM || sig == SIGINT) {
			break;
		}
		node_tick(core, &conf, (unsigned)k);
	}
	bftdns_core_stop(core);
	if (node_log_file != NULL) {
		fclose(node_log_file);
	}
	return 0;
}
