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
 * The coordinator's state, shared by core.c (API, start/stop), loop.c (the
 * epoll loop, accepting, timers), drive.c (feeding the protocol and
 * carrying out its steps) and stack.c (the production protocol stack). Everything here belongs to the coordinator
 * thread once it runs, except the inbox, up_mask, stop and the published
 * stats (under stats_lock).
 */

#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "coordinator/core/core.h"
#include "coordinator/core/inbox.h"
#include "coordinator/core/timer.h"
#include "coordinator/crypto/coin.h"
#include "coordinator/net/link.h"
#include "coordinator/net/link_key.h"
#include "coordinator/net/tls.h"

/*! Accepted connections not yet identified (TLS + HELLO in progress). */
#define CORE_PENDING_MAX	(2 * BFT_NODES_MAX)
/*! Timer ids: links 0..BFT_NODES_MAX-1, then pending connections. */
#define CORE_TIMER_PENDING	BFT_NODES_MAX
#define CORE_TIMERS		(BFT_NODES_MAX + CORE_PENDING_MAX)
/*! Messages a node may have sent to itself and not yet handled. */
#define CORE_LOCAL_MAX		65536
/*! Work per loop iteration, so that I/O is never starved. */
#define CORE_INPUTS_PER_LOOP	256
/*! ...and at most this long (ms) on inputs, after the first. */
#define CORE_INPUTS_BUDGET_MS	20
#define CORE_LOCAL_PER_LOOP	4096
/* The protocol's periodic time input (mux_tick()): well below tsign's help delay. */
#define CORE_TICK_MS		50

/*! epoll data: what an fd is, which one, and its generation (stale events are ignored). */
enum { CORE_EV_WAKE = 1, CORE_EV_LISTEN, CORE_EV_LINK, CORE_EV_PENDING };

typedef struct core_local {
	struct core_local *next;
	size_t len;
	uint8_t data[];
} core_local_t;

/*! What epoll knows about one fd of ours. */
typedef struct {
	int fd;
	uint64_t gen;
	uint32_t events;
} core_reg_t;

typedef struct {
	bft_conn_t *conn;
	uint64_t gen;
	core_reg_t reg;
} core_pending_t;

struct bftdns_core {
	bftdns_core_conf_t conf;
	char hosts[BFT_NODES_MAX][64];
	char pins[BFT_NODES_MAX][BFT_PIN_STR_MAX];
	char key_file[4096];
	char coin_file[4096];
	bft_tls_t tls;
	bft_link_t links[BFT_NODES_MAX];
	core_reg_t link_reg[BFT_NODES_MAX];
	core_pending_t pending[CORE_PENDING_MAX];
	uint64_t pending_gen;
	int listen_fd;
	uint16_t listen_port;
	struct sockaddr_storage listen_addr;
	socklen_t listen_addr_len;
	int epfd;
	bft_inbox_t inbox;
	bft_inbox_item_t *stalled;          /*!< An input the protocol refused for now. */
	bft_timers_t timers;
	void *proto;
	bft_step_t step;
	core_local_t *local_head;
	core_local_t *local_tail;
	size_t local_count;
	uint64_t now_ms;                    /*!< CLOCK_MONOTONIC: timers, links. */
	uint64_t wall_ms;                   /*!< CLOCK_REALTIME: the protocol's env.now_ms. */
	bft_nodeset_t more;                 /*!< Links to serve again without waiting. */
	uint64_t next_tick_ms;              /*!< Next mux_tick() (monotonic). */
	/* The production stack (stack.c). */
	bool production;
	coin_public_t coin_pub;
	coin_secret_t coin_sec;
	abc_conf_t abc_conf;
	tsign_conf_t tsign_conf;
	xfer_conf_t xfer_conf;
	mux_conf_t mux_conf;
	uint64_t fetched_logged;
	uint64_t fetched_log_ms;
	bool gone_logged;
	uint64_t gone_epoch;
	uint64_t faults_logged[BFT_NODES_MAX];
	/* The vote log (stack.c opens and restores it, drive.c appends). */
	char vote_dir[4096];
	votelog_t *votelog;
	bool votes_durable;                 /*!< abc restarted on its votes. */
	bool muted;                         /*!< A vote not logged: send nothing more. */
	uint64_t votes_restored, votes_refused;
	atomic_uint_fast64_t durable;       /*!< bftdns_core_set_durable(), from the resume epoch. */
	uint64_t trimmed_at;                /*!< Epoch of the last votelog_trim(). */
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	atomic_uint_fast32_t up_mask;
	bftdns_core_stats_t stats;          /*!< Loop-owned working copy. */
	bftdns_core_stats_t published;      /*!< Copy for other threads. */
	pthread_mutex_t stats_lock;
};

/* loop.c */
void *core_loop_main(void *arg);
int core_listen(bftdns_core_t *core);
uint64_t core_now_ms(void);

uint64_t core_wall_ms(void);

/* drive.c */
/*! Runs the protocol's start hook (production: mux_start()) on the thread. */
void core_drive_start(bftdns_core_t *core);
/*! BFT_EAGAIN: the protocol takes it later (nothing was done). */
int core_drive_input(bftdns_core_t *core, const uint8_t *data, size_t len);
/*! A DATA payload from a peer (the links' callback). */
void core_drive_message(void *ctx, bft_node_t from, const uint8_t *data, size_t len);
/*! Handles up to CORE_LOCAL_PER_LOOP self-addressed messages; true if more wait. */
bool core_drive_local(bftdns_core_t *core);
/*! The protocol's periodic time input (production: mux_tick()), when due. */
void core_drive_tick(bftdns_core_t *core);
void core_drive_free_local(bftdns_core_t *core);

/* stack.c */
/*! Production (conf.ops NULL): coin key, abc and mux confs; sets conf.ops. */
int core_stack_conf(bftdns_core_t *core, char *why, size_t why_len);
/*! Production with conf.vote_dir: opens and loads the vote log, and decides
 *  abc_conf.votes_durable (after the listening socket, before create).
 *  Only a log held by another coordinator (a reload) fails the start. */
int core_stack_votes(bftdns_core_t *core, char *why, size_t why_len);
/*! Replays conf.resume, then the votes, into the abc member (after create, before the thread). */
int core_stack_resume(bftdns_core_t *core, char *why, size_t why_len);
/*! Once per loop iteration: abc and tsign counters into the stats, operator log lines. */
void core_stack_watch(bftdns_core_t *core);
