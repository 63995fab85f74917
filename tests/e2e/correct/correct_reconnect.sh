#!/usr/bin/env bash
# correct_reconnect: TWSHIM_EXCLUDE holds for a socket that connects again.
#
# One socket connects to A (selected), disconnects with connect(AF_UNSPEC)
# and connects to B, which TWSHIM_EXCLUDE names; or A refuses and the same
# socket then goes to B.  B must see exactly what it sees without the
# library: its line, then EOF (no RST), and the client keeps the TIME_WAIT a
# normal close leaves.  Before the fix the linger (or safe record) set for A
# stayed on the socket and B received a RST.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/correct/lib_correct.sh
. "$(dirname "$0")/lib_correct.sh"

CLOSED=7399 # nothing listens there
port=7310

# run LABEL [-r] [VAR=VALUE...]: A and B servers on fresh ports, the client
# with those variables (none: without the library); checks what B saw.
run() {
	local label=$1 refused=()
	shift
	if [[ ${1:-} == -r ]]; then
		refused=(-r)
		shift
	fi
	local a=$port b=$((port + 1))
	port=$((port + 2))
	tw_server_start B -p "$b" -m reply -n 1 -t 60
	if [[ ${#refused[@]} == 0 ]]; then
		tw_server_start A -p "$a" -m reply -n 1 -t 60
	else
		a=$CLOSED
	fi
	local out
	if (($# == 0)); then
		out=$("$TW_CORRECT" reconnect "${refused[@]}" "$a" "$b")
	else
		out=$(env "$@" TWSHIM_EXCLUDE="*:$b" LD_PRELOAD="$TW_LIB" \
			"$TW_CORRECT" reconnect "${refused[@]}" "$a" "$b")
	fi
	tw_log "$label: ${out//$'\n'/; }"
	tw_server_wait B
	assert_eq "$label: the client's exchange with B" "$(grep '^exchange_b' <<<"$out")" "exchange_b 0"
	assert_eq "$label: how B's connection ended" "$(server_ends B)" "end=eof:1"
	assert_eq "$label: client TIME_WAIT towards B (a normal close)" "$(tw_tw_count dport = :"$b")" 1
	[[ ${#refused[@]} == 0 ]] && tw_server_wait A
}

run "without the library"
run "TWSHIM_LINGER=0, B excluded" TWSHIM_LINGER=0
run "TWSHIM_LINGER=5, B excluded" TWSHIM_LINGER=5
run "TWSHIM_LINGER=safe, B excluded" TWSHIM_LINGER=safe
run "TWSHIM_LINGER=0 TWSHIM_PORTS=above, B excluded" TWSHIM_LINGER=0 TWSHIM_PORTS=above
run "without the library, A refused first" -r
run "TWSHIM_LINGER=0, A refused first, B excluded" -r TWSHIM_LINGER=0
run "TWSHIM_LINGER=safe, A refused first, B excluded" -r TWSHIM_LINGER=safe

tw_done
