#!/usr/bin/env bash
# sup_go: a Go probe (CGO_ENABLED=0: static, its own system calls, connects
# from many runtime threads) reached by the supervisor.
#
# N short request/reply connections from 8 goroutines, 10 ephemeral ports,
# tcp_tw_reuse=0:
#   LD_PRELOAD alone: no effect — EADDRNOTAVAIL and client TIME_WAIT;
#   supervised, TWSHIM_LINGER=0: no failure, no TIME_WAIT, and the trapped
#     connects came from more than one thread (the supervisor's debug log
#     names each caller's thread id), on this kernel with PIDFD_THREAD and
#     seccomp sync wake-up;
#   the same on a kernel without PIDFD_THREAD and without sync wake-up
#     (simulated): the supervisor falls back to the thread group's pidfd and
#     to ordinary wake-ups, with the same result;
#   supervised, TWSHIM_PORTS=50000-50019, sequential connections: no
#     failure, every source port in the range.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/supervise/lib_sup.sh
. "$(dirname "$0")/lib_sup.sh"
sup_init
sup_build_goprobe

N=${TW_CONNS:-500}
C=8

# 1. LD_PRELOAD alone
tw_server_start A -p 7001 -m reply -t 60
line=$(TWSHIM_LINGER=0 tw_preload "$SUP_GO" -addr 127.0.0.1:7001 -n "$N" -c "$C" -request -timeout 60s)
tw_server_stop A
tw_log "preload alone: $line"
assert_eq "preload alone: attempted" "$(tw_field "$line" attempted)" "$N"
assert_gt "preload alone: EADDRNOTAVAIL" "$(tw_field "$line" eaddrnotavail)" 0
assert_gt "preload alone: client TIME_WAIT" "$(tw_tw_count dport = :7001)" 0

# linger0 PORT NAME PIDFD_THREAD(1|0) SYNC_WAKEUP(1|0) [driver options]:
# supervised with TWSHIM_LINGER=0.
linger0() {
	local port=$1 name=$2 thread=$3 sync=$4 log=$TW_TMP/sup.$1.log rc tids
	shift 4
	tw_server_start S -p "$port" -m reply -n "$N" -t 60
	line=$(TWSHIM_LINGER=0 TWSHIM_LOG=debug TWSHIM_LOG_FILE=$log \
		sup_run "$@" -- "$SUP_GO" -addr "127.0.0.1:$port" -n "$N" -c "$C" -request -timeout 60s)
	rc=$?
	tw_server_wait S || tw__fail "$name: server did not see $N connections end"
	tw_log "$name: $line"
	assert_eq "$name: supervisor exit status" "$rc" 0
	assert_eq "$name: successes" "$(tw_field "$line" ok)" "$N"
	assert_eq "$name: failures" "$(tw_field "$line" failed)" 0
	assert_eq "$name: EADDRNOTAVAIL" "$(tw_field "$line" eaddrnotavail)" 0
	assert_eq "$name: TIME_WAIT to the server" "$(tw_tw_count dport = ":$port")" 0
	assert_eq "$name: TIME_WAIT at the server" "$(tw_tw_count sport = ":$port")" 0
	assert_eq "$name: server saw resets" "$(tw_field "$TW_SUMMARY_S" reset)" "$N"
	assert_eq "$name: trapped connects logged" "$(grep -c 'supervise: connect' "$log")" "$N"
	assert_eq "$name: PIDFD_THREAD used" "$(grep -c 'supervise: PIDFD_THREAD yes' "$log")" "$thread"
	assert_eq "$name: sync wake-up used" "$(grep -c 'supervise: seccomp sync wake-up yes' "$log")" "$sync"
	assert_eq "$name: sync wake-up said either way" "$(grep -c 'supervise: seccomp sync wake-up' "$log")" 1
	tids=$(grep -o 'supervise: connect fd=[0-9]* tid=[0-9]*' "$log" | sed 's/.*tid=//' | sort -u | wc -l)
	assert_gt "$name: distinct threads that connected" "$tids" 1
}

# 2. supervised, linger 0
linger0 7002 linger0 1 1
# 3. the same without PIDFD_THREAD (Linux < 6.9)
linger0 7003 "linger0 without PIDFD_THREAD or sync wake-up" 0 0 \
	--fake-old-kernel=pidfd_thread --fake-old-kernel=sync_wakeup

# 4. supervised, pinned source ports, one connection at a time.  The
# supervisor never sees a close, so it hands a port back to the same
# destination after a full turn of the range (supervise_notify.c, the
# reservation ring): with 8 goroutines and 20 ports a connection that a
# busy machine keeps open through 20 others collides (EADDRNOTAVAIL, seen
# once under load).  Sequential connections cannot overlap, so the outcome
# does not depend on scheduling; concurrency under pinning is the library's
# ports_concurrent test.
tw_server_start P -p 7004 -m reply -n "$N" -t 60
line=$(TWSHIM_PORTS=50000-50019 sup_run -- "$SUP_GO" -addr 127.0.0.1:7004 -n "$N" -c 1 -request -timeout 60s)
rc=$?
tw_server_wait P || tw__fail "pinning: server did not see $N connections end"
tw_log "supervised pinning: $line"
assert_eq "pinning: supervisor exit status" "$rc" 0
assert_eq "pinning: successes" "$(tw_field "$line" ok)" "$N"
assert_eq "pinning: failures" "$(tw_field "$line" failed)" 0
sup_ports_in_range "pinning" "$line" 50000 50019
assert_le "pinning: TIME_WAIT capped by the range" "$(tw_tw_count dport = :7004)" 20
assert_eq "pinning: TIME_WAIT with a source port outside 50000-50019" \
	"$(sup_tw_outside 50000 50019 dport = :7004)" 0

tw_done
