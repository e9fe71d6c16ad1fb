/*  Copyright (C) 2026 bftdns developers
 *
 *  This program is free software: you can redistribute it and/or modify
 *  it under the terms of the GNU General Public License as published by
 *  the Free Software Foundation, either version 3 of the License, or
 *  (at your option) any later version.
 */

/*!
 * \file
 *
 * Error codes and error messages of the key files code.
 *
 * A return code says what kind of failure it was (so that a tool can pick an
 * exit code); a keys_err_t carries the sentence for the operator, naming the
 * file, the line and the field, because "bad key file" helps nobody.
 */

#pragma once

#include <stddef.h>

/*! Error codes (negative; 0 is success). */
enum {
	KEYS_EOK      =  0,
	KEYS_EINVAL   = -1,  /*!< Bad argument (our misuse or a bad option). */
	KEYS_ENOMEM   = -2,
	KEYS_EIO      = -3,  /*!< A system call on a file failed. */
	KEYS_EFORMAT  = -4,  /*!< A file is not well-formed. */
	KEYS_EKEY     = -5,  /*!< Well-formed, but the key in it is inconsistent. */
	KEYS_EPERM    = -6,  /*!< A secret file is readable by other users. */
	KEYS_EEXIST   = -7,  /*!< The target file exists and may not be replaced. */
	KEYS_ENOTSAFE = -8,  /*!< An imported key's primes are not safe primes. */
	KEYS_ECRYPTO  = -9,  /*!< The threshold RSA code failed. */
};

/*! Longest error message kept (longer ones are cut). */
#define KEYS_ERR_MAX	512

/*! An error message for the operator. */
typedef struct {
	char text[KEYS_ERR_MAX];
} keys_err_t;

/*! Returns a short phrase for an error code. */
const char *keys_strerror(int code);

/*!
 * Formats a message into err (if err is not NULL) and returns code, so that
 * a failure path is one line: return keys_err_set(err, KEYS_EFORMAT, ...).
 */
int keys_err_set(keys_err_t *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
