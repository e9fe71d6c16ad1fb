#!/usr/bin/env bash
# One replica (n = 1, f = 0) of example.com. takes UPDATEs from real clients:
# adds and deletes through bind9's nsupdate and Knot's knsupdate, RFC 2136
# prerequisite failures with their RCODEs, refused authentication; every
# refused or failed UPDATE leaves the zone as it was. Afterwards the zone,
# signed by the threshold signer, passes ldns-verify-zone and dnssec-verify,
# and delv validates an added name with the DNSKEY as trust anchor.
. "$(dirname "$0")/lib.sh"

port=$(free_port)
make_key "$TMP/keys"
replica_setup "$TMP/r1" "$port" "$TMP/keys"
knot_start "$TMP/r1"
wait_signed "$TMP/r1"
key="$TMP/r1/update.key"

# expect_rc WHAT EXPECTED SCRIPT [KEY]: one nsupdate, its outcome checked.
expect_rc() {
	local what=$1 want=$2 script=$3 k=${4-$key} got
	got=$(nsupdate_rc "$port" "$k" "$script")
	[ "$got" = "$want" ] || fail "$what: got $got, want $want"
	log "$what: $got"
}

# expect_unchanged WHAT SERIAL: the zone still has that serial.
expect_unchanged() {
	local now
	now=$(soa_serial "$port")
	[ "$now" = "$2" ] || fail "$1 changed the zone: serial $2 -> $now"
}

# 1. Adds and deletes, bind9 nsupdate and knsupdate.
serial0=$(soa_serial "$port")
expect_rc "add A (nsupdate)" NOERROR "update add new.example.com. 300 A 192.0.2.99"
[ "$("$KDIG" @127.0.0.1 -p "$port" +short new.example.com. A)" = "192.0.2.99" ] ||
	fail "new.example.com. A not served after the update"
serial1=$(soa_serial "$port")
[ "$serial1" -gt "$serial0" ] || fail "serial did not grow: $serial0 -> $serial1"

out=$(printf 'server 127.0.0.1 %s\nzone example.com.\nadd txt.example.com. 300 TXT "via knsupdate"\nsend\n' "$port" |
      "$KNSUPDATE" -y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" 2>&1) || fail "knsupdate add failed: $out"
[ "$("$KDIG" @127.0.0.1 -p "$port" +short txt.example.com. TXT)" = '"via knsupdate"' ] ||
	fail "txt.example.com. TXT not served after knsupdate"
log "add TXT (knsupdate): NOERROR"

NSUPDATE_ARGS=-v expect_rc "add over TCP (nsupdate -v)" NOERROR "update add tcp.example.com. 300 A 192.0.2.7"
expect_rc "delete RR (nsupdate)" NOERROR "update delete www.example.com. AAAA 2001:db8::80"
[ -z "$("$KDIG" @127.0.0.1 -p "$port" +short www.example.com. AAAA)" ] ||
	fail "www.example.com. AAAA still served after its delete"
out=$(printf 'server 127.0.0.1 %s\nzone example.com.\ndel txt.example.com. TXT\nsend\n' "$port" |
      "$KNSUPDATE" -y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" 2>&1) || fail "knsupdate delete failed: $out"
[ -z "$("$KDIG" @127.0.0.1 -p "$port" +short txt.example.com. TXT)" ] ||
	fail "txt.example.com. TXT still served after its delete"
log "delete RRset (knsupdate): NOERROR"

# 2. Prerequisites (RFC 2136 3.2): each failure has its RCODE and no effect.
serial=$(soa_serial "$port")
expect_rc "prereq nxdomain on an existing name" YXDOMAIN \
	"prereq nxdomain www.example.com.
update add www.example.com. 300 TXT \"no\""
expect_rc "prereq yxdomain on a missing name" NXDOMAIN \
	"prereq yxdomain nothere.example.com.
update add nothere.example.com. 300 TXT \"no\""
expect_rc "prereq nxrrset on an existing RRset" YXRRSET \
	"prereq nxrrset www.example.com. A
update add www.example.com. 300 TXT \"no\""
expect_rc "prereq yxrrset on a missing RRset" NXRRSET \
	"prereq yxrrset www.example.com. TXT
update add www.example.com. 300 TXT \"no\""
expect_rc "prereq yxrrset with a value that differs" NXRRSET \
	"prereq yxrrset www.example.com. A 192.0.2.81
update add www.example.com. 300 TXT \"no\""
expect_unchanged "a failed prerequisite" "$serial"
[ -z "$("$KDIG" @127.0.0.1 -p "$port" +short www.example.com. TXT)" ] ||
	fail "a failed prerequisite added www.example.com. TXT"
expect_rc "prereq yxrrset that holds" NOERROR \
	"prereq yxrrset www.example.com. A 192.0.2.80
update add www.example.com. 300 TXT \"yes\""

# 3. Authentication: missing key, wrong secret, unknown key; nothing changes.
serial=$(soa_serial "$port")
expect_rc "no TSIG" NOTAUTH "update add evil.example.com. 300 A 192.0.2.66" ""
printf 'key "%s" {\n algorithm hmac-sha256;\n secret "%s";\n};\n' "$TSIG_NAME" \
	"d3JvbmdzZWNyZXR3cm9uZ3NlY3JldHdyb25nc2VjcmV0MTI=" >"$TMP/wrong.key"
expect_rc "TSIG with a wrong secret" NOTAUTH "update add evil.example.com. 300 A 192.0.2.66" "$TMP/wrong.key"
printf 'key "other.key" {\n algorithm hmac-sha256;\n secret "%s";\n};\n' "$TSIG_SECRET" >"$TMP/other.key"
expect_rc "TSIG with an unknown key" NOTAUTH "update add evil.example.com. 300 A 192.0.2.66" "$TMP/other.key"
expect_unchanged "a refused UPDATE" "$serial"
[ -z "$("$KDIG" @127.0.0.1 -p "$port" +short evil.example.com. A)" ] ||
	fail "a refused UPDATE added evil.example.com."
grep -q 'updates-refused' <("$KNOTC" -c "$TMP/r1/knot.conf" zone-stats example.com. 2>&1) ||
	log "note: knotc zone-stats shows no module counters"

# 4. The signed zone passes independent checkers.
axfr "$port" "$TMP/axfr.zone"
grep -q 'RRSIG' "$TMP/axfr.zone" || fail "the AXFR has no RRSIGs"
out=$(ldns-verify-zone "$TMP/axfr.zone" 2>&1) || fail "ldns-verify-zone: $out"
log "ldns-verify-zone: $(tail -n 1 <<<"$out")"
# -z: the one key is a CSK (flags 257) that also signs as a ZSK.
out=$(dnssec-verify -z -o example.com. "$TMP/axfr.zone" 2>&1) || fail "dnssec-verify: $out"
log "dnssec-verify: $(grep -i 'fully signed' <<<"$out" | head -n 1)"

# 5. A validating resolver accepts an added name with the DNSKEY as anchor.
dnskey=$(awk '$4 == "DNSKEY" { $1 = $2 = $3 = $4 = ""; print }' "$TMP/keys/example.com.dnskey")
read -r flags proto alg pubkey <<<"$dnskey"
printf 'trust-anchors {\n\texample.com. static-key %s %s %s "%s";\n};\n' \
	"$flags" "$proto" "$alg" "$pubkey" >"$TMP/anchor"
out=$(delv @127.0.0.1 -p "$port" -a "$TMP/anchor" +root=example.com. new.example.com. A 2>&1)
grep -q 'fully validated' <<<"$out" || fail "delv did not validate new.example.com.: $out"
log "delv: $(grep 'fully validated' <<<"$out")"

log "PASS"
