#!/usr/bin/env bash
# Read benchmark (./run.sh bench read): does mod-bftdns cost the queries
# anything? dnsperf against two patched knotd on the same signed zone: one
# configured as stock Knot (no module), one with mod-bftdns. Runs alternate
# (stock, module, stock, ...) so that drift hits both; the figure is the
# ratio of the medians, module / stock (target >= 0.98), for the throughput
# and, steadier on a shared machine, for the server CPU time per query.
#
# With --group N:F:PROTOCOL the module side is replica 1 of a running group
# of N replicas on 127.0.0.1 (tests/cluster/lib.sh: all links up, the zone
# threshold-signed), idle (no updates flow while dnsperf runs), and stock
# knotd serves that group's signed zone. The figures merge into
# build/bench/summary.tsv: read_qps_ratio and read_cpu_ratio with --group,
# read_n1_qps_ratio and read_n1_cpu_ratio without.
#
# With --group and --update-rate U, updates flow while dnsperf reads: U
# TSIG-signed UPDATEs per second (dnsperf -u -Q U, a new name each) go to
# replica 2 of the group, so that replica 1 applies and signs every batch
# (its shares) but takes no UPDATE itself; stock knotd then signs the zone
# itself (tests/bench/stock.sh, RSASHA256 of the group's size, 1024) and
# gets the same update stream during its rounds. Metrics read_busy_qps_ratio
# and read_busy_cpu_ratio (the latter includes the update work).
#
# With --group and --ordered-reads every replica runs with ordered-reads: on
# (doc/configuration.md): each query is ordered through the atomic broadcast
# before replica 1 answers it. Metrics read_ordered_* (read_busy_ordered_*).
#
#   bench-read.sh [--seconds S] [--rounds R] [--clients C] [--threads T]
#                 [--group N:F:PROTOCOL [--update-rate U] [--ordered-reads]] [--quick]
#
# --quick: 2 rounds of 1 s (a smoke run).
#
# Environment: KNOT_PREFIX, BFTDNS_MODULE, BFTDNS_KEYGEN (default: build/),
# SUMMARY_TSV.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
export KNOT_PREFIX=${KNOT_PREFIX:-$top/build/knot}
export BFTDNS_MODULE=${BFTDNS_MODULE:-$top/build/meson/module/mod-bftdns.so}
export BFTDNS_KEYGEN=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}

seconds=5 rounds=3 clients=8 threads=2 spec= rate=0 ordered=0
while [ $# -gt 0 ]; do
	case "$1" in
		--group)   spec=$2; shift 2 ;;
		--update-rate) rate=$2; shift 2 ;;
		--ordered-reads) ordered=1; shift ;;
		--quick)   seconds=1 rounds=2; shift ;;
		--seconds) seconds=$2; shift 2 ;;
		--rounds)  rounds=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		--threads) threads=$2; shift 2 ;;
		*) echo "bench-read: unknown option $1" >&2; exit 2 ;;
	esac
done

# The cluster helpers include tests/knot/lib.sh (TMP, knot_start, ...).
. "$(dirname "$0")/../cluster/lib.sh"
. "$(dirname "$0")/../bench/summary.sh"
. "$(dirname "$0")/../bench/stock.sh"
command -v dnsperf >/dev/null || skip "dnsperf is missing"
[[ "$rate" =~ ^[0-9]+$ ]] || fail "--update-rate wants a number of updates per second"
[ "$rate" = 0 ] || [ -n "$spec" ] || fail "--update-rate needs --group"
[ "$ordered" = 0 ] || [ -n "$spec" ] || fail "--ordered-reads needs --group"

# 1. The module replica signs the zone (n = 1), or the group does (replica 1
#    is measured); its signed zone file is then served by a stock-configured
#    knotd as well, so both answer from the same data.
if [ -z "$spec" ]; then
	make_key "$TMP/keys"
	port_mod=$(free_port)
	replica_setup "$TMP/module" "$port_mod" "$TMP/keys"
	knot_start "$TMP/module"
	wait_signed "$TMP/module"
	pid_mod=$KNOT_PID
	label="mod-bftdns" prefix=read_n1
else
	IFS=: read -r gn gf gproto <<<"$spec"
	[[ "$gn" =~ ^[0-9]+$ && "$gf" =~ ^[0-9]+$ && -n "$gproto" ]] ||
		fail "--group wants N:F:PROTOCOL, not '$spec'"
	cluster_keys "$TMP/group" "$gn" "$gf"
	CLUSTER_PROTOCOL=$gproto
	if [ "$ordered" = 1 ]; then
		cluster_start "    ordered-reads: on"
	else
		cluster_start
	fi
	cluster_wait_all_links 300
	cluster_wait_signed 600
	port_mod=${CLUSTER_DNS_PORT[1]}
	pid_mod=${CLUSTER_PID[1]}
	label="replica 1 of $gn" prefix=read
	[ "$rate" = 0 ] || { [ "$gn" -ge 2 ] || fail "--update-rate needs a group of 2 or more"; prefix=read_busy; }
	[ "$ordered" = 0 ] || { label+=" (ordered reads)"; prefix+=_ordered; }
fi
axfr "$port_mod" "$TMP/signed.zone"

port_stock=$(free_port)
if [ "$rate" != 0 ]; then
	stock_start "$TMP/stock" "$port_stock" 1024
	pid_stock=$STOCK_PID
else
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
fi
serial_mod=$(soa_serial "$port_mod")
[ "$rate" != 0 ] || [ "$(soa_serial "$port_stock")" = "$serial_mod" ] ||
	fail "the two servers serve different serials"

# Queries: answers, a delegation-free NODATA, an NXDOMAIN; DNSSEC OK set.
printf '%s\n' "www.example.com A" "www.example.com AAAA" "mail.example.com MX" \
	"ns1.example.com A" "example.com SOA" "example.com DNSKEY" \
	"www.example.com TXT" "nothere.example.com A" >"$TMP/queries"

# cpu_ns PID: CPU time of all threads of a process so far (schedstat, ns).
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat | awk '{ sum += $1 } END { printf "%.0f\n", sum }'
}

# run PORT PID OTHER-PID: one dnsperf run; prints "QPS NS-OF-SERVER-CPU-PER-QUERY
# OTHER-NS-PER-S", QPS counting answers only (NOERROR, NXDOMAIN), and the CPU
# time per second of the other server, which serves nothing meanwhile (what it
# spends idle: for a replica its coordinator, links and control thread).
# Throughput is what clients see, but on a shared machine it moves with
# everything else that runs; the server's CPU time per answered query
# measures what the module adds to each query and drifts far less.
#
# run PORT PID OTHER-PID [UPDATE-PORT LABEL]: with an update port, UPDATEs flow to it
# at the --update-rate while dnsperf reads (their outcome in TMP/LABEL.upd.out).
run() {
	local before after other_before other_after t0 t1 upd_pid=
	if [ -n "${4:-}" ]; then
		# More names than the rate can use up; stopped after the read.
		awk -v p="$5-" -v count=$((rate * (seconds + 5))) 'BEGIN { for (i = 0; i < count; i++)
		    printf "example.com\nadd %s%d 300 A 192.0.2.1\nsend\n", p, i }' >"$TMP/$5.upd"
		dnsperf -u -s 127.0.0.1 -p "$4" -d "$TMP/$5.upd" -n 1 -Q "$rate" -q 16 -t 30 \
			-y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" >"$TMP/$5.upd.out" 2>&1 &
		upd_pid=$!
		CLUSTER_BG+=("$upd_pid")
	fi
	before=$(cpu_ns "$2")
	other_before=$(cpu_ns "$3")
	t0=$(date +%s%N)
	dnsperf -s 127.0.0.1 -p "$1" -d "$TMP/queries" -D -c "$clients" -T "$threads" \
		-l "$seconds" >"$TMP/dnsperf.out" 2>&1 || { cat "$TMP/dnsperf.out" >&2; fail "dnsperf failed"; }
	after=$(cpu_ns "$2")
	other_after=$(cpu_ns "$3")
	t1=$(date +%s%N)
	if [ -n "$upd_pid" ]; then
		# dnsperf prints its statistics when interrupted.
		kill -INT "$upd_pid" 2>/dev/null || true
		wait "$upd_pid" || true
	fi
	grep -q 'Queries lost: *0 ' "$TMP/dnsperf.out" || log "note: $(grep 'Queries lost' "$TMP/dnsperf.out")" >&2
	# Only answers count: a REFUSED or SERVFAIL (e.g. an ordered read that
	# found no free worker or timed out) is not a read served.
	grep 'Response codes:' "$TMP/dnsperf.out" | grep -Eq 'REFUSED|SERVFAIL' &&
		log "note: $(grep 'Response codes:' "$TMP/dnsperf.out" | sed 's/^ *//')" >&2
	awk -v before="$before" -v after="$after" -v other=$((other_after - other_before)) \
	    -v ns=$((t1 - t0)) '/Queries completed:/ { done = $3 }
	    /Queries per second:/ { qps = $4 }
	    /Response codes:/ { line = $0
	        while (match(line, /(NOERROR|NXDOMAIN) [0-9]+/)) {
	            split(substr(line, RSTART, RLENGTH), kv, " "); ok += kv[2]
	            line = substr(line, RSTART + RLENGTH) } }
	    END { printf "%.0f %.0f %.0f\n", qps * ok / done, (after - before) / done, other / (ns / 1e9) }' \
	    "$TMP/dnsperf.out"
}

log "dnsperf -D -c $clients -T $threads -l $seconds, $rounds rounds each, alternating;" \
    "module side: $label${spec:+ (group $spec, $([ "$rate" = 0 ] && echo idle ||
    echo "$rate updates/s to replica 2"))}"
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
stock=() module=()
# field "A B C" I: the I-th word.
field() {
	local words
	read -r -a words <<<"$1"
	echo "${words[$2 - 1]}"
}
# updated OUT: "N/S" UPDATEs acknowledged per second of the read in dnsperf's output.
updated() {
	awk -v s="$seconds" '/Response codes:/ { if (match($0, /NOERROR [0-9]+/)) n = substr($0, RSTART + 8, RLENGTH - 8) }
	                     END { printf "%.0f", n / s }' "$1"
}
for ((r = 1; r <= rounds; r++)); do
	if [ "$rate" = 0 ]; then
		stock+=("$(run "$port_stock" "$pid_stock" "$pid_mod")")
		module+=("$(run "$port_mod" "$pid_mod" "$pid_stock")")
		log "round $r: stock $(field "${stock[-1]}" 1) qps ($(field "${stock[-1]}" 2) ns CPU/query)," \
		    "$label $(field "${module[-1]}" 1) qps ($(field "${module[-1]}" 2) ns CPU/query)"
	else
		stock+=("$(run "$port_stock" "$pid_stock" "$pid_mod" "$port_stock" "s$r")")
		module+=("$(run "$port_mod" "$pid_mod" "$pid_stock" "${CLUSTER_DNS_PORT[2]}" "g$r")")
		log "round $r: stock $(field "${stock[-1]}" 1) qps ($(field "${stock[-1]}" 2) ns CPU/query," \
		    "$(updated "$TMP/s$r.upd.out") updates/s acknowledged)," \
		    "$label $(field "${module[-1]}" 1) qps ($(field "${module[-1]}" 2) ns CPU/query," \
		    "$(updated "$TMP/g$r.upd.out") updates/s acknowledged by the group)"
	fi
done
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$rate" = 0 ]; then
	[ "$(soa_serial "$port_mod")" = "$serial_mod" ] || fail "the module side's zone changed during the run"
else
	[ "$(soa_serial "$port_mod")" != "$serial_mod" ] || fail "no update reached replica 1 during the run"
fi

python3 - "${stock[*]}" "${module[*]}" "$label" "$prefix" "$TMP/summary.tsv" <<'PY'
import statistics, sys
def split(arg):
    v = [float(x) for x in arg.split()]
    return v[0::3], v[1::3], v[2::3]
sq, sc, m_idle = split(sys.argv[1])  # during stock's runs the module side idles
mq, mc, s_idle = split(sys.argv[2])
label, prefix = sys.argv[3], sys.argv[4]
s, m = statistics.median(sq), statistics.median(mq)
print("bench-read: throughput: median stock %.0f qps, median %s %.0f qps, ratio %.3f%s"
      % (s, label, m, m / s, " (target >= 0.98)" if prefix == "read" else ""))
cs, cm = statistics.median(sc), statistics.median(mc)
print("bench-read: server CPU per query: stock %.0f ns, %s %.0f ns; "
      "read capacity ratio (stock CPU / module CPU) %.3f" % (cs, label, cm, cs / cm))
print("bench-read: CPU of each server while the other was read (no queries of its own): stock %.1f ms/s, %s %.1f ms/s"
      % (statistics.median(s_idle) / 1e6, label, statistics.median(m_idle) / 1e6))
with open(sys.argv[5], "w") as tsv:
    tsv.write("%s_qps_ratio\t%.3f\n%s_cpu_ratio\t%.3f\n" % (prefix, m / s, prefix, cs / cm))
    tsv.write("%s_stock_qps\t%.0f\n%s_module_qps\t%.0f\n" % (prefix, s, prefix, m))
PY
summary_merge "$TMP/summary.tsv"

if [ -n "$spec" ]; then
	cluster_stop
else
	knot_stop "$pid_mod"
fi
knot_stop "$pid_stock"
