#!/usr/bin/env bash
# State transfer (issue 9, item 3; module/transfer.c, module/snapshot.c,
# coordinator/proto/xfer.c, knot-patch/0012): a replica further behind than
# its peers keep batches, or whose storage was wiped, gets the zone at the
# group's latest stable checkpoint from a peer, checked against the
# certified digest, and goes on with live batches.
#
# Four replicas (f = 1), digest-interval 3 (a checkpoint every 3 batches),
# retain-batches 28 (peers keep 28 batches: 4 * (3 + 4), the least conf-check takes). Replica 4 is stopped, STEPS
# UPDATEs go to the others (more batches than they keep), then:
#  0. replica 4 restarts with state-transfer off: f + 1 peers answer GONE,
#     it logs that it needs a state transfer and stays behind (so the test
#     below cannot pass without the transfer);
#  1. replica 4 restarts with state-transfer on: it logs the transfer
#     (checkpoint, source, RRs, digest ok) from replica 2, having rejected
#     any snapshot of replicas 1 and 3 (misbehave: corrupt-snapshot, the
#     last byte flipped; which offer comes first is up to the links, so the
#     rejection is seen in about 2 of 3 runs), its sorted AXFR equals the
#     others', ldns-verify-zone and dnssec-verify accept it, and two more
#     UPDATEs (one of them to replica 4) are applied by all four;
#  2. replica 2 is stopped, its storage wiped (journal, module state
#     directory; zone file back to the original), STEPS more UPDATEs go to
#     the others, replica 2 restarts from nothing: same as 1, from replica 4;
#  3. replica 2 is killed (-9) and restarted: it resumes after a batch at or
#     past its installed checkpoint (the state and the position were
#     committed together), the same zone, no second transfer, and applies one
#     more UPDATE with the others.
# It prints the time the transfers took (from the log) for a zone of
# STEPS * 2 + the original records.
. "$(dirname "$0")/lib.sh"

STEPS=${STEPS:-40}
# ZONE_RECORDS=N adds N names to the initial zone (for the figures of
# doc/benchmarks.md: the transfer time of a larger zone is in the log line).
ZONE_RECORDS=${ZONE_RECORDS:-0}
cluster_keys "$TMP" 4 1
CLUSTER_EXTRA[1]="    digest-interval: 3
    retain-batches: 28"
CLUSTER_EXTRA[2]=${CLUSTER_EXTRA[1]}
CLUSTER_EXTRA[4]=${CLUSTER_EXTRA[1]}
# Replicas 1 and 3 serve snapshots with a flipped byte (they are correct in
# everything else): the receiver must reject theirs and install the one
# correct server's, replica 2's in phase 1 and replica 4's in phase 2.
CLUSTER_EXTRA[1]+=$'\n'"    misbehave: [ corrupt-snapshot ]"
CLUSTER_EXTRA[3]=${CLUSTER_EXTRA[1]}
BASE_ITEMS=${CLUSTER_EXTRA[2]}

# update K PORT: UPDATE number K (a name of its own) to the replica on PORT.
update() {
	local rc
	rc=$(nsupdate_rc "$2" "$TMP/replica-1/update.key" \
		"update add name-$1.example.com. 300 A 192.0.2.$(( $1 % 250 + 1 ))
update add name-$1.example.com. 300 TXT \"step $1\"")
	[ "$rc" = NOERROR ] || fail "UPDATE $1 to port $2: $rc"
}

# updates FROM TO ID...: UPDATEs FROM..TO, round robin over those replicas.
updates() {
	local k ids=("${@:3}")
	for ((k = $1; k <= $2; k++)); do
		update "$k" "${CLUSTER_DNS_PORT[${ids[$((k % ${#ids[@]}))]}]}"
	done
}

# kill9 I: kills replica I's knotd with SIGKILL and waits for it (bounded).
kill9() {
	local pid=${CLUSTER_PID[$1]} i
	kill -KILL "$pid" 2>/dev/null || fail "replica $1 (pid $pid) was not running"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		wait_for 1 false || true
	done
	kill -0 "$pid" 2>/dev/null && fail "replica $1 (pid $pid) survived SIGKILL"
	wait "$pid" 2>/dev/null || true
	CLUSTER_PID[$1]=
}

# resumptions I: how often replica I logged resuming from its durable position.
resumptions() {
	grep -c 'resumed after batch [0-9]* (durable' "$TMP/replica-$1/knot.log" || true
}

resumed_more() {
	[ "$(resumptions "$1")" -gt "$2" ]
}

# resumed_after I: the batch replica I last logged resuming after.
resumed_after() {
	grep -Eo 'resumed after batch [0-9]+ \(durable' "$TMP/replica-$1/knot.log" |
		tail -n 1 | grep -Eo '[0-9]+' || true
}

# transfers I: how many state transfers replica I logged as installed.
transfers() {
	grep -c 'state transfer: installed the zone at checkpoint' \
		"$TMP/replica-$1/knot.log" || true
}

transferred_more() {
	[ "$(transfers "$1")" -gt "$2" ]
}

# verify_zone DIR I: replica I's AXFR validates.
verify_zone() {
	axfr_sorted "${CLUSTER_DNS_PORT[$2]}" "$1/verify-$2" || fail "no AXFR from replica $2"
	zone_verify "$1/verify-$2" "$TMP/dnskey"
}

# behind_stays I SECONDS: replica I is still not serving the others' zone.
behind_stays() {
	local want have
	want=$(soa_serial "${CLUSTER_DNS_PORT[1]}")
	have=$(soa_serial "${CLUSTER_DNS_PORT[$1]}")
	[ "$want" != "$have" ]
}

# transfer_ms I: the time of replica I's last transfer, from its log.
transfer_line() {
	grep 'state transfer: installed the zone at checkpoint' \
		"$TMP/replica-$1/knot.log" | tail -n 1
}

# catch_up I DIR BEFORE NEXT SOURCE: replica I (restarted) takes a transfer
# from SOURCE (the only server not corrupt-snapshot; any other source's is
# rejected), converges, validates, and then takes part in live UPDATEs.
catch_up() {
	local i=$1 dir=$2 before=$3 next=$4 source=$5 rejects
	wait_for 600 transferred_more "$i" "$before" || {
		grep -E 'state transfer|needs a state transfer|GONE|checkpoint' \
			"$TMP/replica-$i/knot.log" | tail -n 20 >&2
		fail "replica $i did not install a state transfer"
	}
	log "replica $i: $(transfer_line "$i" | sed 's/.*state transfer: //')"
	# For comparison (figures only): the same zone by AXFR from a peer,
	# wire only (Knot serving, kdig receiving and discarding).
	local t0 t1
	t0=$(date +%s%N)
	"$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[$source]}" example.com. AXFR +time=10 \
		>/dev/null 2>&1 || true
	t1=$(date +%s%N)
	log "for comparison: kdig AXFR of the zone from replica $source: $(( (t1 - t0) / 1000000 )) ms" \
		"(load average $(cut -d' ' -f1-3 /proc/loadavg))"
	transfer_line "$i" | grep -q "from replica $source," ||
		fail "replica $i installed a snapshot not from replica $source"
	rejects=$(grep 'is not the certified state' "$TMP/replica-$i/knot.log" || true)
	! grep -v -E 'from replica (1|3) is not' <<<"$rejects" | grep -q . ||
		fail "replica $i rejected a correct server's snapshot: $rejects"
	log "replica $i rejected $(grep -c . <<<"$rejects") corrupt snapshot(s) first" \
		"($(grep -Eo 'from replica [0-9]+' <<<"$rejects" | tr '\n' ' '))"
	cluster_wait_same_zone "$dir" 600
	verify_zone "$dir" "$i"
	log "replica $i serves the same zone as the others (serial" \
		"$(soa_serial "${CLUSTER_DNS_PORT[$i]}"), $(grep -c . "$dir/zone") lines), it validates"
	update "$next" "${CLUSTER_DNS_PORT[$i]}"
	update "$((next + 1))" "${CLUSTER_DNS_PORT[1]}"
	cluster_wait_same_zone "$dir-live" 600
	"$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[$i]}" +short "name-$next.example.com." TXT |
		grep -q "step $next" || fail "replica $i does not serve UPDATE $next"
	log "UPDATEs $next and $((next + 1)) applied by all four after the transfer"
}

# original_zone FILE: the zone every replica starts from.
original_zone() {
	write_zone "$1"
	awk -v n="$ZONE_RECORDS" 'BEGIN { for (i = 1; i <= n; i++)
		printf "host-%d\t300\tA\t198.51.%d.%d\n", i, int(i / 250) % 250, i % 250 + 1 }' >>"$1"
}

for i in 1 2 3 4; do
	cluster_conf "$i"
	original_zone "$TMP/replica-$i/example.com.zone"
done
for i in 1 2 3 4; do
	cluster_start_one "$i"
done
cluster_wait_all_links 300
cluster_wait_signed $((600 + ZONE_RECORDS / 2))
cluster_wait_same_zone "$TMP/start" $((300 + ZONE_RECORDS / 2))
cp "$TMP/keys/example.com.dnskey" "$TMP/dnskey"
log "4 replicas up and signed, serial $(soa_serial "${CLUSTER_DNS_PORT[1]}")"

# --- 0 and 1: replica 4 far behind ------------------------------------------
update 1 "${CLUSTER_DNS_PORT[1]}"
cluster_wait_same_zone "$TMP/phase0" 300
cluster_stop_one 4
updates 2 "$STEPS" 1 2 3
wait_for 300 cluster_same_zone "$TMP/phase0b" 1 2 3 || fail "1-3 do not converge"
grep -q 'stable checkpoint: batch' "$TMP/replica-1/knot.log" ||
	fail "replica 1 formed no stable checkpoint"
log "replica 4 stopped, UPDATEs 2..$STEPS applied by 1-3"

CLUSTER_EXTRA[4]+=$'\n'"    state-transfer: off"
cluster_conf 4
cluster_start_one 4
wait_log "$TMP/replica-4/knot.log" 'needs a state transfer, which is off here' 600 ||
	fail "replica 4 did not find out that it is behind the kept batches"
# Without a transfer it stays behind for good.
sleep_until=$((SECONDS + 10))
while ((SECONDS < sleep_until)); do
	behind_stays 4 || fail "replica 4 caught up without a state transfer"
	wait_for 10 false || true
done
[ "$(transfers 4)" = 0 ] || fail "replica 4 transferred with state-transfer off"
log "with state-transfer off replica 4 stays behind (serial" \
	"$(soa_serial "${CLUSTER_DNS_PORT[4]}") against $(soa_serial "${CLUSTER_DNS_PORT[1]}"))"
cluster_stop_one 4

CLUSTER_EXTRA[4]=$BASE_ITEMS
cluster_conf 4
cluster_start_one 4
catch_up 4 "$TMP/phase1" 0 $((STEPS + 1)) 2


# --- 2: replica 2's storage wiped ----------------------------------------------
cluster_stop_one 2
rm -rf "$TMP/replica-2/journal" "$TMP/replica-2/bftdns" "$TMP/replica-2/timers"
original_zone "$TMP/replica-2/example.com.zone"
updates $((STEPS + 3)) $((2 * STEPS)) 1 3 4
wait_for 300 cluster_same_zone "$TMP/phase2a" 1 3 4 || fail "1, 3, 4 do not converge"
log "replica 2 stopped and wiped, UPDATEs $((STEPS + 3))..$((2 * STEPS)) applied by 1, 3, 4"
cluster_start_one 2
catch_up 2 "$TMP/phase2" 0 $((2 * STEPS + 1)) 4

# The installed state is durable with its position (one journal
# transaction): kill -9 replica 2 (wiped, then transferred) and restart it:
# it resumes after a batch at or past its checkpoint with the same zone,
# without another transfer, and applies one more UPDATE with the others.
k2=$(transfer_line 2 | grep -Eo 'checkpoint [0-9]+' | grep -Eo '[0-9]+')
before=$(resumptions 2)
kill9 2
cluster_start_one 2
wait_for 300 resumed_more 2 "$before" || fail "replica 2 did not resume from its durable position"
r2=$(resumed_after 2)
[ -n "$r2" ] && ((r2 >= k2)) || fail "replica 2 resumed after batch '$r2', before checkpoint $k2"
update $((2 * STEPS + 3)) "${CLUSTER_DNS_PORT[1]}"
cluster_wait_same_zone "$TMP/phase2-restart" 600
[ "$(transfers 2)" = 1 ] || fail "replica 2 took another transfer after its restart"
log "replica 2 killed and restarted: resumed after batch $r2 (checkpoint $k2), applies" \
	"UPDATE $((2 * STEPS + 3)) with the others"

for i in 1 2 3 4; do
	! grep -E 'stops applying|delivered again' "$TMP/replica-$i/knot.log" ||
		fail "replica $i: see the lines above"
done
log "state transfer: a lagging and a wiped replica rejoined"
