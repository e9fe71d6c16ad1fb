#!/usr/bin/env bash
# quorum.sh N F [PROTOCOL]
#
# N knotd replicas with mod-bftdns on 127.0.0.1, f = F; a history of
# QUORUM_BEFORE (30) UPDATEs, one batch each. Then, with f + 1 replicas
# stopped the others cannot order or sign anything: UPDATEs taken by two
# running replicas (knsupdate over TCP, nsupdate over UDP) wait, their
# clients get no answer, and the zone on every running replica stays as it
# was (serial and AXFR). Then the stopped replicas are started again from
# their own configuration: both UPDATEs complete with NOERROR, and every
# replica, the restarted ones too, ends with the same zone, which holds both
# changes, passes ldns-verify-zone and dnssec-verify, and delv validates.
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || fail "usage: quorum.sh N F [PROTOCOL]"
n=$1 f=$2
CLUSTER_PROTOCOL=${3:-}
[ "$f" -ge 1 ] || fail "quorum.sh needs f >= 1"
for tool in nsupdate delv ldns-verify-zone dnssec-verify dig; do
	command -v "$tool" >/dev/null || skip "$tool is missing (./run.sh deps installs it)"
done

# stat I NAME: counter NAME of replica I's module (knotc zone-stats).
stat() {
	"$KNOTC" -c "$TMP/replica-$1/knot.conf" -t 5 zone-stats example.com. "mod-bftdns.$2" 2>/dev/null |
		awk -F' = ' 'NR == 1 { print $2 }'
}
stat_is() { [ "$(stat "$1" "$2")" = "$3" ]; }

cluster_keys "$TMP" "$n" "$f"
cluster_start
cluster_wait_all_links 300
cluster_wait_signed 600
# A history first: QUORUM_BEFORE UPDATEs, one batch each, to replicas in
# turn. 30 by default: more than one FETCH answer (16 batches), so the
# restarted replicas must keep fetching up to the epoch the others wait in
# and take part in it (doc/broadcast.md, "Catch-up", 5; with 8 the old bug
# of stopping one batch short could not show).
before=${QUORUM_BEFORE:-30}
for ((k = 1; k <= before; k++)); do
	r=$(((k - 1) % n + 1))
	rc=$(nsupdate_rc "${CLUSTER_DNS_PORT[r]}" "$TMP/replica-$r/update.key" \
		"update add before-$k.example.com. 300 A 192.0.2.$k")
	[ "$rc" = NOERROR ] || fail "UPDATE before-$k to replica $r was answered $rc"
done
cluster_wait_same_zone "$TMP/before" 600
serial=$(awk '$4 == "SOA" { print $7; exit }' "$TMP/before/zone")
log "n = $n, f = $f: all replicas up, signed, $before UPDATEs applied (serial $serial)"

# Stop f + 1 replicas: the last ones. The first two running ones take an
# UPDATE each.
stopped=()
for ((i = n - f; i <= n; i++)); do
	cluster_stop_one "$i"
	stopped+=("$i")
done
running=($(cluster_up))
a=${running[0]} b=${running[1]}
for i in "${running[@]}"; do
	wait_for 300 stat_is "$i" peers-up $((n - f - 2)) ||
		fail "replica $i does not see replicas ${stopped[*]} gone (peers-up $(stat "$i" peers-up))"
done
log "replicas ${stopped[*]} stopped ($((f + 1)) = f + 1): replicas ${running[*]} see their links down"

taken_a=$(stat "$a" updates-taken) taken_b=$(stat "$b" updates-taken)
(KNSUPDATE_TIMEOUT=300 knsupdate_rc "${CLUSTER_DNS_PORT[a]}" \
	"update add during-a.example.com. 300 A 192.0.2.2" >"$TMP/client-a.out") &
CLUSTER_BG+=($!)
(NSUPDATE_ARGS="-t 300 -u 300 -r 0" nsupdate_rc "${CLUSTER_DNS_PORT[b]}" "$TMP/replica-$b/update.key" \
	"update add during-b.example.com. 300 TXT \"sent while f + 1 were down\"" >"$TMP/client-b.out") &
CLUSTER_BG+=($!)
wait_for 300 stat_is "$a" updates-taken $((${taken_a:-0} + 1)) || fail "replica $a did not take the UPDATE"
wait_for 300 stat_is "$b" updates-taken $((${taken_b:-0} + 1)) || fail "replica $b did not take the UPDATE"

# Taken, and nothing may come of them: no answer, no change anywhere.
for pid in "${CLUSTER_BG[@]}"; do
	kill -0 "$pid" 2>/dev/null ||
		fail "a client got an answer with f + 1 replicas down: $(cat "$TMP"/client-*.out)"
done
for i in "${running[@]}"; do
	s=$(soa_serial "${CLUSTER_DNS_PORT[i]}")
	[ "$s" = "$serial" ] || fail "replica $i moved to serial $s with f + 1 replicas down"
	axfr_sorted "${CLUSTER_DNS_PORT[i]}" "$TMP/during-$i" || fail "no AXFR from replica $i"
	cmp -s "$TMP/during-$i" "$TMP/before/zone" || fail "replica $i's zone changed with f + 1 replicas down"
done
log "replicas $a and $b took an UPDATE each: both wait, no client has an answer, the zone is unchanged (serial $serial)"

# Back from their own configuration: the UPDATEs complete.
for i in "${stopped[@]}"; do
	cluster_start_one "$i"
done
for pid in "${CLUSTER_BG[@]}"; do
	wait "$pid" || true
done
CLUSTER_BG=()
[ "$(cat "$TMP/client-a.out")" = NOERROR ] || fail "the UPDATE to replica $a: $(cat "$TMP/client-a.out")"
[ "$(cat "$TMP/client-b.out")" = NOERROR ] || fail "the UPDATE to replica $b: $(cat "$TMP/client-b.out")"
log "replicas ${stopped[*]} restarted: both UPDATEs answered NOERROR"

cluster_wait_same_zone "$TMP/after" 600
zone=$TMP/after/zone
after=$(awk '$4 == "SOA" { print $7; exit }' "$zone")
[ "$after" -gt "$serial" ] || fail "the serial did not move ($serial -> $after)"
grep -Eq '^during-a\.example\.com\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.2$' "$zone" ||
	fail "during-a is missing"
grep -Eq '^during-b\.example\.com\.[[:space:]]+300[[:space:]]+IN[[:space:]]+TXT' "$zone" ||
	fail "during-b is missing"
for ((k = 1; k <= before; k++)); do
	grep -Eq "^before-$k\.example\.com\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A" "$zone" ||
		fail "before-$k is missing"
done
log "all $n replicas serve the same zone (serial $serial -> $after) with both changes"

cp "$TMP/keys/example.com.dnskey" "$TMP/dnskey"
zone_verify "$zone" "$TMP/dnskey"
trust_anchor "$TMP/dnskey" "$TMP/anchor"
for i in $(cluster_up); do
	delv_validates "${CLUSTER_DNS_PORT[i]}" "$TMP/anchor" during-a.example.com. A ||
		fail "delv does not validate during-a.example.com. A from replica $i"
done
log "ldns-verify-zone and dnssec-verify accept it, delv validates on every replica"

cluster_stop
log "PASS"
