#!/usr/bin/env bash
# correct_fallback: when the pinned range runs out, the library says so.
#
# TCP timestamps off: a port whose TIME_WAIT towards the destination is
# still there cannot be reused, so with TWSHIM_PORTS=50000-50004 and normal
# closes the 6th connection finds no port and falls back to the kernel's
# ephemeral range.  That is a "cannot act" event: one line at the default
# log level naming the range and the count, once (rate-limited), however
# many connections fall back.  Before the fix nothing was said.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/correct/lib_correct.sh
. "$(dirname "$0")/lib_correct.sh"
sysctl -qw net.ipv4.tcp_timestamps=0 || fail "cannot set net.ipv4.tcp_timestamps"

tw_server_start P -p 7501 -m reply -n 9 -t 60
TWSHIM_PORTS=50000-50004 tw_preload "$TW_CORRECT" conns 9 7501 >"$TW_TMP/out" 2>"$TW_TMP/err"
tw_server_wait P
tw_log "stderr:"$'\n'"$(cat "$TW_TMP/err")"
assert_eq "connections" "$(tail -n 1 "$TW_TMP/out")" "ok=9 failed=0"
assert_eq "connections on the 5 pinned ports" "$(ports_outside 50000 50004 <"$TW_TMP/out")" 4
assert_eq "connections that fell back to the ephemeral range 40000-40009" \
	"$(ports_outside 40000 40009 <"$TW_TMP/out")" 5
assert_eq "lines on stderr at the default log level" "$(wc -l <"$TW_TMP/err")" 1
assert_match "the line" "$(cat "$TW_TMP/err")" \
	'^([0-9TZ:.-]+ )?twshim\[twcorrect:[0-9]+\]: error: TWSHIM_PORTS: no usable source port left in 50000-50004 \(5 ports.*\(1 so far'

tw_done
