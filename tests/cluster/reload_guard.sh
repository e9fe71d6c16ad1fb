#!/usr/bin/env bash
# reload_guard.sh [POLICY]
#
# An edited zone file cannot make one replica diverge (knot-patch/0010).
#
# Four replicas (f = 1), TSIG-signed UPDATEs, every replica with
# zonefile-load POLICY (whole, Knot's default; difference; or
# difference-no-serial, with journal-content all). Replica 2's zone file is
# edited (a record added, the SOA serial raised), then:
#  1. knotc zone-reload of the zone, of all zones, and with -f: refused, with
#     the log line saying why; the record is served by no replica.
#  2. knotc reload (the zone file's mtime changed): the zone file is not
#     loaded, replica 2 logs that it differs and is ignored, no replica
#     serves the record, and the zone file is rewritten from the zone.
#  3. The zone file edited again and replica 2's knotd restarted: it loads
#     the zone from its journal, logs that the file differs, serves no
#     added record, and its sorted AXFR (serial included) equals the others'.
#  4. UPDATEs afterwards (one to replica 2) are applied by all four.
# No replica logs that it stops applying (its zone no longer follows the
# ordered changes). And conf-check refuses reverse-generate and catalog-role
# generate for a replicated zone, with a sentence.
. "$(dirname "$0")/lib.sh"

policy=${1:-whole}
case "$policy" in
	whole) zone_items= ;;
	difference) zone_items='zonefile-load: difference' ;;
	difference-no-serial) zone_items='zonefile-load: difference-no-serial\n    journal-content: all' ;;
	*) fail "unknown zonefile-load policy '$policy'" ;;
esac

cluster_keys "$TMP" 4 1
r2="$TMP/replica-2"

# update K PORT: UPDATE number K (adds name-K) to the replica on PORT.
update() {
	local rc
	rc=$(nsupdate_rc "$2" "$TMP/replica-1/update.key" \
		"update add name-$1.example.com. 300 A 192.0.2.$1")
	[ "$rc" = NOERROR ] || fail "UPDATE $1 to port $2: $rc"
}

# served_by_none NAME: no running replica answers NAME's A record.
served_by_none() {
	local i out
	for i in $(cluster_up); do
		out=$("$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[i]}" +short "$1" A)
		[ -z "$out" ] || fail "replica $i serves $1: $out"
	done
}

# served_by_all NAME ADDR: every running replica answers NAME A ADDR.
served_by_all() {
	local i
	for i in $(cluster_up); do
		[ "$("$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[i]}" +short "$1" A)" = "$2" ] || return 1
	done
}

# serials_are S: every running replica serves SOA serial S.
serials_are() {
	local i s
	for i in $(cluster_up); do
		s=$(soa_serial "${CLUSTER_DNS_PORT[i]}")
		[ "$s" = "$1" ] || fail "replica $i: serial $s, want $1"
	done
}

# edit_zonefile NAME: adds NAME A 192.0.2.66 to replica 2's zone file (as
# Knot wrote it) and raises its SOA serial by 100, as an operator would.
edit_zonefile() {
	local f="$r2/example.com.zone"
	grep -q "SOA" "$f" || fail "no zone file at $f"
	# Knot writes "OWNER TTL TYPE RDATA": the SOA serial is field 6.
	awk -v name="$1" '$3 == "SOA" { $6 += 100 } { print }
		END { print name " 300 A 192.0.2.66" }' "$f" >"$f.new"
	mv "$f.new" "$f"
	grep -q "^$1 300 A 192.0.2.66" "$f" || fail "zone file not edited"
	"$KNOT_PREFIX/bin/kzonecheck" -d off -o example.com. "$f" >/dev/null ||
		fail "the edited zone file does not parse"
}

# ignored_lines: how often replica 2 logged an ignored, differing zone file.
ignored_lines() {
	grep -c 'zone file .* differs from the zone (serial [0-9]*) and is ignored, changes are ordered by module mod-bftdns' \
		"$r2/knot.log" || true
}
ignored_more() {
	[ "$(ignored_lines)" -gt "$1" ]
}

# loaded_lines: how often replica 2's Knot logged a load of the zone.
loaded_lines() {
	grep -c '\[example\.com\.\] loaded, serial' "$r2/knot.log" || true
}
loaded_more() {
	[ "$(loaded_lines)" -gt "$1" ]
}

# no_stop: no replica stopped applying ordered changes.
no_stop() {
	local i
	for i in 1 2 3 4; do
		! grep -E 'stops applying' "$TMP/replica-$i/knot.log" || fail "replica $i: see above"
	done
}

# --- conf-check: settings that cannot be made safe --------------------------
for i in 1 2 3 4; do
	cluster_conf "$i"
	if [ -n "$zone_items" ]; then
		sed -i "s|^    module: mod-bftdns/default\$|&\n    $zone_items|" "$TMP/replica-$i/knot.conf"
		grep -q "zonefile-load: $policy\$" "$TMP/replica-$i/knot.conf" || fail "no zonefile-load in the conf"
	fi
done
# refused_conf ITEM-LINE SENTENCE: conf-check refuses the zone with ITEM-LINE.
refused_conf() {
	sed "s|^    module: mod-bftdns/default\$|&\n    $1|" "$TMP/replica-1/knot.conf" >"$TMP/bad.conf"
	grep -qF "    $1" "$TMP/bad.conf" || fail "test conf not written"
	"$KNOTC" -c "$TMP/bad.conf" conf-check >"$TMP/bad.out" 2>&1 &&
		fail "conf-check accepted '$1' for a replicated zone"
	grep -qF "$2" "$TMP/bad.out" || fail "conf-check did not say why: $(cat "$TMP/bad.out")"
	log "conf-check refuses '$1': $(grep -F "$2" "$TMP/bad.out" | head -n 1)"
}
refused_conf 'reverse-generate: example.net.' "'reverse-generate' is not possible"
refused_conf 'catalog-role: generate' "'catalog-role: generate' is not possible"

# --- A group with one UPDATE applied ----------------------------------------
for i in 1 2 3 4; do
	cluster_start_one "$i"
done
cluster_wait_all_links 300
cluster_wait_signed 600
update 1 "${CLUSTER_DNS_PORT[1]}"
wait_for 300 served_by_all name-1.example.com. 192.0.2.1 || fail "UPDATE 1 not applied by all"
cluster_wait_same_zone "$TMP/start"
s0=$(soa_serial "${CLUSTER_DNS_PORT[1]}")
log "4 replicas up (zonefile-load: $policy), signed, one UPDATE applied: serial $s0"

# --- 1. knotc zone-reload refused --------------------------------------------
edit_zonefile rogue.example.com.
for args in "zone-reload example.com." "zone-reload" "-f zone-reload example.com."; do
	before=$(grep -c 'zone reload refused' "$r2/knot.log" || true)
	# shellcheck disable=SC2086 # the arguments are words
	if out=$("$KNOTC" -c "$r2/knot.conf" $args 2>&1); then
		fail "knotc $args was accepted on a replicated zone: $out"
	fi
	wait_for 100 eval '[ "$(grep -c "zone reload refused, changes are ordered by module mod-bftdns, the zone file is not loaded (send changes as UPDATEs, e.g. nsupdate" "$r2/knot.log")" -gt "$before" ]' ||
		fail "no log line for the refused knotc $args"
	log "knotc $args refused: $out"
done
served_by_none rogue.example.com.
serials_are "$s0"
log "the edited zone file's record is served by no replica, serial $s0 on all"

# --- 2. knotc reload: the zone file is compared, not loaded -----------------
n_ignored=$(ignored_lines)
n_loaded=$(loaded_lines)
"$KNOTC" -c "$r2/knot.conf" reload >/dev/null || fail "knotc reload failed"
wait_for 300 loaded_more "$n_loaded" || fail "replica 2 did not load the zone again"
served_by_none rogue.example.com.
serials_are "$s0"
wait_for 100 ignored_more "$n_ignored" || fail "replica 2 did not log the ignored zone file"
log "knotc reload: $(grep -o 'zone file .* and is ignored' "$r2/knot.log" | tail -n 1)"
wait_for 300 eval '! grep -q rogue "$r2/example.com.zone"' ||
	fail "the zone file was not rewritten from the zone"
log "the record is served by no replica, serial $s0, the zone file rewritten from the zone"

# --- 3. knotd restarted with an edited zone file ----------------------------
edit_zonefile rogue2.example.com.
cluster_stop_one 2
n_ignored=$(ignored_lines)
n_links=$(grep -c 'links up to all 3 peers' "$r2/knot.log" || true)
cluster_start_one 2
wait_for 300 eval '[ "$(grep -c "links up to all 3 peers" "$r2/knot.log")" -gt "$n_links" ]' ||
	fail "replica 2: links not all up after the restart"
served_by_none rogue.example.com.
served_by_none rogue2.example.com.
cluster_wait_same_zone "$TMP/restart"
serials_are "$s0"
grep -q 'zone loaded from journal' "$r2/knot.log" || fail "replica 2 did not load its zone from the journal"
wait_for 100 ignored_more "$n_ignored" || fail "replica 2 did not log the ignored zone file at start"
log "restart: $(grep -o 'zone file .* and is ignored' "$r2/knot.log" | tail -n 1)"
log "replica 2 restarted: same sorted AXFR as the others, serial $s0, no edited record"

# --- 4. UPDATEs still work everywhere ---------------------------------------
update 2 "${CLUSTER_DNS_PORT[2]}"
update 3 "${CLUSTER_DNS_PORT[3]}"
wait_for 300 served_by_all name-2.example.com. 192.0.2.2 || fail "UPDATE 2 not applied by all"
wait_for 300 served_by_all name-3.example.com. 192.0.2.3 || fail "UPDATE 3 not applied by all"
cluster_wait_same_zone "$TMP/after"
serials_are $((s0 + 2))
served_by_none rogue.example.com.
no_stop
log "2 UPDATEs after it applied by all four: serial $((s0 + 2))"
cluster_stop
log "PASS"
