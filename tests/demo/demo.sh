#!/usr/bin/env bash
# The bftdns demo (./run.sh demo; ./run.sh stop runs "demo.sh stop").
#
# What it shows today: a threshold zone key for example.com. split among
# n = 4 replicas, any f = 1 of which may be faulty; the demo zone signed
# offline with the shares of only 2 of the 4 replicas, and again with one
# replica sending bit-inverted shares; both signed zones checked by
# ldns-verify-zone and dnssec-verify, independent DNSSEC validators.
# Then one running replica (n = 1, f = 0): the patched knotd with mod-bftdns
# serves example.com. on 127.0.0.1:5301, signs it with a fresh threshold key,
# takes a name added with nsupdate, and delv validates the answer; it keeps
# running until "stop" (./run.sh stop) stops it.
#
# Environment (for the tests): BFTDNS_DEMO_DIR (default build/demo),
# BFTDNS_KEYGEN and BFTDNS_SIGNZONE (default: the tools in build/meson),
# BFTDNS_KNOT_PREFIX (build/knot), BFTDNS_MODULE (the module in build/meson),
# BFTDNS_DEMO_PORT (5301), BFTDNS_DEMO_STOP=1 (stop the replica at the end).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
demo=${BFTDNS_DEMO_DIR:-$top/build/demo}
keygen=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}
signzone=${BFTDNS_SIGNZONE:-$top/build/meson/coordinator/tools/bftdns-signzone}
keys=$demo/keys
zone=example.com.
knot=${BFTDNS_KNOT_PREFIX:-$top/build/knot}
module=${BFTDNS_MODULE:-$top/build/meson/module/mod-bftdns.so}
port=${BFTDNS_DEMO_PORT:-5301}

say() { printf '\n== %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

usage() {
	cat <<'EOF'
Usage: demo.sh [run|stop]
  run   make a (4,1) threshold key, sign the demo zone with 2 of 4 replicas and
        with a corrupted replica, verify with independent validators (default)
  stop  stop the replica the demo started
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

EOF
	replica_run
}

# --- One running replica (n = 1, f = 0): knotd + mod-bftdns ----------------

# replica_pid: the PID of the running demo replica, if any.
replica_pid() {
	local pidfile=$demo/replica-1/knot.pid pid
	[ -f "$pidfile" ] || return 1
	pid=$(cat "$pidfile")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

replica_stop() {
	local pid i
	if ! pid=$(replica_pid); then
		echo "demo: no replica is running"
		return 0
	fi
	kill "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && die "knotd (PID $pid) did not stop"
	echo "demo: stopped the replica (knotd PID $pid)"
}

# wait_log FILE REGEXP TENTHS: polls a log file for a line.
wait_log() {
	local i
	for ((i = 0; i < $3; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

replica_run() {
	local dir=$demo/replica-1 rkeys=$demo/replica-keys
	for f in "$knot/sbin/knotd" "$module"; do
		[ -e "$f" ] || die "$f is not built (run ./run.sh build)"
	done
	for tool in nsupdate delv; do
		command -v "$tool" >/dev/null || die "$tool is missing (./run.sh deps installs it)"
	done
	replica_pid >/dev/null && replica_stop

	say "4. One running replica of $zone (n = 1, f = 0): knotd + mod-bftdns on 127.0.0.1:$port"
	"$keygen" --zone "$zone" --replicas 1 --faults 0 --bits 2048 --out "$rkeys" --force
	rm -rf "$dir"
	mkdir -p "$dir"
	write_zone "$dir/example.com.zone"
	local secret
	secret=$(head -c 32 /dev/urandom | base64)
	cat >"$demo/update.key" <<EOF
key "update.key" {
	algorithm hmac-sha256;
	secret "$secret";
};
EOF
	cat >"$dir/knot.conf" <<EOF
# Replica 1 of 1 of $zone (the bftdns demo).
server:
    rundir: "$dir"
    pidfile: "$dir/knot.pid"
    listen: 127.0.0.1@$port
log:
  - target: "$dir/knot.log"
    any: info
database:
    storage: "$dir"
key:
  - id: update.key
    algorithm: hmac-sha256
    secret: $secret
acl:
  - id: update
    key: update.key
    action: update
  - id: transfer
    address: 127.0.0.1
    action: transfer
module:
  - id: mod-bftdns
    file: "$module"
mod-bftdns:
  - id: demo
    replica-id: 1
    replicas: 1
    faults: 0
    key-share: "$rkeys/share-1.key"
zone:
  - domain: $zone
    file: "$dir/example.com.zone"
    acl: [ update, transfer ]
    module: mod-bftdns/demo
EOF
	"$knot/sbin/knotc" -c "$dir/knot.conf" conf-check >/dev/null
	"$knot/sbin/knotd" -c "$dir/knot.conf" -d
	wait_log "$dir/knot.log" 'DDNS, ordered change of [0-9]+ updates applied' 300 ||
		{ tail -n 20 "$dir/knot.log" >&2; die "the replica did not sign the zone (log: $dir/knot.log)"; }
	echo "   knotd runs (PID $(replica_pid)); the module signed the zone with the threshold key:"
	grep -Eo "(active, replica|DNSSEC, successfully signed|DDNS, ordered change).*" "$dir/knot.log" | sed 's/^/     /'

	# The trust anchor: the DNSKEY RR, and the same in delv's trust-anchors form.
	cp "$rkeys/example.com.dnskey" "$demo/trust-anchor.dnskey"
	awk '$4 == "DNSKEY" { key = ""; for (i = 8; i <= NF; i++) key = key $i;
	     printf "trust-anchors {\n\t%s static-key %s %s %s \"%s\";\n};\n", $1, $5, $6, $7, key }' \
		"$rkeys/example.com.dnskey" >"$demo/trust-anchor"

	say "5. Add a name with nsupdate (TSIG key $demo/update.key)"
	printf 'server 127.0.0.1 %s\nzone %s\nupdate add hello.%s 300 A 192.0.2.123\nupdate add hello.%s 300 TXT "added by nsupdate"\nsend\n' \
		"$port" "$zone" "$zone" "$zone" | nsupdate -t 5 -k "$demo/update.key" ||
		die "nsupdate failed"
	echo "   nsupdate: NOERROR"
	grep -o 'DDNS, ordered change.*' "$dir/knot.log" | tail -n 1 | sed 's/^/   knotd: /'

	say "6. Validate the answer: delv with the DNSKEY as the only trust anchor"
	local out
	out=$(delv @127.0.0.1 -p "$port" -a "$demo/trust-anchor" +root="$zone" hello."$zone" A 2>&1)
	echo "$out" | sed 's/^/   /'
	grep -q 'fully validated' <<<"$out" || die "delv did not validate hello.$zone"

	say "The replica keeps running"
	cat <<EOF
   Try:
     kdig @127.0.0.1 -p $port +dnssec www.$zone
     nsupdate -k $demo/update.key      (then: server 127.0.0.1 $port / zone $zone /
                                         update add NAME TTL TYPE DATA / send)
     delv @127.0.0.1 -p $port -a $demo/trust-anchor +root=$zone NAME TYPE
     $knot/sbin/knotc -c $dir/knot.conf zone-stats $zone mod-bftdns
   Files:
     $dir/knot.conf   the replica's configuration
     $dir/knot.log    its log
     $demo/update.key      TSIG key for nsupdate -k
     $demo/trust-anchor    the DNSKEY as a delv trust anchor ($demo/trust-anchor.dnskey: the RR)
   Stop it with: ./run.sh stop
EOF
	if [ "${BFTDNS_DEMO_STOP:-0}" = 1 ]; then
		replica_stop
	fi
}

case "${1:-run}" in
	run) run ;;
	stop) replica_stop ;;
	-h|--help|help) usage ;;
	*) usage >&2; exit 1 ;;
esac
