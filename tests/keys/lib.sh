# Helpers for the shell tests of the key tools (sourced).
# Each test makes one temporary directory under /tmp and removes it on exit.

failures=0
checks=0

tmp=$(mktemp -d /tmp/bftdns-test-keys.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

pass() { checks=$((checks + 1)); printf 'ok: %s\n' "$*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); printf 'FAIL: %s\n' "$*"; }

# expect_run CODE TEXT COMMAND...: the command exits with CODE and its
# output (stdout and stderr) contains TEXT.
expect_run() {
	local code=$1 text=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$code" ] && grep -qF -- "$text" <<<"$out"; then
		pass "$* -> $rc '$text'"
	else
		fail "$* -> exit $rc (want $code), output: $out (want '$text')"
	fi
}

# finish: the closing line and the exit code meson reads.
finish() {
	printf '%d checks, %d failed\n' "$checks" "$failures"
	[ "$failures" -eq 0 ]
}
