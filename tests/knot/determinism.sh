#!/usr/bin/env bash
# The apply path is deterministic and follows the batch time, not the clock.
#
# Replica A takes UPDATEs from clients (some at once, so that batches hold
# several) and logs its ordered batches (batch-log). Then fresh replicas
# replay the log (replay): D with the logged times must end with a zone
# byte-identical to A's; B and C replay it with every batch time moved ten
# days ahead and must end identical to each other, with every RRSIG's
# inception and expiration computed from a (shifted) batch time.
. "$(dirname "$0")/lib.sh"

make_key "$TMP/keys"

# 1. A live replica with a batch log.
port_a=$(free_port)
replica_setup "$TMP/a" "$port_a" "$TMP/keys" "    batch-log: \"$TMP/a.log\""
knot_start "$TMP/a"
wait_signed "$TMP/a"
key="$TMP/a/update.key"

[ "$(nsupdate_rc "$port_a" "$key" "update add one.example.com. 300 A 192.0.2.1")" = NOERROR ] ||
	fail "first update failed"
# Concurrent clients: the order step batches what waits while it applies.
pids=()
for i in $(seq 1 12); do
	nsupdate_rc "$port_a" "$key" "update add host$i.example.com. 300 A 192.0.2.$((100 + i))
update add host$i.example.com. 300 TXT \"client $i\"" >"$TMP/client$i.rc" &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
for i in $(seq 1 12); do
	[ "$(cat "$TMP/client$i.rc")" = NOERROR ] || fail "client $i: $(cat "$TMP/client$i.rc")"
done
[ "$(nsupdate_rc "$port_a" "$key" "prereq nxdomain one.example.com.
update add one.example.com. 300 TXT \"no\"")" = YXDOMAIN ] || fail "prerequisite should fail"
[ "$(nsupdate_rc "$port_a" "$key" "update delete host3.example.com.
update delete www.example.com. AAAA")" = NOERROR ] || fail "delete failed"
axfr "$port_a" "$TMP/a.axfr"
knot_stop "$KNOT_PID"

batches=$(grep -c '^batch ' "$TMP/a.log")
updates=$(grep -c '^update ' "$TMP/a.log")
[ "$updates" -eq 15 ] || fail "the batch log holds $updates UPDATEs, want 15"
[ "$batches" -lt $((updates + 1)) ] || log "note: no batch held two UPDATEs this time"
log "replica A: $batches batches, $updates UPDATEs, serial $(awk '$4 == "SOA" { print $7; exit }' "$TMP/a.axfr")"

# replay NAME LOG [BATCHES]: a fresh replica that applies LOG; leaves NAME.axfr.
replay() {
	local name=$1 log_file=$2 expected=${3:-$batches} port
	port=$(free_port)
	replica_setup "$TMP/$name" "$port" "$TMP/keys" "    replay: \"$log_file\""
	knot_start "$TMP/$name"
	wait_log "$TMP/$name/knot.log" 'replay finished' 300 ||
		fail "replica $name did not finish its replay"
	grep -q "replay finished, $expected batches applied" "$TMP/$name/knot.log" ||
		fail "replica $name: $(grep 'replay' "$TMP/$name/knot.log" | tail -n 1)"
	axfr "$port" "$TMP/$name.axfr"
	# A replaying replica takes no UPDATE of its own.
	[ "$(nsupdate_rc "$port" "$TMP/$name/update.key" "update add x.example.com. 300 A 192.0.2.9")" = REFUSED ] ||
		fail "replica $name took an UPDATE while replaying"
	knot_stop "$KNOT_PID"
}

# 2. Same batches, same times: the same zone as the live replica.
replay d "$TMP/a.log"
cmp -s "$TMP/a.axfr" "$TMP/d.axfr" || { diff "$TMP/a.axfr" "$TMP/d.axfr" | head -n 20; fail "replay of A's log differs from A"; }
log "replay with A's times: zone identical to A's ($(wc -l <"$TMP/a.axfr") records)"

# 3. Batch times ten days ahead: B and C agree, RRSIGs follow the batch times.
shift=$((10 * 86400))
awk -v s="$shift" '$1 == "batch" { $3 = $3 + s } { print }' "$TMP/a.log" >"$TMP/shifted.log"
# Every ordered UPDATE's TSIG is checked at its batch time: signed again at the shifted one.
python3 "$(dirname "$0")/tsig.py" resign "$TMP/shifted.log" "$TSIG_NAME" "$TSIG_SECRET"
replay b "$TMP/shifted.log"
replay c "$TMP/shifted.log"
cmp -s "$TMP/b.axfr" "$TMP/c.axfr" || { diff "$TMP/b.axfr" "$TMP/c.axfr" | head -n 20; fail "B and C differ"; }
cmp -s "$TMP/a.axfr" "$TMP/b.axfr" && fail "shifted batch times left the RRSIGs unchanged"
log "replay with shifted times: B and C identical"

# Every RRSIG: inception = T - 90 min, expiration = T + 14 days (rrsig-lifetime
# of the default policy) for a batch time T of the shifted log.
python3 - "$TMP/shifted.log" "$TMP/b.axfr" <<'PY' || fail "RRSIG times do not follow the batch times"
import calendar, sys, time
times = [int(l.split()[2]) for l in open(sys.argv[1]) if l.startswith("batch ")]
def epoch(s):
    return calendar.timegm(time.strptime(s, "%Y%m%d%H%M%S"))
seen, soa_t = 0, None
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) > 10 and f[3] == "RRSIG":
        expire, incept = epoch(f[8]), epoch(f[9])
        t = incept + 5400
        if t not in times or expire != t + 14 * 86400:
            sys.exit("RRSIG %s %s: inception %s, expiration %s match no batch time"
                     % (f[0], f[4], f[9], f[8]))
        if f[4] == "SOA":
            soa_t = t
        seen += 1
if soa_t != times[-1]:
    sys.exit("the SOA RRSIG is from %s, not from the last batch %s" % (soa_t, times[-1]))
if soa_t < time.time() + 9 * 86400:
    sys.exit("the SOA RRSIG time is not the shifted one")
print("determinism: %d RRSIGs, all from batch times; SOA signed at the last batch time %s"
      % (seen, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(soa_t))))
PY

# 4. RRSIG refresh is an ordered signing pass at the batch time: one minute
#    after signing nothing is due (no change, no new serial); a minute before
#    the RRSIGs expire every one of them is made again from that time.
t0=$(( $(date +%s) + 30 * 86400 ))
t1=$(( t0 + 60 ))
t2=$(( t0 + 14 * 86400 - 60 ))
printf 'batch 1 %s 1\nsign\nbatch 2 %s 1\nsign\nbatch 3 %s 1\nsign\n' "$t0" "$t1" "$t2" >"$TMP/refresh.log"
replay e "$TMP/refresh.log" 3
serial=$(awk '$4 == "SOA" { print $7; exit }' "$TMP/e.axfr")
[ "$serial" = 3 ] || fail "after sign, idle pass, refresh: serial $serial, want 3 (1 + two changes)"
python3 - "$t2" "$TMP/e.axfr" <<'PY' || fail "the refresh pass did not re-sign every RRSIG at its time"
import calendar, sys, time
t = int(sys.argv[1])
n = 0
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) > 10 and f[3] == "RRSIG":
        incept = calendar.timegm(time.strptime(f[9], "%Y%m%d%H%M%S"))
        if incept != t - 5400:
            sys.exit("RRSIG %s %s incepted %s, not at the refresh batch" % (f[0], f[4], f[9]))
        n += 1
print("refresh: %d RRSIGs re-signed at the refresh batch time, serial 3" % n)
PY

# 5. Ordered bytes are not trusted (with n > 1 they come from peers): junk,
#    a truncated header, a QUERY, an UPDATE of another zone, one with a bad
#    question type each get an error RCODE and change nothing; the good
#    UPDATE between them is applied.
python3 - "$TMP/junk.log" "$(date +%s)" "$(dirname "$0")" "$TSIG_NAME" "$TSIG_SECRET" <<'PY'
import base64, os, struct, sys
sys.path.insert(0, sys.argv[3])
import tsig
def name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".") if l) + b"\0"
def msg(opcode, zone, qtype=6, updates=b"", upcount=0):
    head = struct.pack("!HHHHHH", 4711, opcode << 11, 1, 0, upcount, 0)
    return head + name(zone) + struct.pack("!HH", qtype, 1) + updates
good = name("junk-ok.example.com") + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([192, 0, 2, 77])
t = int(sys.argv[2])
# The good UPDATE is signed at its batch time: ordered UPDATEs are authorized too.
signed = tsig.sign(msg(5, "example.com", updates=good, upcount=1), sys.argv[4],
                   base64.b64decode(sys.argv[5]), t + 1)
msgs = [os.urandom(40), b"\x12\x34\x28", msg(0, "example.com"), msg(5, "example.org"),
        msg(5, "example.com", qtype=1), signed,
        msg(5, "example.com", updates=good[:-3], upcount=1)]
with open(sys.argv[1], "w") as f:
    f.write("batch 1 %d 1\nsign\n" % t)
    f.write("batch 2 %d %d\n" % (t + 1, len(msgs)))
    for m in msgs:
        f.write("update " + base64.b64encode(m).decode() + "\n")
PY
replay f "$TMP/junk.log" 2
grep -q 'junk-ok.example.com.*192.0.2.77' "$TMP/f.axfr" || fail "the good UPDATE among junk was not applied"
serial=$(awk '$4 == "SOA" { print $7; exit }' "$TMP/f.axfr")
[ "$serial" = 3 ] || fail "junk changed the zone: serial $serial, want 3"
[ "$(grep -c 'IN[[:space:]]A[[:space:]]' "$TMP/f.axfr")" -eq 3 ] || fail "junk added A records"
log "junk among ordered UPDATEs: the good one applied, serial 3, nothing else"

# A malformed batch log stops the replay with the line it could not read.
printf 'batch 1 %s 2\nsign\nupdate !!!\n' "$(date +%s)" >"$TMP/bad.log"
port=$(free_port)
replica_setup "$TMP/g" "$port" "$TMP/keys" "    replay: \"$TMP/bad.log\""
knot_start "$TMP/g"
wait_log "$TMP/g/knot.log" "replay '.*bad.log', line 3: .*replay stopped" ||
	fail "no log line for the malformed batch log"
log "malformed batch log: $(grep -o "replay '.*" "$TMP/g/knot.log" | head -n 1)"
knot_stop "$KNOT_PID"

log "PASS"
