/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/* Error sentences and strategy names. */

#include <string.h>
#include <strings.h>

#include "coordinator/crypto/shoup.h"

const char *shoup_strerror(int code)
{
	switch (code) {
	case SHOUP_EOK:      return "success";
	case SHOUP_EINVAL:   return "invalid argument or key parameters";
	case SHOUP_ENOMEM:   return "not enough memory";
	case SHOUP_ERANGE:   return "a value is out of its range";
	case SHOUP_EPROOF:   return "a signature share's proof of correctness does not verify";
	case SHOUP_ESIG:     return "the combined signature does not verify";
	case SHOUP_ENOTSAFE: return "the RSA primes are not safe primes, so the key cannot be shared";
	case SHOUP_ERANDOM:  return "the random source failed";
	case SHOUP_ECANCEL:  return "cancelled";
	default:             return "unknown error";
	}
}

static const char *const strategy_names[] = {
	[SHOUP_STRATEGY_BASIC]    = "basic",
	[SHOUP_STRATEGY_OPTPROOF] = "optproof",
	[SHOUP_STRATEGY_OPTTE]    = "optte",
};

#define STRATEGY_COUNT	(sizeof(strategy_names) / sizeof(strategy_names[0]))

int shoup_strategy_parse(const char *name, shoup_strategy_t *out)
{
	if (name == NULL || out == NULL) {
		return SHOUP_EINVAL;
	}
	for (size_t i = 0; i < STRATEGY_COUNT; i++) {
		if (strcasecmp(name, strategy_names[i]) == 0) {
			*out = (shoup_strategy_t)i;
			return SHOUP_EOK;
		}
	}
	return SHOUP_EINVAL;
}

const char *shoup_strategy_name(shoup_strategy_t strategy)
{
	if ((size_t)strategy >= STRATEGY_COUNT) {
		return "unknown";
	}
	return strategy_names[strategy];
}
