/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

#include "coordinator/proto/error.h"

const char *bft_strerror(int code)
{
	switch (code) {
	case BFT_EOK:      return "success";
	case BFT_EINVAL:   return "invalid argument or state";
	case BFT_ENOMEM:   return "out of memory";
	case BFT_ESPACE:   return "a bounded buffer is full";
	case BFT_EMALF:    return "malformed data";
	case BFT_EAGAIN:   return "resource temporarily unavailable";
	case BFT_EIO:      return "input/output error";
	case BFT_ETLS:     return "TLS error";
	case BFT_EAUTH:    return "peer key does not match the pin";
	case BFT_ENOENT:   return "no such item";
	case BFT_ETIMEOUT: return "timed out";
	case BFT_ESTOPPED: return "stopped";
	case BFT_EEXIST:   return "exists already";
	default:           return "unknown error";
	}
}
