#!/usr/bin/env bash
# A replicated zone with NSEC3 (RFC 9276: no salt, no extra iterations):
# the module signs it with an NSEC3 chain, UPDATEs keep the chain right, and
# a validating resolver proves both an added name and a missing one.
. "$(dirname "$0")/lib.sh"

port=$(free_port)
make_key "$TMP/keys"
replica_setup "$TMP/r1" "$port" "$TMP/keys" "" "    dnssec-policy: nsec3" \
"policy:
  - id: nsec3
    nsec3: on
    nsec3-iterations: 0
    nsec3-salt-length: 0"
knot_start "$TMP/r1"
wait_signed "$TMP/r1"
key="$TMP/r1/update.key"

param=$("$KDIG" @127.0.0.1 -p "$port" +short example.com. NSEC3PARAM)
[ "$param" = "1 0 0 -" ] || fail "NSEC3PARAM is '$param', want '1 0 0 -'"
log "NSEC3PARAM: $param"

for name in alpha beta gamma; do
	[ "$(nsupdate_rc "$port" "$key" "update add $name.example.com. 300 A 192.0.2.50")" = NOERROR ] ||
		fail "adding $name failed"
done
[ "$(nsupdate_rc "$port" "$key" "update delete beta.example.com.")" = NOERROR ] ||
	fail "deleting beta failed"

axfr "$port" "$TMP/axfr.zone"
[ "$(grep -c 'NSEC3[[:space:]]' "$TMP/axfr.zone")" -gt 0 ] || fail "no NSEC3 records"
grep -q 'NSEC[[:space:]]' "$TMP/axfr.zone" && fail "NSEC records next to NSEC3"
out=$(ldns-verify-zone "$TMP/axfr.zone" 2>&1) || fail "ldns-verify-zone: $out"
log "ldns-verify-zone: $(tail -n 1 <<<"$out")"
out=$(dnssec-verify -z -o example.com. "$TMP/axfr.zone" 2>&1) || fail "dnssec-verify: $out"
log "dnssec-verify: $(grep -i 'fully signed' <<<"$out" | head -n 1)"

dnskey=$(awk '$4 == "DNSKEY" { $1 = $2 = $3 = $4 = ""; print }' "$TMP/keys/example.com.dnskey")
read -r flags proto alg pubkey <<<"$dnskey"
printf 'trust-anchors {\n\texample.com. static-key %s %s %s "%s";\n};\n' \
	"$flags" "$proto" "$alg" "$pubkey" >"$TMP/anchor"
out=$(delv @127.0.0.1 -p "$port" -a "$TMP/anchor" +root=example.com. gamma.example.com. A 2>&1)
grep -q 'fully validated' <<<"$out" || fail "delv did not validate gamma: $out"
out=$(delv @127.0.0.1 -p "$port" -a "$TMP/anchor" +root=example.com. beta.example.com. A 2>&1)
grep -q 'negative response, fully validated' <<<"$out" ||
	fail "delv did not validate the denial of beta: $out"
log "delv: gamma validated, the deleted beta proven absent (NSEC3)"

log "PASS"
