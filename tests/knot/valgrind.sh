#!/usr/bin/env bash
# knotd with mod-bftdns under valgrind: initial signing, UPDATEs over UDP and
# TCP, a failed prerequisite, a refused UPDATE, a reload (module unload and
# load), shutdown; no memory error and no definite leak.
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || skip "valgrind is missing"

port=$(free_port)
make_key "$TMP/keys"
replica_setup "$TMP/r1" "$port" "$TMP/keys"
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--log-file="$TMP/valgrind.log" "$KNOTD" -c "$TMP/r1/knot.conf" >"$TMP/r1/knotd.out" 2>&1 &
KNOT_PID=$!
KNOT_PIDS+=("$KNOT_PID")
wait_for 600 "$KNOTC" -c "$TMP/r1/knot.conf" -t 1 status >/dev/null 2>&1 ||
	fail "knotd did not start under valgrind"
wait_log "$TMP/r1/knot.log" 'DDNS, ordered change of [0-9]+ updates applied, serial 1 -> ' 600 ||
	fail "the zone was not signed"
key="$TMP/r1/update.key"

check() { local got; got=$(nsupdate_rc "$port" "$2" "$3"); [ "$got" = "$1" ] || fail "$3: got $got, want $1"; }
check NOERROR "$key" "update add v1.example.com. 300 A 192.0.2.1"
NSUPDATE_ARGS=-v check NOERROR "$key" "update add v2.example.com. 300 A 192.0.2.2"
check YXDOMAIN "$key" "prereq nxdomain v1.example.com.
update add v1.example.com. 300 TXT \"x\""
check NOTAUTH "" "update add nokey.example.com. 300 A 192.0.2.9"
"$KNOTC" -c "$TMP/r1/knot.conf" reload >/dev/null || fail "knotc reload failed"
wait_for 600 test "$(grep -c 'active, replica 1 of 1' "$TMP/r1/knot.log")" -ge 2 ||
	fail "the module was not loaded again"
check NOERROR "$key" "update add v3.example.com. 300 A 192.0.2.3"

kill "$KNOT_PID"
rc=0
wait "$KNOT_PID" || rc=$?
KNOT_PIDS=()
[ "$rc" -eq 0 ] || { cat "$TMP/valgrind.log" >&2; fail "knotd under valgrind exited with $rc"; }
grep -q 'ERROR SUMMARY: 0 errors' "$TMP/valgrind.log" || { cat "$TMP/valgrind.log" >&2; fail "valgrind found errors"; }
log "valgrind: $(grep -o 'ERROR SUMMARY: .*' "$TMP/valgrind.log"); $(grep -o 'definitely lost: .*' "$TMP/valgrind.log")"
log "PASS"
