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
	local i=$1 extra=${2:-} dir="$CLUSTER_DIR/replica-$1"
	mkdir -p "$dir"
	write_zone "$dir/example.com.zone"
	{
		cat <<-CONF
		server:
		    rundir: "$dir"
		    pidfile: "$dir/knot.pid"
		    listen: 127.0.0.1@${CLUSTER_DNS_PORT[i]}
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

# cluster_wait_links I: waits (bounded) until replica I logs every link up.
cluster_wait_links() {
	wait_log "$CLUSTER_DIR/replica-$1/knot.log" \
		"links up to all $((CLUSTER_N - 1)) peers" "${2:-200}"
}
