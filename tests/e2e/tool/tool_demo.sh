#!/usr/bin/env bash
# tool_demo: scripts/demo.sh for a newcomer (issue 18, item 6).
#
#   not root: refused at once, before any package or build step;
#   scripts/deps.sh demo asks only for the demo's packages (build tools,
#     unshare/ip/ss/sysctl), not the test toolchain;
#   as root (on this build directory, 40 connections per row): progress
#     lines, the table, whose "plain" row shows the kernel's TIME_WAIT and
#     whose TWSHIM_LINGER=0 row shows none, a legend and a "next" paragraph
#     with twshim run and stat commands that work as printed.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need setpriv
[[ -n ${TWTEST_BUILD_ROOT:-} && -d $TWTEST_BUILD_ROOT ]] || fail "TWTEST_BUILD_ROOT not set"
demo=$TW_SRC/scripts/demo.sh
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
# nobody runs public copies (the source tree may be root's only); both
# scripts stand alone until the demo's root check.
tw_public "$TW_SRC/scripts/deps.sh" "$demo" >/dev/null
pub_demo=$TW_PUB/demo.sh pub_deps=$TW_PUB/deps.sh

# 1. Not root: refused before anything else.
rc=0
out=$(nobody env TWSHIM_BUILD_DIR=/nonexistent bash "$pub_demo" 40 2>&1) || rc=$?
assert_eq "not root: status" "$rc" 1
assert_match "not root: says why" "$out" "the demo needs root"
assert_eq "not root: no step started" "$(grep -c '^demo: ' <<<"$out")" 0

# 2. The demo's package set: every package reported missing by a stub
#    dpkg-query, as a non-root user (who only gets the list).
mkdir -p "$TW_TMP/stub"
printf '#!/bin/sh\nprintf not-installed\n' >"$TW_TMP/stub/dpkg-query"
chmod 755 "$TW_TMP/stub/dpkg-query" "$TW_TMP"
rc=0
out=$(nobody env PATH="$TW_TMP/stub:$PATH" bash "$pub_deps" demo 2>&1) || rc=$?
missing=$(sed -n 's/^deps.sh: missing packages: //p' <<<"$out" | tr ' ' '\n' | sort | tr '\n' ' ')
assert_eq "deps.sh demo: the demo's packages only" "$missing" \
	"gcc iproute2 libc6-dev meson ninja-build pkg-config procps util-linux "
out=$(nobody env PATH="$TW_TMP/stub:$PATH" bash "$pub_deps" 2>&1) || true
assert_match "deps.sh (tests): the test toolchain too" "$out" "missing packages: .*check.*valgrind"

# 3. As root, on the already built tree.
rc=0
out=$(TWSHIM_BUILD_DIR=$TWTEST_BUILD_ROOT bash "$demo" 40 2>&1) || rc=$?
printf '%s\n' "$out" >&2
assert_eq "demo: status" "$rc" 0
for step in "installing packages" "building" "running the probe 40 times"; do
	assert_eq "progress line: $step" "$(grep -c "^demo: $step" <<<"$out")" 1
done
plain=$(grep '^plain ' <<<"$out")
linger0=$(grep '^TWSHIM_LINGER=0 ' <<<"$out")
assert_match "plain row: TIME_WAIT left (10-port range, all held)" "$plain" '\| +10$'
assert_match "TWSHIM_LINGER=0 row: none left" "$linger0" '\| +40 \| +40 \| +0 \| +0 \| +0$'
assert_match "legend" "$out" $'\nlegend:\n  mode '
assert_match "legend explains TIME_WAIT left" "$out" "TIME_WAIT left  client-side TIME_WAIT"
assert_match "next paragraph" "$out" $'\nnext:\n  build/tools/twshim run --linger=safe --ports=above -- PROBE'
assert_match "next: stat" "$out" "build/tools/twshim stat --by-dest"
# The next commands work as printed (from the source tree, build dir "build"
# stands for this build directory).
cd "$TWTEST_BUILD_ROOT/.." || fail "cd"
rc=0
out=$(env -u TWSHIM_LIBRARY "$TWTEST_BUILD_ROOT/tools/twshim" run --dry-run --linger=safe -- /bin/true) || rc=$?
assert_eq "next: twshim run --dry-run works from the build tree" "$rc" 0
assert_match "next: it uses the library built beside it" "$out" "LD_PRELOAD=$TWTEST_BUILD_ROOT/lib/libtwshim.so"
rc=0
"$TWTEST_BUILD_ROOT/tools/twshim" stat --by-dest >/dev/null || rc=$?
assert_eq "next: twshim stat --by-dest works" "$rc" 0

tw_done
