#!/usr/bin/env bash
# With replicas > 1 only TSIG-signed UPDATEs are taken (module/intake.c,
# module/authz.c): the replicas that apply an UPDATE cannot check the client
# address its origin reports, only a TSIG they verify themselves.
#
# Four replicas whose zone ACL also lets 127.0.0.1 update without a key (a
# configuration that is fine for a single server): an unsigned UPDATE is
# refused at intake with REFUSED and a log line saying why, and changes
# nothing anywhere; a signed one sent to another replica is applied by all.
. "$(dirname "$0")/lib.sh"

cluster_keys "$TMP" 4 1

# authz_conf I: replica I with an address-only update rule beside the key's.
authz_conf() {
	local i=$1 dir="$TMP/replica-$1"
	mkdir -p "$dir"
	write_zone "$dir/example.com.zone"
	{
		knot_conf_head "$dir" "127.0.0.1@${CLUSTER_DNS_PORT[i]}"
		cat <<-CONF
		acl:
		  - id: update
		    key: $TSIG_NAME
		    action: update
		  - id: local
		    address: 127.0.0.1
		    action: [ update, transfer ]
		module:
		  - id: mod-bftdns
		    file: "$BFTDNS_MODULE"
		CONF
		cluster_section "$i"
		cat <<-CONF
		zone:
		  - domain: example.com.
		    file: "$dir/example.com.zone"
		    acl: [ update, local ]
		    module: mod-bftdns/default
		CONF
	} >"$dir/knot.conf"
	cat >"$dir/update.key" <<-KEY
	key "$TSIG_NAME" {
	    algorithm hmac-sha256;
	    secret "$TSIG_SECRET";
	};
	KEY
}

for i in 1 2 3 4; do
	authz_conf "$i"
	"$KNOTC" -c "$TMP/replica-$i/knot.conf" conf-check >"$TMP/conf-check-$i.out" 2>&1 ||
		fail "conf-check of replica $i: $(cat "$TMP/conf-check-$i.out")"
done
for i in 1 2 3 4; do
	cluster_start_one "$i"
done
for i in 1 2 3 4; do
	cluster_wait_links "$i" 300 || fail "replica $i: links not all up"
done

# Unsigned, allowed by the address rule: refused at intake all the same.
rc=$(nsupdate_rc "${CLUSTER_DNS_PORT[2]}" "" "update add unsigned.example.com. 300 A 192.0.2.66")
[ "$rc" = REFUSED ] || fail "an unsigned UPDATE to replica 2 was answered '$rc', want REFUSED"
grep -q 'UPDATE without TSIG refused, replicas > 1 take only TSIG-signed UPDATEs' \
	"$TMP/replica-2/knot.log" || fail "replica 2 did not log why it refused the unsigned UPDATE"
log "unsigned UPDATE to replica 2: REFUSED, logged"

# Signed, to replica 4: ordered, authorized and applied by every replica.
rc=$(nsupdate_rc "${CLUSTER_DNS_PORT[4]}" "$TMP/replica-4/update.key" \
	"update add signed.example.com. 300 A 192.0.2.67")
[ "$rc" = NOERROR ] || fail "a signed UPDATE to replica 4 was answered '$rc', want NOERROR"
for i in 1 2 3 4; do
	wait_for 100 bash -c "[ -n \"\$('$KDIG' @127.0.0.1 -p ${CLUSTER_DNS_PORT[i]} +short signed.example.com. A)\" ]" ||
		fail "replica $i: signed.example.com. A is missing"
done
serial=$(soa_serial "${CLUSTER_DNS_PORT[1]}")
for i in 1 2 3 4; do
	[ -z "$("$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[i]}" +short unsigned.example.com. A)" ] ||
		fail "replica $i has the unsigned UPDATE's name"
	s=$(soa_serial "${CLUSTER_DNS_PORT[i]}")
	[ "$s" = "$serial" ] || fail "replica $i has serial $s, replica 1 $serial"
	grep -q 'refused at batch time' "$TMP/replica-$i/knot.log" &&
		fail "replica $i refused an ordered UPDATE: $(grep 'refused at batch time' "$TMP/replica-$i/knot.log")"
done
log "signed UPDATE to replica 4: applied by all 4 (serial $serial), the unsigned one nowhere"
cluster_stop
log "PASS"
