#!/usr/bin/env bash
# sup_safe: `--supervise` with TWSHIM_LINGER=safe reaches static and Go
# programs: TCP_LINGER2 = -1 set at connect through the pidfd_getfd
# duplicate (same socket), so the kernel resets each orphan once our FIN is
# acknowledged — no TIME_WAIT, no byte lost, no close() trapped.
#
# 100 ephemeral ports, tcp_tw_reuse=0 (not 10: under safe a port stays
# held until the peer acknowledges our FIN, so 8 goroutines need more than
# 10 ports — see doc/ARCHITECTURE.md); for the static C probe and the Go
# probe (8 goroutines), N = 300 connections:
#   request/reply, client closes first, N connections:
#     no library (contrast): EADDRNOTAVAIL and client TIME_WAIT;
#     supervised safe: every connection succeeds, 0 TIME_WAIT, the server
#       sees EOF every time (never a reset);
#   upload of 2 MiB to a slow reader (4 KiB receive buffer), then close:
#     supervised linger 0 (contrast): the reader gets a fraction, and a reset;
#     supervised safe: every byte, EOF, 0 TIME_WAIT.

TW_PORT_RANGE=${TW_PORT_RANGE:-40000 40099}
# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/supervise/lib_sup.sh
. "$(dirname "$0")/lib_sup.sh"
sup_init
sup_build_goprobe

N=${TW_CONNS:-300}
B=2097152
PORT=7100

# probe KIND PORT COUNT request|upload=N: sets CMD to the static or the Go
# probe's command line (the supervisor execs it: no shell function).
probe() {
	local kind=$1 port=$2 n=$3 what=$4
	if [[ $kind == static ]]; then
		CMD=("$SUP_SP" probe 127.0.0.1 "$port" "$n" "$what")
	elif [[ $what == request ]]; then
		CMD=("$SUP_GO" -addr "127.0.0.1:$port" -n "$n" -c 8 -request -timeout 10s)
	else
		CMD=("$SUP_GO" -addr "127.0.0.1:$port" -n "$n" -c 1 -upload "${what#upload=}" -timeout 60s)
	fi
}

for kind in static go; do
	PORT=$((PORT + 1))
	tw_server_start A -p "$PORT" -m reply -t 60
	probe "$kind" "$PORT" "$N" request
	line=$("${CMD[@]}")
	tw_server_stop A
	tw_log "$kind, no library: $line"
	assert_gt "$kind, no library: EADDRNOTAVAIL" "$(tw_field "$line" eaddrnotavail)" 0
	assert_gt "$kind, no library: client TIME_WAIT" "$(tw_tw_count dport = ":$PORT")" 0

	PORT=$((PORT + 1))
	tw_server_start B -p "$PORT" -m reply -n "$N" -t 30
	probe "$kind" "$PORT" "$N" request
	line=$(TWSHIM_LINGER=safe sup_run -- "${CMD[@]}" 2>"$TW_TMP/err")
	rc=$?
	tw_server_wait B || tw__fail "$kind, safe: server did not see $N connections end"
	tw_settle "$PORT"
	tw_log "$kind, supervised safe: $line"
	assert_eq "$kind, safe: supervisor exit status" "$rc" 0
	assert_eq "$kind, safe: nothing said on stderr" "$(cat "$TW_TMP/err")" ""
	assert_eq "$kind, safe: successes" "$(tw_field "$line" ok)" "$N"
	assert_eq "$kind, safe: failures" "$(tw_field "$line" failed)" 0
	assert_eq "$kind, safe: client TIME_WAIT" "$(tw_tw_count dport = ":$PORT")" 0
	assert_eq "$kind, safe: server saw EOF" "$(tw_field "$TW_SUMMARY_B" eof)" "$N"

	for mode in 0 safe; do
		PORT=$((PORT + 1))
		tw_server_start U -p "$PORT" -m sink -b 4096 -d 1 -n 1 -t 60
		probe "$kind" "$PORT" 1 "upload=$B"
		line=$(TWSHIM_LINGER=$mode sup_run -- "${CMD[@]}")
		tw_server_wait U || tw__fail "$kind, upload, linger $mode: server did not see the end"
		tw_settle "$PORT"
		got=$(tw_field "$(grep '^conn=' "$TW_OUT_U")" bytes)
		end=$(tw_field "$(grep '^conn=' "$TW_OUT_U")" end)
		tw_log "$kind, upload, supervised linger $mode: $line; received=$got end=$end"
		if [[ $mode == 0 ]]; then
			assert_gt "$kind, upload, linger 0 (contrast): bytes lost" "$((B - got))" 0
			assert_eq "$kind, upload, linger 0 (contrast): end" "$end" reset
		else
			assert_eq "$kind, upload, safe: bytes received" "$got" "$B"
			assert_eq "$kind, upload, safe: end" "$end" eof
			assert_eq "$kind, upload, safe: client TIME_WAIT" "$(tw_tw_count dport = ":$PORT")" 0
		fi
	done
done

tw_done
