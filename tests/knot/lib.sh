# Shared helpers of the tests that start the patched knotd (tests/knot/*.sh).
#
# Every test gets its own temporary directory, picks its own free ports on
# 127.0.0.1, and stops what it started by PID (see knot_stop and the EXIT trap).
#
# Environment (set by tests/knot/meson.build):
#   KNOT_PREFIX     the patched Knot install (build/knot)
#   BFTDNS_MODULE   absolute path of mod-bftdns.so

set -euo pipefail

: "${KNOT_PREFIX:?KNOT_PREFIX is not set (run through meson test)}"
: "${BFTDNS_MODULE:?BFTDNS_MODULE is not set (run through meson test)}"

KNOTD="$KNOT_PREFIX/sbin/knotd"
KNOTC="$KNOT_PREFIX/sbin/knotc"
KDIG="$KNOT_PREFIX/bin/kdig"
KNSUPDATE="$KNOT_PREFIX/bin/knsupdate"

TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bftdns-$TEST_NAME.XXXXXX")
KNOT_PIDS=()

log() { printf '%s: %s\n' "$TEST_NAME" "$*"; }

fail() {
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	for f in "$TMP"/*/knot.log "$TMP"/knot.log; do
		[ -f "$f" ] && { echo "--- $f (last 40 lines)" >&2; tail -n 40 "$f" >&2; }
	done
	exit 1
}

skip() { printf '%s: SKIP: %s\n' "$TEST_NAME" "$*"; exit 77; }

cleanup() {
	local pid
	for pid in "${KNOT_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${KNOT_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

[ -x "$KNOTD" ] || skip "no patched knotd at $KNOTD (run ./run.sh build)"
[ -f "$BFTDNS_MODULE" ] || skip "no module at $BFTDNS_MODULE"

# Prints a port free for UDP and TCP on 127.0.0.1 right now, below the
# kernel's ephemeral range, and not handed out in the last 10 minutes. A
# server's ports are bound a moment (a group's link ports a second) after
# they are chosen: meanwhile the outgoing connections of other tests take
# their source ports from the ephemeral range (seen once: "cannot listen on
# 127.0.0.1 port 33974: Address already in use"), and another free_port call
# of this test or of a test running at the same time would find the same
# port free (seen: a DNS port and a link port of one group). The ports
# handed out are kept, under a lock, in ${TMPDIR:-/tmp}/bftdns-ports.
free_port() {
	python3 - "${TMPDIR:-/tmp}/bftdns-ports" <<'PY'
import fcntl, os, random, socket, sys, time
path = sys.argv[1]
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
top = max(min(low, 65536) - 1, 12000)
with open(path + ".lock", "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    now = time.time()
    given = {}
    try:
        for line in open(path):
            fields = line.split()
            if len(fields) == 2 and fields[0].isdigit():
                try:
                    when = float(fields[1])
                except ValueError:
                    continue
                if now - when < 600:
                    given[int(fields[0])] = when
    except OSError:
        pass
    for _ in range(500):
        port = random.randint(10000, top)
        if port in given:
            continue
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET, kind)
                s.bind(("127.0.0.1", port))
                s.close()
        except OSError:
            continue
        given[port] = now
        with open(path + ".tmp", "w") as out:
            for p, when in given.items():
                out.write(f"{p} {when:.0f}\n")
        os.replace(path + ".tmp", path)
        print(port)
        break
    else:
        raise SystemExit("no free port found")
PY
}

# Polls until a command succeeds; at most $1 tenths of a second.
wait_for() {
	local tenths=$1 i
	shift
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# knot_start DIR: starts knotd -c DIR/knot.conf in the background, records its
# PID in KNOT_PID and KNOT_PIDS, and waits until it answers knotc status.
knot_start() {
	local dir=$1
	"$KNOTD" -c "$dir/knot.conf" >"$dir/knotd.out" 2>&1 &
	KNOT_PID=$!
	KNOT_PIDS+=("$KNOT_PID")
	if ! wait_for 100 "$KNOTC" -c "$dir/knot.conf" -t 1 status >/dev/null 2>&1; then
		cat "$dir/knotd.out" >&2
		fail "knotd in $dir did not start"
	fi
}

# knot_stop PID: stops one knotd and waits for it.
knot_stop() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "knotd $pid did not stop"
	wait "$pid" 2>/dev/null || true
}

# Waits until a file contains a line matching an extended regexp.
wait_log() {
	local file=$1 regexp=$2 tenths=${3:-100}
	wait_for "$tenths" grep -Eq -- "$regexp" "$file"
}

# The TSIG key the tests update with (hmac-sha256).
TSIG_NAME=update.key
TSIG_SECRET=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=

# The zone every replica test starts from.
write_zone() {
	cat >"$1" <<-'ZONE'
	$ORIGIN example.com.
	$TTL 3600
	@	SOA	ns1 hostmaster 1 3600 900 604800 300
	@	NS	ns1
	ns1	A	192.0.2.1
	www	A	192.0.2.80
	www	AAAA	2001:db8::80
	mail	MX	10 www
	ZONE
}

# make_key DIR: a fresh threshold key for one replica (1024 bits: quick;
# RSASHA256). Leaves DIR/share-1.key and DIR/example.com.dnskey.
make_key() {
	: "${BFTDNS_KEYGEN:?BFTDNS_KEYGEN is not set}"
	"$BFTDNS_KEYGEN" --zone example.com. --replicas 1 --faults 0 --bits 1024 \
		--out "$1" >"$1.keygen.log" 2>&1 || { cat "$1.keygen.log" >&2; fail "bftdns-keygen failed"; }
}

# knot_conf_head DIR LISTEN [SERVER-ITEMS]: the first sections of a test
# knot.conf for a knotd in DIR listening on LISTEN (ADDR@PORT): server (and
# SERVER-ITEMS, lines indented for it), log to DIR/knot.log, database in
# DIR, and the TSIG key as the first of the key section, which the caller
# may go on with more keys.
knot_conf_head() {
	local dir=$1 listen=$2 server_items=${3:-}
	cat <<-CONF
	server:
	    rundir: "$dir"
	    pidfile: "$dir/knot.pid"
	    listen: $listen
	$server_items
	log:
	  - target: "$dir/knot.log"
	    any: info
	database:
	    storage: "$dir"
	key:
	  - id: $TSIG_NAME
	    algorithm: hmac-sha256
	    secret: $TSIG_SECRET
	CONF
}

# replica_setup DIR PORT KEYDIR [MODULE-ITEMS] [ZONE-ITEMS] [SECTIONS]:
# knot.conf and zone for replica 1 of 1 of example.com. in DIR, DNS on
# 127.0.0.1@PORT, updates with the TSIG key, transfers from 127.0.0.1.
replica_setup() {
	local dir=$1 port=$2 keydir=$3 extra=${4:-} zone_items=${5:-} sections=${6:-}
	mkdir -p "$dir"
	write_zone "$dir/example.com.zone"
	{
		knot_conf_head "$dir" "127.0.0.1@$port"
		cat <<-CONF
	acl:
	  - id: update
	    key: $TSIG_NAME
	    action: update
	  - id: transfer
	    address: 127.0.0.1
	    action: transfer
	module:
	  - id: mod-bftdns
	    file: "$BFTDNS_MODULE"
	mod-bftdns:
	  - id: default
	    replica-id: 1
	    replicas: 1
	    faults: 0
	    key-share: "$keydir/share-1.key"
	$extra
	$sections
	zone:
	  - domain: example.com.
	    file: "$dir/example.com.zone"
	    acl: [ update, transfer ]
	    module: mod-bftdns/default
	$zone_items
	CONF
	} >"$dir/knot.conf"
	cat >"$dir/update.key" <<-KEY
	key "$TSIG_NAME" {
	    algorithm hmac-sha256;
	    secret "$TSIG_SECRET";
	};
	KEY
}

# Waits for the module's first batch (the initial signing) to be committed:
# Knot logs "successfully signed" before the commit, the module's change
# line after it.
wait_signed() {
	wait_log "$1/knot.log" 'DDNS, ordered change of [0-9]+ updates applied, serial 1 -> ' 200 ||
		fail "the zone in $1 was not signed"
	grep -q 'DNSSEC, successfully signed' "$1/knot.log" || fail "the first change in $1 signed nothing"
}

# soa_serial PORT: the zone's SOA serial as served.
soa_serial() {
	"$KDIG" @127.0.0.1 -p "$1" +short example.com. SOA | awk '{ print $3 }'
}

# nsupdate_rc PORT KEYFILE-OR-EMPTY SCRIPT: runs bind9's nsupdate; prints
# the outcome: NOERROR, or the RCODE it reports (e.g. YXDOMAIN, NOTAUTH).
nsupdate_rc() {
	local port=$1 key=$2 script=$3 out rcode
	local args=(${NSUPDATE_ARGS:-})
	[ -n "$key" ] && args+=(-k "$key")
	if out=$(printf 'server 127.0.0.1 %s\nzone example.com.\n%s\nsend\n' "$port" "$script" |
	         nsupdate -t 5 "${args[@]}" 2>&1); then
		echo NOERROR
		return
	fi
	rcode=$(sed -n 's/.*update failed: \([A-Z]*\).*/\1/p' <<<"$out" | head -n 1)
	[ -n "$rcode" ] || rcode="ERROR($(head -n 1 <<<"$out"))"
	echo "$rcode"
}

# axfr PORT FILE: the zone by AXFR (dig), in presentation format.
axfr() {
	dig @127.0.0.1 -p "$1" example.com. AXFR +nocmd +nostats +nocomments >"$2" ||
		fail "AXFR failed"
	grep -q 'SOA' "$2" || fail "AXFR returned no SOA: $(head -n 3 "$2")"
}
