#!/usr/bin/env bash
# own_linger: a program's own SO_LINGER wins over the library.
#
# twsafe-linger connects, exchanges a line with the test server (reply
# mode) and closes first; it may set SO_LINGER itself, before or after
# connect(), and prints what getsockopt(SO_LINGER) says right after
# connect() and right before close().
#   TWSHIM_LINGER=safe never touches SO_LINGER: {1,5} and {0,0} chosen by
#     the program read back unchanged; the close keeps the program's
#     semantics.  With {0,0} the kernel ends the orphan with RST instead of
#     TIME_WAIT (0 left).  With {1,5} close() itself waits until our FIN is
#     acknowledged; this server closes as soon as it reads EOF, so its FIN
#     comes with that acknowledgement while close() still waits (the
#     socket is not orphaned yet): TIME_WAIT, as without the library (1) —
#     a limit of safe, documented in libtwshim(7);
#     a TCP_LINGER2 the program set itself before connect() is kept (reads
#     back 30; the orphan then waits in FIN_WAIT2 and meets the peer's FIN:
#     1 TIME_WAIT, as without the library), the library's own reads -1;
#   TWSHIM_LINGER=0: the program's {0,0} set before connect() is kept
#     (read back {0,0}, 1 TIME_WAIT); without it the library's {1,0} reads
#     back and no TIME_WAIT is left (contrast).

# shellcheck source=tests/e2e/lib_e2e.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib_e2e.sh}"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/safe/lib_safe.sh
. "$(dirname "$0")/lib_safe.sh"
[[ -x $TS_LINGER ]] || fail "TWSAFE_LINGER='$TS_LINGER' is not executable"

PORT=7500

# case TAG LIBMODE(off|safe|0) EXPECT-CONNECT EXPECT-CLOSE EXPECT-TW [twsafe-linger args]
# EXPECT-* are "onoff,linger" as read back.
case_() {
	local tag=$1 lib=$2 want_conn=$3 want_close=$4 want_tw=$5
	shift 5
	PORT=$((PORT + 1))
	tw_server_start S -p "$PORT" -m reply -n 1 -t 30
	if [[ $lib == off ]]; then
		line=$("$TS_LINGER" -p "$PORT" "$@")
	else
		line=$(TWSHIM_LINGER=$lib tw_preload "$TS_LINGER" -p "$PORT" "$@")
	fi
	tw_server_wait S || tw__fail "$tag: server did not see the connection end"
	tw_settle "$PORT"
	tw_log "$tag: helper says: $line"
	assert_eq "$tag: reply received" "$(tw_field "$line" replied)" 1
	assert_eq "$tag: SO_LINGER after connect" \
		"$(tw_field "$line" connect_onoff),$(tw_field "$line" connect_linger)" "$want_conn"
	assert_eq "$tag: SO_LINGER before close" \
		"$(tw_field "$line" close_onoff),$(tw_field "$line" close_linger)" "$want_close"
	assert_eq "$tag: client-side TIME_WAIT" "$(tw_tw_count dport = ":$PORT")" "$want_tw"
}

case_ "no library, no linger (baseline)" off 0,0 0,0 1
case_ "safe, program {1,5} before connect" safe 1,5 1,5 1 -l 1,5 -w before
case_ "safe, program {0,0} before connect" safe 0,0 0,0 0 -l 0,0 -w before
case_ "safe, program {1,5} after connect" safe 0,0 1,5 1 -l 1,5 -w after
case_ "safe, program {0,0} after connect" safe 0,0 0,0 0 -l 0,0 -w after
case_ "safe, no program linger (contrast)" safe 0,0 0,0 0
assert_eq "safe, no program linger: TCP_LINGER2 before close" "$(tw_field "$line" close_linger2)" -1
case_ "safe, program TCP_LINGER2 30 before connect" safe 0,0 0,0 1 -2 30
assert_eq "safe, program TCP_LINGER2 30: TCP_LINGER2 before close" "$(tw_field "$line" close_linger2)" 30
case_ "linger 0, program {0,0} before connect" 0 0,0 0,0 1 -l 0,0 -w before
case_ "linger 0, no program linger (contrast)" 0 1,0 1,0 0

tw_done
