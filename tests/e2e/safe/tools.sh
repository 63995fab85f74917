#!/usr/bin/env bash
# tools: real programs under TWSHIM_LINGER=safe — curl (closes its sockets)
# and wget (closes them, or exits with its socket still open when the
# server keeps the connection alive).
#
#   curl: 20 processes x 100 URLs against the test server's http mode
#     ("Connection: close", but the server waits for the client to close:
#     curl closes first after each body);
#   wget, close path: many runs of `wget -q -O /dev/null URL` against the
#     same server;
#   wget, exit path: many runs against a keep-alive HTTP/1.1 server that
#     never closes first — wget exits with the socket open: the kernel
#     closes it at exit, and TCP_LINGER2 (set at connect) still acts.
# Without the library each client runs out of the 10 ephemeral ports
# (failed transfers, client-side TIME_WAIT); with TWSHIM_LINGER=safe every
# transfer succeeds and no TIME_WAIT is left, over thousands of runs; the
# server sees every connection end with EOF (our FIN comes first, the RST
# only answers the acknowledgement of that FIN).

# shellcheck source=tests/e2e/lib_e2e.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib_e2e.sh}"
tw_netns_enter "$@"
tw_need curl wget
# shellcheck source=tests/e2e/safe/lib_safe.sh
. "$(dirname "$0")/lib_safe.sh"
PY=/usr/bin/python3 # not a pyenv shim: that is a script the library would run too
[[ -x $PY ]] || fail "$PY not found"
KEEPALIVE=$(dirname "$0")/keepalive-http.py
[[ -f $KEEPALIVE ]] || fail "$KEEPALIVE not found"

CURL_PROCS=${TW_CURL_PROCS:-20}
CURL_URLS=${TW_CURL_URLS:-100}
WGET_RUNS=${TW_WGET_RUNS:-1000}
OFF_RUNS=30 # without the library: three times the port range

# curl_run PORT COUNT: one curl process, COUNT transfers from a config file
# (a fresh connection each: the server says Connection: close); prints
# "ok=N failed=N" — a transfer is ok when it got 200 and the 3-byte body.
curl_run() {
	local cfg=$TW_TMP/curl.$1.cfg i
	[[ -f $cfg ]] || for ((i = 0; i < $2; i++)); do
		printf 'url = "http://127.0.0.1:%s/check/%d"\noutput = "/dev/null"\n' "$1" "$i"
	done >"$cfg"
	curl -s -K "$cfg" -w '%{http_code} %{exitcode} %{size_download}\n' 2>/dev/null |
		awk '{ if ($0 == "200 0 3") ok++; else failed++ } END { printf "ok=%d failed=%d\n", ok, failed }'
}

# wget_runs PORT COUNT: COUNT wget processes in sequence; "ok=N failed=N".
wget_runs() {
	local ok=0 failed=0 i
	for ((i = 0; i < $2; i++)); do
		if wget --no-config --tries=1 -q -O /dev/null "http://127.0.0.1:$1/check/$i"; then
			ok=$((ok + 1))
		else
			failed=$((failed + 1))
		fi
	done
	printf 'ok=%d failed=%d\n' "$ok" "$failed"
}

# sum_field FIELD LINES...: add up FIELD=N over several result lines.
sum_field() {
	local f=$1 total=0 l
	shift
	for l in "$@"; do total=$((total + $(tw_field "$l" "$f"))); done
	echo "$total"
}

# keep-alive server: started by hand (it is not twtest-server).
ka_start() {
	local port=$1 fifo=$TW_TMP/ka.ready
	KA_OUT=$TW_TMP/ka.$port.out
	mkfifo "$fifo" || fail "mkfifo"
	"$PY" "$KEEPALIVE" "$port" 3 "$KA_OUT" 3>"$fifo" &
	KA_PID=$!
	local got=
	read -r -t 120 got <"$fifo" || true
	rm -f "$fifo"
	[[ $got == "$port" ]] || fail "keep-alive server did not start on $port"
	tw_log "keep-alive server listening on $port (pid $KA_PID)"
}

ka_stop() {
	tw_settle "$1"
	kill -TERM "$KA_PID"
	wait "$KA_PID"
	KA_SUMMARY=$(cat "$KA_OUT")
	tw_log "keep-alive server: $KA_SUMMARY"
}

# --- curl ---------------------------------------------------------------------

tw_server_start S -p 7701 -m http -t 120
line=$(curl_run 7701 "$CURL_URLS")
tw_server_stop S
tw_settle 7701
tw_log "curl, no library: 1 x $CURL_URLS transfers: $line"
assert_gt "curl, no library: failed transfers" "$(tw_field "$line" failed)" 0
assert_le "curl, no library: successful transfers" "$(tw_field "$line" ok)" 20
assert_gt "curl, no library: client-side TIME_WAIT" "$(tw_tw_count dport = :7701)" 0

total=$((CURL_PROCS * CURL_URLS))
tw_server_start S -p 7702 -m http -n "$total" -t 240
results=()
for ((p = 0; p < CURL_PROCS; p++)); do
	results+=("$(TWSHIM_LINGER=safe tw_preload curl_run 7702 "$CURL_URLS")")
done
tw_server_wait S || tw__fail "curl, safe: server did not see $total connections end"
tw_settle 7702
tw_log "curl, safe: $CURL_PROCS x $CURL_URLS transfers: ok=$(sum_field ok "${results[@]}")" \
	"failed=$(sum_field failed "${results[@]}")"
assert_eq "curl, safe: successful transfers" "$(sum_field ok "${results[@]}")" "$total"
assert_eq "curl, safe: client-side TIME_WAIT" "$(tw_tw_count dport = :7702)" 0
assert_eq "curl, safe: server saw each connection end with EOF" \
	"$(tw_field "$TW_SUMMARY_S" eof)" "$total"

# --- wget, close path -----------------------------------------------------------

tw_server_start S -p 7703 -m http -t 120
line=$(wget_runs 7703 "$OFF_RUNS")
tw_server_stop S
tw_settle 7703
tw_log "wget close path, no library: $line"
assert_gt "wget close path, no library: failed runs" "$(tw_field "$line" failed)" 0
assert_gt "wget close path, no library: client-side TIME_WAIT" "$(tw_tw_count dport = :7703)" 0

runs=$((WGET_RUNS / 2))
tw_server_start S -p 7704 -m http -n "$runs" -t 240
line=$(TWSHIM_LINGER=safe tw_preload wget_runs 7704 "$runs")
tw_server_wait S || tw__fail "wget close path, safe: server did not see $runs connections end"
tw_settle 7704
tw_log "wget close path, safe: $line"
assert_eq "wget close path, safe: successful runs" "$(tw_field "$line" ok)" "$runs"
assert_eq "wget close path, safe: client-side TIME_WAIT" "$(tw_tw_count dport = :7704)" 0
assert_eq "wget close path, safe: server saw each connection end with EOF" \
	"$(tw_field "$TW_SUMMARY_S" eof)" "$runs"

# --- wget, exit path ------------------------------------------------------------

ka_start 7705
line=$(wget_runs 7705 "$OFF_RUNS")
ka_stop 7705
tw_log "wget exit path, no library: $line"
assert_gt "wget exit path, no library: failed runs" "$(tw_field "$line" failed)" 0
assert_gt "wget exit path, no library: client-side TIME_WAIT" "$(tw_tw_count dport = :7705)" 0
assert_eq "wget exit path, no library: connections ended by the client's FIN" \
	"$(tw_field "$KA_SUMMARY" eof)" "$(tw_field "$line" ok)"

ka_start 7706
# Scenario check first: one run with the library's summary shows that wget
# got TCP_LINGER2 at connect here.
diag=$(TWSHIM_LINGER=safe TWSHIM_LOG=info tw_preload wget --no-config --tries=1 -q -O /dev/null \
	http://127.0.0.1:7706/diag 2>&1 | grep 'summary')
tw_log "wget exit path, one run's library summary: $diag"
assert_eq "wget exit path: TCP_LINGER2 set at connect" "$(tw_field "$diag" linger2_set)" 1
line=$(TWSHIM_LINGER=safe tw_preload wget_runs 7706 "$WGET_RUNS")
ka_stop 7706
tw_log "wget exit path, safe: $line"
assert_eq "wget exit path, safe: successful runs" "$(tw_field "$line" ok)" "$WGET_RUNS"
assert_eq "wget exit path, safe: client-side TIME_WAIT" "$(tw_tw_count dport = :7706)" 0
assert_eq "wget exit path, safe: connections ended by the client's FIN" \
	"$(tw_field "$KA_SUMMARY" eof)" "$((WGET_RUNS + 1))"

tw_done
