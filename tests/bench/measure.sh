# What the scale and zonesize benchmarks (tests/bench/scale.sh,
# zonesize.sh) read from the processes they start, and the stock knotd they
# compare with. Sourced after tests/cluster/lib.sh (KNOTD, KNSUPDATE, TSIG
# key, wait_for, fail).
#
#   proc_cpu_ms PID            user + system CPU time of PID so far, ms
#   proc_mem_kb PID            "VmRSS VmHWM" of PID, kB
#   ctl_status CONF            bftdnsctl status of the replica with knot.conf CONF
#   status_field TEXT KEY      KEY's value in a status TEXT
#   stock_conf, stock_start    the stock knotd (tests/bench/stock.sh)
#   update_timed PORT NAME     one knsupdate adding NAME.example.com. A; prints its µs
#   stats_ms FILE              "median p95 max" of the µs lines in FILE, in ms

# shellcheck source=stock.sh
. "$(dirname "${BASH_SOURCE[0]}")/stock.sh"

BFTDNSCTL=${BFTDNSCTL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/meson/coordinator/tools/bftdnsctl}
CLK_TCK=$(getconf CLK_TCK)

proc_cpu_ms() {
	# Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends
	# the command name (which may hold spaces).
	local stat
	stat=$(cat "/proc/$1/stat") || return 1
	awk -v tck="$CLK_TCK" '{ print ($12 + $13) * 1000 / tck }' <<<"${stat##*) }"
}

proc_mem_kb() {
	awk '$1 == "VmRSS:" { rss = $2 } $1 == "VmHWM:" { hwm = $2 } END { print rss, hwm }' \
		"/proc/$1/status"
}

ctl_status() {
	"$BFTDNSCTL" -c "$1" -t 10 status
}

status_field() {
	sed -n "s/^$2: //p" <<<"$1" | head -n 1
}

update_timed() {
	local port=$1 name=$2 t0 t1 out
	t0=$(date +%s%N)
	out=$(printf 'server 127.0.0.1 %s\nzone example.com.\nadd %s.example.com. 300 A 192.0.2.1\nsend\n' \
	      "$port" "$name" | "$KNSUPDATE" -t 60 -y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" 2>&1) ||
		fail "update of $name on port $port failed: $out"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}

stats_ms() {
	python3 - "$1" <<-'PY'
	import statistics, sys
	v = sorted(int(x) / 1000 for x in open(sys.argv[1]) if x.strip())
	print("%.1f %.1f %.1f" % (statistics.median(v), v[int(0.95 * (len(v) - 1))], v[-1]))
	PY
}
