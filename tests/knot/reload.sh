#!/usr/bin/env bash
# knotc reload while UPDATEs are in flight: the module instance is replaced
# (the old one stops, the new one takes over), knotd does not crash, every
# client gets an answer (NOERROR, or SERVFAIL for one caught by the reload),
# nothing is applied twice, and the zone afterwards still verifies.
. "$(dirname "$0")/lib.sh"

port=$(free_port)
make_key "$TMP/keys"
replica_setup "$TMP/r1" "$port" "$TMP/keys"
knot_start "$TMP/r1"
wait_signed "$TMP/r1"
key="$TMP/r1/update.key"

[ "$(nsupdate_rc "$port" "$key" "update add before.example.com. 300 A 192.0.2.1")" = NOERROR ] ||
	fail "update before the reload failed"

# Clients keep sending while the configuration is reloaded twice.
pids=()
for i in $(seq 1 20); do
	nsupdate_rc "$port" "$key" "update add during$i.example.com. 300 A 192.0.2.$i" >"$TMP/c$i.rc" &
	pids+=($!)
	if [ $((i % 7)) -eq 0 ]; then
		"$KNOTC" -c "$TMP/r1/knot.conf" reload >/dev/null || fail "knotc reload failed"
	fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
kill -0 "$KNOT_PID" 2>/dev/null || fail "knotd died during the reloads"

ok=0 servfail=0
for i in $(seq 1 20); do
	rc=$(cat "$TMP/c$i.rc")
	case "$rc" in
		NOERROR) ok=$((ok + 1))
			[ "$("$KDIG" @127.0.0.1 -p "$port" +short "during$i.example.com." A)" = "192.0.2.$i" ] ||
				fail "client $i got NOERROR but during$i is not served" ;;
		SERVFAIL) servfail=$((servfail + 1)) ;;
		*) fail "client $i: $rc" ;;
	esac
done
log "20 clients across 2 reloads: $ok NOERROR, $servfail SERVFAIL"
[ "$(grep -c 'active, replica 1 of 1' "$TMP/r1/knot.log")" -ge 3 ] ||
	fail "the module was not reloaded"

# The new instance takes UPDATEs, and the zone is consistent and signed.
[ "$(nsupdate_rc "$port" "$key" "update add after.example.com. 300 A 192.0.2.2")" = NOERROR ] ||
	fail "update after the reloads failed"
axfr "$port" "$TMP/axfr.zone"
out=$(ldns-verify-zone "$TMP/axfr.zone" 2>&1) || fail "ldns-verify-zone: $out"
log "after the reloads: $(tail -n 1 <<<"$out")"

log "PASS"
