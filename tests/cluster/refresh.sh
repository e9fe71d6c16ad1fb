#!/usr/bin/env bash
# refresh.sh: RRSIG refresh by ordered signing passes keeps a zone with
# short-lived signatures valid.
#
# n = 4, f = 1. The zone has a dnssec-policy with rrsig-lifetime 80 s,
# rrsig-refresh 70 s and rrsig-pre-refresh 0, and every replica proposes a
# signing pass every refresh-interval: 60 s, the smallest the module accepts
# (module/conf.c). Knot itself accepts lifetimes down to 1 s; the module's
# minimum interval is what makes the test last about 2.5 minutes. A pass at
# batch time T re-signs the RRSIGs that expire before T + 70 s, with
# inception T - 90 min and expiration T + 80 s: every pass re-signs all of
# them, 20 s before they would expire.
#
# The signatures of the initial signing must be ones that WOULD expire
# during the test: ldns-verify-zone refuses that zone at a time after their
# expiration (-t). Then, every few seconds until the real clock has passed
# the expiration of the signatures made by the first refresh as well (so two
# refreshes were needed), and bounded: every replica serves the same AXFR,
# ldns-verify-zone accepts it (against the real clock), delv validates
# www.example.com. A on every replica, and the earliest RRSIG expiration
# never goes back; it must have moved forward at least twice.
. "$(dirname "$0")/lib.sh"

for tool in delv ldns-verify-zone dig; do
	command -v "$tool" >/dev/null || skip "$tool is missing (./run.sh deps installs it)"
done

n=4 f=1
lifetime=80 refresh=70 interval=60
t_start=$(date +%s)

cluster_keys "$TMP" "$n" "$f"
for ((i = 1; i <= n; i++)); do
	CLUSTER_EXTRA[i]="    refresh-interval: $interval"
	cluster_conf "$i"
	conf="$TMP/replica-$i/knot.conf"
	# The policy before the zone section (a reference must follow what it
	# names), the zone's dnssec-policy at its end (the zone is last).
	awk -v l="$lifetime" -v r="$refresh" '
		/^zone:$/ { print "policy:\n  - id: short\n    rrsig-lifetime: " l \
		                  "\n    rrsig-refresh: " r "\n    rrsig-pre-refresh: 0" }
		{ print }' "$conf" >"$conf.new"
	echo "    dnssec-policy: short" >>"$conf.new"
	mv "$conf.new" "$conf"
	out=$("$KNOTC" -c "$conf" conf-check 2>&1) || fail "knotc conf-check refuses replica $i's conf: $out"
done
for ((i = 1; i <= n; i++)); do
	cluster_start_one "$i"
done
cluster_wait_all_links 300
cluster_wait_signed 600
cp "$TMP/keys/example.com.dnskey" "$TMP/dnskey"
trust_anchor "$TMP/dnskey" "$TMP/anchor"

# epoch YYYYMMDDHHMMSS: seconds since the epoch (UTC).
epoch() {
	local t=$1
	date -u -d "${t:0:4}-${t:4:2}-${t:6:2} ${t:8:2}:${t:10:2}:${t:12:2}" +%s
}

# rrsig_times FILE: "EXPIRATION INCEPTION" (epoch seconds) of every RRSIG.
rrsig_times() {
	local e i
	awk '$4 == "RRSIG" { print $9, $10 }' "$1" | sort -u | while read -r e i; do
		echo "$(epoch "$e") $(epoch "$i")"
	done
}

# min_exp FILE: the earliest RRSIG expiration in FILE.
min_exp() {
	rrsig_times "$1" | sort -n | head -n 1 | cut -d' ' -f1
}

cluster_wait_same_zone "$TMP/z0" 300
zone0=$TMP/z0/zone
[ "$(grep -c '[[:space:]]RRSIG[[:space:]]' "$zone0")" -gt 0 ] || fail "no RRSIG in the zone"
# The policy is the zone's: every RRSIG is valid for 90 min + the lifetime.
while read -r e i; do
	[ $((e - i)) -eq $((5400 + lifetime)) ] ||
		fail "an RRSIG valid from $i to $e ($((e - i)) s), not 90 min + $lifetime s: the policy is not in effect"
done < <(rrsig_times "$zone0")
exp0=$(min_exp "$zone0")
now=$(date +%s)
[ "$exp0" -gt "$now" ] || fail "the first signatures expire at $exp0, before now ($now)"
out=$(ldns-verify-zone -k "$TMP/dnskey" "$zone0" 2>&1) ||
	{ echo "$out" >&2; fail "ldns-verify-zone rejects the initially signed zone"; }
# Without a refresh this zone stops being valid: ldns-verify-zone refuses
# it at a time 5 s after its earliest expiration.
if out=$(ldns-verify-zone -k "$TMP/dnskey" -t "+$((exp0 - now + 5))" "$zone0" 2>&1); then
	echo "$out" >&2
	fail "ldns-verify-zone accepts the initial zone after its RRSIGs expired"
fi
log "n = $n, f = $f: signed with rrsig-lifetime $lifetime s, rrsig-refresh $refresh s," \
	"refresh-interval $interval s; the first RRSIGs expire in $((exp0 - now)) s" \
	"(ldns-verify-zone: '$(tail -n 1 <<<"$out")' at that time + 5 s)"

# Checks until the RRSIGs of the first refresh would have expired as well
# (the earliest expiration has moved forward twice and the clock passed the
# second value), at most 2 intervals + 10 s after the first expiration.
exps=("$exp0")
checks=0 margin=
deadline=$((exp0 + 2 * interval + 10))
while :; do
	now=$(date +%s)
	[ "$now" -le "$deadline" ] ||
		fail "after $((now - exps[0] + lifetime)) s the earliest RRSIG expiration moved only" \
			"$(( ${#exps[@]} - 1 )) times (${exps[*]})"
	# Same AXFR on every replica (a refresh batch may be applied on one
	# and not yet on another: bounded wait).
	cluster_wait_same_zone "$TMP/z" 100
	zone=$TMP/z/zone
	e=$(min_exp "$zone")
	now=$(date +%s)
	out=$(ldns-verify-zone -k "$TMP/dnskey" "$zone" 2>&1) ||
		{ echo "$out" >&2; fail "ldns-verify-zone rejects the zone at $now (earliest RRSIG expiration $e)"; }
	for ((i = 1; i <= n; i++)); do
		delv_validates "${CLUSTER_DNS_PORT[i]}" "$TMP/anchor" www.example.com. A ||
			fail "delv does not validate www.example.com. A from replica $i at $now (earliest expiration $e)"
	done
	checks=$((checks + 1))
	last=${exps[-1]}
	[ "$e" -ge "$last" ] || fail "the earliest RRSIG expiration went back from $last to $e"
	[ "$e" -eq "$last" ] || exps+=("$e")
	# The smallest time left to the earliest expiration at a check.
	left=$((e - now))
	[ -n "$margin" ] && [ "$margin" -le "$left" ] || margin=$left
	if [ ${#exps[@]} -ge 3 ] && [ "$now" -gt $((exps[1] + 2)) ]; then
		break
	fi
	# Poll interval of this bounded loop.
	sleep 3
done

# Every refresh re-signed what the policy says: lifetime after its batch.
while read -r e i; do
	[ $((e - i)) -eq $((5400 + lifetime)) ] || fail "an RRSIG valid for $((e - i)) s after the refreshes"
done < <(rrsig_times "$zone")
passes=$(grep -c 'DNSSEC, ' "$TMP/replica-1/knot.log" || true)
log "$checks checks over $((now - exps[0] + lifetime)) s after the initial signing: same AXFR on all" \
	"$n replicas, ldns-verify-zone and delv accept it each time; earliest RRSIG expiration" \
	"moved $(( ${#exps[@]} - 1 )) times (${exps[*]}), the clock is $((now - exps[0])) s past the" \
	"first and $((now - exps[1])) s past the second; least time left at a check: $margin s;" \
	"replica 1 logged $passes DNSSEC lines; $(( $(date +%s) - t_start )) s in all"
cluster_stop
log "PASS"
