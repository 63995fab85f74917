#!/usr/bin/env bash
# tool_preload: `twshim run` puts the library first in LD_PRELOAD, keeps the
# user's own entries (in order, empty ones dropped), never adds it twice,
# lets options override inherited TWSHIM_* variables, and execs the command
# (same pid, exit status, signal).  The environment and the mappings are
# read from the target itself (/proc/self/environ, /proc/self/maps).

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
DUMMY=${TWTOOL_DUMMY_PRELOAD:-}
[[ -f $DUMMY ]] || fail "TWTOOL_DUMMY_PRELOAD='$DUMMY' not found"

# target_var NAME [LD_PRELOAD-value] [run options...]: NAME as the target sees it.
target_var() {
	local name=$1 pre=$2
	shift 2
	env ${pre:+"LD_PRELOAD=$pre"} TWSHIM_LIBRARY="$TW_LIB" "$TW_TOOL" run "$@" -- cat /proc/self/environ |
		tr '\0' '\n' | sed -n "s/^$name=//p"
}

assert_eq "no LD_PRELOAD before" "$(target_var LD_PRELOAD "")" "$TW_LIB"
assert_eq "user entry kept, library first" "$(target_var LD_PRELOAD "$DUMMY")" "$TW_LIB:$DUMMY"
assert_eq "library already present: not duplicated" "$(target_var LD_PRELOAD "$TW_LIB:$DUMMY")" "$TW_LIB:$DUMMY"
assert_eq "library already last: moved first, once" "$(target_var LD_PRELOAD "$DUMMY:$TW_LIB")" "$TW_LIB:$DUMMY"
assert_eq "space-separated and empty entries" "$(target_var LD_PRELOAD "::$DUMMY  $DUMMY::")" "$TW_LIB:$DUMMY:$DUMMY"

# Both libraries are really loaded in the target.
maps=$(LD_PRELOAD=$DUMMY TWSHIM_LIBRARY=$TW_LIB "$TW_TOOL" run -- cat /proc/self/maps)
assert_eq "libtwshim mapped once in the target" "$(grep -F "$TW_LIB" <<<"$maps" | awk '{print $6}' | sort -u | wc -l)" 1
assert_eq "user's preload mapped in the target" "$(grep -cF "$DUMMY" <<<"$maps" | tr -d ' ' | sed 's/^[1-9][0-9]*$/yes/')" yes

# Options override inherited variables; inherited ones pass through.
export TWSHIM_LINGER=safe TWSHIM_PORTS=above
assert_eq "inherited TWSHIM_PORTS kept" "$(target_var TWSHIM_PORTS "")" above
assert_eq "inherited TWSHIM_LINGER kept" "$(target_var TWSHIM_LINGER "")" safe
assert_eq "--linger=0 overrides inherited" "$(target_var TWSHIM_LINGER "" --linger=0)" 0
assert_eq "--reuseaddr alone means 1" "$(target_var TWSHIM_REUSEADDR "" --reuseaddr)" 1
assert_eq "--reuse-ports sets TWSHIM_REUSE_PORTS" "$(target_var TWSHIM_REUSE_PORTS "" --reuseaddr --reuse-ports=8080,9000-9010)" "8080,9000-9010"
unset TWSHIM_LINGER TWSHIM_PORTS

# A bad option or variable: status 2, one line naming it, nothing started.
rc=0
err=$(tw_tool_run --linger=bogus -- touch "$TW_TMP/ran.bad" 2>&1) || rc=$?
assert_eq "--linger=bogus: status" "$rc" 2
assert_match "--linger=bogus: message" "$err" '^twshim: run: TWSHIM_LINGER="bogus" is not valid .*\(from --linger\)$'
assert_eq "--linger=bogus: not started" "$([[ -e $TW_TMP/ran.bad ]] && echo ran || echo 'not run')" "not run"
rc=0
err=$(TWSHIM_MATCH=10.0.0.0/33 tw_tool_run -- touch "$TW_TMP/ran.bad" 2>&1) || rc=$?
assert_eq "inherited bad TWSHIM_MATCH: status" "$rc" 2
assert_match "inherited bad TWSHIM_MATCH: message" "$err" '^twshim: run: TWSHIM_MATCH="10.0.0.0/33" is not valid'
rc=0
"$TW_TOOL" run --no-such-option -- true 2>/dev/null || rc=$?
assert_eq "unknown option: status" "$rc" 2
rc=0
"$TW_TOOL" run 2>/dev/null || rc=$?
assert_eq "no command: status" "$rc" 2
rc=0
err=$(TWSHIM_LIBRARY=/nonexistent/libtwshim.so "$TW_TOOL" run -- true 2>&1) || rc=$?
assert_eq "missing library: status" "$rc" 2
assert_match "missing library: message" "$err" "library /nonexistent/libtwshim.so: No such file"
rc=0
TWSHIM_LIBRARY=libtwshim.so "$TW_TOOL" run -- true 2>/dev/null || rc=$?
assert_eq "relative library path refused" "$rc" 2

# exec: same pid, exit status, death by signal.
pids=$(bash -c 'echo $$; exec env TWSHIM_LIBRARY="$1" "$0" run -- sh -c "echo \$\$"' "$TW_TOOL" "$TW_LIB")
assert_eq "same pid after exec" "$(sed -n 2p <<<"$pids")" "$(sed -n 1p <<<"$pids")"
rc=0
tw_tool_run -- sh -c 'exit 42' || rc=$?
assert_eq "exit status passed through" "$rc" 42
rc=0
tw_tool_run -- sh -c 'kill -TERM $$' || rc=$?
assert_eq "killed by SIGTERM" "$rc" 143

# --version and --help follow the conventions.
assert_match "--version" "$("$TW_TOOL" --version)" '^twshim [0-9]+\.[0-9]+\.[0-9]+$'
for sub in run stat check doctor; do
	rc=0
	"$TW_TOOL" "$sub" --help >"$TW_TMP/help" || rc=$?
	assert_eq "$sub --help: status" "$rc" 0
	assert_match "$sub --help: usage on stdout" "$(head -n1 "$TW_TMP/help")" "^Usage: twshim $sub"
done
rc=0
"$TW_TOOL" frobnicate 2>/dev/null || rc=$?
assert_eq "unknown command: status" "$rc" 2

tw_done
