#!/usr/bin/env bash
# Read benchmark (./run.sh bench read): does mod-bftdns cost the queries
# anything? dnsperf against two patched knotd on the same signed zone: one
# configured as stock Knot (no module), one with mod-bftdns. Runs alternate
# (stock, module, stock, ...) so that drift hits both; the figure is the
# ratio of the medians, module / stock (target >= 0.98), for the throughput
# and, steadier on a shared machine, for the server CPU time per query.
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

# cpu_ns PID: CPU time of all threads of a process so far (schedstat, ns).
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat | awk '{ sum += $1 } END { printf "%.0f\n", sum }'
}

# run PORT PID: one dnsperf run; prints "QPS NS-OF-SERVER-CPU-PER-QUERY".
# Throughput is what clients see, but on a shared machine it moves with
# everything else that runs; the server's CPU time per answered query
# measures what the module adds to each query and drifts far less.
run() {
	local before after
	before=$(cpu_ns "$2")
	dnsperf -s 127.0.0.1 -p "$1" -d "$TMP/queries" -D -c "$clients" -T "$threads" \
		-l "$seconds" >"$TMP/dnsperf.out" 2>&1 || { cat "$TMP/dnsperf.out" >&2; fail "dnsperf failed"; }
	after=$(cpu_ns "$2")
	grep -q 'Queries lost: *0 ' "$TMP/dnsperf.out" || log "note: $(grep 'Queries lost' "$TMP/dnsperf.out")"
	awk -v before="$before" -v after="$after" '/Queries completed:/ { done = $3 }
	    /Queries per second:/ { qps = $4 }
	    END { printf "%.0f %.0f\n", qps, (after - before) / done }' "$TMP/dnsperf.out"
}

log "dnsperf -D -c $clients -T $threads -l $seconds, $rounds rounds each, alternating"
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
stock=() module=()
for ((r = 1; r <= rounds; r++)); do
	stock+=("$(run "$port_stock" "$pid_stock")")
	module+=("$(run "$port_mod" "$pid_mod")")
	log "round $r: stock ${stock[-1]% *} qps (${stock[-1]#* } ns CPU/query)," \
	    "mod-bftdns ${module[-1]% *} qps (${module[-1]#* } ns CPU/query)"
done

python3 - "${stock[*]}" "${module[*]}" <<'PY'
import statistics, sys
def split(arg):
    v = [float(x) for x in arg.split()]
    return v[0::2], v[1::2]
sq, sc = split(sys.argv[1])
mq, mc = split(sys.argv[2])
s, m = statistics.median(sq), statistics.median(mq)
print("bench-read: throughput: median stock %.0f qps, median mod-bftdns %.0f qps, ratio %.3f"
      % (s, m, m / s))
cs, cm = statistics.median(sc), statistics.median(mc)
print("bench-read: server CPU per query: stock %.0f ns, mod-bftdns %.0f ns; "
      "read capacity ratio (stock CPU / module CPU) %.3f (target >= 0.98)" % (cs, cm, cs / cm))
PY

knot_stop "$pid_mod"
knot_stop "$pid_stock"
