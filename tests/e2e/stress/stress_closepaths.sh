#!/usr/bin/env bash
# Stress: sockets closed through fclose(), close_range() and dup2() onto a
# live fd, by 16 threads at once, under the library (safe linger, pinning,
# reuse).  safe acts in the kernel at the socket's final release, whatever
# the close path (doc/ARCHITECTURE.md), and every path the interposers see
# must release its pinned port (lib/runtime/record_close.c), so each path
# must end without TIME_WAIT (measured per path: each has its own server
# port), with no byte lost, no failed connect, no fd leak.
# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
# shellcheck source=tests/e2e/stress/lib_stress.sh
. "$(dirname "$0")/lib_stress.sh"
tw_netns_enter "$@"
base='' out='' # summary lines, filled by st_run

threads=16
# Each client thread holds up to 3 connections to one port while it opens
# the next (close_range slots): the server needs 16 x 3 handlers per port.
iter=$(st_scale "${ST_ITER:-600}")

st_server_start nolib -T 64 7400 7401 7402
st_run base "$ST_CLIENT" closepaths 7400 7401 7402 1 30
st_server_stop nolib
st_assert_baseline_fails "$base" "closepaths, 1 thread x 30 rounds"
assert_ge "without the library: client TIME_WAIT" "$(tw_tw_count)" 10

ST_SERVER_PRELOAD=1 st_server_start main -T 64 -P "$ST_PIN" 7410 7411 7412
st_run out --lib TWSHIM_LINGER=safe TWSHIM_PORTS="$ST_PIN" TWSHIM_REUSEADDR=1 TWSHIM_LOG=warn -- \
	"$ST_CLIENT" closepaths 7410 7411 7412 "$threads" "$iter"
st_server_stop main

bytes=0
for p in 7410 7411 7412; do
	bytes=$((bytes + $(st_port main "$p" bytes)))
done
st_assert_clean "$out" "$bytes" "$threads x $iter rounds"
for pair in fclose:7410 close_range:7411 dup2:7412; do
	path=${pair%%:*} p=${pair#*:}
	assert_gt "$path: rounds done" "$(tw_field "$out" "$path")" 0
	assert_eq "$path: source ports outside $ST_PIN" "$(st_port main "$p" outside)" 0
	assert_eq "$path: client TIME_WAIT to :$p" "$(tw_tw_count dport = :"$p")" 0
	assert_eq "$path: closes the server saw as EOF (safe: FIN first, RST after its ACK)" "$(st_port main "$p" eof)" \
		"$(st_port main "$p" conns)"
done
tw_done
