#!/usr/bin/env bash
# correct_supdeath: under `twshim run --supervise` the program is a child of
# the supervisor, and a killed supervisor kills the program (SIGKILL through
# the parent-death signal): its trapped connect() would otherwise fail with
# ENOSYS for the rest of its life.  A service manager sees the main process
# die and restarts the unit.  `twshim run --help` says so.
#
# The program (a static helper) holds the write end of a FIFO; after
# `kill -9` of twshim, the reader's end of file proves the program is gone
# too (bounded: 30 s).

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/correct/lib_correct.sh
. "$(dirname "$0")/lib_correct.sh"
tw_need timeout
TW_TOOL=${TWTOOL_BIN:-}
STATIC=${TWCORRECT_STATIC:-}
[[ -x $TW_TOOL ]] || fail "TWTOOL_BIN='$TW_TOOL' is not executable"
[[ -x $STATIC ]] || fail "TWCORRECT_STATIC='$STATIC' is not executable"

help=$("$TW_TOOL" run --help)
assert_match "run --help: the supervised program is a child" "$help" "runs as a child of twshim"
assert_match "run --help: killing twshim kills it" "$help" "killing twshim kills it"

mkfifo "$TW_TMP/fifo" || fail "mkfifo"
TWSHIM_LIBRARY=$TW_LIB "$TW_TOOL" run --supervise --linger=0 -- "$STATIC" hold >"$TW_TMP/fifo" &
sup=$!
exec 6<"$TW_TMP/fifo"
read -r -t 120 word pid <&6 || fail "the supervised program did not start"
assert_eq "program started" "$word" pid
assert_match "program pid" "$pid" '^[0-9]+$'
assert_eq "the program is the supervisor's child" "$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status")" "$sup"
kill -KILL "$sup"
wait "$sup" 2>/dev/null
# End of file: every writer (supervisor and program) is gone.
if timeout 120 cat <&6 >/dev/null; then ended=yes; else ended=no; fi
assert_eq "the program ended when the supervisor was killed" "$ended" yes
state=$(awk '/^State:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
assert_match "the program's process: gone or a zombie" "${state:-gone}" '^(gone|Z)$'

tw_done
