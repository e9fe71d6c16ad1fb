# The emulated Internet of Cachin & Samar (DSN 2004), Figure 1, on one
# machine: a helper library for tests/bench/wan/wan.sh, the smoke test and
# tests/bench/table2.sh.
#
# One network namespace per host: zrh1..zrh4 (the Zurich LAN), nyc, aus, sjc,
# and client (the benchmark's client, on the Zurich LAN). Every host has one
# veth link to a router namespace; the router forwards between them and sends
# every forwarded IPv4 packet through nfq-delay (NFQUEUE), which holds it for
# half the round-trip time of its pair of sites. This kernel has no
# `tc netem`; a userspace delay line is the way that works here.
#
# Addresses are in 198.18.0.0/15 (RFC 2544, benchmarking) and exist only
# inside the namespaces: host = 198.18.SITE.N, router = 198.18.0.1 on every
# link, SITE 1 Zurich, 2 New York, 3 Austin, 4 San Jose.
#
# Needs root, iproute2, iptables with the NFQUEUE target and the nfq-delay
# binary (built by meson when libnetfilter-queue-dev is installed).
#
# Environment:
#   WAN_NFQ_DELAY   the nfq-delay binary (default build/meson/tests/bench/wan/nfq-delay)
#   WAN_PREFIX      namespace name prefix (default bw<PID>-: one emulation per process)
#   WAN_RUN         runtime directory: rules, delayer log and PID (default /tmp/bftdns-wan-<prefix>)

WAN_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
WAN_NFQ_DELAY=${WAN_NFQ_DELAY:-$WAN_TOP/build/meson/tests/bench/wan/nfq-delay}
WAN_PREFIX=${WAN_PREFIX:-bw$$-}
WAN_RUN=${WAN_RUN:-/tmp/bftdns-wan-${WAN_PREFIX%-}}
WAN_ROUTER=${WAN_PREFIX}rt
WAN_REASON=
WAN_MADE=()
WAN_DELAY_PID=
WAN_DELAY_SUMMARY=

# Hosts in order (the router's link r<i> goes to the i-th), and their addresses.
WAN_HOSTS=(zrh1 zrh2 zrh3 zrh4 nyc aus sjc client)
declare -A WAN_ADDR=(
	[zrh1]=198.18.1.1 [zrh2]=198.18.1.2 [zrh3]=198.18.1.3 [zrh4]=198.18.1.4
	[nyc]=198.18.2.1 [aus]=198.18.3.1 [sjc]=198.18.4.1 [client]=198.18.1.100
)
declare -A WAN_SITE_NET=([zrh]=198.18.1.0/24 [nyc]=198.18.2.0/24 [aus]=198.18.3.0/24 [sjc]=198.18.4.0/24)

# Round trips in ms between sites (Figure 1) and inside the Zurich LAN. The
# figure gives averages measured over the IBM intranet in 2003/2004; the
# emulation has no jitter and no loss.
declare -A WAN_RTT=(
	[zrh-nyc]=93 [zrh-aus]=167 [zrh-sjc]=185 [nyc-aus]=53 [nyc-sjc]=83 [aus-sjc]=44
	[zrh-zrh]=0.2
)

# wan_site HOST: the host's site (zrh, nyc, aus, sjc).
wan_site() {
	case "$1" in
		zrh*|client) echo zrh ;;
		*) echo "$1" ;;
	esac
}

# wan_ns HOST: the host's namespace name.
wan_ns() { echo "${WAN_PREFIX}$1"; }

# wan_exec HOST CMD...: runs CMD inside HOST's namespace.
wan_exec() {
	local host=$1
	shift
	ip netns exec "$(wan_ns "$host")" "$@"
}

# wan_rtt_expected HOST HOST: the emulated round trip in ms.
wan_rtt_expected() {
	local a b
	a=$(wan_site "$1")
	b=$(wan_site "$2")
	echo "${WAN_RTT[$a-$b]:-${WAN_RTT[$b-$a]}}"
}

# wan_rules FILE: the delay line's rules, one per direction of each site
# pair, one-way delay = RTT / 2.
wan_rules() {
	local a b one
	{
		echo "# SRC DST ONE_WAY_MS (tests/bench/wan/lib.sh: Figure 1 of Cachin & Samar)"
		for a in zrh nyc aus sjc; do
			for b in zrh nyc aus sjc; do
				[ -n "${WAN_RTT[$a-$b]:-}" ] || continue
				one=$(awk -v r="${WAN_RTT[$a-$b]}" 'BEGIN { printf "%g", r / 2 }')
				echo "${WAN_SITE_NET[$a]} ${WAN_SITE_NET[$b]} $one"
				[ "$a" = "$b" ] || echo "${WAN_SITE_NET[$b]} ${WAN_SITE_NET[$a]} $one"
			done
		done
	} >"$1"
}

# wan_cannot REASON: records why this machine cannot run the emulation.
wan_cannot() {
	WAN_REASON=$1
	return 77
}

# wan_up: makes the router and host namespaces, starts the delay line and
# waits until it is bound. Returns 77 (reason in WAN_REASON) when the machine
# cannot do it (no root, no iptables, no NFQUEUE, no nfq-delay), 1 on any
# other failure; on failure, what was made is removed again.
wan_up() {
	local i host ns addr rc=0
	[ "$(id -u)" -eq 0 ] || { wan_cannot "needs root (network namespaces)"; return; }
	command -v ip >/dev/null || { wan_cannot "no ip (iproute2)"; return; }
	command -v iptables >/dev/null || { wan_cannot "no iptables (Debian package iptables)"; return; }
	[ -x "$WAN_NFQ_DELAY" ] ||
		{ wan_cannot "no nfq-delay at $WAN_NFQ_DELAY (needs libnetfilter-queue-dev, then ./run.sh build)"; return; }
	mkdir -p "$WAN_RUN"
	local why
	if ! why=$(ip netns add "$WAN_ROUTER" 2>&1); then
		rm -rf "$WAN_RUN"
		wan_cannot "cannot make a network namespace: ${why%%$'\n'*}"
		return
	fi
	WAN_MADE=("$WAN_ROUTER")
	{
		ip -n "$WAN_ROUTER" link set lo up &&
		ip netns exec "$WAN_ROUTER" sysctl -qw net.ipv4.ip_forward=1
	} || { wan_down; return 1; }
	i=0
	for host in "${WAN_HOSTS[@]}"; do
		i=$((i + 1))
		ns=$(wan_ns "$host")
		addr=${WAN_ADDR[$host]}
		ip netns add "$ns" || { wan_down; return 1; }
		WAN_MADE+=("$ns")
		# Made inside the namespaces at once: no name is ever taken in the host's own.
		{
			ip -n "$ns" link set lo up &&
			ip link add eth0 netns "$ns" type veth peer name "r$i" netns "$WAN_ROUTER" &&
			ip -n "$ns" addr add "$addr/32" dev eth0 &&
			ip -n "$ns" link set eth0 up &&
			ip -n "$ns" route add 198.18.0.1/32 dev eth0 &&
			ip -n "$ns" route add 198.18.0.0/15 via 198.18.0.1 dev eth0 &&
			ip -n "$WAN_ROUTER" addr add 198.18.0.1/32 dev "r$i" &&
			ip -n "$WAN_ROUTER" link set "r$i" up &&
			ip -n "$WAN_ROUTER" route add "$addr/32" dev "r$i"
		} || { wan_down; return 1; }
	done
	wan_rules "$WAN_RUN/rules.txt"
	# --queue-bypass is not used: without the delayer, packets are dropped,
	# so a dead delayer shows as a failure instead of a fast network.
	if ! why=$(ip netns exec "$WAN_ROUTER" iptables -A FORWARD -j NFQUEUE --queue-num 0 2>&1); then
		wan_down
		wan_cannot "iptables NFQUEUE rule refused: ${why%%$'\n'*}"
		return
	fi
	ip netns exec "$WAN_ROUTER" "$WAN_NFQ_DELAY" 0 "$WAN_RUN/rules.txt" \
		>"$WAN_RUN/nfq-delay.log" 2>&1 &
	WAN_DELAY_PID=$!
	echo "$WAN_DELAY_PID" >"$WAN_RUN/nfq-delay.pid"
	for ((i = 0; i < 100; i++)); do
		grep -q 'ready' "$WAN_RUN/nfq-delay.log" && break
		kill -0 "$WAN_DELAY_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q 'ready' "$WAN_RUN/nfq-delay.log"; then
		why=$(head -n 1 "$WAN_RUN/nfq-delay.log")
		if [ -z "$why" ]; then
			if kill -0 "$WAN_DELAY_PID" 2>/dev/null; then why="no answer in 10 s"; else why="it exited without a word"; fi
		fi
		wan_down
		# The kernel has no NFQUEUE (no nfnetlink_queue): the machine cannot.
		# Anything else is a fault of the delay line: a failure, not a skip.
		case "$why" in
			*nfq_open*|*"cannot bind queue"*|*nfq_set_mode*)
				wan_cannot "nfq-delay cannot queue packets here: $why"
				return
				;;
		esac
		echo "wan: nfq-delay did not start: $why" >&2
		return 1
	fi
	return $rc
}

# wan_down: stops the delay line by its PID, stops what still runs inside
# the namespaces this process made (everything there was started by this
# run), deletes the namespaces (which removes their links and iptables
# rules) and the runtime directory; the delay line's last log line (its
# packet counters) is left in WAN_DELAY_SUMMARY.
wan_down() {
	local ns pid pids i
	if [ -n "${WAN_DELAY_PID:-}" ]; then
		kill "$WAN_DELAY_PID" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$WAN_DELAY_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$WAN_DELAY_PID" 2>/dev/null || true
		wait "$WAN_DELAY_PID" 2>/dev/null || true
		WAN_DELAY_PID=
		rm -f "$WAN_RUN/nfq-delay.pid"
	fi
	for ns in "${WAN_MADE[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		if [ -n "$pids" ]; then
			echo "wan: stopping processes left in $ns: $(echo $pids)" >&2
			for pid in $pids; do kill "$pid" 2>/dev/null || true; done
			for ((i = 0; i < 50; i++)); do
				[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
				sleep 0.1
			done
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		fi
		ip netns del "$ns" 2>/dev/null || true
	done
	WAN_MADE=()
	WAN_DELAY_SUMMARY=$(tail -n 1 "$WAN_RUN/nfq-delay.log" 2>/dev/null || true)
	rm -rf "$WAN_RUN"
}

# wan_ping FROM TO COUNT: "min median max" round trip in ms of COUNT pings
# (ICMP echo, 50 ms apart) from host FROM to host TO; nothing if no reply
# came back. The median, not the mean: one reply held up by a busy CPU
# should not decide whether the emulation is right.
wan_ping() {
	wan_exec "$1" ping -n -c "$3" -i 0.05 -W 3 "${WAN_ADDR[$2]}" 2>/dev/null |
		sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[1], (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[NR] }' || true
}

# wan_rtt_table TOLERANCE_MS COUNT PAIR...: pings every pair (FROM-TO) at
# once, prints a table of expected and measured round trips; returns 2 if a
# pair got no reply, 1 if a pair's median is off by more than TOLERANCE_MS.
# With WAN_TSV set, appends "wan_rtt_FROM_TO_ms<TAB>median" lines to it.
wan_rtt_table() {
	local tol=$1 count=$2 pair from to exp res ok=0 status mn med mx dir pids=() pid
	shift 2
	dir=$(mktemp -d "$WAN_RUN/ping.XXXXXX")
	for pair in "$@"; do
		wan_ping "${pair%-*}" "${pair#*-}" "$count" >"$dir/$pair" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid"
	done
	printf '%-14s %9s %9s %9s %9s %7s  %s\n' pair expected min median max diff status
	for pair in "$@"; do
		from=${pair%-*}
		to=${pair#*-}
		exp=$(wan_rtt_expected "$from" "$to")
		res=$(cat "$dir/$pair")
		if [ -z "$res" ]; then
			printf '%-14s %9s %9s %9s %9s %7s  %s\n' "$pair" "$exp" - - - - "NO REPLY"
			ok=2
			continue
		fi
		read -r mn med mx <<<"$res"
		status=$(awk -v e="$exp" -v a="$med" -v t="$tol" \
			'BEGIN { d = a - e; if (d < 0) d = -d; print (d <= t) ? "ok" : "OFF" }')
		[ "$status" = ok ] || [ "$ok" -eq 2 ] || ok=1
		awk -v p="$pair" -v e="$exp" -v mn="$mn" -v a="$med" -v mx="$mx" -v s="$status" \
			'BEGIN { printf "%-14s %9.1f %9.2f %9.2f %9.2f %+7.2f  %s\n", p, e, mn, a, mx, a - e, s }'
		if [ -n "${WAN_TSV:-}" ]; then
			printf 'wan_rtt_%s_%s_ms\t%s\n' "$from" "$to" "$med" >>"$WAN_TSV"
		fi
	done
	rm -rf "$dir"
	return $ok
}

# wan_all_pairs: every pair of the seven server hosts, and client-zrh1.
wan_all_pairs() {
	local i j hosts=(zrh1 zrh2 zrh3 zrh4 nyc aus sjc)
	for ((i = 0; i < ${#hosts[@]}; i++)); do
		for ((j = i + 1; j < ${#hosts[@]}; j++)); do
			echo "${hosts[i]}-${hosts[j]}"
		done
	done
	echo client-zrh1
}
