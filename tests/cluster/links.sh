#!/usr/bin/env bash
# Four knotd replicas on 127.0.0.1, keys from bftdns-keygen: the module
# starts the coordinator inside each knotd and every replica logs its links
# up to all peers; knotc reload of one replica restarts its coordinator and
# the links come back; every knotd is still running at the end. An UPDATE is
# applied and threshold-signed everywhere; a replica restarted with another
# signing protocol is refused at the links.
. "$(dirname "$0")/lib.sh"

cluster_keys "$TMP" 4 1
cluster_start

for i in 1 2 3 4; do
	cluster_wait_links "$i" 300 || fail "replica $i: links not all up"
	grep -q "coordinator started, links on 127.0.0.1@${CLUSTER_LINK_PORT[i]} to 3 peers" \
		"$TMP/replica-$i/knot.log" || fail "replica $i: no coordinator start line"
done
log "4 replicas: every replica has its links up to the 3 others"

# knotc reload: a new module instance with a new coordinator; the old one
# stops and releases the port. Twice, to see it is not a one-off.
for round in 1 2; do
	"$KNOTC" -c "$TMP/replica-2/knot.conf" -t 10 reload >/dev/null ||
		fail "knotc reload of replica 2 failed"
	want=$((round + 1))
	wait_for 300 bash -c "[ \$(grep -c 'links up to all 3 peers' '$TMP/replica-2/knot.log') -ge $want ]" ||
		fail "replica 2: links did not come back after reload $round"
	log "reload $round of replica 2: links up again"
done
for i in 1 2 3 4; do
	kill -0 "${CLUSTER_PID[i]}" 2>/dev/null || fail "replica $i's knotd is gone"
done
grep -q 'coordinator not started' "$TMP/replica-2/knot.log" &&
	log "note: $(grep -c 'coordinator not started' "$TMP/replica-2/knot.log") coordinator start(s) failed during reload"

# Ordering and threshold signing: an UPDATE sent to replica 3 goes through
# the atomic broadcast, every replica applies it in the same batch and the
# group signs it (f + 1 = 2 shares per RRSIG); replica 3 answers its client.
rc=$(nsupdate_rc "${CLUSTER_DNS_PORT[3]}" "$TMP/replica-3/update.key" \
	"update add ordered.example.com. 300 A 192.0.2.99")
[ "$rc" = NOERROR ] || fail "the UPDATE to replica 3 was answered '$rc', want NOERROR"
for i in 1 2 3 4; do
	wait_for 100 bash -c "'$KDIG' @127.0.0.1 -p ${CLUSTER_DNS_PORT[i]} +dnssec +short \
		ordered.example.com. A | grep -q '^A 8 3 300'" ||
		fail "replica $i: no signed ordered.example.com. A"
done
serial=$(soa_serial "${CLUSTER_DNS_PORT[1]}")
for i in 2 3 4; do
	s=$(soa_serial "${CLUSTER_DNS_PORT[i]}")
	[ "$s" = "$serial" ] || fail "replica $i has serial $s, replica 1 $serial"
done
log "an UPDATE to replica 3 is applied and threshold-signed on every replica (serial $serial)"

# A replica configured with another signing protocol would send shares its
# peers do not expect: the group parameters are bound into the cluster id,
# so its links are refused at the HELLO, with a sentence, on both sides.
cluster_stop_one 4
CLUSTER_EXTRA[4]="    signing-protocol: basic"
cluster_conf 4
cluster_start_one 4
wait_log "$TMP/replica-4/knot.log" 'other group parameters .*cluster id differs' 100 ||
	fail "replica 4 with another signing protocol was not refused"
wait_log "$TMP/replica-1/knot.log" 'replica 4 .*other group parameters .*cluster id differs' 100 ||
	fail "replica 1 did not refuse replica 4's other signing protocol"
log "a replica with another signing protocol is refused at the HELLO"
cluster_stop
log "PASS"
