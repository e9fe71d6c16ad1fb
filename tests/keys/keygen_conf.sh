#!/usr/bin/env bash
# The knot.conf fragments bftdns-keygen writes pass `knotc conf-check` with
# the committed mod-bftdns loaded, for every replica of (4,1) and of (32,10)
# (the longest peer lists), and for a single replica; a damaged fragment is
# refused, so the check can fail.
# Usage: keygen_conf.sh BFTDNS-KEYGEN   (env: KNOT_PREFIX, BFTDNS_MODULE)
set -u
keygen=$1
. "$(dirname "$0")/lib.sh"

knotc="${KNOT_PREFIX:-}/sbin/knotc"
if [ -z "${KNOT_PREFIX:-}" ] || [ ! -x "$knotc" ]; then
	echo "SKIP: no patched Knot (knotc) to check against; run ./run.sh build"
	exit 77
fi
if [ -z "${BFTDNS_MODULE:-}" ] || [ ! -f "$BFTDNS_MODULE" ]; then
	echo "SKIP: mod-bftdns is not built (${BFTDNS_MODULE:-no path}); run ./run.sh build"
	exit 77
fi

cat >"$tmp/example.com.zone" <<'ZONE'
$ORIGIN example.com.
$TTL 3600
@	SOA	ns1 hostmaster 1 3600 900 604800 300
@	NS	ns1
ns1	A	192.0.2.1
ZONE

# conf_with FRAGMENT CONF: a minimal knot.conf that loads the module, holds
# the fragment as it is, and enables the section for the zone.
conf_with() {
	local fragment=$1 conf=$2
	{
		cat <<-CONF
		server:
		    rundir: "$tmp"
		database:
		    storage: "$tmp"
		module:
		  - id: mod-bftdns
		    file: "$BFTDNS_MODULE"
		CONF
		cat "$fragment"
		cat <<-CONF
		zone:
		  - domain: example.com.
		    file: "$tmp/example.com.zone"
		    module: mod-bftdns/example.com
		CONF
	} >"$conf"
}

# check_all DIR N: conf-check on every replica's fragment.
check_all() {
	local dir=$1 n=$2 i out bad=0
	for ((i = 1; i <= n; i++)); do
		conf_with "$dir/replica-$i/mod-bftdns.conf" "$dir/knot-$i.conf"
		if ! out=$("$knotc" -c "$dir/knot-$i.conf" conf-check 2>&1); then
			fail "replica $i of $n: conf-check refused the fragment: $out"
			bad=1
		fi
	done
	[ "$bad" = 0 ] && pass "conf-check accepts the fragments of all $n replicas"
}

# (4,1) with IPv4 and IPv6 addresses.
"$keygen" --zone example.com --replicas 4 --faults 1 --bits 1024 --out "$tmp/n4" \
	--peer 1=192.0.2.1:5400 --peer 2=[2001:db8::2]:5400 --peer 3=192.0.2.3@5400 \
	--peer 4=192.0.2.4:5400 >"$tmp/n4.log" 2>&1 || fail "keygen (4,1): $(cat "$tmp/n4.log")"
check_all "$tmp/n4" 4

# The check can fail: a fragment that names replica 2 among replica 1's peers
# twice, and one with f too large, are refused with the module's reasons.
sed 's/"4 192.0.2.4@5400/"2 192.0.2.4@5400/' "$tmp/n4/replica-1/mod-bftdns.conf" >"$tmp/twice.conf"
conf_with "$tmp/twice.conf" "$tmp/knot-twice.conf"
expect_run 1 "peer lists the same replica twice" "$knotc" -c "$tmp/knot-twice.conf" conf-check
sed 's/faults: 1/faults: 2/' "$tmp/n4/replica-3/mod-bftdns.conf" >"$tmp/faults.conf"
conf_with "$tmp/faults.conf" "$tmp/knot-faults.conf"
expect_run 1 "replicas must be at least 3 * faults + 1" "$knotc" -c "$tmp/knot-faults.conf" conf-check

# The most replicas bftdns supports: 31 peers with pins on one line.
peers=()
for ((i = 1; i <= 32; i++)); do
	peers+=(--peer "$i=10.0.0.$i:5400")
done
"$keygen" --zone example.com --replicas 32 --faults 10 --bits 1024 --out "$tmp/n32" \
	--install-dir /srv/bftdns "${peers[@]}" >"$tmp/n32.log" 2>&1 ||
	fail "keygen (32,10): $(cat "$tmp/n32.log")"
check_all "$tmp/n32" 32
grep -qF 'key-share: "/srv/bftdns/share-17.key"' "$tmp/n32/replica-17/mod-bftdns.conf" &&
	pass "--install-dir names the share's path" ||
	fail "replica 17's fragment: $(grep key-share "$tmp/n32/replica-17/mod-bftdns.conf")"

# A single replica has no peers: its fragment is written without --peer.
"$keygen" --zone example.com --replicas 1 --faults 0 --bits 1024 --out "$tmp/n1" \
	>"$tmp/n1.log" 2>&1 || fail "keygen (1,0): $(cat "$tmp/n1.log")"
check_all "$tmp/n1" 1

finish
