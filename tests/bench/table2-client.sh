#!/usr/bin/env bash
# One column of tests/bench/table2.sh: OPS operations of one KIND sent one
# after another to one replica. It runs on the client's host (inside its
# namespace on the emulated Internet), so that the timed span is only the
# client tool's own process, not the entering of a namespace.
#
#   table2-client.sh KIND OPS ADDR PORT OUT
#
# KIND: read (kdig www.example.com. A over UDP), read_ordered (the same, to
# a replica with ordered-reads: on), add or delete (knsupdate with TSIG,
# name tI.example.com.). One line per operation in OUT: its wall
# time in µs, or "fail µs" if it failed or replica 1 does not serve its
# effect afterwards (checked by an untimed query). A write or ordered-read
# column stops after STOP_AFTER failures with no success ("stopped" line): a
# group that cannot commit fails them all alike (an ordered read only after
# its timeout).
#
# Environment: KDIG, KNSUPDATE, TSIG_NAME, TSIG_SECRET, STOP_AFTER (3),
# UPDATE_LOG (knsupdate's output, appended).
set -euo pipefail

kind=$1 ops=$2 addr=$3 port=$4 out=$5
: "${KDIG:?}" "${KNSUPDATE:?}" "${TSIG_NAME:?}" "${TSIG_SECRET:?}"
STOP_AFTER=${STOP_AFTER:-3}
UPDATE_LOG=${UPDATE_LOG:-/dev/null}

query() {
	"$KDIG" @"$addr" -p "$port" +short +time=5 +retry=0 "$1" "$2" 2>/dev/null
}

update() {
	printf 'server %s %s\nzone example.com.\n%s\nsend\n' "$addr" "$port" "$1" |
		"$KNSUPDATE" -t 10 -r 0 -y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" >>"$UPDATE_LOG" 2>&1
}

# op I: operation I; prints its time in µs, prefixed by "fail " if it failed.
op() {
	local i=$1 t0 t1 ok=1 name="t$1.example.com." ans=
	t0=${EPOCHREALTIME/./}
	case "$kind" in
		read|read_ordered) ans=$(query www.example.com. A) || ok=0 ;;
		add)    update "update add $name 300 A 192.0.2.$((i % 250 + 1))" || ok=0 ;;
		delete) update "update delete $name A" || ok=0 ;;
		*)      echo "table2-client: unknown kind $kind" >&2; exit 2 ;;
	esac
	t1=${EPOCHREALTIME/./}
	case "$kind" in
		read|read_ordered) [ "$ans" = 192.0.2.80 ] || ok=0 ;;
		add)    [ "$ok" = 0 ] || [ -n "$(query "$name" A)" ] || ok=0 ;;
		delete) [ "$ok" = 0 ] || [ -z "$(query "$name" A)" ] || ok=0 ;;
	esac
	if [ "$ok" = 1 ]; then
		echo $((t1 - t0))
	else
		echo "fail $((t1 - t0))"
	fi
}

: >"$out"
fails=0
for ((i = 0; i < ops; i++)); do
	r=$(op "$i")
	echo "$r" >>"$out"
	case "$r" in
		fail*)
			fails=$((fails + 1))
			if [ "$kind" != read ] && [ "$fails" -eq $((i + 1)) ] && [ "$fails" -ge "$STOP_AFTER" ]; then
				echo stopped >>"$out"
				break
			fi
			;;
	esac
done
