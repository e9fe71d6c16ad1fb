#!/usr/bin/env bash
# Update latency (./run.sh bench update): sequential knsupdate processes with
# TSIG, each adding a name, against (a) knotd + mod-bftdns (n = 1, f = 0,
# threshold key with one share) and (b) stock-configured patched knotd
# signing the same zone itself (dnssec-signing, RSASHA256, one CSK of the
# same size). Alternating blocks; median and p95 of the client-side time.
#
# With --group N:F:PROTOCOL[:ID=MODE] (repeatable) also replica groups on
# 127.0.0.1 (tests/cluster/lib.sh), one after another, each measured in
# blocks alternating with stock knotd, so that every group's ratio is
# against stock knotd in the same minutes; updates go to replica 1 (a
# correct one), ID=MODE makes replica ID misbehave (e.g. 2=invert-shares),
# designated=on|off sets every replica's signing-designated.
#
# Merged into build/bench/summary.tsv: update_n1_p50_ratio (n = 1 / stock),
# update_<N>_<F>_<PROTOCOL>[_<ID>_<MODE>]_p50_ratio per group, and for the
# group 4:1:optte also update_p50_ratio (group median / stock median).
#
#   bench-update.sh [--updates N] [--bits B] [--group N:F:P[:ID=MODE|:designated=on|off]]...
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
export KNOT_PREFIX=${KNOT_PREFIX:-$top/build/knot}
export BFTDNS_MODULE=${BFTDNS_MODULE:-$top/build/meson/module/mod-bftdns.so}
export BFTDNS_KEYGEN=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}

updates=100 bits=2048 groups=()
while [ $# -gt 0 ]; do
	case "$1" in
		--updates) updates=$2; shift 2 ;;
		--bits)    bits=$2; shift 2 ;;
		--group)   groups+=("$2"); shift 2 ;;
		*) echo "bench-update: unknown option $1" >&2; exit 2 ;;
	esac
done

# The cluster helpers include tests/knot/lib.sh (TMP, knot_start, ...).
. "$(dirname "$0")/../cluster/lib.sh"
. "$(dirname "$0")/../bench/summary.sh"
# shellcheck source=../bench/stock.sh
. "$(dirname "$0")/../bench/stock.sh"

mkdir -p "$TMP/keys"
"$BFTDNS_KEYGEN" --zone example.com. --replicas 1 --faults 0 --bits "$bits" \
	--out "$TMP/keys" >"$TMP/keygen.log" 2>&1 || { cat "$TMP/keygen.log"; fail "keygen failed"; }
port_mod=$(free_port)
replica_setup "$TMP/module" "$port_mod" "$TMP/keys"
knot_start "$TMP/module"
wait_signed "$TMP/module"
pid_mod=$KNOT_PID

port_stock=$(free_port)
stock_start "$TMP/stock" "$port_stock" "$bits"
pid_stock=$STOCK_PID

# block PORT LABEL FROM COUNT: COUNT sequential knsupdate processes; appends
# one latency in ms per update to TMP/LABEL.ms.
block() {
	local port=$1 label=$2 from=$3 count=$4 i t0 t1 out
	for ((i = from; i < from + count; i++)); do
		t0=$(date +%s%N)
		out=$(printf 'server 127.0.0.1 %s\nzone example.com.\nadd n%d.example.com. 300 A 192.0.2.1\nsend\n' \
		      "$port" "$i" | "$KNSUPDATE" -y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" 2>&1) ||
			fail "$label update $i failed: $out"
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 )) >>"$TMP/$label.us"
	done
}

log "$updates sequential knsupdate processes each, TSIG, RSASHA256 $bits bits, blocks of 10 alternating"
for ((done_ = 0; done_ < updates; done_ += 10)); do
	block "$port_stock" stock "$done_" 10
	block "$port_mod" module "$done_" 10
done
[ "$("$KDIG" @127.0.0.1 -p "$port_mod" +short "n$((updates - 1)).example.com." A)" = 192.0.2.1 ] ||
	fail "the last update is not served by the module replica"

python3 - "$TMP/stock.us" "$TMP/module.us" "$TMP/summary.tsv" <<'PY'
import statistics, sys
def stats(path):
    v = sorted(int(x) / 1000 for x in open(path))
    return statistics.median(v), v[int(0.95 * (len(v) - 1))], v[-1]
s, m = stats(sys.argv[1]), stats(sys.argv[2])
print("bench-update: stock knotd (own DDNS + signing): median %.1f ms, p95 %.1f, max %.1f" % s)
print("bench-update: knotd + mod-bftdns (n = 1):       median %.1f ms, p95 %.1f, max %.1f" % m)
print("bench-update: ratio of medians module / stock %.2f" % (m[0] / s[0]))
open(sys.argv[3], "a").write("update_n1_p50_ratio\t%.3f\n" % (m[0] / s[0]))
PY

# group_keys DIR N F: cluster_keys with this benchmark's key size.
group_keys() {
	local dir=$1 n=$2 f=$3 i args=()
	CLUSTER_DIR=$dir CLUSTER_N=$n CLUSTER_F=$f
	for ((i = 1; i <= n; i++)); do
		CLUSTER_DNS_PORT[i]=$(free_port)
		CLUSTER_LINK_PORT[i]=$(free_port)
		args+=(--peer "$i=127.0.0.1@${CLUSTER_LINK_PORT[i]}")
	done
	mkdir -p "$dir"
	"$BFTDNS_KEYGEN" --zone example.com. --replicas "$n" --faults "$f" --bits "$bits" \
		--out "$dir/keys" "${args[@]}" >"$dir/keygen.log" 2>&1 ||
		{ cat "$dir/keygen.log" >&2; fail "bftdns-keygen failed"; }
}

g=0
for spec in "${groups[@]}"; do
	g=$((g + 1))
	IFS=: read -r gn gf gproto gbad <<<"$spec"
	[[ "$gn" =~ ^[0-9]+$ && "$gf" =~ ^[0-9]+$ && -n "$gproto" ]] ||
		fail "--group wants N:F:PROTOCOL[:ID=MODE], not '$spec'"
	CLUSTER_PROTOCOL=$gproto
	CLUSTER_EXTRA=()
	group_keys "$TMP/group$g" "$gn" "$gf"
	if [ "${gbad%%=*}" = designated ]; then
		# designated=on|off: every replica's signing-designated.
		for ((i = 1; i <= gn; i++)); do
			CLUSTER_EXTRA[i]="    signing-designated: ${gbad#*=}"
		done
	elif [ -n "${gbad:-}" ]; then
		cluster_misbehave "${gbad%%=*}" "${gbad#*=}"
	fi
	cluster_start
	cluster_wait_all_links 300
	cluster_wait_signed 600
	label="group$g"
	rm -f "$TMP/stock-$label.us"
	for ((done_ = 0; done_ < updates; done_ += 10)); do
		block "$port_stock" "stock-$label" "$((100000 * g + done_))" 10
		block "${CLUSTER_DNS_PORT[1]}" "$label" "$done_" 10
	done
	python3 - "$TMP/stock-$label.us" "$TMP/$label.us" "$spec" "$TMP/summary.tsv" <<'PY'
import re, statistics, sys
def stats(path):
    v = sorted(int(x) / 1000 for x in open(path))
    return statistics.median(v), v[int(0.95 * (len(v) - 1))], v[-1]
s, m = stats(sys.argv[1]), stats(sys.argv[2])
spec = sys.argv[3]
print("bench-update: group %-24s median %6.1f ms, p95 %6.1f | stock same minutes: median %5.1f ms, p95 %5.1f | ratio of medians %.2f"
      % (spec, m[0], m[1], s[0], s[1], m[0] / s[0]))
with open(sys.argv[4], "a") as tsv:
    tsv.write("update_%s_p50_ratio\t%.3f\n" % (re.sub(r"[^A-Za-z0-9]+", "_", spec), m[0] / s[0]))
    if spec == "4:1:optte":
        tsv.write("update_p50_ratio\t%.3f\n" % (m[0] / s[0]))
PY
	cluster_stop
done
summary_merge "$TMP/summary.tsv"
grep -o 'batches = .*' <("$KNOTC" -c "$TMP/module/knot.conf" zone-stats example.com. mod-bftdns) |
	sed 's/^/bench-update: module /' || true
knot_stop "$pid_mod"
knot_stop "$pid_stock"
