#!/usr/bin/env bash
# journal_size.sh PATH-OF-BFTDNSCTL
#
# n = 4, f = 1, a zone of 400 names whose first signing pass (about 180 KB)
# does not fit journal-max-usage 40K (Knot's least, conf/schema.c). Every
# replica logs the error (zone, estimate, the setting to raise) at its start
# proposal and proposes nothing: no batch is ordered, bftdnsctl status shows
# the warning. With journal-max-usage raised to what they suggest and knotc
# reload on every replica, the group signs the zone and serves it the same.
. "$(dirname "$0")/lib.sh"

CTL=${1:?usage: journal_size.sh PATH-OF-BFTDNSCTL}
[ -x "$CTL" ] || skip "no bftdnsctl at $CTL"
n=4 f=1

cluster_keys "$TMP" "$n" "$f"
for ((i = 1; i <= n; i++)); do
	CLUSTER_EXTRA[i]="    control-socket: \"$TMP/replica-$i/ctl.sock\""
	cluster_conf "$i"
	for j in $(seq 1 400); do
		echo "host$j A 192.0.2.$((j % 250 + 1))"
	done >>"$TMP/replica-$i/example.com.zone"
	# The zone section is the last one: its items go at the end.
	echo "    journal-max-usage: 40K" >>"$TMP/replica-$i/knot.conf"
done
for ((i = 1; i <= n; i++)); do
	cluster_start_one "$i"
done
cluster_wait_all_links 300

# 1. Every replica: the error, once; the status warning; no batch.
for ((i = 1; i <= n; i++)); do
	logf="$TMP/replica-$i/knot.log"
	wait_log "$logf" "\[example\.com\.\] .*signing pass not proposed: .*journal-max-usage \(40960 B\).*set 'journal-max-usage: [0-9]+M'" ||
		fail "replica $i: no error about journal-max-usage"
	out=$("$CTL" -c "$TMP/replica-$i/knot.conf" status 2>&1) || fail "replica $i: bftdnsctl status: $out"
	grep -q 'WARNING: signing pass not proposed' <<<"$out" ||
		fail "replica $i: status shows no warning: $out"
done
suggested=$(sed -n "s/.*set 'journal-max-usage: \([0-9]*\)M'.*/\1/p" "$TMP/replica-1/knot.log" | head -n 1)
log "every replica: $(grep -m 1 -o 'signing pass not proposed.*' "$TMP/replica-1/knot.log")"
# The links are up and every replica has decided: a proposal would have
# been submitted by now. Nothing is ordered, applied or refused.
for ((i = 1; i <= n; i++)); do
	logf="$TMP/replica-$i/knot.log"
	grep -Eq 'ordered change|successfully signed|not enough space|updates not applied' "$logf" &&
		fail "replica $i: a change was attempted: $(grep -E 'ordered change|space|not applied' "$logf")"
	[ "$(grep -c 'signing pass not proposed' "$logf")" = 1 ] || fail "replica $i: the error repeats"
	out=$("$CTL" -c "$TMP/replica-$i/knot.conf" status 2>&1)
	[ "$(sed -n 's/^last-batch: //p' <<<"$out")" = none ] || fail "replica $i: a batch was ordered: $out"
done

# 2. Raised as suggested, knotc reload everywhere: the group signs the zone.
for ((i = 1; i <= n; i++)); do
	conf="$TMP/replica-$i/knot.conf"
	sed -i "s/journal-max-usage: 40K/journal-max-usage: ${suggested}M/" "$conf"
	"$KNOTC" -c "$conf" reload >/dev/null || fail "replica $i: knotc reload failed"
done
cluster_wait_signed 600
cluster_wait_same_zone "$TMP/z" 300
out=$(ldns-verify-zone "$TMP/z/zone" 2>&1) || fail "ldns-verify-zone: $out"
log "journal-max-usage: ${suggested}M and knotc reload: the group signed the zone, $(tail -n 1 <<<"$out")"

log "PASS"
