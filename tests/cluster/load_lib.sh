# Update clients under load, and what the zone must hold after them: the
# shared part of the crash tests (crash_load.sh, kill_all.sh). Sourced after
# lib.sh; load_begin makes the group (cluster_keys): n replicas in
# CLUSTER_N, the clients' results in TMP/client-C.out.
#
# Client C's UPDATE K adds u-C-K (it is applied iff that name is in the
# zone; no UPDATE deletes it), adds d-C-K and deletes d-C-(K-1) (deletes
# under load), and moves the counter cnt-C.example.com. TXT from the values
# its earlier UPDATEs may have left (the last acknowledged one and every
# later one) to "K". Applied once each, in order, the counter holds exactly
# the highest applied K; an UPDATE applied again after a later one leaves
# its value beside it. An UPDATE whose outcome is unknown may rightly be
# ordered after later ones of its client (its replica died with the
# proposal in flight and the client got an error at once): its value may
# stay beside the highest one (seen: client 2's UPDATE 161, reset by
# replica 4's death, applied after 162 sent to replica 1 and acknowledged).
# (Applied twice in a row, with no later one between,
# it changes only the serial: on one replica that is a differing AXFR; on
# all alike it is not seen here.) Only NOERROR answers are acknowledged; an UPDATE
# whose replica died or that timed out is unknown (applied or not) and the
# client moves on (it never resends one: a resend may rightly apply twice).
#
# load_check then wants: one more UPDATE per client answered NOERROR (the
# group is live), every replica serving the same sorted AXFR (serial
# included), ldns-verify-zone and dnssec-verify accepting it, every
# acknowledged UPDATE in it, every counter holding the highest applied
# UPDATE's value and no acknowledged one's beside it, d-C-K there exactly
# when K was applied and K + 1 was not (or K was unknown and came late),
# and no replica that logged a batch delivered again, stopping to apply,
# or needing a state transfer.

# Per client: the timeout of one UPDATE (then it is unknown) and a bound
# on the UPDATEs it sends.
UPDATE_TIMEOUT=30
UPDATES_MAX=5000

# load_tools: skips unless the clients and checkers are installed.
load_tools() {
	local tool
	for tool in nsupdate ldns-verify-zone dnssec-verify dig python3; do
		command -v "$tool" >/dev/null || skip "$tool is missing (./run.sh deps installs it)"
	done
}

# load_client C: UPDATEs until the deadline (DEADLINE, seconds since the
# epoch); one "C K TOOL REPLICA RCODE" line each in TMP/client-C.out, to
# the replicas in turn, nsupdate (UDP) and knsupdate (TCP) alternately. The
# counter values an UPDATE deletes: the last acknowledged one and every
# unknown one since (not one refused a connection: no replica received it).
load_client() {
	local c=$1 k=0 r tool rc script j maybe=() n=$CLUSTER_N
	while (( $(date +%s) < DEADLINE && k < UPDATES_MAX )); do
		k=$((k + 1))
		r=$(((c + k) % n + 1))
		script="update add u-$c-$k.example.com. 300 A 192.0.2.$((k % 250 + 1))
update add d-$c-$k.example.com. 300 A 198.51.100.$((k % 250 + 1))"
		[ "$k" -eq 1 ] || script+=$'\n'"update delete d-$c-$((k - 1)).example.com. A"
		for j in "${maybe[@]}"; do
			script+=$'\n'"update delete cnt-$c.example.com. TXT \"$j\""
		done
		script+=$'\n'"update add cnt-$c.example.com. 300 TXT \"$k\""
		if (((c + k) % 2 == 0)); then
			tool=nsupdate
			rc=$(NSUPDATE_ARGS="-t $UPDATE_TIMEOUT -u $UPDATE_TIMEOUT -r 0" \
				nsupdate_rc "${CLUSTER_DNS_PORT[r]}" "$TMP/replica-1/update.key" "$script")
		else
			tool=knsupdate
			rc=$(KNSUPDATE_TIMEOUT=$UPDATE_TIMEOUT knsupdate_rc "${CLUSTER_DNS_PORT[r]}" "$script")
		fi
		case "$rc" in
			NOERROR) maybe=("$k") ;;
			*"connection refused"*|*"can't connect"*) rc=DOWN ;;
			*) maybe+=("$k") ;;
		esac
		echo "$c $k $tool $r ${rc// /_}" >>"$TMP/client-$c.out"
	done
}

# load_start CLIENTS SECONDS: the clients in the background until
# DEADLINE, SECONDS from now (their PIDs in CLUSTER_BG).
load_start() {
	local c
	LOAD_CLIENTS=$1
	DEADLINE=$(($(date +%s) + $2))
	for ((c = 1; c <= LOAD_CLIENTS; c++)); do
		: >"$TMP/client-$c.out"
		load_client "$c" 2>"$TMP/client-$c.err" &
		CLUSTER_BG+=($!)
	done
}

# load_begin SEED CLIENTS SECONDS WHAT: the start both crash tests share,
# so that they differ only in how they crash replicas. Skips unless the
# tools are there; seeds RANDOM with SEED (printed with WHAT, the test's
# plan, so that a failing run can be repeated); starts the group of n
# replicas tolerating f (the caller's n and f) and waits until every one
# serves the same signed zone; then CLIENTS clients for SECONDS under
# load_start, and start the time they began (seconds since the epoch).
load_begin() {
	load_tools
	RANDOM=$(($1 % 32768))
	log "seed $1 ($2 clients, $3 s of load, $4)"

	cluster_keys "$TMP" "$n" "$f"
	cluster_start
	cluster_wait_all_links 300
	cluster_wait_signed 600
	cluster_wait_same_zone "$TMP/start" 600
	log "n = $n, f = $f: links up, every replica serves the signed zone (serial $(cluster_serial 1))"

	load_start "$2" "$3"
	start=$(date +%s)
}

# crash_fail MESSAGE: fail, first printing what each replica's whole log
# says that matters here (fail prints only the last lines).
crash_fail() {
	local i
	for ((i = 1; i <= CLUSTER_N; i++)); do
		echo "--- replica $i: restarts, catch-up, waits, faults and errors" >&2
		grep -E 'Knot DNS .* starting|resumed after batch|catching up|waits for|differs|fault|error:|state transfer|stops applying|vote' \
			"$CLUSTER_DIR/replica-$i/knot.log" | grep -v 'too far ahead' | tail -n 60 >&2 || true
		echo "(and $(grep -c 'too far ahead' "$CLUSTER_DIR/replica-$i/knot.log" || true) 'too far ahead' lines)" >&2
	done
	fail "$@"
}

# acks: how many UPDATEs all clients have had answered NOERROR so far.
acks() {
	cat "$TMP"/client-*.out 2>/dev/null | grep -c ' NOERROR$' || true
}

# acks_above N: more than N acknowledged.
acks_above() {
	[ "$(acks)" -gt "$1" ]
}

# progress WHAT MORE: waits (bounded) until MORE more UPDATEs are
# acknowledged: the group is live with what is down now.
progress() {
	local before
	before=$(acks)
	wait_for 900 acks_above $((before + $2 - 1)) ||
		crash_fail "no progress $1: $(($(acks) - before)) UPDATEs acknowledged in 90 s (want $2)"
}

# others_max I: the highest serial any replica but I serves now.
others_max() {
	local i s max=0
	for i in $(cluster_up); do
		[ "$i" != "$1" ] || continue
		s=$(cluster_serial "$i")
		[ -z "$s" ] || [ "$s" -le "$max" ] || max=$s
	done
	echo "$max"
}

# links_up_count I: how often replica I has logged all its links up.
links_up_count() {
	grep -c "links up to all $((CLUSTER_N - 1)) peers" "$CLUSTER_DIR/replica-$1/knot.log" || true
}

# links_up_more I N: replica I logged all links up more than N times.
links_up_more() {
	[ "$(links_up_count "$1")" -gt "$2" ]
}

# restart_caught_up I...: starts the replicas again from their own config,
# waits (bounded) until each has its links up and serves at least the
# serial the others had when it started (it caught up with the group).
restart_caught_up() {
	local i target links=()
	for i in "$@"; do
		links[i]=$(links_up_count "$i")
		cluster_start_one "$i"
	done
	for i in "$@"; do
		wait_for 600 links_up_more "$i" "${links[i]}" || crash_fail "replica $i: links not all up after its restart"
		target=$(others_max "$i")
		wait_for 1200 cluster_serial_at_least "$i" "$target" ||
			crash_fail "replica $i did not catch up: serial '$(cluster_serial "$i")', the others had $target at its start"
	done
}

# load_wait: waits for the clients (they stop at DEADLINE), sums up in
# TMP/clients.out and logs the counts.
load_wait() {
	local pid total acked
	for pid in "${CLUSTER_BG[@]}"; do
		wait "$pid" || true
	done
	CLUSTER_BG=()
	cat "$TMP"/client-*.out >"$TMP/clients.out"
	total=$(wc -l <"$TMP/clients.out")
	acked=$(acks)
	log "load over: $total UPDATEs sent, $acked acknowledged," \
		"$((total - acked)) unknown ($(awk '$5 != "NOERROR" { print $5 }' "$TMP/clients.out" |
		sort | uniq -c | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }'))"
}

# load_dead I: if replica I's knotd is gone, says so with its exit status
# and its last words on stderr (seen once: a replica that took no TCP
# connection after the load, crash_load.sh; a dead process would explain it).
load_dead() {
	local pid=${CLUSTER_PID[$1]:-} status=0
	[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null || return 0
	wait "$pid" 2>/dev/null || status=$?
	printf '; replica %s (pid %s) is not running any more: exit status %s, stderr: %s' "$1" \
		"$pid" "$status" "$(tail -n 3 "$CLUSTER_DIR/replica-$1/knotd.out" 2>/dev/null | tr '\n' ' ')"
}

# load_check: with every replica up, what the header says.
load_check() {
	local c r rc zone i
	for ((c = 1; c <= LOAD_CLIENTS; c++)); do
		r=$(((c - 1) % CLUSTER_N + 1))
		rc=$(KNSUPDATE_TIMEOUT=120 knsupdate_rc "${CLUSTER_DNS_PORT[r]}" \
			"update add final-$c.example.com. 300 A 203.0.113.$c")
		[ "$rc" = NOERROR ] || crash_fail "the final UPDATE of client $c to replica $r was answered $rc$(load_dead "$r")"
	done
	log "every replica up, one more UPDATE per client answered NOERROR"

	cluster_wait_same_zone "$TMP/end" 1200
	zone=$TMP/end/zone
	log "every replica serves the same zone (AXFR, $(wc -l <"$zone") lines, serial $(awk '$4 == "SOA" { print $7; exit }' "$zone"))"

	python3 - "$zone" "$TMP/clients.out" "$LOAD_CLIENTS" >"$TMP/check.out" 2>&1 <<'PY' ||
import re, sys
zone, results, clients = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = {}
for line in open(zone):
    f = line.split()
    if len(f) >= 5 and not line.startswith(';'):
        names.setdefault(f[0].lower(), []).append((f[3], " ".join(f[4:])))
sent, acked = {}, {}
for line in open(results):
    c, k, _tool, _r, rc = line.split()
    c, k = int(c), int(k)
    sent[c] = max(sent.get(c, 0), k)
    if rc == "NOERROR":
        acked.setdefault(c, set()).add(k)
bad = []
for c in range(1, clients + 1):
    if not ("final-%d.example.com." % c) in names:
        bad.append("client %d: its final UPDATE is missing" % c)
    applied = {k for k in range(1, sent.get(c, 0) + 1)
               if any(t == "A" for t, _ in names.get("u-%d-%d.example.com." % (c, k), []))}
    lost = sorted(acked.get(c, set()) - applied)
    if lost:
        bad.append("client %d: acknowledged UPDATEs missing: %s" % (c, lost[:20]))
    # An unknown UPDATE may be ordered after later ones (its replica died
    # with its proposal in flight, the client got an error at once and went
    # on): its counter value and its d- name may then stay. An
    # acknowledged one may not: it was applied before the client sent the
    # next one, so a later value or presence of it is a second application.
    unknown = applied - acked.get(c, set())
    counter = sorted(int(v.strip('"')) for t, v in names.get("cnt-%d.example.com." % c, []) if t == "TXT")
    top = max(applied) if applied else None
    if (top is None and counter) or (top is not None and top not in counter) or \
       any(v != top and v not in unknown for v in counter):
        bad.append("client %d: counter holds %s, want %s and unknown UPDATEs only (an UPDATE "
                   "applied twice or out of order)" % (c, counter, [top] if top else []))
    for k in range(1, sent.get(c, 0) + 1):
        has = "d-%d-%d.example.com." % (c, k) in names
        late = k in unknown and k + 1 in applied
        if has != (k in applied and k + 1 not in applied) and not (has and late):
            bad.append("client %d: d-%d-%d is %s (UPDATE %d %s, %d %s)" % (c, c, k,
                       "there" if has else "missing", k, "applied" if k in applied else "not applied",
                       k + 1, "applied" if k + 1 in applied else "not applied"))
    print("client %d: %d sent, %d acknowledged, %d applied" % (c, sent.get(c, 0),
          len(acked.get(c, ())), len(applied)))
for name in names:
    m = re.match(r"^[ud]-(\d+)-(\d+)\.example\.com\.$", name)
    if m and int(m.group(2)) > sent.get(int(m.group(1)), 0):
        bad.append("%s was never sent" % name)
for b in bad[:40]:
    print("BAD: " + b)
sys.exit(1 if bad else 0)
PY
		{ cat "$TMP/check.out" >&2; crash_fail "the zone does not hold what the clients were told (above)"; }
	sed 's/^/  /' "$TMP/check.out"
	log "every acknowledged UPDATE is there, no acknowledged one applied again or out of order"

	cp "$CLUSTER_DIR/keys/example.com.dnskey" "$TMP/dnskey"
	zone_verify "$zone" "$TMP/dnskey"
	log "ldns-verify-zone and dnssec-verify accept it"

	cluster_no_redelivery 'needs a state transfer' ||
		crash_fail "a replica applied a batch again, stopped applying or needed a state transfer"
	log "no replica applied a batch again, stopped applying or needed a state transfer"
}
