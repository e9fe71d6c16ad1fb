/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-node: one standalone coordinator (no knotd) running the
 * example-send protocol, for tests that need a replica in its own process.
 *
 *   bftdns-node --n N --self I --key FILE --peer HOST:PORT:PIN ... (N times, in order)
 *               [--every MS] [--lifetime S]
 *
 * Every MS milliseconds it sends "I:k" (k = 0, 1, ...) to every other replica
 * and prints each message it receives as "out TAG PAYLOAD" on stdout. It
 * stops on SIGTERM or SIGINT, or after S seconds (default 120) so that it
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

#include "coordinator/core/core.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/example_send.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void node_deliver(void *ctx, uint32_t tag, const uint8_t *data, size_t len)
{
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

static int node_args(int argc, char **argv, bftdns_core_conf_t *conf, long *every, long *lifetime)
{
	static const struct option opts[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "self", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "peer", required_argument, NULL, 'p' },
		{ "every", required_argument, NULL, 'e' },
		{ "lifetime", required_argument, NULL, 'l' },
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
	return peers == conf->n && *every > 0 && *lifetime > 0 ? BFT_EOK : BFT_EINVAL;
}

static void node_tick(bftdns_core_t *core, const bftdns_core_conf_t *conf, unsigned k)
{
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
	if (node_args(argc, argv, &conf, &every, &lifetime) != BFT_EOK) {
		fprintf(stderr, "usage: bftdns-node --n N --self I --key FILE --peer HOST:PORT:PIN ... "
		                "[--every MS] [--lifetime S]\n");
		return 2;
	}
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	bftdns_core_t *core = NULL;
	if (bftdns_core_start(&conf, &core) != BFT_EOK) {
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
	return 0;
}
