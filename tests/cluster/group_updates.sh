#!/usr/bin/env bash
# group_updates.sh N F [PROTOCOL] [ID:MODE ...]
#
# N knotd replicas with mod-bftdns on 127.0.0.1 (f = F, signing-protocol
# PROTOCOL, replica ID misbehaving in MODE for every ID:MODE; ID:MODE+MODE
# for several modes at once). When the links are up and every replica serves
# the signed zone, N concurrent clients send UPDATEs (TSIG), adds and
# deletes, each through nsupdate (UDP) and Knot's knsupdate (TCP) in turn and
# each to a different replica in turn; every one must be answered NOERROR.
# Then every correct replica's AXFR is the same (sorted text), holds exactly
# what the clients made, ldns-verify-zone and dnssec-verify accept it, and
# delv validates a changed name and a deleted one on every correct replica
# with the zone's DNSKEY as trust anchor.
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || fail "usage: group_updates.sh N F [PROTOCOL] [ID:MODE ...]"
n=$1 f=$2
CLUSTER_PROTOCOL=${3:-}
shift $(($# >= 3 ? 3 : 2))
for tool in nsupdate delv ldns-verify-zone dnssec-verify dig; do
	command -v "$tool" >/dev/null || skip "$tool is missing (./run.sh deps installs it)"
done

cluster_keys "$TMP" "$n" "$f"
declare -A bad=()
for spec in "$@"; do
	id=${spec%%:*} modes=${spec#*:}
	[[ "$id" =~ ^[0-9]+$ ]] && [ "$id" -ge 1 ] && [ "$id" -le "$n" ] || fail "bad ID:MODE '$spec'"
	IFS=+ read -r -a list <<<"$modes"
	cluster_misbehave "$id" "${list[@]}"
	bad[$id]=$modes
done
[ ${#bad[@]} -le "$f" ] || fail "${#bad[@]} misbehaving replicas, more than f = $f"
what="n = $n, f = $f, protocol ${CLUSTER_PROTOCOL:-default}"
[ ${#bad[@]} -eq 0 ] || what+=", misbehaving: $*"

cluster_start
cluster_wait_all_links 300
for id in "${!bad[@]}"; do
	grep -q 'TEST MODE: this replica MISBEHAVES' "$TMP/replica-$id/knot.log" ||
		fail "replica $id does not announce its misbehaviour"
done
cluster_wait_signed 600
log "$what: links up, every replica serves the signed zone"

# The correct replicas: the ones that answer the clients and are compared.
good=()
for ((i = 1; i <= n; i++)); do
	[ -n "${bad[$i]:-}" ] || good+=("$i")
done

# client C: four UPDATEs, each to the next correct replica, nsupdate and
# knsupdate in turn; writes "C J TOOL REPLICA RCODE" lines.
client() {
	local c=$1 j r tool script rc
	local scripts=(
		"update add c$c-a.example.com. 300 A 192.0.2.$c
update add c$c-a.example.com. 300 TXT \"client $c\""
		"update add c$c-b.example.com. 300 A 198.51.100.$c
update add c$c-b.example.com. 300 AAAA 2001:db8::$c"
		"update delete c$c-a.example.com."
		"update add c$c-c.example.com. 300 A 203.0.113.$c
update delete c$c-b.example.com. AAAA"
	)
	for ((j = 0; j < ${#scripts[@]}; j++)); do
		r=${good[$(((c + j) % ${#good[@]}))]}
		script=${scripts[j]}
		if (((c + j) % 2 == 0)); then
			tool=nsupdate
			rc=$(NSUPDATE_ARGS="-t 60 -u 60 -r 0" nsupdate_rc "${CLUSTER_DNS_PORT[r]}" \
				"$TMP/replica-$r/update.key" "$script")
		else
			tool=knsupdate
			rc=$(KNSUPDATE_TIMEOUT=60 knsupdate_rc "${CLUSTER_DNS_PORT[r]}" "$script")
		fi
		echo "$c $j $tool $r $rc"
	done
}

clients=$n
for ((c = 1; c <= clients; c++)); do
	client "$c" >"$TMP/client-$c.out" 2>&1 &
	CLUSTER_BG+=($!)
done
for pid in "${CLUSTER_BG[@]}"; do
	wait "$pid" || true
done
CLUSTER_BG=()
cat "$TMP"/client-*.out >"$TMP/clients.out"
grep -v ' NOERROR$' "$TMP/clients.out" && fail "UPDATEs not answered NOERROR (above)"
[ "$(wc -l <"$TMP/clients.out")" -eq $((clients * 4)) ] || fail "lost client results: $(cat "$TMP/clients.out")"
log "$clients concurrent clients: $((clients * 4)) UPDATEs answered NOERROR" \
	"($(grep -c ' nsupdate ' "$TMP/clients.out") nsupdate, $(grep -c ' knsupdate ' "$TMP/clients.out") knsupdate)"

# Every correct replica ends with the same zone, which holds what the
# clients made. (The misbehaving ones are not judged; what they serve and
# what the others logged about them is reported.)
cluster_wait_same_zone "$TMP/axfr" 600 "${good[@]}"
zone=$TMP/axfr/zone
serial=$(awk '$4 == "SOA" { print $7; exit }' "$zone")
[ "$serial" -gt 1 ] || fail "the serial did not move ($serial)"
has() { grep -Eq "^$1\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+$2[[:space:]]+$3\$" "$zone"; }
for ((c = 1; c <= clients; c++)); do
	grep -q "^c$c-a\.example\.com\." "$zone" && fail "c$c-a was deleted but is in the zone"
	has "c$c-b.example.com" A "198.51.100.$c" || fail "c$c-b A is missing"
	grep -Eq "^c$c-b\.example\.com\.[[:space:]].*AAAA" "$zone" && fail "c$c-b AAAA was deleted but is in the zone"
	has "c$c-c.example.com" A "203.0.113.$c" || fail "c$c-c A is missing"
done
log "replicas ${good[*]} serve the same zone (AXFR, $(wc -l <"$zone") lines, serial $serial) with every change"
for id in "${!bad[@]}"; do
	same=differs
	axfr_sorted "${CLUSTER_DNS_PORT[id]}" "$TMP/axfr/axfr-$id" &&
		cmp -s "$TMP/axfr/axfr-$id" "$zone" && same="is the same"
	seen=0
	for i in "${good[@]}"; do
		seen=$((seen + $(grep -c "'mod-bftdns/default', replica $id: " "$TMP/replica-$i/knot.log" || true)))
	done
	log "note: replica $id (${bad[$id]}): its zone $same; the correct replicas logged $seen faults of it"
	cluster_stop_one "$id"
done

cp "$TMP/keys/example.com.dnskey" "$TMP/dnskey"
zone_verify "$zone" "$TMP/dnskey"
log "ldns-verify-zone and dnssec-verify accept it"

trust_anchor "$TMP/dnskey" "$TMP/anchor"
for i in "${good[@]}"; do
	delv_validates "${CLUSTER_DNS_PORT[i]}" "$TMP/anchor" c1-c.example.com. A ||
		fail "delv does not validate c1-c.example.com. A from replica $i"
	delv_validates "${CLUSTER_DNS_PORT[i]}" "$TMP/anchor" c1-a.example.com. A nxdomain ||
		fail "delv does not validate the denial of c1-a.example.com. from replica $i"
done
log "delv validates an added and a deleted name on replicas ${good[*]}"

cluster_stop
log "PASS"
