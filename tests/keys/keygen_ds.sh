#!/usr/bin/env bash
# The DNSKEY and DS records bftdns-keygen writes agree with two independent
# tools: ldns-key2ds (ldnsutils) and dnssec-dsfromkey (bind9-utils) compute
# the same key tag and SHA-256 DS from the .dnskey file, for every algorithm.
# Usage: keygen_ds.sh BFTDNS-KEYGEN
set -u
keygen=$1
. "$(dirname "$0")/lib.sh"

for tool in ldns-key2ds dnssec-dsfromkey; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

# Fields 4.. of a DS line (key tag, algorithm, digest type, digest), upper case.
ds_fields() { awk '{ for (i = 1; i <= NF; i++) if ($i == "DS") { print $(i+1), $(i+2), $(i+3), toupper($(i+4)); exit } }'; }

for alg in 5 7 8 10; do
	dir="$tmp/alg$alg"
	if ! "$keygen" --zone Zone-$alg.Example --replicas 4 --faults 1 --bits 1024 --algorithm $alg \
		--out "$dir" >/dev/null 2>"$tmp/err"; then
		fail "keygen for algorithm $alg: $(cat "$tmp/err")"
		continue
	fi
	zone=zone-$alg.example
	ours=$(ds_fields < "$dir/$zone.ds")
	ldns=$(ldns-key2ds -n -2 "$dir/$zone.dnskey" | ds_fields)
	bind=$(dnssec-dsfromkey -2 -f "$dir/$zone.dnskey" "$zone." | ds_fields)
	tag=$(awk '$1 == "key-tag" { print $2 }' "$dir/public.key")
	[ -n "$ours" ] && [ "$ours" = "$ldns" ] && pass "alg $alg: DS = ldns-key2ds ($ours)" ||
		fail "alg $alg: ours '$ours', ldns-key2ds '$ldns'"
	[ "$ours" = "$bind" ] && pass "alg $alg: DS = dnssec-dsfromkey" ||
		fail "alg $alg: ours '$ours', dnssec-dsfromkey '$bind'"
	[ "${ours%% *}" = "$tag" ] && pass "alg $alg: key tag $tag in the key files" ||
		fail "alg $alg: key-tag $tag in public.key, DS says ${ours%% *}"
	owner=$(awk '{ print $1 }' "$dir/$zone.ds")
	[ "$owner" = "$zone." ] && pass "alg $alg: owner $owner" || fail "alg $alg: owner $owner"
done

finish
