#!/usr/bin/env bash
# The independent DNSSEC check: zones signed by bftdns-signzone with a (4,1)
# threshold key must pass both ldns-verify-zone (ldnsutils) and dnssec-verify
# (bind9-utils), for each signing protocol, with f corrupted replicas, for
# algorithms 5, 7 (with NSEC3), 8 and 10 and for 1024- and 2048-bit keys;
# f + 1 corrupted replicas must make signing fail cleanly; the same inputs
# must give the same bytes; and a tampered zone must fail both checkers (so
# that this test can fail).
# Usage: signzone_verify.sh BFTDNS-KEYGEN BFTDNS-SIGNZONE ZONEFILE [large]
#   large: instead, one run with a 3072-bit key (slow suite).
set -u
keygen=$1
signzone=$2
zone_in=$3
mode=${4:-}
. "$(dirname "$0")/lib.sh"

for tool in ldns-verify-zone dnssec-verify; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

# Signatures valid from a day ago for 30 days: the checkers use the clock.
inception=$(date -u -d '-1 day' +%Y%m%d%H%M%S)
expiration=$(date -u -d '+30 days' +%Y%m%d%H%M%S)
times=(--inception "$inception" --expiration "$expiration")

# make_key DIR ALGORITHM BITS
make_key() {
	"$keygen" --zone example.com --replicas 4 --faults 1 --algorithm "$2" --bits "$3" \
		--out "$1" >/dev/null 2>"$tmp/keygen.err" ||
		{ fail "keygen $*: $(cat "$tmp/keygen.err")"; return 1; }
}

# sign OUT KEYDIR "IDS" [signzone options]: signs with the share files of IDS.
sign() {
	local out=$1 keys=$2 ids=$3 shares=() id
	shift 3
	for id in $ids; do shares+=("$keys/share-$id.key"); done
	"$signzone" -q -o "$out" "${times[@]}" "$@" "$zone_in" "${shares[@]}" 2>"$tmp/sign.err"
}

# verify LABEL FILE KEYDIR: both checkers accept, RRSIG times are ours.
verify() {
	local label=$1 file=$2 keys=$3
	if ldns-verify-zone -k "$keys/example.com.dnskey" "$file" >"$tmp/ldns.log" 2>&1; then
		pass "$label: ldns-verify-zone"
	else
		fail "$label: ldns-verify-zone: $(tail -n 5 "$tmp/ldns.log")"
	fi
	if dnssec-verify -q -o example.com -z "$file" >"$tmp/bind.log" 2>&1; then
		pass "$label: dnssec-verify"
	else
		fail "$label: dnssec-verify: $(tail -n 5 "$tmp/bind.log")"
	fi
	local bad
	bad=$(awk -v e="$expiration" -v i="$inception" \
		'$4 == "RRSIG" { n++; if ($9 != e || $10 != i) b++ } END { print (n > 0 ? b + 0 : "none") }' "$file")
	[ "$bad" = 0 ] && pass "$label: RRSIG times are $inception..$expiration" ||
		fail "$label: RRSIGs with other times (or none): $bad"
}

# signs_and_verifies LABEL OUT KEYDIR "IDS" [options]
signs_and_verifies() {
	local label=$1 out=$2 keys=$3 ids=$4
	shift 4
	if sign "$out" "$keys" "$ids" "$@"; then
		verify "$label" "$out" "$keys"
	else
		fail "$label: bftdns-signzone failed: $(cat "$tmp/sign.err")"
	fi
}

# refuses LABEL CODE TEXT OUT KEYDIR "IDS" [options]: exit CODE, message, no file.
refuses() {
	local label=$1 code=$2 text=$3 out=$4 keys=$5 ids=$6 rc
	shift 6
	sign "$out" "$keys" "$ids" "$@"
	rc=$?
	if [ "$rc" -eq "$code" ] && grep -qF -- "$text" "$tmp/sign.err" && [ ! -e "$out" ]; then
		pass "$label: exit $rc, '$text', nothing written"
	else
		fail "$label: exit $rc (want $code), file $( [ -e "$out" ] && echo written || echo absent), $(cat "$tmp/sign.err")"
	fi
}

if [ "$mode" = large ]; then
	make_key "$tmp/k3072" 8 3072 &&
		signs_and_verifies "3072 bits, optte, replica 1 inverted" "$tmp/z3072" "$tmp/k3072" \
			"1 2 3" --protocol optte --corrupt 1:invert
	finish
	exit
fi

make_key "$tmp/k8" 8 1024 || { finish; exit; }

# Reference: two honest replicas. Every other run must give the same bytes
# (RSA signatures are unique, and nothing else varies).
signs_and_verifies "alg 8, replicas 1 2" "$tmp/ref" "$tmp/k8" "1 2"
sign "$tmp/again" "$tmp/k8" "1 2"
cmp -s "$tmp/ref" "$tmp/again" && pass "same inputs, same bytes" || fail "two runs differ"

for protocol in basic optproof optte; do
	for corrupt in 1:invert 2:random; do
		label="alg 8, $protocol, replicas 1 2 3, $corrupt"
		out="$tmp/z-$protocol-${corrupt%%:*}"
		signs_and_verifies "$label" "$out" "$tmp/k8" "1 2 3" --protocol "$protocol" \
			--corrupt "$corrupt"
		cmp -s "$tmp/ref" "$out" && pass "$label: same bytes as the reference" ||
			fail "$label: differs from the reference"
	done
	# f + 1 = 2 of the 2f + 1 = 3 replicas corrupted: no signature can be trusted.
	refuses "alg 8, $protocol, f + 1 corrupted" 3 "no valid signature could be made" \
		"$tmp/bad-$protocol" "$tmp/k8" "1 2 3" --protocol "$protocol" \
		--corrupt 1:invert --corrupt 3:random
done

# Tampered copies must fail: a changed signature, a changed record.
awk 'BEGIN { OFS = "\t" } !done && $4 == "RRSIG" && $5 == "A" {
	c = substr($13, 10, 1); $13 = substr($13, 1, 9) (c == "A" ? "B" : "A") substr($13, 11); done = 1 } { print }' \
	"$tmp/ref" >"$tmp/tampered-sig"
sed 's/192\.0\.2\.10$/192.0.2.99/' "$tmp/ref" >"$tmp/tampered-data"
for t in tampered-sig tampered-data; do
	if cmp -s "$tmp/ref" "$tmp/$t"; then
		fail "$t: the tampering changed nothing"
		continue
	fi
	ldns-verify-zone -k "$tmp/k8/example.com.dnskey" "$tmp/$t" >/dev/null 2>&1 &&
		fail "$t: ldns-verify-zone accepts it" || pass "$t: ldns-verify-zone rejects it"
	dnssec-verify -q -o example.com -z "$tmp/$t" >/dev/null 2>&1 &&
		fail "$t: dnssec-verify accepts it" || pass "$t: dnssec-verify rejects it"
done

# --now and --lifetime set inception = now - 1 h and expiration = now + lifetime.
now=$(date -u +%s)
"$signzone" -q -o "$tmp/now" --now "$now" --lifetime 86400 "$zone_in" "$tmp"/k8/share-{1,2}.key
want="$(date -u -d "@$((now + 86400))" +%Y%m%d%H%M%S) $(date -u -d "@$((now - 3600))" +%Y%m%d%H%M%S)"
got=$(awk '$4 == "RRSIG" { print $9, $10; exit }' "$tmp/now")
[ "$got" = "$want" ] && pass "--now/--lifetime: $got" || fail "--now/--lifetime: got '$got', want '$want'"

# The other algorithms and sizes, each with one corrupted replica sending first.
make_key "$tmp/k5" 5 1024 &&
	signs_and_verifies "alg 5, NSEC" "$tmp/z5" "$tmp/k5" "4 1 2" --corrupt 4:invert
make_key "$tmp/k10" 10 1024 &&
	signs_and_verifies "alg 10, NSEC" "$tmp/z10" "$tmp/k10" "4 1 2" --corrupt 4:invert
make_key "$tmp/k7" 7 1024 &&
	signs_and_verifies "alg 7, NSEC3" "$tmp/z7" "$tmp/k7" "4 1 2" --corrupt 4:invert \
		--nsec3 --nsec3-salt c0ffee
signs_and_verifies "alg 8, NSEC3" "$tmp/z8n3" "$tmp/k8" "1 2" --nsec3
grep -q 'NSEC3PARAM	1 0 0 -' "$tmp/z8n3" && pass "NSEC3PARAM 1 0 0 -" ||
	fail "no NSEC3PARAM 1 0 0 - in the NSEC3 zone"
make_key "$tmp/k2048" 8 2048 &&
	signs_and_verifies "alg 8, 2048 bits, basic" "$tmp/z2048" "$tmp/k2048" "2 1 3" \
		--protocol basic --corrupt 2:invert

# Refusals: each with its exit code and message, nothing written.
refuses "one share file" 2 "1 share file given, but any signature needs f + 1 = 2" \
	"$tmp/r1" "$tmp/k8" "1"
refuses "same share twice" 2 "given twice" "$tmp/r2" "$tmp/k8" "1 1"
refuses "alg 7 without NSEC3" 1 "add --nsec3" "$tmp/r3" "$tmp/k7" "1 2"
refuses "alg 5 with NSEC3" 1 "NSEC3 zones cannot use algorithm 5" "$tmp/r4" "$tmp/k5" "1 2" --nsec3
refuses "corrupt a replica not given" 1 "no share file of replica 4" "$tmp/r5" "$tmp/k8" "1 2" \
	--corrupt 4:invert
refuses "unknown corruption" 1 "--corrupt mode must be invert or random" "$tmp/r6" "$tmp/k8" \
	"1 2" --corrupt 1:flip
refuses "unknown protocol" 1 "unknown protocol 'fast'" "$tmp/r7" "$tmp/k8" "1 2" --protocol fast
refuses "expiration first" 1 "the expiration must be later than the inception" "$tmp/r8" \
	"$tmp/k8" "1 2" --inception "$expiration" --expiration "$inception"
expect_run 1 "--inception takes YYYYMMDDHHMMSS" "$signzone" --inception 2026-11-01 \
	--expiration "$expiration" "$zone_in" "$tmp"/k8/share-{1,2}.key
expect_run 1 "--inception and --expiration go together" "$signzone" --inception "$inception" \
	"$zone_in" "$tmp"/k8/share-{1,2}.key
expect_run 2 "is a share of another key" "$signzone" "${times[@]}" -o "$tmp/r9" "$zone_in" \
	"$tmp/k8/share-1.key" "$tmp/k10/share-2.key"
expect_run 2 "the zone is already signed (it has RRSIG records)" "$signzone" "${times[@]}" \
	-o "$tmp/r10" "$tmp/ref" "$tmp"/k8/share-{1,2}.key
sed 's/^\$ORIGIN example.com./$ORIGIN example.org./' "$zone_in" >"$tmp/other.zone"
expect_run 2 "the SOA is at example.org., not at the key's zone apex" "$signzone" "${times[@]}" \
	-o "$tmp/r11" "$tmp/other.zone" "$tmp"/k8/share-{1,2}.key
printf '$ORIGIN example.com.\n@ 3600 IN SOA ns1 host 1 2 3 4 5\nwww IN A 192.0.2.300\n' >"$tmp/broken.zone"
expect_run 2 "broken.zone:3:" "$signzone" "${times[@]}" -o "$tmp/r12" "$tmp/broken.zone" \
	"$tmp"/k8/share-{1,2}.key
cp "$tmp/k8/share-2.key" "$tmp/open-share.key" && chmod 0644 "$tmp/open-share.key"
expect_run 2 "must not be accessible to group or others" "$signzone" "${times[@]}" -o "$tmp/r13" \
	"$zone_in" "$tmp/k8/share-1.key" "$tmp/open-share.key"

finish
