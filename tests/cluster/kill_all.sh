#!/usr/bin/env bash
# kill_all.sh [KILLS [SECONDS]]
#
# All replicas crash at once under load (issue 9): four replicas (f = 1,
# the default signing protocol), KILL_ALL_CLIENTS (4) concurrent TSIG
# update clients (load_lib.sh: nsupdate over UDP and knsupdate over TCP,
# every answer recorded) for SECONDS (default 60). Meanwhile, KILLS times
# (default 2), all four knotd are killed in one kill -9 and started again
# from their own configs; the test waits (bounded) until every one has its links up and
# caught up with the others, and the load goes on. The kills are spread
# over the load: kill K at K / (KILLS + 1) of it, a few seconds later at
# random, once the clients made progress since (UPDATEs are being applied).
#
# At such a kill the replicas are rarely at the same batch: some have
# delivered, applied and acknowledged batch K + 1 while the others had not
# finished its epoch. The agreement state of that epoch must outlive the
# crash (coordinator/core/votelog.h, the vote log): the replicas behind
# must order the same batch K + 1 again, never another one. At every
# restart every replica must log that it gave its logged votes back to the
# broadcast (not a silent restart), and none that its log failed. After the
# load, load_check (load_lib.sh): every acknowledged UPDATE on every
# replica, identical sorted AXFRs, the zone verified by ldns-verify-zone
# and dnssec-verify, nothing applied twice, no replica that logged a batch
# delivered again or stopped applying.
#
# The seed (KILL_ALL_SEED) is printed; it chooses when to kill.
# In the suite with KILLS 2 (cluster-kill-all); longer runs opt-in
# (BFTDNS_CRASH_TESTS=1: cluster-kill-all-long).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/load_lib.sh"

kills=${1:-2}
seconds=${2:-${KILL_ALL_SECONDS:-60}}
clients=${KILL_ALL_CLIENTS:-4}
seed=${KILL_ALL_SEED:-$(( $$ ^ $(date +%s) ))}
n=4 f=1
[[ "$kills" =~ ^[0-9]+$ ]] && [ "$kills" -ge 1 ] || fail "KILLS must be a number >= 1"
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 20 ] || fail "SECONDS must be a number >= 20"
if [ "$kills" -gt 2 ] && [ "${BFTDNS_CRASH_TESTS:-0}" != 1 ]; then
	skip "opt-in: BFTDNS_CRASH_TESTS=1 meson test cluster-kill-all-long (long)"
fi
load_begin "$seed" "$clients" "$seconds" "$kills kills of all four"

# votes_back I: how often replica I gave its logged votes back at a start.
votes_back() {
	grep -c 'votes of epochs .* given back to the broadcast' "$CLUSTER_DIR/replica-$1/knot.log" || true
}

# past T: it is T (seconds since the epoch) or later.
past() {
	(($(date +%s) >= $1))
}

for ((kill = 1; kill <= kills; kill++)); do
	at=$((start + kill * seconds / (kills + 1) + RANDOM % 4))
	wait_for $(((at - $(date +%s) + 1) * 10)) past "$at" || true
	progress "before kill $kill" $((RANDOM % 5 + 2))
	(($(date +%s) < DEADLINE - 5)) ||
		fail "the load ends before kill $kill of $kills (raise SECONDS)"
	cluster_kill9_all
	log "t+$(($(date +%s) - start)) s: kill $kill: all four killed ($(acks) acknowledged so far)"
	restart_caught_up 1 2 3 4
	for i in 1 2 3 4; do
		[ "$(votes_back "$i")" = "$kill" ] ||
			crash_fail "replica $i: $(votes_back "$i") starts with its votes given back after $kill kills (vote log)"
	done
	log "t+$(($(date +%s) - start)) s: all four restarted on their votes, links up, serial $(cluster_serial 1)"
done

load_wait
load_check
for i in 1 2 3 4; do
	! grep -E 'vote log.*(sends nothing|not usable|stays silent)' "$CLUSTER_DIR/replica-$i/knot.log" ||
		fail "replica $i: its vote log (above)"
done
log "every restart took the replicas' votes back, no vote log failed"
cluster_stop
log "PASS"
