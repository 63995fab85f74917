#!/usr/bin/env bash
# linger0: TWSHIM_LINGER=0 removes the client's TIME_WAIT.
#
# Three real clients — examples/probe (C, libc), python3 (socket module) and
# curl — each make TW_CONNS (2000) short connections to the test server,
# closing first.  In a namespace with 10 ephemeral ports and tcp_tw_reuse=0:
#   without the library: EADDRNOTAVAIL after ~10 connections and TIME_WAIT
#   left on the client side (never on the server side: the client closed
#   first);
#   with LD_PRELOAD=libtwshim.so TWSHIM_LINGER=0: every connection succeeds,
#   every reply arrives, the server sees each connection end with a reset,
#   and no TIME_WAIT is left anywhere.
# Each phase uses its own server port so TIME_WAIT from one phase cannot
# hide or cause anything in another.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/lib_e2e.sh"
tw_netns_enter "$@"
tw_need curl python3 "$TW_PROBE"
[[ -f $TW_CLIENT ]] || fail "TWTEST_CLIENT='$TW_CLIENT' not found"

N=${TW_CONNS:-2000}

# shellcheck disable=SC2317 # called as "client_$name"
client_probe() {
	"$TW_PROBE" -q -n "$N" -s hello -r 127.0.0.1 "$1"
}

# shellcheck disable=SC2317 # called as "client_$name"
client_python() {
	python3 "$TW_CLIENT" -n "$N" -s hello -r 127.0.0.1 "$1"
}

# One curl process, N transfers in sequence from a config file; the server
# answers "Connection: close", so curl opens a fresh connection per URL and
# closes it itself once the body is in.  -v tells why a connect failed.
# shellcheck disable=SC2317 # called as "client_$name"
client_curl() {
	local cfg=$TW_TMP/curl.$1.cfg log=$TW_TMP/curl.$1.log res=$TW_TMP/curl.$1.res i
	for ((i = 0; i < N; i++)); do
		printf 'url = "http://127.0.0.1:%s/check/%d"\noutput = "/dev/null"\n' "$1" "$i"
	done >"$cfg"
	curl -s -v -K "$cfg" -w '%{http_code} %{exitcode} %{size_download}\n' >"$res" 2>"$log"
	local ok failed addrnotavail
	ok=$(grep -c '^200 0 3$' "$res")
	failed=$((N - ok))
	addrnotavail=$(grep -c 'Cannot assign requested address' "$log")
	printf 'attempted=%s ok=%s failed=%s eaddrnotavail=%s replies=%s other_errno=-\n' \
		"$(wc -l <"$res")" "$ok" "$failed" "$addrnotavail" "$ok"
}

# phase CLIENT PORT off|on SERVERMODE
phase() {
	local client=$1 port=$2 mode=$3 smode=$4 line tag="$1/$3" tw_before
	tw_before=$(tw_tw_count)
	if [[ $mode == on ]]; then
		tw_server_start S -p "$port" -m "$smode" -n "$N" -t 60
		line=$(TWSHIM_LINGER=0 tw_preload "client_$client" "$port")
		tw_server_wait S || tw__fail "$tag: server did not see $N connections end (exit $?)"
	else
		tw_server_start S -p "$port" -m "$smode" -t 120
		line=$("client_$client" "$port")
		tw_server_stop S
	fi
	tw_log "$tag: client says: $line"
	local ctw stw
	ctw=$(tw_tw_count dport = ":$port")
	stw=$(tw_tw_count sport = ":$port")
	assert_eq "$tag attempted" "$(tw_field "$line" attempted)" "$N"
	assert_eq "$tag server-side TIME_WAIT" "$stw" 0
	if [[ $mode == off ]]; then
		assert_gt "$tag failures without the library" "$(tw_field "$line" failed)" 0
		assert_gt "$tag EADDRNOTAVAIL without the library" "$(tw_field "$line" eaddrnotavail)" 0
		assert_gt "$tag client-side TIME_WAIT without the library" "$ctw" 0
		assert_le "$tag successes without the library" "$(tw_field "$line" ok)" 20
	else
		assert_eq "$tag failures" "$(tw_field "$line" failed)" 0
		assert_eq "$tag successes" "$(tw_field "$line" ok)" "$N"
		assert_eq "$tag replies received" "$(tw_field "$line" replies)" "$N"
		assert_eq "$tag client-side TIME_WAIT" "$ctw" 0
		assert_eq "$tag new TIME_WAIT anywhere" "$(($(tw_tw_count) - tw_before))" 0
		assert_eq "$tag server: connections accepted" "$(tw_field "$TW_SUMMARY_S" accepted)" "$N"
		assert_eq "$tag server: requests read" "$(tw_field "$TW_SUMMARY_S" lines)" "$N"
		assert_eq "$tag server: replies written" "$(tw_field "$TW_SUMMARY_S" replies)" "$N"
		# The RST is what shows the client, not the server, ended it.
		assert_eq "$tag server: connections ended by reset" "$(tw_field "$TW_SUMMARY_S" reset)" "$N"
	fi
}

phase probe 7001 off reply
phase probe 7002 on reply
phase python 7003 off reply
phase python 7004 on reply
phase curl 7005 off http
phase curl 7006 on http

tw_done
