/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-keygen's zone key: the safe-prime search with its progress lines
 * (or the import of an existing key), and the share files, public key,
 * DNSKEY and DS that carry it.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/keys/bind_import.h"
#include "coordinator/keys/dnskey.h"
#include "coordinator/keys/file.h"
#include "coordinator/tools/keygen.h"

/* Progress of the safe-prime search: rewritten in place on a terminal, an
 * occasional line otherwise (logs should not fill with counters). */
typedef struct {
	bool tty;
	struct timespec start;
	struct timespec last;
	unsigned prime_index;
	bool line_open;
} progress_t;

#define PROGRESS_TTY_MS		250
#define PROGRESS_LOG_MS		10000

static double progress_elapsed_ms(const struct timespec *from, const struct timespec *to)
{
	return (double)(to->tv_sec - from->tv_sec) * 1e3 +
	       (double)(to->tv_nsec - from->tv_nsec) / 1e6;
}

static bool progress_report(void *ctx, unsigned prime_index, uint64_t candidates)
{
	progress_t *progress = ctx;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double interval = progress->tty ? PROGRESS_TTY_MS : PROGRESS_LOG_MS;
	bool new_prime = prime_index != progress->prime_index;
	if (!new_prime && progress_elapsed_ms(&progress->last, &now) < interval) {
		return true;
	}
	progress->last = now;
	progress->prime_index = prime_index;
	double seconds = progress_elapsed_ms(&progress->start, &now) / 1e3;
	if (progress->tty) {
		fprintf(stderr, "\r" PROGRAM ": safe prime %u of 2: %llu candidates tried, %.0f s ",
		        prime_index, (unsigned long long)candidates, seconds);
		progress->line_open = true;
	} else {
		fprintf(stderr, PROGRAM ": safe prime %u of 2: %llu candidates tried, %.0f s\n",
		        prime_index, (unsigned long long)candidates, seconds);
	}
	return true;
}

static void progress_start(progress_t *progress, unsigned bits)
{
	memset(progress, 0, sizeof(*progress));
	progress->tty = isatty(STDERR_FILENO) == 1;
	clock_gettime(CLOCK_MONOTONIC, &progress->start);
	progress->last = progress->start;
	fprintf(stderr, PROGRAM ": making a %u-bit key: searching two %u-bit safe primes "
	        "(this can take a while)\n", bits, bits / 2);
}

static void progress_end(progress_t *progress)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (progress->line_open) {
		fprintf(stderr, "\n");
	}
	fprintf(stderr, PROGRAM ": key made in %.1f s\n",
	        progress_elapsed_ms(&progress->start, &now) / 1e3);
}

static int zone_import(const keygen_opt_t *opt, keys_public_t *pub, shoup_secret_t *secrets)
{
	keys_err_t err;
	const bftdns_alg_t *alg = NULL;
	fprintf(stderr, PROGRAM ": importing the key in %s\n", opt->import);
	int ret = keys_bind_import(opt->import, opt->replicas, opt->faults, shoup_random_system,
	                           NULL, &alg, &pub->key, secrets, &err);
	if (ret != KEYS_EOK) {
		return keygen_fail(ret == KEYS_ECRYPTO ? EXIT_MAKE : EXIT_IMPORT, "%s", err.text);
	}
	if (opt->alg_given && alg != opt->alg) {
		return keygen_fail(EXIT_IMPORT, "%s holds an %s key, but --algorithm says %s",
		                   opt->import, alg->mnemonic, opt->alg->mnemonic);
	}
	if (opt->bits_given && pub->key.bits != opt->bits) {
		return keygen_fail(EXIT_IMPORT, "%s holds a %u-bit key, but --bits says %u",
		                   opt->import, pub->key.bits, opt->bits);
	}
	ret = keys_public_finish(pub, opt->zone, alg, &err);
	if (ret != KEYS_EOK) {
		return keygen_fail(EXIT_MAKE, "%s", err.text);
	}
	return EXIT_OK;
}

static int zone_deal(const keygen_opt_t *opt, keys_public_t *pub, shoup_secret_t *secrets)
{
	progress_t progress;
	progress_start(&progress, opt->bits);
	int ret = shoup_deal(opt->bits, opt->replicas, opt->faults, shoup_random_system, NULL,
	                     progress_report, &progress, &pub->key, secrets);
	progress_end(&progress);
	if (ret != SHOUP_EOK) {
		return keygen_fail(EXIT_MAKE, "making the key failed: %s", shoup_strerror(ret));
	}
	keys_err_t err;
	if (keys_public_finish(pub, opt->zone, opt->alg, &err) != KEYS_EOK) {
		return keygen_fail(EXIT_MAKE, "%s", err.text);
	}
	return EXIT_OK;
}

int keygen_zone_make(const keygen_opt_t *opt, keys_public_t *pub, shoup_secret_t *secrets)
{
	return opt->import != NULL ? zone_import(opt, pub, secrets) : zone_deal(opt, pub, secrets);
}

void keygen_zone_stem(const char *zone, char *out, size_t size)
{
	if (strcmp(zone, ".") == 0) {
		snprintf(out, size, "root");
		return;
	}
	size_t len = strlen(zone);
	snprintf(out, size, "%.*s", (int)(len - 1), zone);
}

/* Replica i's share goes into its directory, and for the offline signer,
 * the demo and older scripts also into DIR as before. */
static int zone_write_shares(keygen_out_t *out, const keys_public_t *pub,
                             const shoup_secret_t *secrets)
{
	for (unsigned i = 0; i < out->opt->replicas; i++) {
		char name[32];
		snprintf(name, sizeof(name), "share-%u.key", secrets[i].id);
		for (unsigned dir = 0; dir <= 1; dir++) {
			char path[KEYGEN_PATH_LEN];
			keygen_out_path(out, dir == 0 ? secrets[i].id : 0, name, path);
			keys_err_t err;
			if (keys_share_write(path, pub, &secrets[i], out->opt->force, &err) != KEYS_EOK) {
				return keygen_fail(EXIT_MAKE, "%s", err.text);
			}
			int ret = keygen_out_wrote(out, path);
			if (ret != EXIT_OK) {
				return ret;
			}
		}
	}
	return EXIT_OK;
}

/* public.key in DIR and, so that each machine can compare the key's
 * public digest with the dealer's, in every replica's directory. */
static int zone_write_public(keygen_out_t *out, const keys_public_t *pub)
{
	for (unsigned i = 0; i <= out->opt->replicas; i++) {
		char path[KEYGEN_PATH_LEN];
		keygen_out_path(out, i, KEYGEN_PUBLIC, path);
		keys_err_t err;
		if (keys_public_write(path, pub, out->opt->force, &err) != KEYS_EOK) {
			return keygen_fail(EXIT_MAKE, "%s", err.text);
		}
		int ret = keygen_out_wrote(out, path);
		if (ret != EXIT_OK) {
			return ret;
		}
	}
	return EXIT_OK;
}

static int zone_write_records(keygen_out_t *out, const keys_public_t *pub)
{
	uint8_t rdata[KEYS_DNSKEY_RDATA_MAX];
	size_t len = 0;
	int ret = keys_dnskey_rdata(pub->key.modulus, pub->key.exponent, KEYS_DNSKEY_FLAGS_KSK,
	                            pub->alg->number, rdata, sizeof(rdata), &len);
	static char line[KEYS_RR_LINE_MAX];
	char stem[KEYS_DNAME_TEXT_MAX], name[KEYS_DNAME_TEXT_MAX + 16];
	keys_err_t err;
	keygen_zone_stem(pub->zone, stem, sizeof(stem));
	if (ret != KEYS_EOK ||
	    keys_dnskey_line(pub->zone, out->opt->ttl, rdata, len, line, sizeof(line),
	                     &err) != KEYS_EOK) {
		return keygen_fail(EXIT_MAKE, "cannot make the DNSKEY record");
	}
	snprintf(name, sizeof(name), "%s.dnskey", stem);
	ret = keygen_out_text(out, 0, name, line, strlen(line), 0644);
	if (ret != EXIT_OK) {
		return ret;
	}
	if (keys_ds_line(pub->zone, out->opt->ttl, rdata, len, line, sizeof(line),
	                 &err) != KEYS_EOK) {
		return keygen_fail(EXIT_MAKE, "cannot make the DS record: %s", err.text);
	}
	snprintf(name, sizeof(name), "%s.ds", stem);
	return keygen_out_text(out, 0, name, line, strlen(line), 0644);
}

int keygen_zone_write(keygen_out_t *out, const keys_public_t *pub,
                      const shoup_secret_t *secrets)
{
	int ret = zone_write_shares(out, pub, secrets);
	if (ret == EXIT_OK) {
		ret = zone_write_public(out, pub);
	}
	if (ret == EXIT_OK) {
		ret = zone_write_records(out, pub);
	}
	return ret;
}
