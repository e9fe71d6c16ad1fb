#!/usr/bin/env bash
# SIG(0) in a group (n = 4, f = 1): update-auth sig0 closes the hole a TSIG
# leaves, since every replica holds the TSIG secret and one compromised
# replica could order an UPDATE signed with it.
#
# Replicas 2-4 take SIG(0) only (update-auth sig0) with one client key.
# Replica 1 plays the compromised one: it takes TSIG too and trusts a key of
# its own ("rogue"), so it orders what the others must refuse.
#
# 1. nsupdate -k with the client's SIG(0) key at replica 2: applied by all.
# 2. A TSIG-signed UPDATE at replica 3: REFUSED at intake, logged.
# 3. A TSIG-signed UPDATE and a rogue-key SIG(0) UPDATE at replica 1: it
#    orders both; replicas 2-4 refuse each at apply (REFUSED, not SIG(0);
#    NOTAUTH, BADKEY), logged, and their zones do not change (serial).
# 4. Another client UPDATE at replica 4 is applied by 2-4, whose zones are
#    the same.
. "$(dirname "$0")/lib.sh"

command -v dnssec-keygen >/dev/null || skip "no dnssec-keygen (bind9-utils)"
command -v nsupdate >/dev/null || skip "no nsupdate (bind9-dnsutils)"

cluster_keys "$TMP" 4 1

K="$TMP/sig0"
mkdir -p "$K/rogue"
CLIENT=$K/$(cd "$K" && dnssec-keygen -q -T KEY -n HOST -a ECDSAP256SHA256 client.example.com) ||
	fail "dnssec-keygen failed"
ROGUE=$K/rogue/$(cd "$K/rogue" && dnssec-keygen -q -T KEY -n HOST -a ED25519 rogue.example.com) ||
	fail "dnssec-keygen failed"
key_line() { grep -v '^;' "$1.key"; }

CLUSTER_EXTRA[1]="    update-key: [ \"$(key_line "$CLIENT")\", \"$(key_line "$ROGUE")\" ]
    update-auth: both"
for i in 2 3 4; do
	CLUSTER_EXTRA[i]="    update-key: \"$(key_line "$CLIENT")\"
    update-auth: sig0"
done
cluster_start
cluster_wait_all_links
cluster_wait_signed

port() { echo "${CLUSTER_DNS_PORT[$1]}"; }
has() {
	[ -n "$("$KDIG" @127.0.0.1 -p "$(port "$1")" +short "$2.example.com." A)" ]
}
wait_name() {
	wait_for 150 has "$1" "$2" || fail "replica $1: $2.example.com. A is missing"
}

# 1. SIG(0) from a client, at replica 2.
rc=$(nsupdate_rc "$(port 2)" "$CLIENT.private" "update add client.example.com. 300 A 192.0.2.1")
[ "$rc" = NOERROR ] || fail "the client's SIG(0) UPDATE to replica 2: $rc, want NOERROR"
for i in 1 2 3 4; do
	wait_name "$i" client
done
log "SIG(0) UPDATE (nsupdate -k, ECDSAP256SHA256) at replica 2: applied by all 4"

# 2. TSIG at an honest replica.
rc=$(nsupdate_rc "$(port 3)" "$TMP/replica-3/update.key" "update add tsig3.example.com. 300 A 192.0.2.3")
[ "$rc" = REFUSED ] || fail "a TSIG UPDATE to replica 3: $rc, want REFUSED"
grep -q 'UPDATE without SIG(0) refused, update-auth sig0' "$TMP/replica-3/knot.log" ||
	fail "replica 3 did not log why it refused the TSIG UPDATE"
log "TSIG UPDATE at replica 3: REFUSED at intake, logged"

# 3. Replica 1 orders a TSIG UPDATE and a rogue SIG(0) UPDATE. Its own
#    answers do not matter (it is the faulty one): they are not checked.
declare -A serial
for i in 2 3 4; do
	serial[$i]=$(soa_serial "$(port "$i")")
done
nsupdate_rc "$(port 1)" "$TMP/replica-1/update.key" \
	"update add tsig1.example.com. 300 A 192.0.2.11" >"$TMP/r1-tsig.rc" &
CLUSTER_BG+=($!)
nsupdate_rc "$(port 1)" "$ROGUE.private" \
	"update add rogue.example.com. 300 A 192.0.2.12" >"$TMP/r1-rogue.rc" &
CLUSTER_BG+=($!)
for i in 2 3 4; do
	L=$TMP/replica-$i/knot.log
	wait_log "$L" 'refused at batch time [0-9]+, REFUSED, not SIG\(0\)-signed \(update-auth sig0 takes SIG\(0\)-signed UPDATEs only\)' 200 ||
		fail "replica $i did not refuse the TSIG UPDATE replica 1 ordered"
	wait_log "$L" 'refused at batch time [0-9]+, NOTAUTH, SIG\(0\) BADKEY \(SIG\(0\) key not configured' 200 ||
		fail "replica $i did not refuse the rogue SIG(0) UPDATE replica 1 ordered"
done
for i in 2 3 4; do
	for n in tsig1 rogue; do
		has "$i" "$n" && fail "replica $i applied $n.example.com. ordered by replica 1"
	done
	s=$(soa_serial "$(port "$i")")
	[ "$s" = "${serial[$i]}" ] || fail "replica $i: serial ${serial[$i]} -> $s after the refused UPDATEs"
done
log "TSIG and rogue-key SIG(0) UPDATEs ordered by replica 1: refused at apply by 2-4 (REFUSED, NOTAUTH BADKEY), logged, their zones unchanged"

# 4. The group goes on: a client UPDATE at replica 4.
rc=$(nsupdate_rc "$(port 4)" "$CLIENT.private" "update add client4.example.com. 300 A 192.0.2.4")
[ "$rc" = NOERROR ] || fail "the client's SIG(0) UPDATE to replica 4: $rc, want NOERROR"
for i in 2 3 4; do
	wait_name "$i" client4
done
for pid in "${CLUSTER_BG[@]}"; do
	wait "$pid" 2>/dev/null || true
done
CLUSTER_BG=()
cluster_stop_one 1
cluster_wait_same_zone "$TMP/zones"
log "client UPDATE at replica 4 applied; replicas 2-4 hold the same zone"
cluster_stop
log "PASS"
