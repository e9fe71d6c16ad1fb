/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include <stdarg.h>
#include <stdio.h>

#include "coordinator/keys/error.h"

const char *keys_strerror(int code)
{
	switch (code) {
	case KEYS_EOK:      return "success";
	case KEYS_EINVAL:   return "invalid argument";
	case KEYS_ENOMEM:   return "out of memory";
	case KEYS_EIO:      return "input/output error";
	case KEYS_EFORMAT:  return "malformed file";
	case KEYS_EKEY:     return "inconsistent key";
	case KEYS_EPERM:    return "file readable by other users";
	case KEYS_EEXIST:   return "file exists";
	case KEYS_ENOTSAFE: return "primes are not safe primes";
	case KEYS_ECRYPTO:  return "threshold RSA failure";
	default:            return "unknown error";
	}
}

int keys_err_set(keys_err_t *err, int code, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;
		va_start(ap, fmt);
		(void)vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
	}
	return code;
}
