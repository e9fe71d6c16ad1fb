#!/usr/bin/env bash
# SIG(0)-signed UPDATEs (module/sig0.c, intake.c, authz.c), one replica.
#
# A TSIG secret is held by every replica that verifies it, so a compromised
# replica can forge TSIG-signed UPDATEs; SIG(0) is verified with public keys
# (update-key) and update-auth sig0 refuses TSIG altogether.
#
# 1. conf-check refuses malformed update-key lines, a key listed twice,
#    update-auth sig0 without keys, update-auth tsig with keys.
# 2. update-auth both: nsupdate -k with a KEY-type key of each algorithm
#    (ECDSAP256SHA256, RSASHA256, ED25519) is applied, and TSIG still is; an
#    unconfigured key is NOTAUTH. UPDATEs made here (sig0.py): a good one
#    and one with the signer in upper case are applied; expired, not yet
#    valid, a validity over 600 s, a tampered byte, another key's signature
#    under the configured key's tag (NOTAUTH), a wrong type covered, an
#    owner that is not root, class IN (FORMERR) change nothing, each logged.
#    A TSIG with a fudge of 301 s passes Knot at intake and is refused when
#    applied (NOTAUTH, logged); 300 s passes.
# 3. update-auth sig0: TSIG-signed and unsigned UPDATEs REFUSED (logged),
#    SIG(0) applied. 4. update-auth tsig: SIG(0) REFUSED, TSIG applied.
# 5. A forged batch log replayed with update-auth sig0 (as a compromised
#    peer would order it): SIG(0)s are checked against each batch's time,
#    not the clock (one valid at T is refused in a batch at T + 1000, one
#    valid only at T + 1000 is applied there); a TSIG-signed UPDATE, an
#    unconfigured key and an expired signature are refused; two replicas
#    replaying the log end with the same zone.
. "$(dirname "$0")/lib.sh"

command -v dnssec-keygen >/dev/null || skip "no dnssec-keygen (bind9-utils)"
command -v nsupdate >/dev/null || skip "no nsupdate (bind9-dnsutils)"
PY=$(command -v /usr/bin/python3 python3 | while read -r p; do
	"$p" -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null &&
		{ echo "$p"; break; }; done)
[ -n "$PY" ] || skip "no python3 with cryptography (python3-cryptography)"
TESTS=$(cd "$(dirname "$0")" && pwd)

make_key "$TMP/keys"

# Client keys, as an operator makes them (operator-guide.md).
K="$TMP/sig0"
mkdir -p "$K"
keygen() {
	local dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && dnssec-keygen -q -T KEY -n HOST "$@") || fail "dnssec-keygen $*"
}
ECDSA=$K/$(keygen "$K" -a ECDSAP256SHA256 client.example.com)
RSA=$K/$(keygen "$K" -a RSASHA256 -b 2048 rsa.example.com)
ED=$K/$(keygen "$K" -a ED25519 ed.example.com)
# The same name as ECDSA's, not configured.
STRANGER=$K/other/$(keygen "$K/other" -a ECDSAP256SHA256 client.example.com)
key_line() { grep -v '^;' "$1.key"; }
KEYS="    update-key: [ \"$(key_line "$ECDSA")\", \"$(key_line "$RSA")\", \"$(key_line "$ED")\" ]"

# 1. conf-check.
port=$(free_port)
check_bad() {
	local name=$1 expected=$2 items=$3 out
	replica_setup "$TMP/$name" "$port" "$TMP/keys" "$items"
	if out=$("$KNOTC" -c "$TMP/$name/knot.conf" conf-check 2>&1); then
		fail "$name: conf-check accepted a bad configuration"
	fi
	grep -qF -- "$expected" <<<"$out" ||
		fail "$name: conf-check said '$out', want a line with '$expected'"
}
pub=$(key_line "$ED" | awk '{ print $NF }')
check_bad bad-type "must be a KEY record" "    update-key: \"ed.example.com. IN A 192.0.2.1\""
check_bad bad-proto "protocol 3" "    update-key: \"ed.example.com. IN KEY 512 4 15 $pub\""
check_bad bad-alg "algorithm must be" "    update-key: \"ed.example.com. IN KEY 512 3 5 $pub\""
check_bad bad-b64 "base64" "    update-key: \"ed.example.com. IN KEY 512 3 15 ***\""
check_bad bad-key "not a valid key" "    update-key: \"ed.example.com. IN KEY 512 3 13 $pub\""
# (Knot drops an identical value of a list itself; with a TTL it differs.)
check_bad twice "same key twice" "    update-key: [ \"$(key_line "$ED")\", \"$(key_line "$ED" | sed 's/ IN / 60 IN /')\" ]"
check_bad sig0-nokey "update-auth sig0 needs at least one update-key" "    update-auth: sig0"
check_bad tsig-keys "never used with update-auth tsig" "$KEYS
    update-auth: tsig"
replica_setup "$TMP/good" "$port" "$TMP/keys" "$KEYS
    update-auth: sig0"
out=$("$KNOTC" -c "$TMP/good/knot.conf" conf-check 2>&1) || fail "conf-check refused good keys: $out"
log "conf-check: bad update-key lines, a duplicate, sig0 without keys, tsig with keys refused"

# has NAME TYPE: the name has an RRset of the type in the served zone.
has() {
	[ -n "$("$KDIG" @127.0.0.1 -p "$port" +short "$1.example.com." "$2")" ]
}
expect_rc() {
	local want=$1 key=$2 script=$3 got
	got=$(nsupdate_rc "$port" "$key" "$script")
	[ "$got" = "$want" ] || fail "'$script' with ${key:-no key}: $got, want $want"
}

# 2. update-auth both (the default).
replica_setup "$TMP/both" "$port" "$TMP/keys" "$KEYS"
knot_start "$TMP/both"
wait_signed "$TMP/both"
expect_rc NOERROR "$ECDSA.private" "update add ecdsa.example.com. 300 A 192.0.2.1"
expect_rc NOERROR "$RSA.private" "update add rsa.example.com. 300 A 192.0.2.2"
expect_rc NOERROR "$ED.private" "update add ed.example.com. 300 A 192.0.2.3"
expect_rc NOERROR "$TMP/both/update.key" "update add tsig.example.com. 300 A 192.0.2.4"
expect_rc NOTAUTH "$STRANGER.private" "update add stranger.example.com. 300 A 192.0.2.5"
for n in ecdsa rsa ed tsig; do
	has "$n" A || fail "$n.example.com. A is missing"
done
has stranger A && fail "an UPDATE signed with an unconfigured key was applied"
grep -q 'SIG(0)-signed UPDATE from 127.0.0.1 refused, BADKEY (SIG(0) key not configured' \
	"$TMP/both/knot.log" || fail "the unconfigured key's refusal is not logged"
log "nsupdate -k: ECDSAP256SHA256, RSASHA256, ED25519 and TSIG applied; an unconfigured key NOTAUTH"

T=$(date +%s)
"$PY" - "$TESTS" "$port" "$T" "$ECDSA" "$STRANGER" "$TSIG_NAME" "$TSIG_SECRET" \
	>"$TMP/crafted.out" 2>&1 <<'PY' || fail "crafted UPDATEs: $(cat "$TMP/crafted.out")"
import base64, sys
sys.path.insert(0, sys.argv[1])
from sig0 import Key, update, sign, send
import tsig

port, T = int(sys.argv[2]), int(sys.argv[3])
key = Key(sys.argv[4] + ".private", sys.argv[4] + ".key")
stranger = Key(sys.argv[5] + ".private", sys.argv[5] + ".key")
tsig_name, secret = sys.argv[6], base64.b64decode(sys.argv[7])

def tampered(msg):
    """One bit of the added address flipped, after signing."""
    pos = msg.index(bytes([192, 0, 2, 7])) + 3
    return msg[:pos] + bytes([msg[pos] ^ 1]) + msg[pos + 1:]

cases = [
    ("NOERROR", sign(update("crafted-good", ident=1), key, T - 300, T + 300)),
    ("NOERROR", sign(update("crafted-upper", ident=2), key, T - 300, T + 300,
                     signer=key.name.upper())),
    ("NOTAUTH", sign(update("crafted-expired", ident=3), key, T - 900, T - 300)),
    ("NOTAUTH", sign(update("crafted-future", ident=4), key, T + 300, T + 900)),
    ("NOTAUTH", sign(update("crafted-long", ident=5), key, T - 300, T + 301)),
    ("NOTAUTH", tampered(sign(update("crafted-tampered", ident=6), key, T - 300, T + 300))),
    ("NOTAUTH", sign(update("crafted-stranger", ident=7), key, T - 300, T + 300, by=stranger)),
    ("FORMERR", sign(update("crafted-covered", ident=8), key, T - 300, T + 300, covered=1)),
    ("FORMERR", sign(update("crafted-owner", ident=9), key, T - 300, T + 300,
                     owner=tsig.name(key.name))),
    ("FORMERR", sign(update("crafted-class", ident=10), key, T - 300, T + 300, rclass=1)),
    ("NOTAUTH", tsig.sign(update("crafted-fudge301", ident=11), tsig_name, secret, T, fudge=301)),
    ("NOERROR", tsig.sign(update("crafted-fudge300", ident=12), tsig_name, secret, T, fudge=300)),
]
bad = 0
for want, msg in cases:
    got = send(port, msg)
    if got != want:
        print("UPDATE %d: %s, want %s" % (msg[1], got, want))
        bad += 1
sys.exit(1 if bad else 0)
PY
for n in crafted-good crafted-upper crafted-fudge300; do
	has "$n" A || fail "$n.example.com. A is missing"
done
for n in crafted-expired crafted-future crafted-long crafted-tampered crafted-stranger \
	 crafted-covered crafted-owner crafted-class crafted-fudge301; do
	has "$n" A && fail "$n.example.com. A was applied"
done
L=$TMP/both/knot.log
for reason in 'BADTIME (SIG(0) expired)' 'BADTIME (SIG(0) not yet valid)' \
	'BADTIME (SIG(0) validity longer than 600 s' 'BADSIG (SIG(0) signature does not verify)' \
	'MALFORMED (SIG(0) type covered' 'MALFORMED (SIG owner is not the root)' \
	'MALFORMED (SIG(0) class is not ANY'; do
	grep -qF "SIG(0)-signed UPDATE from 127.0.0.1 refused, $reason" "$L" ||
		fail "no log line for '$reason'"
done
[ "$(grep -c 'SIG(0) signature does not verify' "$L")" = 2 ] ||
	fail "want 2 BADSIG lines (tampered, another key's signature)"
grep -q "ordered UPDATE from 127.0.0.1 refused at batch time [0-9]*, NOTAUTH, TSIG BADTIME (fudge 301 s, at most 300 s accepted)" "$L" ||
	fail "the TSIG with fudge 301 was not refused at apply with its log line"
[ "$(grep -c 'refused at batch time' "$L")" = 1 ] ||
	fail "the check at apply refused more than the fudge: $(grep 'refused at batch time' "$L")"
grep -q "$TSIG_SECRET" "$L" && fail "a secret is in the log"
log "crafted: good and upper-case signer applied; expired, future, 601 s, tampered, another key's signature NOTAUTH; covered type, owner, class FORMERR; TSIG fudge 301 NOTAUTH at apply, 300 applied"
knot_stop "$KNOT_PID"

# 3. update-auth sig0: only SIG(0).
port=$(free_port)
replica_setup "$TMP/sig0only" "$port" "$TMP/keys" "$KEYS
    update-auth: sig0"
knot_start "$TMP/sig0only"
wait_signed "$TMP/sig0only"
expect_rc REFUSED "$TMP/sig0only/update.key" "update add tsig.example.com. 300 A 192.0.2.4"
expect_rc REFUSED "" "update add unsigned.example.com. 300 A 192.0.2.6"
expect_rc NOERROR "$ED.private" "update add ed.example.com. 300 A 192.0.2.3"
has ed A || fail "ed.example.com. A is missing (update-auth sig0)"
has tsig A && fail "a TSIG-signed UPDATE was applied with update-auth sig0"
has unsigned A && fail "an unsigned UPDATE was applied with update-auth sig0"
[ "$(grep -c 'UPDATE without SIG(0) refused, update-auth sig0' "$TMP/sig0only/knot.log")" = 2 ] ||
	fail "the TSIG and unsigned refusals are not logged"
log "update-auth sig0: TSIG and unsigned REFUSED (logged), SIG(0) applied"
knot_stop "$KNOT_PID"

# 4. update-auth tsig: SIG(0) refused.
port=$(free_port)
replica_setup "$TMP/tsigonly" "$port" "$TMP/keys" "    update-auth: tsig"
knot_start "$TMP/tsigonly"
wait_signed "$TMP/tsigonly"
expect_rc REFUSED "$ED.private" "update add ed.example.com. 300 A 192.0.2.3"
expect_rc NOERROR "$TMP/tsigonly/update.key" "update add tsig.example.com. 300 A 192.0.2.4"
has ed A && fail "a SIG(0)-signed UPDATE was applied with update-auth tsig"
has tsig A || fail "tsig.example.com. A is missing (update-auth tsig)"
grep -q 'SIG(0)-signed UPDATE from 127.0.0.1 refused, update-auth tsig' "$TMP/tsigonly/knot.log" ||
	fail "the SIG(0) refusal is not logged"
log "update-auth tsig: SIG(0) REFUSED (logged), TSIG applied"
knot_stop "$KNOT_PID"

# 5. A forged batch log, applied with update-auth sig0.
T=$(date +%s)
"$PY" - "$TESTS" "$TMP/forged.log" "$T" "$ED" "$STRANGER" "$TSIG_NAME" "$TSIG_SECRET" <<'PY' ||
import base64, sys
sys.path.insert(0, sys.argv[1])
from sig0 import Key, update, sign
import tsig

path, T = sys.argv[2], int(sys.argv[3])
key = Key(sys.argv[4] + ".private", sys.argv[4] + ".key")
stranger = Key(sys.argv[5] + ".private", sys.argv[5] + ".key")
tsig_name, secret = sys.argv[6], base64.b64decode(sys.argv[7])
later = T + 1000
batch2 = [
    sign(update("r-good"), key, T - 300, T + 300),                  # applied
    sign(update("r-expired"), key, T - 900, T - 301),               # BADTIME
    sign(update("r-stranger"), stranger, T - 300, T + 300),         # BADKEY
    tsig.sign(update("r-tsig"), tsig_name, secret, T),              # REFUSED
    update("r-unsigned"),                                           # REFUSED
]
batch3 = [
    sign(update("r-stale"), key, T - 300, T + 300),                 # BADTIME at T + 1000
    sign(update("r-later"), key, later - 300, later + 300),         # applied
]
with open(path, "w") as f:
    f.write("batch 1 %d 1\nsign\n" % T)
    for seq, (t, msgs) in enumerate([(T, batch2), (later, batch3)], 2):
        f.write("batch %d %d %d\n" % (seq, t, len(msgs)))
        for m in msgs:
            f.write("update " + base64.b64encode(m).decode() + "\n")
PY
	fail "could not write the forged batch log"

# replay NAME: a fresh replica that applies the forged log; leaves NAME.axfr.
replay() {
	local name=$1
	port=$(free_port)
	replica_setup "$TMP/$name" "$port" "$TMP/keys" "$KEYS
    update-auth: sig0
    replay: \"$TMP/forged.log\""
	knot_start "$TMP/$name"
	wait_log "$TMP/$name/knot.log" 'replay finished' 300 ||
		fail "replica $name did not finish its replay"
	grep -q 'replay finished, 3 batches applied' "$TMP/$name/knot.log" ||
		fail "replica $name: $(grep 'replay' "$TMP/$name/knot.log" | tail -n 1)"
	for n in r-good r-later; do
		has "$n" A || fail "replica $name: $n.example.com. A is missing"
	done
	for n in r-expired r-stranger r-tsig r-unsigned r-stale; do
		has "$n" A && fail "replica $name: forged $n.example.com. A was applied"
	done
	axfr "$port" "$TMP/$name.axfr"
	knot_stop "$KNOT_PID"
}
replay f1
L=$TMP/f1/knot.log
count() { grep -c "ordered UPDATE from unknown refused at batch time $1, $2" "$L" || true; }
[ "$(count "$T" 'NOTAUTH, SIG(0) BADTIME (SIG(0) expired)')" = 1 ] || fail "want 1 expired at $T: $(grep refused "$L")"
[ "$(count "$T" 'NOTAUTH, SIG(0) BADKEY')" = 1 ] || fail "want 1 BADKEY at $T: $(grep refused "$L")"
[ "$(count "$T" 'REFUSED, not SIG(0)-signed')" = 2 ] || fail "want 2 REFUSED (TSIG, unsigned) at $T: $(grep refused "$L")"
[ "$(count "$((T + 1000))" 'NOTAUTH, SIG(0) BADTIME (SIG(0) expired)')" = 1 ] ||
	fail "want 1 expired at $((T + 1000)): $(grep refused "$L")"
[ "$(grep -c 'refused at batch time' "$L")" = 5 ] || fail "want 5 refusals in all: $(grep refused "$L")"
log "forged batch log (update-auth sig0): SIG(0) checked at each batch's time (valid at T refused at T + 1000, valid only at T + 1000 applied there), TSIG and unsigned REFUSED, unknown key and expired NOTAUTH"
replay f2
cmp -s "$TMP/f1.axfr" "$TMP/f2.axfr" || { diff "$TMP/f1.axfr" "$TMP/f2.axfr" | head -n 20; fail "two replicas replaying the forged log differ"; }
log "a second replica replaying the forged log ends with the same zone"
log "PASS"
