#!/usr/bin/env bash
# A first signing pass the zone's journal cannot hold (journal-max-usage,
# module/jsize.h): the module says so before any signature is made (log,
# bftdnsctl status, sign-zone refused), orders no signing pass, and once
# journal-max-usage is raised to what it suggests, knotc reload signs the zone.
# Usage: journal_size.sh PATH-OF-BFTDNSCTL (tests/knot/meson.build).
. "$(dirname "$0")/lib.sh"

CTL=${1:?usage: journal_size.sh PATH-OF-BFTDNSCTL}
[ -x "$CTL" ] || skip "no bftdnsctl at $CTL"

port=$(free_port)
sock="$TMP/r1/ctl.sock"
make_key "$TMP/keys"
# Knot's smallest journal-max-usage (conf/schema.c: 40 KiB); 400 names sign
# to some 150 KB.
replica_setup "$TMP/r1" "$port" "$TMP/keys" "    control-socket: \"$sock\"" \
	"    journal-max-usage: 40K"
for i in $(seq 1 400); do
	echo "host$i A 192.0.2.$((i % 250 + 1))"
done >>"$TMP/r1/example.com.zone"
conf="$TMP/r1/knot.conf"
knot_start "$TMP/r1"

# 1. The error, naming the estimate and the setting to raise.
wait_log "$TMP/r1/knot.log" "signing pass not proposed: .*journal-max-usage \(40960 B\).*set 'journal-max-usage: [0-9]+M'" ||
	fail "no error about journal-max-usage: $(grep -i bftdns "$TMP/r1/knot.log" | tail -n 5)"
line=$(grep -m 1 'signing pass not proposed' "$TMP/r1/knot.log")
grep -q '\[example\.com\.\]' <<<"$line" || fail "the error does not name the zone: $line"
suggested=$(sed -n "s/.*set 'journal-max-usage: \([0-9]*\)M'.*/\1/p" <<<"$line")
log "error: ${line#*module}"

# 2. bftdnsctl shows it; sign-zone is refused with it.
rc=0
out=$("$CTL" -c "$conf" status 2>&1) || rc=$?
[ "$rc" = 0 ] || fail "bftdnsctl status: exit $rc: $out"
grep -q "WARNING: signing pass not proposed: .*journal-max-usage: ${suggested}M" <<<"$out" ||
	fail "status does not show the journal-max-usage warning: $out"
rc=0
out=$("$CTL" -c "$conf" sign-zone example.com. 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "journal-max-usage: ${suggested}M" <<<"$out" ||
	fail "sign-zone was not refused (exit $rc): $out"
log "sign-zone refused: exit $rc"

# 3. Nothing was ordered: no change, no signing, the zone is served unsigned.
# knotd's "not allowed" lines would show a rejected attempt; none is made.
grep -Eq 'ordered change|successfully signed|not enough space|updates not applied' \
	"$TMP/r1/knot.log" && fail "a change was attempted: $(grep -E 'ordered change|signed|space|not applied' "$TMP/r1/knot.log")"
[ "$("$KDIG" @127.0.0.1 -p "$port" +short example.com. DNSKEY)" = "" ] ||
	fail "the zone has a DNSKEY, so it was signed"
[ "$(grep -c 'signing pass not proposed' "$TMP/r1/knot.log")" = 1 ] ||
	fail "the error is logged more than once"

# 4. Raised as suggested: knotc reload (a new module instance) signs it.
sed -i "s/journal-max-usage: 40K/journal-max-usage: ${suggested}M/" "$conf"
"$KNOTC" -c "$conf" reload >/dev/null || fail "knotc reload failed"
wait_signed "$TMP/r1"
grep -q 'journal size check: zone [0-9]* bytes' "$TMP/r1/knot.log" ||
	fail "no journal size check logged after the reload"
axfr "$port" "$TMP/axfr.zone"
out=$(ldns-verify-zone "$TMP/axfr.zone" 2>&1) || fail "ldns-verify-zone: $out"
log "journal-max-usage: ${suggested}M, reloaded: signed, $(tail -n 1 <<<"$out")"

log "PASS"
