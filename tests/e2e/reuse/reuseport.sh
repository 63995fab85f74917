#!/usr/bin/env bash
# reuseport: TWSHIM_REUSEPORT=1 lets two instances of a server listen on
# one port, and the kernel splits the connections between them.
#
#   without the library: the second instance fails with EADDRINUSE (also
#     when only the second one has the library: both must set the option);
#   with TWSHIM_REUSEPORT=1 on both: both listen, and 200 connections
#     (20 destination addresses 127.0.0.1-20 x 10, so the kernel's 4-tuple
#     hash has many inputs although there are only 10 source ports) are
#     all answered, each instance taking some.

# shellcheck source=tests/e2e/lib.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib.sh}"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/reuse/reuse-lib.sh
. "$(dirname "$0")/reuse-lib.sh"

LIBENV=("LD_PRELOAD=$TW_LIB" TWSHIM_REUSEPORT=1)
ADDRS=20
PER_ADDR=10

# second_instance TAG PORT ENV-B...: first instance without the library.
second_fails() {
	local tag=$1 port=$2
	shift 2
	rs_start A c "$port" 0 || fail "$tag: the first instance did not start"
	if rs_start B c "$port" 0 "$@"; then
		rs_stop B
	else
		rs_wait B
	fi
	rs_stop A
	assert_eq "$tag: second instance bind" "$(tw_field "$RS_LINE_B" bind)" EADDRINUSE
}

second_fails "no library" 8201
second_fails "library on the second instance only" 8202 "${LIBENV[@]}"

# One attempt: two instances with the library on PORT, ADDRS x PER_ADDR
# connections; sets A_N, B_N, REPLIES, LISTENERS.
attempt() {
	local port=$1 a line
	rs_start A c "$port" 0 "${LIBENV[@]}" || fail "with the library: first instance did not start"
	rs_start B c "$port" 0 "${LIBENV[@]}" || { rs_wait B; fail "with the library: second instance: $RS_LINE_B"; }
	LISTENERS=$(ss -Hltn "sport = :$port" | wc -l)
	REPLIES=0
	for ((a = 1; a <= ADDRS; a++)); do
		line=$("$TW_PROBE" -q -n "$PER_ADDR" -s hello -E "127.0.0.$a" "$port")
		REPLIES=$((REPLIES + $(tw_field "$line" replies)))
	done
	tw_settle "$port"
	tw_log "port $port: distinct 4-tuples (server-side TIME_WAIT): $(tw_tw_count sport = ":$port")"
	rs_stop A
	rs_stop B
	A_N=$(tw_field "$RS_LINE_A" accepted)
	B_N=$(tw_field "$RS_LINE_B" accepted)
	tw_log "with the library, port $port: $LISTENERS listeners; replies=$REPLIES;" \
		"instance A took $A_N, B took $B_N"
}

# Now and then (about 1 run in 10, seen only in this script) the kernel
# sends every connection to one of the two instances although both listen
# with SO_REUSEPORT; not understood yet (reported).  A fresh pair of
# instances on a new port is tried then, at most three times in all, so a
# library that never makes the port shared still fails every attempt.
total=$((ADDRS * PER_ADDR))
for port in 8203 8204 8205; do
	attempt "$port"
	((A_N > 0 && B_N > 0)) && break
	tw_log "one instance took no connection on port $port; trying a fresh pair"
done
assert_eq "with the library: listeners on the port" "$LISTENERS" 2
assert_eq "with the library: SO_REUSEPORT on both listeners" \
	"$(tw_field "$RS_LINE_A" reuseport)/$(tw_field "$RS_LINE_B" reuseport)" 1/1
assert_eq "with the library: connections answered" "$REPLIES" "$total"
assert_eq "with the library: connections accepted by A + B" "$((A_N + B_N))" "$total"
assert_gt "with the library: connections taken by instance A" "$A_N" 0
assert_gt "with the library: connections taken by instance B" "$B_N" 0

tw_done
