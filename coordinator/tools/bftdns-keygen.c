/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-keygen: the trusted dealer. Makes a threshold RSA zone key (or
 * splits an existing one from a BIND private key file) for n replicas of
 * which f may fail, and writes one key share file per replica, the public
 * key, the DNSKEY record and the DS record for the parent.
 *
 * The output directory is laid out so that more per-replica material can be
 * added later (TLS link keys are planned as link-<i>.* next to share-<i>.key).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/crypto/shoup.h"
#include "coordinator/keys/bind_import.h"
#include "coordinator/keys/dnskey.h"
#include "coordinator/keys/file.h"
#include "coordinator/keys/keyfile.h"
#include "coordinator/keys/number.h"

#define PROGRAM "bftdns-keygen"

/* Exit codes (also in the --help text and doc/keys.md). */
enum {
	EXIT_OK       = 0,
	EXIT_USAGE    = 1,   /* Bad or missing arguments. */
	EXIT_OUTDIR   = 2,   /* The output directory cannot be used. */
	EXIT_IMPORT   = 3,   /* The key to import was refused. */
	EXIT_MAKE     = 4,   /* Key generation or writing failed. */
};

#define DEFAULT_BITS	2048
#define DEFAULT_TTL	3600
#define PATH_LEN	4096

typedef struct {
	char zone[KEYS_DNAME_TEXT_MAX];
	unsigned replicas;
	unsigned faults;
	unsigned bits;
	bool bits_given;
	const bftdns_alg_t *alg;
	bool alg_given;
	uint32_t ttl;
	const char *out;
	const char *import;
	bool force;
} options_t;

static void usage_print(FILE *out)
{
	fprintf(out,
	"Usage: " PROGRAM " --zone NAME --replicas N --faults F --out DIR [options]\n"
	"\n"
	"Makes a threshold RSA key for a zone served by N replicas, any F of which may\n"
	"fail or be compromised (N >= 3F + 1): any F + 1 replicas can sign, F learn nothing.\n"
	"\n"
	"Options:\n"
	"  -z, --zone NAME        zone the key signs (e.g. example.com.)\n"
	"  -n, --replicas N       number of replicas, 1..%d\n"
	"  -f, --faults F         faults tolerated, N >= 3F + 1\n"
	"  -o, --out DIR          output directory (created if missing, must be empty)\n"
	"  -b, --bits B           modulus size: 1024, 2048, 3072 or 4096 (default %d)\n"
	"  -a, --algorithm ALG    rsasha1 (5), rsasha1-nsec3-sha1 (7), rsasha256 (8),\n"
	"                         rsasha512 (10); name, mnemonic or number (default rsasha256)\n"
	"  -t, --ttl SECONDS      TTL of the DNSKEY and DS lines written (default %d)\n"
	"  -i, --import FILE      split an existing key from a BIND private key file\n"
	"                         (Private-key-format v1.x) instead of making a new one;\n"
	"                         its primes must be safe primes (see doc/keys.md)\n"
	"      --force            write into a non-empty DIR, replacing the key files\n"
	"  -h, --help             this text\n"
	"\n"
	"Writes into DIR:\n"
	"  share-<i>.key          key share of replica i (secret, mode 0600; give it to replica i only)\n"
	"  public.key             the public key and verification keys (bftdns-key-public v1)\n"
	"  <zone>.dnskey          the DNSKEY record (flags 257) to publish in the zone\n"
	"  <zone>.ds              the DS record (SHA-256) for the parent zone\n"
	"(<zone> is the name without its trailing dot; 'root' for the root zone.)\n"
	"\n"
	"Exit codes: 0 success, 1 bad arguments, 2 output directory unusable,\n"
	"            3 key to import refused, 4 key generation or writing failed.\n",
	SHOUP_PLAYERS_MAX, DEFAULT_BITS, DEFAULT_TTL);
}

/* Prints "bftdns-keygen: error: ..." and returns the exit code given. */
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

static int opt_number(const char *option, const char *text, uint64_t max, uint64_t *out)
{
	if (!keys_parse_decimal(text, max, out)) {
		return fail(EXIT_USAGE, "%s takes a whole number up to %llu, not '%s'", option,
		            (unsigned long long)max, text);
	}
	return EXIT_OK;
}

static int opt_set(options_t *opt, int c, const char *arg)
{
	uint64_t value = 0;
	int ret = EXIT_OK;
	keys_err_t err;
	switch (c) {
	case 'z':
		if (keys_dname_normalize(arg, opt->zone, &err) != KEYS_EOK) {
			return fail(EXIT_USAGE, "--zone: %s", err.text);
		}
		break;
	case 'n':
		ret = opt_number("--replicas", arg, UINT32_MAX, &value);
		opt->replicas = (unsigned)value;
		break;
	case 'f':
		ret = opt_number("--faults", arg, UINT32_MAX, &value);
		opt->faults = (unsigned)value;
		break;
	case 'b':
		ret = opt_number("--bits", arg, UINT32_MAX, &value);
		opt->bits = (unsigned)value;
		opt->bits_given = true;
		break;
	case 't':
		ret = opt_number("--ttl", arg, INT32_MAX, &value);
		opt->ttl = (uint32_t)value;
		break;
	case 'a':
		opt->alg = bftdns_alg_by_name(arg);
		opt->alg_given = true;
		if (opt->alg == NULL) {
			return fail(EXIT_USAGE, "unknown algorithm '%s' (use rsasha1, rsasha1-nsec3-sha1, "
			            "rsasha256 or rsasha512)", arg);
		}
		break;
	case 'o': opt->out = arg; break;
	case 'i': opt->import = arg; break;
	case 'F': opt->force = true; break;
	default:
		return EXIT_USAGE;
	}
	return ret;
}

/* Cross-checks once every option is known. */
static int opt_check(const options_t *opt)
{
	if (opt->zone[0] == '\0') {
		return fail(EXIT_USAGE, "missing --zone (the zone the key signs)");
	}
	if (opt->out == NULL || opt->out[0] == '\0') {
		return fail(EXIT_USAGE, "missing --out (the directory to write the key files to)");
	}
	if (opt->replicas == 0) {
		return fail(EXIT_USAGE, "missing --replicas (1..%d)", SHOUP_PLAYERS_MAX);
	}
	if (opt->replicas > SHOUP_PLAYERS_MAX) {
		return fail(EXIT_USAGE, "--replicas %u is more than the %d replicas bftdns supports",
		            opt->replicas, SHOUP_PLAYERS_MAX);
	}
	if (opt->replicas < 3 * (uint64_t)opt->faults + 1) {
		return fail(EXIT_USAGE, "%u replicas cannot tolerate %u faults: n must be at least "
		            "3f + 1 = %llu", opt->replicas, opt->faults,
		            3 * (unsigned long long)opt->faults + 1);
	}
	if (opt->bits != 1024 && opt->bits != 2048 && opt->bits != 3072 && opt->bits != 4096) {
		return fail(EXIT_USAGE, "--bits must be 1024, 2048, 3072 or 4096, not %u", opt->bits);
	}
	return EXIT_OK;
}

static int opt_parse(int argc, char **argv, options_t *opt)
{
	static const struct option longs[] = {
		{ "zone",      required_argument, NULL, 'z' },
		{ "replicas",  required_argument, NULL, 'n' },
		{ "faults",    required_argument, NULL, 'f' },
		{ "bits",      required_argument, NULL, 'b' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "ttl",       required_argument, NULL, 't' },
		{ "out",       required_argument, NULL, 'o' },
		{ "import",    required_argument, NULL, 'i' },
		{ "force",     no_argument,       NULL, 'F' },
		{ "help",      no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	memset(opt, 0, sizeof(*opt));
	opt->bits = DEFAULT_BITS;
	opt->ttl = DEFAULT_TTL;
	opt->alg = bftdns_alg_by_number(BFTDNS_ALG_RSASHA256);

	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":z:n:f:b:a:t:o:i:h", longs, NULL)) != -1) {
		if (c == 'h') {
			usage_print(stdout);
			exit(EXIT_OK);
		}
		if (c == '?' || c == ':') {
			fail(EXIT_USAGE, c == ':' ? "option %s needs a value" : "unknown option %s",
			     argv[optind - 1]);
			fprintf(stderr, "Try '" PROGRAM " --help'.\n");
			return EXIT_USAGE;
		}
		int ret = opt_set(opt, c, optarg);
		if (ret != EXIT_OK) {
			return ret;
		}
	}
	if (optind < argc) {
		return fail(EXIT_USAGE, "unexpected argument '%s' (every input is an option; "
		            "see --help)", argv[optind]);
	}
	return opt_check(opt);
}

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

static int outdir_check_empty(const char *dir)
{
	DIR *handle = opendir(dir);
	if (handle == NULL) {
		return fail(EXIT_OUTDIR, "cannot read directory %s: %s", dir, strerror(errno));
	}
	bool empty = true;
	struct dirent *entry;
	while (empty && (entry = readdir(handle)) != NULL) {
		empty = strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0;
	}
	closedir(handle);
	if (!empty) {
		return fail(EXIT_OUTDIR, "%s is not empty; use --force to write the key files into "
		            "it anyway (replacing those of an older key)", dir);
	}
	return EXIT_OK;
}

/* Creating and removing a file tells "writable" better than access(2),
 * which ignores read-only mounts and is not what root is subject to. */
static int outdir_check_writable(const char *dir)
{
	char probe[PATH_LEN];
	snprintf(probe, sizeof(probe), "%s/.%s-probe.%ld", dir, PROGRAM, (long)getpid());
	int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		return fail(EXIT_OUTDIR, "cannot write to directory %s: %s", dir, strerror(errno));
	}
	close(fd);
	unlink(probe);
	return EXIT_OK;
}

static int outdir_prepare(const options_t *opt, bool *created)
{
	*created = false;
	if (strlen(opt->out) > PATH_LEN - 128) {
		return fail(EXIT_OUTDIR, "the path %s is too long", opt->out);
	}
	struct stat st;
	if (stat(opt->out, &st) != 0) {
		if (errno != ENOENT || mkdir(opt->out, 0700) != 0) {
			return fail(EXIT_OUTDIR, "cannot create directory %s: %s", opt->out,
			            strerror(errno));
		}
		*created = true;
	} else if (!S_ISDIR(st.st_mode)) {
		return fail(EXIT_OUTDIR, "%s exists and is not a directory", opt->out);
	} else if (!opt->force) {
		int ret = outdir_check_empty(opt->out);
		if (ret != EXIT_OK) {
			return ret;
		}
	}
	return outdir_check_writable(opt->out);
}

static int keygen_import(const options_t *opt, keys_public_t *pub, shoup_secret_t *secrets)
{
	keys_err_t err;
	const bftdns_alg_t *alg = NULL;
	fprintf(stderr, PROGRAM ": importing the key in %s\n", opt->import);
	int ret = keys_bind_import(opt->import, opt->replicas, opt->faults, shoup_random_system,
	                           NULL, &alg, &pub->key, secrets, &err);
	if (ret != KEYS_EOK) {
		return fail(ret == KEYS_ECRYPTO ? EXIT_MAKE : EXIT_IMPORT, "%s", err.text);
	}
	if (opt->alg_given && alg != opt->alg) {
		return fail(EXIT_IMPORT, "%s holds an %s key, but --algorithm says %s", opt->import,
		            alg->mnemonic, opt->alg->mnemonic);
	}
	if (opt->bits_given && pub->key.bits != opt->bits) {
		return fail(EXIT_IMPORT, "%s holds a %u-bit key, but --bits says %u", opt->import,
		            pub->key.bits, opt->bits);
	}
	ret = keys_public_finish(pub, opt->zone, alg, &err);
	if (ret != KEYS_EOK) {
		return fail(EXIT_MAKE, "%s", err.text);
	}
	return EXIT_OK;
}

static int keygen_make(const options_t *opt, keys_public_t *pub, shoup_secret_t *secrets)
{
	progress_t progress;
	progress_start(&progress, opt->bits);
	int ret = shoup_deal(opt->bits, opt->replicas, opt->faults, shoup_random_system, NULL,
	                     progress_report, &progress, &pub->key, secrets);
	progress_end(&progress);
	if (ret != SHOUP_EOK) {
		return fail(EXIT_MAKE, "making the key failed: %s", shoup_strerror(ret));
	}
	keys_err_t err;
	if (keys_public_finish(pub, opt->zone, opt->alg, &err) != KEYS_EOK) {
		return fail(EXIT_MAKE, "%s", err.text);
	}
	return EXIT_OK;
}

static void path_join(char *out, const char *dir, const char *name)
{
	snprintf(out, PATH_LEN, "%s/%s", dir, name);
}

/* "<zone>" in file names: the name without its trailing dot. */
static void zone_file_stem(const char *zone, char *out, size_t size)
{
	if (strcmp(zone, ".") == 0) {
		snprintf(out, size, "root");
		return;
	}
	size_t len = strlen(zone);
	snprintf(out, size, "%.*s", (int)(len - 1), zone);
}

/* With --force, share files of an older key with more replicas would be
 * left next to the new ones and look valid to an operator: remove them. */
static int outdir_remove_stale(const options_t *opt)
{
	for (unsigned i = opt->replicas + 1; i <= SHOUP_PLAYERS_MAX; i++) {
		char name[32], path[PATH_LEN];
		snprintf(name, sizeof(name), "share-%u.key", i);
		path_join(path, opt->out, name);
		if (unlink(path) == 0) {
			fprintf(stderr, PROGRAM ": removed %s of an older key\n", path);
		} else if (errno != ENOENT) {
			return fail(EXIT_MAKE, "cannot remove %s of an older key: %s", path,
			            strerror(errno));
		}
	}
	return EXIT_OK;
}

static int write_shares(const options_t *opt, const keys_public_t *pub,
                        const shoup_secret_t *secrets)
{
	for (unsigned i = 0; i < opt->replicas; i++) {
		char name[32], path[PATH_LEN];
		snprintf(name, sizeof(name), "share-%u.key", secrets[i].id);
		path_join(path, opt->out, name);
		keys_err_t err;
		if (keys_share_write(path, pub, &secrets[i], opt->force, &err) != KEYS_EOK) {
			return fail(EXIT_MAKE, "%s", err.text);
		}
	}
	return EXIT_OK;
}

static int write_line(const options_t *opt, const char *name, const char *line)
{
	char path[PATH_LEN];
	path_join(path, opt->out, name);
	keys_err_t err;
	if (keys_file_write(path, line, strlen(line), 0644, opt->force, &err) != KEYS_EOK) {
		return fail(EXIT_MAKE, "%s", err.text);
	}
	return EXIT_OK;
}

static int write_records(const options_t *opt, const keys_public_t *pub)
{
	char path[PATH_LEN];
	keys_err_t err;
	path_join(path, opt->out, "public.key");
	if (keys_public_write(path, pub, opt->force, &err) != KEYS_EOK) {
		return fail(EXIT_MAKE, "%s", err.text);
	}

	uint8_t rdata[KEYS_DNSKEY_RDATA_MAX];
	size_t len = 0;
	int ret = keys_dnskey_rdata(pub->key.modulus, pub->key.exponent, KEYS_DNSKEY_FLAGS_KSK,
	                            pub->alg->number, rdata, sizeof(rdata), &len);
	static char line[KEYS_RR_LINE_MAX];
	char stem[KEYS_DNAME_TEXT_MAX], name[KEYS_DNAME_TEXT_MAX + 16];
	zone_file_stem(pub->zone, stem, sizeof(stem));
	if (ret != KEYS_EOK ||
	    keys_dnskey_line(pub->zone, opt->ttl, rdata, len, line, sizeof(line), &err) != KEYS_EOK) {
		return fail(EXIT_MAKE, "cannot make the DNSKEY record");
	}
	snprintf(name, sizeof(name), "%s.dnskey", stem);
	ret = write_line(opt, name, line);
	if (ret != EXIT_OK) {
		return ret;
	}
	if (keys_ds_line(pub->zone, opt->ttl, rdata, len, line, sizeof(line), &err) != KEYS_EOK) {
		return fail(EXIT_MAKE, "cannot make the DS record: %s", err.text);
	}
	snprintf(name, sizeof(name), "%s.ds", stem);
	return write_line(opt, name, line);
}

static void print_summary(const options_t *opt, const keys_public_t *pub)
{
	char stem[KEYS_DNAME_TEXT_MAX];
	zone_file_stem(pub->zone, stem, sizeof(stem));
	printf("zone key of %s: %s, %u bits, key tag %u, %u replicas, any %u sign, %u may fail\n",
	       pub->zone, pub->alg->mnemonic, pub->key.bits, pub->key_tag, pub->key.n,
	       pub->key.f + 1, pub->key.f);
	printf("  %s/share-1.key .. share-%u.key  key shares (secret: give share-<i>.key to "
	       "replica i only)\n", opt->out, pub->key.n);
	printf("  %s/public.key  public key for tools that verify\n", opt->out);
	printf("  %s/%s.dnskey  DNSKEY record for the zone\n", opt->out, stem);
	printf("  %s/%s.ds  DS record for the parent zone\n", opt->out, stem);
}

static int keygen_run(const options_t *opt)
{
	bool created = false;
	int ret = outdir_prepare(opt, &created);
	if (ret != EXIT_OK) {
		if (created) {
			rmdir(opt->out);
		}
		return ret;
	}
	keys_public_t pub;
	shoup_secret_t secrets[SHOUP_PLAYERS_MAX];
	keys_public_init(&pub);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_secret_init(&secrets[i]);
	}

	ret = opt->import != NULL ? keygen_import(opt, &pub, secrets) : keygen_make(opt, &pub, secrets);
	if (ret == EXIT_OK && opt->force) {
		ret = outdir_remove_stale(opt);
	}
	if (ret == EXIT_OK) {
		ret = write_shares(opt, &pub, secrets);
	}
	if (ret == EXIT_OK) {
		ret = write_records(opt, &pub);
	}
	if (ret == EXIT_OK) {
		print_summary(opt, &pub);
	}

	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_secret_clear(&secrets[i]);
	}
	keys_public_clear(&pub);
	/* A directory made for a key that could not be made goes again (rmdir
	 * only removes it if nothing was written). */
	if (ret != EXIT_OK && created) {
		rmdir(opt->out);
	}
	return ret;
}

int main(int argc, char **argv)
{
	options_t opt;
	int ret = opt_parse(argc, argv, &opt);
	if (ret != EXIT_OK) {
		return ret;
	}
	return keygen_run(&opt);
}
