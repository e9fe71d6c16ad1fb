# Stock knotd for the side-by-side benchmarks (tests/bench/throughput.sh):
# the patched knotd configured as plain Knot, with no module, serving
# example.com. and signing it itself (dnssec-signing, RSASHA256, one CSK of
# the given size: what tests/knot/bench-update.sh runs), DDNS with the TSIG
# key of tests/knot/lib.sh.
#
# Builds on tests/knot/lib.sh (write_zone, knot_start, wait_log, TSIG_*).

# stock_conf DIR PORT BITS [ZONE-ITEMS]: DIR/knot.conf of a stock-configured
# knotd serving DIR/example.com.zone on 127.0.0.1@PORT, signing it itself
# (RSASHA256, one CSK of BITS), UPDATEs with the TSIG key, transfers from
# 127.0.0.1; ZONE-ITEMS (lines indented for the zone) are added to the zone.
stock_conf() {
	local dir=$1 port=$2 bits=$3 items=${4:-}
	{
		knot_conf_head "$dir" "127.0.0.1@$port"
		cat <<-CONF
	acl:
	  - id: update
	    key: $TSIG_NAME
	    action: update
	  - id: transfer
	    address: 127.0.0.1
	    action: transfer
	policy:
	  - id: rsa
	    algorithm: rsasha256
	    ksk-size: $bits
	    single-type-signing: on
	zone:
	  - domain: example.com.
	    file: "$dir/example.com.zone"
	    acl: [ update, transfer ]
	    dnssec-signing: on
	    dnssec-policy: rsa
	$items
	CONF
	} >"$dir/knot.conf"
}

# stock_start DIR PORT BITS: writes DIR/knot.conf and the zone, starts knotd
# (STOCK_PID) and waits until it has signed the zone.
stock_start() {
	local dir=$1 port=$2 bits=$3
	mkdir -p "$dir"
	write_zone "$dir/example.com.zone"
	stock_conf "$dir" "$port" "$bits"
	knot_start "$dir"
	STOCK_PID=$KNOT_PID
	wait_log "$dir/knot.log" 'DNSSEC, successfully signed' 300 || fail "stock knotd did not sign"
}
