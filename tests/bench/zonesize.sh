#!/usr/bin/env bash
# Zone size (./run.sh bench zonesize): for zones of 1k, 100k and 1M records
# (example.com. with that many names of one A record each), a replica group
# (n = 4, f = 1, optte, on 127.0.0.1) against a stock-configured knotd that
# signs the same zone itself (RSASHA256 of the same size, one CSK):
#
#   - initial signing: knotd started on the unsigned zone until it is
#     signed (stock: "DNSSEC, successfully signed"; the group: every
#     replica has applied its first ordered change, the whole-zone signing
#     pass the module orders at start, the same as `bftdnsctl sign-zone`
#     of an unsigned zone). RRSIGs (counted by AXFR) per second of that
#     wall time, zone loading included on both sides. For a pass of more
#     than 4096 signatures the module logs its progress ("batch B needs N
#     signatures", "N of N signatures made (100%)"): N per second between
#     those two lines is the threshold signing rate alone;
#   - resident memory after signing and after the updates: VmRSS and VmHWM
#     of each replica's knotd and of stock knotd;
#   - update latency: M sequential knsupdate processes to replica 1 in
#     blocks of 10 alternating with stock knotd (median, p95).
#
# The group signs first with stock knotd idle, then stock knotd alone, so
# neither signing shares the CPUs with the other. Both have
# `zonefile-sync: -1` (no zone file rewrite after each update: with the
# default, Knot writes the whole zone file after every change).
#
#   zonesize.sh [--quick] [--sizes 1000,100000,1000000] [--updates M] [--n N]
#               [--protocol P] [--bits B]
#
# --quick: sizes 1000 and 10000, M = 20 (default M = 50). The 1M zone
# needs about two million threshold signatures: tens of minutes here.
# Writes build/bench/zonesize.tsv (a size measured again replaces its row,
# other sizes' rows stay), build/bench/zonesize.png (gnuplot:
# tests/bench/zonesize-plot.sh) and merges zone_<size>_* lines (size as 1k,
# 10k, 100k, 1m) and sign_rate_* (the largest zone in the table) into
# build/bench/summary.tsv.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
export KNOT_PREFIX=${KNOT_PREFIX:-$top/build/knot}
export BFTDNS_MODULE=${BFTDNS_MODULE:-$top/build/meson/module/mod-bftdns.so}
export BFTDNS_KEYGEN=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}

sizes=1000,100000,1000000 updates=50 n=4 protocol=optte bits=1024
while [ $# -gt 0 ]; do
	case "$1" in
		--quick)    sizes=1000,10000 updates=20; shift ;;
		--sizes)    sizes=$2; shift 2 ;;
		--updates)  updates=$2; shift 2 ;;
		--n)        n=$2; shift 2 ;;
		--protocol) protocol=$2; shift 2 ;;
		--bits)     bits=$2; shift 2 ;;
		*) echo "zonesize: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ "$updates" =~ ^[0-9]+$ && "$updates" -ge 10 ]] || { echo "zonesize: --updates must be at least 10" >&2; exit 2; }
[[ "$sizes" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "zonesize: --sizes wants a list like 1000,10000" >&2; exit 2; }
[[ "$n" =~ ^[0-9]+$ && "$n" -ge 4 ]] || { echo "zonesize: --n must be at least 4" >&2; exit 2; }

# shellcheck source=../cluster/lib.sh
. "$top/tests/cluster/lib.sh"
# shellcheck source=measure.sh
. "$top/tests/bench/measure.sh"
# shellcheck source=summary.sh
. "$top/tests/bench/summary.sh"

out_dir="$top/build/bench"
mkdir -p "$out_dir"
tsv="$out_dir/zonesize.tsv"
summary="$TMP/summary.tsv"
: >"$summary"
printf 'records\trrsigs\tgroup_sign_s\tgroup_rrsig_per_s\tthreshold_rrsig_per_s\tstock_sign_s\tstock_rrsig_per_s\tsign_rate_vs_stock\tgroup_rss_mb\tgroup_hwm_mb\tstock_rss_mb\tstock_hwm_mb\trss_ratio\thwm_ratio\tp50_ms\tp95_ms\tstock_p50_ms\tstock_p95_ms\tratio_p50\tload1\n' >"$tsv.tmp"

# label RECORDS: 1k, 100k, 1m ...
label() {
	local r=$1
	if ((r % 1000000 == 0)); then echo "$((r / 1000000))m"
	elif ((r % 1000 == 0)); then echo "$((r / 1000))k"
	else echo "$r"; fi
}

# gen_zone FILE RECORDS: example.com. with the usual apex and RECORDS names
# hN of one A record each.
gen_zone() {
	python3 - "$1" "$2" <<-'PY'
	import sys
	path, count = sys.argv[1], int(sys.argv[2])
	with open(path, "w") as z:
	    z.write("$ORIGIN example.com.\n$TTL 3600\n"
	            "@\tSOA\tns1 hostmaster 1 3600 900 604800 300\n@\tNS\tns1\nns1\tA\t192.0.2.1\n")
	    for i in range(count):
	        z.write("h%d\tA\t10.%d.%d.%d\n" % (i, (i >> 16) & 255, (i >> 8) & 255, i & 255))
	PY
}

# The cluster helpers write their small zone; here every replica gets a copy
# of this size's zone instead.
ZONE_SRC=
write_zone() {
	cp "$ZONE_SRC" "$1"
}

now_ns() { date +%s%N; }

# rrsig_count PORT: RRSIGs in the zone served on PORT (AXFR).
rrsig_count() {
	"$KDIG" @127.0.0.1 -p "$1" example.com. AXFR +noall +answer +time=60 |
		awk '$4 == "RRSIG" { c++ } END { print c + 0 }'
}

# mem_mb PID...: "RSS HWM" in MB, the mean over the PIDs.
mem_mb() {
	local pid rss hwm srss=0 shwm=0
	for pid in "$@"; do
		read -r rss hwm < <(proc_mem_kb "$pid")
		srss=$((srss + rss)) shwm=$((shwm + hwm))
	done
	awk -v r="$srss" -v h="$shwm" -v c=$# 'BEGIN { printf "%.1f %.1f\n", r / c / 1024, h / c / 1024 }'
}

# Limit for a signing pass: generous (a group of four made 400 signatures
# per second here with the machine's load average at 12; 50 per second
# would be a failure), at least 10 minutes.
sign_limit_s() {
	local s=$(($1 * 2 / 50))
	echo $((s < 600 ? 600 : s))
}

log "sizes ${sizes//,/, }; n = $n, $protocol, RSA-$bits; $updates updates per size;" \
	"load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
IFS=, read -ra slist <<<"$sizes"
for records in "${slist[@]}"; do
	lab=$(label "$records")
	dir="$TMP/$lab"
	mkdir -p "$dir/stock"
	ZONE_SRC="$dir/example.com.zone"
	gen_zone "$ZONE_SRC" "$records"
	limit=$(sign_limit_s "$records")
	# A replicated zone is kept whole in Knot's journal (doc/configuration.md)
	# and Knot refuses a change larger than journal-max-usage (default 100
	# MiB) with "not enough space provided": the whole-zone pass of a 1M zone
	# (2M RRSIGs, 1M NSEC) is some 400 MB. About 2 KB per record on both
	# sides, stock knotd the same so that the two differ only in the module.
	jmax="$((records * 2 / 1000 + 100))M"

	# The group: keys, confs (zonefile-sync appended to the zone entry,
	# the last item of each conf), started together, until every replica
	# applied the first ordered change.
	f=$(((n - 1) / 3))
	CLUSTER_PROTOCOL=$protocol
	CLUSTER_EXTRA=()
	CLUSTER_DIR="$dir/group" CLUSTER_N=$n CLUSTER_F=$f
	args=()
	for ((i = 1; i <= n; i++)); do
		CLUSTER_DNS_PORT[i]=$(free_port)
		CLUSTER_LINK_PORT[i]=$(free_port)
		args+=(--peer "$i=127.0.0.1@${CLUSTER_LINK_PORT[i]}")
	done
	mkdir -p "$CLUSTER_DIR"
	"$BFTDNS_KEYGEN" --zone example.com. --replicas "$n" --faults "$f" --bits "$bits" \
		--out "$CLUSTER_DIR/keys" "${args[@]}" >"$CLUSTER_DIR/keygen.log" 2>&1 ||
		{ cat "$CLUSTER_DIR/keygen.log" >&2; fail "bftdns-keygen failed"; }
	for ((i = 1; i <= n; i++)); do
		cluster_conf "$i"
		printf '    zonefile-sync: -1\n    journal-max-usage: %s\n' "$jmax" >>"$CLUSTER_DIR/replica-$i/knot.conf"
	done
	log "$lab records: group of $n signing the zone (up to $limit s)"
	t0=$(now_ns)
	for ((i = 1; i <= n; i++)); do
		cluster_start_one "$i"
	done
	declare -A seen=()
	t_needs= t_done= need=
	deadline=$(($(date +%s) + limit))
	while :; do
		all=1
		for ((i = 1; i <= n; i++)); do
			[ -n "${seen[$i]:-}" ] && continue
			if grep -Eq 'DDNS, ordered change of [0-9]+ updates applied, serial 1 -> ' \
				"$CLUSTER_DIR/replica-$i/knot.log"; then
				seen[$i]=$(now_ns)
			else
				all=0
			fi
		done
		log1="$CLUSTER_DIR/replica-1/knot.log"
		if [ -z "$t_needs" ] && grep -Eq 'needs [0-9]+ signatures' "$log1"; then
			t_needs=$(now_ns)
			need=$(grep -Eo 'needs [0-9]+ signatures' "$log1" | head -n 1 | grep -Eo '[0-9]+')
		fi
		if [ -z "$t_done" ] && grep -Eq 'signatures made \(100%\)' "$log1"; then
			t_done=$(now_ns)
		fi
		[ "$all" = 1 ] && break
		[ "$(date +%s)" -lt "$deadline" ] || fail "$lab: the group did not sign the zone in $limit s"
		for ((i = 1; i <= n; i++)); do
			cluster_running "$i" || { tail -n 5 "$CLUSTER_DIR/replica-$i/knot.log" >&2; fail "$lab: replica $i died"; }
		done
		sleep 0.2
	done
	t1=0
	for ((i = 1; i <= n; i++)); do
		((seen[$i] > t1)) && t1=${seen[$i]}
	done
	unset seen
	group_sign_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	rrsigs=$(rrsig_count "${CLUSTER_DNS_PORT[1]}")
	[ "$rrsigs" -gt "$records" ] || fail "$lab: replica 1 serves $rrsigs RRSIGs for $records records"
	threshold_rate=-
	if [ -n "$t_needs" ] && [ -n "$t_done" ] && [ "$t_done" -gt "$t_needs" ]; then
		threshold_rate=$(awk -v n="$need" -v a="$t_needs" -v b="$t_done" 'BEGIN { printf "%.0f", n / ((b - a) / 1e9) }')
	fi
	pids=()
	for ((i = 1; i <= n; i++)); do pids+=("${CLUSTER_PID[i]}"); done
	read -r g_rss_signed g_hwm_signed < <(mem_mb "${pids[@]}")
	log "$lab: group signed in $group_sign_s s ($rrsigs RRSIGs served;" \
		"threshold signing ${need:-<4096 signatures, not logged}${need:+ signatures at $threshold_rate/s});" \
		"replica RSS $g_rss_signed MB, HWM $g_hwm_signed MB (mean of $n)"

	# Stock knotd on the same zone, alone.
	cp "$ZONE_SRC" "$dir/stock/example.com.zone"
	port_stock=$(free_port)
	stock_conf "$dir/stock" "$port_stock" "$bits" "    zonefile-sync: -1
    journal-max-usage: $jmax"
	log "$lab records: stock knotd signing the zone"
	# Started by hand: knot_start's 10 s for `knotc status` were once not
	# enough with a 100k zone being signed; the loop below watches the PID.
	t0=$(now_ns)
	"$KNOTD" -c "$dir/stock/knot.conf" >"$dir/stock/knotd.out" 2>&1 &
	pid_stock=$!
	KNOT_PIDS+=("$pid_stock")
	deadline=$(($(date +%s) + limit))
	until grep -qs 'DNSSEC, successfully signed' "$dir/stock/knot.log"; do
		[ "$(date +%s)" -lt "$deadline" ] || fail "$lab: stock knotd did not sign in $limit s"
		kill -0 "$pid_stock" 2>/dev/null || { cat "$dir/stock/knotd.out" >&2; fail "$lab: stock knotd died"; }
		sleep 0.2
	done
	t1=$(now_ns)
	stock_sign_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	stock_rrsigs=$(rrsig_count "$port_stock")
	read -r s_rss_signed s_hwm_signed < <(mem_mb "$pid_stock")
	log "$lab: stock knotd signed in $stock_sign_s s ($stock_rrsigs RRSIGs served);" \
		"RSS $s_rss_signed MB, HWM $s_hwm_signed MB"

	: >"$dir/group.us"
	: >"$dir/stock.us"
	for ((k = 0; k < updates; k += 10)); do
		for ((j = k; j < k + 10 && j < updates; j++)); do
			update_timed "$port_stock" "s$j" >>"$dir/stock.us"
		done
		for ((j = k; j < k + 10 && j < updates; j++)); do
			update_timed "${CLUSTER_DNS_PORT[1]}" "g$j" >>"$dir/group.us"
		done
	done
	last="g$((updates - 1)).example.com."
	for ((i = 1; i <= n; i++)); do
		wait_for 300 test "$("$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[i]}" +short "$last" A)" = 192.0.2.1 ||
			fail "$lab: replica $i does not serve the last update"
	done
	read -r g_rss g_hwm < <(mem_mb "${pids[@]}")
	read -r s_rss s_hwm < <(mem_mb "$pid_stock")
	load1=$(cut -d' ' -f1 /proc/loadavg)
	read -r p50 p95 _ < <(stats_ms "$dir/group.us")
	read -r sp50 sp95 _ < <(stats_ms "$dir/stock.us")
	row=$(awk -v r="$records" -v rs="$rrsigs" -v gs="$group_sign_s" -v tr="$threshold_rate" \
		-v ss="$stock_sign_s" -v srs="$stock_rrsigs" -v gr="$g_rss" -v gh="$g_hwm" -v sr="$s_rss" \
		-v sh="$s_hwm" -v p50="$p50" -v p95="$p95" -v sp50="$sp50" -v sp95="$sp95" -v l="$load1" 'BEGIN {
		grate = rs / gs; srate = srs / ss
		printf "%d\t%d\t%.1f\t%.0f\t%s\t%.1f\t%.0f\t%.3f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%s\n",
			r, rs, gs, grate, tr, ss, srate, grate / srate, gr, gh, sr, sh, gr / sr, gh / sh,
			p50, p95, sp50, sp95, p50 / sp50, l
	}')
	printf '%s\n' "$row" >>"$tsv.tmp"
	IFS=$'\t' read -r _ _ _ grate _ _ srate vs _ _ _ _ rss_ratio hwm_ratio _ _ _ _ ratio _ <<<"$row"
	log "$lab: signing $grate RRSIG/s (group, wall) vs $srate (stock): $vs; after $updates updates" \
		"RSS $g_rss MB (replica mean) vs $s_rss MB (stock): $rss_ratio, HWM $g_hwm vs $s_hwm: $hwm_ratio;" \
		"update median $p50 ms, p95 $p95 (stock $sp50 / $sp95, ratio $ratio); load average $load1"
	{
		printf 'zone_%s_rrsigs\t%s\n' "$lab" "$rrsigs"
		printf 'zone_%s_group_sign_s\t%s\n' "$lab" "$group_sign_s"
		printf 'zone_%s_stock_sign_s\t%s\n' "$lab" "$stock_sign_s"
		printf 'zone_%s_sign_rate_rrsig_per_s\t%s\n' "$lab" "$grate"
		printf 'zone_%s_stock_sign_rate_rrsig_per_s\t%s\n' "$lab" "$srate"
		printf 'zone_%s_sign_rate_vs_stock\t%s\n' "$lab" "$vs"
		[ "$threshold_rate" = - ] || printf 'zone_%s_threshold_rrsig_per_s\t%s\n' "$lab" "$threshold_rate"
		printf 'zone_%s_rss_mb\t%s\n' "$lab" "$g_rss"
		printf 'zone_%s_stock_rss_mb\t%s\n' "$lab" "$s_rss"
		printf 'zone_%s_rss_ratio\t%s\n' "$lab" "$rss_ratio"
		printf 'zone_%s_hwm_ratio\t%s\n' "$lab" "$hwm_ratio"
		printf 'zone_%s_update_p50_ms\t%s\n' "$lab" "$p50"
		printf 'zone_%s_stock_update_p50_ms\t%s\n' "$lab" "$sp50"
		printf 'zone_%s_update_ratio_p50\t%s\n' "$lab" "$ratio"
		printf 'zone_%s_load1\t%s\n' "$lab" "$load1"
	} >>"$summary"
	cluster_stop
	knot_stop "$pid_stock"
	rm -rf "$dir"
done

# A size measured again replaces its row; rows of other sizes (an earlier
# run's 1M, say) stay, sorted by size.
if [ -f "$tsv" ]; then
	awk -F '\t' 'NR == FNR { if (FNR > 1) fresh[$1] = 1; next } FNR > 1 && !($1 in fresh)' \
		"$tsv.tmp" "$tsv" >>"$tsv.tmp"
fi
{ head -n 1 "$tsv.tmp"; tail -n +2 "$tsv.tmp" | sort -n; } >"$tsv"
rm -f "$tsv.tmp"
# The headline signing rate: the largest zone in the table.
tail -n 1 "$tsv" | awk -F '\t' '{
	printf "sign_rate_rrsig_per_s\t%s\nsign_rate_vs_stock\t%s\nsign_rate_records\t%s\n", $4, $8, $1
	if ($5 != "-") printf "sign_rate_threshold_rrsig_per_s\t%s\n", $5
}' >>"$summary"
summary_merge "$summary"
echo
column -t -s $'\t' "$tsv"
echo "zonesize: wrote $tsv, merged $(wc -l <"$summary") lines into $SUMMARY_TSV"
if command -v gnuplot >/dev/null; then
	"$top/tests/bench/zonesize-plot.sh" "$tsv" "$out_dir/zonesize.png"
else
	echo "zonesize: no gnuplot (Debian package gnuplot-nox): no plot"
fi
