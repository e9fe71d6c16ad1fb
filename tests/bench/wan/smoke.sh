#!/usr/bin/env bash
# Smoke test of the emulated Internet (suite 'bench'): the namespaces come
# up, a few pairs' round trips are within tolerance of Figure 1's, and
# everything is gone again afterwards. Exits 77 with the reason where the
# machine cannot make namespaces or queue packets to userspace.
set -euo pipefail

. "$(dirname "$0")/lib.sh"

TOLERANCE_MS=3
trap wan_down EXIT

rc=0
wan_up || rc=$?
if [ "$rc" -eq 77 ]; then
	echo "wan-smoke: SKIP: $WAN_REASON"
	exit 77
fi
[ "$rc" -eq 0 ] || { echo "wan-smoke: FAIL: the emulated Internet did not come up" >&2; exit 1; }
echo "wan-smoke: up (namespaces ${WAN_PREFIX}*, delay line PID $WAN_DELAY_PID)"
# Without a real-time priority the delay line waits for a CPU like anything
# else: on a busy machine that is milliseconds, not a fault of the emulation.
if ! grep -q 'real-time priority' "$WAN_RUN/nfq-delay.log"; then
	TOLERANCE_MS=10
	echo "wan-smoke: the delay line runs at normal priority: tolerance $TOLERANCE_MS ms"
fi

if ! wan_rtt_table "$TOLERANCE_MS" 5 client-zrh1 zrh1-nyc aus-sjc zrh2-sjc; then
	echo "wan-smoke: FAIL: a round trip is off by more than $TOLERANCE_MS ms" >&2
	cat "$WAN_RUN/nfq-delay.log" >&2
	exit 1
fi

delay_pid=$WAN_DELAY_PID
wan_down
trap - EXIT
left=$(ip netns list | awk -v p="$WAN_PREFIX" 'index($1, p) == 1 { print $1 }')
[ -z "$left" ] || { echo "wan-smoke: FAIL: namespaces left: $left" >&2; exit 1; }
! kill -0 "$delay_pid" 2>/dev/null || { echo "wan-smoke: FAIL: nfq-delay $delay_pid still runs" >&2; exit 1; }
[ ! -e "$WAN_RUN" ] || { echo "wan-smoke: FAIL: $WAN_RUN left" >&2; exit 1; }
echo "$WAN_DELAY_SUMMARY"
echo "wan-smoke: down, no namespace or process left"
