#!/usr/bin/env bash
# Disk used by the delivered-batch store (module/batchstore.h) under a long
# run of updates, with stable checkpoints and without them:
#   ./run.sh bench batchlog [--updates N] [--intervals 16,0] [--streams S]
#
# For each digest-interval I (0: no digests, so no stable checkpoint and
# only the store's own bound, the broadcast's retain window, applies), a
# fresh group of n = 4 (f = 1, 1024-bit key, 127.0.0.1) takes N UPDATEs
# (each adds a name; S knsupdate processes at once, one per replica in
# turn, each sending its share one after the other). Replica 1's store
# directory is sampled every 0.2 s (bytes and number of segment files):
# peak and final; and the bytes the store wrote in all (its line at
# unload), what a log without garbage collection would hold. Writes batchlog_i<I>_* lines to
# build/bench/summary.tsv (tests/bench/summary.sh) and prints a table.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
export KNOT_PREFIX=${KNOT_PREFIX:-$top/build/knot}
export BFTDNS_MODULE=${BFTDNS_MODULE:-$top/build/meson/module/mod-bftdns.so}
export BFTDNS_KEYGEN=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}
CTL=${BFTDNS_CTL:-$top/build/meson/coordinator/tools/bftdnsctl}

updates=2000 intervals=16,0 streams=4
while [ $# -gt 0 ]; do
	case "$1" in
		--updates)   updates=$2; shift 2 ;;
		--intervals) intervals=$2; shift 2 ;;
		--streams)   streams=$2; shift 2 ;;
		*) echo "batchlog: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$updates" -ge 1 ] && [ "$streams" -ge 1 ] || { echo "batchlog: bad --updates/--streams" >&2; exit 2; }

# shellcheck source=../cluster/lib.sh
. "$top/tests/cluster/lib.sh"
# shellcheck source=summary.sh
. "$top/tests/bench/summary.sh"
TEST_NAME=batchlog

# stream FIRST STEP COUNT PORT OUT: UPDATEs FIRST, FIRST + STEP, ... (COUNT
# of them) in one knsupdate to PORT; OUT gets its exit status.
stream() {
	local first=$1 step=$2 count=$3 port=$4 out=$5 j k
	{
		printf 'server 127.0.0.1 %s\nzone example.com.\n' "$port"
		for ((j = 0; j < count; j++)); do
			k=$((first + j * step))
			printf 'update add bench-%d.example.com. 300 A 192.0.2.%d\nsend\n' "$k" $((k % 250 + 1))
		done
	} | "$KNSUPDATE" -T -t 60 -y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" >/dev/null 2>&1
	echo $? >"$out"
}

# sampler DIR OUT: every 0.2 s, "bytes files" of DIR's segments into OUT,
# until DIR/../stop-sampler exists (a measurement, not a synchronisation).
sampler() {
	local dir=$1 out=$2
	while [ ! -e "$TMP/stop-sampler" ]; do
		# shellcheck disable=SC2012
		printf '%s %s\n' "$(cat "$dir"/batches-*.seg 2>/dev/null | wc -c)" \
			"$(ls "$dir" 2>/dev/null | grep -c '^batches-.*\.seg$' || true)" >>"$out"
		sleep 0.2
	done
}

status_value() {
	"$CTL" -c "$CLUSTER_DIR/replica-1/knot.conf" status 2>/dev/null | sed -n "s/^$1: //p"
}

summary="$TMP/summary.tsv"
: >"$summary"
table=()
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
IFS=, read -r -a interval_list <<<"$intervals"
for interval in "${interval_list[@]}"; do
	cluster_keys "$TMP/i$interval" 4 1
	for ((i = 1; i <= 4; i++)); do
		CLUSTER_EXTRA[i]="    digest-interval: $interval
    control-socket: \"$CLUSTER_DIR/replica-$i/ctl.sock\""
	done
	cluster_start
	cluster_wait_all_links 300
	cluster_wait_signed 600
	dir="$CLUSTER_DIR/replica-1/bftdns/example.com."
	batches0=$(status_value last-batch)
	rm -f "$TMP/stop-sampler"
	sampler "$dir" "$TMP/i$interval.samples" &
	CLUSTER_BG+=($!)
	sampler_pid=$!
	start=$(date +%s.%N)
	per=$((updates / streams)) pids=()
	for ((s = 0; s < streams; s++)); do
		count=$per
		[ "$s" -lt $((updates % streams)) ] && count=$((per + 1))
		stream $((s + 1)) "$streams" "$count" "${CLUSTER_DNS_PORT[$((s % 4 + 1))]}" \
			"$TMP/i$interval.stream$s" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid"
	done
	end=$(date +%s.%N)
	for ((s = 0; s < streams; s++)); do
		[ "$(cat "$TMP/i$interval.stream$s")" = 0 ] ||
			fail "digest-interval $interval: knsupdate stream $s failed"
	done
	touch "$TMP/stop-sampler"
	wait "$sampler_pid" 2>/dev/null || true
	batches=$(status_value last-batch)
	# Every UPDATE of every stream: its name in replica 1's zone.
	axfr_sorted "${CLUSTER_DNS_PORT[1]}" "$TMP/i$interval.zone" ||
		fail "digest-interval $interval: no AXFR from replica 1"
	applied=$(awk '$1 ~ /^bench-/ && $4 == "A"' "$TMP/i$interval.zone" | wc -l)
	[ "$applied" = "$updates" ] ||
		fail "digest-interval $interval: $applied of $updates UPDATEs in replica 1's zone"
	checkpoint=$("$CTL" -c "$CLUSTER_DIR/replica-1/knot.conf" status 2>/dev/null |
		sed -n 's/^zone: .* checkpoint=\(.*\)$/\1/p')
	read -r peak files_peak < <(awk '{ if ($1 > b) b = $1; if ($2 > f) f = $2 } END { print b + 0, f + 0 }' \
		"$TMP/i$interval.samples")
	read -r final files_final < <(tail -n 1 "$TMP/i$interval.samples")
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	nb=$((batches - batches0))
	cluster_stop
	# What the store wrote in all (its line at unload): what a log without
	# garbage collection would hold.
	appended=$(sed -nE 's/.*batch store: [0-9]+ batches \(([0-9]+) bytes\) appended since.*/\1/p' \
		"$CLUSTER_DIR/replica-1/knot.log" | tail -n 1)
	[ -n "$appended" ] || fail "digest-interval $interval: replica 1 logged no batch store totals"
	key="batchlog_i$interval"
	{
		printf '%s_updates\t%s\n' "$key" "$applied"
		printf '%s_batches\t%s\n' "$key" "$nb"
		printf '%s_seconds\t%s\n' "$key" "$secs"
		printf '%s_disk_peak_kib\t%s\n' "$key" $(((peak + 1023) / 1024))
		printf '%s_disk_end_kib\t%s\n' "$key" $(((final + 1023) / 1024))
		printf '%s_appended_kib\t%s\n' "$key" $(((appended + 1023) / 1024))
		printf '%s_files_peak\t%s\n' "$key" "$files_peak"
		printf '%s_files_end\t%s\n' "$key" "$files_final"
	} >>"$summary"
	table+=("$(printf '%-9s %8s %8s %7s %10s %10s %12s %6s %6s  %s' "$interval" "$applied" "$nb" \
		"$secs" $(((peak + 1023) / 1024)) $(((final + 1023) / 1024)) \
		$(((appended + 1023) / 1024)) "$files_peak" "$files_final" "${checkpoint:-none}")")
done
printf 'batchlog_load_avg\t%s\n' "$(cut -d' ' -f1 /proc/loadavg)" >>"$summary"
summary_merge "$summary"

echo "batch store of replica 1 (n = 4, f = 1), $updates UPDATEs in $streams streams;" \
	"load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(nproc) CPUs"
printf '%-9s %8s %8s %7s %10s %10s %12s %6s %6s  %s\n' interval updates batches seconds \
	peak_KiB end_KiB appended_KiB files fi_end "stable checkpoint at the end"
printf '%s\n' "${table[@]}"
log "summary lines merged into $SUMMARY_TSV"
