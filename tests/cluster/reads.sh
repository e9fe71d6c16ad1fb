#!/usr/bin/env bash
# reads.sh PATH-OF-BFTDNSCTL
#
# Ordered reads (ordered-reads: on, module/read.h), n = 7, f = 2, on
# 127.0.0.1: every replica orders its reads except replica 6, which answers
# locally (the default), for comparison. ordered-read-timeout 1500 ms (on
# replica 7 10 s, see 2.); every
# knotd with 4 UDP and 2 TCP workers (at most 3 reads wait at once).
#
# 1. Answers: replica 1 answers A (UDP and TCP), NXDOMAIN with its NSEC
#    proof, DNSKEY with its RRSIG, as replica 6 does (same answer sections);
#    delv validates through replica 1. Each ordered query counts in
#    bftdnsctl status (reads-ordered) and knotc zone-stats; replica 6's
#    status has no reads-* lines. An AXFR is exempt: not counted.
# 2. Linearizable: replicas 6 (local) and 7 (ordered) are stopped
#    (SIGSTOP), an UPDATE is acknowledged by replica 2 (the other five
#    order it), a query for its name is queued at both (their UDP receive
#    queues hold it) and both continue (SIGCONT). Replica 7's answer must
#    hold the new record: its READ is ordered after the UPDATE. Replica 6
#    answers from whatever it applied by then; whether that was stale is
#    reported, not asserted (it races with its catch-up).
# 3. 60 queries at once to replica 1 (kdig, UDP): every one is answered
#    (NOERROR, or REFUSED beyond the bound), none times out, and the
#    answers add up to the reads-ordered and reads-refused counters.
#    While 10 UPDATEs go through replica 2, reads 4 at a time at replica 1
#    are all answered and none times out (commits and waiting reads do not
#    wait for each other).
# 4. Quorum loss: replicas 5-7 stopped (f + 1): a read at replica 1 waits
#    for the timeout and is answered SERVFAIL (EDE 14) after 1.5 s and well
#    within 5 s; 10 at once all answered too; reads-timed-out counts them
#    and the log says why. Then replicas 5-7 start again and reads answer.
. "$(dirname "$0")/lib.sh"

CTL=${1:?usage: reads.sh PATH-OF-BFTDNSCTL}
[ -x "$CTL" ] || skip "no bftdnsctl at $CTL"
for tool in delv ss; do
	command -v "$tool" >/dev/null || skip "$tool is missing (./run.sh deps installs it)"
done
n=7 f=2 local_replica=6

ctl() {
	local i=$1
	shift
	rc=0
	"$CTL" -c "$CLUSTER_DIR/replica-$i/knot.conf" "$@" >"$TMP/ctl.out" 2>"$TMP/ctl.err" || rc=$?
	out=$(cat "$TMP/ctl.out")
}

# status_field I KEY: KEY of a fresh status of replica I.
status_field() {
	ctl "$1" status
	[ "$rc" = 0 ] || return 1
	sed -n "s/^$2: //p" <<<"$out" | head -n 1
}

# stat I NAME: counter NAME of replica I's module (knotc zone-stats).
stat() {
	"$KNOTC" -c "$TMP/replica-$1/knot.conf" -t 5 zone-stats example.com. "mod-bftdns.$2" 2>/dev/null |
		awk -F' = ' 'NR == 1 { print $2 }'
}

# q I ARGS...: kdig at replica I, its full answer.
q() {
	local i=$1
	shift
	"$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[i]}" +time=10 +retry=0 "$@" 2>&1
}

# rcode_of TEXT: the status of a kdig answer.
rcode_of() {
	sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$1" | head -n 1
}

# answers I ARGS...: the answer section of replica I, sorted, TTLs kept.
answers() {
	local i=$1
	shift
	"$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[i]}" +time=10 +retry=0 +noall +answer "$@" \
		2>/dev/null | sort
}

# udp_queued I: replica I's UDP sockets hold at least one datagram unread.
udp_queued() {
	ss -Hunl "sport = :${CLUSTER_DNS_PORT[$1]}" | awk '{ q += $2 } END { exit !(q > 0) }'
}

cluster_keys "$TMP" "$n" "$f"
CLUSTER_SERVER_EXTRA=$'    udp-workers: 4\n    tcp-workers: 2'
for ((i = 1; i <= n; i++)); do
	CLUSTER_EXTRA[i]="    control-socket: \"$CLUSTER_DIR/replica-$i/ctl.sock\""
	if [ "$i" != "$local_replica" ]; then
		# Replica 7 catches up after being stopped (2.) before its read is
		# ordered: it may wait longer.
		CLUSTER_EXTRA[i]+=$'\n'"    ordered-reads: on"$'\n'"    ordered-read-timeout: $((i == 7 ? 10000 : 1500))"
	fi
done
cluster_start
cluster_wait_all_links 300
cluster_wait_signed 600
grep -q 'ordered reads' "$TMP/replica-1/knot.log" || fail "replica 1 does not log ordered reads at load"

# 1. Answers, counted; the local replica for comparison.
before=$(status_field 1 reads-ordered) || fail "replica 1: no status"
[ -n "$before" ] || fail "replica 1's status has no reads-ordered line: $out"
ctl "$local_replica" status
! grep -q '^reads-' <<<"$out" || fail "replica $local_replica (local reads) shows reads-* lines: $out"

a=$(q 1 www.example.com. A)
[ "$(rcode_of "$a")" = NOERROR ] && grep -q '192\.0\.2\.80' <<<"$a" ||
	fail "replica 1: www.example.com. A over UDP: $a"
a=$(q 1 +tcp www.example.com. AAAA)
[ "$(rcode_of "$a")" = NOERROR ] && grep -q '2001:db8::80' <<<"$a" ||
	fail "replica 1: www.example.com. AAAA over TCP: $a"
a=$(q 1 +dnssec nothere.example.com. A)
[ "$(rcode_of "$a")" = NXDOMAIN ] && grep -q 'NSEC' <<<"$a" && grep -q 'RRSIG' <<<"$a" ||
	fail "replica 1: nothere.example.com. A is not NXDOMAIN with a signed NSEC proof: $a"
for qq in "www.example.com. A" "example.com. DNSKEY" "mail.example.com. MX"; do
	# shellcheck disable=SC2086
	x=$(answers 1 +dnssec $qq) y=$(answers "$local_replica" +dnssec $qq)
	[ -n "$x" ] && [ "$x" = "$y" ] ||
		fail "$qq: replica 1 (ordered) answers '$x', replica $local_replica (local) '$y'"
done
answers 1 +dnssec example.com. DNSKEY | grep -q 'RRSIG.*DNSKEY' || fail "replica 1: DNSKEY without RRSIG"
cp "$TMP/keys/example.com.dnskey" "$TMP/dnskey"
trust_anchor "$TMP/dnskey" "$TMP/anchor"
delv_validates "${CLUSTER_DNS_PORT[1]}" "$TMP/anchor" www.example.com. A ||
	fail "delv does not validate www.example.com. A through replica 1"
delv_validates "${CLUSTER_DNS_PORT[1]}" "$TMP/anchor" nothere.example.com. A nxdomain ||
	fail "delv does not validate the NXDOMAIN through replica 1"
after=$(status_field 1 reads-ordered)
# 3 kdig + 2 x 3 answers + 1 and delv's own queries: at least 10.
[ "$after" -ge $((before + 10)) ] ||
	fail "replica 1: reads-ordered went from $before to $after for at least 10 queries"
[ "$(stat 1 reads-ordered)" = "$after" ] ||
	fail "replica 1: knotc zone-stats reads-ordered $(stat 1 reads-ordered), status $after"
for k in reads-timed-out reads-refused reads-failed; do
	[ "$(status_field 1 "$k")" = 0 ] || fail "replica 1: $k is not 0: $out"
done
axfr_sorted "${CLUSTER_DNS_PORT[1]}" "$TMP/axfr-1" || fail "replica 1: no AXFR"
[ "$(status_field 1 reads-ordered)" = "$after" ] ||
	fail "replica 1: an AXFR counted as an ordered read"
log "answers: replica 1 (ordered) answers A, AAAA over TCP, a signed NXDOMAIN and DNSKEY as replica $local_replica (local) does; delv validates; $((after - before)) reads ordered, the AXFR not"

# 2. An UPDATE acknowledged by replica 2 while replicas 6 and 7 are
#    stopped; then a read at each.
kill -STOP "${CLUSTER_PID[6]}" "${CLUSTER_PID[7]}"
rc=$(knsupdate_rc "${CLUSTER_DNS_PORT[2]}" "update add lin.example.com. 300 A 192.0.2.99")
if [ "$rc" != NOERROR ]; then
	kill -CONT "${CLUSTER_PID[6]}" "${CLUSTER_PID[7]}"
	fail "the UPDATE to replica 2 with replicas 6 and 7 stopped was answered $rc"
fi
for i in 6 7; do
	(answers "$i" +time=15 lin.example.com. A >"$TMP/lin-$i.out") &
	CLUSTER_BG+=($!)
done
for i in 6 7; do
	if ! wait_for 100 udp_queued "$i"; then
		kill -CONT "${CLUSTER_PID[6]}" "${CLUSTER_PID[7]}"
		fail "the query to replica $i is not in its receive queue"
	fi
done
kill -CONT "${CLUSTER_PID[6]}" "${CLUSTER_PID[7]}"
for pid in "${CLUSTER_BG[@]}"; do
	wait "$pid" || true
done
CLUSTER_BG=()
e7=$(grep -c 'ordered read not applied' "$TMP/replica-7/knot.log" || true)
[ "$e7" = 0 ] || fail "replica 7: its read timed out"
grep -q '192\.0\.2\.99' "$TMP/lin-7.out" ||
	fail "replica 7 (ordered reads) answered without the UPDATE acknowledged before the query: '$(cat "$TMP/lin-7.out")'"
if grep -q '192\.0\.2\.99' "$TMP/lin-6.out"; then
	local_seen="had caught up first (not stale this time)"
else
	local_seen="answered stale (no record): the local read did not see it"
fi
log "linearizable: replica 7 (ordered) answers the UPDATE acknowledged by replica 2 while it was stopped; replica 6 (local) $local_seen"

# 3. Many at once.
o0=$(status_field 1 reads-ordered) r0=$(status_field 1 reads-refused)
t0=$(status_field 1 reads-timed-out)
burst=60
for ((k = 0; k < burst; k++)); do
	(q 1 www.example.com. A >"$TMP/burst-$k.out") &
	CLUSTER_BG+=($!)
done
for pid in "${CLUSTER_BG[@]}"; do
	wait "$pid" || true
done
CLUSTER_BG=()
noerror=0 refused=0
for ((k = 0; k < burst; k++)); do
	r=$(rcode_of "$(cat "$TMP/burst-$k.out")")
	case "$r" in
		NOERROR) grep -q '192\.0\.2\.80' "$TMP/burst-$k.out" ||
		         	fail "burst query $k: NOERROR without the address"
		         noerror=$((noerror + 1)) ;;
		REFUSED) refused=$((refused + 1)) ;;
		*)       fail "burst query $k was answered '$r': $(cat "$TMP/burst-$k.out")" ;;
	esac
done
o1=$(status_field 1 reads-ordered) r1=$(status_field 1 reads-refused)
[ $((o1 - o0)) = "$noerror" ] && [ $((r1 - r0)) = "$refused" ] ||
	fail "burst: $noerror NOERROR and $refused REFUSED, counters +$((o1 - o0)) ordered, +$((r1 - r0)) refused"
[ "$(status_field 1 reads-timed-out)" = "$t0" ] || fail "burst: reads timed out: $out"
[ "$noerror" -gt 0 ] || fail "burst: no query answered NOERROR"
log "$burst queries at once: $noerror answered after ordering, $refused REFUSED beyond the bound, none timed out"

# 3b. Reads while UPDATEs are applied: a waiting read must not hold up
#     the zone commits its READ waits for (knot-patch 0011: the wait is
#     outside Knot's RCU section; inside it, the second commit would wait
#     for the read and the read for the commit, until the timeout).
t0=$(status_field 1 reads-timed-out)
(for ((k = 1; k <= 10; k++)); do
	knsupdate_rc "${CLUSTER_DNS_PORT[2]}" "update add busy-$k.example.com. 300 A 192.0.2.$k"
done >"$TMP/busy-updates.out") &
writer=$!
CLUSTER_BG+=($writer)
rounds=0
while kill -0 "$writer" 2>/dev/null && [ "$rounds" -lt 200 ]; do
	for ((k = 0; k < 4; k++)); do
		(q 1 www.example.com. A >"$TMP/busy-$rounds-$k.out") &
		CLUSTER_BG+=($!)
	done
	for pid in "${CLUSTER_BG[@]:1}"; do
		wait "$pid" || true
	done
	CLUSTER_BG=("$writer")
	rounds=$((rounds + 1))
done
wait "$writer" || true
CLUSTER_BG=()
[ "$(grep -c NOERROR "$TMP/busy-updates.out")" = 10 ] ||
	fail "UPDATEs during reads: $(tr '\n' ' ' <"$TMP/busy-updates.out")"
for f in "$TMP"/busy-*-*.out; do
	r=$(rcode_of "$(cat "$f")")
	[ "$r" = NOERROR ] || [ "$r" = REFUSED ] || fail "a read during UPDATEs was answered '$r': $(cat "$f")"
done
[ "$(status_field 1 reads-timed-out)" = "$t0" ] ||
	fail "reads timed out while UPDATEs were applied (reads-timed-out $t0 -> $(status_field 1 reads-timed-out))"
a=$(q 1 busy-10.example.com. A)
grep -q '192\.0\.2\.10' <<<"$a" || fail "replica 1 does not answer busy-10 after its UPDATE: $a"
log "10 UPDATEs through replica 2 while $((rounds * 4)) reads (4 at a time) went to replica 1: none timed out, the last UPDATE is in the next answer"

# 4. f + 1 replicas stopped: reads wait for the timeout, then SERVFAIL.
for i in 5 6 7; do
	cluster_stop_one "$i"
done
t0=$(status_field 1 reads-timed-out)
s=${EPOCHREALTIME/./}
a=$(q 1 www.example.com. A)
e=$(((${EPOCHREALTIME/./} - s) / 1000))
[ "$(rcode_of "$a")" = SERVFAIL ] || fail "quorum lost: a read was answered '$(rcode_of "$a")': $a"
grep -q 'EDE: 14' <<<"$a" || fail "quorum lost: the SERVFAIL has no EDE 14 (Not Ready): $a"
[ "$e" -ge 1400 ] && [ "$e" -le 5000 ] || fail "quorum lost: SERVFAIL after $e ms, want about 1500"
for ((k = 0; k < 10; k++)); do
	(q 1 www.example.com. A >"$TMP/lost-$k.out") &
	CLUSTER_BG+=($!)
done
for pid in "${CLUSTER_BG[@]}"; do
	wait "$pid" || true
done
CLUSTER_BG=()
for ((k = 0; k < 10; k++)); do
	r=$(rcode_of "$(cat "$TMP/lost-$k.out")")
	[ "$r" = SERVFAIL ] || [ "$r" = REFUSED ] ||
		fail "quorum lost: parallel read $k answered '$r': $(cat "$TMP/lost-$k.out")"
done
t1=$(status_field 1 reads-timed-out)
[ "$t1" -ge $((t0 + 1)) ] || fail "quorum lost: reads-timed-out went from $t0 to $t1"
grep -q 'ordered read not applied within 1500 ms' "$TMP/replica-1/knot.log" ||
	fail "quorum lost: replica 1 does not log the timed-out read"
log "quorum lost (replicas 5-7 stopped): a read is answered SERVFAIL (EDE 14) after $e ms, 10 at once all answered; reads-timed-out $t0 -> $t1"

for i in 5 6 7; do
	cluster_start_one "$i"
done
back() {
	local a
	a=$(q 1 +time=3 lin.example.com. A)
	[ "$(rcode_of "$a")" = NOERROR ] && grep -q '192\.0\.2\.99' <<<"$a"
}
wait_for 600 back || fail "replica 1 does not answer ordered reads after replicas 5-7 came back"
log "replicas 5-7 back: replica 1 answers ordered reads again"

cluster_stop
log "PASS"
