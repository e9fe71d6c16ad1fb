#!/usr/bin/env bash
# One replica (n = 1, f = 0) of example.com. takes UPDATEs from real clients:
# adds and deletes through bind9's nsupdate and Knot's knsupdate, RFC 2136
# prerequisite failures with their RCODEs, refused authentication; every
# refused or failed UPDATE leaves the zone as it was. Afterwards the zone,
# signed by the threshold signer, passes ldns-verify-zone and dnssec-verify,
# and delv validates an added name with the DNSKEY as trust anchor.
. "$(dirname "$0")/lib.sh"

port=$(free_port)
tls_port=$(free_port)
make_key "$TMP/keys"
replica_setup "$TMP/r1" "$port" "$TMP/keys"
# Also DNS over TLS (Knot makes a one-time certificate): UPDATEs refused there.
sed -i "s|^    listen: 127.0.0.1@$port\$|&\n    listen-tls: 127.0.0.1@$tls_port|" "$TMP/r1/knot.conf"
grep -q "listen-tls: 127.0.0.1@$tls_port" "$TMP/r1/knot.conf" || fail "no listen-tls in knot.conf"
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

# An UPDATE over TLS: refused with REFUSED and a log line, nothing changes.
serial=$(soa_serial "$port")
py=$(command -v /usr/bin/python3 python3 | while read -r p; do
	"$p" -c 'import dns.query' 2>/dev/null && { echo "$p"; break; }; done)
[ -n "$py" ] || fail "no python3 with dnspython (python3-dnspython) for the TLS UPDATE"
rc=$("$py" - "$tls_port" "$TSIG_NAME" "$TSIG_SECRET" <<'PY'
import ssl, sys
import dns.query, dns.rcode, dns.tsigkeyring, dns.update
port, name, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
keyring = dns.tsigkeyring.from_text({name: ("hmac-sha256", secret)})
update = dns.update.Update("example.com.", keyring=keyring, keyalgorithm="hmac-sha256")
update.add("tls.example.com.", 300, "A", "192.0.2.5")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # Knot's one-time certificate
print(dns.rcode.to_text(dns.query.tls(update, "127.0.0.1", port=port, ssl_context=ctx,
                                      timeout=5).rcode()))
PY
) || fail "the UPDATE over TLS got no answer"
[ "$rc" = REFUSED ] || fail "UPDATE over TLS: got $rc, want REFUSED"
wait_log "$TMP/r1/knot.log" 'UPDATE over TLS refused, replicated zones take UPDATEs over UDP and TCP' ||
	fail "no log line for the UPDATE over TLS"
expect_unchanged "an UPDATE over TLS" "$serial"
log "UPDATE over TLS: $rc"

# Operator edits go through UPDATEs too: knotc zone-begin is refused.
if out=$("$KNOTC" -c "$TMP/r1/knot.conf" zone-begin example.com. 2>&1); then
	fail "knotc zone-begin was accepted on a replicated zone"
fi
wait_log "$TMP/r1/knot.log" 'control transaction refused, changes are ordered by module mod-bftdns' ||
	fail "no log line for the refused control transaction"
log "knotc zone-begin refused: $out"

# So is knotc zone-reload: the zone file is not a source of changes.
if out=$("$KNOTC" -c "$TMP/r1/knot.conf" zone-reload example.com. 2>&1); then
	fail "knotc zone-reload was accepted on a replicated zone"
fi
wait_log "$TMP/r1/knot.log" 'zone reload refused, changes are ordered by module mod-bftdns' ||
	fail "no log line for the refused zone reload"
log "knotc zone-reload refused: $out"

# The module's counters in knotc zone-stats.
stats=$("$KNOTC" -c "$TMP/r1/knot.conf" zone-stats example.com. mod-bftdns 2>&1)
grep -q 'updates-applied = [1-9]' <<<"$stats" || fail "no updates-applied counter: $stats"
grep -q 'updates-refused = [1-9]' <<<"$stats" || fail "no updates-refused counter: $stats"
log "knotc zone-stats: $(tr '\n' ' ' <<<"$stats" | tr -s ' ')"

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
