/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* The threshold coin (coordinator/crypto/coin.h) and its key files. */

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/crypto/coin.h"
#include "coordinator/crypto/coin_file.h"
#include "coordinator/proto/prng.h"
#include "tests/common/check.h"

static const uint8_t NAME[] = "epoch 7 instance 3 round 2";

static void deal(unsigned n, unsigned f, uint64_t seed, coin_public_t *pub, coin_secret_t *sec)
{
	bft_prng_t prng;
	bft_prng_seed(&prng, seed);
	CHECK_EQ(coin_deal(n, f, bft_prng_random, &prng, pub, sec), COIN_EOK);
}

/* Every (f + 1)-subset of shares combines to the same value. */
static void test_combine_subsets(unsigned n, unsigned f)
{
	coin_public_t pub;
	coin_secret_t sec[COIN_PLAYERS_MAX];
	coin_share_t share[COIN_PLAYERS_MAX];
	deal(n, f, 1000 + n, &pub, sec);
	CHECK_EQ(coin_public_check(&pub), COIN_EOK);
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(coin_secret_check(&pub, &sec[i]), COIN_EOK);
		CHECK_EQ(coin_share_make(&pub, &sec[i], NAME, sizeof(NAME), &share[i]), COIN_EOK);
		CHECK_EQ(share[i].id, i + 1);
		CHECK_EQ(coin_share_verify(&pub, NAME, sizeof(NAME), &share[i]), COIN_EOK);
	}
	uint8_t first[COIN_VALUE_LEN], value[COIN_VALUE_LEN];
	unsigned subsets = 0;
	for (uint32_t mask = 1; mask < (1u << n) && subsets < 300; mask++) {
		if ((unsigned)__builtin_popcount(mask) != f + 1) {
			continue;
		}
		coin_share_t pick[COIN_PLAYERS_MAX];
		size_t k = 0;
		for (unsigned i = 0; i < n; i++) {
			if (mask >> i & 1) {
				pick[k++] = share[i];
			}
		}
		CHECK_EQ(coin_combine(&pub, NAME, sizeof(NAME), pick, k, value), COIN_EOK);
		if (subsets++ == 0) {
			memcpy(first, value, sizeof(first));
		}
		CHECK(memcmp(first, value, sizeof(value)) == 0);
	}
	CHECK(subsets > 0);
	/* f shares are not enough, and one player twice is refused. */
	CHECK_EQ(coin_combine(&pub, NAME, sizeof(NAME), share, f, value), COIN_EINVAL);
	coin_share_t twice[2] = { share[0], share[0] };
	if (f == 1) {
		CHECK_EQ(coin_combine(&pub, NAME, sizeof(NAME), twice, 2, value), COIN_EINVAL);
	}
}

/* Any change to a share, its id or the name makes it fail verification. */
static void test_reject_bad_shares(void)
{
	coin_public_t pub;
	coin_secret_t sec[4];
	deal(4, 1, 7, &pub, sec);
	coin_share_t good, bad;
	CHECK_EQ(coin_share_make(&pub, &sec[1], NAME, sizeof(NAME), &good), COIN_EOK);
	for (size_t byte = 0; byte < COIN_SHARE_LEN; byte++) {
		for (unsigned bit = 0; bit < 8; bit += 3) {
			bad = good;
			bad.bytes[byte] ^= (uint8_t)(1u << bit);
			CHECK_EQ(coin_share_verify(&pub, NAME, sizeof(NAME), &bad), COIN_EPROOF);
		}
	}
	bad = good;
	bad.id = 3;   /* Player 2's share claimed by player 3. */
	CHECK_EQ(coin_share_verify(&pub, NAME, sizeof(NAME), &bad), COIN_EPROOF);
	bad.id = 5;
	CHECK_EQ(coin_share_verify(&pub, NAME, sizeof(NAME), &bad), COIN_EINVAL);
	static const uint8_t other[] = "epoch 7 instance 3 round 3";
	CHECK_EQ(coin_share_verify(&pub, other, sizeof(other), &good), COIN_EPROOF);
	/* A valid share for the right name with a proof made by another key. */
	coin_share_t s3;
	CHECK_EQ(coin_share_make(&pub, &sec[2], NAME, sizeof(NAME), &s3), COIN_EOK);
	bad = good;
	memcpy(bad.bytes + COIN_POINT_LEN, s3.bytes + COIN_POINT_LEN, 2 * COIN_SCALAR_LEN);
	CHECK_EQ(coin_share_verify(&pub, NAME, sizeof(NAME), &bad), COIN_EPROOF);
	memset(bad.bytes, 0, sizeof(bad.bytes));
	CHECK_EQ(coin_share_verify(&pub, NAME, sizeof(NAME), &bad), COIN_EPROOF);
	memset(bad.bytes, 0xff, sizeof(bad.bytes));
	CHECK_EQ(coin_share_verify(&pub, NAME, sizeof(NAME), &bad), COIN_EPROOF);
	/* Deterministic: the same share twice, the same bytes. */
	coin_share_t again;
	CHECK_EQ(coin_share_make(&pub, &sec[1], NAME, sizeof(NAME), &again), COIN_EOK);
	CHECK(memcmp(again.bytes, good.bytes, COIN_SHARE_LEN) == 0);
	/* A secret of another dealing does not belong to pub. */
	coin_public_t pub2;
	coin_secret_t sec2[4];
	deal(4, 1, 8, &pub2, sec2);
	CHECK_EQ(coin_secret_check(&pub, &sec2[1]), COIN_EINVAL);
	/* Another key's vkey in place of one of ours: off the polynomial. */
	coin_public_t mixed = pub;
	memcpy(mixed.vkeys[3], pub2.vkeys[3], COIN_POINT_LEN);
	CHECK_EQ(coin_public_check(&mixed), COIN_EINVAL);
	mixed = pub;
	memcpy(mixed.vkeys[0], pub2.vkeys[0], COIN_POINT_LEN);
	CHECK_EQ(coin_public_check(&mixed), COIN_EINVAL);
	CHECK_EQ(coin_deal(3, 1, bft_prng_random, NULL, &pub2, sec2), COIN_EINVAL);
}

/* The coin's bit is not constant: over 400 names, both values, roughly half. */
static void test_bit_balance(void)
{
	coin_public_t pub;
	coin_secret_t sec[4];
	deal(4, 1, 99, &pub, sec);
	unsigned ones = 0;
	for (unsigned k = 0; k < 400; k++) {
		uint8_t name[16];
		memcpy(name, "coin-", 5);
		name[5] = (uint8_t)k;
		name[6] = (uint8_t)(k >> 8);
		coin_share_t sh[2];
		uint8_t value[COIN_VALUE_LEN];
		CHECK_EQ(coin_share_make(&pub, &sec[0], name, 7, &sh[0]), COIN_EOK);
		CHECK_EQ(coin_share_make(&pub, &sec[3], name, 7, &sh[1]), COIN_EOK);
		CHECK_EQ(coin_combine(&pub, name, 7, sh, 2, value), COIN_EOK);
		ones += coin_value_bit(value);
	}
	/* Binomial(400, 1/2): 140..260 is beyond 6 standard deviations. */
	CHECK(ones > 140 && ones < 260);
}

static void test_file_roundtrip(void)
{
	coin_public_t pub, pub2;
	coin_secret_t sec[7], sec2;
	deal(7, 2, 5, &pub, sec);
	char text[COIN_FILE_MAX];
	size_t len = 0;
	keys_err_t err;
	CHECK_EQ(coin_file_format(&pub, &sec[3], text, sizeof(text), &len, &err), KEYS_EOK);
	CHECK_EQ(coin_file_parse(text, len, "t", &pub2, &sec2, &err), KEYS_EOK);
	CHECK(memcmp(&pub, &pub2, sizeof(pub)) == 0);
	CHECK(sec2.id == 4 && memcmp(sec2.secret, sec[3].secret, COIN_SCALAR_LEN) == 0);
	/* A secret file is not a public file, and the other way round. */
	CHECK_EQ(coin_file_parse(text, len, "t", &pub2, NULL, &err), KEYS_EFORMAT);
	/* Strictness: every one-character change is refused or changes nothing
	 * a check would miss; here, each change must be refused. */
	unsigned refused = 0, tried = 0;
	for (size_t i = 0; i < len; i += 7) {
		char copy[COIN_FILE_MAX];
		memcpy(copy, text, len);
		copy[i] = copy[i] == 'a' ? 'b' : (copy[i] == '\n' ? ' ' : 'a');
		tried++;
		refused += coin_file_parse(copy, len, "t", &pub2, &sec2, &err) != KEYS_EOK;
	}
	CHECK_EQ(refused, tried);
	CHECK(coin_file_parse(text, len - 1, "t", &pub2, &sec2, &err) != KEYS_EOK);
	char longer[COIN_FILE_MAX + 8];
	memcpy(longer, text, len);
	memcpy(longer + len, "\n", 1);
	CHECK(coin_file_parse(longer, len + 1, "t", &pub2, &sec2, &err) != KEYS_EOK);
	/* Upper-case hex and leading zeros are refused. */
	char *vk = strstr(text, "vkey-1 ");
	CHECK(vk != NULL);
	char copy[COIN_FILE_MAX];
	memcpy(copy, text, len);
	for (size_t i = 7; i < 71; i++) {
		if (copy[vk - text + i] >= 'a' && copy[vk - text + i] <= 'f') {
			copy[vk - text + i] -= 32;
			break;
		}
	}
	CHECK_EQ(coin_file_parse(copy, len, "t", &pub2, &sec2, &err), KEYS_EFORMAT);
	CHECK(strstr(text, "\nn 7\n") != NULL);

	/* Public form. */
	CHECK_EQ(coin_file_format(&pub, NULL, text, sizeof(text), &len, &err), KEYS_EOK);
	CHECK_EQ(coin_file_parse(text, len, "t", &pub2, NULL, &err), KEYS_EOK);
	CHECK(memcmp(&pub, &pub2, sizeof(pub)) == 0);
}

static void test_file_io(void)
{
	char dir[] = "/tmp/coin-test-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[64], ppath[64];
	snprintf(path, sizeof(path), "%s/coin-2.key", dir);
	snprintf(ppath, sizeof(ppath), "%s/coin.pub", dir);
	coin_public_t pub, pub2;
	coin_secret_t sec[4], sec2;
	deal(4, 1, 6, &pub, sec);
	keys_err_t err;
	CHECK_EQ(coin_file_write_secret(path, &pub, &sec[1], false, &err), KEYS_EOK);
	CHECK_EQ(coin_file_write_public(ppath, &pub, false, &err), KEYS_EOK);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_EQ(coin_file_read_secret(path, &pub2, &sec2, &err), KEYS_EOK);
	CHECK(sec2.id == 2 && memcmp(&pub, &pub2, sizeof(pub)) == 0);
	CHECK_EQ(coin_file_read_public(ppath, &pub2, &err), KEYS_EOK);
	CHECK_EQ(coin_file_write_secret(path, &pub, &sec[1], false, &err), KEYS_EEXIST);
	CHECK(chmod(path, 0644) == 0);
	CHECK_EQ(coin_file_read_secret(path, &pub2, &sec2, &err), KEYS_EPERM);
	unlink(path);
	unlink(ppath);
	rmdir(dir);
}

int main(void)
{
	if (coin_init() != COIN_EOK) {
		fprintf(stderr, "libsodium cannot initialise\n");
		return 1;
	}
	test_combine_subsets(4, 1);
	test_combine_subsets(7, 2);
	test_combine_subsets(10, 3);
	test_reject_bad_shares();
	test_bit_balance();
	test_file_roundtrip();
	test_file_io();
	return check_result("test_coin_crypto");
}
