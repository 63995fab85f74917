#!/usr/bin/env bash
# Stress: close() from a signal handler while 16 threads connect.  A 500 us
# interval timer interrupts any thread, in the middle of connect() or of the
# library's own work, and its handler closes a connected socket that the
# library manages (safe linger, pinned).  Asserts: bounded time (no
# deadlock in the interposers), no failed connect, no fd leak, every byte
# received, no TIME_WAIT from either the workers' or the handler's closes.
# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
# shellcheck source=tests/e2e/stress/lib_stress.sh
. "$(dirname "$0")/lib_stress.sh"
tw_netns_enter "$@"
base='' out='' # summary lines, filled by st_run

threads=16
iter=$(st_scale "${ST_ITER:-1000}")

st_server_start nolib 7300 7301
st_run base "$ST_CLIENT" sigclose 7300 7301 2 20
st_server_stop nolib
st_assert_baseline_fails "$base" "sigclose, 2 threads x 20 cycles"

ST_SERVER_PRELOAD=1 st_server_start main -P "$ST_PIN" 7310 7311
st_run out --lib TWSHIM_LINGER=safe TWSHIM_PORTS="$ST_PIN" TWSHIM_REUSEADDR=1 TWSHIM_LOG=warn -- \
	"$ST_CLIENT" sigclose 7310 7311 "$threads" "$iter"
st_server_stop main

st_assert_clean "$out" $(($(st_port main 7310 bytes) + $(st_port main 7311 bytes))) \
	"$threads x $iter cycles with signals"
assert_gt "sockets closed inside the signal handler" "$(tw_field "$out" sig_closes)" 0
assert_eq "worker connections accepted" "$(st_port main 7310 conns)" $((threads * iter))
assert_eq "source ports outside $ST_PIN" \
	$(($(st_port main 7310 outside) + $(st_port main 7311 outside))) 0
assert_eq "client TIME_WAIT to :7310 (workers)" "$(tw_tw_count dport = :7310)" 0
assert_eq "client TIME_WAIT to :7311 (closed in the handler)" "$(tw_tw_count dport = :7311)" 0
assert_eq "handler-closed sockets the server saw end with EOF" "$(st_port main 7311 eof)" \
	"$(st_port main 7311 conns)"
tw_done
