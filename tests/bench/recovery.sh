#!/usr/bin/env bash
# Recovery time against batches missed (issue 9, item 5): ./run.sh bench recovery
#
#   recovery.sh [--quick] [--updates 10,100,1000] [--clients C] [--bits B]
#
# One group of four replicas (f = 1, the default signing protocol) on
# 127.0.0.1, each with its control socket. For each N (and first N = 0,
# the fixed cost of a restart): replica 4 is killed (kill -9), N TSIG
# UPDATEs (knsupdate over TCP, one name each) are applied by replicas 1-3
# (C clients at once, default 4, each one knsupdate process sending its
# share one after another), and once they agree on a last batch B,
# replica 4 is started again from its own config. Measured from the start
# of its knotd: "serving" (knotc status answers), "links" (bftdnsctl status
# shows 3/3 peers) and "caught up" (its last applied batch is B); the
# batches missed are B minus its last batch before the kill. Then the
# replicas' sorted AXFRs must be the same. --quick: N = 5, 20, 50.
#
# Side by side: the time the other three took to order and apply the same
# N UPDATEs (from the first client's start until they agree on B), so the
# ratio says how fast a replica replays the group's history against how
# fast the group made it. Prints a table, the load average, and merges
# recovery_N_ms (start to caught up), recovery_N_batches,
# recovery_N_serving_ms and recovery_N_group_ms lines into
# build/bench/summary.tsv. Not a test: it fails only if a step does not
# happen within its bound (10 min for the catch-up).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
export KNOT_PREFIX=${KNOT_PREFIX:-$top/build/knot}
export BFTDNS_MODULE=${BFTDNS_MODULE:-$top/build/meson/module/mod-bftdns.so}
export BFTDNS_KEYGEN=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}
CTL=${BFTDNSCTL:-$top/build/meson/coordinator/tools/bftdnsctl}

updates="10,100,1000" clients=4
while [ $# -gt 0 ]; do
	case "$1" in
		--quick)   updates="5,20,50"; shift ;;
		--updates) updates=$2; shift 2 ;;
		--clients) clients=$2; shift 2 ;;
		*) echo "recovery: unknown option $1" >&2; exit 2 ;;
	esac
done
[[ "$updates" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "recovery: --updates N,N,..." >&2; exit 2; }
[[ "$clients" =~ ^[1-9][0-9]*$ ]] || { echo "recovery: --clients must be at least 1" >&2; exit 2; }
[ -x "$CTL" ] || { echo "recovery: no bftdnsctl at $CTL (./run.sh build)" >&2; exit 2; }

# shellcheck source=../cluster/lib.sh
. "$top/tests/cluster/lib.sh"
# shellcheck source=summary.sh
. "$top/tests/bench/summary.sh"

n=4 victim=4
OUT="$top/build/bench"
mkdir -p "$OUT"

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# status_of I KEY: KEY of replica I's bftdnsctl status, empty if it does not answer.
status_of() {
	"$CTL" -c "$CLUSTER_DIR/replica-$1/knot.conf" -t 2 status 2>/dev/null |
		sed -n "s/^$2: //p" | head -n 1
}

# last_batch I: replica I's last applied batch (0 for none).
last_batch() {
	local b
	b=$(status_of "$1" last-batch)
	[ "$b" != none ] || b=0
	echo "$b"
}

# quiet_batch I...: replicas I... show the same last batch twice in a row; prints it.
quiet_batch() {
	local first i b
	first=$(last_batch "$1")
	[ -n "$first" ] || return 1
	for i in "$@" "$@"; do
		b=$(last_batch "$i")
		[ "$b" = "$first" ] || return 1
	done
	echo "$first"
}

# wait_quiet I...: waits (bounded) for quiet_batch and prints the batch.
wait_quiet() {
	local i b
	for ((i = 0; i < 600; i++)); do
		b=$(quiet_batch "$@") && { echo "$b"; return 0; }
		sleep 0.1
	done
	fail "replicas $* do not settle on one last batch"
}

# client C COUNT TAG: COUNT UPDATEs in one knsupdate process, to replica
# (C - 1) % 3 + 1, names TAG-C-J.
client() {
	local c=$1 count=$2 tag=$3 r j
	r=$(((c - 1) % (n - 1) + 1))
	{
		printf 'server 127.0.0.1 %s\nzone example.com.\n' "${CLUSTER_DNS_PORT[r]}"
		for ((j = 1; j <= count; j++)); do
			printf 'update add %s-%s-%s.example.com. 300 A 192.0.2.%s\nsend\n' \
				"$tag" "$c" "$j" $((j % 250 + 1))
		done
	} | "$KNSUPDATE" -T -t 60 -y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" >"$TMP/client-$tag-$c.out" 2>&1
}

# apply_updates N TAG: N UPDATEs from the clients at once, all answered.
apply_updates() {
	local total=$1 tag=$2 c share pids=() failed=0
	for ((c = 1; c <= clients; c++)); do
		share=$((total / clients + (c <= total % clients ? 1 : 0)))
		[ "$share" -gt 0 ] || continue
		client "$c" "$share" "$tag" &
		pids+=($!)
	done
	for c in "${pids[@]}"; do
		wait "$c" || failed=$((failed + 1))
	done
	[ "$failed" = 0 ] || fail "$failed clients of $tag had an UPDATE refused or unanswered: $(cat "$TMP"/client-"$tag"-*.out | head -n 5)"
}

for ((i = 1; i <= n; i++)); do
	CLUSTER_EXTRA[i]="    control-socket: \"$TMP/ctl-$i.sock\""
done
cluster_keys "$TMP" "$n" 1
cluster_start
cluster_wait_all_links 600
cluster_wait_signed 600
cluster_wait_same_zone "$TMP/start" 600

RESULTS="$TMP/results.tsv"
: >"$RESULTS"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for N in 0 ${updates//,/ }; do
	before=$(wait_quiet 1 2 3 4)
	cluster_kill9 "$victim"
	t=$(now_ms)
	[ "$N" = 0 ] || apply_updates "$N" "r$N"
	last=$(wait_quiet 1 2 3)
	apply_ms=$(($(now_ms) - t))
	missed=$((last - before))

	t0=$(now_ms)
	cluster_start_one "$victim"
	t_serving=$(now_ms)
	t_links= t_caught=
	deadline=$((t0 + 600000))
	while [ -z "$t_caught" ]; do
		[ "$(now_ms)" -lt "$deadline" ] ||
			fail "N = $N: replica $victim did not reach batch $last within 10 min (at $(last_batch "$victim"))"
		if [ -z "$t_links" ] && [ "$(status_of "$victim" peers)" = "$((n - 1))/$((n - 1)) connected" ]; then
			t_links=$(now_ms)
		fi
		b=$(last_batch "$victim")
		if [ -n "$b" ] && [ "$b" -ge "$last" ]; then
			t_caught=$(now_ms)
			[ -n "$t_links" ] || t_links=$t_caught
		fi
	done
	cluster_wait_same_zone "$TMP/after-$N" 600
	got=$(grep -Ec "^r$N-[0-9]+-[0-9]+\.example\.com\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+A[[:space:]]" \
		"$TMP/after-$N/zone" || true)
	[ "$got" = "$N" ] || fail "N = $N: the zone holds $got of the $N names"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$N" "$missed" $((t_serving - t0)) $((t_links - t0)) \
		$((t_caught - t0)) "$apply_ms" >>"$RESULTS"
	log "N = $N: $missed batches missed (ordered and applied by the others in $apply_ms ms); replica $victim" \
		"serving after $((t_serving - t0)) ms, links $((t_links - t0)) ms, caught up $((t_caught - t0)) ms"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
cluster_stop

base=$(awk -F'\t' '$1 == 0 { print $5 }' "$RESULTS")
echo
echo "Recovery of one replica (n = 4, f = 1, ${CLUSTER_PROTOCOL:-default} signing) against the batches it missed"
printf '%8s %8s %11s %9s %13s %13s %9s %10s\n' updates batches "serving ms" "links ms" "caught up ms" \
	"per batch ms" "group ms" "ratio"
awk -F'\t' -v base="$base" '{
	per = ($2 > 0) ? sprintf("%.1f", ($5 - base) / $2) : "-"
	ratio = ($1 > 0 && $6 > 0) ? sprintf("%.2f", $5 / $6) : "-"
	printf "%8s %8s %11s %9s %13s %13s %9s %10s\n", $1, $2, $3, $4, $5, per, ($1 > 0) ? $6 : "-", ratio
}' "$RESULTS"
echo "(ms from the start of the restarted knotd; \"per batch\": caught up minus the N = 0 row, per"
echo " missed batch; \"group\": how long the other three took to order and apply the same UPDATEs"
echo " from the clients, measured just before; \"ratio\": caught up / group)"
echo "load average before: $load_before, after: $load_after ($(nproc) CPUs)"

awk -F'\t' '{ printf "recovery_%s_ms\t%s\nrecovery_%s_batches\t%s\nrecovery_%s_serving_ms\t%s\n",
	$1, $5, $1, $2, $1, $3
	if ($1 > 0) printf "recovery_%s_group_ms\t%s\n", $1, $6 }' "$RESULTS" >"$TMP/summary.tsv"
summary_merge "$TMP/summary.tsv"
echo "merged into $SUMMARY_TSV"
