#!/usr/bin/env bash
# The items a replica of a group needs (replicas > 1): listen, link-key,
# coin-key and a pinned key for every peer. knotc conf-check accepts a
# section made from bftdns-keygen's files and refuses each damage with the
# module's sentence; the keygen's own fragment passes too.
. "$(dirname "$0")/lib.sh"

cluster_keys "$TMP" 4 1

# check CASE EXPECTED SECTION-EDIT: conf-check of replica 1's conf after a
# sed edit of its mod-bftdns section; EXPECTED "" means accepted.
check() {
	local name=$1 expected=$2 edit=$3 out conf="$TMP/replica-1/knot.conf"
	cluster_conf 1
	sed -i -e "$edit" "$conf"
	if out=$("$KNOTC" -c "$conf" conf-check 2>&1); then
		[ -z "$expected" ] || fail "$name: conf-check accepted it, want '$expected'"
		log "$name accepted"
		return
	fi
	[ -n "$expected" ] || fail "$name: conf-check refused it: $out"
	grep -qF -- "$expected" <<<"$out" || fail "$name: conf-check said '$out', want '$expected'"
	log "$name refused: $(grep -F -- "$expected" <<<"$out" | head -n 1)"
}

check good "" ''
check misbehave-set "" 's|^\(    coin-key: .*\)$|\1\n    misbehave: [ invert-shares, silent ]|'
check misbehave-bad "invalid" 's|^\(    coin-key: .*\)$|\1\n    misbehave: lying|'
check no-listen "listen is required with replicas > 1" '/^    listen: "/d'
check listen-name "listen address must be an IPv4 or IPv6 address" \
	's|^    listen: ".*|    listen: "localhost@5400"|'
check listen-port "listen port must be between 1 and 65535" \
	's|^    listen: ".*|    listen: "127.0.0.1@0"|'
check listen-is-peer "peer address must differ from listen" \
	"s|^    listen: \".*|    listen: \"127.0.0.1@${CLUSTER_LINK_PORT[2]}\"|"
check no-link-key "link-key is required with replicas > 1" '/^    link-key:/d'
check relative-link-key "link-key is required with replicas > 1" \
	's|^    link-key: .*|    link-key: link-1.key|'
check no-coin-key "coin-key is required with replicas > 1" '/^    coin-key:/d'
check peer-no-pin "peer must end with the replica's link key pin" \
	's| sha256//[A-Za-z0-9+/=]*"|"|'
check peer-bad-pin "peer must end with the replica's link key pin" \
	's|sha256//[A-Za-z0-9+/]|sha256//!|'
check peer-self "peer must not list this replica's own replica-id" \
	's|"2 127|"1 127|'
check peer-missing "peer must list every other replica exactly once" \
	's|,"4 [^"]*"||'

# The keygen's own fragment (with --peer it names listen, link-key, coin-key).
frag="$TMP/keys/replica-3/mod-bftdns.conf"
grep -q '^    listen: "127.0.0.1@' "$frag" || fail "the keygen fragment has no listen: $(cat "$frag")"
grep -q '^    coin-key: ".*coin-3.key"' "$frag" || fail "the keygen fragment has no coin-key"
cluster_conf 3
python3 - "$TMP/replica-3/knot.conf" "$frag" <<'PY'
import re, sys
conf, frag = sys.argv[1], open(sys.argv[2]).read()
text = open(conf).read()
text = re.sub(r"mod-bftdns:\n(?:  .*\n|\n)*?(?=zone:)", frag + "\n", text)
text = text.replace("mod-bftdns/default", "mod-bftdns/example.com")
open(conf, "w").write(text)
PY
out=$("$KNOTC" -c "$TMP/replica-3/knot.conf" conf-check 2>&1) ||
	fail "the keygen fragment is refused: $out"
log "the keygen fragment passes conf-check"
log "PASS"
