#!/usr/bin/env bash
# untouched: with TWSHIM_LINGER=0 (or N, or safe) only client TCP sockets change.
#
# 1. tests/helpers/twtest-sockopt reads SO_LINGER back from one socket of
#    each kind, in the same process as the library: a connected UDP socket,
#    an AF_UNIX stream socketpair (what curl makes), a connected AF_UNIX
#    stream socket, a TCP listener and an accepted TCP socket must all read
#    {0,0}; the client TCP sockets (IPv4 and IPv6) must read {1,0} — and
#    {0,0} without the library, which is what shows the check can fail.
# 2. The test server itself runs under the library in "closefirst" mode: it
#    closes first, so if its accepted sockets were given linger 0 its
#    TIME_WAIT would vanish and the clients would see resets.  Measured from
#    the kernel: server-side TIME_WAIT equals the connections made, and every
#    client got its reply.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/lib_e2e.sh"
tw_netns_enter "$@"
tw_need "$TW_SOCKOPT" "$TW_PROBE"

# linger_of OUTPUT KIND -> "onoff,linger"
linger_of() {
	local l
	l=$(grep "^$2 " <<<"$1") || {
		printf 'missing\n'
		return
	}
	printf '%s,%s\n' "$(tw_field "$l" onoff)" "$(tw_field "$l" linger)"
}

plain=$("$TW_SOCKOPT" 7201) || fail "twtest-sockopt failed without the library"
with=$(TWSHIM_LINGER=0 tw_preload "$TW_SOCKOPT" 7202) ||
	fail "twtest-sockopt failed under the library"
tw_log "without the library:"$'\n'"$plain"
tw_log "with TWSHIM_LINGER=0:"$'\n'"$with"

for kind in udp_connected unix_pair unix_connected tcp_listener tcp_accepted; do
	assert_eq "$kind SO_LINGER without the library" "$(linger_of "$plain" "$kind")" "0,0"
	assert_eq "$kind SO_LINGER with TWSHIM_LINGER=0 (untouched)" "$(linger_of "$with" "$kind")" "0,0"
done
for kind in tcp_client tcp6_client; do
	assert_eq "$kind SO_LINGER without the library" "$(linger_of "$plain" "$kind")" "0,0"
	assert_eq "$kind SO_LINGER with TWSHIM_LINGER=0" "$(linger_of "$with" "$kind")" "1,0"
done

# TWSHIM_LINGER=N: {1,N} on client sockets, nothing anywhere else.
with7=$(TWSHIM_LINGER=7 tw_preload "$TW_SOCKOPT" 7205) ||
	fail "twtest-sockopt failed under the library with TWSHIM_LINGER=7"
for kind in udp_connected unix_pair unix_connected tcp_listener tcp_accepted; do
	assert_eq "$kind SO_LINGER with TWSHIM_LINGER=7 (untouched)" "$(linger_of "$with7" "$kind")" "0,0"
done
for kind in tcp_client tcp6_client; do
	assert_eq "$kind SO_LINGER with TWSHIM_LINGER=7" "$(linger_of "$with7" "$kind")" "1,7"
done

# TWSHIM_LINGER=safe: setting TCP_LINGER2 is itself the TCP check (every
# other socket refuses it): the connected UDP socket is left alone, not
# counted as a failure; the two client TCP sockets get it.
summary=$(TWSHIM_LINGER=safe TWSHIM_LOG=info tw_preload "$TW_SOCKOPT" 7206 2>&1 >/dev/null |
	grep ': info: summary ') || fail "no summary line under TWSHIM_LINGER=safe"
tw_log "with TWSHIM_LINGER=safe: $summary"
assert_eq "safe: connects seen (tcp, tcp6, udp)" "$(tw_field "$summary" connects)" 3
assert_eq "safe: connects acted on (tcp, tcp6)" "$(tw_field "$summary" matched)" 2
assert_eq "safe: TCP_LINGER2 set" "$(tw_field "$summary" linger2_set)" 2
assert_eq "safe: side failures (UDP refusing TCP_LINGER2 is not one)" \
	"$(tw_field "$summary" side_failures)" 0

# The server side, measured from the kernel.
M=5
for mode in plain lib; do
	port=$([[ $mode == plain ]] && echo 7203 || echo 7204)
	if [[ $mode == lib ]]; then
		TWSHIM_LINGER=0 tw_preload tw_server_start S -p "$port" -m closefirst -n "$M" -t 60
		# Not vacuous: the library really is in the server.
		maps=$(grep -c "$(basename "$TW_LIB")" "/proc/$TW_PID_S/maps")
		assert_gt "server $mode: libtwshim mapped in the server" "$maps" 0
	else
		tw_server_start S -p "$port" -m closefirst -n "$M" -t 60
	fi
	# -E: read to EOF, so the client closes only after the server did.
	line=$("$TW_PROBE" -q -n "$M" -s hello -E 127.0.0.1 "$port")
	tw_server_wait S || tw__fail "$mode: server did not see $M connections end"
	tw_log "$mode: probe says: $line"
	assert_eq "server $mode: client replies" "$(tw_field "$line" replies)" "$M"
	assert_eq "server $mode: client failures" "$(tw_field "$line" failed)" 0
	# A SYN that reuses a 4-tuple the server holds in TIME_WAIT takes that
	# entry over (10 ephemeral ports), so expect one per distinct peer.
	peers=$(grep -o 'peer=[^ ]*' "$TW_OUT_S" | sort -u | wc -l)
	assert_ge "server $mode: distinct client ports" "$peers" 1
	assert_eq "server $mode: server-side TIME_WAIT (server closed first, normally)" \
		"$(tw_tw_count sport = ":$port")" "$peers"
	assert_eq "server $mode: client-side TIME_WAIT" "$(tw_tw_count dport = ":$port")" 0
done

tw_done
