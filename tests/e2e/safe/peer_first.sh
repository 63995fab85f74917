#!/usr/bin/env bash
# shellcheck disable=SC2154 # D_* counters are set by phase() with printf -v
# peer_first: when the server closes first, TWSHIM_LINGER=safe closes
# normally — no RST, nothing on the client's side to remove.
#
# The test server (closefirst mode) answers "OK" and closes; twsafe-client
# reads up to EOF, then closes: it is the passive closer (CLOSE_WAIT ->
# LAST_ACK), which never leaves TIME_WAIT.  The server is the active
# closer and keeps TIME_WAIT: that is expected, and counting it shows the
# test looks at the right side.  (One entry per 4-tuple: a new SYN from a
# reused client port takes over the old entry, so with 10 client ports
# there are at most 10 of them, not N.)
#   without the library and with TWSHIM_LINGER=safe: no RST at all in the
#     namespace (TcpOutRsts, TcpExtTCPAbortOnClose, TcpExtTCPAbortOnData
#     unchanged), client-side TIME_WAIT 0, server-side TIME_WAIT > 0;
#   TWSHIM_LINGER=0 (contrast): one RST per connection, which also wipes
#     the server's TIME_WAIT — what `safe` must not do.
# Both sides live in this one namespace, so the counters are shared: the
# server sends no RST in this exchange, so every RST counted is the
# client's.

# shellcheck source=tests/e2e/lib_e2e.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib_e2e.sh}"
tw_netns_enter "$@"
tw_need nstat
# shellcheck source=tests/e2e/safe/lib_safe.sh
. "$(dirname "$0")/lib_safe.sh"

N=${TW_CONNS:-200}
COUNTERS=(TcpOutRsts TcpExtTCPAbortOnClose TcpExtTCPAbortOnData)

# counters: the absolute values, one "NAME=VALUE" per counter on one line
# (-s: leave nstat's history file alone; -a: absolute; -z: show zeros).
counters() {
	nstat -saz "${COUNTERS[@]}" | awk 'NF >= 2 && $1 !~ /^#/ { printf "%s=%s ", $1, $2 }'
}

delta() { # BEFORE AFTER NAME
	echo $(($(tw_field "$2" "$3") - $(tw_field "$1" "$3")))
}

# phase TAG PORT [ENV...]
phase() {
	local tag=$1 port=$2
	shift 2
	local before after line name
	tw_server_start S -p "$port" -m closefirst -n "$N" -t 60
	before=$(counters)
	if (($#)); then
		line=$(env LD_PRELOAD="$TW_LIB" "$@" "$TS_CLIENT" -p "$port" -m eof -n "$N")
	else
		line=$("$TS_CLIENT" -p "$port" -m eof -n "$N")
	fi
	tw_server_wait S || tw__fail "$tag: server did not see $N connections end"
	tw_settle "$port"
	after=$(counters)
	tw_log "$tag: client says: $line"
	tw_log "$tag: counters before: $before"
	tw_log "$tag: counters after:  $after"
	CTW=$(tw_tw_count dport = ":$port")
	STW=$(tw_tw_count sport = ":$port")
	tw_log "$tag: TIME_WAIT client side=$CTW server side=$STW"
	assert_eq "$tag: connections with a reply" "$(tw_field "$line" ok)" "$N"
	for name in "${COUNTERS[@]}"; do
		printf -v "D_$name" '%s' "$(delta "$before" "$after" "$name")"
	done
}

phase "no library" 7401
assert_eq "no library: RSTs sent" "$D_TcpOutRsts" 0
assert_eq "no library: client-side TIME_WAIT" "$CTW" 0
assert_gt "no library: server-side TIME_WAIT" "$STW" 0

phase "safe" 7402 TWSHIM_LINGER=safe
assert_eq "safe: RSTs sent" "$D_TcpOutRsts" 0
assert_eq "safe: TcpExtTCPAbortOnClose delta" "$D_TcpExtTCPAbortOnClose" 0
assert_eq "safe: TcpExtTCPAbortOnData delta" "$D_TcpExtTCPAbortOnData" 0
assert_eq "safe: client-side TIME_WAIT" "$CTW" 0
assert_gt "safe: server-side TIME_WAIT (the server closed first)" "$STW" 0

phase "linger 0 (contrast)" 7403 TWSHIM_LINGER=0
assert_eq "linger 0: RSTs sent (one per connection)" "$D_TcpOutRsts" "$N"
assert_eq "linger 0: client-side TIME_WAIT" "$CTW" 0
assert_eq "linger 0: server-side TIME_WAIT (wiped by the RSTs)" "$STW" 0

tw_done
