#!/usr/bin/env bash
# The paper's Table 2 (Cachin & Samar, DSN 2004): time of a read, an add
# and a delete, sent one after another by a client next to replica 1, for
# (n, f, c) = (4,1,0), (4,1,1) on 127.0.0.1 and (7,2,0), (7,2,1), (7,2,2)
# on the emulated Internet of Figure 1 (tests/bench/wan: replicas 1-4 in
# Zurich, 5 New York, 6 Austin, 7 San Jose; the client on the Zurich LAN),
# for each signing protocol. c corrupted replicas run `misbehave:
# invert-shares`: first replica 2 (Zurich), then also replica 6 (Austin).
#
#   table2.sh [--quick] [--ops N] [--rows 4,1,0:7,2,1] [--protocols basic,optte] [--bits B]
#             [--designated on|off]
#
# --designated off: every replica computes a share of every RRSIG
# (signing-designated: off) instead of the f + 1 designated signers; the
# protocol is then labelled P_designated_off (in the table and the metric
# names), so such a run never overwrites the default's figures.
#
# A row is N,F,C; n <= 4 runs on 127.0.0.1 and larger n on the emulated
# Internet, unless the row says where: N,F,C@lo or N,F,C@wan (7,2,0@lo is
# the base case that tells the network's share from the protocol's).
#
# Reads: kdig (UDP) for www.example.com. A, twice: answered locally (the
# default), then, after replica 1 was restarted with ordered-reads: on,
# each ordered through the atomic broadcast first as in the paper
# ("read (ordered)", kind read_ordered); adds and deletes: knsupdate with
# TSIG, one name each. Time = the client process's wall time. For
# each column: mean of the first 20 (the paper's figure), median and p95
# of all N (100; 20 with --quick), and the failed operations. A column with
# a failed operation gets no figure; each add and delete is checked by a
# query to replica 1 afterwards (untimed). Writes build/bench/table2.tsv,
# build/bench/table2.png (with gnuplot: tests/bench/table2-plot.sh), and
# merges metric lines into build/bench/summary.tsv, e.g.
# wan_7_2_0_optte_add_p50_ms, and wan_7_2_0_add_p50_ms for the default
# protocol (optte); wan_7_2_0_read_ordered_p50_ms for the ordered reads.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
export KNOT_PREFIX=${KNOT_PREFIX:-$top/build/knot}
export BFTDNS_MODULE=${BFTDNS_MODULE:-$top/build/meson/module/mod-bftdns.so}
export BFTDNS_KEYGEN=${BFTDNS_KEYGEN:-$top/build/meson/coordinator/tools/bftdns-keygen}

ops=100 rows="4,1,0:4,1,1:7,2,0:7,2,1:7,2,2" protocols="basic,optproof,optte" bits=1024 designated=on
args=("$@")
while [ $# -gt 0 ]; do
	case "$1" in
		--quick)     ops=20; shift ;;
		--ops)       ops=$2; shift 2 ;;
		--rows)      rows=$2; shift 2 ;;
		--protocols) protocols=$2; shift 2 ;;
		--bits)      bits=$2; shift 2 ;;
		--designated) designated=$2; shift 2 ;;
		*) echo "table2: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$ops" -ge 1 ] || { echo "table2: --ops must be at least 1" >&2; exit 2; }
[ "$designated" = on ] || [ "$designated" = off ] ||
	{ echo "table2: --designated is on or off, not '$designated'" >&2; exit 2; }

# shellcheck source=../knot/lib.sh
. "$top/tests/knot/lib.sh"
# The emulated Internet's runtime files go with the rest of this run's.
WAN_RUN="$TMP/wan"
# shellcheck source=wan/lib.sh
. "$top/tests/bench/wan/lib.sh"
# shellcheck source=group.sh
. "$top/tests/bench/group.sh"
# shellcheck source=summary.sh
. "$top/tests/bench/summary.sh"

table2_cleanup() {
	group_stop 2>/dev/null || true
	wan_down
	cleanup
}
trap table2_cleanup EXIT
trap 'exit 130' INT TERM

GROUP_BITS=$bits
OUT="$top/build/bench"
mkdir -p "$OUT"
RESULTS="$TMP/results.tsv"
: >"$RESULTS"
WAN_HOSTS_OF_REPLICAS=(zrh1 zrh2 zrh3 zrh4 nyc aus sjc)
# A write column stops after this many failures with no success: a group
# that cannot commit fails every one alike (table2-client.sh).
STOP_AFTER=3
CLIENT=()

# column TAG KIND: the client's OPS operations of KIND against replica 1
# (tests/bench/table2-client.sh, on the client's host); times in TMP/TAG.KIND.
column() {
	KDIG=$KDIG KNSUPDATE=$KNSUPDATE TSIG_NAME=$TSIG_NAME TSIG_SECRET=$TSIG_SECRET \
	STOP_AFTER=$STOP_AFTER UPDATE_LOG="$TMP/knsupdate.out" \
		"${CLIENT[@]}" "$top/tests/bench/table2-client.sh" "$2" "$ops" \
		"${GROUP_ADDR[1]}" "${GROUP_DNS_PORT[1]}" "$TMP/$1.$2"
}

# signed_now: replica 1 serves the zone signed (an RRSIG with its SOA),
# which needs the group's first threshold-signed batch.
signed_now() {
	"${CLIENT[@]}" "$KDIG" @"${GROUP_ADDR[1]}" -p "${GROUP_DNS_PORT[1]}" +dnssec +time=2 +retry=0 \
		example.com. SOA 2>/dev/null | grep -q RRSIG
}

# ordered_read_ok: replica 1 answers www.example.com. A (ordered reads on:
# its links are up and it caught up with the group).
ordered_read_ok() {
	[ "$("${CLIENT[@]}" "$KDIG" @"${GROUP_ADDR[1]}" -p "${GROUP_DNS_PORT[1]}" +short +time=3 \
		+retry=0 www.example.com. A 2>/dev/null)" = 192.0.2.80 ]
}

# row_place N,F,C[@PLACE]: where the row runs (lo or wan).
row_place() {
	case "$1" in
		*@lo)  echo lo ;;
		*@wan) echo wan ;;
		*@*)   fail "row $1: the place is @lo or @wan" ;;
		*)     if [ "${1%%,*}" -le 4 ]; then echo lo; else echo wan; fi ;;
	esac
}

# run_row N F C PLACE PROTOCOL: one group, one protocol: the three columns.
run_row() {
	local n=$1 f=$2 c=$3 place=$4 proto=$5 tag signed=1 kind
	[ "$n" -le "${#WAN_HOSTS_OF_REPLICAS[@]}" ] || [ "$place" = lo ] ||
		fail "the emulated Internet has ${#WAN_HOSTS_OF_REPLICAS[@]} server hosts, not $n"
	local label=$proto i
	[ "$designated" = on ] || label="${proto}_designated_off"
	tag="${place}_${n}_${f}_${c}_${label}"
	GROUP_PROTOCOL=$proto
	GROUP_EXTRA=()
	if [ "$designated" = off ]; then
		for ((i = 1; i <= n; i++)); do
			GROUP_EXTRA[i]="    signing-designated: off"
		done
	fi
	# Corrupted: replica 2 (Zurich) first, then replica 6 (Austin).
	[ "$c" -ge 1 ] && GROUP_EXTRA[2]="${GROUP_EXTRA[2]:+${GROUP_EXTRA[2]}$'\n'}    misbehave: invert-shares"
	[ "$c" -ge 2 ] && GROUP_EXTRA[6]="${GROUP_EXTRA[6]:+${GROUP_EXTRA[6]}$'\n'}    misbehave: invert-shares"
	[ "$c" -le 2 ] || fail "c = $c: only 0, 1 or 2 corrupted replicas are defined"
	if [ "$place" = wan ]; then
		group_place_wan "${WAN_HOSTS_OF_REPLICAS[@]:0:$n}"
		CLIENT=(ip netns exec "$(wan_ns client)")
	else
		group_place_loopback "$n"
		CLIENT=()
	fi
	group_keys "$TMP/$tag" "$f"
	group_start
	group_wait_links 600 || fail "$tag: links not all up within 60 s"
	if ! wait_for 300 signed_now; then
		signed=0
		log "$tag: replica 1 does not serve the zone signed after 30 s (no threshold-signed batch yet)"
	fi
	for kind in read add delete; do
		column "$tag" "$kind"
	done
	# The same reads, ordered: replica 1 again with ordered-reads on (its
	# zone and journal kept; it catches up), once it answers one.
	GROUP_EXTRA[1]="${GROUP_EXTRA[1]:-}"$'\n'"    ordered-reads: on"
	group_restart_one 1
	if ! wait_for 600 ordered_read_ok; then
		log "$tag: replica 1 answers no ordered read 60 s after its restart"
	fi
	column "$tag" read_ordered
	group_stop
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$place" "$n" "$f" "$c" "$label" "$signed" "$tag" >>"$RESULTS"
	log "$tag done"
}

need_wan=0
for row in ${rows//:/ }; do
	place=$(row_place "$row")
	[ "$place" = lo ] || need_wan=1
done
if [ "$need_wan" = 1 ]; then
	rc=0
	wan_up || rc=$?
	if [ "$rc" -eq 77 ]; then
		fail "the emulated Internet rows need network namespaces: $WAN_REASON"
	fi
	[ "$rc" -eq 0 ] || fail "the emulated Internet did not come up"
	rc=0
	wan_rtt_table 3 10 client-zrh1 zrh1-nyc zrh1-aus zrh1-sjc nyc-aus nyc-sjc aus-sjc || rc=$?
	[ "$rc" -ne 2 ] || fail "a host of the emulated Internet does not answer"
	[ "$rc" -eq 0 ] || log "warning: a round trip's median is more than 3 ms off (a busy machine?)"
fi

log "command: ./run.sh bench table2 ${args[*]}"
log "$ops operations per column (mean of the first $((ops < 20 ? ops : 20))), RSA-$bits, knsupdate with TSIG, kdig over UDP"
# All replicas of a row share this machine's CPUs: say how busy it was.
log "start: $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
for row in ${rows//:/ }; do
	IFS=, read -r n f c <<<"${row%@*}"
	for proto in ${protocols//,/ }; do
		run_row "$n" "$f" "$c" "$(row_place "$row")" "$proto"
	done
done

python3 - "$RESULTS" "$TMP" "$OUT/table2.tsv" "$TMP/summary.tsv" <<'PY'
import math, statistics, sys
results, tmp, table_out, summary_out = sys.argv[1:5]
def pct(v, p):
    # nearest rank: the smallest value with at least p % of the values at or below it
    s = sorted(v)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]
rows, summary, notes = [], [], []
for line in open(results):
    place, n, f, c, proto, signed, tag = line.rstrip("\n").split("\t")
    cells = {}
    for kind in ("read", "read_ordered", "add", "delete"):
        lines = open(f"{tmp}/{tag}.{kind}").read().splitlines()
        stopped = "stopped" in lines
        lines = [l for l in lines if l != "stopped"]
        ok = [int(l) / 1000 for l in lines if not l.startswith("fail")]
        bad = [int(l.split()[1]) / 1000 for l in lines if l.startswith("fail")]
        failed = len(bad)
        cells[kind] = (ok, failed, len(lines), stopped)
        if bad:
            notes.append("%s %s: %d of %d failed%s; the failed ones were answered in median %.1f ms"
                         % (tag, kind, failed, len(lines), " (column stopped)" if stopped else "",
                            statistics.median(bad)))
        base = f"{place}_{n}_{f}_{c}_{proto}_{kind}"
        summary.append((f"{base}_failed", failed))
        names = [base]
        if proto == "optte":
            names.append(f"{place}_{n}_{f}_{c}_{kind}")
        if failed == 0 and ok:
            for b in names:
                summary.append((f"{b}_mean20_ms", "%.1f" % statistics.mean(ok[:20])))
                summary.append((f"{b}_p50_ms", "%.1f" % statistics.median(ok)))
                summary.append((f"{b}_p95_ms", "%.1f" % pct(ok, 95)))
    rows.append((place, n, f, c, proto, signed, cells))
with open(table_out, "w") as t:
    t.write("place\tn\tf\tc\tprotocol\tsigned_at_start\tkind\tok\tfailed\ttried\tmean20_ms\tp50_ms\tp95_ms\n")
    for place, n, f, c, proto, signed, cells in rows:
        for kind, (ok, failed, tried, stopped) in cells.items():
            fig = ("%.1f\t%.1f\t%.1f" % (statistics.mean(ok[:20]), statistics.median(ok), pct(ok, 95))
                   if failed == 0 and ok else "-\t-\t-")
            t.write(f"{place}\t{n}\t{f}\t{c}\t{proto}\t{signed}\t{kind}\t{len(ok)}\t{failed}\t{tried}\t{fig}\n")
with open(summary_out, "w") as s:
    for k, v in summary:
        s.write(f"{k}\t{v}\n")
def cell(ok, failed, tried, stopped):
    if failed:
        return ("FAILED %d/%d%s" % (failed, tried, " stop" if stopped else "")).center(23)
    if not ok:
        return "-".center(23)
    return "%7.1f %7.1f %7.1f" % (statistics.mean(ok[:20]), statistics.median(ok), pct(ok, 95))
print()
print("Table 2, ms: mean of the first 20 / median / p95 of each column (client process wall time)")
head = "   mean     p50     p95"
print("%-9s %-5s %-8s | %-23s | %-23s | %-23s | %-23s | %s" % ("n,f,c", "net", "protocol", "read", "read (ordered)", "add", "delete", "signed"))
print("%-9s %-5s %-8s | %-23s | %-23s | %-23s | %-23s |" % ("", "", "", head, head, head, head))
for place, n, f, c, proto, signed, cells in rows:
    print("%-9s %-5s %-8s | %s | %s | %s | %s | %s" % (f"{n},{f},{c}", "lo" if place == "lo" else "wan", proto,
          cell(*cells["read"]), cell(*cells["read_ordered"]), cell(*cells["add"]), cell(*cells["delete"]),
          "yes" if signed == "1" else "no"))
for note in notes:
    print("note: " + note)
PY
log "end: $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
summary_merge "$TMP/summary.tsv"
log "wrote $OUT/table2.tsv; metrics merged into $SUMMARY_TSV"
if command -v gnuplot >/dev/null; then
	"$top/tests/bench/table2-plot.sh" "$OUT/table2.tsv" "$OUT/table2.png" ||
		log "warning: the plot failed (the figures above stand)"
else
	log "no gnuplot (Debian package gnuplot-nox): no plot"
fi
