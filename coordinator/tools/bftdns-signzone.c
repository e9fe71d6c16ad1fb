/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-signzone: signs a zone file offline with a threshold key, like
 * dnssec-signzone, except that every RRSIG is made by collecting signature
 * shares from the key share files given (each one plays a replica) through
 * the collector of the chosen signing protocol, optionally with replicas
 * that damage their shares. A test tool and an operator's offline check.
 *
 * The output depends only on the inputs (RSA signatures are unique and the
 * times are fixed), so two runs with the same inputs give the same bytes.
 */

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coordinator/keys/number.h"
#include "coordinator/tools/signzone_replicas.h"
#include "coordinator/tools/signzone_zone.h"

#define PROGRAM "bftdns-signzone"

enum {
	EXIT_SIGNED    = 0,
	EXIT_USAGE     = 1,   /* Bad or missing arguments. */
	EXIT_INPUT     = 2,   /* A share file or the zone file was refused. */
	EXIT_SIGNING   = 3,   /* No valid signature could be made. */
	EXIT_WRITE     = 4,   /* The signed zone could not be written. */
};

#define HOUR			3600
#define DEFAULT_LIFETIME	(14 * 24 * HOUR)
#define DEFAULT_DNSKEY_TTL	3600

typedef struct {
	const char *zone_file;
	char **share_files;
	unsigned share_count;
	const char *corrupt[SHOUP_PLAYERS_MAX];
	unsigned corrupt_count;
	const char *out;
	shoup_strategy_t strategy;
	bool have_inception, have_expiration, have_now;
	uint64_t inception, expiration, now, lifetime;
	signzone_params_t params;
	bool quiet;
} options_t;

static void usage_print(FILE *out)
{
	fprintf(out,
	"Usage: " PROGRAM " [options] ZONEFILE SHAREFILE...\n"
	"\n"
	"Signs the unsigned zone in ZONEFILE with the threshold key of the key share files\n"
	"given (at least f + 1 of them, made by bftdns-keygen). Each share file plays one\n"
	"replica: every RRSIG is combined from the replicas' signature shares with the\n"
	"chosen protocol, then checked with plain RSA and by libldns before it is written.\n"
	"Adds the DNSKEY (flags 257) and an NSEC or NSEC3 chain.\n"
	"\n"
	"Options:\n"
	"  -o, --out FILE           signed zone (default ZONEFILE.signed; '-' for stdout)\n"
	"  -p, --protocol P         basic, optproof or optte (default optte)\n"
	"  -c, --corrupt ID:MODE    replica ID damages its shares: 'invert' (every bit, the\n"
	"                           paper's test mode) or 'random'; may be repeated\n"
	"  -s, --inception TIME     RRSIG inception, YYYYMMDDHHMMSS (UTC) or epoch seconds\n"
	"  -e, --expiration TIME    RRSIG expiration (with --inception)\n"
	"  -n, --now TIME           signing time (default: the clock); inception is one hour\n"
	"                           earlier, expiration --lifetime later\n"
	"  -l, --lifetime SECONDS   signature lifetime with --now (default %d, 14 days)\n"
	"  -3, --nsec3              NSEC3 (SHA-1, no opt-out) instead of NSEC\n"
	"      --nsec3-salt HEX     NSEC3 salt (default none)\n"
	"      --nsec3-iterations N NSEC3 extra iterations (default 0, as RFC 9276 advises)\n"
	"  -t, --dnskey-ttl SECONDS TTL of the DNSKEY when the zone has none (default %d)\n"
	"  -q, --quiet              no report on stderr\n"
	"  -h, --help               this text\n"
	"\n"
	"Exit codes: 0 signed, 1 bad arguments, 2 a share file or the zone refused,\n"
	"            3 no valid signature could be made (e.g. more than f replicas\n"
	"            corrupted), 4 the signed zone could not be written.\n",
	DEFAULT_LIFETIME, DEFAULT_DNSKEY_TTL);
}

__attribute__((format(printf, 2, 3)))
static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROGRAM ": error: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return code;
}

/* "YYYYMMDDHHMMSS" in UTC, or seconds since the epoch; RRSIG times are
 * 32-bit, so later than 2106 is refused. */
static bool parse_time(const char *text, uint64_t *out)
{
	uint64_t value = 0;
	if (strlen(text) == 14 && keys_parse_decimal(text, UINT64_MAX / 10, &value)) {
		struct tm tm = { 0 };
		if (sscanf(text, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		           &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6 ||
		    tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
		    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
			return false;
		}
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		time_t seconds = timegm(&tm);
		if (seconds < 0) {
			return false;
		}
		value = (uint64_t)seconds;
	} else if (strlen(text) > 10 || !keys_parse_decimal(text, UINT32_MAX, &value)) {
		return false;
	}
	if (value == 0 || value > UINT32_MAX) {
		return false;
	}
	*out = value;
	return true;
}

static int opt_time(const char *option, const char *text, uint64_t *out, bool *have)
{
	if (!parse_time(text, out)) {
		return fail(EXIT_USAGE, "%s takes YYYYMMDDHHMMSS (UTC) or seconds since the epoch "
		            "(1970..2106), not '%s'", option, text);
	}
	*have = true;
	return EXIT_SIGNED;
}

static int opt_number(const char *option, const char *text, uint64_t max, uint64_t *out)
{
	if (!keys_parse_decimal(text, max, out)) {
		return fail(EXIT_USAGE, "%s takes a whole number up to %llu, not '%s'", option,
		            (unsigned long long)max, text);
	}
	return EXIT_SIGNED;
}

static int opt_salt(signzone_params_t *params, const char *text)
{
	size_t len = strlen(text);
	if (strcmp(text, "-") == 0) {
		params->nsec3_salt_len = 0;
		return EXIT_SIGNED;
	}
	if (len == 0 || len % 2 != 0 || len > 2 * sizeof(params->nsec3_salt) ||
	    strspn(text, "0123456789abcdefABCDEF") != len) {
		return fail(EXIT_USAGE, "--nsec3-salt takes an even number of hex digits (at most "
		            "510) or '-', not '%s'", text);
	}
	for (size_t i = 0; i < len / 2; i++) {
		unsigned byte = 0;
		sscanf(text + 2 * i, "%2x", &byte);
		params->nsec3_salt[i] = (uint8_t)byte;
	}
	params->nsec3_salt_len = (uint8_t)(len / 2);
	return EXIT_SIGNED;
}

static int opt_set(options_t *opt, int c, const char *arg)
{
	uint64_t value = 0;
	int ret = EXIT_SIGNED;
	switch (c) {
	case 'o': opt->out = arg; break;
	case 'p':
		if (shoup_strategy_parse(arg, &opt->strategy) != SHOUP_EOK) {
			return fail(EXIT_USAGE, "unknown protocol '%s' (basic, optproof or optte)", arg);
		}
		break;
	case 'c':
		if (opt->corrupt_count == SHOUP_PLAYERS_MAX) {
			return fail(EXIT_USAGE, "too many --corrupt options");
		}
		opt->corrupt[opt->corrupt_count++] = arg;
		break;
	case 's': return opt_time("--inception", arg, &opt->inception, &opt->have_inception);
	case 'e': return opt_time("--expiration", arg, &opt->expiration, &opt->have_expiration);
	case 'n': return opt_time("--now", arg, &opt->now, &opt->have_now);
	case 'l': return opt_number("--lifetime", arg, UINT32_MAX, &opt->lifetime);
	case '3': opt->params.nsec3 = true; break;
	case 'S': return opt_salt(&opt->params, arg);
	case 'I':
		ret = opt_number("--nsec3-iterations", arg, UINT16_MAX, &value);
		opt->params.nsec3_iterations = (uint16_t)value;
		break;
	case 't':
		ret = opt_number("--dnskey-ttl", arg, INT32_MAX, &value);
		opt->params.dnskey_ttl = (uint32_t)value;
		break;
	case 'q': opt->quiet = true; break;
	default: return EXIT_USAGE;
	}
	return ret;
}

/* The RRSIG validity period from --inception/--expiration or --now. */
static int opt_times(options_t *opt)
{
	if (opt->have_inception != opt->have_expiration) {
		return fail(EXIT_USAGE, "--inception and --expiration go together");
	}
	if (opt->have_inception && opt->have_now) {
		return fail(EXIT_USAGE, "give either --inception and --expiration, or --now");
	}
	if (!opt->have_inception) {
		uint64_t now = opt->have_now ? opt->now : (uint64_t)time(NULL);
		if (now <= HOUR || now + opt->lifetime > UINT32_MAX) {
			return fail(EXIT_USAGE, "--now and --lifetime give times outside 1970..2106");
		}
		opt->inception = now - HOUR;
		opt->expiration = now + opt->lifetime;
	}
	if (opt->expiration <= opt->inception) {
		return fail(EXIT_USAGE, "the expiration must be later than the inception");
	}
	opt->params.inception = (uint32_t)opt->inception;
	opt->params.expiration = (uint32_t)opt->expiration;
	return EXIT_SIGNED;
}

static int opt_parse(int argc, char **argv, options_t *opt)
{
	static const struct option longs[] = {
		{ "out",              required_argument, NULL, 'o' },
		{ "protocol",         required_argument, NULL, 'p' },
		{ "corrupt",          required_argument, NULL, 'c' },
		{ "inception",        required_argument, NULL, 's' },
		{ "expiration",       required_argument, NULL, 'e' },
		{ "now",              required_argument, NULL, 'n' },
		{ "lifetime",         required_argument, NULL, 'l' },
		{ "nsec3",            no_argument,       NULL, '3' },
		{ "nsec3-salt",       required_argument, NULL, 'S' },
		{ "nsec3-iterations", required_argument, NULL, 'I' },
		{ "dnskey-ttl",       required_argument, NULL, 't' },
		{ "quiet",            no_argument,       NULL, 'q' },
		{ "help",             no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	memset(opt, 0, sizeof(*opt));
	opt->strategy = SHOUP_STRATEGY_OPTTE;
	opt->lifetime = DEFAULT_LIFETIME;
	opt->params.dnskey_ttl = DEFAULT_DNSKEY_TTL;

	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:p:c:s:e:n:l:3t:qh", longs, NULL)) != -1) {
		if (c == 'h') {
			usage_print(stdout);
			exit(EXIT_SIGNED);
		}
		if (c == '?' || c == ':') {
			fail(EXIT_USAGE, c == ':' ? "option %s needs a value" : "unknown option %s",
			     argv[optind - 1]);
			fprintf(stderr, "Try '" PROGRAM " --help'.\n");
			return EXIT_USAGE;
		}
		int ret = opt_set(opt, c, optarg);
		if (ret != EXIT_SIGNED) {
			return ret;
		}
	}
	if (argc - optind < 2) {
		return fail(EXIT_USAGE, "give the zone file and at least one key share file "
		            "(see --help)");
	}
	opt->zone_file = argv[optind];
	opt->share_files = argv + optind + 1;
	opt->share_count = (unsigned)(argc - optind - 1);
	return opt_times(opt);
}

static int load_replicas(const options_t *opt, replicas_t *replicas)
{
	keys_err_t err;
	for (unsigned i = 0; i < opt->share_count; i++) {
		if (replicas_add_file(replicas, opt->share_files[i], &err) != KEYS_EOK) {
			return fail(EXIT_INPUT, "%s", err.text);
		}
	}
	const keys_public_t *key = replicas_key(replicas);
	if (replicas->count < key->key.f + 1) {
		return fail(EXIT_INPUT, "%u share file%s given, but any signature needs f + 1 = %u "
		            "replicas", replicas->count, replicas->count == 1 ? "" : "s",
		            key->key.f + 1);
	}
	for (unsigned i = 0; i < opt->corrupt_count; i++) {
		if (replicas_corrupt(replicas, opt->corrupt[i], &err) != KEYS_EOK) {
			return fail(EXIT_USAGE, "%s", err.text);
		}
	}
	return EXIT_SIGNED;
}

/* Algorithm 7 announces NSEC3 (RFC 5155 section 2); algorithm 5 must not
 * be used with it, so that old validators do not misread the zone. */
static int check_denial(const options_t *opt, const keys_public_t *key)
{
	if (key->alg->number == BFTDNS_ALG_RSASHA1_NSEC3_SHA1 && !opt->params.nsec3) {
		return fail(EXIT_USAGE, "algorithm 7 (RSASHA1-NSEC3-SHA1) is for NSEC3 zones: add "
		            "--nsec3");
	}
	if (key->alg->number == BFTDNS_ALG_RSASHA1 && opt->params.nsec3) {
		return fail(EXIT_USAGE, "NSEC3 zones cannot use algorithm 5 (RSASHA1); make the key "
		            "with algorithm 7 (RSASHA1-NSEC3-SHA1) or a SHA-2 one");
	}
	return EXIT_SIGNED;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void report(const options_t *opt, const replicas_t *replicas, const signzone_t *sz,
                   const char *out, double seconds)
{
	const keys_public_t *key = replicas_key(replicas);
	char blamed[160] = "";
	size_t used = 0;
	for (unsigned id = 1; id <= key->key.n && used < sizeof(blamed); id++) {
		if (replicas->blamed & (UINT32_C(1) << (id - 1))) {
			used += (size_t)snprintf(blamed + used, sizeof(blamed) - used, " %u", id);
		}
	}
	fprintf(stderr, PROGRAM ": signed %s (%s, %u bits, key tag %u) with %u of %u replicas, "
	        "protocol %s\n", key->zone, key->alg->mnemonic, key->key.bits, key->key_tag,
	        replicas->count, key->key.n, shoup_strategy_name(replicas->strategy));
	fprintf(stderr, PROGRAM ": %u RRsets signed, %llu shares made (%llu with proofs), %llu "
	        "combinations tried, replicas found faulty:%s\n", sz->rrsets_signed,
	        (unsigned long long)replicas->shares_made, (unsigned long long)replicas->proofs_made,
	        (unsigned long long)replicas->combine_attempts, used > 0 ? blamed : " none");
	fprintf(stderr, PROGRAM ": %.2f s, %.2f ms per RRSIG; wrote %s\n", seconds,
	        sz->rrsets_signed > 0 ? seconds * 1e3 / sz->rrsets_signed : 0.0, out);
	(void)opt;
}

static int sign_zone(const options_t *opt, replicas_t *replicas, const char *out)
{
	keys_err_t err;
	signzone_t sz;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int ret = signzone_load(&sz, opt->zone_file, replicas_key(replicas), &opt->params, &err);
	if (ret != KEYS_EOK) {
		signzone_free(&sz);
		return fail(EXIT_INPUT, "%s", err.text);
	}
	int code = EXIT_SIGNED;
	if (signzone_sign(&sz, replicas, &err) != KEYS_EOK) {
		code = fail(EXIT_SIGNING, "%s; nothing was written", err.text);
	} else if (signzone_write(&sz, out, &err) != KEYS_EOK) {
		code = fail(EXIT_WRITE, "%s", err.text);
	} else if (!opt->quiet) {
		report(opt, replicas, &sz, out, seconds_since(&start));
	}
	signzone_free(&sz);
	return code;
}

int main(int argc, char **argv)
{
	options_t opt;
	int ret = opt_parse(argc, argv, &opt);
	if (ret != EXIT_SIGNED) {
		return ret;
	}
	char *default_out = NULL;
	const char *out = opt.out;
	if (out == NULL) {
		if (asprintf(&default_out, "%s.signed", opt.zone_file) < 0) {
			return fail(EXIT_WRITE, "out of memory");
		}
		out = default_out;
	}
	replicas_t *replicas = malloc(sizeof(*replicas));
	if (replicas == NULL) {
		free(default_out);
		return fail(EXIT_INPUT, "out of memory");
	}
	replicas_init(replicas, opt.strategy);
	ret = load_replicas(&opt, replicas);
	if (ret == EXIT_SIGNED) {
		ret = check_denial(&opt, replicas_key(replicas));
	}
	if (ret == EXIT_SIGNED) {
		ret = sign_zone(&opt, replicas, out);
	}
	replicas_clear(replicas);
	free(replicas);
	free(default_out);
	return ret;
}
