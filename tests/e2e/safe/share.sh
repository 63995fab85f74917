#!/usr/bin/env bash
# share: TWSHIM_LINGER=safe loses no byte however the socket is shared or
# closed — including ways no interposer can see.
#
# For every case of twsafe-share (fork either way, fork + exec of a short
# helper — which used to switch safe off for the socket —, dup, dup or fork before
# connect, a failed dup3, vfork+exec, posix_spawn with adddup2 of a
# close-on-exec socket, popen, system("... &"), SCM_RIGHTS to another
# process, pidfd_getfd by another process, raw clone, a close the library
# cannot see) and for Python's subprocess.Popen(pass_fds=...) followed by
# the parent's close: a holder that has nothing in flight closes first,
# the other then writes 2 MiB to a reader with SO_RCVBUF 4096 that pauses
# 300 ms, and closes last (a client close).
#   without the library: every byte, EOF, 1 TIME_WAIT (the client closed first);
#   TWSHIM_LINGER=safe:   every byte, EOF, 0 TIME_WAIT;
#   TWSHIM_LINGER=0 (contrast, a few cases): the reader gets a fraction and
#     ECONNRESET — what the check catches if a RST comes too early.
# closefrom/close_range over 20 blocking sockets with data the peer has not
# read: the reader reads nothing until the writer's close has returned (the
# order is built into the helper, not timed), then every byte arrives.
# The program's own SO_LINGER {1,5} set through a dup still works: every
# byte, EOF (TIME_WAIT is not asserted there: when the peer's FIN arrives
# while the program's close() still lingers, the kernel enters TIME_WAIT,
# with or without the library).

# 100 ports: each run without the library leaves one TIME_WAIT for 60 s.
TW_PORT_RANGE=${TW_PORT_RANGE:-40000 40099}
# shellcheck source=tests/e2e/lib_e2e.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib_e2e.sh}"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/safe/lib_share.sh
. "$(dirname "$0")/lib_share.sh"
tw_need python3

B=2097152
for c in fork_child fork_parent fork_exec dup dup_before fork_before dup3_fail vfork spawn_dup2 popen \
	system_bg scm_rights pidfd_getfd raw_clone unseen; do
	sh_run "$c, no library" off -c "$c" -b "$B"
	sh_expect "$c, no library" "$B" 1 eof 1
	sh_run "$c, safe" safe -c "$c" -b "$B"
	sh_expect "$c, safe" "$B" 1 eof 0
done

for c in fork_child pidfd_getfd spawn_dup2; do
	sh_run "$c, linger 0 (contrast)" 0 -c "$c" -b "$B"
	assert_gt "$c, linger 0 (contrast): bytes lost" "$((B - SH_RECEIVED))" 0
	assert_eq "$c, linger 0 (contrast): how the reader's stream ended" "$SH_ENDS" "reset=1"
done

# Python: the child gets the socket through pass_fds, the parent closes.
py_case() {
	local tag=$1 mode=$2 out
	SH_PORT=$((SH_PORT + 1))
	out=$TW_TMP/py.$SH_PORT
	local -a env=(env)
	[[ $mode == safe ]] && env=(env "LD_PRELOAD=$TW_LIB" TWSHIM_LINGER=safe)
	# The reader is the test server in sink mode (4 KiB reads into a 4 KiB
	# buffer, a pause per read).
	tw_server_start P -p "$SH_PORT" -m sink -b 4096 -d 1 -n 1 -t 120
	"${env[@]}" python3 - "$SH_PORT" "$TS_SHARE" "$B" <<'PY' >"$out" || tw__fail "$tag: python failed"
import socket, subprocess, sys
port, helper, n = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port))
p = subprocess.Popen([helper, "--emit", str(s.fileno()), n], pass_fds=[s.fileno()])
s.close()
print("rc=%d" % p.wait())
PY
	tw_server_wait P || tw__fail "$tag: server did not see the connection end"
	tw_settle "$SH_PORT"
	local line
	line=$(grep '^conn=' "$TW_OUT_P")
	tw_log "$tag: $(cat "$out"); server: $line"
	assert_eq "$tag: bytes received" "$(tw_field "$line" bytes)" "$B"
	assert_eq "$tag: how the reader's stream ended" "$(tw_field "$line" end)" eof
	assert_eq "$tag: client-side TIME_WAIT" "$(tw_tw_count dport = ":$SH_PORT")" "$3"
}
py_case "python Popen(pass_fds), no library" off 1
py_case "python Popen(pass_fds), safe" safe 0

for c in closefrom close_range; do
	for mode in off safe; do
		sh_run "$c of 20 blocking sockets, $mode" "$mode" -c "$c" -k 20 -b 65536
		sh_expect "$c of 20 blocking sockets, $mode" "$SH_SENT" 20 eof "$([[ $mode == off ]] && echo 20 || echo 0)"
		assert_gt "$c of 20 blocking sockets, $mode: bytes in flight at the close" "$SH_SENT" 0
	done
done

sh_run "own SO_LINGER {1,5} through a dup, safe" safe -c own_linger -b "$B"
sh_expect "own SO_LINGER {1,5} through a dup, safe" "$B" 1 eof -

tw_done
