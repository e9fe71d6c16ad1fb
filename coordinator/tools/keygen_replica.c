/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-keygen's per-replica keys besides the zone key share: the TLS link
 * key of each replica (coordinator/net/link_key.h) with the list of every
 * replica's pin, and the threshold coin key of the atomic broadcast
 * (coordinator/crypto/coin_file.h).
 */

#include <stdio.h>
#include <string.h>

#include "coordinator/crypto/coin_file.h"
#include "coordinator/proto/error.h"
#include "coordinator/tools/keygen.h"

int keygen_coin_make(const keygen_opt_t *opt, coin_public_t *pub, coin_secret_t *secrets)
{
	int ret = coin_init();
	if (ret == COIN_EOK) {
		ret = coin_deal(opt->replicas, opt->faults, shoup_random_system, NULL, pub, secrets);
	}
	if (ret != COIN_EOK) {
		return keygen_fail(EXIT_MAKE, "making the coin key failed: %s", coin_strerror(ret));
	}
	return EXIT_OK;
}

/* Replica i's coin key share goes only into its directory: the flat DIR
 * keeps zone key shares for compatibility, nothing new that is secret. */
int keygen_coin_write(keygen_out_t *out, const coin_public_t *pub, const coin_secret_t *secrets)
{
	keys_err_t err;
	int ret = EXIT_OK;
	for (unsigned i = 0; ret == EXIT_OK && i < out->opt->replicas; i++) {
		char name[32], path[KEYGEN_PATH_LEN];
		snprintf(name, sizeof(name), "coin-%u.key", secrets[i].id);
		keygen_out_path(out, secrets[i].id, name, path);
		if (coin_file_write_secret(path, pub, &secrets[i], out->opt->force, &err) != KEYS_EOK) {
			return keygen_fail(EXIT_MAKE, "%s", err.text);
		}
		ret = keygen_out_wrote(out, path);
	}
	for (unsigned i = 0; ret == EXIT_OK && i <= out->opt->replicas; i++) {
		char path[KEYGEN_PATH_LEN];
		keygen_out_path(out, i, KEYGEN_COIN_PUBLIC, path);
		if (coin_file_write_public(path, pub, out->opt->force, &err) != KEYS_EOK) {
			return keygen_fail(EXIT_MAKE, "%s", err.text);
		}
		ret = keygen_out_wrote(out, path);
	}
	return ret;
}

/* pins.txt: "ID PIN" for every replica, the lines bftdns-linkkey
 * generate-all prints, so that one reader serves both tools. */
static int link_write_pins(keygen_out_t *out, char pins[][BFT_PIN_STR_MAX])
{
	static keygen_text_t text;
	text.len = 0;
	text.overflow = false;
	for (unsigned i = 1; i <= out->opt->replicas; i++) {
		keygen_text_add(&text, "%u %s\n", i, pins[i - 1]);
	}
	if (text.overflow) {
		return keygen_fail(EXIT_MAKE, "the pin list does not fit in %zu bytes",
		                   sizeof(text.buf));
	}
	int ret = EXIT_OK;
	for (unsigned i = 0; ret == EXIT_OK && i <= out->opt->replicas; i++) {
		ret = keygen_out_text(out, i, KEYGEN_PINS, text.buf, text.len, 0644);
	}
	return ret;
}

int keygen_link_write(keygen_out_t *out, char pins[][BFT_PIN_STR_MAX])
{
	for (unsigned i = 1; i <= out->opt->replicas; i++) {
		char dir[KEYGEN_PATH_LEN], path[KEYGEN_PATH_LEN], why[BFT_WHY_MAX] = "";
		keygen_out_path(out, i, NULL, dir);
		if (bft_link_key_generate(dir, i, out->opt->force, pins[i - 1], why,
		                          sizeof(why)) != BFT_EOK) {
			return keygen_fail(EXIT_MAKE, "the link key of replica %u: %s", i, why);
		}
		if (bft_link_key_path(dir, i, path, sizeof(path)) != BFT_EOK) {
			return keygen_fail(EXIT_MAKE, "the path of replica %u's link key is too long", i);
		}
		int ret = keygen_out_wrote(out, path);
		if (ret != EXIT_OK) {
			return ret;
		}
	}
	return link_write_pins(out, pins);
}
