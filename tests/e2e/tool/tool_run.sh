#!/usr/bin/env bash
# tool_run: `twshim run --linger=0` reaches examples/probe, python3 and curl
# with the same effect as setting LD_PRELOAD and TWSHIM_LINGER by hand.
#
# Namespace: 10 ephemeral ports, tcp_tw_reuse=0.  Each client makes N short
# connections, closing first, to its own server port:
#   plain:        EADDRNOTAVAIL after ~10 connections, TIME_WAIT on the client
#   by hand:      LD_PRELOAD=libtwshim.so TWSHIM_LINGER=0: N ok, 0 TIME_WAIT
#   twshim run:   twshim run --linger=0 -- CLIENT: N ok, 0 TIME_WAIT
# TIME_WAIT is counted by ss (the kernel), not by twshim.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need curl python3 "$TW_PROBE"

N=${TW_CONNS:-300}
PREFIX=()

# shellcheck disable=SC2317 # called as "client_$name"
client_probe() {
	"${PREFIX[@]}" "$TW_PROBE" -q -n "$N" -s hello -r 127.0.0.1 "$1"
}

# shellcheck disable=SC2317
client_python() {
	"${PREFIX[@]}" python3 "$TW_CLIENT" -n "$N" -s hello -r 127.0.0.1 "$1"
}

# One curl process, N URLs; the server answers "Connection: close" and waits
# for curl to close first.
# shellcheck disable=SC2317
client_curl() {
	local cfg=$TW_TMP/curl.$1.cfg log=$TW_TMP/curl.$1.log res=$TW_TMP/curl.$1.res i
	for ((i = 0; i < N; i++)); do
		printf 'url = "http://127.0.0.1:%s/check/%d"\noutput = "/dev/null"\n' "$1" "$i"
	done >"$cfg"
	"${PREFIX[@]}" curl -s -v -K "$cfg" -w '%{http_code} %{exitcode}\n' >"$res" 2>"$log"
	local ok
	ok=$(grep -c '^200 0$' "$res")
	printf 'attempted=%s ok=%s failed=%s\n' "$(wc -l <"$res")" "$ok" "$((N - ok))"
}

port=7100
for client in probe python curl; do
	smode=reply
	[[ $client == curl ]] && smode=http
	declare -A ok=() tw=()
	for how in plain byhand run; do
		port=$((port + 1))
		case $how in
		plain) PREFIX=(env) ;;
		byhand) PREFIX=(env "LD_PRELOAD=$TW_LIB" TWSHIM_LINGER=0) ;;
		run) PREFIX=(env "TWSHIM_LIBRARY=$TW_LIB" "$TW_TOOL" run --linger=0 --) ;;
		esac
		tw_server_start S -p "$port" -m "$smode" -t 120
		line=$("client_$client" "$port")
		tw_server_stop S
		ok[$how]=$(tw_field "$line" ok)
		tw[$how]=$(tw_tw_count dport = ":$port")
		tw_log "$client/$how: $line; client TIME_WAIT=${tw[$how]}"
	done
	assert_le "$client plain: successes with 10 ports" "${ok[plain]}" 20
	assert_gt "$client plain: client TIME_WAIT" "${tw[plain]}" 0
	assert_eq "$client by hand: successes" "${ok[byhand]}" "$N"
	assert_eq "$client by hand: client TIME_WAIT" "${tw[byhand]}" 0
	assert_eq "$client twshim run: successes" "${ok[run]}" "$N"
	assert_eq "$client twshim run: client TIME_WAIT" "${tw[run]}" 0
	assert_eq "$client twshim run = by hand (successes)" "${ok[run]}" "${ok[byhand]}"
	assert_eq "$client twshim run = by hand (TIME_WAIT)" "${tw[run]}" "${tw[byhand]}"
done

# Inherited variables reach the target when no option overrides them.
port=$((port + 1))
tw_server_start S -p "$port" -m reply -t 120
PREFIX=(env "TWSHIM_LIBRARY=$TW_LIB" TWSHIM_LINGER=0 "$TW_TOOL" run --)
line=$(client_probe "$port")
tw_server_stop S
assert_eq "inherited TWSHIM_LINGER=0: successes" "$(tw_field "$line" ok)" "$N"
assert_eq "inherited TWSHIM_LINGER=0: client TIME_WAIT" "$(tw_tw_count dport = ":$port")" 0

# An option overrides an inherited variable: inherited 0, option off.
port=$((port + 1))
tw_server_start S -p "$port" -m reply -t 120
PREFIX=(env "TWSHIM_LIBRARY=$TW_LIB" TWSHIM_LINGER=0 "$TW_TOOL" run --linger=off --)
line=$(client_probe "$port")
tw_server_stop S
assert_le "--linger=off over inherited 0: successes" "$(tw_field "$line" ok)" 20
assert_gt "--linger=off over inherited 0: client TIME_WAIT" "$(tw_tw_count dport = ":$port")" 0

tw_done
