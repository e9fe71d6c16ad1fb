#!/usr/bin/env bash
# Scaling with n (./run.sh bench scale): replica groups of n = 4, 7, 10, 13
# and 16 (f = floor((n - 1) / 3)) on 127.0.0.1, one signing protocol
# (optte by default), one group at a time. For each group, M sequential
# knsupdate processes (TSIG, one added name each) to replica 1, in blocks of
# 10 alternating with the same updates to a stock-configured knotd that
# signs the zone itself (RSASHA256 of the same size), and:
#
#   - update latency median and p95 (client wall time, knsupdate's start
#     included), against stock knotd's in the same minutes;
#   - messages and bytes sent per update, summed over all replicas: the
#     link counters of bftdnsctl status (link-messages-sent,
#     link-bytes-sent: protocol payload, without TLS and framing) before
#     the first and after the last update, once the group is quiet;
#   - CPU per update: user + system time of all n knotd (/proc/PID/stat)
#     over the same window, against stock knotd's CPU per update; and
#     the idle group's CPU per second over 5 s before the updates.
#
#   scale.sh [--quick] [--n 4,7,10,13,16] [--updates M] [--protocol P] [--bits B]
#
# --quick: n = 4, 7, 10 and M = 20 (default M = 100). All n replicas share
# this machine's CPUs: the figures are for a whole group on one box.
# Writes build/bench/scale.tsv, build/bench/scale.png (gnuplot:
# tests/bench/scale-plot.sh), and merges scale_n<N>_* lines into
# build/bench/summary.tsv.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
export KNOT_PREFIX=${KNOT_PREFIX:-$top/build/knot}
export BFTDNS_MODULE=${BFTDNS_MODULE:-$top/build/meson/module/mod-bftdns.so}
export BFTDNS_KEYGEN=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}

ns=4,7,10,13,16 updates=100 protocol=optte bits=1024
while [ $# -gt 0 ]; do
	case "$1" in
		--quick)    ns=4,7,10 updates=20; shift ;;
		--n)        ns=$2; shift 2 ;;
		--updates)  updates=$2; shift 2 ;;
		--protocol) protocol=$2; shift 2 ;;
		--bits)     bits=$2; shift 2 ;;
		*) echo "scale: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ "$updates" =~ ^[0-9]+$ && "$updates" -ge 10 ]] || { echo "scale: --updates must be at least 10" >&2; exit 2; }
[[ "$ns" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "scale: --n wants a list like 4,7,10" >&2; exit 2; }

# shellcheck source=../cluster/lib.sh
. "$top/tests/cluster/lib.sh"
# shellcheck source=measure.sh
. "$top/tests/bench/measure.sh"
# shellcheck source=summary.sh
. "$top/tests/bench/summary.sh"
[ -x "$BFTDNSCTL" ] || fail "no bftdnsctl at $BFTDNSCTL (build first)"

out_dir="$top/build/bench"
mkdir -p "$out_dir"
tsv="$out_dir/scale.tsv"
summary="$TMP/summary.tsv"
: >"$summary"
printf 'n\tf\tprotocol\tupdates\tp50_ms\tp95_ms\tstock_p50_ms\tstock_p95_ms\tratio_p50\tmsgs_per_update\tbytes_per_update\tcpu_ms_per_update\tstock_cpu_ms_per_update\tidle_cpu_ms_per_s\tload1\n' >"$tsv.tmp"

# scale_keys N F: a threshold key of this run's size for N replicas on free ports.
scale_keys() {
	local n=$1 f=$2 i args=()
	CLUSTER_DIR="$TMP/n$n" CLUSTER_N=$n CLUSTER_F=$f
	for ((i = 1; i <= n; i++)); do
		CLUSTER_DNS_PORT[i]=$(free_port)
		CLUSTER_LINK_PORT[i]=$(free_port)
		args+=(--peer "$i=127.0.0.1@${CLUSTER_LINK_PORT[i]}")
	done
	mkdir -p "$CLUSTER_DIR"
	"$BFTDNS_KEYGEN" --zone example.com. --replicas "$n" --faults "$f" --bits "$bits" \
		--out "$CLUSTER_DIR/keys" "${args[@]}" >"$CLUSTER_DIR/keygen.log" 2>&1 ||
		{ cat "$CLUSTER_DIR/keygen.log" >&2; fail "bftdns-keygen failed"; }
}

# group_counts: "BATCHES-AGREE MSGS BYTES" over all replicas: 1 if every
# replica's last batch is the same, and the sums of link-messages-sent and
# link-bytes-sent. Fails if a status fails.
group_counts() {
	local i st batch first= agree=1 msgs=0 bytes=0
	for ((i = 1; i <= CLUSTER_N; i++)); do
		st=$(ctl_status "$CLUSTER_DIR/replica-$i/knot.conf") || return 1
		batch=$(status_field "$st" last-batch)
		[ -n "$first" ] || first=$batch
		[ "$batch" = "$first" ] || agree=0
		msgs=$((msgs + $(status_field "$st" link-messages-sent)))
		bytes=$((bytes + $(status_field "$st" link-bytes-sent)))
	done
	echo "$agree $msgs $bytes"
}

# group_alive: fails the run, with the replica's last word, if a knotd of
# the group is gone (another process's kill has hit one here once).
group_alive() {
	local i
	for ((i = 1; i <= CLUSTER_N; i++)); do
		cluster_running "$i" || fail "n = $CLUSTER_N: replica $i's knotd (PID ${CLUSTER_PID[i]})" \
			"is gone: $(grep -E 'stopping server|error|critical' "$CLUSTER_DIR/replica-$i/knot.log" | tail -n 1)"
	done
}

# group_quiet: true once every replica has the same last batch and the
# message counters have not moved for a second (QUIET_* keep the state
# between calls; wait_for polls it).
group_quiet() {
	local now agree msgs bytes
	group_alive
	now=$(date +%s%N)
	read -r agree msgs bytes < <(group_counts) || return 1
	if [ "$agree" != 1 ] || [ "$msgs" != "$QUIET_MSGS" ]; then
		QUIET_MSGS=$msgs QUIET_BYTES=$bytes QUIET_SINCE=$now
		return 1
	fi
	[ $((now - QUIET_SINCE)) -ge 1000000000 ]
}

# wait_quiet: waits (bounded, 60 s) for group_quiet; QUIET_MSGS/BYTES then
# hold the counters.
wait_quiet() {
	QUIET_MSGS=-1 QUIET_BYTES=-1 QUIET_SINCE=0
	wait_for 600 group_quiet || fail "n = $CLUSTER_N: the group did not settle (same last batch," \
		"no message for 1 s) within 60 s"
}

group_cpu_ms() {
	local i sum=0 ms
	group_alive
	for ((i = 1; i <= CLUSTER_N; i++)); do
		ms=$(proc_cpu_ms "${CLUSTER_PID[i]}") || fail "replica $i's knotd is gone"
		sum=$(awk -v a="$sum" -v b="$ms" 'BEGIN { print a + b }')
	done
	echo "$sum"
}

# The stock knotd, up for the whole run.
port_stock=$(free_port)
stock_start "$TMP/stock" "$port_stock" "$bits"
pid_stock=$STOCK_PID

log "n = ${ns//,/, }; $updates sequential knsupdate each, blocks of 10 alternating with stock knotd;" \
	"$protocol, RSA-$bits; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
IFS=, read -ra nlist <<<"$ns"
for n in "${nlist[@]}"; do
	f=$(((n - 1) / 3))
	scale_keys "$n" "$f"
	CLUSTER_PROTOCOL=$protocol
	CLUSTER_EXTRA=()
	for ((i = 1; i <= n; i++)); do
		CLUSTER_EXTRA[i]="    control-socket: \"$CLUSTER_DIR/replica-$i/ctl.sock\""
	done
	t0=$(date +%s)
	cluster_start
	cluster_wait_all_links 1200
	cluster_wait_signed 1800
	wait_quiet
	# What the idle group costs: its CPU over a 5 s window with no update
	# (a measurement window, nothing waits on it).
	idle0=$(group_cpu_ms)
	sleep 5
	idle1=$(group_cpu_ms)
	idle=$(awk -v a="$idle0" -v b="$idle1" 'BEGIN { printf "%.1f", (b - a) / 5 }')
	msgs0=$QUIET_MSGS bytes0=$QUIET_BYTES
	cpu0=$(group_cpu_ms) scpu0=$(proc_cpu_ms "$pid_stock")
	log "n = $n, f = $f: up and signed in $(($(date +%s) - t0)) s; $updates updates"
	: >"$TMP/n$n.us"
	: >"$TMP/stock-n$n.us"
	for ((k = 0; k < updates; k += 10)); do
		for ((j = k; j < k + 10 && j < updates; j++)); do
			update_timed "$port_stock" "s$n-$j" >>"$TMP/stock-n$n.us"
		done
		for ((j = k; j < k + 10 && j < updates; j++)); do
			update_timed "${CLUSTER_DNS_PORT[1]}" "g$n-$j" >>"$TMP/n$n.us"
		done
	done
	scpu1=$(proc_cpu_ms "$pid_stock")
	wait_quiet
	cpu1=$(group_cpu_ms)
	msgs1=$QUIET_MSGS bytes1=$QUIET_BYTES
	last="g$n-$((updates - 1)).example.com."
	for ((i = 1; i <= n; i++)); do
		[ "$("$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[i]}" +short "$last" A)" = 192.0.2.1 ] ||
			fail "n = $n: replica $i does not serve the last update"
	done
	load1=$(cut -d' ' -f1 /proc/loadavg)
	read -r p50 p95 _ < <(stats_ms "$TMP/n$n.us")
	read -r sp50 sp95 _ < <(stats_ms "$TMP/stock-n$n.us")
	row=$(awk -v n="$n" -v f="$f" -v p="$protocol" -v m="$updates" -v p50="$p50" -v p95="$p95" \
		-v sp50="$sp50" -v sp95="$sp95" -v dm=$((msgs1 - msgs0)) -v db=$((bytes1 - bytes0)) \
		-v c0="$cpu0" -v c1="$cpu1" -v s0="$scpu0" -v s1="$scpu1" -v idle="$idle" -v l="$load1" 'BEGIN {
		printf "%d\t%d\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.0f\t%.0f\t%.1f\t%.1f\t%s\t%s\n",
			n, f, p, m, p50, p95, sp50, sp95, p50 / sp50, dm / m, db / m, (c1 - c0) / m, (s1 - s0) / m, idle, l
	}')
	printf '%s\n' "$row" >>"$tsv.tmp"
	IFS=$'\t' read -r _ _ _ _ _ _ _ _ ratio mpu bpu cpu scpu _ <<<"$row"
	log "n = $n, f = $f: update median $p50 ms, p95 $p95 (stock $sp50 / $sp95, ratio $ratio);" \
		"per update: $mpu messages, $bpu bytes sent (all replicas), CPU $cpu ms (stock $scpu ms);" \
		"idle group: $idle ms CPU per s;" \
		"load average $load1"
	{
		printf 'scale_n%d_update_p50_ms\t%s\n' "$n" "$p50"
		printf 'scale_n%d_update_p95_ms\t%s\n' "$n" "$p95"
		printf 'scale_n%d_stock_p50_ms\t%s\n' "$n" "$sp50"
		printf 'scale_n%d_update_ratio_p50\t%s\n' "$n" "$ratio"
		printf 'scale_n%d_msgs_per_update\t%s\n' "$n" "$mpu"
		printf 'scale_n%d_bytes_per_update\t%s\n' "$n" "$bpu"
		printf 'scale_n%d_cpu_ms_per_update\t%s\n' "$n" "$cpu"
		printf 'scale_n%d_stock_cpu_ms_per_update\t%s\n' "$n" "$scpu"
		printf 'scale_n%d_idle_cpu_ms_per_s\t%s\n' "$n" "$idle"
		printf 'scale_n%d_load1\t%s\n' "$n" "$load1"
	} >>"$summary"
	cluster_stop
done
knot_stop "$pid_stock"

mv "$tsv.tmp" "$tsv"
summary_merge "$summary"
echo
column -t -s $'\t' "$tsv"
echo "scale: wrote $tsv, merged $(wc -l <"$summary") lines into $SUMMARY_TSV"
if command -v gnuplot >/dev/null; then
	"$top/tests/bench/scale-plot.sh" "$tsv" "$out_dir/scale.png"
else
	echo "scale: no gnuplot (Debian package gnuplot-nox): no plot"
fi
