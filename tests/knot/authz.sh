#!/usr/bin/env bash
# Every replica authorizes every ordered UPDATE itself, at the batch time
# (knot-patch/0007, module/authz.c): with n > 1 an UPDATE may come from a
# faulty peer, so its TSIG and the zone's update ACL are checked again
# before it is applied, with this knotd's keys and the batch's agreed time.
#
# 1. Live clients (n = 1): TSIG-signed UPDATEs pass intake and apply; an
#    ACL with an update-type rule is honoured; a wrong secret, an unknown
#    key and no TSIG are refused and change nothing. (These are refused at
#    intake already; the check at apply must pass the good ones, whose TSIG
#    it verifies against the batch time with the message as taken over.)
# 2. A forged batch, as a faulty peer would order it, fed through the batch
#    log (replay applies batches exactly like the ordered path): UPDATEs
#    signed with the right key within the fudge of the batch time are
#    applied; a bad MAC, a wrong secret, an unknown key, a wrong algorithm,
#    a time signed outside the fudge of the batch time (whatever the clock
#    says), no TSIG, and a type the key's ACL rule does not allow are
#    refused with the right rcode and change nothing. Two replicas replaying
#    the log end with the same zone.
#
# authz.sh [live | replay]: one part only (default: both).
mode=${1:-all}
. "$(dirname "$0")/lib.sh"

make_key "$TMP/keys"

# A second key whose ACL rule allows A records only.
TYPED_NAME=typed.key
TYPED_SECRET=dHlwZWR0eXBlZHR5cGVkdHlwZWR0eXBlZHR5cGVkMTI=

# authz_setup DIR PORT [MODULE-ITEMS]: replica 1 of 1 with both keys.
authz_setup() {
	local dir=$1 port=$2 extra=${3:-}
	mkdir -p "$dir"
	write_zone "$dir/example.com.zone"
	{
		knot_conf_head "$dir" "127.0.0.1@$port"
		cat <<-CONF
	  - id: $TYPED_NAME
	    algorithm: hmac-sha256
	    secret: $TYPED_SECRET
	acl:
	  - id: update
	    key: $TSIG_NAME
	    action: update
	  - id: typed
	    key: $TYPED_NAME
	    action: update
	    update-type: [ A ]
	  - id: transfer
	    address: 127.0.0.1
	    action: transfer
	module:
	  - id: mod-bftdns
	    file: "$BFTDNS_MODULE"
	mod-bftdns:
	  - id: default
	    replica-id: 1
	    replicas: 1
	    faults: 0
	    key-share: "$TMP/keys/share-1.key"
	$extra
	zone:
	  - domain: example.com.
	    file: "$dir/example.com.zone"
	    acl: [ update, typed, transfer ]
	    module: mod-bftdns/default
	CONF
	} >"$dir/knot.conf"
}

# key_file FILE NAME SECRET: a key file for nsupdate -k.
key_file() {
	printf 'key "%s" {\n    algorithm hmac-sha256;\n    secret "%s";\n};\n' "$2" "$3" >"$1"
}

# has NAME TYPE PORT: the name has an RRset of the type in the served zone.
has() {
	[ -n "$("$KDIG" @127.0.0.1 -p "$3" +short "$1.example.com." "$2")" ]
}

# 1. Live clients.
live() {
port=$(free_port)
authz_setup "$TMP/live" "$port"
knot_start "$TMP/live"
wait_signed "$TMP/live"
key_file "$TMP/good.key" "$TSIG_NAME" "$TSIG_SECRET"
key_file "$TMP/typed.key" "$TYPED_NAME" "$TYPED_SECRET"
key_file "$TMP/wrong.key" "$TSIG_NAME" "$TYPED_SECRET"
key_file "$TMP/unknown.key" unknown.key "$TSIG_SECRET"

expect_rc() {
	local want=$1 key=$2 script=$3 got
	got=$(nsupdate_rc "$port" "$key" "$script")
	[ "$got" = "$want" ] || fail "'$script' with ${key:-no key}: $got, want $want"
}
expect_rc NOERROR "$TMP/good.key" "update add live-good.example.com. 300 A 192.0.2.1"
expect_rc NOERROR "$TMP/typed.key" "update add live-typed.example.com. 300 A 192.0.2.2"
expect_rc NOTAUTH "$TMP/typed.key" "update add live-typed-txt.example.com. 300 TXT \"no\""
expect_rc NOTAUTH "$TMP/wrong.key" "update add live-wrong.example.com. 300 A 192.0.2.3"
expect_rc NOTAUTH "$TMP/unknown.key" "update add live-unknown.example.com. 300 A 192.0.2.4"
expect_rc NOTAUTH "" "update add live-unsigned.example.com. 300 A 192.0.2.5"
# knsupdate too (libknot's signer, not bind's).
printf 'server 127.0.0.1 %s\nzone example.com.\nupdate add live-knsupdate.example.com. 300 A 192.0.2.6\nsend\n' \
	"$port" | "$KNSUPDATE" -t 5 -y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" >"$TMP/knsupdate.out" 2>&1 ||
	fail "knsupdate with the good key: $(cat "$TMP/knsupdate.out")"

for n in live-good live-typed live-knsupdate; do
	has "$n" A "$port" || fail "$n.example.com. A is missing"
done
has live-typed-txt TXT "$port" && fail "the typed key added a TXT record"
for n in live-wrong live-unknown live-unsigned; do
	has "$n" A "$port" && fail "$n.example.com. A was added"
done
grep -q 'refused at batch time' "$TMP/live/knot.log" &&
	fail "the check at apply refused a live UPDATE: $(grep 'refused at batch time' "$TMP/live/knot.log")"
log "live: signed UPDATEs applied (nsupdate, knsupdate, an update-type rule); wrong secret, unknown key, no TSIG, a disallowed type: NOTAUTH, nothing changed"
knot_stop "$KNOT_PID"
}

# 2. A forged batch. The UPDATEs are made here, TSIG included (tsig.py),
#    so that their time signed is exactly what the test needs.
forged() {
T=$(date +%s)
python3 - "$(dirname "$0")" "$TMP/forged.log" "$T" "$TSIG_NAME" "$TSIG_SECRET" "$TYPED_NAME" "$TYPED_SECRET" <<'PY'
import base64, struct, sys
sys.path.insert(0, sys.argv.pop(1))
from tsig import name, sign

path, T = sys.argv[1], int(sys.argv[2])
good_name, good = sys.argv[3], base64.b64decode(sys.argv[4])
typed_name, typed = sys.argv[5], base64.b64decode(sys.argv[6])

def update(owner, rtype="A", ident=4711):
    if rtype == "A":
        rr = name(owner + ".example.com") + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 7])
    else:
        txt = b"\x05forge"
        rr = name(owner + ".example.com") + struct.pack("!HHIH", 16, 1, 300, len(txt)) + txt
    head = struct.pack("!HHHHHH", ident, 5 << 11, 1, 0, 1, 0)
    return head + name("example.com") + struct.pack("!HH", 6, 1) + rr

def flip_mac(msg):
    """The same message with one bit of its MAC inverted (the MAC ends 6 bytes
    before the end of the TSIG record, which ends the message)."""
    pos = len(msg) - 7
    return msg[:pos] + bytes([msg[pos] ^ 1]) + msg[pos + 1:]

batch2 = [
    sign(update("good"), good_name, good, T),                    # applied
    sign(update("edge-past"), good_name, good, T - 300),         # applied: at the fudge
    sign(update("edge-future"), good_name, good, T + 300),       # applied
    sign(update("late"), good_name, good, T - 301),              # BADTIME
    sign(update("early"), good_name, good, T + 301),             # BADTIME
    flip_mac(sign(update("badmac"), good_name, good, T)),        # BADSIG
    sign(update("wrongsecret"), good_name, typed, T),            # BADSIG
    sign(update("unknownkey"), "unknown.key", good, T),          # BADKEY
    sign(update("wrongalg"), good_name, good, T, "hmac-sha1"),   # BADKEY
    update("unsigned"),                                          # NOTAUTH (ACL)
    sign(update("typed-txt", "TXT"), typed_name, typed, T),      # NOTAUTH (update-type)
    sign(update("typed-a"), typed_name, typed, T),               # applied
    sign(update("upper"), good_name.upper(), good, T),           # applied: names ignore case
]
# The same signing time is good or not depending on the batch time alone.
later = T + 1000
batch3 = [
    sign(update("stale"), good_name, good, T),                   # BADTIME at T + 1000
    sign(update("later"), good_name, good, later),               # applied
]
with open(path, "w") as f:
    f.write("batch 1 %d 1\nsign\n" % T)
    for seq, (t, msgs) in enumerate([(T, batch2), (later, batch3)], 2):
        f.write("batch %d %d %d\n" % (seq, t, len(msgs)))
        for m in msgs:
            f.write("update " + base64.b64encode(m).decode() + "\n")
PY

# replay NAME: a fresh replica that applies the forged log; leaves NAME.axfr.
replay() {
	local name=$1 rport
	rport=$(free_port)
	authz_setup "$TMP/$name" "$rport" "    replay: \"$TMP/forged.log\""
	knot_start "$TMP/$name"
	wait_log "$TMP/$name/knot.log" 'replay finished' 300 ||
		fail "replica $name did not finish its replay"
	grep -q 'replay finished, 3 batches applied' "$TMP/$name/knot.log" ||
		fail "replica $name: $(grep 'replay' "$TMP/$name/knot.log" | tail -n 1)"
	for n in good edge-past edge-future typed-a upper later; do
		has "$n" A "$rport" || fail "replica $name: $n.example.com. A is missing"
	done
	for n in late early badmac wrongsecret unknownkey wrongalg unsigned stale; do
		has "$n" A "$rport" && fail "replica $name: forged $n.example.com. A was applied"
	done
	has typed-txt TXT "$rport" && fail "replica $name: the typed key's TXT was applied"
	axfr "$rport" "$TMP/$name.axfr"
	knot_stop "$KNOT_PID"
}

replay r1
# Each refusal is logged with its rcode (never a secret).
count() { grep -c "ordered UPDATE from unknown refused at batch time $1, $2" "$TMP/r1/knot.log" || true; }
[ "$(count "$T" 'NOTAUTH, TSIG BADTIME')" = 2 ] || fail "want 2 BADTIME at $T: $(grep 'refused' "$TMP/r1/knot.log")"
[ "$(count "$((T + 1000))" 'NOTAUTH, TSIG BADTIME')" = 1 ] || fail "want 1 BADTIME at $((T + 1000))"
[ "$(count "$T" 'NOTAUTH, TSIG BADSIG')" = 2 ] || fail "want 2 BADSIG: $(grep 'refused' "$TMP/r1/knot.log")"
[ "$(count "$T" 'NOTAUTH, TSIG BADKEY')" = 2 ] || fail "want 2 BADKEY: $(grep 'refused' "$TMP/r1/knot.log")"
[ "$(count "$T" 'NOTAUTH (')" = 2 ] || fail "want 2 NOTAUTH by the ACL: $(grep 'refused' "$TMP/r1/knot.log")"
[ "$(grep -c 'refused at batch time' "$TMP/r1/knot.log")" = 9 ] || fail "want 9 refusals in all"
grep -q "$TSIG_SECRET\|$TYPED_SECRET" "$TMP/r1/knot.log" && fail "a secret is in the log"
log "forged batch: 6 good UPDATEs applied (one with the key name in upper case); BADTIME (before, after the fudge, and one good at T but not at T + 1000), BADSIG (bit flipped, wrong secret), BADKEY (unknown key, wrong algorithm), no TSIG and a disallowed type (NOTAUTH) refused, nothing of them applied"

replay r2
cmp -s "$TMP/r1.axfr" "$TMP/r2.axfr" || { diff "$TMP/r1.axfr" "$TMP/r2.axfr" | head -n 20; fail "two replicas replaying the forged log differ"; }
log "a second replica replaying the forged log ends with the same zone"
}

case "$mode" in
live)   live ;;
replay) forged ;;
all)    live; forged ;;
*)      fail "usage: authz.sh [live | replay]" ;;
esac
log "PASS"
