#!/usr/bin/env bash
# Exactly-once application across crashes (knot-patch/0009, module/position.c):
# the position of the last applied batch is durable with the journal commit
# of its change, and a restarted knotd resumes the atomic broadcast after it.
#
# Four replicas (f = 1), TSIG-signed UPDATEs. Each UPDATE adds a name of its
# own and replaces the TXT of counter.example.com. with its number (delete,
# then add): applied once it bumps the SOA serial once; an old one applied
# again would set the counter back and bump the serial again. So:
#  1. five UPDATEs; kill -9 replica 3; five more to the others; restart
#     replica 3 from its own config: it resumes after its last batch (log),
#     catches up, and its sorted AXFR (SOA serial included) equals the
#     others'; the serial rose by exactly one per UPDATE; counter = 10.
#  2. kill -9 all four, restart all: the same zone and serial as before,
#     then two more UPDATEs are applied by all, serial + 2, counter = 12.
# No replica ever logs a batch delivered again. And journal-content none is
# refused at conf-check for a replicated zone.
. "$(dirname "$0")/lib.sh"

cluster_keys "$TMP" 4 1

# update K PORT: UPDATE number K to the replica on PORT, must be NOERROR.
update() {
	local k=$1 port=$2 rc
	rc=$(nsupdate_rc "$port" "$TMP/replica-1/update.key" "update add name-$k.example.com. 300 A 192.0.2.$k
update delete counter.example.com. TXT
update add counter.example.com. 300 TXT \"$k\"")
	[ "$rc" = NOERROR ] || fail "UPDATE $k to port $port: $rc"
}

# counter PORT: the counter's TXT as served.
counter() {
	"$KDIG" @127.0.0.1 -p "$1" +short counter.example.com. TXT | tr -d '"'
}

# converged DIR: every running replica's sorted AXFR is the same.
converged() {
	cluster_same_zone "$1"
}

# check_all WANT-COUNTER WANT-SERIAL: every running replica serves them.
check_all() {
	local i c s
	for i in $(cluster_up); do
		c=$(counter "${CLUSTER_DNS_PORT[i]}")
		s=$(soa_serial "${CLUSTER_DNS_PORT[i]}")
		[ "$c" = "$1" ] || fail "replica $i: counter '$c', want $1"
		[ "$s" = "$2" ] || fail "replica $i: serial $s, want $2 (an UPDATE applied twice or lost)"
	done
}

# resumptions I: how often replica I logged resuming from its durable position.
resumptions() {
	grep -c 'resumed after batch [0-9]* (durable' "$TMP/replica-$1/knot.log" || true
}

# resumed_more I N: replica I logged more than N resumptions.
resumed_more() {
	[ "$(resumptions "$1")" -gt "$2" ]
}

# restart I...: starts the replicas again from their own configs and waits
# (bounded) until each logs one more resumption from its durable position.
restart() {
	local i before=()
	for i in "$@"; do
		before[i]=$(resumptions "$i")
		cluster_start_one "$i"
	done
	for i in "$@"; do
		wait_for 300 resumed_more "$i" "${before[i]}" ||
			fail "replica $i did not resume from its durable position"
	done
}

# A replicated zone keeps its position with its journal: without one it is
# refused at conf-check, with a sentence.
for i in 1 2 3 4; do
	cluster_conf "$i"
done
sed 's/^    module: mod-bftdns\/default$/&\n    journal-content: none/' \
	"$TMP/replica-1/knot.conf" >"$TMP/no-journal.conf"
grep -q 'journal-content: none' "$TMP/no-journal.conf" || fail "test conf not written"
"$KNOTC" -c "$TMP/no-journal.conf" conf-check >"$TMP/no-journal.out" 2>&1 &&
	fail "conf-check accepted journal-content none for a replicated zone"
grep -q "'journal-content' must not be 'none'" "$TMP/no-journal.out" ||
	fail "conf-check did not say why: $(cat "$TMP/no-journal.out")"
log "journal-content none refused at conf-check"

for i in 1 2 3 4; do
	cluster_start_one "$i"
done
cluster_wait_all_links 300
cluster_wait_signed 600
wait_for 300 converged "$TMP/start" || fail "the replicas did not converge after signing"
s0=$(soa_serial "${CLUSTER_DNS_PORT[1]}")
log "4 replicas up and signed, serial $s0"

# --- 1. One replica killed and restarted -----------------------------------
for k in 1 2 3 4 5; do
	update "$k" "${CLUSTER_DNS_PORT[$(( (k - 1) % 4 + 1 ))]}"
done
wait_for 300 converged "$TMP/phase1" || fail "no convergence after 5 UPDATEs"
check_all 5 $((s0 + 5))
cluster_kill9 3
log "5 UPDATEs applied by all (serial $((s0 + 5))), replica 3 killed"

others=(1 2 4)
for k in 6 7 8 9 10; do
	update "$k" "${CLUSTER_DNS_PORT[${others[$((k % 3))]}]}"
done
log "5 more UPDATEs to replicas 1, 2, 4"

restart 3
resumed=$(grep -Eo 'resumed after batch [0-9]+' "$TMP/replica-3/knot.log" | tail -n 1)
wait_for 600 converged "$TMP/phase2" ||
	{ cluster_wait_same_zone "$TMP/phase2" 1; fail "replica 3 did not catch up"; }
check_all 10 $((s0 + 10))
cluster_no_redelivery || fail "a replica applied a batch again or stopped applying"
log "replica 3 restarted ($resumed), caught up: same AXFR as the others, serial $((s0 + 10)), counter 10"

# --- 2. Every replica killed at once and restarted --------------------------
for i in 1 2 3 4; do
	cluster_kill9 "$i"
done
log "all 4 replicas killed"
restart 1 2 3 4
wait_for 300 converged "$TMP/phase3" || fail "the replicas differ after the restart of all"
cmp -s "$TMP/phase2/zone" "$TMP/phase3/zone" || {
	diff "$TMP/phase2/zone" "$TMP/phase3/zone" >&2
	fail "the zone changed across the restart of all replicas"
}
check_all 10 $((s0 + 10))
log "all 4 restarted: the same zone, serial $((s0 + 10))"

cluster_wait_all_links 300
update 11 "${CLUSTER_DNS_PORT[2]}"
update 12 "${CLUSTER_DNS_PORT[4]}"
wait_for 300 converged "$TMP/phase4" || fail "no convergence after 2 more UPDATEs"
check_all 12 $((s0 + 12))
cluster_no_redelivery || fail "a replica applied a batch again or stopped applying"
log "2 more UPDATEs after the restart of all: serial $((s0 + 12)), counter 12"
cluster_stop
log "PASS"
