#!/usr/bin/env bash
# sup_status: the supervisor returns the target's status as a shell would,
# forwards signals, and says why when the target cannot be run.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/supervise/lib_sup.sh
. "$(dirname "$0")/lib_sup.sh"
sup_init
tw_need sh

export TWSHIM_LINGER=0

sup_run -- sh -c 'exit 7'
assert_eq "exit 7" "$?" 7
sup_run -- sh -c 'kill -9 $$'
assert_eq "killed by SIGKILL" "$?" 137

err=$(sup_run -- /nonexistent/probe 2>&1 >/dev/null)
rc=$?
assert_eq "missing command: status" "$rc" 127
assert_match "missing command: message" "$err" 'nonexistent/probe: No such file'
touch "$TW_TMP/notexec"
err=$(sup_run -- "$TW_TMP/notexec" 2>&1 >/dev/null)
rc=$?
assert_eq "not executable: status" "$rc" 126
assert_match "not executable: message" "$err" 'Permission denied'

# forward SIG TARGET-SCRIPT WANT: start the target, wait until it says it
# is ready (its handler is set), signal the supervisor, check the status.
forward() {
	local sig=$1 script=$2 want=$3 fifo=$TW_TMP/ready.$1 pid rc ready=
	mkfifo "$fifo" || fail "mkfifo"
	# The driver itself, not a function's subshell: $! must be its pid.
	"$SUP_DRIVER" -- sh -c "$script" >"$fifo" &
	pid=$!
	read -r -t 120 ready <"$fifo"
	assert_eq "SIG$sig: target ready" "$ready" ready
	kill -"$sig" "$pid"
	wait "$pid"
	rc=$?
	assert_eq "SIG$sig forwarded: status" "$rc" "$want"
}
forward TERM 'echo ready; exec sleep 60' 143
forward USR1 'trap "kill \$s; exit 42" USR1; sleep 60 & s=$!; echo ready; wait' 42
forward HUP 'trap "kill \$s; exit 43" HUP; sleep 60 & s=$!; echo ready; wait' 43

tw_done
