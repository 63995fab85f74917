#!/usr/bin/env bash
# close_paths: TWSHIM_LINGER=safe removes the client's TIME_WAIT whichever
# way the program lets go of its sockets.
#
# twsafe-client connects to the test server (reply mode: the client sends a
# line, reads "OK", then closes first) and closes through one path: close,
# fclose of an fdopen'd socket, two fcloses of fdopen(fd) + fdopen(dup(fd)),
# close_range, closefrom, dup2/dup3 onto the fd, dup + both closes, or
# exit()/return from main with the sockets (or the sockets and a dup of
# each) still open.  For each path:
#   without the library: TS_N connections leave TS_N TIME_WAIT (client side);
#   with TWSHIM_LINGER=safe: 0 TIME_WAIT, the server sees every connection
#   end with EOF (the RST only answers the ACK of our FIN), and ten times
#   the 10-port range goes through — _exit() included: the kernel acts at
#   the final release, whoever causes it.
# With data in flight (slow reader) no path loses a byte and none leaves a
# TIME_WAIT: _exit, fclose() with output still buffered in stdio, exit()
# with it, a non-blocking socket.
# Each phase has its own server port, so TIME_WAIT from one phase can
# neither hide nor cause anything in another.

# shellcheck source=tests/e2e/lib_e2e.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib_e2e.sh}"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/safe/lib_safe.sh
. "$(dirname "$0")/lib_safe.sh"

TS_N=8          # without the library: fits the 10-port range
TS_ON=${TW_CONNS:-100} # with it: ten times the range, one port at a time
TS_RUNS=20      # exit paths: processes of TS_N sockets each

PORT=7200
next_port() { PORT=$((PORT + 1)); }

is_exit_path() { [[ $1 == exit || $1 == return || $1 == _exit || $1 == dupexit ]]; }

# run_path PATH off|on
run_path() {
	local path=$1 mode=$2 tag="$1/$2" total line i ok=0 rc
	next_port
	local -a env=()
	[[ $mode == on ]] && env=(env "LD_PRELOAD=$TW_LIB" TWSHIM_LINGER=safe)
	if is_exit_path "$path"; then
		local runs=1
		[[ $mode == on ]] && runs=$TS_RUNS
		total=$((runs * TS_N))
		tw_server_start S -p "$PORT" -m reply -n "$total" -t 60
		for ((i = 0; i < runs; i++)); do
			line=$("${env[@]}" "$TS_CLIENT" -p "$PORT" -m reply -c "$path" -k "$TS_N")
			[[ $(tw_field "$line" ok) == "$TS_N" ]] && ok=$((ok + TS_N))
		done
		tw_log "$tag: $runs processes x $TS_N sockets, last says: $line"
	else
		total=$TS_N
		[[ $mode == on ]] && total=$TS_ON
		tw_server_start S -p "$PORT" -m reply -n "$total" -t 60
		line=$("${env[@]}" "$TS_CLIENT" -p "$PORT" -m reply -c "$path" -n "$total")
		ok=$(tw_field "$line" ok)
		tw_log "$tag: client says: $line"
	fi
	rc=0
	tw_server_wait S || rc=$?
	tw_settle "$PORT"
	local ctw stw
	ctw=$(tw_tw_count dport = ":$PORT")
	stw=$(tw_tw_count sport = ":$PORT")
	assert_eq "$tag: connections that got their reply" "$ok" "$total"
	assert_eq "$tag: server saw all connections end" "$rc/$(tw_field "$TW_SUMMARY_S" ended)" "0/$total"
	assert_eq "$tag: server-side TIME_WAIT" "$stw" 0
	if [[ $mode == off ]]; then
		# The client closed first with a FIN: one TIME_WAIT each.
		assert_eq "$tag: client-side TIME_WAIT (normal close)" "$ctw" "$total"
		assert_eq "$tag: server saw EOF" "$(tw_field "$TW_SUMMARY_S" eof)" "$total"
	else
		assert_eq "$tag: client-side TIME_WAIT" "$ctw" 0
		assert_eq "$tag: server saw EOF" "$(tw_field "$TW_SUMMARY_S" eof)" "$total"
	fi
}

for path in close fclose fdopen2 close_range closefrom dup2 dup3 dupclose exit return dupexit \
	_exit; do
	run_path "$path" off
	run_path "$path" on
done

# send_phase TAG PATH SOCKETS BYTES WANT-TIME_WAIT [client args]: data still
# in flight when the socket goes (slow reader, small receive buffer); every
# byte must arrive intact, and no TIME_WAIT is left.
send_phase() {
	next_port
	local tag=$1 path=$2 k=$3 bytes=$4 want_tw=$5 cout=$TW_TMP/client.$PORT res
	shift 5
	tw_server_start S -p "$PORT" -m sink -b 4096 -d 2 -n "$k" -t 60
	TWSHIM_LINGER=safe tw_preload "$TS_CLIENT" -p "$PORT" -m send \
		-b "$bytes" -k "$k" -c "$path" -v "$@" >"$cout"
	tw_log "$tag: client says: $(tail -n 1 "$cout")"
	tw_server_wait S || tw__fail "$tag: server did not see $k connections end"
	tw_settle "$PORT"
	ts_intact "$cout" "$TW_OUT_S" >"$cout.res"
	while read -r res; do tw_log "$tag: $res"; done <"$cout.res"
	res=$(tail -n 1 "$cout.res")
	assert_eq "$tag: connections intact" "$(tw_field "$res" intact)" "$k"
	assert_eq "$tag: bytes received" "$(tw_field "$res" received)" "$((k * bytes))"
	assert_eq "$tag: client-side TIME_WAIT" "$(tw_tw_count dport = ":$PORT")" "$want_tw"
}

send_phase "_exit, data in flight" _exit 4 262144 0
send_phase "fclose with stdio output pending" fclose 1 300000 0
assert_gt "fclose with stdio output pending: bytes left in stdio before fclose" \
	"$(tw_field "$(grep '^conn ' "$TW_TMP/client.$PORT")" stdio_pending)" 0
# exit() with output still buffered in stdio on an fdopen'd socket: exit
# flushes it, then the kernel closes the socket.
send_phase "exit with stdio output pending" fexit 1 300000 0
assert_gt "exit with stdio output pending: bytes left in stdio before exit" \
	"$(tw_field "$(grep '^conn ' "$TW_TMP/client.$PORT")" stdio_pending)" 0
send_phase "non-blocking close, data in flight" close 1 1048576 0 -N

tw_done
