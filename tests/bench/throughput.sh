#!/usr/bin/env bash
# Update throughput and CPU per update (./run.sh bench throughput, ... cpu):
# concurrent TSIG-signed UPDATEs (dnsperf -u, one new name each) against a
# replica group on 127.0.0.1 (tests/cluster/lib.sh) and against stock knotd
# signing the same zone itself (tests/bench/stock.sh: RSASHA256 of the same
# size), in blocks alternating stock, group, stock, group ... so that drift
# hits both. Per block:
#
# - updates/s: acknowledged (NOERROR) updates / wall time of the block, the
#   block being U updates with Q outstanding at once. For the group the U
#   updates are spread over the n replicas (one dnsperf per replica, U/n
#   updates and Q/n outstanding each), or all go to replica 1 (--target 1);
# - CPU per update: utime + stime (/proc/PID/stat) of every knotd of the
#   group, summed, from the block's start until every replica has applied
#   it (same SOA serial), divided by the acknowledged updates; the same for
#   stock knotd;
# - the crypto floor of that update: R x (f + 1) x S, where R is the RRSIGs
#   the group threshold-signed per acknowledged update in this block (the
#   replicas' signatures counter) and S the CPU time of one signature share
#   x^(2 Delta s_i) at this key size (bench-crypto --cpu, run between the
#   blocks of every round): f + 1 shares are the fewest that make one
#   signature. cpu_per_update_vs_floor = CPU per update / floor.
#
# The figures are the medians over the rounds. Merged into
# build/bench/summary.tsv: update_tput_ratio (group / stock updates/s,
# target >= 0.5), update_tput_group_ups, update_tput_stock_ups,
# cpu_per_update_vs_floor (target <= 1.5), cpu_per_update_group_ms,
# cpu_per_update_stock_ms, cpu_floor_per_update_ms, rrsigs_per_update,
# share_cpu_ms, updates_per_batch (acknowledged updates / batches replica 1
# applied in the block).
#
#   throughput.sh [--quick] [--rounds R] [--updates U] [--outstanding Q]
#                 [--bits B] [--group N:F:PROTOCOL] [--target all|1]
#                 [--perf] [--reps K] [--designated on|off]
#
# --designated off: every replica computes a share of every RRSIG
# (signing-designated: off) instead of the f + 1 designated signers. The
# shares per RRSIG printed at the end are all replicas' signature-shares
# counters (levels the control thread refreshes every second: read after a
# stock block or bench-crypto run, so they are current) over the RRSIGs.
#
# --quick: 1 round of 60 updates, RSA-1024 (a smoke run, seconds).
# --perf: also records replica 1 with perf (perf record -g) during the last
# group block and prints where its CPU time goes (build/bench/throughput-perf.txt;
# the recording in build/bench/throughput-perf.data, for perf report -i).
#
# Environment: KNOT_PREFIX, BFTDNS_MODULE, BFTDNS_KEYGEN, BFTDNS_BENCH_CRYPTO
# (defaults: build/), SUMMARY_TSV.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
export KNOT_PREFIX=${KNOT_PREFIX:-$top/build/knot}
export BFTDNS_MODULE=${BFTDNS_MODULE:-$top/build/meson/module/mod-bftdns.so}
export BFTDNS_KEYGEN=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}
BENCH_CRYPTO=${BFTDNS_BENCH_CRYPTO:-$top/build/meson/tests/bench/bench-crypto}

rounds=5 updates=400 outstanding=32 bits=2048 spec=4:1:optte target=all perf=0 reps=21 designated=on
while [ $# -gt 0 ]; do
	case "$1" in
		--quick)       rounds=1 updates=60 bits=1024 reps=5; shift ;;
		--rounds)      rounds=$2; shift 2 ;;
		--updates)     updates=$2; shift 2 ;;
		--outstanding) outstanding=$2; shift 2 ;;
		--bits)        bits=$2; shift 2 ;;
		--group)       spec=$2; shift 2 ;;
		--target)      target=$2; shift 2 ;;
		--perf)        perf=1; shift ;;
		--reps)        reps=$2; shift 2 ;;
		--designated)  designated=$2; shift 2 ;;
		-h|--help)     sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) echo "throughput: unknown option $1" >&2; exit 2 ;;
	esac
done

# The cluster helpers include tests/knot/lib.sh (TMP, knot_start, ...).
. "$(dirname "$0")/../cluster/lib.sh"
. "$(dirname "$0")/stock.sh"
. "$(dirname "$0")/summary.sh"

IFS=: read -r gn gf gproto <<<"$spec"
[[ "$gn" =~ ^[0-9]+$ && "$gf" =~ ^[0-9]+$ && "$gf" -ge 1 && -n "$gproto" ]] ||
	fail "--group wants N:F:PROTOCOL with F >= 1, not '$spec'"
[[ "$target" = all || "$target" = 1 ]] || fail "--target is all or 1, not '$target'"
[[ "$designated" = on || "$designated" = off ]] || fail "--designated is on or off, not '$designated'"
[[ "$rounds" =~ ^[1-9][0-9]*$ && "$updates" =~ ^[1-9][0-9]*$ && "$outstanding" =~ ^[1-9][0-9]*$ ]] ||
	fail "--rounds, --updates and --outstanding are positive numbers"
command -v dnsperf >/dev/null || skip "dnsperf is missing"
[ -x "$BENCH_CRYPTO" ] || skip "no bench-crypto at $BENCH_CRYPTO (build first)"
[ "$perf" = 0 ] || command -v perf >/dev/null || skip "perf is missing"
ticks=$(getconf CLK_TCK)

log "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"

port_stock=$(free_port)
stock_start "$TMP/stock" "$port_stock" "$bits"

# The group: cluster_keys with this benchmark's key size.
CLUSTER_DIR=$TMP/group CLUSTER_N=$gn CLUSTER_F=$gf CLUSTER_PROTOCOL=$gproto
link_args=()
for ((i = 1; i <= gn; i++)); do
	CLUSTER_DNS_PORT[i]=$(free_port)
	CLUSTER_LINK_PORT[i]=$(free_port)
	link_args+=(--peer "$i=127.0.0.1@${CLUSTER_LINK_PORT[i]}")
done
mkdir -p "$CLUSTER_DIR"
"$BFTDNS_KEYGEN" --zone example.com. --replicas "$gn" --faults "$gf" --bits "$bits" \
	--out "$CLUSTER_DIR/keys" "${link_args[@]}" >"$CLUSTER_DIR/keygen.log" 2>&1 ||
	{ cat "$CLUSTER_DIR/keygen.log" >&2; fail "bftdns-keygen failed"; }
for ((i = 1; i <= gn; i++)); do
	CLUSTER_EXTRA[i]="    signing-designated: $designated"
done
cluster_start
cluster_wait_all_links 300
cluster_wait_signed 600

# cpu_ticks PID...: utime + stime of these processes so far (clock ticks).
cpu_ticks() {
	local pid sum=0 t
	for pid in "$@"; do
		# Fields after the ")" of comm: utime and stime are the 12th and 13th.
		t=$(sed 's/^.*) //' /proc/"$pid"/stat | awk '{ print $12 + $13 }')
		sum=$((sum + t))
	done
	echo "$sum"
}

# counters: "SIGNATURES BATCHES": RRSIGs replica 1 had threshold-signed and
# batches it had applied so far (its counters).
counters() {
	"$KNOTC" -c "$CLUSTER_DIR/replica-1/knot.conf" -f zone-stats example.com. mod-bftdns |
		awk -F' = ' '/mod-bftdns.signatures =/ { s = $2 } /mod-bftdns.batches =/ { b = $2 }
		             END { if (s == "" || b == "") print "none"; else print s, b }'
}

# shares_total: "SHARES HELP SIGNATURES": the signature shares all replicas
# computed, those outside the designated signers, and replica 1's RRSIGs.
shares_total() {
	local i
	for ((i = 1; i <= gn; i++)); do
		"$KNOTC" -c "$CLUSTER_DIR/replica-$i/knot.conf" -f zone-stats example.com. mod-bftdns
	done | awk -F' = ' '/mod-bftdns.signature-shares =/ { s += $2 } /mod-bftdns.help-shares =/ { h += $2 }
	                    END { print s + 0, h + 0 }'
	counters | awk '{ print $1 }'
}

# same_serial: every replica serves the same SOA serial.
same_serial() {
	local i first
	first=$(soa_serial "${CLUSTER_DNS_PORT[1]}")
	[ -n "$first" ] || return 1
	for ((i = 2; i <= gn; i++)); do
		[ "$(soa_serial "${CLUSTER_DNS_PORT[i]}")" = "$first" ] || return 1
	done
}

# update_file FILE PREFIX FROM COUNT: COUNT updates adding PREFIX<i>.example.com. A.
update_file() {
	awk -v p="$2" -v from="$3" -v count="$4" 'BEGIN {
	    for (i = from; i < from + count; i++)
	        printf "example.com\nadd %s%d 300 A 192.0.2.1\nsend\n", p, i }' >"$1"
}

# dnsperf_run PORT FILE OUTSTANDING OUT: one pass through FILE, in the background.
dnsperf_run() {
	dnsperf -u -s 127.0.0.1 -p "$1" -d "$2" -n 1 -q "$3" -c "$(($3 < 4 ? $3 : 4))" -t 30 \
		-y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" >"$4" 2>&1 &
}

# acked OUT...: NOERROR responses in these dnsperf outputs.
acked() {
	cat "$@" | awk '/Response codes:/ { if (match($0, /NOERROR [0-9]+/))
	                   sum += substr($0, RSTART + 8, RLENGTH - 8) } END { print sum + 0 }'
}

# stock_batches: the DDNS batches stock knotd logged so far (Knot takes every
# queued UPDATE into one change).
stock_batches() {
	grep -c 'DDNS, finished, serial' "$TMP/stock/knot.log" || true
}

# block_stock ROUND: U updates to stock knotd; prints "UPS CPU_MS_PER_UPDATE
# UPDATES_PER_BATCH".
block_stock() {
	local r=$1 t0 t1 c0 c1 b0 b1 ok
	update_file "$TMP/stock-$r.upd" "s$r-" 0 "$updates"
	b0=$(stock_batches)
	c0=$(cpu_ticks "$STOCK_PID")
	t0=$(date +%s%N)
	dnsperf_run "$port_stock" "$TMP/stock-$r.upd" "$outstanding" "$TMP/stock-$r.out"
	wait $! || { cat "$TMP/stock-$r.out" >&2; fail "dnsperf against stock knotd failed"; }
	t1=$(date +%s%N)
	c1=$(cpu_ticks "$STOCK_PID")
	b1=$(stock_batches)
	ok=$(acked "$TMP/stock-$r.out")
	[ "$ok" -gt 0 ] || { cat "$TMP/stock-$r.out" >&2; fail "stock knotd acknowledged no update"; }
	[ "$ok" = "$updates" ] || log "note: stock knotd acknowledged $ok of $updates updates" >&2
	awk -v ok="$ok" -v ns=$((t1 - t0)) -v cpu=$((c1 - c0)) -v hz="$ticks" -v batches=$((b1 - b0)) \
		'BEGIN { printf "%.1f %.3f %.2f\n", ok / (ns / 1e9), cpu * 1000 / hz / ok,
		         (batches > 0 ? ok / batches : 0) }'
}

# block_group ROUND: U updates to the group; prints "UPS CPU_MS_PER_UPDATE
# RRSIGS_PER_UPDATE UPDATES_PER_BATCH".
block_group() {
	local r=$1 t0 t1 c0 c1 s0 s1 ok i targets=() pids=() outs=() per q from=0 perf_pid=
	if [ "$target" = all ]; then
		for ((i = 1; i <= gn; i++)); do targets+=("$i"); done
	else
		targets=(1)
	fi
	per=$((updates / ${#targets[@]}))
	q=$((outstanding / ${#targets[@]}))
	((q >= 1)) || q=1
	s0=$(counters)
	[ "$s0" != none ] || fail "replica 1 has no signatures counter (an older module?)"
	c0=$(cpu_ticks "${CLUSTER_PID[@]}")
	if [ "$perf" = 1 ] && [ "$r" = "$rounds" ]; then
		# DWARF unwinding: Knot and the libraries have no frame pointers.
		perf record -q -F 999 --call-graph dwarf,16384 -p "${CLUSTER_PID[1]}" \
			-o "$TMP/perf.data" >"$TMP/perf.log" 2>&1 &
		perf_pid=$!
	fi
	t0=$(date +%s%N)
	for i in "${!targets[@]}"; do
		# The last client takes what U / n leaves over.
		((i < ${#targets[@]} - 1)) || per=$((updates - from))
		update_file "$TMP/group-$r-$i.upd" "g$r-" "$from" "$per"
		from=$((from + per))
		dnsperf_run "${CLUSTER_DNS_PORT[${targets[i]}]}" "$TMP/group-$r-$i.upd" "$q" \
			"$TMP/group-$r-$i.out"
		pids+=("$!")
		outs+=("$TMP/group-$r-$i.out")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[i]}" || { cat "${outs[i]}" >&2; fail "dnsperf against replica ${targets[i]} failed"; }
	done
	t1=$(date +%s%N)
	wait_for 600 same_serial || fail "the replicas did not all apply the block"
	c1=$(cpu_ticks "${CLUSTER_PID[@]}")
	s1=$(counters)
	if [ -n "$perf_pid" ]; then
		kill -INT "$perf_pid"
		wait "$perf_pid" || true
	fi
	ok=$(acked "${outs[@]}")
	[ "$ok" -gt 0 ] || { cat "${outs[@]}" >&2; fail "the group acknowledged no update"; }
	[ "$ok" = "$updates" ] || log "note: the group acknowledged $ok of $updates updates" >&2
	awk -v ok="$ok" -v ns=$((t1 - t0)) -v cpu=$((c1 - c0)) -v hz="$ticks" \
		-v sigs=$((${s1% *} - ${s0% *})) -v batches=$((${s1#* } - ${s0#* })) \
		'BEGIN { printf "%.1f %.3f %.3f %.2f\n", ok / (ns / 1e9), cpu * 1000 / hz / ok, sigs / ok,
		         (batches > 0 ? ok / batches : 0) }'
}

# share_ms: CPU ms of one share x^(2 Delta s_i) at this key size, n = 4 column
# of bench-crypto (Delta = n! changes the exponent's length by a few bits only).
share_ms() {
	"$BENCH_CRYPTO" --bits "$bits" --reps "$reps" --cpu >"$TMP/crypto.out" 2>&1 ||
		{ cat "$TMP/crypto.out" >&2; fail "bench-crypto failed"; }
	awk -F'|' '/^\| share x\^\(2 Delta s_i\)/ { gsub(/ /, "", $3); print $3; found = 1 }
	           END { if (!found) exit 1 }' "$TMP/crypto.out" ||
		fail "no share line in bench-crypto's output"
}

dest="replica 1"
[ "$target" = 1 ] || dest="spread over the $gn replicas"
log "$rounds rounds of $updates updates per block ($dest for the group), $outstanding outstanding," \
    "RSASHA256 $bits bits, group n=$gn f=$gf $gproto; blocks alternate stock, group"
rows=()
for ((r = 1; r <= rounds; r++)); do
	st=$(block_stock "$r")
	# After a stock block the share counters are current (see --designated).
	[ "$r" != 1 ] || shares0=($(shares_total))
	gr=$(block_group "$r")
	sh=$(share_ms)
	rows+=("$r $st $gr $sh")
	log "round $r: stock ${st%% *} updates/s, group ${gr%% *} updates/s; share $sh ms CPU"
done
shares1=($(shares_total))
sigs=$((shares1[2] - shares0[2]))
((sigs > 0)) || fail "no RRSIG was threshold-signed in the group blocks"
log "signing-designated: $designated; signature shares per RRSIG, all replicas:" \
    "$(awk -v s=$((shares1[0] - shares0[0])) -v sigs=$sigs 'BEGIN { printf "%.2f", s / sigs }')" \
    "(n = $gn, f + 1 = $((gf + 1))), of them help shares" \
    "$(awk -v h=$((shares1[1] - shares0[1])) -v sigs=$sigs 'BEGIN { printf "%.2f", h / sigs }')"
log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$(soa_serial "${CLUSTER_DNS_PORT[1]}")" = "$(soa_serial "${CLUSTER_DNS_PORT[gn]}")" ] ||
	fail "replicas 1 and $gn serve different serials"
[ "$("$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[gn]}" +short "g$rounds-0.example.com." A)" = 192.0.2.1 ] ||
	fail "replica $gn does not serve the group's first update of the last round"

printf '%s\n' "${rows[@]}" >"$TMP/rows"
python3 - "$TMP/rows" "$gn" "$gf" "$TMP/summary.tsv" "$((shares1[0] - shares0[0]))" "$sigs" <<'PY'
import statistics, sys
rows = [[float(x) for x in line.split()] for line in open(sys.argv[1])]
n, f = int(sys.argv[2]), int(sys.argv[3])
spr = int(sys.argv[5]) / int(sys.argv[6])
out = []
print("| round | stock upd/s | group upd/s | ratio | upd/batch stock | upd/batch group "
      "| stock CPU ms/upd | group CPU ms/upd | RRSIGs/upd | share ms | floor ms/upd | group CPU / floor |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r, sups, scpu, sbatch, gups, gcpu, sigs, per_batch, share in rows:
    floor = sigs * (f + 1) * share
    vs = gcpu / floor if floor > 0 else float("nan")
    out.append((sups, scpu, gups, gcpu, sigs, share, floor, gups / sups, vs, per_batch, sbatch))
    print("| %d | %.1f | %.1f | %.2f | %.1f | %.2f | %.2f | %.2f | %.2f | %.3f | %.2f | %.2f |"
          % (r, sups, gups, gups / sups, sbatch, per_batch, scpu, gcpu, sigs, share, floor, vs))
med = [statistics.median(col) for col in zip(*out)]
sups, scpu, gups, gcpu, sigs, share, floor, ratio, vs, per_batch, sbatch = med
print("| median | %.1f | %.1f | %.2f | %.1f | %.2f | %.2f | %.2f | %.2f | %.3f | %.2f | %.2f |"
      % (sups, gups, ratio, sbatch, per_batch, scpu, gcpu, sigs, share, floor, vs))
print("throughput: group / stock updates/s %.2f (target >= 0.5): group %.1f, stock %.1f updates/s"
      % (ratio, gups, sups))
print("throughput: group CPU per update %.2f ms = %.2f x the crypto floor %.2f ms "
      "(%.2f RRSIGs x (f+1 = %d) x share %.3f ms; target <= 1.5)" % (gcpu, vs, floor, sigs, f + 1, share))
print("throughput: of it, the shares (%.2f per RRSIG, all replicas) are %.2f ms "
      "(%.2f x the floor); the rest, %.2f ms, is the broadcast, Knot's dry run and apply, "
      "combining and the DNS work" % (spr, sigs * spr * share, spr / (f + 1), gcpu - sigs * spr * share))
print("throughput: per replica the group spends %.2f ms CPU per update (n = %d share one machine "
      "here) against stock knotd's %.2f ms: with a machine per replica, a CPU-bound group would "
      "reach %.2f x stock's updates/s" % (gcpu / n, n, scpu, scpu / (gcpu / n)))
with open(sys.argv[4], "w") as tsv:
    for name, value in (("update_tput_ratio", "%.3f" % ratio),
                        ("update_tput_group_ups", "%.1f" % gups),
                        ("update_tput_stock_ups", "%.1f" % sups),
                        ("cpu_per_update_vs_floor", "%.2f" % vs),
                        ("cpu_per_update_group_ms", "%.3f" % gcpu),
                        ("cpu_per_update_stock_ms", "%.3f" % scpu),
                        ("cpu_floor_per_update_ms", "%.3f" % floor),
                        ("rrsigs_per_update", "%.2f" % sigs),
                        ("share_cpu_ms", "%.3f" % share),
                        ("updates_per_batch", "%.2f" % per_batch),
                        ("shares_per_rrsig", "%.2f" % spr)):
        tsv.write("%s\t%s\n" % (name, value))
PY
summary_merge "$TMP/summary.tsv"
log "metrics merged into $SUMMARY_TSV"

if [ "$perf" = 1 ]; then
	mkdir -p "$(dirname "$SUMMARY_TSV")"
	report="$(dirname "$SUMMARY_TSV")/throughput-perf.txt"
	{
		echo "# perf record --call-graph dwarf -p <replica 1> during the last group block; self time by DSO, by symbol"
		perf report -i "$TMP/perf.data" --stdio --no-children --sort dso -g none 2>/dev/null |
			grep -v '^#' | grep -v '^$' | grep '%' | head -n 15 || true
		echo
		perf report -i "$TMP/perf.data" --stdio --no-children --sort dso,symbol -g none 2>/dev/null |
			grep -v '^#' | grep -v '^$' | grep '%' | head -n 40 || true
		echo
		echo "# inclusive (children) time by function"
		perf report -i "$TMP/perf.data" --stdio --children --sort symbol -g none 2>/dev/null |
			grep -v '^#' | grep -v '^$' | grep '%' | head -n 40 || true
	} >"$report"
	cp "$TMP/perf.data" "${report%.txt}.data"
	cat "$report"
	log "profile in $report"
fi

cluster_stop
knot_stop "$STOCK_PID"
