# Shared helpers of the multi-replica tests (tests/cluster/*.sh), and of a
# later demo: keys for n replicas from bftdns-keygen, one knot.conf per
# replica on 127.0.0.1, start/stop of the whole group by PID.
#
# Builds on tests/knot/lib.sh (temporary directory, free ports, knot_start,
# knot_stop, wait_for, wait_log, the TSIG key, the zone, axfr, nsupdate_rc).
#
# Environment (set by tests/cluster/meson.build): KNOT_PREFIX,
# BFTDNS_MODULE, BFTDNS_KEYGEN.

# shellcheck source=../knot/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../knot/lib.sh"

: "${BFTDNS_KEYGEN:?BFTDNS_KEYGEN is not set (run through meson test)}"

CLUSTER_N=0
CLUSTER_F=0
CLUSTER_DIR=
declare -a CLUSTER_DNS_PORT=() CLUSTER_LINK_PORT=() CLUSTER_PID=()

# cluster_keys DIR N F: a threshold key for example.com. for N replicas
# (1024 bits: quick), link addresses on free ports of 127.0.0.1.
cluster_keys() {
	local dir=$1 n=$2 f=$3 i args=()
	CLUSTER_DIR=$dir
	CLUSTER_N=$n
	CLUSTER_F=$f
	for ((i = 1; i <= n; i++)); do
		CLUSTER_DNS_PORT[i]=$(free_port)
		CLUSTER_LINK_PORT[i]=$(free_port)
		args+=(--peer "$i=127.0.0.1@${CLUSTER_LINK_PORT[i]}")
	done
	mkdir -p "$dir"
	"$BFTDNS_KEYGEN" --zone example.com. --replicas "$n" --faults "$f" --bits 1024 \
		--out "$dir/keys" "${args[@]}" >"$dir/keygen.log" 2>&1 ||
		{ cat "$dir/keygen.log" >&2; fail "bftdns-keygen failed"; }
}

# cluster_section I [EXTRA-ITEMS]: replica I's mod-bftdns section, from the
# keygen's peers.txt (the files of replica-I/ where keygen put them).
cluster_section() {
	local i=$1 extra=${2:-} keys="$CLUSTER_DIR/keys/replica-$1" peers=() line
	while read -r line; do
		[ "${line%% *}" = "$i" ] || peers+=("\"$line\"")
	done <"$keys/peers.txt"
	local IFS=,
	cat <<-SECTION
	mod-bftdns:
	  - id: default
	    replica-id: $i
	    replicas: $CLUSTER_N
	    faults: $CLUSTER_F
	    key-share: "$keys/share-$i.key"
	    listen: "127.0.0.1@${CLUSTER_LINK_PORT[i]}"
	    link-key: "$keys/link-$i.key"
	    coin-key: "$keys/coin-$i.key"
	    peer: [ ${peers[*]} ]
	$extra
	SECTION
}

# cluster_conf I [EXTRA-ITEMS]: knot.conf and zone of replica I in
# CLUSTER_DIR/replica-I, DNS on 127.0.0.1@CLUSTER_DNS_PORT[I].
cluster_conf() {
	local i=$1 extra dir="$CLUSTER_DIR/replica-$1"
	extra=$(cluster_items "$i")
	[ -z "${2:-}" ] || extra+=$'\n'$2
	mkdir -p "$dir"
	write_zone "$dir/example.com.zone"
	{
		knot_conf_head "$dir" "127.0.0.1@${CLUSTER_DNS_PORT[i]}" "${CLUSTER_SERVER_EXTRA:-}"
		cat <<-CONF
		acl:
		  - id: update
		    key: $TSIG_NAME
		    action: update
		  - id: transfer
		    address: 127.0.0.1
		    action: transfer
		module:
		  - id: mod-bftdns
		    file: "$BFTDNS_MODULE"
		CONF
		cluster_section "$i" "$extra"
		cat <<-CONF
		zone:
		  - domain: example.com.
		    file: "$dir/example.com.zone"
		    acl: [ update, transfer ]
		    module: mod-bftdns/default
		CONF
	} >"$dir/knot.conf"
	cat >"$dir/update.key" <<-KEY
	key "$TSIG_NAME" {
	    algorithm hmac-sha256;
	    secret "$TSIG_SECRET";
	};
	KEY
}

# cluster_start_one I: starts replica I's knotd (CLUSTER_PID[I]).
cluster_start_one() {
	knot_start "$CLUSTER_DIR/replica-$1"
	CLUSTER_PID[$1]=$KNOT_PID
}

# cluster_stop_one I: stops replica I's knotd by its PID.
cluster_stop_one() {
	[ -n "${CLUSTER_PID[$1]:-}" ] || return 0
	knot_stop "${CLUSTER_PID[$1]}"
	CLUSTER_PID[$1]=
}

# cluster_start [EXTRA-ITEMS]: writes every replica's conf and starts them.
cluster_start() {
	local i
	for ((i = 1; i <= CLUSTER_N; i++)); do
		cluster_conf "$i" "${1:-}"
	done
	for ((i = 1; i <= CLUSTER_N; i++)); do
		cluster_start_one "$i"
	done
}

cluster_stop() {
	local i
	for ((i = 1; i <= CLUSTER_N; i++)); do
		cluster_stop_one "$i"
	done
}

# cluster_kill9 I: kills replica I's knotd with SIGKILL (a crash: nothing
# flushed, no goodbye to the peers) and waits for it (bounded).
cluster_kill9() {
	local pid=${CLUSTER_PID[$1]:-} i
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || fail "replica $1 (pid ${pid:-none}) was not running"
	# stderr of the whole block: bash's own "Killed" notice for the job.
	{
		kill -KILL "$pid"
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" || break
			sleep 0.1
		done
	} 2>/dev/null
	kill -0 "$pid" 2>/dev/null && fail "replica $1 (pid $pid) survived SIGKILL"
	{ wait "$pid"; } 2>/dev/null || true
	CLUSTER_PID[$1]=
}

# cluster_kill9_all: kills every running replica with SIGKILL in one
# kill(1) (all at once: none sees another go first, a power cut of the
# group as far as the processes go) and waits for them (bounded).
cluster_kill9_all() {
	local i pids=() tries
	for i in $(cluster_up); do
		pids+=("${CLUSTER_PID[i]}")
	done
	[ "${#pids[@]}" -gt 0 ] || fail "cluster_kill9_all: no replica is running"
	{
		kill -KILL "${pids[@]}"
		for ((tries = 0; tries < 100; tries++)); do
			kill -0 "${pids[@]}" 2>/dev/null || break
			sleep 0.1
		done
	} 2>/dev/null
	for i in $(cluster_up); do
		fail "replica $i (pid ${CLUSTER_PID[i]}) survived SIGKILL"
	done
	for i in "${pids[@]}"; do
		{ wait "$i"; } 2>/dev/null || true
	done
	for ((i = 1; i <= CLUSTER_N; i++)); do
		CLUSTER_PID[i]=
	done
}

# cluster_wipe I: replica I's storage as after a lost disk, restored from
# what it was provisioned with: everything under `database: storage`
# (cluster_conf: the replica's directory) is gone, Knot's journal, timer
# and KASP databases and the module's state directory (bftdns/, statedir.h),
# and the zone file, which knotd rewrites after changes (zonefile-sync 0),
# is the initial one again. Its config and key files stay. I must be down.
cluster_wipe() {
	local dir="$CLUSTER_DIR/replica-$1"
	! cluster_running "$1" || fail "cluster_wipe: replica $1 is running"
	rm -rf "$dir/journal" "$dir/timers" "$dir/keys" "$dir/bftdns"
	write_zone "$dir/example.com.zone"
}

# cluster_serial I: replica I's SOA serial as served, empty if it does not
# answer within 2 s (no retry: a replica that is down answers nothing).
cluster_serial() {
	"$KDIG" @127.0.0.1 -p "${CLUSTER_DNS_PORT[$1]}" +short +time=2 +retry=0 \
		example.com. SOA 2>/dev/null | awk 'NF >= 7 { print $3; exit }'
}

# cluster_serial_at_least I SERIAL: replica I serves SERIAL or a later one.
cluster_serial_at_least() {
	local s
	s=$(cluster_serial "$1")
	[ -n "$s" ] && [ "$s" -ge "$2" ]
}

# cluster_wait_links I: waits (bounded) until replica I logs every link up.
cluster_wait_links() {
	wait_log "$CLUSTER_DIR/replica-$1/knot.log" \
		"links up to all $((CLUSTER_N - 1)) peers" "${2:-200}"
}

# --- Signing, convergence, clients and DNSSEC checks ------------------------
# (tests/cluster/updates.sh, quorum.sh; the demo has its own copies of the
# few it needs, since it runs without meson's environment.)

# Per-replica extra items of its mod-bftdns section (set before cluster_start):
# CLUSTER_PROTOCOL for every replica, CLUSTER_EXTRA[I] for replica I.
# CLUSTER_SERVER_EXTRA: items of every replica's server section (4 spaces
# indent, e.g. "    udp-workers: 4").
CLUSTER_SERVER_EXTRA=
CLUSTER_PROTOCOL=
declare -a CLUSTER_EXTRA=()
# Clients started in the background (killed by PID on exit, see below).
declare -a CLUSTER_BG=()

cluster_cleanup() {
	local pid
	for pid in "${CLUSTER_BG[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	cleanup
}
trap cluster_cleanup EXIT

# cluster_items I: the extra items of replica I's section (4 spaces indent).
cluster_items() {
	local i=$1
	[ -z "$CLUSTER_PROTOCOL" ] || printf '    signing-protocol: %s\n' "$CLUSTER_PROTOCOL"
	[ -z "${CLUSTER_EXTRA[i]:-}" ] || printf '%s\n' "${CLUSTER_EXTRA[i]}"
}

# cluster_misbehave I MODE...: replica I misbehaves (its conf, next start).
cluster_misbehave() {
	local i=$1 IFS=,
	shift
	CLUSTER_EXTRA[i]="    misbehave: [ $* ]"
}

# cluster_running I: replica I's knotd runs (started by this test).
cluster_running() {
	[ -n "${CLUSTER_PID[$1]:-}" ] && kill -0 "${CLUSTER_PID[$1]}" 2>/dev/null
}

# cluster_no_redelivery [MORE]: 0 unless a replica's log says it skipped a
# batch it had applied (apply.c, "delivered again") or stopped applying, or
# matches the extended regex MORE; the lines found are printed.
cluster_no_redelivery() {
	local i pat='delivered again|stops applying' found=0
	[ -z "${1:-}" ] || pat="$pat|$1"
	for ((i = 1; i <= CLUSTER_N; i++)); do
		if grep -E "$pat" "$CLUSTER_DIR/replica-$i/knot.log"; then
			echo "replica $i: see the lines above" >&2
			found=1
		fi
	done
	return "$found"
}

# cluster_up: the ids of the running replicas.
cluster_up() {
	local i
	for ((i = 1; i <= CLUSTER_N; i++)); do
		cluster_running "$i" && echo "$i"
	done
	return 0
}

# cluster_wait_all_links [TENTHS]: every running replica logs all links up.
cluster_wait_all_links() {
	local i
	for i in $(cluster_up); do
		cluster_wait_links "$i" "${1:-300}" || fail "replica $i: links not all up"
	done
}

# signed_dnskey PORT: the server answers the DNSKEY RRset with an RRSIG.
signed_dnskey() {
	"$KDIG" @127.0.0.1 -p "$1" +dnssec +noall +answer +time=2 +retry=0 \
		example.com. DNSKEY 2>/dev/null | grep -q 'RRSIG[[:space:]]*DNSKEY'
}

# cluster_wait_signed [TENTHS]: every running replica serves a signed DNSKEY.
cluster_wait_signed() {
	local i
	for i in $(cluster_up); do
		wait_for "${1:-600}" signed_dnskey "${CLUSTER_DNS_PORT[i]}" ||
			fail "replica $i: the zone was not signed (no RRSIG over the DNSKEY)"
	done
}

# axfr_sorted PORT FILE: the zone by AXFR, lines sorted; fails quietly.
axfr_sorted() {
	local out
	out=$(dig @127.0.0.1 -p "$1" example.com. AXFR +nocmd +nostats +nocomments \
		+time=5 +tries=1 2>/dev/null) || return 1
	grep -q 'SOA' <<<"$out" || return 1
	sort <<<"$out" >"$2"
}

# cluster_same_zone DIR [ID...]: every running replica's (or these
# replicas') AXFR, sorted, is the same (DIR/axfr-I for each, DIR/zone the
# common one).
cluster_same_zone() {
	local dir=$1 i first= ids
	shift
	ids=${*:-$(cluster_up)}
	mkdir -p "$dir"
	for i in $ids; do
		axfr_sorted "${CLUSTER_DNS_PORT[i]}" "$dir/axfr-$i" || return 1
		if [ -z "$first" ]; then
			first=$i
		else
			cmp -s "$dir/axfr-$first" "$dir/axfr-$i" || return 1
		fi
	done
	[ -n "$first" ] && cp "$dir/axfr-$first" "$dir/zone"
}

# cluster_wait_same_zone DIR [TENTHS [ID...]]: waits until
# cluster_same_zone DIR [ID...] holds.
cluster_wait_same_zone() {
	local dir=$1 tenths=${2:-300} i ids
	shift $(($# >= 2 ? 2 : 1))
	ids=${*:-$(cluster_up)}
	if ! wait_for "$tenths" cluster_same_zone "$dir" $ids; then
		for i in $ids; do
			[ -f "$dir/axfr-$i" ] && echo "replica $i: $(wc -l <"$dir/axfr-$i") lines," \
				"serial $(soa_serial "${CLUSTER_DNS_PORT[i]}")" >&2
		done
		fail "the replicas' zones do not converge"
	fi
}

# knsupdate_rc PORT SCRIPT: Knot's knsupdate over TCP with the TSIG key;
# prints NOERROR or the RCODE (as nsupdate_rc does).
knsupdate_rc() {
	local port=$1 script=$2 out rcode
	if out=$(printf 'server 127.0.0.1 %s\nzone example.com.\n%s\nsend\n' "$port" "$script" |
	         "$KNSUPDATE" -T -t "${KNSUPDATE_TIMEOUT:-30}" \
	         -y "hmac-sha256:$TSIG_NAME:$TSIG_SECRET" 2>&1); then
		echo NOERROR
		return
	fi
	rcode=$(grep -Eo "(failed|error)[^']*'[A-Z]+'" <<<"$out" | grep -Eo "'[A-Z]+'" |
		tr -d "'" | head -n 1)
	[ -n "$rcode" ] || rcode="ERROR($(head -n 1 <<<"$out"))"
	echo "$rcode"
}

# trust_anchor DNSKEY-FILE OUT: the DNSKEY RR in delv's trust-anchors form.
trust_anchor() {
	awk '$4 == "DNSKEY" { key = ""; for (i = 8; i <= NF; i++) key = key $i;
	     printf "trust-anchors {\n\t%s static-key %s %s %s \"%s\";\n};\n", $1, $5, $6, $7, key }' \
		"$1" >"$2"
	grep -q static-key "$2" || fail "no DNSKEY in $1"
}

# delv_validates PORT ANCHOR NAME TYPE [nxdomain]: delv validates the answer
# from the replica on PORT (an RRset of NAME and TYPE, or with "nxdomain"
# its denial), with the zone's DNSKEY as the only trust anchor.
delv_validates() {
	local out
	out=$(delv @127.0.0.1 -p "$1" -a "$2" +root=example.com. "$3" "$4" 2>&1) || true
	if [ "${5:-}" = nxdomain ]; then
		grep -q '^; negative response, fully validated' <<<"$out" &&
			grep -q 'NXDOMAIN' <<<"$out" && return 0
	else
		grep -q '^; fully validated' <<<"$out" &&
			grep -Eq "^$3[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+$4[[:space:]]" <<<"$out" &&
			grep -Eq "^$3[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+RRSIG[[:space:]]+$4[[:space:]]" <<<"$out" &&
			return 0
	fi
	echo "$out" >&2
	return 1
}

# zone_verify FILE DNSKEY-FILE: ldns-verify-zone and dnssec-verify accept
# the zone in FILE (an AXFR), signed with the key in DNSKEY-FILE.
zone_verify() {
	local file=$1 dnskey=$2 out
	out=$(ldns-verify-zone -k "$dnskey" "$file" 2>&1) ||
		{ echo "$out" >&2; fail "ldns-verify-zone rejects $file"; }
	grep -v '^;' "$file" | grep -v '^$' >"$file.clean"
	out=$(dnssec-verify -q -o example.com. -z "$file.clean" 2>&1) ||
		{ echo "$out" >&2; fail "dnssec-verify rejects $file"; }
}
