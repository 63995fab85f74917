# shellcheck shell=bash
# Helpers shared by the twshim command tests; sourced after tests/e2e/lib_e2e.sh.

TW_TOOL=${TWTOOL_BIN:-}
[[ -x $TW_TOOL ]] || fail "TWTOOL_BIN='$TW_TOOL' is not executable (run through meson test)"
TW_SRC=${TWTOOL_SRCDIR:-}
[[ -d $TW_SRC ]] || fail "TWTOOL_SRCDIR='$TW_SRC' is not a directory"

# twshim run finds the library under test through TWSHIM_LIBRARY.
tw_tool_run() {
	TWSHIM_LIBRARY=$TW_LIB "$TW_TOOL" run "$@"
}

# Check that the library path is known before the first use.
tw_tool_init() {
	[[ -f ${TW_LIB:-} ]] || fail "library '$TW_LIB' not found"
}
