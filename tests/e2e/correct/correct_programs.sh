#!/usr/bin/env bash
# correct_programs: TWSHIM_ONLY_PROGRAMS and TWSHIM_SKIP_PROGRAMS scope the
# library by program name.
#
# An environment set for a whole service reaches every program in it.  A
# health script (health.sh, run by /bin/sh) calls curl twice and the probe
# three times; each closes first, so each connection leaves a TIME_WAIT on
# the client without the library.  With TWSHIM_LINGER=0 and curl skipped
# (or only the probe named), curl's connections keep their TIME_WAIT, as
# without the library, and the probe's leave none.  The name is the base
# name of the file executed: the script itself is "health.sh", not "sh".
# Also through `twshim run --skip-programs` and `--only-programs`, and
# `twshim check` shows the scope.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/correct/lib_correct.sh
. "$(dirname "$0")/lib_correct.sh"
tw_need curl
TW_TOOL=${TWTOOL_BIN:-}
[[ -x $TW_TOOL ]] || fail "TWTOOL_BIN='$TW_TOOL' is not executable"
[[ -x $TW_PROBE ]] || fail "TWSHIM_PROBE='$TW_PROBE' is not executable"
[[ $(basename "$TW_PROBE") == probe ]] || fail "the probe is not named probe: $TW_PROBE"

cat >"$TW_TMP/health.sh" <<SCRIPT
#!/bin/sh
curl -s -o /dev/null "http://127.0.0.1:\$1/" || exit 1
curl -s -o /dev/null "http://127.0.0.1:\$1/" || exit 1
"$TW_PROBE" -q -n 3 -s ping -r 127.0.0.1 "\$2" || exit 1
SCRIPT
chmod 755 "$TW_TMP/health.sh"

port=7701
# run LABEL CURL_TW PROBE_TW COMMAND...: servers on fresh ports, the script
# under COMMAND (ports appended), TIME_WAIT counted per destination.
run() {
	local label=$1 want_curl=$2 want_probe=$3 rc=0
	shift 3
	local a=$port b=$((port + 1))
	port=$((port + 2))
	tw_server_start C -p "$a" -m http -n 2 -t 60
	tw_server_start P -p "$b" -m reply -n 3 -t 60
	"$@" "$TW_TMP/health.sh" "$a" "$b" 2>"$TW_TMP/err" || rc=$?
	tw_server_wait C
	tw_server_wait P
	tw_settle "$a"
	tw_settle "$b"
	[[ -s $TW_TMP/err ]] && tw_log "$label: stderr: $(cat "$TW_TMP/err")"
	assert_eq "$label: script exit status" "$rc" 0
	assert_eq "$label: curl's TIME_WAIT" "$(tw_tw_count dport = :"$a")" "$want_curl"
	assert_eq "$label: the probe's TIME_WAIT" "$(tw_tw_count dport = :"$b")" "$want_probe"
}

lib() { env LD_PRELOAD="$TW_LIB" "$@"; }
twrun() { env TWSHIM_LIBRARY="$TW_LIB" "$TW_TOOL" run "$@"; }

run "without the library" 2 3 env
run "TWSHIM_LINGER=0, every program" 0 0 lib TWSHIM_LINGER=0
run "TWSHIM_LINGER=0 TWSHIM_SKIP_PROGRAMS=curl" 2 0 lib TWSHIM_LINGER=0 TWSHIM_SKIP_PROGRAMS=curl
run "TWSHIM_LINGER=0 TWSHIM_ONLY_PROGRAMS=probe" 2 0 lib TWSHIM_LINGER=0 TWSHIM_ONLY_PROGRAMS=probe
run "TWSHIM_ONLY_PROGRAMS=probe,curl TWSHIM_SKIP_PROGRAMS=curl: skip wins" 2 0 \
	lib TWSHIM_LINGER=0 TWSHIM_ONLY_PROGRAMS=probe,curl TWSHIM_SKIP_PROGRAMS=curl
run "TWSHIM_ONLY_PROGRAMS=health.sh: the script only, not what it runs" 2 3 \
	lib TWSHIM_LINGER=0 TWSHIM_ONLY_PROGRAMS=health.sh
run "twshim run --skip-programs=curl" 2 0 twrun --linger=0 --skip-programs=curl --
run "twshim run --only-programs=probe" 2 0 twrun --linger=0 --only-programs=probe --

# A malformed list: one line naming it, and the library does nothing anywhere.
run "TWSHIM_SKIP_PROGRAMS=/usr/bin/curl (malformed)" 2 3 \
	lib TWSHIM_LINGER=0 TWSHIM_SKIP_PROGRAMS=/usr/bin/curl
assert_eq "malformed list: error lines (one per process: sh, curl, curl, probe)" \
	"$(grep -c 'error: TWSHIM_SKIP_PROGRAMS="/usr/bin/curl" is not valid: item 1' "$TW_TMP/err")" 4
rc=0
twrun --skip-programs=/usr/bin/curl -- true 2>"$TW_TMP/err" || rc=$?
assert_eq "twshim run --skip-programs=/usr/bin/curl: refused" "$rc" 2
assert_match "twshim run --skip-programs=/usr/bin/curl: names the option" "$(cat "$TW_TMP/err")" \
	'TWSHIM_SKIP_PROGRAMS="/usr/bin/curl" is not valid.*\(from --skip-programs\)'
out=$(TWSHIM_ONLY_PROGRAMS=probe TWSHIM_SKIP_PROGRAMS=curl "$TW_TOOL" check 2>&1)
assert_match "twshim check: the scope" "$out" "TWSHIM_ONLY_PROGRAMS.*acts only in programs named probe"
rc=0
TWSHIM_ONLY_PROGRAMS="probe curl" "$TW_TOOL" check >/dev/null 2>&1 || rc=$?
assert_eq "twshim check: malformed list" "$rc" 2

tw_done
