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
 * Test helpers: a cluster of n replicas on 127.0.0.1 (keys in a temporary
 * directory, free ports), a thread-safe record of each core's outputs and
 * log lines, and bounded waits on conditions.
 */

#pragma once

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/core/core.h"
#include "coordinator/crypto/coin_file.h"
#include "coordinator/net/link_key.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/prng.h"

#define CLUSTER_OUTPUTS_MAX	20000
#define CLUSTER_LOG_MAX		(64 << 10)

typedef struct {
	pthread_mutex_t lock;
	unsigned count;
	unsigned by_tag[BFT_NODES_MAX];
	uint32_t tags[CLUSTER_OUTPUTS_MAX];
	uint32_t lens[CLUSTER_OUTPUTS_MAX];
	char *data[CLUSTER_OUTPUTS_MAX];
	char log[CLUSTER_LOG_MAX];
	size_t log_len;
} cluster_rec_t;

typedef struct {
	unsigned n;
	char dir[64];
	char pins[BFT_NODES_MAX][BFT_PIN_STR_MAX];
	char keys[BFT_NODES_MAX][128];
	char coins[BFT_NODES_MAX][128];   /* coin-<id>.key, after cluster_make_coin() */
	uint16_t ports[BFT_NODES_MAX];
	cluster_rec_t rec[BFT_NODES_MAX];
	bftdns_core_t *cores[BFT_NODES_MAX];
} cluster_t;

static inline uint64_t cluster_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A pause between polls of a condition (never as synchronisation itself). */
static inline void cluster_pause_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Polls cond(ctx) every 10 ms for at most limit_ms; true if it became true. */
static inline bool cluster_wait(bool (*cond)(void *), void *ctx, unsigned limit_ms)
{
	uint64_t end = cluster_now_ms() + limit_ms;
	while (!cond(ctx)) {
		if (cluster_now_ms() >= end) {
			return false;
		}
		cluster_pause_ms(10);
	}
	return true;
}

/* True if port can be bound on 127.0.0.1 (TCP) right now. */
static inline bool cluster_port_free(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&in, sizeof(in)) == 0;
	if (fd >= 0) {
		close(fd);
	}
	return ok;
}

/*
 * A port free on 127.0.0.1 right now, below the kernel's ephemeral range
 * (as tests/knot/lib.sh's free_port): the links bind it a moment later,
 * and outgoing connections of tests running at the same time take their
 * source ports from the ephemeral range. 0 if none was found.
 */
static inline uint16_t cluster_free_port(void)
{
	unsigned low = 32768;
	FILE *range = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (range != NULL) {
		if (fscanf(range, "%u", &low) != 1) {
			low = 32768;
		}
		fclose(range);
	}
	unsigned top = low > 65536 ? 65535 : low - 1;
	if (top < 12000) {
		top = 12000;
	}
	static unsigned seed;
	if (seed == 0) {
		seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	}
	for (int i = 0; i < 500; i++) {
		uint16_t port = (uint16_t)(10000 + rand_r(&seed) % (top - 10000 + 1));
		if (cluster_port_free(port)) {
			return port;
		}
	}
	return 0;
}

static inline void cluster_deliver(void *ctx, uint32_t tag, const uint8_t *data, size_t len)
{
	cluster_rec_t *rec = ctx;
	pthread_mutex_lock(&rec->lock);
	if (rec->count < CLUSTER_OUTPUTS_MAX) {
		char *copy = malloc(len + 1);
		if (copy != NULL) {
			memcpy(copy, data, len);
			copy[len] = '\0';
		}
		rec->tags[rec->count] = tag;
		rec->lens[rec->count] = (uint32_t)len;
		rec->data[rec->count] = copy;
		rec->count++;
		if (tag < BFT_NODES_MAX) {
			rec->by_tag[tag]++;
		}
	}
	pthread_mutex_unlock(&rec->lock);
}

static inline void cluster_log(void *ctx, int level, const char *line)
{
	cluster_rec_t *rec = ctx;
	pthread_mutex_lock(&rec->lock);
	int len = snprintf(rec->log + rec->log_len, sizeof(rec->log) - rec->log_len, "%s\n", line);
	if (len > 0 && rec->log_len + (size_t)len < sizeof(rec->log)) {
		rec->log_len += (size_t)len;
	}
	pthread_mutex_unlock(&rec->lock);
	if (getenv("BFTDNS_TEST_VERBOSE") != NULL) {
		fprintf(stderr, "[%d] %s\n", level, line);
	}
}

static inline bool cluster_log_has(cluster_rec_t *rec, const char *text)
{
	pthread_mutex_lock(&rec->lock);
	bool found = strstr(rec->log, text) != NULL;
	pthread_mutex_unlock(&rec->lock);
	return found;
}

static inline unsigned cluster_count(cluster_rec_t *rec, int tag)
{
	pthread_mutex_lock(&rec->lock);
	unsigned count = tag < 0 ? rec->count : rec->by_tag[tag];
	pthread_mutex_unlock(&rec->lock);
	return count;
}

/* Keys, pins and ports for n replicas; extra keys (ids n+1..n+extra) for intruders. */
static inline int cluster_make(cluster_t *c, unsigned n, unsigned extra)
{
	memset(c, 0, sizeof(*c));
	c->n = n;
	snprintf(c->dir, sizeof(c->dir), "/tmp/bftdns-core-XXXXXX");
	if (mkdtemp(c->dir) == NULL) {
		return BFT_EIO;
	}
	char why[BFT_WHY_MAX];
	for (unsigned i = 0; i < n + extra && i < BFT_NODES_MAX; i++) {
		int ret = bft_link_key_generate(c->dir, i + 1, false, c->pins[i], why, sizeof(why));
		if (ret != BFT_EOK) {
			fprintf(stderr, "key %u: %s\n", i + 1, why);
			return ret;
		}
		bft_link_key_path(c->dir, i + 1, c->keys[i], sizeof(c->keys[i]));
		/* Distinct: none of them is bound until the links start. */
		bool taken;
		int tries = 0;
		do {
			c->ports[i] = cluster_free_port();
			taken = c->ports[i] == 0;
			for (unsigned j = 0; j < i && !taken; j++) {
				taken = c->ports[j] == c->ports[i];
			}
		} while (taken && ++tries < 16);
		if (taken) {
			return BFT_EIO;
		}
		pthread_mutex_init(&c->rec[i].lock, NULL);
	}
	return BFT_EOK;
}

/* Deals a coin key for the cluster (f = (n - 1) / 3) and writes coin-<id>.key files. */
static inline int cluster_make_coin(cluster_t *c)
{
	coin_public_t pub;
	coin_secret_t *secrets = calloc(COIN_PLAYERS_MAX, sizeof(*secrets));
	int ret = secrets != NULL && coin_init() == COIN_EOK ? BFT_EOK : BFT_EIO;
	bft_prng_t prng;
	bft_prng_seed(&prng, c->n);
	if (ret == BFT_EOK && coin_deal(c->n, (c->n - 1) / 3, bft_prng_random, &prng, &pub,
	                                secrets) != COIN_EOK) {
		ret = BFT_EIO;
	}
	for (unsigned i = 0; ret == BFT_EOK && i < c->n; i++) {
		keys_err_t err;
		snprintf(c->coins[i], sizeof(c->coins[i]), "%s/coin-%u.key", c->dir, i + 1);
		if (coin_file_write_secret(c->coins[i], &pub, &secrets[i], false, &err) != KEYS_EOK) {
			fprintf(stderr, "coin key %u: %s\n", i + 1, err.text);
			ret = BFT_EIO;
		}
	}
	for (unsigned i = 0; secrets != NULL && i < COIN_PLAYERS_MAX; i++) {
		coin_secret_wipe(&secrets[i]);
	}
	free(secrets);
	return ret;
}

/* The config of replica self, with protocol ops; outputs and logs go to rec[self]. */
static inline void cluster_conf(cluster_t *c, unsigned self, const bft_protocol_ops_t *ops,
                                bftdns_core_conf_t *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->n = (uint16_t)c->n;
	conf->f = (uint16_t)((c->n - 1) / 3);
	conf->self = (bft_node_t)self;
	for (unsigned i = 0; i < c->n; i++) {
		conf->peers[i].host = "127.0.0.1";
		conf->peers[i].port = c->ports[i];
		conf->peers[i].pin = c->pins[i];
	}
	conf->key_file = c->keys[self];
	conf->ops = ops;
	conf->deliver = cluster_deliver;
	conf->deliver_ctx = &c->rec[self];
	conf->log.fn = cluster_log;
	conf->log.ctx = &c->rec[self];
	conf->log.level_max = LOG_DEBUG;
	conf->backoff_min_ms = 20;
	conf->backoff_max_ms = 300;
}

/* The production config of replica self: the atomic broadcast with its coin key. */
static inline void cluster_conf_abc(cluster_t *c, unsigned self, bftdns_core_conf_t *conf)
{
	cluster_conf(c, self, NULL, conf);
	conf->coin_file = c->coins[self];
}

static inline void cluster_clear_rec(cluster_rec_t *rec)
{
	pthread_mutex_lock(&rec->lock);
	for (unsigned k = 0; k < rec->count; k++) {
		free(rec->data[k]);
	}
	rec->count = 0;
	memset(rec->by_tag, 0, sizeof(rec->by_tag));
	rec->log_len = 0;
	rec->log[0] = '\0';
	pthread_mutex_unlock(&rec->lock);
}

static inline void cluster_stop_all(cluster_t *c)
{
	for (unsigned i = 0; i < BFT_NODES_MAX; i++) {
		bftdns_core_stop(c->cores[i]);
		c->cores[i] = NULL;
	}
}

static inline void cluster_destroy(cluster_t *c)
{
	cluster_stop_all(c);
	for (unsigned i = 0; i < BFT_NODES_MAX; i++) {
		cluster_clear_rec(&c->rec[i]);
		pthread_mutex_destroy(&c->rec[i].lock);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	if (c->dir[0] != '\0' && system(cmd) != 0) {
		fprintf(stderr, "cannot remove %s\n", c->dir);
	}
}
