#!/usr/bin/env bash
# bad_env: a malformed TWSHIM_* value never breaks the host program.
#
# For each bad value, host programs (python3 and /bin/echo) run under the
# library: their stdout must be exactly what it is without the library,
# they must exit 0, and stderr must hold exactly one line naming the
# variable and the bad value.  Two bad variables give exactly two lines; a
# valid setting gives none (so a library that is silent, or chatty, fails).

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/lib_e2e.sh"
tw_netns_enter "$@"
tw_need python3

# The interpreter itself: a version-manager shim would start several
# processes, each with its own (correct) line.
PY=$(python3 -c 'import sys; print(sys.executable)') || fail "python3 does not run"
[[ -x $PY ]] || fail "python3 executable '$PY' not found"
ECHO=/bin/echo
[[ -x $ECHO ]] || fail "$ECHO not found"

want_py=$("$PY" -c 'print(42)')
want_echo=$("$ECHO" hello 42)

# host NAME -> runs host NAME under the library with the caller's env;
# sets OUT ERR RC
# shellcheck disable=SC2317 # called through env_run
host() {
	local errf=$TW_TMP/stderr
	RC=0
	case $1 in
	py) OUT=$(tw_preload "$PY" -c 'print(42)' 2>"$errf") || RC=$? ;;
	echo) OUT=$(tw_preload "$ECHO" hello 42 2>"$errf") || RC=$? ;;
	esac
	ERR=$(cat "$errf")
}

want_of() {
	case $1 in py) printf '%s' "$want_py" ;; echo) printf '%s' "$want_echo" ;; esac
}

nlines() {
	if [[ -z $1 ]]; then echo 0; else wc -l <<<"$1"; fi
}

# check_bad VAR VALUE
check_bad() {
	local var=$1 val=$2 h
	for h in py echo; do
		env_run "$var=$val" host "$h"
		local tag="$h $var=$val"
		assert_eq "$tag: exit status" "$RC" 0
		assert_eq "$tag: stdout unchanged" "$OUT" "$(want_of "$h")"
		assert_eq "$tag: stderr lines" "$(nlines "$ERR")" 1
		if [[ $ERR == *"$var"* && $ERR == *"$val"* ]]; then
			assert_eq "$tag: stderr names variable and value" yes yes
		else
			assert_eq "$tag: stderr names variable and value" "'$ERR'" "a line with $var and $val"
		fi
	done
}

# env_run "VAR=VALUE..." CMD...: run a shell function with variables set.
env_run() {
	local -a vars
	read -r -a vars <<<"$1"
	shift
	local v
	for v in "${vars[@]}"; do export "${v?}"; done
	"$@"
	for v in "${vars[@]}"; do unset "${v%%=*}"; done
}

# Baselines: without the library, and with a valid setting.
OUT=$("$PY" -c 'print(42)' 2>"$TW_TMP/e0") && ERR=$(cat "$TW_TMP/e0")
assert_eq "python3 without the library: stderr lines" "$(nlines "$ERR")" 0
env_run "TWSHIM_LINGER=0 TWSHIM_MATCH=127.0.0.0/8" host py
assert_eq "valid settings: exit status" "$RC" 0
assert_eq "valid settings: stdout" "$OUT" "$want_py"
assert_eq "valid settings: stderr lines" "$(nlines "$ERR")" 0

check_bad TWSHIM_LINGER abc
check_bad TWSHIM_LINGER 3601
check_bad TWSHIM_LINGER -1
check_bad TWSHIM_DRAIN_MS 60001
check_bad TWSHIM_DRAIN_MS 10ms
check_bad TWSHIM_PORTS 70000-1
check_bad TWSHIM_PORTS 2000-1000
check_bad TWSHIM_PORTS below
check_bad TWSHIM_REUSEADDR yes
check_bad TWSHIM_REUSEPORT 2
check_bad TWSHIM_MATCH 10.0.0.0/33
check_bad TWSHIM_MATCH '[::1/129]:80'
check_bad TWSHIM_MATCH 127.0.0.1:70000
check_bad TWSHIM_EXCLUDE 300.1.2.3
check_bad TWSHIM_EXCLUDE '*:0'
check_bad TWSHIM_LOG verbose
check_bad TWSHIM_LOG_FILE relative/log
check_bad TWSHIM_DISABLE maybe

# Two bad variables: two lines, program still fine.
env_run "TWSHIM_LINGER=abc TWSHIM_MATCH=10.0.0.0/33" host py
assert_eq "two bad variables: exit status" "$RC" 0
assert_eq "two bad variables: stdout" "$OUT" "$want_py"
assert_eq "two bad variables: stderr lines" "$(nlines "$ERR")" 2

tw_done
