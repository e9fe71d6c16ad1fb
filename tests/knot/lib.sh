# Shared helpers of the tests that start the patched knotd (tests/knot/*.sh).
#
# Every test gets its own temporary directory, picks its own free ports on
# 127.0.0.1, and stops what it started by PID (see knot_stop and the EXIT trap).
#
# Environment (set by tests/knot/meson.build):
#   KNOT_PREFIX     the patched Knot install (build/knot)
#   BFTDNS_MODULE   absolute path of mod-bftdns.so

set -euo pipefail

: "${KNOT_PREFIX:?KNOT_PREFIX is not set (run through meson test)}"
: "${BFTDNS_MODULE:?BFTDNS_MODULE is not set (run through meson test)}"

KNOTD="$KNOT_PREFIX/sbin/knotd"
KNOTC="$KNOT_PREFIX/sbin/knotc"
KDIG="$KNOT_PREFIX/bin/kdig"
KNSUPDATE="$KNOT_PREFIX/bin/knsupdate"

TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bftdns-$TEST_NAME.XXXXXX")
KNOT_PIDS=()

log() { printf '%s: %s\n' "$TEST_NAME" "$*"; }

fail() {
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	for f in "$TMP"/*/knot.log "$TMP"/knot.log; do
		[ -f "$f" ] && { echo "--- $f (last 40 lines)" >&2; tail -n 40 "$f" >&2; }
	done
	exit 1
}

skip() { printf '%s: SKIP: %s\n' "$TEST_NAME" "$*"; exit 77; }

cleanup() {
	local pid
	for pid in "${KNOT_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${KNOT_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

[ -x "$KNOTD" ] || skip "no patched knotd at $KNOTD (run ./run.sh build)"
[ -f "$BFTDNS_MODULE" ] || skip "no module at $BFTDNS_MODULE"

# Prints a port that is free for both UDP and TCP on 127.0.0.1 right now.
free_port() {
	python3 - <<'PY'
import random, socket
for _ in range(200):
    port = random.randint(20000, 60000)
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            s.bind(("127.0.0.1", port))
            s.close()
    except OSError:
        continue
    print(port)
    break
else:
    raise SystemExit("no free port found")
PY
}

# Polls until a command succeeds; at most $1 tenths of a second.
wait_for() {
	local tenths=$1 i
	shift
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# knot_start DIR: starts knotd -c DIR/knot.conf in the background, records its
# PID in KNOT_PID and KNOT_PIDS, and waits until it answers knotc status.
knot_start() {
	local dir=$1
	"$KNOTD" -c "$dir/knot.conf" >"$dir/knotd.out" 2>&1 &
	KNOT_PID=$!
	KNOT_PIDS+=("$KNOT_PID")
	if ! wait_for 100 "$KNOTC" -c "$dir/knot.conf" -t 1 status >/dev/null 2>&1; then
		cat "$dir/knotd.out" >&2
		fail "knotd in $dir did not start"
	fi
}

# knot_stop PID: stops one knotd and waits for it.
knot_stop() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "knotd $pid did not stop"
	wait "$pid" 2>/dev/null || true
}

# Waits until a file contains a line matching an extended regexp.
wait_log() {
	local file=$1 regexp=$2 tenths=${3:-100}
	wait_for "$tenths" grep -Eq -- "$regexp" "$file"
}
