#!/usr/bin/env bash
# correct_tfo: TCP Fast Open connects are client connects.
#
# sendto() and sendmsg() with MSG_FASTOPEN and a destination connect the
# socket and send in one call.  With net.ipv4.tcp_fastopen=0x403 in the
# namespace (client and server, no listener option needed) the data rides
# in the SYN once the client holds a cookie.  8 such connections, each
# closed first by the client: without the library 8 TIME_WAIT on ephemeral
# ports; with TWSHIM_LINGER=0 TWSHIM_PORTS=above, 0 TIME_WAIT and every
# source port pinned above the range — the same as for connect().  The
# kernel's TCPFastOpenActive counter proves the fast-open path was taken.
#
# The count without the library once came out 7 (about 1 run in 150 under
# load): TIME_WAIT assassination, now prevented for every test by
# tcp_rfc1337=1 in tw_netns_setup (lib_e2e.sh explains it).
# Each run has its own server name, so a failure shows every server's
# per-connection record (peer ports) rather than only the last one's.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/correct/lib_correct.sh
. "$(dirname "$0")/lib_correct.sh"
tw_need nstat
sysctl -qw net.ipv4.tcp_fastopen=1027 || fail "cannot set net.ipv4.tcp_fastopen"

fastopen_active() {
	nstat -az TcpExtTCPFastOpenActive | awk '$1 == "TcpExtTCPFastOpenActive" { print $2 }'
}

port=7401
for call in sendto sendmsg; do
	tw_server_start "P$call" -p "$port" -m reply -n 8 -t 60
	"$TW_CORRECT" conns -f "$call" 8 "$port" >"$TW_TMP/plain.$call"
	tw_server_wait "P$call"
	tw_settle "$port"
	assert_eq "$call MSG_FASTOPEN without the library: connections" \
		"$(tail -n 1 "$TW_TMP/plain.$call")" "ok=8 failed=0"
	assert_eq "$call MSG_FASTOPEN without the library: TIME_WAIT" "$(tw_tw_count dport = :"$port")" 8
	assert_eq "$call MSG_FASTOPEN without the library: source ports outside 40000-40009" \
		"$(ports_outside 40000 40009 <"$TW_TMP/plain.$call")" 0
	port=$((port + 1))

	before=$(fastopen_active)
	tw_server_start "Q$call" -p "$port" -m reply -n 8 -t 60
	TWSHIM_LINGER=0 TWSHIM_PORTS=above tw_preload "$TW_CORRECT" conns -f "$call" 8 "$port" \
		>"$TW_TMP/with.$call"
	tw_server_wait "Q$call"
	tw_settle "$port"
	assert_eq "$call MSG_FASTOPEN with the library: connections" \
		"$(tail -n 1 "$TW_TMP/with.$call")" "ok=8 failed=0"
	assert_gt "$call MSG_FASTOPEN with the library: SYNs that carried data (TCPFastOpenActive)" \
		"$(($(fastopen_active) - before))" 0
	assert_eq "$call MSG_FASTOPEN with the library: TIME_WAIT" "$(tw_tw_count dport = :"$port")" 0
	assert_eq "$call MSG_FASTOPEN with the library: source ports outside 40010-65535" \
		"$(ports_outside 40010 65535 <"$TW_TMP/with.$call")" 0
	port=$((port + 1))
done

tw_done
