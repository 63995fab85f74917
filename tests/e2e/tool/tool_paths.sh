#!/usr/bin/env bash
# tool_paths: one library path everywhere (issue 18, item 2).
#
# Every path to libtwshim.so in the README, the man pages and the examples
# must be one that an install produces: the default `meson install`
# (prefix /usr/local, the multiarch libdir: what the tree shows), this
# build's configured path, or the .deb's (prefix /usr).  Build-tree paths
# (build/lib/libtwshim.so) are allowed for the developer instructions.  Then
# the man pages and examples installed by `meson install` into a scratch
# DESTDIR must name exactly the configured path, and the library must be
# there.  (Each TWSHIM_ path check is first run on a planted wrong path, so
# the checker is known to be able to fail.)

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need meson grep
default=${TWTOOL_DEFAULT_LIB:?run through meson test}
configured=${TWTOOL_INSTALL_LIB:?run through meson test}
deb=${TWTOOL_DEB_LIB:?run through meson test}
bindir=${TWTOOL_BINDIR:?run through meson test}
[[ -n ${TWTEST_BUILD_ROOT:-} && -d $TWTEST_BUILD_ROOT ]] || fail "TWTEST_BUILD_ROOT not set"

# paths FILE...: "FILE: PATH" for every absolute or build-tree path to libtwshim.so
paths() {
	grep -oHE '[$A-Za-z0-9_./{}-]*/libtwshim\.so' "$@" | sed 's/:/: /'
}
# bad_paths ALLOWED...: the lines on stdin whose path is not allowed
bad_paths() {
	local file path ok a
	while read -r file path; do
		ok=no
		for a in "$@"; do
			[[ $path == "$a" ]] && ok=yes
		done
		[[ $path == */build/lib/libtwshim.so || $path == build/lib/libtwshim.so ]] && ok=yes
		[[ $ok == yes ]] || printf '%s %s\n' "$file" "$path"
	done
}

planted=$(printf 'x.7: /usr/lib/libtwshim.so\ny.md: %s\n' "$default" | bad_paths "$default" "$deb" | wc -l)
assert_eq "checker rejects a planted wrong path" "$planted" 1

# The default install (what the tree shows) is what meson installs by
# default: libdir is Debian's multiarch directory under /usr/local.
if [[ $TWTOOL_PREFIX == /usr/local ]]; then
	assert_eq "the tree's path is this default build's install path" "$default" "$configured"
fi
assert_eq "the .deb's path: same libdir under /usr" "$deb" "/usr/${default#/usr/local/}"

cd "$TW_SRC" || fail "cd $TW_SRC"
mapfile -t docs < <(ls README.md doc/*.1 doc/*.7; find examples -type f ! -name meson.build | sort)
assert_ge "documents searched" "${#docs[@]}" 10
found=$(paths "${docs[@]}")
tw_log "library paths in the tree:"$'\n'"$found"
assert_ge "library paths found in the tree" "$(grep -c . <<<"$found")" 4
bad=$(bad_paths "$default" "$configured" "$deb" <<<"$found")
assert_eq "paths that no install produces" "${bad:-none}" none
# The command's path in unit files and examples: the default bindir.
badbin=$(grep -oHE '/[a-z/]*bin/twshim\b' "${docs[@]}" | grep -vE ':/usr/local/bin/twshim$' || true)
assert_eq "twshim command paths other than /usr/local/bin/twshim" "${badbin:-none}" none

# What `meson install` writes.
dest=$TW_TMP/dest
meson install -C "$TWTEST_BUILD_ROOT" --no-rebuild --destdir "$dest" >"$TW_TMP/install.log" 2>&1 ||
	{ cat "$TW_TMP/install.log" >&2; fail "meson install failed"; }
assert_eq "the library is at the configured path" "$([[ -f $dest$configured ]] && echo yes)" yes
assert_eq "the command is in the configured bindir" "$([[ -x $dest$bindir/twshim ]] && echo yes)" yes
mapfile -t inst < <(find "$dest" -path '*/man/*' -type f -o -path '*/doc/twshim/examples/*' -type f)
assert_ge "installed man pages and examples" "${#inst[@]}" 13
found=$(paths "${inst[@]}")
bad=$(bad_paths "$configured" "$deb" <<<"$found")
assert_eq "installed docs: paths other than the configured one (or the .deb's)" "${bad:-none}" none
assert_ge "installed libtwshim(7) naming the configured path" \
	"$(grep -cF "LD_PRELOAD=$configured" "$(find "$dest" -path '*/man7/libtwshim.7')")" 1
assert_ge "installed systemd drop-in naming the configured path" \
	"$(grep -cF "LD_PRELOAD=$configured" "$(find "$dest" -name twshim-environment.conf)")" 1

tw_done
