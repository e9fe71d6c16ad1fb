#!/usr/bin/env bash
# bftdnsctl against a real knotd with mod-bftdns (n = 1) and its control
# socket: status shows the replica's own id, n, f and batches, and the batch
# number grows with an UPDATE; sign-zone and refresh are ordered (a later
# status shows more batches), another zone is refused with no-zone; the
# socket stays up across knotc reload; a second zone naming the same socket
# in one knotd is refused at load with a clear line; knotc zone-stats shows
# the module's counters; without the socket, or with knotd stopped,
# bftdnsctl says so.
# Usage: ctl.sh PATH-OF-BFTDNSCTL (tests/knot/meson.build).
. "$(dirname "$0")/lib.sh"

CTL=${1:?usage: ctl.sh PATH-OF-BFTDNSCTL}
[ -x "$CTL" ] || skip "no bftdnsctl at $CTL"

port=$(free_port)
sock="$TMP/r1/ctl.sock"
make_key "$TMP/keys"
replica_setup "$TMP/r1" "$port" "$TMP/keys" "    control-socket: \"$sock\""
conf="$TMP/r1/knot.conf"
key="$TMP/r1/update.key"
knot_start "$TMP/r1"
wait_signed "$TMP/r1"

# ctl ARGS...: runs bftdnsctl -c knot.conf; stdout in $out, stderr in $err, status in $rc.
ctl() {
	rc=0
	"$CTL" -c "$conf" "$@" >"$TMP/ctl.out" 2>"$TMP/ctl.err" || rc=$?
	out=$(cat "$TMP/ctl.out")
	err=$(cat "$TMP/ctl.err")
}

# field KEY: the value of `KEY: value` in the last status.
field() {
	sed -n "s/^$1: //p" <<<"$out" | head -n 1
}

# status_batch: the last batch number in a fresh status ("none" before the first).
status_batch() {
	ctl status
	[ "$rc" = 0 ] || fail "bftdnsctl status: exit $rc: $err"
	field last-batch
}

# batch_above N: true once the status shows a last batch above N.
batch_above() {
	local b
	b=$(status_batch) || return 1
	[ "$b" != none ] && [ "$b" -gt "$1" ]
}

# 1. status: the replica's real configuration and state.
ctl status
[ "$rc" = 0 ] || fail "bftdnsctl status: exit $rc: $err"
[ "$(field replica)" = 1 ] && [ "$(field replicas)" = 1 ] && [ "$(field faults)" = 0 ] ||
	fail "status is not replica 1 of 1, f = 0: $out"
[ "$(field peers)" = "0/0 connected" ] || fail "n = 1 has no peers: $out"
grep -qx 'zone: example.com. digest=none yet (every 100 batches) signing=[a-z]*' <<<"$out" ||
	fail "no line for example.com. (no digest before batch 100, a signing protocol): $out"
grep -qx 'bad-shares: none' <<<"$out" || fail "n = 1: no bad shares line 'none': $out"
grep -qx 'link-messages-sent: 0' <<<"$out" && grep -qx 'link-bytes-received: 0' <<<"$out" ||
	fail "n = 1 has no links, yet link counters are not 0: $out"
grep -qx 'updates-received: 0' <<<"$out" || fail "updates-received before any UPDATE: $out"
batch0=$(field last-batch)
[ "$batch0" != none ] && [ "$batch0" -ge 1 ] || fail "no batch after the initial signing: $out"
[[ "$(field last-batch-time)" =~ ^[0-9]+\ \([0-9T:-]+Z\)$ ]] || fail "bad last-batch-time: $out"
log "status: replica 1 of 1, f = 0, last batch $batch0 at $(field last-batch-time)"

# 2. An UPDATE is a new batch.
[ "$(nsupdate_rc "$port" "$key" "update add ctl.example.com. 300 A 192.0.2.44")" = NOERROR ] ||
	fail "the UPDATE failed"
wait_for 50 batch_above "$batch0" || fail "last-batch did not grow after an UPDATE: $out"
batch1=$(status_batch)
ctl status
grep -qx 'updates-received: 1' <<<"$out" && grep -qx 'updates-applied: 1' <<<"$out" ||
	fail "the UPDATE is not counted as received and applied: $out"
log "after one UPDATE: last batch $batch1"

# 3. sign-zone and refresh are ordered: accepted, then a batch.
ctl sign-zone example.com.
[ "$rc" = 0 ] || fail "sign-zone example.com.: exit $rc: $err"
grep -q '^queued' <<<"$out" || fail "sign-zone answered: $out"
answer=$out
wait_for 50 batch_above "$batch1" || fail "no batch after sign-zone: $out"
batch2=$(status_batch)
wait_log "$TMP/r1/knot.log" 'control: sign-zone example\.com\.: accepted' ||
	fail "no log line for the accepted sign-zone"
log "sign-zone example.com.: '$answer', last batch $batch2"

ctl refresh EXAMPLE.com
[ "$rc" = 0 ] || fail "refresh EXAMPLE.com: exit $rc: $err"
wait_for 50 batch_above "$batch2" || fail "no batch after refresh: $out"
batch3=$(status_batch)
log "refresh EXAMPLE.com: queued, last batch $batch3"

ctl sign-zone other.zone.
[ "$rc" = 6 ] || fail "sign-zone other.zone.: exit $rc (want 6): $out $err"
grep -q 'no-zone: other.zone. is not served' <<<"$err" || fail "sign-zone other.zone.: $err"
log "sign-zone other.zone.: $err"
[ "$(status_batch)" = "$batch3" ] || fail "a refused sign-zone made a batch"

# 4. knotc zone-stats: the module's counters, the UPDATE and the batches counted.
stats=$("$KNOTC" -c "$conf" -f zone-stats example.com. mod-bftdns 2>&1) || fail "zone-stats: $stats"
counter() {
	sed -n "s/^\[example\.com\.\] mod-bftdns\.$1 = //p" <<<"$stats"
}
[ "$(counter updates-taken)" = 1 ] || fail "updates-taken is not 1: $stats"
[ "$(counter updates-applied)" = 1 ] || fail "updates-applied is not 1: $stats"
[ "$(counter updates-refused)" = 0 ] || fail "updates-refused is not 0: $stats"
[ "$(counter batches)" = "$batch3" ] || fail "batches is not $batch3: $stats"
[ "$(counter peers-up)" = 0 ] || fail "peers-up is not 0 with n = 1: $stats"
# Per-replica counters have one index per replica; with n = 1 Knot prints the
# single one without its [ID].
[ "$(counter bad-shares)" = 0 ] || fail "no bad-shares = 0: $stats"
[ "$(counter link-ups)" = 0 ] || fail "no link-ups = 0: $stats"
[ -n "$(counter signing-instances)" ] || fail "no signing-instances: $stats"
log "knotc zone-stats: $(tr '\n' ' ' <<<"$stats" | tr -s ' ')"

# 5. knotc reload: the zone's new module instance takes the socket over.
# With n = 1 its batches are numbered from 1 again (its first is the
# signing pass a new instance proposes at once).
"$KNOTC" -c "$conf" reload >/dev/null || fail "knotc reload failed"
wait_log "$TMP/r1/knot.log" 'control socket .*: this instance answers from now on' ||
	fail "the new instance did not take the control socket over"
wait_for 100 batch_above 0 || fail "the new instance applied no batch: $out"
batch4=$(status_batch)
ctl sign-zone example.com.
[ "$rc" = 0 ] || fail "sign-zone after the reload: exit $rc: $err"
wait_for 100 batch_above "$batch4" || fail "no batch after a sign-zone after the reload: $out"
log "after knotc reload: the socket answers, the new instance's last batch $batch4, then $(status_batch)"

# 6. Stopped knotd: the socket is gone, bftdnsctl says what to check.
knot_stop "$KNOT_PID"
[ ! -e "$sock" ] || fail "the socket file is left after knotd stopped"
ctl status
[ "$rc" = 3 ] || fail "status with knotd stopped: exit $rc (want 3)"
grep -q "no control socket at $sock: is knotd running with mod-bftdns and control-socket set?" \
	<<<"$err" || fail "status with knotd stopped: $err"
log "knotd stopped: $err"

# 7. A knot.conf without control-socket: bftdnsctl says so.
replica_setup "$TMP/plain" "$port" "$TMP/keys"
rc=0
err=$("$CTL" -c "$TMP/plain/knot.conf" status 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q 'no control-socket item' <<<"$err" ||
	fail "conf without control-socket: exit $rc: $err"
log "no control-socket in knot.conf: $err"

# 8. Two zones naming the same socket in one knotd: the second is refused at
# load with a sentence; the first one's socket answers for it alone.
"$BFTDNS_KEYGEN" --zone other.test. --replicas 1 --faults 0 --bits 1024 --out "$TMP/keys2" \
	>"$TMP/keys2.log" 2>&1 || { cat "$TMP/keys2.log" >&2; fail "bftdns-keygen other.test. failed"; }
printf '$ORIGIN other.test.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 900 604800 300\n@ NS ns1\nns1 A 192.0.2.2\n' \
	>"$TMP/r1/other.test.zone"
cat >>"$conf" <<-CONF
  - domain: other.test.
    file: "$TMP/r1/other.test.zone"
    module: mod-bftdns/other
CONF
sed -i "s|^mod-bftdns:\$|&\n  - id: other\n    replica-id: 1\n    replicas: 1\n    faults: 0\n    key-share: \"$TMP/keys2/share-1.key\"\n    control-socket: \"$sock\"|" "$conf"
out=$("$KNOTC" -c "$conf" conf-check 2>&1) || fail "knotc conf-check of two zones: $out"
: >"$TMP/r1/knot.log"
knot_start "$TMP/r1"
wait_log "$TMP/r1/knot.log" "control-socket $sock is already the socket of zone [a-z.]+ in this knotd; give each zone's mod-bftdns section its own control-socket path" ||
	fail "no log line for two zones on one control socket"
ctl status
[ "$rc" = 0 ] || fail "status with two zones: exit $rc: $err"
[ "$(grep -c '^zone: ' <<<"$out")" = 1 ] || fail "the socket does not answer for one zone: $out"
log "two zones on one socket: $(grep -o 'already the socket of zone [a-z.]*' "$TMP/r1/knot.log" | head -n 1); status for $(field zone | cut -d' ' -f1)"
knot_stop "$KNOT_PID"

log "PASS"
