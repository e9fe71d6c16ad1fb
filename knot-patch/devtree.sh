#!/usr/bin/env bash
# Developer helper for the Knot patches: a git-initialised copy of Debian's
# Knot source tree with one commit per knot-patch/*.patch, so that a patch is
# edited as a commit and written back as a clean unified diff.
#
#   knot-patch/devtree.sh init    build/knot-dev/knot-<version>: Debian's tree
#                                 (tag 'debian'), then each patch as a commit
#                                 whose message is the patch's file name
#   knot-patch/devtree.sh build   configure (once), make, install into
#                                 build/knot-dev/prefix (for a meson build dir
#                                 with PKG_CONFIG_PATH=build/knot-dev/prefix/lib/pkgconfig)
#   knot-patch/devtree.sh export  writes knot-patch/<message>.patch for every
#                                 commit after 'debian' (amend or rebase first)
#
# The source package must have been fetched once by knot-patch/build-knot.sh.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^KNOT_VERSION=//p' "$top/knot-patch/build-knot.sh")
revision=$(sed -n 's/^DEB_REVISION=//p' "$top/knot-patch/build-knot.sh")
dsc="$top/build/knot-src/dl/knot_$version-$revision.dsc"
dev="$top/build/knot-dev"
src="$dev/knot-$version"

die() { printf 'devtree: error: %s\n' "$*" >&2; exit 1; }
git_dev() { git -C "$src" -c user.name=bftdns -c user.email=bftdns@localhost "$@"; }

case "${1:-}" in
init)
	[ -f "$dsc" ] || die "no $dsc (run ./run.sh build once)"
	[ -e "$src" ] && die "$src exists; remove it first"
	mkdir -p "$dev"
	dpkg-source --no-check -x "$dsc" "$src" >/dev/null
	printf '%s\n' '*.o' '*.lo' '*.la' '.libs/' '.deps/' '.dirstamp' Makefile \
		config.log config.status libtool stamp-h1 src/config.h '*.pc' \
		src/knot/modules/static_modules.h >"$src/.git-info-exclude"
	git -C "$src" init -q
	mv "$src/.git-info-exclude" "$src/.git/info/exclude"
	git_dev add -A && git_dev commit -qm "Debian knot $version-$revision" && git_dev tag debian
	for p in "$top"/knot-patch/*.patch; do
		git_dev apply --index "$p" || die "$(basename "$p") does not apply"
		git_dev commit -qm "$(basename "$p" .patch)"
	done
	git_dev log --oneline debian~0..HEAD
	;;
build)
	cd "$src"
	[ -f Makefile ] || ./configure --prefix="$dev/prefix" $(sed -n '/^CONFIGURE_OPTS=(/,/)/p' \
		"$top/knot-patch/build-knot.sh" | tr -d '()' | sed 's/CONFIGURE_OPTS=//') >"$dev/configure.log"
	make -j"$(nproc)" >"$dev/make.log" 2>&1 || { tail -n 30 "$dev/make.log"; die "make failed"; }
	make install >"$dev/install.log" 2>&1
	echo "installed into $dev/prefix"
	;;
export)
	for c in $(git_dev rev-list --reverse refs/tags/debian..HEAD); do
		name=$(git_dev log -1 --format=%s "$c")
		[[ "$name" =~ ^[0-9]{4}-[a-z0-9-]+$ ]] || die "commit $c: message '$name' is no patch name"
		{
			echo "bftdns $name (see knot-patch/README.md)"
			echo
			git_dev diff --no-color --no-ext-diff "$c^" "$c"
		} >"$top/knot-patch/$name.patch"
		echo "wrote knot-patch/$name.patch"
	done
	;;
*)
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
	exit 1
	;;
esac
