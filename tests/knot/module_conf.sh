#!/usr/bin/env bash
# mod-bftdns loads into the patched knotd for a zone and says so in the log;
# `knotc conf-check` refuses bad module sections with a sentence that names the
# problem.
. "$(dirname "$0")/lib.sh"

# write_conf DIR PORT MODULE-ITEMS [ZONE-ITEMS] [SECTIONS]: a one-zone
# knot.conf with the module.
write_conf() {
	local dir=$1 port=$2 items=$3 zone_items=${4:-} sections=${5:-}
	mkdir -p "$dir"
	cat >"$dir/example.com.zone" <<-'ZONE'
	$ORIGIN example.com.
	$TTL 3600
	@	SOA	ns1 hostmaster 1 3600 900 604800 300
	@	NS	ns1
	ns1	A	192.0.2.1
	www	A	192.0.2.80
	ZONE
	cat >"$dir/knot.conf" <<-CONF
	server:
	    rundir: "$dir"
	    pidfile: "$dir/knot.pid"
	    listen: 127.0.0.1@$port
	log:
	  - target: "$dir/knot.log"
	    any: info
	database:
	    storage: "$dir"
	module:
	  - id: mod-bftdns
	    file: "$BFTDNS_MODULE"
	mod-bftdns:
	  - id: default
	$items
	$sections
	zone:
	  - domain: example.com.
	    file: "$dir/example.com.zone"
	    module: mod-bftdns/default
	$zone_items
	CONF
}

make_key "$TMP/keys"
share="$TMP/keys/share-1.key"
good_items="    replica-id: 1
    replicas: 1
    faults: 0
    key-share: \"$share\""

# 1. A good section: conf-check passes, knotd loads the module for the zone.
port=$(free_port)
write_conf "$TMP/good" "$port" "$good_items"
out=$("$KNOTC" -c "$TMP/good/knot.conf" conf-check 2>&1) ||
	fail "conf-check refused a good configuration: $out"
knot_start "$TMP/good"
wait_log "$TMP/good/knot.log" 'example\.com\..*mod-bftdns.*active, replica 1 of 1' ||
	fail "no 'active, replica 1 of 1' line in the log"
grep -Eq 'active, replica 1 of 1 \(f = 0\), signing protocol optte, key tag [0-9]+ \(algorithm 8, 1024 bits\)' "$TMP/good/knot.log" ||
	fail "the active line does not name f, the default signing protocol and the key"
answer=$("$KDIG" @127.0.0.1 -p "$port" +short www.example.com A) ||
	fail "kdig failed against the running knotd"
[ "$answer" = "192.0.2.80" ] || fail "query answered '$answer', want 192.0.2.80"
knot_stop "$KNOT_PID"
log "module loads and the zone answers"

# 1b. n = 1 with ordered-reads: each query waits for its READ to pass the
#     local batch (order.c) and is counted; the answer is the same.
port=$(free_port)
write_conf "$TMP/ordered" "$port" "$good_items
    ordered-reads: on"
knot_start "$TMP/ordered"
wait_log "$TMP/ordered/knot.log" 'active, replica 1 of 1 .*, ordered reads' ||
	fail "no 'ordered reads' in the active line"
for ((k = 0; k < 3; k++)); do
	answer=$("$KDIG" @127.0.0.1 -p "$port" +short +time=5 +retry=0 www.example.com A) ||
		fail "kdig failed against the knotd with ordered reads"
	[ "$answer" = "192.0.2.80" ] || fail "ordered read answered '$answer', want 192.0.2.80"
done
ordered=$("$KNOTC" -c "$TMP/ordered/knot.conf" zone-stats example.com. mod-bftdns.reads-ordered |
	awk -F' = ' 'NR == 1 { print $2 }')
[ "$ordered" = 3 ] || fail "n = 1: reads-ordered is '$ordered' after 3 queries, want 3"
knot_stop "$KNOT_PID"
log "n = 1 with ordered-reads: 3 reads answered after their batch, counted"

# 2. Bad sections: conf-check exits non-zero and prints the reason.
# check_bad NAME EXPECTED-MESSAGE ITEMS
check_bad() {
	local name=$1 expected=$2 items=$3 out
	write_conf "$TMP/$name" "$port" "$items"
	if out=$("$KNOTC" -c "$TMP/$name/knot.conf" conf-check 2>&1); then
		fail "$name: conf-check accepted a bad configuration"
	fi
	grep -qF -- "$expected" <<<"$out" ||
		fail "$name: conf-check said '$out', want a line with '$expected'"
	log "$name refused: $(grep -F -- "$expected" <<<"$out" | head -n 1)"
}

check_bad few-replicas "replicas must be at least 3 * faults + 1" \
"    replica-id: 1
    replicas: 3
    faults: 1
    key-share: \"$share\""

check_bad id-too-big "replica-id must be between 1 and replicas" \
"    replica-id: 5
    replicas: 4
    faults: 1
    key-share: \"$share\""

check_bad no-key-share "key-share is required" \
"    replica-id: 1
    replicas: 1
    faults: 0"

check_bad bad-protocol "invalid" \
"    replica-id: 1
    replicas: 1
    faults: 0
    signing-protocol: fastest
    key-share: \"$share\""

check_bad peers-for-one "peer must list every other replica exactly once" \
"    replica-id: 1
    replicas: 1
    faults: 0
    peer: \"2 127.0.0.1@5400\"
    key-share: \"$share\""

check_bad peer-bad-address "peer address must be an IPv4 or IPv6 address" \
"    replica-id: 1
    replicas: 4
    faults: 1
    peer: [ \"2 192.0.2.2@5400\", \"3 not-an-address@5400\", \"4 192.0.2.4@5400\" ]
    key-share: \"$share\""

check_bad peer-twice "peer lists the same replica twice" \
"    replica-id: 1
    replicas: 4
    faults: 1
    peer: [ \"2 192.0.2.2@5400\", \"2 192.0.2.3@5400\", \"4 192.0.2.4@5400\" ]
    key-share: \"$share\""

check_bad control-relative "control-socket must be an absolute path" \
"    replica-id: 1
    replicas: 1
    faults: 0
    control-socket: bftdns.sock
    key-share: \"$share\""

check_bad ordered-reads-replay "ordered-reads is not possible with replay" \
"    replica-id: 1
    replicas: 1
    faults: 0
    replay: \"$TMP/none.log\"
    ordered-reads: on
    key-share: \"$share\""

check_bad read-timeout-zero "value is out of range" \
"    replica-id: 1
    replicas: 1
    faults: 0
    ordered-read-timeout: 0
    key-share: \"$share\""

# check_bad_zone NAME EXPECTED-MESSAGE ZONE-ITEMS [SECTIONS]: a good module
# section on a zone whose settings would let Knot change it on its own.
check_bad_zone() {
	local name=$1 expected=$2 zone_items=$3 sections=${4:-} out
	write_conf "$TMP/$name" "$port" "$good_items" "$zone_items" "$sections"
	if out=$("$KNOTC" -c "$TMP/$name/knot.conf" conf-check 2>&1); then
		fail "$name: conf-check accepted a bad configuration"
	fi
	grep -qF -- "$expected" <<<"$out" ||
		fail "$name: conf-check said '$out', want a line with '$expected'"
	log "$name refused: $(grep -F -- "$expected" <<<"$out" | head -n 1)"
}

check_bad_zone zone-signing "'dnssec-signing' must be off" \
"    dnssec-signing: on"
check_bad_zone zone-unixtime "'serial-policy' must be 'increment'" \
"    serial-policy: unixtime"
check_bad_zone zone-dateserial "'serial-policy' must be 'increment'" \
"    serial-policy: dateserial"
check_bad_zone zone-salt "'nsec3-salt-length' must be 0" \
"    dnssec-policy: salted" \
"policy:
  - id: salted
    nsec3: on
    nsec3-salt-length: 8"
write_conf "$TMP/zone-nsec3" "$port" "$good_items" "    dnssec-policy: unsalted" \
"policy:
  - id: unsalted
    nsec3: on
    nsec3-salt-length: 0"
out=$("$KNOTC" -c "$TMP/zone-nsec3/knot.conf" conf-check 2>&1) ||
	fail "conf-check refused NSEC3 without salt: $out"

# 3. A key share that does not belong: knotd logs why and the module stays off.
chmod 0644 "$share"
port=$(free_port)
write_conf "$TMP/open-share" "$port" "$good_items" "    acl: anyone-updates" \
"acl:
  - id: anyone-updates
    address: 127.0.0.1
    action: update"
knot_start "$TMP/open-share"
wait_log "$TMP/open-share/knot.log" "key share '.*' unusable" ||
	fail "no log line refusing a key share readable by others"
log "open share refused: $(grep -o "key share .*unusable.*" "$TMP/open-share/knot.log" | head -n 1)"
# The zone is served, but Knot does not apply its UPDATEs in the module's place.
rc=$(nsupdate_rc "$port" "" "update add x.example.com. 300 A 192.0.2.9")
[ "$rc" = REFUSED ] || fail "an UPDATE without the module: got $rc, want REFUSED"
wait_log "$TMP/open-share/knot.log" 'DDNS, refusing 1 updates, changes are ordered by module mod-bftdns, which is not running' ||
	fail "no log line for the refused UPDATE"
log "UPDATE while the module is not running: $rc"
knot_stop "$KNOT_PID"
chmod 0600 "$share"

log "PASS"
