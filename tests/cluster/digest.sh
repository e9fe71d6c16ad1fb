#!/usr/bin/env bash
# digest.sh PATH-OF-BFTDNSCTL
#
# Consistency checks between replicas (module/digest.h), n = 4, f = 1,
# digest-interval 2, every replica with a control socket.
#
# 1. A correct group, every replica with consistency: strict: after
#    TSIG-signed UPDATEs (knsupdate, to each replica in turn) every replica
#    logs checkpoints, the same batches with the same digests on all four,
#    each replica's own digest for such a batch is the checkpoint's, nobody
#    logs a mismatch, bftdnsctl status shows the last checkpoint with 4 of 4
#    agreeing, every replica answers NOERROR, and ldns-verify-zone accepts
#    the zone by AXFR with a ZONEMD record of the digest logged for its serial.
#    The last checkpoint is stable (2f + 1 = 3 equal signed reports,
#    module/checkpoint.h): status shows `checkpoint=batch K: D (3 reports)`
#    on every replica, and its certificate is the file
#    bftdns/example.com./checkpoint (0600) under the database storage.
# 2. Replica 4 with misbehave: corrupt-digest (it reports, and believes, a
#    digest with its first byte flipped) and consistency: strict: replicas
#    1-3 log one mismatch per checkpoint, naming replica 4 and its flipped
#    digest, their checkpoints are formed by the three of them (3 of 4
#    agree) and status shows the mismatches; replica 4
#    forms the same checkpoints, finds itself in the minority, says so, and
#    answers SERVFAIL for the zone while replicas 1-3 answer NOERROR. The
#    checkpoints are still stable, certified by replicas 1-3 (3 reports), on
#    all four.
. "$(dirname "$0")/lib.sh"

CTL=${1:?usage: digest.sh PATH-OF-BFTDNSCTL}
[ -x "$CTL" ] || skip "no bftdnsctl at $CTL"
n=4 f=1

# items I [MORE]: replica I's extra mod-bftdns items.
items() {
	CLUSTER_EXTRA[$1]="    digest-interval: 2
    control-socket: \"$CLUSTER_DIR/replica-$1/ctl.sock\"${2:+
$2}"
}

# checkpoints I: "BATCH DIGEST" for every checkpoint replica I logged, sorted.
checkpoints() {
	sed -nE 's/.*checkpoint at batch ([0-9]+): zone digest ([0-9a-f]+) .*/\1 \2/p' \
		"$CLUSTER_DIR/replica-$1/knot.log" | sort -n
}

# own_digest I BATCH: the digest replica I computed after BATCH (96 hex digits).
own_digest() {
	sed -nE "s/.*, batch $2: zone digest ([0-9a-f]+) \(serial [0-9]+\), reported.*/\1/p" \
		"$CLUSTER_DIR/replica-$1/knot.log" | head -n 1
}

# same_checkpoints MIN I...: replicas I... logged the same checkpoints, at
# least MIN of them.
same_checkpoints() {
	local min=$1 first i
	shift
	first=$(checkpoints "$1")
	[ "$(wc -l <<<"$first")" -ge "$min" ] && [ -n "$first" ] || return 1
	for i in "$@"; do
		[ "$(checkpoints "$i")" = "$first" ] || return 1
	done
}

# send_updates TAG COUNT TO: COUNT UPDATEs (knsupdate, TCP, TSIG), each to
# the next of replicas 1..TO; each must be answered NOERROR.
send_updates() {
	local tag=$1 count=$2 to=$3 j r rc
	for ((j = 1; j <= count; j++)); do
		r=$(((j - 1) % to + 1))
		rc=$(KNSUPDATE_TIMEOUT=60 knsupdate_rc "${CLUSTER_DNS_PORT[r]}" \
			"update add $tag-$j.example.com. 300 A 192.0.2.$j")
		[ "$rc" = NOERROR ] || fail "UPDATE $tag-$j to replica $r answered $rc"
	done
}

# status_digest I: the digest text of replica I's bftdnsctl status.
status_digest() {
	"$CTL" -c "$CLUSTER_DIR/replica-$1/knot.conf" status 2>/dev/null |
		sed -n 's/^zone: example\.com\. digest=\(.*\) signing=.*/\1/p'
}
status_has() {
	grep -Eq -- "$2" <<<"$(status_digest "$1")"
}
# status_last I REGEXP: replica I's status shows the last checkpoint it
# logged, followed by REGEXP.
status_last() {
	local last
	last=$(checkpoints "$1" | tail -n 1)
	[ -n "$last" ] && status_has "$1" "^batch ${last% *}: ${last#* }$2"
}

# status_checkpoint I: the stable checkpoint of replica I's bftdnsctl status.
status_checkpoint() {
	"$CTL" -c "$CLUSTER_DIR/replica-$1/knot.conf" status 2>/dev/null |
		sed -n 's/^zone: example\.com\. digest=.* checkpoint=\(.*\)$/\1/p'
}
# stable_last I: replica I's status shows its last logged checkpoint as the
# stable one, with 2f + 1 reports, and keeps its certificate in a 0600 file.
stable_last() {
	local last file="$CLUSTER_DIR/replica-$1/bftdns/example.com./checkpoint"
	last=$(checkpoints "$1" | tail -n 1)
	[ -n "$last" ] &&
		[ "$(status_checkpoint "$1")" = "batch ${last% *}: ${last#* } ($((2 * f + 1)) reports)" ] &&
		[ "$(stat -c %a "$file" 2>/dev/null)" = 600 ]
}

# rcode I: the RCODE of replica I's answer to example.com. SOA.
rcode() {
	"$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[$1]}" +time=2 +retry=0 example.com. SOA 2>/dev/null |
		sed -nE 's/.*status: ([A-Z]+).*/\1/p' | head -n 1
}
rcode_is() { [ "$(rcode "$1")" = "$2" ]; }

# one_mismatch_per_checkpoint I: replica I logged one mismatch for each
# checkpoint it logged, and no other.
one_mismatch_per_checkpoint() {
	local log="$CLUSTER_DIR/replica-$1/knot.log"
	[ "$(sed -nE 's/.*DIGEST MISMATCH: .* after batch ([0-9]+),.*/\1/p' "$log" | sort -n)" = \
	  "$(checkpoints "$1" | cut -d' ' -f1)" ]
}

# --- 1. A correct group ----------------------------------------------------
cluster_keys "$TMP/good" "$n" "$f"
for ((i = 1; i <= n; i++)); do items "$i" "    consistency: strict"; done
cluster_start
cluster_wait_all_links 300
cluster_wait_signed 600
send_updates good 8 "$n"
wait_for 600 same_checkpoints 2 1 2 3 4 ||
	fail "the replicas do not log the same checkpoints (2 at least): $(for i in 1 2 3 4; do
		echo "replica $i: $(checkpoints "$i" | tr '\n' ',')"; done)"
cps=$(checkpoints 1)
while read -r batch digest; do
	for ((i = 1; i <= n; i++)); do
		own=$(own_digest "$i" "$batch")
		[ "${own:0:16}" = "$digest" ] ||
			fail "replica $i: own digest after batch $batch is '$own', the checkpoint $digest"
	done
done <<<"$cps"
for ((i = 1; i <= n; i++)); do
	grep -E 'DIGEST MISMATCH|CONSISTENCY' "$CLUSTER_DIR/replica-$i/knot.log" &&
		fail "replica $i logs a mismatch in a correct group (above)"
done
for ((i = 1; i <= n; i++)); do
	wait_for 300 status_last "$i" " \(4 of 4 agree\)$" ||
		fail "replica $i: status digest '$(status_digest "$i")', want its last checkpoint, 4 of 4"
done
last=$(checkpoints 1 | tail -n 1)
for ((i = 1; i <= n; i++)); do
	rcode_is "$i" NOERROR || fail "replica $i (strict, in agreement) answers $(rcode "$i")"
	wait_for 300 stable_last "$i" ||
		fail "replica $i: status checkpoint '$(status_checkpoint "$i")', want its last checkpoint, stable with 3 reports and a 0600 file"
done

# The digest is the zone's RFC 8976 digest: replica 1's zone by AXFR, with a
# ZONEMD record (scheme SIMPLE, SHA-384) made of the digest replica 1 logged
# for that serial, passes ldns-verify-zone, another implementation. An
# UPDATE is answered after its batch's digest is logged; until the batch of
# one is a checkpoint (an even batch), one more is sent to replica 1.
zonemd_ok=
for ((try = 1; try <= 16 && !zonemd_ok; try++)); do
	axfr_sorted "${CLUSTER_DNS_PORT[1]}" "$TMP/zonemd.zone" || fail "no AXFR from replica 1"
	serial=$(awk '$4 == "SOA" { print $7; exit }' "$TMP/zonemd.zone")
	full=$(sed -nE "s/.*: zone digest ([0-9a-f]{96}) \(serial $serial\), reported.*/\1/p" \
		"$CLUSTER_DIR/replica-1/knot.log" | tail -n 1)
	if [ -n "$full" ]; then
		echo "example.com. 3600 IN ZONEMD $serial 1 1 $full" >>"$TMP/zonemd.zone"
		ldns-verify-zone -ZZZ "$TMP/zonemd.zone" >"$TMP/zonemd.out" 2>&1 ||
			{ cat "$TMP/zonemd.out" >&2; fail "ldns-verify-zone rejects the zone with its ZONEMD (serial $serial)"; }
		zonemd_ok=$serial
		continue
	fi
	rc=$(KNSUPDATE_TIMEOUT=60 knsupdate_rc "${CLUSTER_DNS_PORT[1]}" \
		"update add zonemd-$try.example.com. 300 TXT \"$try\"")
	[ "$rc" = NOERROR ] || fail "UPDATE zonemd-$try answered $rc"
done
[ -n "$zonemd_ok" ] || fail "no checkpoint at the serial of replica 1's zone after 16 UPDATEs"
cps=$(checkpoints 1)
last=$(tail -n 1 <<<"$cps")
log "correct group: $(wc -l <<<"$cps") checkpoints, the same on every replica" \
	"(last: batch ${last% *}, ${last#* }); status: $(status_digest 1);" \
	"stable: $(status_checkpoint 1);" \
	"ldns-verify-zone accepts a ZONEMD of the digest at serial $zonemd_ok"
cluster_stop

# --- 2. Replica 4 reports a wrong digest, and is strict ----------------------
cluster_keys "$TMP/bad" "$n" "$f"
for ((i = 1; i < n; i++)); do items "$i"; done
items 4 "    misbehave: [ corrupt-digest ]
    consistency: strict"
cluster_start
cluster_wait_all_links 300
grep -q 'TEST MODE: this replica MISBEHAVES' "$CLUSTER_DIR/replica-4/knot.log" ||
	fail "replica 4 does not announce its misbehaviour"
# Replica 4 may stop serving as early as the first checkpoint (the initial
# signing): only replicas 1-3 are asked for the signed zone.
for ((i = 1; i < n; i++)); do
	wait_for 600 signed_dnskey "${CLUSTER_DNS_PORT[i]}" ||
		fail "replica $i: the zone was not signed (no RRSIG over the DNSKEY)"
done
send_updates bad 8 3
wait_for 600 same_checkpoints 2 1 2 3 4 ||
	fail "the replicas do not log the same checkpoints (2 at least): $(for i in 1 2 3 4; do
		echo "replica $i: $(checkpoints "$i" | tr '\n' ',')"; done)"
cps=$(checkpoints 1)
while read -r batch digest; do
	for ((i = 1; i < n; i++)); do
		own=$(own_digest "$i" "$batch")
		[ "${own:0:16}" = "$digest" ] ||
			fail "replica $i: own digest after batch $batch differs from the checkpoint"
	done
	lie=$(own_digest 4 "$batch")
	lie=${lie:0:16}
	[ -n "$lie" ] && [ "$lie" != "$digest" ] ||
		fail "replica 4 reported '$lie' after batch $batch, not a corrupt digest"
	# The first byte flipped, the rest the same.
	[ "${lie:2}" = "${digest:2}" ] || fail "replica 4's digest differs beyond its first byte"
	for ((i = 1; i < n; i++)); do
		wait_log "$CLUSTER_DIR/replica-$i/knot.log" "DIGEST MISMATCH: replica 4 reports zone digest $lie after batch $batch, this replica has $digest\$" 100 ||
			fail "replica $i logs no mismatch naming replica 4 for batch $batch"
	done
done <<<"$cps"
for ((i = 1; i < n; i++)); do
	grep -E 'DIGEST MISMATCH: replica [123] |CONSISTENCY' "$CLUSTER_DIR/replica-$i/knot.log" &&
		fail "replica $i blames a correct replica or itself (above)"
	wait_for 100 one_mismatch_per_checkpoint "$i" ||
		fail "replica $i: not one mismatch per checkpoint"
done
first=$(head -n 1 <<<"$cps")
wait_log "$CLUSTER_DIR/replica-4/knot.log" "CONSISTENCY: this replica's zone digest after batch ${first% *} is .*, [23] other replicas agree on ${first#* }: .*stops serving the zone" 100 ||
	fail "replica 4 does not log that it is in the minority and stops serving"
wait_for 100 rcode_is 4 SERVFAIL || fail "replica 4 answers $(rcode 4), want SERVFAIL (strict)"
for ((i = 1; i < n; i++)); do
	rcode_is "$i" NOERROR || fail "replica $i answers $(rcode "$i"), want NOERROR"
done
wait_for 300 status_last 1 " \(3 of 4 agree\); [0-9]+ mismatches, last: replica 4 at batch [0-9]+$" ||
	fail "replica 1: status digest '$(status_digest 1)', want its last checkpoint, 3 of 4, mismatches of replica 4"
status_last 4 " \(3 of 4 agree\); [0-9]+ mismatches, last: replica [123] at batch [0-9]+; own digest in the minority at batch [0-9]+, NOT SERVING \(strict\)$" ||
	fail "replica 4: status digest '$(status_digest 4)'"
for ((i = 1; i <= n; i++)); do
	wait_for 300 stable_last "$i" ||
		fail "replica $i: status checkpoint '$(status_checkpoint "$i")', want its last checkpoint, certified by 3"
done
log "replica 4 with a corrupt digest: replicas 1-3 agree on $(wc -l <<<"$cps") checkpoints" \
	"and name replica 4 ($(grep -c 'DIGEST MISMATCH: replica 4' "$CLUSTER_DIR/replica-1/knot.log") times at replica 1); replica 4 answers SERVFAIL (strict)," \
	"1-3 NOERROR; status 1: $(status_digest 1); status 4: $(status_digest 4)"
cluster_stop
log "PASS"
