#!/usr/bin/env bash
# install: `meson install` puts the library, the command, the headers, the
# man pages and twshim.pc where they belong, and pkg-config names the
# library's absolute path (a preload library is used by path, never -l).
# Installs into a scratch DESTDIR; the build directory comes from meson.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/lib_e2e.sh"
tw_netns_enter "$@"
tw_need meson pkg-config nm

[[ -n ${TWTEST_BUILD_ROOT:-} && -d $TWTEST_BUILD_ROOT ]] || fail "TWTEST_BUILD_ROOT not set (run through meson test)"
dest=$TW_TMP/dest
meson install -C "$TWTEST_BUILD_ROOT" --no-rebuild --destdir "$dest" >"$TW_TMP/install.log" 2>&1 ||
	{ cat "$TW_TMP/install.log" >&2; fail "meson install failed"; }

pc=$(find "$dest" -name twshim.pc | head -n 1)
[[ -n $pc ]] || fail "twshim.pc not installed"
preload=$(PKG_CONFIG_LIBDIR=$(dirname "$pc") pkg-config --variable=preload twshim)
libs=$(PKG_CONFIG_LIBDIR=$(dirname "$pc") pkg-config --libs twshim)
tw_log "pkg-config: preload=$preload libs=$libs"
assert_match "pkg-config preload is an absolute path to libtwshim.so" "$preload" '^/.*/libtwshim\.so$'
assert_match "pkg-config Libs names the library file" "$libs" 'libtwshim\.so'
lib=$(find "$dest" -name libtwshim.so -type f | head -n 1)
[[ -n $lib ]] || fail "libtwshim.so not installed"
assert_eq "pkg-config path is the installed file" "$dest$preload" "$lib"
assert_eq "installed library exports the same symbols as the built one" \
	"$(nm -D --defined-only "$lib" | awk '{print $NF}' | sort | tr '\n' ' ')" \
	"$(nm -D --defined-only "$TW_LIB" | awk '{print $NF}' | sort | tr '\n' ' ')"
for f in bin/twshim include/twshim/policy.h include/twshim/ports.h \
	share/man/man1/twshim.1 share/man/man7/libtwshim.7; do
	assert_eq "installed: $f" "$(find "$dest" -path "*/$f" | wc -l)" 1
done
tw_done
