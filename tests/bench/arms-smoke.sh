#!/usr/bin/env bash
# Smoke test of the benchmark arms that compare a replica group with stock
# knotd (suite 'bench'): `read --group 4:1:optte --quick` and `throughput
# --quick` run to the end and write their metrics, numbers, into a summary
# of their own. Checks that the arms work, not how fast anything is.
#
# Environment (tests/bench/meson.build): KNOT_PREFIX, BFTDNS_MODULE,
# BFTDNS_KEYGEN, BFTDNS_BENCH_CRYPTO.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
command -v dnsperf >/dev/null || { echo "arms-smoke: SKIP: dnsperf is missing"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bftdns-arms-smoke.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export SUMMARY_TSV=$tmp/summary.tsv

# Another arm's line, which the merges must keep.
printf 'other_arm_metric\t1\n' >"$SUMMARY_TSV"

"$here/../knot/bench-read.sh" --quick --group 4:1:optte >"$tmp/read.out" 2>&1 ||
	{ cat "$tmp/read.out"; echo "arms-smoke: FAIL: read --group"; exit 1; }
"$here/throughput.sh" --quick >"$tmp/throughput.out" 2>&1 ||
	{ cat "$tmp/throughput.out"; echo "arms-smoke: FAIL: throughput"; exit 1; }

status=0
for metric in other_arm_metric read_qps_ratio read_cpu_ratio update_tput_ratio \
	update_tput_group_ups update_tput_stock_ups cpu_per_update_vs_floor rrsigs_per_update \
	share_cpu_ms cpu_floor_per_update_ms; do
	value=$(awk -F '\t' -v m="$metric" '$1 == m { print $2 }' "$SUMMARY_TSV")
	if [[ ! "$value" =~ ^[0-9]+(\.[0-9]+)?$ ]] || [ "$(wc -l <<<"$value")" != 1 ]; then
		echo "arms-smoke: FAIL: $metric is '$value' in the summary, not one number"
		status=1
	fi
done
# An update makes at least one RRSIG (its own RRset's) at every replica.
awk -F '\t' '$1 == "rrsigs_per_update" && $2 < 1 { exit 1 }' "$SUMMARY_TSV" ||
	{ echo "arms-smoke: FAIL: fewer than one RRSIG per update"; status=1; }
grep -q '^| median |' "$tmp/throughput.out" || { echo "arms-smoke: FAIL: no throughput table"; status=1; }
[ "$status" = 0 ] && echo "arms-smoke: every metric written"
exit "$status"
