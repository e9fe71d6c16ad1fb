#!/usr/bin/env bash
# crash_load.sh [SECONDS [EVENTS]]
#
# Crashes under load (issue 9): four replicas (f = 1, the default signing
# protocol), CRASH_LOAD_CLIENTS (4) concurrent TSIG update clients for
# SECONDS (default CRASH_LOAD_SECONDS, 90), each sending its UPDATEs one
# after another to the replicas in turn, nsupdate (UDP) and knsupdate (TCP)
# alternately. Meanwhile, paced by the clients' progress, never more than
# f = 1 replica down at a time, at most EVENTS times (default 100):
#  - first, one replica is killed (kill -9), its storage wiped (journal,
#    timers, KASP database, the module's state directory; the zone file
#    back to the provisioned one: cluster_wipe) and it is started again
#    from its own config: it starts at batch 0 and catches up from its
#    peers' kept batches (FETCH from epoch 0; no peer restarted yet);
#  - then a random replica is killed, the group goes on without it, it is
#    restarted from its own config and catches up; again and again;
#  - (all four killed at once, again and again: kill_all.sh).
# The seed (CRASH_LOAD_SEED) is printed; it chooses the victims.
#
# The clients and what the zone must hold after them: load_lib.sh.
#
# In the suite: 50 s of load, at most 12 crash events (cluster-crash-load,
# about 1 min). Longer runs opt-in (BFTDNS_CRASH_TESTS=1: more than 60 s of
# load: cluster-crash-load-long, the default 90 s, 25-40 kills, about 1.7 min).
# Bugs the long runs found: doc/operations.md, "After a crash".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/load_lib.sh"

seconds=${1:-${CRASH_LOAD_SECONDS:-90}}
max_events=${2:-100}
clients=${CRASH_LOAD_CLIENTS:-4}
seed=${CRASH_LOAD_SEED:-$(( $$ ^ $(date +%s) ))}
n=4 f=1
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -ge 20 ] || fail "SECONDS must be a number >= 20"
[[ "$max_events" =~ ^[0-9]+$ ]] && [ "$max_events" -ge 3 ] || fail "EVENTS must be a number >= 3"
if [ "$seconds" -gt 60 ] && [ "${BFTDNS_CRASH_TESTS:-0}" != 1 ]; then
	skip "opt-in: BFTDNS_CRASH_TESTS=1 meson test cluster-crash-load-long (long)"
fi
load_begin "$seed" "$clients" "$seconds" "at most $max_events crash events"

# Crashes, each while the clients make progress, one at a time, until
# 10 s before the deadline (the last restarted replica catches up under
# load) or EVENTS of them.
events=0 wiped=
while (($(date +%s) < DEADLINE - 10)); do
	progress "before crash $((events + 1))" 5
	victim=$((RANDOM % n + 1))
	cluster_kill9 "$victim"
	what=killed
	if [ -z "$wiped" ]; then
		cluster_wipe "$victim"
		wiped=$victim
		what="killed, storage wiped"
	fi
	log "t+$(($(date +%s) - start)) s: replica $victim $what ($(acks) acknowledged so far)"
	progress "with replica $victim down" 3
	restart_caught_up "$victim"
	log "t+$(($(date +%s) - start)) s: replica $victim restarted and caught up (serial $(cluster_serial "$victim"))"
	events=$((events + 1))
	[ "$events" -lt "$max_events" ] || break
done
[ "$events" -ge 3 ] || fail "only $events crash events in $seconds s (raise SECONDS)"

log "$events crash events"
load_wait
load_check
cluster_stop
log "PASS"
