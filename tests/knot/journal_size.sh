#!/usr/bin/env bash
# A first signing pass the zone's journal cannot hold (journal-max-usage,
# module/jsize.h): the module says so before any signature is made (log,
# bftdnsctl status, sign-zone refused), orders no signing pass, and once
# journal-max-usage is raised to what it suggests, knotc reload signs the zone.
# Then a pass the estimate lets through but Knot refuses (a refresh of every
# RRSIG: rrsig-lifetime 80 s, rrsig-refresh 79 s, so every pass 2 s after
# the first re-signs all of them, removed and added, more than the signed zone's size): the batch
# fails, the zone is kept as it was, and the replica proposes no more passes
# (sign-zone refused, status warning) until a reload.
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
	"    journal-max-usage: 40K
    dnssec-policy: short" "policy:
  - id: short
    rrsig-lifetime: 80
    rrsig-refresh: 79
    rrsig-pre-refresh: 0"
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

# 5. journal-max-usage between the signed zone and a pass re-signing all of
# it: the estimate (nothing unsigned) proposes the pass at the reload, Knot
# refuses it; the zone stays signed and no further pass is proposed.
check=$(grep 'journal size check: zone' "$TMP/r1/knot.log" | tail -n 1)
signed=$(sed -n 's/.*zone \([0-9]*\) bytes, signing adds about \([0-9]*\),.*/\1 \2/p' <<<"$check" |
         awk '{ print $1 + $2 }')
limit=$((signed * 13 / 10 / 1024))
serial=$(soa_serial "$port")
# A pass 2 s after the first re-signs every RRSIG (they expire within 79 s).
signed_at=$(date -d "$(grep -m 1 'DNSSEC, successfully signed' "$TMP/r1/knot.log" | cut -d' ' -f1)" +%s)
past() { [ "$(date +%s)" -ge "$1" ]; }
wait_for 50 past $((signed_at + 2)) || fail "the clock did not pass $((signed_at + 2))"
sed -i "s/journal-max-usage: ${suggested}M/journal-max-usage: ${limit}K/" "$conf"
"$KNOTC" -c "$conf" reload >/dev/null || fail "knotc reload failed"
wait_log "$TMP/r1/knot.log" "signing pass of batch [0-9]+ refused by the journal, no more proposed by this replica; set 'journal-max-usage: [0-9]+M'" ||
	fail "journal-max-usage ${limit}K (signed zone $signed B): no refused pass: $(grep -E 'space|not applied|journal size' "$TMP/r1/knot.log" | tail -n 4)"
grep -q 'not enough space provided' "$TMP/r1/knot.log" || fail "Knot did not refuse the change"
log "journal-max-usage ${limit}K: $(grep -m 1 -o 'signing pass of batch.*' "$TMP/r1/knot.log")"
rc=0
out=$("$CTL" -c "$conf" sign-zone example.com. 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q 'refused by the journal' <<<"$out" ||
	fail "sign-zone after the refused pass was not refused (exit $rc): $out"
rc=0
out=$("$CTL" -c "$conf" status 2>&1) || rc=$?
grep -q 'WARNING: signing pass of batch [0-9]* refused by the journal' <<<"$out" ||
	fail "status does not show the refused pass: $out"
[ "$(soa_serial "$port")" = "$serial" ] || fail "the zone changed: serial $serial -> $(soa_serial "$port")"
[ "$(grep -c 'journal update failed' "$TMP/r1/knot.log")" = 1 ] ||
	fail "the refused pass was tried more than once"
axfr "$port" "$TMP/axfr2.zone"
grep -q 'RRSIG' "$TMP/axfr2.zone" || fail "the zone lost its signatures"
log "after the refused pass: sign-zone refused, zone kept at serial $serial"

log "PASS"
