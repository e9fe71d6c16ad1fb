/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*
 * bftdns-linkkey: makes replicas' link keys and prints their pins.
 *
 *   bftdns-linkkey generate DIR ID [--replace]   DIR/link-ID.key, prints the pin
 *   bftdns-linkkey generate-all DIR N             link-1.key .. link-N.key, "ID PIN" lines
 *   bftdns-linkkey pin FILE                       prints the pin of an existing key
 *
 * Keys are written with mode 0600 and never printed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/net/link_key.h"
#include "coordinator/proto/error.h"
#include "coordinator/proto/step.h"

static int usage(void)
{
	fprintf(stderr, "usage: bftdns-linkkey generate DIR ID [--replace]\n"
	                "       bftdns-linkkey generate-all DIR N [--replace]\n"
	                "       bftdns-linkkey pin FILE\n");
	return 2;
}

static int parse_id(const char *text, unsigned *out)
{
	char *end = NULL;
	long v = strtol(text, &end, 10);
	if (text[0] == '\0' || *end != '\0' || v < 1 || v > BFT_NODES_MAX) {
		fprintf(stderr, "bftdns-linkkey: '%s' is not a number in 1..%d\n", text, BFT_NODES_MAX);
		return BFT_EINVAL;
	}
	*out = (unsigned)v;
	return BFT_EOK;
}

static int generate(const char *dir, unsigned id, bool replace, bool with_id)
{
	char pin[BFT_PIN_STR_MAX], why[BFT_WHY_MAX] = "";
	int ret = bft_link_key_generate(dir, id, replace, pin, why, sizeof(why));
	if (ret != BFT_EOK) {
		fprintf(stderr, "bftdns-linkkey: replica %u: %s\n", id, why);
		return 1;
	}
	if (with_id) {
		printf("%u %s\n", id, pin);
	} else {
		printf("%s\n", pin);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		return usage();
	}
	bool replace = argc == 5 && strcmp(argv[4], "--replace") == 0;
	if (argc > 5 || (argc == 5 && !replace)) {
		return usage();
	}
	unsigned id = 0;
	if (strcmp(argv[1], "generate") == 0 && argc >= 4) {
		return parse_id(argv[3], &id) == BFT_EOK ? generate(argv[2], id, replace, false) : 2;
	}
	if (strcmp(argv[1], "generate-all") == 0 && argc >= 4) {
		if (parse_id(argv[3], &id) != BFT_EOK) {
			return 2;
		}
		for (unsigned i = 1; i <= id; i++) {
			if (generate(argv[2], i, replace, true) != 0) {
				return 1;
			}
		}
		return 0;
	}
	if (strcmp(argv[1], "pin") == 0 && argc == 3) {
		char pin[BFT_PIN_STR_MAX], why[BFT_WHY_MAX] = "";
		if (bft_link_key_pin(argv[2], pin, why, sizeof(why)) != BFT_EOK) {
			fprintf(stderr, "bftdns-linkkey: %s\n", why);
			return 1;
		}
		printf("%s\n", pin);
		return 0;
	}
	return usage();
}
