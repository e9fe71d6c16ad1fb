#!/usr/bin/env bash
# The bftdns demo (./run.sh demo; ./run.sh stop runs "demo.sh stop").
#
# What it shows today: a threshold zone key for example.com. split among
# n = 4 replicas, any f = 1 of which may be faulty; the demo zone signed
# offline with the shares of only 2 of the 4 replicas, and again with one
# replica sending bit-inverted shares; both signed zones checked by
# ldns-verify-zone and dnssec-verify, independent DNSSEC validators.
# A running knotd cluster comes later; "stop" then stops it.
#
# Environment (for the tests): BFTDNS_DEMO_DIR (default build/demo),
# BFTDNS_KEYGEN and BFTDNS_SIGNZONE (default: the tools in build/meson).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
demo=${BFTDNS_DEMO_DIR:-$top/build/demo}
keygen=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}
signzone=${BFTDNS_SIGNZONE:-$top/build/meson/coordinator/tools/bftdns-signzone}
keys=$demo/keys
zone=example.com.

say() { printf '\n== %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

usage() {
	cat <<'EOF'
Usage: demo.sh [run|stop]
  run   make a (4,1) threshold key, sign the demo zone with 2 of 4 replicas and
        with a corrupted replica, verify with independent validators (default)
  stop  stop what the demo started (nothing runs yet)
EOF
}

# The demo zone: a few names and types, a wildcard and a delegation.
write_zone() {
	cat >"$1" <<'EOF'
$ORIGIN example.com.
$TTL 3600
@		IN SOA	ns1.example.com. hostmaster.example.com. 2026112301 7200 3600 1209600 300
		IN NS	ns1
		IN NS	ns2
		IN MX	10 mail
		IN TXT	"bftdns demo zone: signed by 2 of 4 replicas"
ns1		IN A	192.0.2.1
ns2		IN A	192.0.2.2
www		IN A	192.0.2.10
		IN AAAA	2001:db8::10
mail		IN A	192.0.2.20
*.users		IN TXT	"any user name"
lab		IN NS	ns.lab
ns.lab		IN A	192.0.2.40
EOF
}

# verify FILE: both validators, with the DNSKEY from keygen as trust anchor.
verify() {
	local file=$1
	ldns-verify-zone -k "$keys/example.com.dnskey" "$file" >"$demo/ldns-verify-zone.log" 2>&1 ||
		{ cat "$demo/ldns-verify-zone.log" >&2; die "ldns-verify-zone rejects $file"; }
	echo "   ldns-verify-zone: $(grep -m1 -i 'verified' "$demo/ldns-verify-zone.log" || echo ok)"
	dnssec-verify -q -o "$zone" -z "$file" >"$demo/dnssec-verify.log" 2>&1 ||
		{ cat "$demo/dnssec-verify.log" >&2; die "dnssec-verify rejects $file"; }
	echo "   dnssec-verify: zone fully signed"
}

run() {
	for tool in "$keygen" "$signzone"; do
		[ -x "$tool" ] || die "$tool is not built (run ./run.sh build)"
	done
	for tool in ldns-verify-zone dnssec-verify; do
		command -v "$tool" >/dev/null || die "$tool is missing (./run.sh deps installs it)"
	done
	mkdir -p "$demo"

	say "1. A threshold RSA key for $zone: n = 4 replicas, any f = 1 may be faulty"
	"$keygen" --zone "$zone" --replicas 4 --faults 1 --bits 2048 --out "$keys" --force

	write_zone "$demo/example.com.zone"
	local now
	now=$(date -u +%s)

	say "2. Sign the demo zone with the shares of replicas 2 and 4 only (f + 1 = 2 of 4)"
	"$signzone" --now "$now" --protocol optte -o "$demo/example.com.signed" \
		"$demo/example.com.zone" "$keys/share-2.key" "$keys/share-4.key"
	verify "$demo/example.com.signed"

	say "3. Again with replicas 1, 2, 3, replica 1 corrupted (it inverts every bit of its shares)"
	"$signzone" --now "$now" --protocol optte --corrupt 1:invert \
		-o "$demo/example.com.signed-with-corrupt-replica" \
		"$demo/example.com.zone" "$keys/share-1.key" "$keys/share-2.key" "$keys/share-3.key"
	verify "$demo/example.com.signed-with-corrupt-replica"
	if cmp -s "$demo/example.com.signed" "$demo/example.com.signed-with-corrupt-replica"; then
		echo "   the two signed zones are byte-identical: an RSA signature is unique, so it does"
		echo "   not matter which honest replicas made it, and the corrupted shares left no trace"
	else
		die "the two signed zones differ"
	fi

	say "What happened, and where the files are"
	cat <<EOF
   The zone key was dealt as 4 Shoup threshold RSA shares: no replica holds the key,
   any 2 replicas can sign, and 1 faulty replica can neither sign alone nor stop the
   others. Every RRSIG in the signed zones is an ordinary RSASHA256 signature made by
   combining replicas' shares; standard validators accept it.

   $keys/share-<i>.key        key share of replica i (secret, mode 0600)
   $keys/public.key           public key and verification keys
   $keys/example.com.dnskey   the DNSKEY record
   $keys/example.com.ds       the DS record for the parent zone:
       $(cat "$keys/example.com.ds")
   $demo/example.com.zone                           the unsigned demo zone
   $demo/example.com.signed                         signed by replicas 2 and 4
   $demo/example.com.signed-with-corrupt-replica    signed with replica 1 corrupted

   Nothing is left running. Next (later issues): 4 knotd replicas that order updates
   by Byzantine-fault-tolerant atomic broadcast and sign them with these shares.
EOF
}

case "${1:-run}" in
	run) run ;;
	stop) echo "demo: nothing is running (this demo starts no servers yet); nothing to stop" ;;
	-h|--help|help) usage ;;
	*) usage >&2; exit 1 ;;
esac
