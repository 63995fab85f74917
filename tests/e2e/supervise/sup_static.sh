#!/usr/bin/env bash
# sup_static: a `gcc -static` probe, which LD_PRELOAD cannot reach, is
# reached by the supervisor.
#
# In a namespace with 10 ephemeral ports and tcp_tw_reuse=0, N short
# request/reply connections closed by the client:
#   LD_PRELOAD=libtwshim.so TWSHIM_LINGER=0 alone: no effect on the static
#     binary — TIME_WAIT piles up on the client side and EADDRNOTAVAIL comes;
#   supervised, TWSHIM_LINGER=0: every connection succeeds, each ends with a
#     reset at the server, no TIME_WAIT;
#   supervised, TWSHIM_PORTS=50000-50019: every connection succeeds, every
#     source port (the probe's getsockname and the kernel's TIME_WAIT
#     entries) lies in the range;
#   supervised, TWSHIM_LINGER=safe with TWSHIM_PORTS: no failure, ports in
#     the range, the server sees EOF (never a reset: nothing can be lost)
#     and no TIME_WAIT is left (sup_safe.sh tests safe alone);
#   supervised, TWSHIM_LINGER=0 with the destination excluded: left alone
#     (TIME_WAIT as without twshim), decided from the address alone (the
#     debug log says "not selected": no pidfd_getfd was made).

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/supervise/lib_sup.sh
. "$(dirname "$0")/lib_sup.sh"
sup_init

N=${TW_CONNS:-500}
SP=$SUP_SP

# 1. LD_PRELOAD alone
tw_server_start A -p 7001 -m reply -t 60
line=$(TWSHIM_LINGER=0 tw_preload "$SP" probe 127.0.0.1 7001 "$N" request)
tw_server_stop A
tw_log "preload alone: $line"
assert_eq "preload alone: attempted" "$(tw_field "$line" attempted)" "$N"
assert_gt "preload alone: EADDRNOTAVAIL" "$(tw_field "$line" eaddrnotavail)" 0
assert_gt "preload alone: client TIME_WAIT" "$(tw_tw_count dport = :7001)" 0

# 2. supervised, linger 0
tw_server_start B -p 7002 -m reply -n "$N" -t 60
line=$(TWSHIM_LINGER=0 sup_run -- "$SP" probe 127.0.0.1 7002 "$N" request)
rc=$?
tw_server_wait B || tw__fail "linger0: server did not see $N connections end"
tw_log "supervised linger0: $line"
assert_eq "linger0: supervisor exit status" "$rc" 0
assert_eq "linger0: successes" "$(tw_field "$line" ok)" "$N"
assert_eq "linger0: failures" "$(tw_field "$line" failed)" 0
assert_eq "linger0: EADDRNOTAVAIL" "$(tw_field "$line" eaddrnotavail)" 0
assert_eq "linger0: TIME_WAIT to the server" "$(tw_tw_count dport = :7002)" 0
assert_eq "linger0: TIME_WAIT at the server" "$(tw_tw_count sport = :7002)" 0
assert_eq "linger0: server saw resets" "$(tw_field "$TW_SUMMARY_B" reset)" "$N"

# 3. supervised, pinned source ports (normal close)
tw_server_start C -p 7003 -m reply -n "$N" -t 60
line=$(TWSHIM_PORTS=50000-50019 sup_run -- "$SP" probe 127.0.0.1 7003 "$N" request)
rc=$?
tw_server_wait C || tw__fail "pinning: server did not see $N connections end"
tw_log "supervised pinning: $line"
assert_eq "pinning: supervisor exit status" "$rc" 0
assert_eq "pinning: successes" "$(tw_field "$line" ok)" "$N"
assert_eq "pinning: failures" "$(tw_field "$line" failed)" 0
sup_ports_in_range "pinning" "$line" 50000 50019
assert_gt "pinning: TIME_WAIT to the server (normal close)" "$(tw_tw_count dport = :7003)" 0
assert_le "pinning: TIME_WAIT capped by the range" "$(tw_tw_count dport = :7003)" 20
assert_eq "pinning: TIME_WAIT with a source port outside 50000-50019" \
	"$(sup_tw_outside 50000 50019 dport = :7003)" 0

# 4. supervised, safe + pinning
tw_server_start D -p 7004 -m reply -n "$N" -t 60
line=$(TWSHIM_LINGER=safe TWSHIM_PORTS=50000-50019 sup_run -- "$SP" probe 127.0.0.1 7004 "$N" request 2>"$TW_TMP/safe.err")
rc=$?
tw_server_wait D || tw__fail "safe: server did not see $N connections end"
tw_log "supervised safe+pinning: $line"
assert_eq "safe: supervisor exit status" "$rc" 0
assert_eq "safe: failures" "$(tw_field "$line" failed)" 0
sup_ports_in_range "safe" "$line" 50000 50019
assert_eq "safe: server saw EOF" "$(tw_field "$TW_SUMMARY_D" eof)" "$N"
tw_settle 7004
assert_eq "safe: client TIME_WAIT" "$(tw_tw_count dport = :7004)" 0

# 5. supervised, linger 0, destination excluded: decided from the address
log=$TW_TMP/excluded.log
tw_server_start E -p 7005 -m reply -n 5 -t 60
line=$(TWSHIM_LINGER=0 TWSHIM_EXCLUDE='*:7005' TWSHIM_LOG=debug TWSHIM_LOG_FILE=$log \
	sup_run -- "$SP" probe 127.0.0.1 7005 5 request)
rc=$?
tw_server_wait E || tw__fail "excluded: server did not see 5 connections end"
tw_log "supervised, excluded: $line"
assert_eq "excluded: supervisor exit status" "$rc" 0
assert_eq "excluded: successes" "$(tw_field "$line" ok)" 5
assert_eq "excluded: client TIME_WAIT (left alone)" "$(tw_tw_count dport = :7005)" 5
assert_eq "excluded: decided without the socket" "$(grep -c 'supervise: connect fd=[0-9]* tid=[0-9]*: not selected' "$log")" 5
assert_eq "excluded: none applied" "$(grep -c 'summary .* applied=0 skipped=5' "$log")" 1

tw_done
