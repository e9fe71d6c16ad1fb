#!/usr/bin/env bash
# Read benchmark (./run.sh bench read): does mod-bftdns cost the queries
# anything? dnsperf against two patched knotd on the same signed zone: one
# configured as stock Knot (no module), one with mod-bftdns. Runs alternate
# (stock, module, stock, ...) so that drift hits both; the figure is the
# ratio of the medians, module / stock (target >= 0.98).
#
#   bench-read.sh [--seconds S] [--rounds R] [--clients C] [--threads T]
#
# Environment: KNOT_PREFIX, BFTDNS_MODULE, BFTDNS_KEYGEN (default: build/).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
export KNOT_PREFIX=${KNOT_PREFIX:-$top/build/knot}
export BFTDNS_MODULE=${BFTDNS_MODULE:-$top/build/meson/module/mod-bftdns.so}
export BFTDNS_KEYGEN=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}

seconds=5 rounds=3 clients=8 threads=2
while [ $# -gt 0 ]; do
	case "$1" in
		--seconds) seconds=$2; shift 2 ;;
		--rounds)  rounds=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--threads) threads=$2; shift 2 ;;
		*) echo "bench-read: unknown option $1" >&2; exit 2 ;;
	esac
done

. "$(dirname "$0")/lib.sh"
command -v dnsperf >/dev/null || skip "dnsperf is missing"

# 1. The module replica signs the zone; its signed zone file is then served
#    by a stock-configured knotd as well, so both answer from the same data.
make_key "$TMP/keys"
port_mod=$(free_port)
replica_setup "$TMP/module" "$port_mod" "$TMP/keys"
knot_start "$TMP/module"
wait_signed "$TMP/module"
pid_mod=$KNOT_PID
axfr "$port_mod" "$TMP/signed.zone"

port_stock=$(free_port)
mkdir -p "$TMP/stock"
cp "$TMP/signed.zone" "$TMP/stock/example.com.zone"
cat >"$TMP/stock/knot.conf" <<CONF
server:
    rundir: "$TMP/stock"
    pidfile: "$TMP/stock/knot.pid"
    listen: 127.0.0.1@$port_stock
log:
  - target: "$TMP/stock/knot.log"
    any: info
database:
    storage: "$TMP/stock"
zone:
  - domain: example.com.
    file: "$TMP/stock/example.com.zone"
CONF
knot_start "$TMP/stock"
pid_stock=$KNOT_PID
serial_mod=$(soa_serial "$port_mod")
[ "$(soa_serial "$port_stock")" = "$serial_mod" ] || fail "the two servers serve different serials"

# Queries: answers, a delegation-free NODATA, an NXDOMAIN; DNSSEC OK set.
printf '%s\n' "www.example.com A" "www.example.com AAAA" "mail.example.com MX" \
	"ns1.example.com A" "example.com SOA" "example.com DNSKEY" \
	"www.example.com TXT" "nothere.example.com A" >"$TMP/queries"

# run PORT: one dnsperf run, prints the queries per second.
run() {
	dnsperf -s 127.0.0.1 -p "$1" -d "$TMP/queries" -D -c "$clients" -T "$threads" \
		-l "$seconds" >"$TMP/dnsperf.out" 2>&1 || { cat "$TMP/dnsperf.out" >&2; fail "dnsperf failed"; }
	grep -q 'Queries lost: *0 ' "$TMP/dnsperf.out" || log "note: $(grep 'Queries lost' "$TMP/dnsperf.out")"
	awk '/Queries per second:/ { print $4 }' "$TMP/dnsperf.out"
}

log "dnsperf -D -c $clients -T $threads -l $seconds, $rounds rounds each, alternating"
stock=() module=()
for ((r = 1; r <= rounds; r++)); do
	stock+=("$(run "$port_stock")")
	module+=("$(run "$port_mod")")
	log "round $r: stock ${stock[-1]} qps, mod-bftdns ${module[-1]} qps"
done

python3 - "${stock[*]}" "${module[*]}" <<'PY'
import statistics, sys
stock = [float(x) for x in sys.argv[1].split()]
module = [float(x) for x in sys.argv[2].split()]
s, m = statistics.median(stock), statistics.median(module)
print("bench-read: median stock %.0f qps, median mod-bftdns %.0f qps, ratio %.3f (target >= 0.98)"
      % (s, m, m / s))
PY

knot_stop "$pid_mod"
knot_stop "$pid_stock"
