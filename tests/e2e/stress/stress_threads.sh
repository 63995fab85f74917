#!/usr/bin/env bash
# Stress: 16 threads x thousands of connect/exchange/close cycles with every
# feature on (TWSHIM_LINGER=safe, pinning, reuse).  Kernel-side: no
# TIME_WAIT on either side, every source port inside the pinned range (as
# accept() saw it), every byte received, the listener got SO_REUSEADDR.
# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
# shellcheck source=tests/e2e/stress/lib_stress.sh
. "$(dirname "$0")/lib_stress.sh"
tw_netns_enter "$@"
base='' out='' # summary lines, filled by st_run

threads=16
iter=$(st_scale "${ST_ITER:-4000}")

# Without the library: a 10-port ephemeral range runs dry.
st_server_start base 7100
st_run base "$ST_CLIENT" threads 7100 1 40
st_server_stop base
st_assert_baseline_fails "$base" "1 thread x 40 cycles"
assert_ge "without the library: client TIME_WAIT to :7100" "$(tw_tw_count dport = :7100)" 10
assert_eq "without the library: listener SO_REUSEADDR" "$(st_port base 7100 reuseaddr)" 0

ST_SERVER_PRELOAD=1 st_server_start main -P "$ST_PIN" 7101
st_run out --lib TWSHIM_LINGER=safe TWSHIM_PORTS="$ST_PIN" TWSHIM_REUSEADDR=1 TWSHIM_LOG=warn -- \
	"$ST_CLIENT" threads 7101 "$threads" "$iter"
st_server_stop main

total=$((threads * iter))
st_assert_clean "$out" "$(st_port main 7101 bytes)" "$threads x $iter cycles"
assert_eq "connections completed" "$(tw_field "$out" conns)" "$total"
assert_eq "connections the server accepted" "$(st_port main 7101 conns)" "$total"
assert_eq "source ports outside $ST_PIN (kernel's peer address at accept)" \
	"$(st_port main 7101 outside)" 0
assert_eq "closes the server saw as EOF (safe: FIN first, RST after its ACK)" "$(st_port main 7101 eof)" "$total"
assert_eq "client TIME_WAIT to :7101" "$(tw_tw_count dport = :7101)" 0
assert_eq "server TIME_WAIT on :7101" "$(tw_tw_count sport = :7101)" 0
assert_eq "listener SO_REUSEADDR set by the library" "$(st_port main 7101 reuseaddr)" 1
tw_done
