#!/usr/bin/env bash
# Fetch Knot DNS from Debian's source package, apply knot-patch/*.patch in order,
# build and install it into build/knot/.
#
# The source comes through apt with a private deb-src list derived from the
# machine's own apt sources (same mirrors, the suite that carries the version),
# so no system file is changed and no host name is written in the repository.
# The result is cached: it is rebuilt only when the version, the configure
# options, this script or a patch changes.
set -euo pipefail

KNOT_VERSION=3.4.6
DEB_REVISION=2
DEB_SUITE=trixie          # the Debian suite whose archive has knot ${KNOT_VERSION}-${DEB_REVISION}
CONFIGURE_OPTS=(--disable-fastparser --disable-xdp --enable-quic=no
                --disable-documentation --enable-dnstap=no --disable-maxminddb
                --with-module-dnstap=no --with-module-geoip=no)

top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"
prefix="$build/knot"
work="$build/knot-src"
stamp="$prefix/.bftdns-stamp"

log() { printf 'build-knot: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The cache key: everything that decides what gets installed.
cache_key() {
	{
		echo "$KNOT_VERSION-$DEB_REVISION ${CONFIGURE_OPTS[*]}"
		cat "$0"
		for p in "$top"/knot-patch/*.patch; do [ -e "$p" ] && cat "$p"; done
	} | sha256sum | cut -d' ' -f1
}

# One build at a time: two runs (two shells, or tests started while a build
# runs) would configure and install into the same directories.
mkdir -p "$build"
exec 9>"$build/.knot-build.lock"
flock 9

key=$(cache_key)
if [ -x "$prefix/sbin/knotd" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
	log "patched Knot $KNOT_VERSION is up to date in $prefix"
	exit 0
fi

# Print one deb-src stanza per mirror of the running release's main archive,
# read from the machine's own apt configuration (deb822 and one-line forms).
derive_sources() {
	local codename
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "cannot tell the Debian release from /etc/os-release"
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk -v cn="$codename" '
				function flush() { if (uris != "" && suites ~ ("(^| )" cn "( |$)")) print uris; uris = ""; suites = "" }
				/^[[:space:]]*$/ { flush(); next }
				/^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
				/^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
				END { flush() }' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			awk -v cn="$codename" '
				$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				              if ($(i + 1) == cn) print $i }' "$f"
		done
	} | tr ' ' '\n' | grep -E '^(https?|file|mirror)' | sort -u
}

fetch_source() {
	local aptdir="$work/apt"
	mkdir -p "$aptdir/lists/partial" "$aptdir/parts" "$work/dl"
	local uris
	uris=$(derive_sources)
	[ -n "$uris" ] || die "no Debian mirror found in /etc/apt sources"
	{
		echo "Types: deb-src"
		echo "URIs: $(echo "$uris" | tr '\n' ' ')"
		echo "Suites: $DEB_SUITE"
		echo "Components: main"
		echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
	} >"$aptdir/parts/knot-src.sources"
	local apt=(apt-get -q -o Dir::Etc::SourceList=/dev/null
	           -o "Dir::Etc::SourceParts=$aptdir/parts"
	           -o "Dir::State::Lists=$aptdir/lists"
	           -o "Dir::Cache=$aptdir/cache"
	           -o APT::Sandbox::User=root)
	log "fetching the source package knot=$KNOT_VERSION-$DEB_REVISION ($DEB_SUITE)"
	"${apt[@]}" update >"$work/apt-update.log" 2>&1 ||
		die "apt-get update of the private source list failed; see $work/apt-update.log"
	(cd "$work/dl" && "${apt[@]}" source --download-only "knot=$KNOT_VERSION-$DEB_REVISION") \
		>"$work/apt-source.log" 2>&1 ||
		die "apt-get source failed; see $work/apt-source.log"
}

mkdir -p "$work"
dsc="$work/dl/knot_$KNOT_VERSION-$DEB_REVISION.dsc"
[ -f "$dsc" ] || fetch_source
[ -f "$dsc" ] || die "the source package was not downloaded"

# A fresh tree every time: Debian's own patches, then ours, in order.
src="$work/knot-$KNOT_VERSION"
rm -rf "$src"
dpkg-source --no-check -x "$dsc" "$src" >"$work/dpkg-source.log" 2>&1 ||
	die "dpkg-source -x failed; see $work/dpkg-source.log"
for p in "$top"/knot-patch/*.patch; do
	[ -e "$p" ] || continue
	log "applying $(basename "$p")"
	patch -d "$src" -p1 --forward --batch --quiet <"$p" || die "$(basename "$p") does not apply"
done

log "configuring and building (about a minute on 2 cores)"
rm -rf "$prefix"
(
	cd "$src"
	./configure --prefix="$prefix" "${CONFIGURE_OPTS[@]}" >"$work/configure.log" 2>&1 ||
		die "configure failed; see $work/configure.log"
	make -j"$(nproc)" >"$work/make.log" 2>&1 || die "make failed; see $work/make.log"
	make install >"$work/install.log" 2>&1 || die "make install failed; see $work/install.log"
)
echo "$key" >"$stamp"
log "installed patched Knot $KNOT_VERSION into $prefix"
