# A replica group for the benchmarks (tests/bench/table2.sh): n knotd with
# mod-bftdns serving example.com., placed either on 127.0.0.1 (free ports)
# or on the hosts of the emulated Internet (tests/bench/wan/lib.sh: one
# namespace per replica, fixed ports on the host's own address).
#
# What tests/cluster/lib.sh does for the cluster tests, with a placement per
# replica added: its conf writer is copied here rather than shared, since
# that file assumes 127.0.0.1 and is being extended for the cluster tests.
#
# Builds on tests/knot/lib.sh (TMP, KNOTD/KNOTC/KDIG/KNSUPDATE, free_port,
# wait_for, wait_log, write_zone, the TSIG key, KNOT_PIDS stopped on exit).
#
# Environment: KNOT_PREFIX, BFTDNS_MODULE, BFTDNS_KEYGEN (defaults: build/).

GROUP_N=0
GROUP_F=0
GROUP_DIR=
GROUP_PROTOCOL=optte
GROUP_BITS=1024
declare -a GROUP_ADDR=() GROUP_DNS_PORT=() GROUP_LINK_PORT=() GROUP_NS=() GROUP_PID=()
declare -a GROUP_EXTRA=()

# group_place_loopback N: replicas 1..N on 127.0.0.1, free ports.
group_place_loopback() {
	local i
	GROUP_N=$1
	for ((i = 1; i <= GROUP_N; i++)); do
		GROUP_ADDR[i]=127.0.0.1
		GROUP_DNS_PORT[i]=$(free_port)
		GROUP_LINK_PORT[i]=$(free_port)
		GROUP_NS[i]=
	done
}

# group_place_wan HOST...: replica i on the i-th emulated host (its
# namespace and address), DNS on port 53, links on 5400.
group_place_wan() {
	local i=0 host
	GROUP_N=$#
	for host in "$@"; do
		i=$((i + 1))
		GROUP_ADDR[i]=${WAN_ADDR[$host]}
		GROUP_DNS_PORT[i]=53
		GROUP_LINK_PORT[i]=5400
		GROUP_NS[i]=$(wan_ns "$host")
	done
}

# group_keys DIR F: the threshold key for example.com. (GROUP_BITS), link
# and coin keys, peers.txt, for the placed replicas.
group_keys() {
	local dir=$1 i args=()
	GROUP_F=$2
	GROUP_DIR=$dir
	for ((i = 1; i <= GROUP_N; i++)); do
		args+=(--peer "$i=${GROUP_ADDR[i]}@${GROUP_LINK_PORT[i]}")
	done
	mkdir -p "$dir"
	"$BFTDNS_KEYGEN" --zone example.com. --replicas "$GROUP_N" --faults "$GROUP_F" \
		--bits "$GROUP_BITS" --out "$dir/keys" "${args[@]}" >"$dir/keygen.log" 2>&1 ||
		{ cat "$dir/keygen.log" >&2; fail "bftdns-keygen failed"; }
}

# group_conf I [keep]: knot.conf, zone and update.key of replica I in
# GROUP_DIR/replica-I (a fresh directory: no journal or batch log of an
# earlier run); with "keep" only knot.conf is written again (a restart).
group_conf() {
	local i=$1 dir="$GROUP_DIR/replica-$1" keys="$GROUP_DIR/keys/replica-$1" peers=() line
	if [ "${2:-}" != keep ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		write_zone "$dir/example.com.zone"
	fi
	while read -r line; do
		[ "${line%% *}" = "$i" ] || peers+=("\"$line\"")
	done <"$keys/peers.txt"
	local IFS=,
	cat >"$dir/knot.conf" <<-CONF
	server:
	    rundir: "$dir"
	    pidfile: "$dir/knot.pid"
	    listen: ${GROUP_ADDR[i]}@${GROUP_DNS_PORT[i]}
	log:
	  - target: "$dir/knot.log"
	    any: info
	database:
	    storage: "$dir"
	key:
	  - id: $TSIG_NAME
	    algorithm: hmac-sha256
	    secret: $TSIG_SECRET
	acl:
	  - id: update
	    key: $TSIG_NAME
	    action: update
	module:
	  - id: mod-bftdns
	    file: "$BFTDNS_MODULE"
	mod-bftdns:
	  - id: default
	    replica-id: $i
	    replicas: $GROUP_N
	    faults: $GROUP_F
	    key-share: "$keys/share-$i.key"
	    listen: "${GROUP_ADDR[i]}@${GROUP_LINK_PORT[i]}"
	    link-key: "$keys/link-$i.key"
	    coin-key: "$keys/coin-$i.key"
	    peer: [ ${peers[*]} ]
	    signing-protocol: $GROUP_PROTOCOL
	${GROUP_EXTRA[i]:-}
	zone:
	  - domain: example.com.
	    file: "$dir/example.com.zone"
	    acl: [ update ]
	    module: mod-bftdns/default
	CONF
}

# group_start_one I: starts replica I's knotd (in its namespace, if placed
# on the emulated Internet) from its knot.conf.
group_start_one() {
	local i=$1 dir="$GROUP_DIR/replica-$1"
	if [ -n "${GROUP_NS[i]}" ]; then
		ip netns exec "${GROUP_NS[i]}" "$KNOTD" -c "$dir/knot.conf" >>"$dir/knotd.out" 2>&1 &
	else
		"$KNOTD" -c "$dir/knot.conf" >>"$dir/knotd.out" 2>&1 &
	fi
	GROUP_PID[i]=$!
	KNOT_PIDS+=("${GROUP_PID[i]}")
}

# group_wait_started I: replica I answers knotc status (bounded).
group_wait_started() {
	local dir="$GROUP_DIR/replica-$1"
	wait_for 100 "$KNOTC" -c "$dir/knot.conf" -t 1 status >/dev/null 2>&1 ||
		{ cat "$dir/knotd.out" >&2; fail "replica $1's knotd did not start"; }
}

# group_start: writes every replica's conf and starts its knotd; waits
# until each answers knotc status.
group_start() {
	local i
	for ((i = 1; i <= GROUP_N; i++)); do
		group_conf "$i"
	done
	for ((i = 1; i <= GROUP_N; i++)); do
		group_start_one "$i"
	done
	for ((i = 1; i <= GROUP_N; i++)); do
		group_wait_started "$i"
	done
}

# group_restart_one I: stops replica I (by PID) and starts it again with its
# knot.conf written anew from GROUP_EXTRA[I], keeping its zone and journal:
# it resumes after its durable position and catches up with the others.
group_restart_one() {
	local i=$1
	knot_stop "${GROUP_PID[i]}"
	GROUP_PID[i]=
	group_conf "$i" keep
	group_start_one "$i"
	group_wait_started "$i"
}

# group_stop: stops every replica's knotd by its PID.
group_stop() {
	local i
	for ((i = 1; i <= GROUP_N; i++)); do
		[ -n "${GROUP_PID[i]:-}" ] || continue
		knot_stop "${GROUP_PID[i]}"
		GROUP_PID[i]=
	done
}

# group_wait_links TENTHS: waits until every replica logs its links up to all peers.
group_wait_links() {
	local i
	for ((i = 1; i <= GROUP_N; i++)); do
		wait_log "$GROUP_DIR/replica-$i/knot.log" "links up to all $((GROUP_N - 1)) peers" "$1" ||
			return 1
	done
}
