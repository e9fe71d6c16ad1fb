#!/usr/bin/env bash
# The emulated Internet of Cachin & Samar (DSN 2004), Figure 1, by hand:
#
#   wan.sh check [--count N] [--tolerance MS]   make it, ping every pair, print the
#                                               table (and wan_rtt_* lines into
#                                               build/bench/summary.tsv), remove it
#   wan.sh up                                   make it and leave it up (prefix bftwan-)
#   wan.sh exec HOST CMD...                     run CMD on HOST (zrh1..4, nyc, aus, sjc, client)
#   wan.sh down                                 remove what `up` made
#   wan.sh hosts                                hosts, namespaces and addresses
#
# ./run.sh bench wan-check runs `check`. Needs root, iptables and nfq-delay
# (tests/bench/wan/lib.sh says how it works).
set -euo pipefail

cmd=${1:-help}
[ $# -gt 0 ] && shift
# A session made by `up` outlives this process: fixed prefix and directory.
case "$cmd" in
	up|down|exec|hosts)
		export WAN_PREFIX=${WAN_PREFIX:-bftwan-}
		export WAN_RUN=${WAN_RUN:-/tmp/bftdns-wan}
		;;
esac
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../summary.sh"

wan_fail() { echo "wan: $*" >&2; exit 1; }

wan_up_or_say() {
	local rc=0
	wan_up || rc=$?
	[ "$rc" -ne 77 ] || wan_fail "this machine cannot run the emulation: $WAN_REASON"
	[ "$rc" -eq 0 ] || wan_fail "the emulated Internet did not come up"
}

case "$cmd" in
	check)
		count=20 tol=3
		while [ $# -gt 0 ]; do
			case "$1" in
				--count) count=$2; shift 2 ;;
				--tolerance) tol=$2; shift 2 ;;
				*) wan_fail "unknown option $1" ;;
			esac
		done
		trap wan_down EXIT
		wan_up_or_say
		echo "wan: up: namespaces ${WAN_PREFIX}*, delay line PID $WAN_DELAY_PID; $count pings per pair (ICMP echo, all pairs at once)"
		echo "wan: command: ./run.sh bench wan-check --count $count --tolerance $tol"
		export WAN_TSV="$WAN_RUN/summary.tsv"
		: >"$WAN_TSV"
		# summary_merge below runs before wan_down removes WAN_RUN.
		rc=0
		# shellcheck disable=SC2046
		wan_rtt_table "$tol" "$count" $(wan_all_pairs) || rc=$?
		summary_merge "$WAN_TSV"
		wan_down
		trap - EXIT
		echo "$WAN_DELAY_SUMMARY"
		if [ "$rc" -ne 0 ]; then
			wan_fail "a round trip is off by more than $tol ms"
		fi
		echo "wan: every pair within $tol ms of Figure 1; namespaces and delay line removed"
		;;
	up)
		[ ! -e "/run/netns/$WAN_ROUTER" ] || wan_fail "already up ($WAN_ROUTER exists); wan.sh down first"
		wan_up_or_say
		echo "wan: up: namespaces ${WAN_PREFIX}*, delay line PID $WAN_DELAY_PID, rules $WAN_RUN/rules.txt"
		;;
	down)
		WAN_DELAY_PID=$(cat "$WAN_RUN/nfq-delay.pid" 2>/dev/null || true)
		WAN_MADE=("$WAN_ROUTER")
		for host in "${WAN_HOSTS[@]}"; do
			WAN_MADE+=("$(wan_ns "$host")")
		done
		wan_down
		echo "wan: down"
		;;
	exec)
		[ $# -ge 2 ] || wan_fail "usage: wan.sh exec HOST CMD..."
		[ -n "${WAN_ADDR[$1]:-}" ] || wan_fail "unknown host $1 (wan.sh hosts)"
		wan_exec "$@"
		;;
	hosts)
		for host in "${WAN_HOSTS[@]}"; do
			printf '%-7s %-16s %s\n' "$host" "$(wan_ns "$host")" "${WAN_ADDR[$host]}"
		done
		;;
	*)
		sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
		;;
esac
