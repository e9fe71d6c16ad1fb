#!/usr/bin/env bash
# batchstore.sh PATH-OF-BFTDNSCTL
#
# The delivered-batch store and stable checkpoints on real knotd
# (module/batchstore.h, module/checkpoint.h): n = 4, f = 1,
# digest-interval 4, TSIG-signed UPDATEs.
#
# 1. 64 UPDATEs, each to the next replica: every replica's bftdnsctl status
#    shows a stable checkpoint (3 reports) past batch 60, and its store was
#    garbage-collected: it logged removing segments after a stable
#    checkpoint, and its segment files (0600) hold only batches from less
#    than 40 batches before its last one, in at most 8 files (the store is
#    bounded by the checkpoints, not by the number of updates).
# 2. kill -9 replica 3 and restart it: it replays its store into the
#    broadcast, which logs the batches it keeps for lagging peers (ending at
#    the durable position) and the requests in its dedup window (> 0): what
#    a knotd restart lost before the store. Two more UPDATEs through it.
# 3. kill -9 replica 3, one UPDATE to the others (its prerequisite fails:
#    a batch that changes nothing, see below), kill -9 replicas 1, 2 and 4,
#    tear the last record of replica 1's newest segment, restart all four:
#    replica 1 logs the cut and resumes without bytes; replicas 2 and 4
#    replay their stores and serve replica 3 the batches it missed (f + 1 =
#    2 equal offers), so it catches up; without the store nobody would keep
#    them. Since the vote log the restarted peers re-send their logged votes
#    of that epoch to it instead, and it runs the epoch again (either is
#    accepted; the log says which). Two UPDATEs later all four converge, the
#    counter is right, no UPDATE is applied twice.
# 3b. The same with an UPDATE that changes the zone while replica 4 is
#    down, then kill -9 of replicas 1, 2, 3 and a restart of all four:
#    replica 4 catches up on the batch, whose RRSIGs it signs again with
#    the group, and every peer restarted since that batch, so none has a
#    share of it to give (its digests are of a zone state they no longer
#    have). They give it the signatures they stored with the batch
#    (batchstore.h signature records, tsign_restore()): it converges with
#    them. Without the stored signatures it waits for good.
# 4. The same with UPDATEs while replica 3 is down until stable
#    checkpoints removed what it lacks from every store: its peers answer
#    GONE and it logs that it needs a state transfer; 1, 2, 4 go on. (What
#    the state transfer then does is tests/cluster/state_transfer.sh's.)
# 5. The vote log (coordinator/core/votelog.h) in bftdnsctl status; removed
#    with knotd stopped (as after an upgrade from before it), the restart is
#    silent and says why; after more than ABC_EPOCHS_AHEAD + 1 epochs the
#    next restart takes the votes back.
. "$(dirname "$0")/lib.sh"

CTL=${1:?usage: batchstore.sh PATH-OF-BFTDNSCTL}
[ -x "$CTL" ] || skip "no bftdnsctl at $CTL"
n=4 f=1 interval=4

cluster_keys "$TMP" "$n" "$f"
for ((i = 1; i <= n; i++)); do
	CLUSTER_EXTRA[i]="    digest-interval: $interval
    control-socket: \"$TMP/replica-$i/ctl.sock\""
done

# store I: replica I's module state directory.
store() { echo "$TMP/replica-$1/bftdns/example.com."; }

# kill9 I: kills replica I's knotd with SIGKILL and waits for it (bounded).
kill9() {
	local pid=${CLUSTER_PID[$1]} i
	kill -KILL "$pid" 2>/dev/null || fail "replica $1 (pid $pid) was not running"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "replica $1 (pid $pid) survived SIGKILL"
	wait "$pid" 2>/dev/null || true
	CLUSTER_PID[$1]=
}

# update K PORT: UPDATE number K (a name of its own, the counter set to K).
update() {
	local k=$1 port=$2 rc
	rc=$(KNSUPDATE_TIMEOUT=60 knsupdate_rc "$port" "update add name-$k.example.com. 300 A 192.0.2.$((k % 250 + 1))
update delete counter.example.com. TXT
update add counter.example.com. 300 TXT \"$k\"")
	[ "$rc" = NOERROR ] || fail "UPDATE $k to port $port: $rc"
}

counter() {
	"$KDIG" @127.0.0.1 -p "$1" +short counter.example.com. TXT | tr -d '"'
}

status() {
	"$CTL" -c "$TMP/replica-$1/knot.conf" status 2>/dev/null
}
# status_value I KEY: a `KEY: value` line of replica I's status.
status_value() {
	status "$1" | sed -n "s/^$2: //p"
}
# stable I: replica I's stable checkpoint "K DIGEST" (empty if none).
stable() {
	status "$1" | sed -nE 's/^zone: .* checkpoint=batch ([0-9]+): ([0-9a-f]+) \(3 reports\)$/\1 \2/p'
}
stable_past() {
	local s
	s=$(stable "$1")
	[ -n "$s" ] && [ "${s% *}" -gt "$2" ]
}

# segments I: replica I's segment files, oldest first.
segments() {
	find "$(store "$1")" -maxdepth 1 -name 'batches-*.seg' | sort
}
# first_stored I: the first batch in replica I's store.
first_stored() {
	local first
	first=$(segments "$1" | head -n 1)
	first=${first##*/batches-}
	echo $((10#${first%.seg}))
}

# store_bounded I: replica I's store holds fewer than 40 batches before its
# last one, in at most 8 files, all 0600.
store_bounded() {
	local last first count
	last=$(status_value "$1" last-batch)
	first=$(first_stored "$1")
	count=$(segments "$1" | wc -l)
	[ "$count" -ge 1 ] && [ "$count" -le 8 ] && [ $((last - first)) -lt 40 ] || return 1
	[ -z "$(find "$(store "$1")" -name 'batches-*.seg' ! -perm 600)" ]
}

converged() { cluster_same_zone "$1"; }

check_counter() {
	local i c
	for i in $(cluster_up); do
		c=$(counter "${CLUSTER_DNS_PORT[i]}")
		[ "$c" = "$1" ] || fail "replica $i: counter '$c', want $1"
	done
}

# resumed_line I: replica I's last "resumed from N delivered batches" line.
resumed_line() {
	grep -E 'resumed from [0-9]+ delivered batches' "$TMP/replica-$1/knot.log" | tail -n 1
}
resumptions() {
	grep -c 'resumed after batch [0-9]* (durable' "$TMP/replica-$1/knot.log" || true
}
resumed_more() { [ "$(resumptions "$1")" -gt "$2" ]; }
restart() {
	local i before=()
	for i in "$@"; do
		before[i]=$(resumptions "$i")
		cluster_start_one "$i"
	done
	for i in "$@"; do
		wait_for 300 resumed_more "$i" "${before[i]}" ||
			fail "replica $i did not resume from its durable position"
	done
}

# --- 1. Many UPDATEs: stable checkpoints, the store stays small -------------
cluster_start
cluster_wait_all_links 300
cluster_wait_signed 600
for ((k = 1; k <= 64; k++)); do
	update "$k" "${CLUSTER_DNS_PORT[$(( (k - 1) % 4 + 1 ))]}"
done
wait_for 600 converged "$TMP/phase1" || fail "no convergence after 64 UPDATEs"
check_counter 64
for ((i = 1; i <= n; i++)); do
	wait_for 300 stable_past "$i" 60 ||
		fail "replica $i: no stable checkpoint past batch 60: $(status "$i" | grep '^zone:')"
	grep -q 'removed after the stable checkpoint at batch' "$TMP/replica-$i/knot.log" ||
		fail "replica $i removed no segment after a stable checkpoint"
	wait_for 100 store_bounded "$i" ||
		fail "replica $i: store not bounded: last batch $(status_value "$i" last-batch), first stored $(first_stored "$i"), $(segments "$i" | wc -l) files"
done
last1=$(status_value 1 last-batch)
log "64 UPDATEs, $last1 batches: stable checkpoint $(stable 1) on all;" \
	"replica 1 keeps batches $(first_stored 1)..$last1 in $(segments 1 | wc -l) files," \
	"$(segments 1 | xargs cat | wc -c) bytes"

# --- 2. kill -9 and restart: the broadcast gets its batches back -------------
kill9 3
restart 3
line=$(resumed_line 3)
[[ "$line" =~ resumed\ from\ ([0-9]+)\ delivered\ batches:\ next\ batch\ ([0-9]+)\;\ batches\ ([0-9]+)\.\.([0-9]+)\ kept\ for\ lagging\ peers,\ ([0-9]+)\ requests\ in\ the\ dedup\ window ]] ||
	fail "replica 3 did not replay its store into the broadcast: '$line'"
replayed=${BASH_REMATCH[1]} kept_last=${BASH_REMATCH[4]} dedup=${BASH_REMATCH[5]}
resumed_at=$(grep -Eo 'resumed after batch [0-9]+' "$TMP/replica-3/knot.log" | tail -n 1)
[ "$kept_last" = "${resumed_at##* }" ] ||
	fail "replica 3 keeps batches up to $kept_last, its durable position is ${resumed_at##* }"
[ "$replayed" -gt 0 ] && [ "$dedup" -gt 0 ] ||
	fail "replica 3 replayed $replayed batches, $dedup requests in its dedup window"
grep -q "with the bytes of the last $replayed batches (batch store)" "$TMP/replica-3/knot.log" ||
	fail "replica 3 does not say it resumed from its batch store"
cluster_wait_links 3 300 || fail "replica 3: links not all up after its restart"
update 65 "${CLUSTER_DNS_PORT[3]}"
update 66 "${CLUSTER_DNS_PORT[1]}"
wait_for 600 converged "$TMP/phase2" || fail "no convergence after replica 3's restart"
check_counter 66
log "replica 3 killed and restarted: $line"

# --- 3. A replica behind, then all killed: the others' stores serve it -------
# One UPDATE while replica 3 is down: at most one stable checkpoint forms
# meanwhile, and a checkpoint removes only segments wholly at or before it
# (the current one just ends), so the others' stores still hold the batch.
# Its prerequisite fails (NXRRSET on every replica, the zone unchanged):
# a batch that changes nothing needs no signature (one that does is 3b's).
kill9 3
rc=$(KNSUPDATE_TIMEOUT=60 knsupdate_rc "${CLUSTER_DNS_PORT[2]}" "prereq yxrrset counter.example.com. TXT \"nope\"
update add never.example.com. 300 A 192.0.2.1")
[ "$rc" = NXRRSET ] || fail "the UPDATE with a failing prerequisite was answered $rc"
wait_for 300 cluster_same_zone "$TMP/phase3a" 1 2 4 || fail "replicas 1, 2, 4 differ"
behind=$(status_value 2 last-batch)
for i in 1 2 4; do
	kill9 "$i"
done
newest=$(segments 1 | tail -n 1)
truncate -s -3 "$newest"
restart 1 2 3 4
grep -q 'torn record at offset' "$TMP/replica-1/knot.log" ||
	fail "replica 1 did not log the torn record of its store"
caught_up() { [ "$(status_value 3 last-batch)" -ge "$behind" ]; }
wait_for 600 caught_up ||
	fail "replica 3 is at batch $(status_value 3 last-batch), not $behind: it did not get the batches it missed"
# How it got the batch: from the peers' replayed stores (FETCH), or, since
# the vote log, by running its epoch again with the votes its restarted
# peers logged and re-send to a peer that restarts at most ABC_EPOCHS_AHEAD
# + 1 epochs behind them (abc.h; coordinator/core/votelog.h): then each of
# them gave its votes back at its start.
if grep -q 'batches taken from peers' "$TMP/replica-3/knot.log"; then
	path="took the batches from 2 and 4's stores ($(grep -Eo '[0-9]+ batches taken from peers[^,]*' "$TMP/replica-3/knot.log" | tail -n 1))"
else
	for i in 1 2 4; do
		grep -q 'given back to the broadcast' "$TMP/replica-$i/knot.log" ||
			fail "replica 3 took no batch from its peers, and replica $i did not restart on its logged votes"
	done
	path="ran the missed epoch again with the votes 1, 2 and 4 logged and re-sent"
fi
! grep -E 'needs a state transfer' "$TMP/replica-3/knot.log" ||
	fail "replica 3 was told its peers keep nothing (GONE)"
cluster_wait_all_links 300
update 67 "${CLUSTER_DNS_PORT[3]}"
update 68 "${CLUSTER_DNS_PORT[1]}"
wait_for 600 converged "$TMP/phase3" ||
	{ cluster_wait_same_zone "$TMP/phase3" 1; fail "no convergence after the restart of all"; }
check_counter 68
cluster_no_redelivery || fail "a replica applied a batch again or stopped applying"
log "replica 3 behind (the others at batch $behind), all 4 killed, replica 1's store torn: replica 3" \
	"$path; two UPDATEs later all converge, counter 68"

# --- 3b. A missed batch with a change: its signatures from the peers' stores --
# One UPDATE, as in 3 (the peers' stores keep the batch).
kill9 4
update 69 "${CLUSTER_DNS_PORT[1]}"
wait_for 300 cluster_same_zone "$TMP/phase3b-a" 1 2 3 || fail "replicas 1, 2, 3 differ"
behind=$(status_value 1 last-batch)
for i in 1 2 3; do
	kill9 "$i"
done
restart 1 2 3 4
# restored I: how many signing requests replica I's last start kept from its store.
restored() {
	grep -Eo 'signatures of [0-9]+ requests finished before the restart' 		"$TMP/replica-$1/knot.log" | tail -n 1 | grep -Eo '[0-9]+' | head -n 1
}
for i in 1 2 3; do
	[ "$(restored "$i")" -gt 0 ] ||
		fail "replica $i kept no stored signatures at its restart: '$(restored "$i")'"
done
caught_up4() { [ "$(status_value 4 last-batch)" -ge "$behind" ]; }
wait_for 300 caught_up4 ||
	fail "replica 4 is at batch $(status_value 4 last-batch), not $behind: it did not get the signatures of the batch it missed ($(grep -c 'waits for signature shares' "$TMP/replica-4/knot.log") 'waits for signature shares' lines)"
cluster_wait_all_links 300
update 70 "${CLUSTER_DNS_PORT[4]}"
wait_for 600 converged "$TMP/phase3b" ||
	{ cluster_wait_same_zone "$TMP/phase3b" 1; fail "no convergence after replica 4 caught up"; }
check_counter 70
cluster_no_redelivery || fail "a replica applied a batch again or stopped applying"
log "replica 4 behind (the others at batch $behind, a change), 1-3 killed and restarted with" 	"$(restored 1), $(restored 2), $(restored 3) stored signing requests: replica 4 caught up," 	"all converge, counter 70"

# --- 4. Behind a stable checkpoint: GONE, a state transfer is needed ---------
# UPDATEs while replica 3 is down until the stable checkpoints formed by 1,
# 2 and 4 removed the first batch it lacks from all their stores. After all four restart,
# nobody keeps those batches: f + 1 peers answer GONE and replica 3 says
# it needs a state transfer (the designed limit, batchstore.h); the others
# go on without it.
p3=$(status_value 3 last-batch)
kill9 3
# gc_past P: replicas 1, 2 and 4 no longer store batch P + 1.
gc_past() {
	local i
	for i in 1 2 4; do
		[ "$(first_stored "$i")" -gt $(($1 + 1)) ] || return 1
	done
}
k=71
while ! gc_past "$p3"; do
	[ "$k" -le 102 ] || fail "32 UPDATEs, and the stores of 1, 2, 4 still hold batch $((p3 + 1))"
	update "$k" "${CLUSTER_DNS_PORT[$(( k % 2 == 0 ? 2 : 4 ))]}"
	k=$((k + 1))
done
wait_for 300 cluster_same_zone "$TMP/phase4a" 1 2 4 || fail "replicas 1, 2, 4 differ"
for i in 1 2 4; do
	kill9 "$i"
done
restart 1 2 3 4
wait_log "$TMP/replica-3/knot.log" 'needs a state transfer' 600 ||
	fail "replica 3 (behind the others' stable checkpoint) did not learn that it needs a state transfer"
update "$k" "${CLUSTER_DNS_PORT[1]}"
wait_for 600 cluster_same_zone "$TMP/phase4" 1 2 4 || fail "replicas 1, 2, 4 differ after the restart"
log "replica 3 behind the stable checkpoint ($((k - 71)) UPDATEs while it was down): $(grep -Eo 'this replica is at batch [0-9]+, but [0-9]+ peers no longer keep it' "$TMP/replica-3/knot.log" | tail -n 1); replicas 1, 2, 4 go on"

# --- 5. A vote log lost (an upgrade from before it, a deleted directory) ----
# Replica 1 keeps one (vote-log: durable, records and bytes counted, files
# 0600 in a 0700 directory). Killed, its votes/ removed, restarted: its log
# cannot vouch for the votes of its earlier incarnation, it says so and
# restarts silent as before the log (vote-log: incomplete), and the group
# goes on with it (3 still needs a state transfer). After UPDATEs through
# more than ABC_EPOCHS_AHEAD + 1 epochs, a kill -9 and restart take its
# votes back (vote-log: durable).
votes="$(store 1)/votes"
[ "$(status_value 1 vote-log)" = durable ] && [ "$(status_value 1 votes-logged)" -gt 0 ] &&
	[ "$(status_value 1 vote-log-bytes)" -gt 0 ] ||
	fail "replica 1's vote log: $(status 1 | grep vote | tr '\n' ' ')"
[ "$(stat -c %a "$votes")" = 700 ] && [ -n "$(find "$votes" -name 'votes-*.seg')" ] &&
	[ -z "$(find "$votes" -type f ! -perm 600)" ] || fail "modes in $votes: $(ls -la "$votes")"
given_back() {
	grep -c 'given back to the broadcast' "$TMP/replica-1/knot.log" || true
}
kill9 1
rm -rf "$votes"
restart 1
grep -Eq "vote log in .* holds this replica's votes from epoch [0-9]+ on" "$TMP/replica-1/knot.log" ||
	fail "replica 1 did not say that its new vote log cannot vouch for its earlier votes"
vote_log_is() { [ "$(status_value "$1" vote-log)" = "$2" ]; }
wait_for 100 vote_log_is 1 incomplete || fail "replica 1: vote-log '$(status_value 1 vote-log)', want incomplete"
cluster_wait_links 1 300 || fail "replica 1: links not all up"
for ((j = 0; j < 8; j++, k++)); do
	update "$k" "${CLUSTER_DNS_PORT[$(( j % 2 == 0 ? 1 : 2 ))]}"
done
before=$(given_back)
kill9 1
restart 1
[ "$(given_back)" -gt "$before" ] || fail "replica 1 did not take its votes back after 8 more UPDATEs"
wait_for 100 vote_log_is 1 durable || fail "replica 1: vote-log '$(status_value 1 vote-log)', want durable"
update "$k" "${CLUSTER_DNS_PORT[1]}"
wait_for 600 cluster_same_zone "$TMP/phase5" 1 2 4 || fail "replicas 1, 2, 4 differ after phase 5"
log "replica 1's vote log removed: restarted silent (incomplete), 8 UPDATEs later restarted on its votes ($(grep -Eo '[0-9]+ votes of epochs [0-9.]+' "$TMP/replica-1/knot.log" | tail -n 1)), all converge"
cluster_stop
log "PASS"
