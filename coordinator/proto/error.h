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
 * Error codes of the protocol interface, the simulator, the links and the
 * event loop. Negative like KNOT_E*, 0 is success.
 *
 * An error is OUR misuse or a resource limit (a full step, no memory). A
 * peer's misbehaviour is never an error: it is a fault recorded in the
 * step (see step.h), and processing goes on.
 */

#pragma once

enum {
	BFT_EOK       =  0,
	BFT_EINVAL    = -1,   /*!< Bad argument or state (our misuse). */
	BFT_ENOMEM    = -2,
	BFT_ESPACE    = -3,   /*!< A bounded buffer or array is full. */
	BFT_EMALF     = -4,   /*!< Bytes do not decode (peer input: a fault upstream). */
	BFT_EAGAIN    = -5,   /*!< Try later (a full queue, a link not up). */
	BFT_EIO       = -6,   /*!< A system call failed. */
	BFT_ETLS      = -7,   /*!< GnuTLS failed. */
	BFT_EAUTH     = -8,   /*!< A peer's key is not the pinned one. */
	BFT_ENOENT    = -9,   /*!< No such item (file, peer, key). */
	BFT_ETIMEOUT  = -10,  /*!< A bounded wait ran out. */
	BFT_ESTOPPED  = -11,  /*!< The component is stopping or stopped. */
	BFT_EEXIST    = -12,  /*!< The item exists and may not be replaced. */
};

/*! Returns a sentence describing an error code; never NULL. */
const char *bft_strerror(int code);
