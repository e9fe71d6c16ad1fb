#!/usr/bin/env bash
# bftdns entry point: set-up, build, demo, tests, benchmarks.
#
#   ./run.sh demo [ARGS]    install what is missing, build, run the demo
#   ./run.sh test [ARGS]    same set-up, then every test (ARGS go to meson test)
#   ./run.sh bench [WHAT]   benchmarks (WHAT: crypto, ...; default all)
#   ./run.sh sim [ARGS]     protocol simulator (--help; a failing seed prints its replay)
#   ./run.sh stop           stop what the demo started
#   ./run.sh build          set-up and build only
set -euo pipefail

top=$(cd "$(dirname "$0")" && pwd)
builddir="$top/build/meson"
export PKG_CONFIG_PATH="$top/build/knot/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

log() { printf 'run.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Debian packages the build, the tests and the benchmarks need.
DEBIAN_PACKAGES=(
	build-essential pkgconf meson ninja-build python3 patch xz-utils dpkg-dev
	debian-archive-keyring
	libgmp-dev nettle-dev libsodium-dev libgnutls28-dev liburcu-dev liblmdb-dev libedit-dev
	gnutls-bin clang libclang-rt-14-dev
	ldnsutils libldns-dev bind9-utils bind9-dnsutils dnsperf
	iptables libnetfilter-queue-dev iputils-ping gnuplot-nox
)

install_deps() {
	local missing=() p
	for p in "${DEBIAN_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]} (run as root, or install them)"
	log "installing Debian packages: ${missing[*]}"
	apt-get update -q >/dev/null || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
		>"$top/build/apt-install.log" 2>&1 || die "apt-get install failed; see build/apt-install.log"
}

setup() {
	mkdir -p "$top/build"
	install_deps
	"$top/knot-patch/build-knot.sh"
	if [ ! -f "$builddir/build.ninja" ]; then
		meson setup "$builddir" "$top" >"$top/build/meson-setup.log" 2>&1 ||
			{ cat "$top/build/meson-setup.log" >&2; die "meson setup failed"; }
	fi
	ninja -C "$builddir" >"$top/build/ninja.log" 2>&1 ||
		{ tail -n 60 "$top/build/ninja.log" >&2; die "the build failed; see build/ninja.log"; }
	log "built in $builddir"
}

# Runs every test through meson and prints the closing line CI reads.
run_tests() {
	local rc=0 logbase="testlog-run-$$"
	# A log of this run's own: several meson test runs may share the build dir.
	meson test -C "$builddir" --print-errorlogs --num-processes 2 --logbase "$logbase" "$@" || rc=$?
	python3 - "$builddir/meson-logs/$logbase.json" <<'PY'
import json, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
for line in lines:
    if not line.strip():
        continue
    result = json.loads(line).get("result", "")
    if result in ("OK", "EXPECTEDFAIL"):
        counts["passed"] += 1
    elif result == "SKIP":
        counts["skipped"] += 1
    else:
        counts["failed"] += 1
print(f'{counts["passed"]} passed, {counts["failed"]} failed, {counts["skipped"]} skipped')
PY
	return $rc
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
	build) setup ;;
	demo)  setup; exec "$top/tests/demo/demo.sh" "$@" ;;
	stop)  exec "$top/tests/demo/demo.sh" stop ;;
	test)  setup; run_tests "$@" ;;
	bench) setup; exec "$top/tests/bench/bench.sh" "$@" ;;
	sim)   setup; exec "$builddir/tests/sim/bftdns-sim" "$@" ;;
	deps)  mkdir -p "$top/build"; install_deps ;;
	help|-h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' ;;
	*) die "unknown command '$cmd' (try ./run.sh help)" ;;
esac
