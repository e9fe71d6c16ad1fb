/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-keygen: the trusted dealer. Makes everything n replicas (f of which
 * may fail) need: a threshold RSA zone key (or splits an existing one from a
 * BIND private key file), a TLS link key per replica and the list of their
 * pins, a threshold coin key for the atomic broadcast, and, once the
 * replicas' addresses are known, each replica's mod-bftdns section of
 * knot.conf. One directory per replica holds what that replica needs
 * (keygen.h has the layout, doc/keys.md the details).
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/keys/number.h"
#include "coordinator/tools/keygen.h"

#define DEFAULT_BITS	2048
#define DEFAULT_TTL	3600

static void usage_print(FILE *out)
{
	fprintf(out,
	"Usage: " PROGRAM " --zone NAME --replicas N --faults F --out DIR [options]\n"
	"\n"
	"Makes the keys of a zone served by N replicas, any F of which may fail or be\n"
	"compromised (N >= 3F + 1): a threshold RSA zone key (any F + 1 replicas sign,\n"
	"F learn nothing), a TLS link key per replica and a threshold coin key.\n"
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
	"  -p, --peer ID=ADDRESS  where replica ID listens for its peers: IPV4:PORT,\n"
	"                         [IPV6]:PORT or ADDRESS@PORT; give it for every replica\n"
	"                         to get peers.txt and the knot.conf fragments\n"
	"      --install-dir PATH\n"
	"                         where replica-<i>/'s files will be on replica i's machine,\n"
	"                         named in its knot.conf fragment (default " KEYGEN_INSTALL_DIR ")\n"
	"      --force            write into a non-empty DIR, replacing the key files\n"
	"  -h, --help             this text\n"
	"\n"
	"Writes into DIR (secrets mode 0600, the rest 0644):\n"
	"  replica-<i>/           all that replica i needs; copy it to replica i only:\n"
	"    share-<i>.key        its zone key share (secret)\n"
	"    link-<i>.key         its TLS link key (secret)\n"
	"    coin-<i>.key         its coin key share (secret)\n"
	"    public.key, coin-public.key, pins.txt, and with every --peer: peers.txt and\n"
	"    " KEYGEN_FRAGMENT "      its mod-bftdns section of knot.conf (also for N = 1)\n"
	"  share-<i>.key          the zone key shares again (for bftdns-signzone)\n"
	"  public.key             the public zone key and verification keys\n"
	"  coin-public.key        the public coin key\n"
	"  pins.txt               'ID PIN' for every replica's link key\n"
	"  peers.txt              'ID ADDRESS@PORT PIN' for every replica (with --peer)\n"
	"  <zone>.dnskey          the DNSKEY record (flags 257) to publish in the zone\n"
	"  <zone>.ds              the DS record (SHA-256) for the parent zone\n"
	"(<zone> is the name without its trailing dot; 'root' for the root zone.)\n"
	"\n"
	"Exit codes: 0 success, 1 bad arguments, 2 output directory unusable,\n"
	"            3 key to import refused, 4 key generation or writing failed.\n",
	SHOUP_PLAYERS_MAX, DEFAULT_BITS, DEFAULT_TTL);
}

static int opt_number(const char *option, const char *text, uint64_t max, uint64_t *out)
{
	if (!keys_parse_decimal(text, max, out)) {
		return keygen_fail(EXIT_USAGE, "%s takes a whole number up to %llu, not '%s'",
		                   option, (unsigned long long)max, text);
	}
	return EXIT_OK;
}

static int opt_set(keygen_opt_t *opt, int c, const char *arg)
{
	uint64_t value = 0;
	int ret = EXIT_OK;
	keys_err_t err;
	switch (c) {
	case 'z':
		if (keys_dname_normalize(arg, opt->zone, &err) != KEYS_EOK) {
			return keygen_fail(EXIT_USAGE, "--zone: %s", err.text);
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
			return keygen_fail(EXIT_USAGE, "unknown algorithm '%s' (use rsasha1, "
			                   "rsasha1-nsec3-sha1, rsasha256 or rsasha512)", arg);
		}
		break;
	case 'p': return keygen_peer_parse(opt, arg);
	case 'I': opt->install_dir = arg; break;
	case 'o': opt->out = arg; break;
	case 'i': opt->import = arg; break;
	case 'F': opt->force = true; break;
	default:
		return EXIT_USAGE;
	}
	return ret;
}

/* Cross-checks once every option is known. */
static int opt_check(const keygen_opt_t *opt)
{
	if (opt->zone[0] == '\0') {
		return keygen_fail(EXIT_USAGE, "missing --zone (the zone the key signs)");
	}
	if (opt->out == NULL || opt->out[0] == '\0') {
		return keygen_fail(EXIT_USAGE, "missing --out (the directory to write the key "
		                   "files to)");
	}
	if (opt->replicas == 0) {
		return keygen_fail(EXIT_USAGE, "missing --replicas (1..%d)", SHOUP_PLAYERS_MAX);
	}
	if (opt->replicas > SHOUP_PLAYERS_MAX) {
		return keygen_fail(EXIT_USAGE, "--replicas %u is more than the %d replicas bftdns "
		                   "supports", opt->replicas, SHOUP_PLAYERS_MAX);
	}
	if (opt->replicas < 3 * (uint64_t)opt->faults + 1) {
		return keygen_fail(EXIT_USAGE, "%u replicas cannot tolerate %u faults: n must be "
		                   "at least 3f + 1 = %llu", opt->replicas, opt->faults,
		                   3 * (unsigned long long)opt->faults + 1);
	}
	if (opt->bits != 1024 && opt->bits != 2048 && opt->bits != 3072 && opt->bits != 4096) {
		return keygen_fail(EXIT_USAGE, "--bits must be 1024, 2048, 3072 or 4096, not %u",
		                   opt->bits);
	}
	return keygen_peer_check(opt);
}

static int opt_parse(int argc, char **argv, keygen_opt_t *opt)
{
	static const struct option longs[] = {
		{ "zone",        required_argument, NULL, 'z' },
		{ "replicas",    required_argument, NULL, 'n' },
		{ "faults",      required_argument, NULL, 'f' },
		{ "bits",        required_argument, NULL, 'b' },
		{ "algorithm",   required_argument, NULL, 'a' },
		{ "ttl",         required_argument, NULL, 't' },
		{ "out",         required_argument, NULL, 'o' },
		{ "import",      required_argument, NULL, 'i' },
		{ "peer",        required_argument, NULL, 'p' },
		{ "install-dir", required_argument, NULL, 'I' },
		{ "force",       no_argument,       NULL, 'F' },
		{ "help",        no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	memset(opt, 0, sizeof(*opt));
	opt->bits = DEFAULT_BITS;
	opt->ttl = DEFAULT_TTL;
	opt->alg = bftdns_alg_by_number(BFTDNS_ALG_RSASHA256);

	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":z:n:f:b:a:t:o:i:p:h", longs, NULL)) != -1) {
		if (c == 'h') {
			usage_print(stdout);
			exit(EXIT_OK);
		}
		if (c == '?' || c == ':') {
			keygen_fail(EXIT_USAGE, c == ':' ? "option %s needs a value" : "unknown option %s",
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
		return keygen_fail(EXIT_USAGE, "unexpected argument '%s' (every input is an option; "
		                   "see --help)", argv[optind]);
	}
	return opt_check(opt);
}

static void print_summary(const keygen_opt_t *opt, const keys_public_t *pub)
{
	char stem[KEYS_DNAME_TEXT_MAX];
	unsigned n = pub->key.n;
	keygen_zone_stem(pub->zone, stem, sizeof(stem));
	printf("zone key of %s: %s, %u bits, key tag %u, %u replicas, any %u sign, %u may fail\n",
	       pub->zone, pub->alg->mnemonic, pub->key.bits, pub->key_tag, n, pub->key.f + 1,
	       pub->key.f);
	printf("  %s/replica-1/ .. replica-%u/  one directory per replica: copy replica-<i>/ "
	       "to replica i only\n", opt->out, n);
	printf("      share-<i>.key, link-<i>.key, coin-<i>.key (secret), public.key, "
	       "coin-public.key, pins.txt%s\n",
	       keygen_with_fragment(opt) ? (keygen_with_peers(opt) ?
	       ", peers.txt, " KEYGEN_FRAGMENT : ", " KEYGEN_FRAGMENT) : "");
	printf("  %s/share-1.key .. share-%u.key  the key shares again, for bftdns-signzone "
	       "(secret)\n", opt->out, n);
	printf("  %s/public.key  public key for tools that verify\n", opt->out);
	printf("  %s/coin-public.key  public coin key\n", opt->out);
	printf("  %s/pins.txt  link key pins of all replicas%s\n", opt->out,
	       keygen_with_peers(opt) ? " (with addresses: peers.txt)" : "");
	printf("  %s/%s.dnskey  DNSKEY record for the zone\n", opt->out, stem);
	printf("  %s/%s.ds  DS record for the parent zone\n", opt->out, stem);
	if (!keygen_with_fragment(opt)) {
		printf("no knot.conf fragments: give --peer ID=ADDRESS:PORT for every replica to "
		       "get them\n");
	}
}

/* Every secret and every file, in an order where the slow search comes
 * before anything is written. */
static int keygen_write(keygen_out_t *out, const keys_public_t *pub,
                        const shoup_secret_t *secrets, const coin_public_t *coin_pub,
                        const coin_secret_t *coin_secrets)
{
	const keygen_opt_t *opt = out->opt;
	static char pins[SHOUP_PLAYERS_MAX][BFT_PIN_STR_MAX];
	int ret = EXIT_OK;
	if (opt->force) {
		ret = keygen_out_remove_stale(out, keygen_with_peers(opt), keygen_with_fragment(opt));
	}
	if (ret == EXIT_OK) {
		ret = keygen_link_write(out, pins);
	}
	if (ret == EXIT_OK) {
		ret = keygen_coin_write(out, coin_pub, coin_secrets);
	}
	if (ret == EXIT_OK) {
		ret = keygen_zone_write(out, pub, secrets);
	}
	if (ret == EXIT_OK) {
		ret = keygen_conf_write(out, pub, pins);
	}
	return ret;
}

static int keygen_run(const keygen_opt_t *opt)
{
	keygen_out_t out;
	int ret = keygen_out_prepare(&out, opt);

	keys_public_t pub;
	static shoup_secret_t secrets[SHOUP_PLAYERS_MAX];
	static coin_public_t coin_pub;
	static coin_secret_t coin_secrets[SHOUP_PLAYERS_MAX];
	keys_public_init(&pub);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_secret_init(&secrets[i]);
	}

	if (ret == EXIT_OK) {
		ret = keygen_zone_make(opt, &pub, secrets);
	}
	if (ret == EXIT_OK) {
		ret = keygen_coin_make(opt, &coin_pub, coin_secrets);
	}
	if (ret == EXIT_OK) {
		ret = keygen_write(&out, &pub, secrets, &coin_pub, coin_secrets);
	}
	if (ret == EXIT_OK) {
		print_summary(opt, &pub);
	} else {
		keygen_out_abort(&out);
	}

	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_secret_clear(&secrets[i]);
		coin_secret_wipe(&coin_secrets[i]);
	}
	keys_public_clear(&pub);
	keygen_out_free(&out);
	return ret;
}

int main(int argc, char **argv)
{
	keygen_opt_t opt;
	int ret = opt_parse(argc, argv, &opt);
	if (ret != EXIT_OK) {
		return ret;
	}
	return keygen_run(&opt);
}
