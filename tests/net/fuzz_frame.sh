#!/usr/bin/env bash
# Runs the frame decoder fuzzer for SECONDS (default 15) from a fresh corpus
# seeded with a few valid streams. Longer on demand:
#   tests/net/fuzz_frame.sh build/meson/tests/net/fuzz_frame 600
set -euo pipefail
fuzzer=$1
seconds=${2:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
# limit byte, chunk seed, then frames: HELLO, DATA "abc", PING, PONG.
hello='\x01\x01\x00\x00\x00\x26\x00\x01\x00\x02\x00\x04'$(printf '\\x%02x' $(seq 0 31))
printf '\x10\x07'"$hello" >"$work/corpus/hello"
printf '\x10\x03\x01\x02\x00\x00\x00\x03abc\x01\x03\x00\x00\x00\x00\x01\x04\x00\x00\x00\x00' >"$work/corpus/data"
printf '\x00\x00\x01\x02\x00\x00\x10\x00' >"$work/corpus/big"
"$fuzzer" -max_total_time="$seconds" -artifact_prefix="${FUZZ_ARTIFACTS:-$PWD}/fuzz_frame-" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
	"$work/corpus" 2>&1 | tail -n 25
