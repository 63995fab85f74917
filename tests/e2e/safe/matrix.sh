#!/usr/bin/env bash
# matrix: TWSHIM_LINGER=safe over {blocking, non-blocking} x {1 B, 64 KiB,
# 2 MiB} x {plain close, shared via fork, dup or posix_spawn, a close the
# library cannot see (syscall(SYS_close))}.
#
# The writer sends SIZE bytes to a reader with SO_RCVBUF 4096 that starts
# reading after the writer side's first close (twsafe-share); the last
# close is a client close.
#   without the library: every byte, EOF, 1 TIME_WAIT;
#   TWSHIM_LINGER=safe:   every byte, EOF, 0 TIME_WAIT.

# 100 ports: each run without the library leaves one TIME_WAIT for 60 s.
TW_PORT_RANGE=${TW_PORT_RANGE:-40000 40099}
# shellcheck source=tests/e2e/lib_e2e.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib_e2e.sh}"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/safe/lib_share.sh
. "$(dirname "$0")/lib_share.sh"

for blocking in blocking non-blocking; do
	nb=()
	[[ $blocking == non-blocking ]] && nb=(-N)
	for size in 1 65536 2097152; do
		for path in plain fork_child dup spawn_dup2 unseen; do
			for mode in off safe; do
				tag="$blocking, $size B, $path, $mode"
				sh_run "$tag" "$mode" -c "$path" -b "$size" -P 100 "${nb[@]}"
				sh_expect "$tag" "$size" 1 eof "$([[ $mode == off ]] && echo 1 || echo 0)"
			done
		done
	done
done

tw_done
