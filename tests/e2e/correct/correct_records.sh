#!/usr/bin/env bash
# correct_records: the library acts once per socket, and knows a socket by
# its identity (SO_COOKIE), not by its fd number.
#
# 1. 50 connections, each closed with syscall(SYS_close), which no
#    interposer sees, so every new socket gets the fd number of the last
#    one.  TWSHIM_LINGER=0 TWSHIM_PORTS=above: all 50 pinned above the
#    10-port ephemeral range, 0 TIME_WAIT.  (Before the fix the record of
#    the closed socket made the library skip every later socket: unpinned,
#    lingering normally, out of ports after 10.)  Without the library: out
#    of ports.
# 2. Non-blocking clients call connect() twice per socket (EINPROGRESS, then
#    0 or EISCONN): the summary counts 20 sockets, SO_LINGER set 20 times
#    (it was 40 and 40).
# 3. A TCP socket made by socket() is known from that call on, without its
#    cookie; a UDP socket that then takes its number (the TCP socket closed
#    with syscall(SYS_close)) must not inherit its record: connected to a
#    selected destination, it keeps the port the kernel gives it (inside the
#    ephemeral range) and no SO_LINGER, as without the library.  (Before the
#    fix, after a TCP socket never connected: SO_LINGER set, and with
#    pinning a port above the range.)

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/correct/lib_correct.sh
. "$(dirname "$0")/lib_correct.sh"

# --- 1. fd numbers reused after closes the library cannot see -------------------
tw_server_start P -p 7201 -m reply -t 60
"$TW_CORRECT" conns -s 50 7201 >"$TW_TMP/plain"
tw_settle 7201
assert_gt "without the library: connections that failed (10-port range, TIME_WAIT)" \
	"$(grep -c '^error EADDRNOTAVAIL' "$TW_TMP/plain")" 0
tw_server_stop P

tw_server_start Q -p 7202 -m reply -t 60
TWSHIM_LINGER=0 TWSHIM_PORTS=above tw_preload "$TW_CORRECT" conns -s 50 7202 >"$TW_TMP/with"
tw_settle 7202
assert_eq "syscall(SYS_close) each time: summary" "$(tail -n 1 "$TW_TMP/with")" "ok=50 failed=0"
assert_eq "syscall(SYS_close) each time: source ports outside the pinned range 40010-65535" \
	"$(ports_outside 40010 65535 <"$TW_TMP/with")" 0
assert_eq "syscall(SYS_close) each time: TIME_WAIT (linger 0 on every socket)" \
	"$(tw_tw_count dport = :7202)" 0
tw_server_stop Q
assert_eq "syscall(SYS_close) each time: server saw every connection reset" \
	"$(server_ends Q)" "end=reset:50"

# --- 2. non-blocking connects: one socket, two connect() calls -----------------
tw_server_start N -p 7203 -m reply -t 60
TWSHIM_LINGER=0 TWSHIM_LOG=info tw_preload "$TW_CORRECT" conns -N 20 7203 >"$TW_TMP/nb" 2>"$TW_TMP/nb.err"
tw_settle 7203
summary=$(grep 'summary' "$TW_TMP/nb.err")
tw_log "$summary"
assert_eq "non-blocking, linger 0: connections" "$(tail -n 1 "$TW_TMP/nb")" "ok=20 failed=0"
assert_eq "non-blocking, linger 0: sockets counted" "$(tw_field "$summary" connects)" 20
assert_eq "non-blocking, linger 0: SO_LINGER set" "$(tw_field "$summary" linger_set)" 20
assert_eq "non-blocking, linger 0: TIME_WAIT" "$(tw_tw_count dport = :7203)" 0
tw_server_stop N

tw_server_start M -p 7204 -m reply -t 60
TWSHIM_LINGER=safe TWSHIM_PORTS=above TWSHIM_LOG=info tw_preload "$TW_CORRECT" conns -N 20 7204 \
	>"$TW_TMP/nbs" 2>"$TW_TMP/nbs.err"
tw_settle 7204
summary=$(grep 'summary' "$TW_TMP/nbs.err")
tw_log "$summary"
assert_eq "non-blocking, safe + pinning: connections" "$(tail -n 1 "$TW_TMP/nbs")" "ok=20 failed=0"
assert_eq "non-blocking, safe + pinning: sockets counted" "$(tw_field "$summary" connects)" 20
assert_eq "non-blocking, safe + pinning: matched" "$(tw_field "$summary" matched)" 20
assert_eq "non-blocking, safe + pinning: pinned" "$(tw_field "$summary" pinned)" 20
assert_eq "non-blocking, safe + pinning: TCP_LINGER2 set (once per socket)" \
	"$(tw_field "$summary" linger2_set)" 20
tw_server_stop M

# --- 3. a UDP socket on the number of a TCP socket closed out of sight ---------
# The TCP socket connected first (-: its record says connected) or never (-n:
# its record says only "made by socket() as TCP"); linger alone (connect,
# then SO_LINGER) and with pinning (probe, bind, connect).
tw_server_start U -p 7205 -m reply -t 60
udp_case() { # NAME [ENV...] -- [-n]
	local name=$1 env=() line
	shift
	while [[ $1 != -- ]]; do env+=("$1"); shift; done
	shift
	if ((${#env[@]})); then
		env "${env[@]}" LD_PRELOAD="$TW_LIB" "$TW_CORRECT" udpafter "$@" 7205 >"$TW_TMP/udp.$name"
	else
		"$TW_CORRECT" udpafter "$@" 7205 >"$TW_TMP/udp.$name"
	fi
	line=$(cat "$TW_TMP/udp.$name")
	tw_log "udpafter, $name: $line"
	assert_eq "UDP on the number of a TCP socket closed out of sight ($name): same fd number" \
		"$(tw_field "$line" samefd)" 1
	assert_eq "UDP on the number of a TCP socket closed out of sight ($name): local port outside 40000-40009" \
		"$(echo "port $(tw_field "$line" udp_port)" | ports_outside 40000 40009)" 0
	assert_eq "UDP on the number of a TCP socket closed out of sight ($name): SO_LINGER on" \
		"$(tw_field "$line" linger)" 0
}
udp_case "no library" -- -n
udp_case "linger 0, TCP connected" TWSHIM_LINGER=0 --
udp_case "linger 0, TCP never connected" TWSHIM_LINGER=0 -- -n
udp_case "linger 0 + pinning, TCP connected" TWSHIM_LINGER=0 TWSHIM_PORTS=above --
udp_case "linger 0 + pinning, TCP never connected" TWSHIM_LINGER=0 TWSHIM_PORTS=above -- -n
tw_server_stop U

tw_done
