#!/usr/bin/env bash
# ports_concurrent: many threads and many processes pinning at once to ONE
# destination: no connect fails, no two live connections share a 4-tuple.
#
#   threads: 8 threads x 500 short connections, range 50000-50019 (20
#   ports): no failure (the pair table keeps threads off each other's
#   (port, destination)); without the library: EADDRNOTAVAIL;
#   forked children: 4 children of one preloaded process (they inherit its
#   port cursor, re-randomised at fork) x 1000 connections: no failure;
#   processes holding connections: 4 processes each hold 20 connections
#   open at the same time to one server port, range 50000-50099; processes
#   cannot see each other's pairs, so their bind()s collide and connect()
#   says EADDRNOTAVAIL — the library replaces the socket (counted) and the
#   program never sees it.  ss then lists exactly 80 established client
#   connections, all from the range, 80 distinct 4-tuples; without the
#   library 80 concurrent connections cannot exist with 10 ephemeral ports.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/ports/lib_ports.sh
. "$(dirname "$0")/lib_ports.sh"

pin_env() { env TWSHIM_PORTS="$1" TWSHIM_LOG=info TWSHIM_LOG_FILE="$2" LD_PRELOAD="$TW_LIB" "${@:3}"; }

# --- threads -------------------------------------------------------------------
tw_server_start P -p 7000 -m reply -t 60
line=$("$PINTOOL" conn -n 400 -t 8 127.0.0.1 7000)
tw_server_stop P
tw_log "threads without the library: $line"
assert_gt "threads without the library: EADDRNOTAVAIL" "$(tw_field "$line" eaddrnotavail)" 0

tw_server_start S -p 7001 -m reply -n 4000 -t 120
line=$(pin_env 50000-50019 "$TW_TMP/threads.log" "$PINTOOL" conn -n 4000 -t 8 127.0.0.1 7001)
tw_server_wait S || tw__fail "threads: server did not see 4000 connections end"
sum=$(summary_of "$TW_TMP/threads.log")
tw_log "threads: $line"
tw_log "threads: $sum"
assert_eq "threads: failures" "$(tw_field "$line" failed)" 0
assert_eq "threads: connections accepted" "$(tw_field "$TW_SUMMARY_S" accepted)" 4000
assert_eq "threads: ports outside 50000-50019" "$(peer_ports S | count_outside 50000 50019 '')" 0
assert_eq "threads: pinned" "$(tw_field "$sum" pinned)" 4000

# --- forked children -------------------------------------------------------------
tw_server_start S -p 7002 -m reply -n 4000 -t 120
out=$(pin_env 50000-50099 "$TW_TMP/fork.log" "$PINTOOL" conn -n 1000 -p 4 127.0.0.1 7002)
rc=$?
tw_server_wait S || tw__fail "fork: server did not see 4000 connections end"
tw_log "fork: children say: $(tr '\n' ' ' <<<"$out")"
assert_eq "fork: exit status" "$rc" 0
assert_eq "fork: children reporting" "$(grep -c '^attempted=1000 ' <<<"$out")" 4
assert_eq "fork: failures" "$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^failed=/) { sub("failed=", "", $i); n += $i } } END { print n + 0 }' <<<"$out")" 0
assert_eq "fork: ports outside 50000-50099" "$(peer_ports S | count_outside 50000 50099 '')" 0

# --- processes holding connections at the same time ----------------------------------
# hold_all NAME PREFIX...: start 4 `pintool hold -n 20` with PREFIX, wait
# for each to report, leave them holding.  Fifos, no sleeping.
HOLD_W=()
HOLD_PIDS=()
hold_all() {
	local name=$1 i line
	shift
	HOLD_LINES=()
	for i in 0 1 2 3; do
		mkfifo "$TW_TMP/$name.in$i" "$TW_TMP/$name.out$i" || fail mkfifo
		"$@" "$PINTOOL" hold -n 20 127.0.0.1 "$PORT" <"$TW_TMP/$name.in$i" >"$TW_TMP/$name.out$i" &
		HOLD_PIDS+=("$!")
	done
	for i in 0 1 2 3; do
		exec {w}>"$TW_TMP/$name.in$i"
		HOLD_W+=("$w")
		exec {r}<"$TW_TMP/$name.out$i"
		read -r -t 60 -u "$r" line || line="no report"
		exec {r}<&-
		HOLD_LINES+=("$line")
	done
}
release_all() {
	local w
	for w in "${HOLD_W[@]}"; do exec {w}>&-; done
	HOLD_W=()
	wait "${HOLD_PIDS[@]}"
	HOLD_PIDS=()
}

PORT=7003
tw_server_start P -p $PORT -m reply -t 60
hold_all plain
failed=0
for l in "${HOLD_LINES[@]}"; do failed=$((failed + $(tw_field "$l" failed))); done
tw_log "hold without the library: ${HOLD_LINES[*]}"
assert_gt "hold without the library: failed connects" "$failed" 0
assert_le "hold without the library: established" "$(ss -Htan state established dport = :$PORT | wc -l)" 10
release_all
tw_server_stop P

PORT=7004
tw_server_start S -p $PORT -m reply -t 120
hold_all pinned env TWSHIM_PORTS=50000-50099 TWSHIM_LOG=info TWSHIM_LOG_FILE="$TW_TMP/hold.log" LD_PRELOAD="$TW_LIB"
held=0
failed=0
for l in "${HOLD_LINES[@]}"; do
	held=$((held + $(tw_field "$l" held)))
	failed=$((failed + $(tw_field "$l" failed)))
done
tw_log "hold: ${HOLD_LINES[*]}"
conns=$(ss -Htan state established dport = :$PORT)
assert_eq "hold: connections held" "$held" 80
assert_eq "hold: failed connects" "$failed" 0
assert_eq "hold: established client connections (ss)" "$(wc -l <<<"$conns")" 80
assert_eq "hold: distinct 4-tuples (ss)" "$(awk '{ print $3, $4 }' <<<"$conns" | sort -u | wc -l)" 80
outside=$(awk '{ n = split($3, a, ":"); print a[n] }' <<<"$conns" | count_outside 50000 50099 '')
release_all
tw_server_stop S
# sum_counter NAME: a counter added up over the 4 processes' summaries.
sum_counter() {
	grep -h 'info: summary' "$TW_TMP/hold.log" |
		awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { sub(k, "", $i); n += $i } } END { print n + 0 }'
}
replaced=$(sum_counter pin_replaced)
fallbacks=$(sum_counter pin_fallback)
tw_log "hold: sockets replaced after EADDRNOTAVAIL: $replaced; left to the kernel's port: $fallbacks"
assert_eq "hold: library summaries" "$(grep -c 'info: summary' "$TW_TMP/hold.log")" 4
# Processes do not share their pair tables, so a connect can lose every
# pinned port to the others and fall back to the kernel's port (counted,
# never an error).  Every port outside the range must be such a fallback,
# and most connections must be pinned.  How rare fallbacks are depends on
# timing (busy-port marks last 2 s, processes race for ports), so that is a
# benchmark's question: the bound here only catches pinning not working.
assert_eq "hold: source ports outside 50000-50099 (ss) = counted fallbacks" "$outside" "$fallbacks"
assert_le "hold: fallbacks out of 80 connections (most are pinned)" "$fallbacks" 40

tw_done
