#!/usr/bin/env bash
# status.sh PATH-OF-BFTDNSCTL
#
# bftdnsctl status on every replica of a group: n = 4, f = 1, each replica
# with its own control socket.
#
# 1. Links up: every replica's status shows `peers: 3/3 connected`, its own
#    replica id, replicas 4, faults 1, one zone.
# 2. One TSIG UPDATE to replica 2: once the group is quiet, every replica
#    shows the same last-batch and last-batch-time (the agreed time), and
#    updates-received / updates-applied are 1 on replica 2, 0 elsewhere,
#    updates-rejected 0 and bad-shares 0 for every peer on every replica;
#    link-messages-sent/-received > 0 and their bytes at least as many.
# 3. Replica 4 stopped (by PID): replicas 1-3 show `peers: 2/3 connected`.
#    `bftdnsctl sign-zone example.com.` on replica 1 is accepted (queued,
#    logged) and replicas 1-3 all move to the same new last batch.
. "$(dirname "$0")/lib.sh"

CTL=${1:?usage: status.sh PATH-OF-BFTDNSCTL}
[ -x "$CTL" ] || skip "no bftdnsctl at $CTL"
n=4 f=1

# ctl I ARGS...: bftdnsctl -c replica I's knot.conf ARGS; stdout in $out,
# stderr in $err, exit status in $rc.
ctl() {
	local i=$1
	shift
	rc=0
	"$CTL" -c "$CLUSTER_DIR/replica-$i/knot.conf" "$@" >"$TMP/ctl.out" 2>"$TMP/ctl.err" || rc=$?
	out=$(cat "$TMP/ctl.out")
	err=$(cat "$TMP/ctl.err")
}

# field KEY: the value of `KEY: value` in the last answer.
field() {
	sed -n "s/^$1: //p" <<<"$out" | head -n 1
}

# status_field I KEY: KEY of a fresh status of replica I (fails if status does).
status_field() {
	ctl "$1" status
	[ "$rc" = 0 ] || return 1
	field "$2"
}

# show I: replica I's status now, for a failure message.
show() {
	ctl "$1" status
	echo "exit $rc: $out $err"
}

# status_is I KEY VALUE: replica I's status shows KEY: VALUE.
status_is() {
	[ "$(status_field "$1" "$2")" = "$3" ]
}

# batch_of I: "LAST-BATCH LAST-BATCH-TIME" of replica I.
batch_of() {
	ctl "$1" status
	[ "$rc" = 0 ] || return 1
	echo "$(field last-batch) $(field last-batch-time)"
}

# same_batch MIN I...: replicas I... show the same last batch (and time),
# a number above MIN, twice in a row (the group is quiet).
same_batch() {
	local min=$1 first i b
	shift
	first=$(batch_of "$1") || return 1
	[ "${first%% *}" != none ] && [ "${first%% *}" -gt "$min" ] || return 1
	for i in "$@" "$@"; do
		b=$(batch_of "$i") || return 1
		[ "$b" = "$first" ] || return 1
	done
}

cluster_keys "$TMP" "$n" "$f"
for ((i = 1; i <= n; i++)); do
	CLUSTER_EXTRA[i]="    control-socket: \"$CLUSTER_DIR/replica-$i/ctl.sock\""
done
cluster_start
cluster_wait_all_links 300
cluster_wait_signed 600

# 1. Every replica: all peers, its own id, n and f.
for ((i = 1; i <= n; i++)); do
	wait_for 100 status_is "$i" peers "3/3 connected" ||
		fail "replica $i: status does not show 'peers: 3/3 connected': $(show "$i")"
	ctl "$i" status
	[ "$(field replica)" = "$i" ] && [ "$(field replicas)" = "$n" ] && [ "$(field faults)" = "$f" ] ||
		fail "replica $i: status is not replica $i of $n, f = $f: $out"
	[ "$(field zones)" = 1 ] && grep -q '^zone: example\.com\. ' <<<"$out" ||
		fail "replica $i: status does not show the one zone example.com.: $out"
done
log "links up: every replica's status shows its id, replicas $n, faults $f, peers: 3/3 connected"

# 2. One UPDATE, to replica 2; then the same last batch everywhere.
wait_for 300 same_batch 0 1 2 3 4 ||
	fail "the replicas do not settle on one last batch after the initial signing:" \
		"$(for i in 1 2 3 4; do echo "replica $i: $(batch_of "$i")"; done)"
before=$(batch_of 1)
rc=$(KNSUPDATE_TIMEOUT=60 knsupdate_rc "${CLUSTER_DNS_PORT[2]}" \
	"update add status.example.com. 300 A 192.0.2.77")
[ "$rc" = NOERROR ] || fail "the UPDATE to replica 2 was answered $rc"
wait_for 300 same_batch "${before%% *}" 1 2 3 4 ||
	fail "the replicas do not show the same last batch after the UPDATE (before: $before):" \
		"$(for i in 1 2 3 4; do echo "replica $i: $(batch_of "$i")"; done)"
after=$(batch_of 1)
for ((i = 1; i <= n; i++)); do
	ctl "$i" status
	want=0
	[ "$i" != 2 ] || want=1
	[ "$(field updates-received)" = "$want" ] ||
		fail "replica $i: updates-received '$(field updates-received)', want $want: $out"
	[ "$(field updates-applied)" = "$want" ] ||
		fail "replica $i: updates-applied '$(field updates-applied)', want $want: $out"
	[ "$(field updates-rejected)" = 0 ] ||
		fail "replica $i: updates-rejected '$(field updates-rejected)', want 0: $out"
	# No bad share from any peer in a correct group: "ID=0" for each other id.
	shares=
	for ((j = 1; j <= n; j++)); do
		[ "$j" = "$i" ] || shares+="${shares:+ }$j=0"
	done
	[ "$(field bad-shares)" = "$shares" ] ||
		fail "replica $i: bad-shares '$(field bad-shares)', want '$shares': $out"
	# The links carried the broadcast: messages both ways, each at least a byte.
	for dir in sent received; do
		msgs=$(field "link-messages-$dir") bytes=$(field "link-bytes-$dir")
		[[ "$msgs" =~ ^[0-9]+$ && "$bytes" =~ ^[0-9]+$ && $msgs -gt 0 && $bytes -ge $msgs ]] ||
			fail "replica $i: link-messages-$dir '$msgs', link-bytes-$dir '$bytes': $out"
	done
done
ctl 2 status
log "one UPDATE to replica 2: every replica's last batch is '$after' (was '$before');" \
	"replica 2: updates-received $(field updates-received), updates-applied $(field updates-applied)," \
	"the others 0; batches-delivered $(field batches-delivered)"

# 3. Replica 4 stopped: the others see 2 of 3 peers; sign-zone is ordered
# by the three.
cluster_stop_one 4
for ((i = 1; i < n; i++)); do
	wait_for 300 status_is "$i" peers "2/3 connected" ||
		fail "replica $i: status does not show 'peers: 2/3 connected' with replica 4 stopped: $(show "$i")"
done
log "replica 4 stopped: replicas 1-3 show peers: 2/3 connected"
ctl 1 sign-zone example.com.
[ "$rc" = 0 ] || fail "sign-zone example.com. on replica 1: exit $rc: $out $err"
grep -q '^queued' <<<"$out" || fail "sign-zone example.com. on replica 1 answered: $out"
answer=$out
wait_log "$CLUSTER_DIR/replica-1/knot.log" 'control: sign-zone example\.com\.: accepted' 100 ||
	fail "replica 1 logs no accepted sign-zone"
wait_for 300 same_batch "${after%% *}" 1 2 3 ||
	fail "no new batch on replicas 1-3 after sign-zone (before: $after):" \
		"$(for i in 1 2 3; do echo "replica $i: $(batch_of "$i")"; done)"
signed=$(batch_of 1)
log "sign-zone example.com. on replica 1: '$answer'; replicas 1-3 show last batch '$signed' (was '$after')"

cluster_stop
log "PASS"
