/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* Link keys and pins: generation, file mode, pin syntax, TLS credentials. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coordinator/net/link_key.h"
#include "coordinator/net/tls.h"
#include "coordinator/proto/error.h"
#include "tests/common/check.h"

static char dir[] = "/tmp/bftdns-linkkey-XXXXXX";

static void test_generate(void)
{
	char pin[BFT_PIN_STR_MAX], pin2[BFT_PIN_STR_MAX], why[BFT_WHY_MAX];
	char path[256];
	CHECK_EQ(bft_link_key_generate(dir, 1, false, pin, why, sizeof(why)), BFT_EOK);
	CHECK(strncmp(pin, "sha256//", 8) == 0 && strlen(pin) == 8 + 44);
	CHECK_EQ(bft_link_key_path(dir, 1, path, sizeof(path)), BFT_EOK);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* The pin is a function of the key file. */
	CHECK_EQ(bft_link_key_pin(path, pin2, why, sizeof(why)), BFT_EOK);
	CHECK(strcmp(pin, pin2) == 0);
	/* No silent replacement of a key. */
	CHECK_EQ(bft_link_key_generate(dir, 1, false, pin2, why, sizeof(why)), BFT_EEXIST);
	CHECK(strstr(why, "exists") != NULL);
	CHECK_EQ(bft_link_key_generate(dir, 1, true, pin2, why, sizeof(why)), BFT_EOK);
	CHECK(strcmp(pin, pin2) != 0);
	/* A key readable by others is refused. */
	CHECK(chmod(path, 0644) == 0);
	CHECK_EQ(bft_link_key_pin(path, pin2, why, sizeof(why)), BFT_EAUTH);
	CHECK(chmod(path, 0600) == 0);
	/* Not a key at all. */
	char junk[256];
	snprintf(junk, sizeof(junk), "%s/junk.key", dir);
	FILE *f = fopen(junk, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", f);
		fclose(f);
	}
	CHECK(chmod(junk, 0600) == 0);
	CHECK_EQ(bft_link_key_pin(junk, pin2, why, sizeof(why)), BFT_EMALF);
	CHECK_EQ(bft_link_key_pin("/nonexistent/link-9.key", pin2, why, sizeof(why)), BFT_ENOENT);
}

static void test_pins(void)
{
	bft_pin_t pin, again;
	char text[BFT_PIN_STR_MAX];
	memset(pin.digest, 0xa5, sizeof(pin.digest));
	bft_pin_format(&pin, text);
	CHECK_EQ(bft_pin_parse(text, &again), BFT_EOK);
	CHECK(bft_pin_equal(&pin, &again));
	again.digest[31] ^= 1;
	CHECK(!bft_pin_equal(&pin, &again));
	CHECK_EQ(bft_pin_parse("sha256//", &again), BFT_EINVAL);
	CHECK_EQ(bft_pin_parse("sha1//pZWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU=", &again), BFT_EINVAL);
	CHECK_EQ(bft_pin_parse(NULL, &again), BFT_EINVAL);
	/* One character off the alphabet, short, long, non-canonical padding bits. */
	char bad[BFT_PIN_STR_MAX + 8];
	snprintf(bad, sizeof(bad), "%s", text);
	bad[10] = '*';
	CHECK_EQ(bft_pin_parse(bad, &again), BFT_EINVAL);
	snprintf(bad, sizeof(bad), "%s", text);
	bad[strlen(bad) - 1] = '\0';
	CHECK_EQ(bft_pin_parse(bad, &again), BFT_EINVAL);
	snprintf(bad, sizeof(bad), "%sA", text);
	CHECK_EQ(bft_pin_parse(bad, &again), BFT_EINVAL);
	snprintf(bad, sizeof(bad), "%s", text);
	bad[strlen(bad) - 2] = 'V';   /* 'U' -> 'V': same bytes, stray low bits */
	CHECK_EQ(bft_pin_parse(bad, &again), BFT_EINVAL);
}

static void test_tls_init(void)
{
	char pins_buf[4][BFT_PIN_STR_MAX], path[256], why[BFT_WHY_MAX];
	const char *pins[4];
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(bft_link_key_generate(dir, 10 + i, false, pins_buf[i], why, sizeof(why)), BFT_EOK);
		pins[i] = pins_buf[i];
	}
	bft_tls_t tls;
	CHECK_EQ(bft_link_key_path(dir, 12, path, sizeof(path)), BFT_EOK);
	CHECK_EQ(bft_tls_init(&tls, path, 4, 2, pins, why, sizeof(why)), BFT_EOK);
	bft_tls_deinit(&tls);
	/* Our key must be the one pinned for us. */
	CHECK_EQ(bft_tls_init(&tls, path, 4, 1, pins, why, sizeof(why)), BFT_EAUTH);
	CHECK(strstr(why, "not the key pinned for replica 2") != NULL);
	/* Bad or duplicate pins are refused with the replica named. */
	pins[3] = "sha256//nope";
	CHECK_EQ(bft_tls_init(&tls, path, 4, 2, pins, why, sizeof(why)), BFT_EINVAL);
	CHECK(strstr(why, "replica 4") != NULL);
	pins[3] = pins[0];
	CHECK_EQ(bft_tls_init(&tls, path, 4, 2, pins, why, sizeof(why)), BFT_EINVAL);
	CHECK(strstr(why, "same pin") != NULL);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_generate();
	test_pins();
	test_tls_init();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot remove %s\n", dir);
	}
	return check_result("test_link_key");
}
