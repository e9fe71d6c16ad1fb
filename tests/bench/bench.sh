#!/usr/bin/env bash
# Benchmark dispatcher: ./run.sh bench [WHAT [ARGS...]]
#
#   crypto [--bits 2048[,1024,3072,4096]] [--reps N]   threshold RSA vs plain RSA
#   net [--sizes 64,1024,...] [--mib M] [--reps R]      TLS links vs plain TCP
#   abc [REQUESTS [SIZE [BATCH]]]                      atomic broadcast in the simulator
#   abc-net [--n 4,7,10,16] [--requests R] [--size B] [--votes off|on|both]
#                                                      atomic broadcast over TLS on 127.0.0.1 (both:
#                                                      without and with vote logs, alternately)
#   read [--seconds S] [--rounds R] [--group N:F:P [--update-rate U] [--ordered-reads]] [--quick]
#                                                      dnsperf: knotd + mod-bftdns (n = 1, or replica 1 of
#                                                      a group, idle or with U updates/s) vs stock knotd
#   update [--updates N] [--bits B] [--group N:F:P]    knsupdate latency: mod-bftdns (n = 1, groups) vs stock knotd
#   throughput [--quick] [--rounds R] [--updates U] [--outstanding Q] [--bits B] [--group N:F:P] [--target all|1]
#                                                      concurrent updates (dnsperf -u): group vs stock knotd,
#                                                      CPU per update vs the crypto floor
#   cpu [throughput's options]                         throughput (2 rounds of 200) with a perf profile of replica 1
#   wan-check [--count N] [--tolerance MS]             the emulated Internet (Figure 1): RTT of every pair
#   table2 [--quick] [--ops N] [--rows ..] [--protocols ..]  the paper's Table 2: read (local and ordered)/add/delete, loopback + emulated Internet
#   scale [--quick] [--n 4,7,10,13,16] [--updates M]   update latency, messages, bytes, CPU per update vs n (loopback)
#   zonesize [--quick] [--sizes 1000,100000,1000000]   signing rate, memory, update latency vs zone size, vs stock knotd
#   recovery [--quick] [--updates 10,100,1000]         a replica restarted after missing N updates: time to catch up
#   batchlog [--updates 2000] [--intervals 16,0] [--streams 4]  disk used by the batch store,
#                                                      with and without stable checkpoints
#   all                                                every arm with its defaults
#
# To add an arm: write a function bench_<name> and add <name> to ARMS.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
builddir="$top/build/meson"

# shellcheck source=summary.sh
. "$top/tests/bench/summary.sh"

ARMS=(crypto net abc abc-net read update throughput cpu wan-check table2 scale zonesize recovery batchlog)

bench_crypto() {
	"$builddir/tests/bench/bench-crypto" "$@"
}

bench_net() {
	"$builddir/tests/core/bench-net" "$@"
}

bench_abc() {
	"$builddir/tests/proto/bench-abc" "$@"
}

bench_abc-net() {
	# With --votes both, the ratios on/off go into build/bench/summary.tsv.
	local new status=0
	new=$(mktemp "${TMPDIR:-/tmp}/bftdns-abc-net.XXXXXX")
	"$builddir/tests/core/bench-abc-net" --summary "$new" "$@" || status=$?
	if [ "$status" = 0 ] && [ -s "$new" ]; then
		summary_merge "$new"
	fi
	rm -f "$new"
	return "$status"
}

bench_read() {
	"$top/tests/knot/bench-read.sh" "$@"
}

bench_update() {
	"$top/tests/knot/bench-update.sh" "$@"
}

bench_throughput() {
	"$top/tests/bench/throughput.sh" "$@"
}

bench_cpu() {
	# Shorter than throughput's defaults: the profile, not the figures.
	"$top/tests/bench/throughput.sh" --perf --rounds 2 --updates 200 "$@"
}

bench_wan-check() {
	"$top/tests/bench/wan/wan.sh" check "$@"
}

bench_table2() {
	"$top/tests/bench/table2.sh" "$@"
}

bench_scale() {
	"$top/tests/bench/scale.sh" "$@"
}

bench_batchlog() {
	"$top/tests/bench/batchlog.sh" "$@"
}

bench_zonesize() {
	"$top/tests/bench/zonesize.sh" "$@"
}

bench_recovery() {
	"$top/tests/bench/recovery.sh" "$@"
}

usage() {
	sed -n '2,/^# To add an arm/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

what=${1:-all}
[ $# -gt 0 ] && shift
case "$what" in
	all)
		for arm in "${ARMS[@]}"; do
			printf '== bench %s ==\n' "$arm"
			"bench_$arm"
		done
		;;
	-h|--help|help)
		usage
		;;
	*)
		for arm in "${ARMS[@]}"; do
			if [ "$arm" = "$what" ]; then
				"bench_$arm" "$@"
				exit 0
			fi
		done
		printf 'bench.sh: unknown benchmark "%s" (known: %s, all)\n' "$what" "${ARMS[*]}" >&2
		exit 2
		;;
esac
