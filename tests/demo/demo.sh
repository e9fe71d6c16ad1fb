#!/usr/bin/env bash
# The bftdns demo (./run.sh demo [OPTIONS]; ./run.sh stop runs "demo.sh stop").
#
# What it shows: a threshold zone key for example.com. split among n
# replicas (default n = 4), any f (default 1) of which may be faulty; the demo
# zone signed offline with the shares of only f + 1 replicas, and again with
# f replicas sending bit-inverted shares; both signed zones checked by
# ldns-verify-zone and dnssec-verify, independent DNSSEC validators.
# Then the running group with the same key: n patched knotd with mod-bftdns,
# replica i answering DNS on 127.0.0.1 port 5300 + i, linked to each other by
# TLS (127.0.0.1 port 5400 + i); the module signs the zone with the threshold
# key, a name added with nsupdate (TSIG) at replica 1 is read back signed from
# every replica, and delv validates it. The replicas keep running until
# "stop" (./run.sh stop) stops them. --replicas 1 --faults 0 is the
# single-replica case (one knotd on 127.0.0.1:5301).
#
# Environment (for the tests): BFTDNS_DEMO_DIR (default build/demo),
# BFTDNS_KEYGEN and BFTDNS_SIGNZONE (default: the tools in build/meson),
# BFTDNS_KNOT_PREFIX (build/knot), BFTDNS_MODULE (the module in build/meson),
# BFTDNS_DEMO_PORT (5301: replica 1's DNS port, replica i's is PORT + i - 1
# and its link port PORT + 99 + i; "auto": free ports chosen at random),
# BFTDNS_DEMO_STOP=1 (stop the replicas at the end), BFTDNS_DEMO_BITS (2048:
# the zone key's size).
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
bits=${BFTDNS_DEMO_BITS:-2048}

n=4
f=1
protocol=basic
declare -A corrupt=()    # replica id -> misbehave modes (comma-separated)
MODES="invert-shares random-shares silent-signer silent equivocate"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

usage() {
	cat <<'EOF'
Usage: demo.sh [run] [--replicas N] [--faults F] [--protocol P] [--corrupt ID:MODE]...
       demo.sh stop
  run   make a threshold key for example.com. (n = N, f = F), sign the demo zone
        offline with F + 1 replicas and with F corrupted ones, verify with
        independent validators; then start N replicas (knotd + mod-bftdns,
        replica i on 127.0.0.1 port 5300 + i), add a name with nsupdate at
        replica 1, read it back signed from every replica, validate it with delv
        (default)
  stop  stop the replicas the demo started

  -n, --replicas N       replicas, 1..32 (default 4)
  -f, --faults F         faults tolerated, N >= 3F + 1 (default 1)
  -p, --protocol P       signing protocol: basic, optproof or optte (default basic)
  -c, --corrupt ID:MODE  replica ID misbehaves on purpose (tests only): MODE is
                         invert-shares, random-shares, silent-signer, silent or
                         equivocate; repeatable, at most F replicas
      --port PORT        replica 1's DNS port (default 5301; replica i: PORT + i - 1,
                         its link: PORT + 99 + i); 'auto': free ports chosen at random
EOF
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]] && [ ${#1} -le 5 ]; }

parse_args() {
	local spec id mode
	while [ $# -gt 0 ]; do
		case "$1" in
			-n|--replicas|-f|--faults|-p|--protocol|-c|--corrupt|--port)
				[ $# -ge 2 ] || die "$1 needs a value (see --help)" ;;
		esac
		case "$1" in
			run) shift; continue ;;
			-n|--replicas) n=$2 ;;
			-f|--faults) f=$2 ;;
			-p|--protocol) protocol=$2 ;;
			--port) port=$2 ;;
			-c|--corrupt)
				spec=$2 id=${2%%:*} mode=${2#*:}
				[[ "$spec" == *:* ]] || die "--corrupt '$spec': want ID:MODE"
				is_uint "$id" || die "--corrupt '$spec': '$id' is not a replica id"
				[[ " $MODES " == *" $mode "* ]] ||
					die "--corrupt '$spec': unknown mode '$mode' (one of: $MODES)"
				id=$((10#$id))
				corrupt[$id]=${corrupt[$id]:+${corrupt[$id]}, }$mode ;;
			-h|--help|help) usage; exit 0 ;;
			*) usage >&2; die "unknown argument '$1'" ;;
		esac
		shift 2
	done
	is_uint "$n" && n=$((10#$n)) && [ "$n" -ge 1 ] && [ "$n" -le 32 ] ||
		die "--replicas '$n': want a number from 1 to 32"
	is_uint "$f" && f=$((10#$f)) || die "--faults '$f': want a number"
	[ "$n" -ge $((3 * f + 1)) ] ||
		die "n = $n replicas cannot tolerate f = $f faults: need n >= 3f + 1 = $((3 * f + 1))"
	case "$protocol" in
		basic|optproof|optte) ;;
		*) die "--protocol '$protocol': want basic, optproof or optte" ;;
	esac
	[ "$port" != auto ] || port=$(pick_base) || die "no free ports for $n replicas found"
	is_uint "$port" && port=$((10#$port)) && [ "$port" -ge 1 ] && [ $((port + 99 + n)) -le 65535 ] ||
		die "--port '$port': want a port such that PORT + 99 + N <= 65535"
	for id in "${!corrupt[@]}"; do
		[ "$id" -ge 1 ] && [ "$id" -le "$n" ] || die "--corrupt: replica $id does not exist (1..$n)"
	done
	[ ${#corrupt[@]} -le "$f" ] ||
		die "${#corrupt[@]} corrupt replicas, but f = $f: at most f replicas may misbehave"
}

# pick_base: a base port (for --port auto, the tests) whose n DNS ports and
# n link ports are all free now, below the ephemeral range.
pick_base() {
	python3 - "$n" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
def free(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True
for _ in range(200):
    base = random.randint(10000, 32000 - 100 - n)
    ports = [base + i for i in range(n)] + [base + 100 + i for i in range(n)]
    if all(free(p) for p in ports):
        print(base)
        break
else:
    sys.exit(1)
PY
}

dns_port() { echo $((port + $1 - 1)); }
link_port() { echo $((port + 99 + $1)); }

# The demo zone: a few names and types, a wildcard and a delegation.
write_zone() {
	cat >"$1" <<EOF
\$ORIGIN example.com.
\$TTL 3600
@		IN SOA	ns1.example.com. hostmaster.example.com. 2026112301 7200 3600 1209600 300
		IN NS	ns1
		IN NS	ns2
		IN MX	10 mail
		IN TXT	"bftdns demo zone: signed by $((f + 1)) of $n replicas"
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

# The f + 1 replicas that sign offline: the even ones first (2 and 4 of 4).
signers() {
	local i list=()
	for ((i = 2; i <= n; i += 2)); do list+=("$i"); done
	for ((i = 1; i <= n; i += 2)); do list+=("$i"); done
	echo "${list[@]:0:$((f + 1))}"
}

offline() {
	local peers=() i now list shares=()
	for ((i = 1; i <= n; i++)); do
		peers+=(--peer "$i=127.0.0.1@$(link_port "$i")")
	done
	say "1. A threshold RSA key for $zone: n = $n replicas, any f = $f may be faulty"
	rm -rf "$keys"
	"$keygen" --zone "$zone" --replicas "$n" --faults "$f" --bits "$bits" --out "$keys" "${peers[@]}"

	write_zone "$demo/example.com.zone"
	now=$(date -u +%s)

	list=$(signers)
	for i in $list; do shares+=("$keys/share-$i.key"); done
	say "2. Sign the demo zone with the shares of replicas ${list// /, } only (f + 1 = $((f + 1)) of $n)"
	"$signzone" --now "$now" --protocol optte -o "$demo/example.com.signed" \
		"$demo/example.com.zone" "${shares[@]}"
	verify "$demo/example.com.signed"

	rm -f "$demo/example.com.signed-with-corrupt-replica"
	if [ "$f" -gt 0 ]; then
		local bad=() args=()
		shares=()
		for ((i = 1; i <= 2 * f + 1; i++)); do shares+=("$keys/share-$i.key"); done
		for ((i = 1; i <= f; i++)); do bad+=("$i"); args+=(--corrupt "$i:invert"); done
		say "3. Again with replicas 1 to $((2 * f + 1)), replica(s) ${bad[*]} corrupted (every bit of their shares inverted)"
		"$signzone" --now "$now" --protocol optte "${args[@]}" \
			-o "$demo/example.com.signed-with-corrupt-replica" \
			"$demo/example.com.zone" "${shares[@]}"
		verify "$demo/example.com.signed-with-corrupt-replica"
		if cmp -s "$demo/example.com.signed" "$demo/example.com.signed-with-corrupt-replica"; then
			echo "   the two signed zones are byte-identical: an RSA signature is unique, so it does"
			echo "   not matter which honest replicas made it, and the corrupted shares left no trace"
		else
			die "the two signed zones differ"
		fi
	else
		say "3. (f = 0: no replica may be corrupted, nothing to show)"
	fi

	say "What happened, and where the files are"
	cat <<EOF
   The zone key was dealt as $n Shoup threshold RSA shares: no replica holds the key,
   any $((f + 1)) of them can sign, and up to $f faulty ones can neither sign alone nor stop
   the others. Every RRSIG in the signed zones is an ordinary RSASHA256 signature made by
   combining replicas' shares; standard validators accept it.

   $keys/share-<i>.key        key share of replica i (secret, mode 0600)
   $keys/replica-<i>/         all that replica i needs (share, TLS link key, coin key share)
   $keys/public.key           public key and verification keys
   $keys/example.com.dnskey   the DNSKEY record
   $keys/example.com.ds       the DS record for the parent zone:
       $(cat "$keys/example.com.ds")
   $demo/example.com.zone                           the unsigned demo zone
   $demo/example.com.signed                         signed by replicas ${list// /, }
EOF
	[ "$f" -eq 0 ] || echo "   $demo/example.com.signed-with-corrupt-replica    signed with corrupted replicas"
}

# --- The running replicas: knotd + mod-bftdns each ---------------------------

# replica_pid I: the PID of demo replica I's knotd, if it runs.
replica_pid() {
	local pidfile=$demo/replica-$1/knot.pid pid
	[ -f "$pidfile" ] || return 1
	pid=$(cat "$pidfile")
	[[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	# Not some other process that got a stale PID.
	[ "$(ps -p "$pid" -o comm= 2>/dev/null)" = knotd ] || return 1
	echo "$pid"
}

# The replica ids with a directory in the demo dir (any earlier run's n).
replica_ids() {
	local d
	for d in "$demo"/replica-*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		d=${d##*/replica-}
		[[ "$d" =~ ^[0-9]+$ ]] && echo "$d"
	done | sort -n
}

stop_all() {
	local i pid k stopped=0
	declare -A pids=()
	for i in $(replica_ids); do
		pid=$(replica_pid "$i") || continue
		kill "$pid"
		pids[$i]=$pid
	done
	for i in $(printf '%s\n' "${!pids[@]}" | sort -n); do
		pid=${pids[$i]}
		for ((k = 0; k < 100; k++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && die "replica $i's knotd (PID $pid) did not stop"
		echo "demo: stopped replica $i (knotd PID $pid)"
		stopped=$((stopped + 1))
	done
	[ "$stopped" -gt 0 ] || echo "demo: no replica is running"
}

# wait_for TENTHS COMMAND...: polls until the command succeeds.
wait_for() {
	local tenths=$1 i
	shift
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# port_free PORT: nothing listens on 127.0.0.1 PORT (TCP and UDP).
port_free() {
	python3 - "$1" <<'PY'
import socket, sys
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
}

# replica_conf I SECRET: knot.conf and zone of replica I.
replica_conf() {
	local i=$1 secret=$2 dir=$demo/replica-$1 rk=$keys/replica-$1 peers=() line j
	mkdir -p "$dir"
	write_zone "$dir/example.com.zone"
	{
		cat <<EOF
# Replica $i of $n of $zone (the bftdns demo; f = $f).
server:
    rundir: "$dir"
    pidfile: "$dir/knot.pid"
    listen: 127.0.0.1@$(dns_port "$i")
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
    replica-id: $i
    replicas: $n
    faults: $f
    key-share: "$rk/share-$i.key"
    signing-protocol: $protocol
EOF
		if [ "$n" -gt 1 ]; then
			while read -r line; do
				j=${line%% *}
				[ "$j" = "$i" ] || peers+=("\"$line\"")
			done <"$rk/peers.txt"
			local IFS=,
			cat <<EOF
    listen: "127.0.0.1@$(link_port "$i")"
    link-key: "$rk/link-$i.key"
    coin-key: "$rk/coin-$i.key"
    peer: [ ${peers[*]} ]
EOF
			unset IFS
		fi
		[ -z "${corrupt[$i]:-}" ] || echo "    misbehave: [ ${corrupt[$i]} ]"
		cat <<EOF
zone:
  - domain: $zone
    file: "$dir/example.com.zone"
    acl: [ update, transfer ]
    module: mod-bftdns/demo
EOF
	} >"$dir/knot.conf"
}

# signed PORT: the replica answers the DNSKEY RRset with its RRSIG.
signed() {
	"$knot/bin/kdig" @127.0.0.1 -p "$1" +dnssec +noall +answer +time=2 +retry=0 \
		"$zone" DNSKEY 2>/dev/null | grep -q 'RRSIG[[:space:]]*DNSKEY'
}

# has_signed PORT NAME TYPE: the replica answers NAME TYPE with an RRSIG.
has_signed() {
	local out
	out=$("$knot/bin/kdig" @127.0.0.1 -p "$1" +dnssec +noall +answer +time=2 +retry=0 \
		"$2" "$3" 2>/dev/null) || return 1
	grep -Eq "[[:space:]]$3[[:space:]]" <<<"$out" && grep -Eq "RRSIG[[:space:]]+$3[[:space:]]" <<<"$out"
}

role() {
	if [ -n "${corrupt[$1]:-}" ]; then
		echo "replica $1 (MISBEHAVING: ${corrupt[$1]})"
	else
		echo "replica $1"
	fi
}

replicas_run() {
	local i secret line pid
	for x in "$knot/sbin/knotd" "$knot/bin/kdig" "$module"; do
		[ -e "$x" ] || die "$x is not built (run ./run.sh build)"
	done
	for tool in nsupdate delv dig python3; do
		command -v "$tool" >/dev/null || die "$tool is missing (./run.sh deps installs it)"
	done
	for ((i = 1; i <= n; i++)); do
		port_free "$(dns_port "$i")" || die "127.0.0.1 port $(dns_port "$i") is in use (replica $i's DNS); try --port"
		[ "$n" -eq 1 ] || port_free "$(link_port "$i")" ||
			die "127.0.0.1 port $(link_port "$i") is in use (replica $i's link); try --port"
	done

	local what="n = $n, f = $f, signing protocol $protocol"
	[ ${#corrupt[@]} -eq 0 ] || what+=", ${#corrupt[@]} misbehaving"
	say "4. The running group ($what): replica i answers DNS on 127.0.0.1 port $((port - 1)) + i"
	secret=$(head -c 32 /dev/urandom | base64)
	cat >"$demo/update.key" <<EOF
key "update.key" {
	algorithm hmac-sha256;
	secret "$secret";
};
EOF
	# The same key in the form of Knot's tools (knsupdate -k, kdig -k).
	printf 'hmac-sha256:update.key:%s\n' "$secret" >"$demo/update.knot-key"
	chmod 600 "$demo/update.key" "$demo/update.knot-key"
	for ((i = 1; i <= n; i++)); do
		replica_conf "$i" "$secret"
		"$knot/sbin/knotc" -c "$demo/replica-$i/knot.conf" conf-check >/dev/null ||
			die "knotc conf-check refuses $demo/replica-$i/knot.conf"
	done
	for ((i = 1; i <= n; i++)); do
		"$knot/sbin/knotd" -c "$demo/replica-$i/knot.conf" -d
	done
	for ((i = 1; i <= n; i++)); do
		wait_for 100 replica_pid "$i" >/dev/null ||
			{ tail -n 20 "$demo/replica-$i/knot.log" >&2; die "replica $i's knotd did not start"; }
	done
	if [ "$n" -gt 1 ]; then
		for ((i = 1; i <= n; i++)); do
			wait_for 300 grep -q "links up to all $((n - 1)) peers" "$demo/replica-$i/knot.log" ||
				{ tail -n 20 "$demo/replica-$i/knot.log" >&2; die "replica $i: its links to the others are not up"; }
		done
		echo "   every replica's TLS links to the $((n - 1)) others are up"
	fi
	for ((i = 1; i <= n; i++)); do
		wait_for 1200 signed "$(dns_port "$i")" ||
			{ tail -n 20 "$demo/replica-$i/knot.log" >&2; die "replica $i did not sign the zone (log: $demo/replica-$i/knot.log)"; }
	done
	for ((i = 1; i <= n; i++)); do
		echo "   $(role "$i"): knotd PID $(replica_pid "$i"), 127.0.0.1:$(dns_port "$i"), serves the signed zone"
	done
	echo "   replica 1's log:"
	grep -Eo "(TEST MODE|active, replica|coordinator started|links up to all|DNSSEC, successfully signed|DDNS, ordered change).*" \
		"$demo/replica-1/knot.log" | head -n 8 | sed 's/^/     /'

	# The trust anchor: the DNSKEY RR, and the same in delv's trust-anchors form.
	cp "$keys/example.com.dnskey" "$demo/trust-anchor.dnskey"
	awk '$4 == "DNSKEY" { key = ""; for (i = 8; i <= NF; i++) key = key $i;
	     printf "trust-anchors {\n\t%s static-key %s %s %s \"%s\";\n};\n", $1, $5, $6, $7, key }' \
		"$keys/example.com.dnskey" >"$demo/trust-anchor"

	say "5. Add a name with nsupdate at replica 1 (TSIG key $demo/update.key)"
	printf 'server 127.0.0.1 %s\nzone %s\nupdate add hello.%s 300 A 192.0.2.123\nupdate add hello.%s 300 TXT "added by nsupdate"\nsend\n' \
		"$(dns_port 1)" "$zone" "$zone" "$zone" | nsupdate -t 60 -u 60 -r 0 -k "$demo/update.key" ||
		die "nsupdate failed"
	echo "   nsupdate: NOERROR"
	grep -o 'DDNS, ordered change.*' "$demo/replica-1/knot.log" | tail -n 1 | sed 's/^/   replica 1: /'

	say "6. Read it back from every replica, signed"
	for ((i = 1; i <= n; i++)); do
		if wait_for 300 has_signed "$(dns_port "$i")" "hello.$zone" A; then
			"$knot/bin/kdig" @127.0.0.1 -p "$(dns_port "$i")" +dnssec +noall +answer "hello.$zone" A |
				awk -v who="$(role "$i")" '$4 == "A" { a = $5 } $4 == "RRSIG" { s = $5 " " $6 " key tag " $11 }
				     END { printf "   %s: hello A %s, RRSIG %s\n", who, a, s }'
		elif [ -n "${corrupt[$i]:-}" ]; then
			echo "   $(role "$i"): no signed answer (it misbehaves)"
		else
			die "replica $i does not serve hello.$zone A signed"
		fi
	done

	say "7. Validate it: delv with the DNSKEY as the only trust anchor"
	local out
	for ((i = 1; i <= n; i++)); do
		out=$(delv @127.0.0.1 -p "$(dns_port "$i")" -a "$demo/trust-anchor" +root="$zone" \
			"hello.$zone" A 2>&1) || true
		if [ "$i" -eq 1 ]; then
			echo "   delv @127.0.0.1 -p $(dns_port "$i") -a $demo/trust-anchor +root=$zone hello.$zone A"
			echo "$out" | sed 's/^/     /'
		fi
		if grep -q '^; fully validated' <<<"$out"; then
			echo "   $(role "$i"): fully validated"
		elif [ -n "${corrupt[$i]:-}" ]; then
			echo "   $(role "$i"): not validated (it misbehaves)"
		else
			echo "$out" >&2
			die "delv did not validate hello.$zone from replica $i"
		fi
	done

	if [ ${#corrupt[@]} -gt 0 ]; then
		say "8. What the correct replicas noticed of the misbehaving ones (their logs)"
		local id j count lines
		for id in $(printf '%s\n' "${!corrupt[@]}" | sort -n); do
			for ((j = 1; j <= n; j++)); do
				[ -z "${corrupt[$j]:-}" ] || continue
				lines=$(grep -o "'mod-bftdns/demo', replica $id: .*" "$demo/replica-$j/knot.log" || true)
				count=$(grep -c . <<<"$lines" || true)
				if [ "$count" -gt 0 ]; then
					echo "   replica $j: $count fault(s) of replica $id, e.g. \"$(head -n 1 <<<"$lines" | cut -d' ' -f2-)\""
				else
					echo "   replica $j: no fault of replica $id logged (its signature shares or messages may not have been needed)"
				fi
			done
		done
	fi

	say "The replicas keep running"
	local last=$(dns_port "$n") p1=$(dns_port 1)
	cat <<EOF
   Try (replica i answers on 127.0.0.1 port $((port - 1)) + i, here $p1..$last):
     dig @127.0.0.1 -p $last +dnssec www.$zone
     kdig @127.0.0.1 -p $p1 +dnssec www.$zone
     nsupdate -k $demo/update.key
         server 127.0.0.1 $last
         zone $zone
         update add NAME.$zone 300 A 192.0.2.55
         send
     $knot/bin/knsupdate -k $demo/update.knot-key      (same commands)
     delv @127.0.0.1 -p $p1 -a $demo/trust-anchor +root=$zone NAME.$zone A
     dig @127.0.0.1 -p $p1 $zone AXFR         (the same zone on every replica)
     $knot/sbin/knotc -c $demo/replica-1/knot.conf zone-stats $zone mod-bftdns
   Files:
     $demo/replica-<i>/knot.conf   replica i's configuration
     $demo/replica-<i>/knot.log    its log
     $demo/update.key          TSIG key for nsupdate -k (BIND's form)
     $demo/update.knot-key     the same for knsupdate -k and kdig -k (Knot's form)
     $demo/trust-anchor        the DNSKEY as a delv trust anchor ($demo/trust-anchor.dnskey: the RR)
   Stop them with: ./run.sh stop
EOF
	if [ "${BFTDNS_DEMO_STOP:-0}" = 1 ]; then
		stop_all
	fi
}

run() {
	parse_args "$@"
	for tool in "$keygen" "$signzone"; do
		[ -x "$tool" ] || die "$tool is not built (run ./run.sh build)"
	done
	for tool in ldns-verify-zone dnssec-verify; do
		command -v "$tool" >/dev/null || die "$tool is missing (./run.sh deps installs it)"
	done
	mkdir -p "$demo"
	# A new run replaces the keys: replicas of an earlier run stop first.
	local i any=0
	for i in $(replica_ids); do
		replica_pid "$i" >/dev/null && any=1
	done
	[ "$any" = 0 ] || stop_all
	for i in $(replica_ids); do
		rm -rf "${demo:?}/replica-$i"
	done
	rm -rf "$demo/replica-keys"

	offline
	replicas_run
}

case "${1:-run}" in
	stop) [ $# -eq 1 ] || die "stop takes no arguments"; stop_all ;;
	-h|--help|help) usage ;;
	*) run "$@" ;;
esac
