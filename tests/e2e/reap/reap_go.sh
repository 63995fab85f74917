#!/usr/bin/env bash
# reap_go: a static Go probe (CGO_ENABLED=0, its own system calls: no
# LD_PRELOAD reaches it), started by the test, not by twshim, in a 10-port
# ephemeral range with tcp_tw_reuse=0.
#   without a reaper: 10 connections, then EADDRNOTAVAIL (TIME_WAIT holds
#     every port for 60 s);
#   with `twshim reap --match 127.0.0.1:7002 --min-age 0` beside it: ROUNDS
#     rounds of 10 connections (the whole range each round) with 0 failures,
#     the reaper destroyed every one of their TIME_WAIT, and the TIME_WAIT
#     count never exceeded the range.
# Not a race against the clock: a round starts once the kernel shows every
# socket of the previous round gone (the reaper freed the ports), so the
# outcome does not depend on how fast the machine is.  Without the reaper
# that wait would last 60 s (TIME_WAIT expiry) and the bound (50 s) fails.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/reap/lib_reap.sh
. "$(dirname "$0")/lib_reap.sh"
rp_build_goprobe

RANGE=10
ROUNDS=${TW_ROUNDS:-30}
N=$((RANGE * ROUNDS))

# 1. no reaper: the probe alone runs out of ports
tw_server_start A -p 7001 -m reply -t 120
line=$("$RP_GO" -addr 127.0.0.1:7001 -n 100 -c 2 -request -timeout 60s)
tw_log "no reaper: $line"
assert_eq "no reaper: connections that succeeded" "$(tw_field "$line" ok)" "$RANGE"
assert_eq "no reaper: EADDRNOTAVAIL" "$(tw_field "$line" eaddrnotavail)" $((100 - RANGE))
tw_settle 7001
assert_eq "no reaper: client TIME_WAIT (the whole range)" "$(tw_tw_count dport = :7001)" "$RANGE"

# 2. the reaper beside the probe
rp_reaper_start R --match 127.0.0.1:7002 --min-age 0 --interval 20ms
tw_server_start S -p 7002 -m reply -n "$N" -t 280
ok=0 failed=0 enotavail=0 maxtw=0 stuck=0
t0=$(date +%s%N)
for ((r = 0; r < ROUNDS; r++)); do
	line=$("$RP_GO" -addr 127.0.0.1:7002 -n "$RANGE" -c 2 -request -timeout 60s)
	ok=$((ok + $(tw_field "$line" ok)))
	failed=$((failed + $(tw_field "$line" failed)))
	enotavail=$((enotavail + $(tw_field "$line" eaddrnotavail)))
	tw=$(tw_tw_count dport = :7002)
	((tw > maxtw)) && maxtw=$tw
	rp_wait_free 7002 || { stuck=1; break; }
done
t1=$(date +%s%N)
tw_server_wait S || tw__fail "reaper: the server did not see $N connections end"
rp_reaper_stop R
tw_log "with reaper: $ok/$N ok in $(((t1 - t0) / 1000000)) ms (paced by the reaper)"
assert_eq "with reaper: every round's ports freed by the reaper" "$stuck" 0
assert_eq "with reaper: successes" "$ok" "$N"
assert_eq "with reaper: failures" "$failed" 0
assert_eq "with reaper: EADDRNOTAVAIL" "$enotavail" 0
assert_le "with reaper: client TIME_WAIT seen after a round" "$maxtw" "$RANGE"
assert_eq "with reaper: client TIME_WAIT at the end" "$(tw_tw_count dport = :7002)" 0
assert_eq "with reaper: TIME_WAIT destroyed by the reaper" "$(tw_field "$RP_TOTALS" reaped)" "$N"
assert_eq "with reaper: reaper errors" "$(tw_field "$RP_TOTALS" errors)" 0
assert_eq "with reaper: reaper exit status" "$RP_STATUS" 0
# out of its scope: the first phase's TIME_WAIT are still there
assert_eq "out of scope: TIME_WAIT to port 7001 untouched" "$(tw_tw_count dport = :7001)" "$RANGE"

tw_done
