/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bench-crypto: the cost of threshold signing next to plain RSA, in one run,
 * side by side for (n, f) = (4, 1) and (7, 2). Every figure is the median of
 * many runs, in ms and as a ratio to a plain CRT RSA signature of the same
 * size (nettle's rsa_compute_root: CRT with mpz_powm, like OpenSSL's figure
 * in baselines.md); nettle's side-channel-silent rsa_sha256_sign_digest_tr
 * (blinding, mpn_sec_powm, result check) is shown too. Figures only: no assertion on
 * time. Usage: bench-crypto [--bits 2048[,1024,3072,4096]] [--reps N] [--cpu]
 *
 * --cpu times with the thread's CPU clock instead of the wall clock: other
 * processes then cost the figures nothing, and they compare with CPU time
 * read from /proc (tests/bench/throughput.sh: the crypto floor of an update).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <nettle/rsa.h>
#include <nettle/version.h>

#include "coordinator/crypto/dnssec_alg.h"
#include "coordinator/crypto/shoup.h"

#define REPS_MAX	10000
#define CONFIGS		2
#define BITS_LIST_MAX	4

static const unsigned configs[CONFIGS][2] = { { 4, 1 }, { 7, 2 } };

/* CLOCK_MONOTONIC, or with --cpu CLOCK_THREAD_CPUTIME_ID. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(bench_clock, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *samples, unsigned count)
{
	qsort(samples, count, sizeof(double), cmp_double);
	return count % 2 ? samples[count / 2] :
	       (samples[count / 2 - 1] + samples[count / 2]) / 2;
}

static void die(const char *what, int code)
{
	fprintf(stderr, "bench-crypto: %s: %s\n", what, shoup_strerror(code));
	exit(1);
}

static void random_bytes(void *ctx, size_t len, uint8_t *out)
{
	(void)ctx;
	if (shoup_random_system(NULL, out, len) != 0) {
		die("getrandom", SHOUP_ERANDOM);
	}
}

/* Everything one (bits, n, f) measurement needs. */
typedef struct {
	shoup_public_t pub;
	shoup_secret_t sec[SHOUP_PLAYERS_MAX];
	struct rsa_public_key rsa_pub;
	struct rsa_private_key rsa_key;
	uint8_t digest[32];
	mpz_t x, sig;
	shoup_share_t plain[SHOUP_PLAYERS_MAX];   /* shares without proofs */
	shoup_share_t proven[SHOUP_PLAYERS_MAX];  /* with proofs */
	shoup_share_t bad_plain[SHOUP_PLAYERS_MAX];  /* bit-inverted (the paper's test mode) */
	shoup_share_t bad_proven[SHOUP_PLAYERS_MAX];
} setup_t;

/* nettle's private key for the same N: d mod lambda(N) and the CRT parts. */
static void rsa_key_make(setup_t *st, const mpz_t p, const mpz_t q)
{
	rsa_public_key_init(&st->rsa_pub);
	rsa_private_key_init(&st->rsa_key);
	mpz_mul(st->rsa_pub.n, p, q);
	mpz_set_ui(st->rsa_pub.e, 65537);
	mpz_t lambda, t;
	mpz_inits(lambda, t, NULL);
	mpz_sub_ui(lambda, p, 1);
	mpz_sub_ui(t, q, 1);
	mpz_lcm(lambda, lambda, t);
	mpz_invert(st->rsa_key.d, st->rsa_pub.e, lambda);
	mpz_set(st->rsa_key.p, p);
	mpz_set(st->rsa_key.q, q);
	mpz_sub_ui(t, p, 1);
	mpz_mod(st->rsa_key.a, st->rsa_key.d, t);
	mpz_sub_ui(t, q, 1);
	mpz_mod(st->rsa_key.b, st->rsa_key.d, t);
	mpz_invert(st->rsa_key.c, q, p);
	if (!rsa_public_key_prepare(&st->rsa_pub) || !rsa_private_key_prepare(&st->rsa_key)) {
		die("nettle key", SHOUP_EINVAL);
	}
	mpz_clears(lambda, t, NULL);
}

static void spoil(const shoup_public_t *pub, shoup_share_t *dst, const shoup_share_t *src)
{
	size_t bits = 8 * ((pub->bits + 7) / 8);
	mpz_t ones;
	mpz_init(ones);
	mpz_ui_pow_ui(ones, 2, bits);
	mpz_sub_ui(ones, ones, 1);
	dst->id = src->id;
	dst->has_proof = src->has_proof;
	mpz_sub(dst->value, ones, src->value);
	mpz_mod(dst->value, dst->value, pub->modulus);
	mpz_set(dst->proof_z, src->proof_z);
	mpz_set(dst->proof_c, src->proof_c);
	mpz_clear(ones);
}

static void setup_make(setup_t *st, const mpz_t p, const mpz_t q, unsigned n, unsigned f)
{
	shoup_public_init(&st->pub);
	mpz_inits(st->x, st->sig, NULL);
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_secret_init(&st->sec[i]);
		shoup_share_init(&st->plain[i]);
		shoup_share_init(&st->proven[i]);
		shoup_share_init(&st->bad_plain[i]);
		shoup_share_init(&st->bad_proven[i]);
	}
	mpz_t e;
	mpz_init_set_ui(e, 65537);
	int ret = shoup_deal_existing(p, q, e, n, f, shoup_random_system, NULL, &st->pub, st->sec);
	mpz_clear(e);
	if (ret != SHOUP_EOK) {
		die("deal", ret);
	}
	rsa_key_make(st, p, q);

	const bftdns_alg_t *alg = bftdns_alg_by_number(BFTDNS_ALG_RSASHA256);
	uint8_t data[64];
	random_bytes(NULL, sizeof(data), data);
	bftdns_alg_digest(alg, data, sizeof(data), st->digest);
	ret = bftdns_alg_encode_digest(alg, st->digest, (st->pub.bits + 7) / 8, st->x);
	if (ret != SHOUP_EOK) {
		die("encode", ret);
	}
	for (unsigned i = 0; i < n; i++) {
		shoup_share_sign(&st->pub, &st->sec[i], st->x, false, &st->plain[i]);
		shoup_share_sign(&st->pub, &st->sec[i], st->x, true, &st->proven[i]);
		spoil(&st->pub, &st->bad_plain[i], &st->plain[i]);
		spoil(&st->pub, &st->bad_proven[i], &st->proven[i]);
	}
}

static void setup_clear(setup_t *st)
{
	for (unsigned i = 0; i < SHOUP_PLAYERS_MAX; i++) {
		shoup_secret_clear(&st->sec[i]);
		shoup_share_clear(&st->plain[i]);
		shoup_share_clear(&st->proven[i]);
		shoup_share_clear(&st->bad_plain[i]);
		shoup_share_clear(&st->bad_proven[i]);
	}
	shoup_public_clear(&st->pub);
	rsa_public_key_clear(&st->rsa_pub);
	rsa_private_key_clear(&st->rsa_key);
	mpz_clears(st->x, st->sig, NULL);
}

/* The combined signature must be THE signature, or the figures lie. */
static void signature_check(setup_t *st)
{
	mpz_t crt;
	mpz_init(crt);
	rsa_sha256_sign_digest_tr(&st->rsa_pub, &st->rsa_key, NULL, random_bytes,
	                          st->digest, crt);
	if (mpz_cmp(crt, st->sig) != 0 || !shoup_signature_verify(&st->pub, st->x, st->sig)) {
		die("threshold and plain signatures differ", SHOUP_ESIG);
	}
	mpz_clear(crt);
}

/* The operations measured, in table order. */
enum {
	OP_RSA_SIGN, OP_RSA_SIGN_TR, OP_RSA_VERIFY, OP_SHARE, OP_SHARE_PROOF, OP_PROOF_VERIFY,
	OP_COMBINE, OP_FINAL_VERIFY,
	OP_BASIC_0, OP_BASIC_F, OP_OPTPROOF_0, OP_OPTPROOF_F, OP_OPTTE_0, OP_OPTTE_F,
	OP_COUNT
};

static const char *op_names[OP_COUNT] = {
	"plain RSA sign, CRT (compute_root)",
	"plain RSA sign, CRT+blinding (_tr)",
	"plain RSA verify (nettle)",
	"share x^(2 Delta s_i)",
	"share + proof",
	"proof verification (one share)",
	"combine k shares",
	"final verify y^e == x",
	"collect basic, 0 bad",
	"collect basic, f bad",
	"collect optproof, 0 bad",
	"collect optproof, f bad",
	"collect optte, 0 bad",
	"collect optte, f bad",
};

/* One collector run: the f bad players (ids 1..bad) answer first, the worst
 * order; shares are precomputed, so this is the collecting replica's work
 * only. OPTPROOF gets the shares with proofs after NEED_PROOFS. */
static double collect_once(setup_t *st, shoup_strategy_t strategy, unsigned bad)
{
	unsigned n = st->pub.n;
	bool basic = strategy == SHOUP_STRATEGY_BASIC;
	shoup_collector_t col;
	double start = now_ms();
	shoup_collector_init(&col, &st->pub, st->x, strategy);
	shoup_collect_t r = SHOUP_COLLECT_MORE;
	bool proofs = basic;
	for (unsigned i = 0; i < n && r != SHOUP_COLLECT_DONE; i++) {
		const shoup_share_t *sh = i < bad ? (proofs ? &st->bad_proven[i] : &st->bad_plain[i])
		                                  : (proofs ? &st->proven[i] : &st->plain[i]);
		r = shoup_collector_add(&col, sh);
		if (r == SHOUP_COLLECT_NEED_PROOFS) {
			proofs = true;
			i = (unsigned)-1;	/* everyone answers again, with proofs */
		}
	}
	double ms = now_ms() - start;
	if (r != SHOUP_COLLECT_DONE) {
		die("collector did not finish", SHOUP_ESIG);
	}
	shoup_collector_clear(&col);
	return ms;
}

static double op_once(setup_t *st, unsigned op)
{
	unsigned k = st->pub.f + 1, f = st->pub.f;
	const shoup_share_t *set[SHOUP_PLAYERS_MAX];
	shoup_share_t out;
	double start, ms;
	switch (op) {
	case OP_RSA_SIGN:
		start = now_ms();
		rsa_compute_root(&st->rsa_key, st->sig, st->x);
		return now_ms() - start;
	case OP_RSA_SIGN_TR:
		start = now_ms();
		rsa_sha256_sign_digest_tr(&st->rsa_pub, &st->rsa_key, NULL, random_bytes,
		                          st->digest, st->sig);
		return now_ms() - start;
	case OP_RSA_VERIFY:
		start = now_ms();
		rsa_sha256_verify_digest(&st->rsa_pub, st->digest, st->sig);
		return now_ms() - start;
	case OP_SHARE:
	case OP_SHARE_PROOF:
		shoup_share_init(&out);
		start = now_ms();
		shoup_share_sign(&st->pub, &st->sec[0], st->x, op == OP_SHARE_PROOF, &out);
		ms = now_ms() - start;
		shoup_share_clear(&out);
		return ms;
	case OP_PROOF_VERIFY:
		start = now_ms();
		shoup_share_verify(&st->pub, st->x, &st->proven[1]);
		return now_ms() - start;
	case OP_COMBINE:
		for (unsigned i = 0; i < k; i++) {
			set[i] = &st->plain[i];
		}
		start = now_ms();
		shoup_combine(&st->pub, st->x, set, k, st->sig);
		return now_ms() - start;
	case OP_FINAL_VERIFY:
		start = now_ms();
		shoup_signature_verify(&st->pub, st->x, st->sig);
		return now_ms() - start;
	case OP_BASIC_0:    return collect_once(st, SHOUP_STRATEGY_BASIC, 0);
	case OP_BASIC_F:    return collect_once(st, SHOUP_STRATEGY_BASIC, f);
	case OP_OPTPROOF_0: return collect_once(st, SHOUP_STRATEGY_OPTPROOF, 0);
	case OP_OPTPROOF_F: return collect_once(st, SHOUP_STRATEGY_OPTPROOF, f);
	case OP_OPTTE_0:    return collect_once(st, SHOUP_STRATEGY_OPTTE, 0);
	case OP_OPTTE_F:    return collect_once(st, SHOUP_STRATEGY_OPTTE, f);
	}
	return 0;
}

/* Every repetition runs every operation of every configuration once, so
 * that load from other processes drifting during the run hits all columns
 * alike and the ratios stay meaningful. */
static void measure(setup_t *setups, unsigned reps, double med[CONFIGS][OP_COUNT])
{
	static double samples[CONFIGS][OP_COUNT][REPS_MAX];
	for (unsigned c = 0; c < CONFIGS; c++) {
		for (unsigned op = 0; op < OP_COUNT; op++) {
			(void)op_once(&setups[c], op);	/* warm-up */
		}
	}
	for (unsigned r = 0; r < reps; r++) {
		for (unsigned c = 0; c < CONFIGS; c++) {
			for (unsigned op = 0; op < OP_COUNT; op++) {
				samples[c][op][r] = op_once(&setups[c], op);
			}
		}
	}
	for (unsigned c = 0; c < CONFIGS; c++) {
		for (unsigned op = 0; op < OP_COUNT; op++) {
			med[c][op] = median(samples[c][op], reps);
		}
		signature_check(&setups[c]);
	}
}

static void safe_primes(unsigned bits, mpz_t p, mpz_t q)
{
	double start = now_ms();
	int ret = shoup_safe_prime_generate(bits / 2, 1, shoup_random_system, NULL, NULL, NULL, p);
	do {
		if (ret == SHOUP_EOK) {
			ret = shoup_safe_prime_generate(bits / 2, 2, shoup_random_system, NULL,
			                                NULL, NULL, q);
		}
	} while (ret == SHOUP_EOK && mpz_cmp(p, q) == 0);
	if (ret != SHOUP_EOK) {
		die("safe primes", ret);
	}
	printf("RSA-%u: two safe primes found in %.1f s (one sample; varies a lot)\n",
	       bits, (now_ms() - start) / 1e3);
}

static void print_table(unsigned bits, unsigned reps, double med[CONFIGS][OP_COUNT])
{
	printf("\nRSA-%u, median of %u runs; ratio = time / plain CRT RSA sign (compute_root)\n",
	       bits, reps);
	printf("| %-34s |", "operation");
	for (unsigned c = 0; c < CONFIGS; c++) {
		printf(" n=%u f=%u ms | ratio |", configs[c][0], configs[c][1]);
	}
	printf("\n|%s|", "------------------------------------");
	for (unsigned c = 0; c < CONFIGS; c++) {
		printf("------------:|------:|");
	}
	printf("\n");
	for (unsigned op = 0; op < OP_COUNT; op++) {
		printf("| %-34s |", op_names[op]);
		for (unsigned c = 0; c < CONFIGS; c++) {
			printf(" %11.3f | %5.1f |", med[c][op], med[c][op] / med[c][OP_RSA_SIGN]);
		}
		printf("\n");
	}
	/* What one replica computes on the critical path of a signature: its
	 * own share (with proof for BASIC) plus collecting; OPTPROOF with f bad
	 * also recomputes its share with a proof after the fallback. */
	printf("| %-34s |", "replica total basic, 0 bad");
	for (unsigned c = 0; c < CONFIGS; c++) {
		double t = med[c][OP_SHARE_PROOF] + med[c][OP_BASIC_0];
		printf(" %11.3f | %5.1f |", t, t / med[c][OP_RSA_SIGN]);
	}
	printf("\n| %-34s |", "replica total optproof, 0 bad");
	for (unsigned c = 0; c < CONFIGS; c++) {
		double t = med[c][OP_SHARE] + med[c][OP_OPTPROOF_0];
		printf(" %11.3f | %5.1f |", t, t / med[c][OP_RSA_SIGN]);
	}
	printf("\n| %-34s |", "replica total optproof, f bad");
	for (unsigned c = 0; c < CONFIGS; c++) {
		double t = med[c][OP_SHARE] + med[c][OP_SHARE_PROOF] + med[c][OP_OPTPROOF_F];
		printf(" %11.3f | %5.1f |", t, t / med[c][OP_RSA_SIGN]);
	}
	printf("\n| %-34s |", "replica total optte, 0 bad");
	for (unsigned c = 0; c < CONFIGS; c++) {
		double t = med[c][OP_SHARE] + med[c][OP_OPTTE_0];
		printf(" %11.3f | %5.1f |", t, t / med[c][OP_RSA_SIGN]);
	}
	printf("\n| %-34s |", "replica total optte, f bad");
	for (unsigned c = 0; c < CONFIGS; c++) {
		double t = med[c][OP_SHARE] + med[c][OP_OPTTE_F];
		printf(" %11.3f | %5.1f |", t, t / med[c][OP_RSA_SIGN]);
	}
	printf("\n");
}

/* Other processes on the machine skew the figures: say how busy it was. */
static void print_load(void)
{
	FILE *file = fopen("/proc/loadavg", "r");
	double l1, l5, l15;
	if (file != NULL && fscanf(file, "%lf %lf %lf", &l1, &l5, &l15) == 3) {
		printf("load average after the run (1, 5, 15 min): %.2f %.2f %.2f "
		       "on %ld CPUs\n", l1, l5, l15, sysconf(_SC_NPROCESSORS_ONLN));
	}
	if (file != NULL) {
		fclose(file);
	}
}

static void bench_bits(unsigned bits, unsigned reps)
{
	mpz_t p, q;
	mpz_inits(p, q, NULL);
	safe_primes(bits, p, q);
	static setup_t setups[CONFIGS];
	double med[CONFIGS][OP_COUNT];
	for (unsigned c = 0; c < CONFIGS; c++) {
		setup_make(&setups[c], p, q, configs[c][0], configs[c][1]);
	}
	measure(setups, reps, med);
	for (unsigned c = 0; c < CONFIGS; c++) {
		setup_clear(&setups[c]);
	}
	print_table(bits, reps, med);
	print_load();
	mpz_clears(p, q, NULL);
}

static unsigned parse_bits(const char *list, unsigned *bits)
{
	unsigned count = 0;
	char *copy = strdup(list), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL && count < BITS_LIST_MAX;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned b = (unsigned)strtoul(tok, NULL, 10);
		if (b != 1024 && b != 2048 && b != 3072 && b != 4096) {
			fprintf(stderr, "bench-crypto: bits must be 1024, 2048, 3072 or 4096\n");
			exit(2);
		}
		bits[count++] = b;
	}
	free(copy);
	return count;
}

int main(int argc, char **argv)
{
	unsigned bits[BITS_LIST_MAX] = { 2048 }, bits_count = 1, reps = 51;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bits") == 0 && i + 1 < argc) {
			bits_count = parse_bits(argv[++i], bits);
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			reps = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--cpu") == 0) {
			bench_clock = CLOCK_THREAD_CPUTIME_ID;
		} else {
			fprintf(stderr, "usage: %s [--bits 2048[,1024,3072,4096]] [--reps N] [--cpu]\n",
			        argv[0]);
			return 2;
		}
	}
	if (reps < 1 || reps > REPS_MAX || bits_count == 0) {
		fprintf(stderr, "bench-crypto: --reps must be 1..%d\n", REPS_MAX);
		return 2;
	}
	printf("bench-crypto: GMP %s, nettle %d.%d; shares arrive in id order, the f bad "
	       "(bit-inverted) ones first; %s time\n", gmp_version, nettle_version_major(),
	       nettle_version_minor(), bench_clock == CLOCK_MONOTONIC ? "wall-clock" : "CPU");
	for (unsigned i = 0; i < bits_count; i++) {
		bench_bits(bits[i], reps);
	}
	return 0;
}
