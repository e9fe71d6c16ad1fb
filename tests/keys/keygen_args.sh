#!/usr/bin/env bash
# bftdns-keygen refuses bad arguments and unusable output directories with
# a clear message and the documented exit code, and --force behaves.
# Usage: keygen_args.sh BFTDNS-KEYGEN
set -u
keygen=$1
. "$(dirname "$0")/lib.sh"

ok_args=(--zone example.com --replicas 4 --faults 1 --bits 1024)

expect_run 1 "missing --zone" "$keygen"
expect_run 1 "missing --zone" "$keygen" --replicas 4 --faults 1 --out "$tmp/a"
expect_run 1 "missing --out" "$keygen" --zone example.com --replicas 4 --faults 1
expect_run 1 "missing --replicas" "$keygen" --zone example.com --faults 1 --out "$tmp/a"
expect_run 1 "3 replicas cannot tolerate 1 faults: n must be at least 3f + 1 = 4" \
	"$keygen" --zone example.com --replicas 3 --faults 1 --out "$tmp/a"
expect_run 1 "--replicas 33 is more than the 32 replicas bftdns supports" \
	"$keygen" --zone example.com --replicas 33 --faults 1 --out "$tmp/a"
expect_run 1 "unknown algorithm 'ecdsap256sha256'" \
	"$keygen" "${ok_args[@]}" --algorithm ecdsap256sha256 --out "$tmp/a"
expect_run 1 "--bits must be 1024, 2048, 3072 or 4096, not 1000" \
	"$keygen" "${ok_args[@]}" --bits 1000 --out "$tmp/a"
expect_run 1 "--bits takes a whole number" "$keygen" "${ok_args[@]}" --bits 2k --out "$tmp/a"
expect_run 1 "--replicas takes a whole number" "$keygen" --zone example.com --replicas -4 \
	--faults 1 --out "$tmp/a"
expect_run 1 "--zone: zone name 'a..b' has an empty label" \
	"$keygen" --zone a..b --replicas 4 --faults 1 --out "$tmp/a"
expect_run 1 "unknown option --frobnicate" "$keygen" "${ok_args[@]}" --frobnicate --out "$tmp/a"
expect_run 1 "option --out needs a value" "$keygen" "${ok_args[@]}" --out
expect_run 1 "unexpected argument 'extra'" "$keygen" "${ok_args[@]}" --out "$tmp/a" extra
[ ! -e "$tmp/a" ] && pass "nothing written after bad arguments" ||
	fail "bad arguments left $tmp/a behind"
expect_run 0 "Exit codes: 0 success, 1 bad arguments" "$keygen" --help

# Output directories that cannot be used.
touch "$tmp/file"
expect_run 2 "exists and is not a directory" "$keygen" "${ok_args[@]}" --out "$tmp/file"
expect_run 2 "cannot create directory $tmp/file/keys" "$keygen" "${ok_args[@]}" --out "$tmp/file/keys"
expect_run 2 "cannot create directory $tmp/no/such" "$keygen" "${ok_args[@]}" --out "$tmp/no/such"
if [ "$(id -u)" -ne 0 ]; then
	mkdir "$tmp/readonly" && chmod 0555 "$tmp/readonly"
	expect_run 2 "cannot write to directory $tmp/readonly" "$keygen" "${ok_args[@]}" --out "$tmp/readonly"
else
	# root may write anywhere on a normal file system; /proc takes no new files.
	expect_run 2 "cannot write to directory /proc" "$keygen" "${ok_args[@]}" --out /proc --force
fi
mkdir "$tmp/full" && touch "$tmp/full/notes.txt"
expect_run 2 "$tmp/full is not empty; use --force" "$keygen" "${ok_args[@]}" --out "$tmp/full"

# A real key; the zone name is normalised; modes are right.
expect_run 0 "zone key of example.com.: RSASHA256, 1024 bits" \
	"$keygen" --zone Example.COM --replicas 7 --faults 2 --bits 1024 --out "$tmp/k"
for f in share-{1..7}.key public.key example.com.dnskey example.com.ds; do
	[ -f "$tmp/k/$f" ] && pass "wrote $f" || fail "no $f"
done
[ "$(stat -c %a "$tmp/k/share-3.key")" = 600 ] && pass "share mode 0600" ||
	fail "share-3.key has mode $(stat -c %a "$tmp/k/share-3.key")"
[ "$(stat -c %a "$tmp/k")" = 700 ] && pass "new directory mode 0700" ||
	fail "the new directory has mode $(stat -c %a "$tmp/k")"
grep -q '^example.com. 3600 IN DNSKEY 257 3 8 ' "$tmp/k/example.com.dnskey" &&
	pass "DNSKEY line" || fail "DNSKEY line: $(cat "$tmp/k/example.com.dnskey")"
[ -z "$(ls -A "$tmp/k" | grep -v -E '^(share-[0-9]+\.key|replica-[0-9]+|public\.key|coin-public\.key|pins\.txt|example\.com\.(dnskey|ds))$')" ] &&
	pass "no stray files" || fail "stray files: $(ls -A "$tmp/k")"
[ -f "$tmp/k/replica-7/link-7.key" ] && [ -f "$tmp/k/replica-7/coin-7.key" ] &&
	[ ! -e "$tmp/k/replica-7/mod-bftdns.conf" ] && [ ! -e "$tmp/k/peers.txt" ] &&
	pass "replica directories; no peers.txt or fragment without --peer" ||
	fail "replica-7: $(ls -A "$tmp/k/replica-7"); DIR: $(ls -A "$tmp/k")"

# Refused without --force; with it, the new key replaces the old one and the
# share files of the old, larger set are removed.
expect_run 2 "is not empty; use --force" "$keygen" "${ok_args[@]}" --out "$tmp/k"
old_tag=$(awk '$1 == "key-tag" { print $2 }' "$tmp/k/public.key")
expect_run 0 "4 replicas, any 2 sign, 1 may fail" "$keygen" "${ok_args[@]}" --out "$tmp/k" --force
[ ! -e "$tmp/k/share-5.key" ] && [ ! -e "$tmp/k/share-7.key" ] && [ -f "$tmp/k/share-4.key" ] &&
	pass "stale shares removed" || fail "stale shares: $(ls "$tmp/k")"
[ ! -e "$tmp/k/replica-5" ] && [ ! -e "$tmp/k/replica-7" ] && [ -d "$tmp/k/replica-4" ] &&
	pass "stale replica directories removed" || fail "stale replica directories: $(ls "$tmp/k")"
new_tag=$(awk '$1 == "key-tag" { print $2 }' "$tmp/k/share-4.key")
[ -n "$new_tag" ] && [ "$new_tag" = "$(awk '$1 == "key-tag" { print $2 }' "$tmp/k/public.key")" ] &&
	pass "share-4 and public.key are of the new key ($new_tag, was $old_tag)" ||
	fail "share-4.key key tag $new_tag does not match public.key"

# --peer and --install-dir: each mistake named, nothing written.
peers4=(--peer 1=192.0.2.1:5400 --peer 2=192.0.2.2:5400 --peer 3=192.0.2.3:5400
	--peer 4=192.0.2.4:5400)
expect_run 1 "--peer 2: must be ID=ADDRESS:PORT" "$keygen" "${ok_args[@]}" --peer 2 --out "$tmp/p"
expect_run 1 "--peer 0=192.0.2.1:53: the replica ID must be a number in 1..32" \
	"$keygen" "${ok_args[@]}" --peer 0=192.0.2.1:53 --out "$tmp/p"
expect_run 1 "--peer 1=ns1.example:53: 'ns1.example' is not an IPv4 or IPv6 address" \
	"$keygen" "${ok_args[@]}" --peer 1=ns1.example:53 --out "$tmp/p"
expect_run 1 "--peer 1=192.0.2.1: the address must be ADDRESS:PORT" \
	"$keygen" "${ok_args[@]}" --peer 1=192.0.2.1 --out "$tmp/p"
expect_run 1 "--peer 1=2001:db8::1:53: write an IPv6 address as [ADDRESS]:PORT" \
	"$keygen" "${ok_args[@]}" --peer 1=2001:db8::1:53 --out "$tmp/p"
expect_run 1 "--peer 1=192.0.2.1:65536: the port must be a number in 1..65535" \
	"$keygen" "${ok_args[@]}" --peer 1=192.0.2.1:65536 --out "$tmp/p"
expect_run 1 "--peer 1=192.0.2.9:53: replica 1's address is already given (192.0.2.1@5400)" \
	"$keygen" "${ok_args[@]}" "${peers4[@]}" --peer 1=192.0.2.9:53 --out "$tmp/p"
expect_run 1 "--peer 5=192.0.2.5@5400: there are only 4 replicas" \
	"$keygen" "${ok_args[@]}" "${peers4[@]}" --peer 5=192.0.2.5:5400 --out "$tmp/p"
expect_run 1 "--peer is given for 2 of the 4 replicas; give every replica's address (missing: 2 4)" \
	"$keygen" "${ok_args[@]}" --peer 1=192.0.2.1:53 --peer 3=192.0.2.3:53 --out "$tmp/p"
expect_run 1 "--peer: replicas 2 and 3 have the same address 192.0.2.2@5400" \
	"$keygen" "${ok_args[@]}" --peer 1=192.0.2.1:5400 --peer 2=192.0.2.2:5400 \
	--peer 3=192.0.2.2@5400 --peer 4=192.0.2.4:5400 --out "$tmp/p"
expect_run 1 "--install-dir is used only in the knot.conf fragments, which need every replica's --peer" \
	"$keygen" "${ok_args[@]}" --install-dir /srv/bftdns --out "$tmp/p"
expect_run 1 "--install-dir must be an absolute path" \
	"$keygen" "${ok_args[@]}" "${peers4[@]}" --install-dir srv/bftdns --out "$tmp/p"
expect_run 1 "--install-dir must not contain quotes" \
	"$keygen" "${ok_args[@]}" "${peers4[@]}" --install-dir '/srv/a"b' --out "$tmp/p"
[ ! -e "$tmp/p" ] && pass "nothing written after bad --peer or --install-dir" ||
	fail "bad --peer arguments left $tmp/p behind"

# With every --peer: peers.txt and the fragments. A later --force run
# without addresses removes them: they would carry the older link pins.
expect_run 0 "pins.txt, peers.txt, mod-bftdns.conf" "$keygen" "${ok_args[@]}" "${peers4[@]}" \
	--out "$tmp/peers"
[ -f "$tmp/peers/peers.txt" ] && [ -f "$tmp/peers/replica-3/mod-bftdns.conf" ] &&
	pass "peers.txt and fragments written" || fail "no peers.txt or fragment: $(ls "$tmp/peers")"
expect_run 0 "no knot.conf fragments: give --peer" "$keygen" "${ok_args[@]}" --out "$tmp/peers" --force
[ ! -e "$tmp/peers/peers.txt" ] && [ ! -e "$tmp/peers/replica-3/peers.txt" ] &&
	[ ! -e "$tmp/peers/replica-3/mod-bftdns.conf" ] &&
	pass "older peers.txt and fragments removed by --force" ||
	fail "left over: $(ls "$tmp/peers" "$tmp/peers/replica-3")"

# A replica directory's name taken by a file: refused before any key is made.
mkdir "$tmp/taken" && touch "$tmp/taken/replica-2"
expect_run 2 "$tmp/taken/replica-2 exists and is not a directory" "$keygen" "${ok_args[@]}" \
	--out "$tmp/taken" --force
[ "$(ls -A "$tmp/taken")" = replica-2 ] &&
	pass "nothing written next to a taken replica directory" || fail "taken: $(ls -A "$tmp/taken")"

# A failure part-way into a directory keygen made (files limited to 1 KiB,
# so the first zone key share cannot be written): everything it wrote, the
# replica directories and the directory itself are removed again.
out=$( (trap '' XFSZ; ulimit -f 1; "$keygen" "${ok_args[@]}" --out "$tmp/limited") 2>&1 )
rc=$?
if [ "$rc" -eq 4 ] && grep -qF "File too large" <<<"$out" &&
   grep -qE "removed the [0-9]+ files written before the failure, and the directory" <<<"$out" &&
   [ ! -e "$tmp/limited" ]; then
	pass "a failure part-way into a new directory leaves nothing behind"
else
	fail "part-way failure: exit $rc, $(ls -A "$tmp/limited" 2>&1), output: $out"
fi

# A failure part-way with --force over an older key cannot restore the old
# files: it says that the directory now mixes two keys.
rm "$tmp/peers/replica-2/coin-2.key" && mkdir "$tmp/peers/replica-2/coin-2.key"
expect_run 4 "writing stopped part-way: $tmp/peers now mixes" "$keygen" "${ok_args[@]}" \
	--out "$tmp/peers" --force

# The root zone and the other algorithms by name, mnemonic and number.
expect_run 0 "zone key of .: RSASHA512" "$keygen" --zone . --replicas 1 --faults 0 --bits 1024 \
	--algorithm RSASHA512 --out "$tmp/root"
[ -f "$tmp/root/root.dnskey" ] && pass "root.dnskey" || fail "no root.dnskey: $(ls "$tmp/root")"
expect_run 0 "RSASHA1, 1024 bits" "$keygen" "${ok_args[@]}" --algorithm 5 --out "$tmp/a5"

# Import: a missing file, and an ordinary (not safe-prime) BIND key.
expect_run 3 "cannot open $tmp/missing.private" "$keygen" "${ok_args[@]}" \
	--import "$tmp/missing.private" --out "$tmp/imp1"
if command -v dnssec-keygen >/dev/null; then
	(cd "$tmp" && dnssec-keygen -q -a RSASHA256 -b 1024 -f KSK example.com >/dev/null 2>&1)
	private=$(ls "$tmp"/Kexample.com.+008+*.private 2>/dev/null | head -n 1)
	if [ -n "$private" ]; then
		expect_run 3 "primes are not safe primes" "$keygen" --zone example.com --replicas 4 \
			--faults 1 --import "$private" --out "$tmp/imp2"
		[ ! -e "$tmp/imp2" ] && pass "no directory left after a refused import" ||
			fail "a refused import left $tmp/imp2"
		expect_run 3 "Generate a new key with bftdns-keygen and roll the key at the parent" \
			"$keygen" --zone example.com --replicas 4 --faults 1 --import "$private" --out "$tmp/imp3"
	else
		fail "dnssec-keygen made no key"
	fi
else
	echo "note: dnssec-keygen not installed; the BIND import refusal is not checked"
fi

finish
