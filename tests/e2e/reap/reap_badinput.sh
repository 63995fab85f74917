#!/usr/bin/env bash
# reap_badinput: every malformed option of `twshim reap` (and of the scope
# options of `twshim stat`) gives one line naming the option, the value and
# the accepted forms, exit status 2, and nothing is reaped: each bad option
# comes with a valid scope that would reap 5 TIME_WAIT.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/reap/lib_reap.sh
. "$(dirname "$0")/lib_reap.sh"

tw_server_start A -p 7501 -m reply -t 200
out=$(python3 "$TW_CLIENT" -n 5 -s ping -r 127.0.0.1 7501)
[[ $(tw_field "$out" ok) == 5 ]] || fail "client: $out"
tw_settle 7501
VALID=(--match 127.0.0.1:7501 --min-age 0 --once)

# bad OPTION VALUE: "--OPTION VALUE" plus a valid scope is refused
bad() {
	local opt=$1 val=$2 err rc
	err=$(rp_reap "${VALID[@]}" "$opt" "$val" 2>&1)
	rc=$?
	assert_eq "$opt '$val': exit status" "$rc" 2
	assert_eq "$opt '$val': message lines" "$(wc -l <<<"$err")" 1
	# the value as shown (long values are cut at 64 characters)
	assert_match "$opt '$val': names option, value and forms" "$err" \
		"^twshim: reap: invalid value '.*' for $opt.*; accepted: .+"
	[[ $err == *"'${val:0:64}"* ]] || tw__fail "$opt '$val': value not shown: $err"
}

bad --min-age 5          # no unit
bad --min-age 1x
bad --min-age -1s
bad --min-age 1.5s
bad --min-age 25h        # above 24h
bad --min-age ''
bad --min-age 99999999999999999999s
bad --interval abc
bad --interval 10us
bad --match 300.0.0.1
bad --match ''
bad --match 127.0.0.1:0
bad --match 127.0.0.1:9-5
bad --match '[::1'
bad --match '10.0.0.0/33'
bad --match '127.0.0.1,,10.0.0.1'
bad --exclude x
bad --local-ports 0
bad --local-ports 9-5
bad --local-ports '1,,2'
bad --local-ports 70000
bad --local-ports 40000-
bad --netns ''
bad --match "$(printf '1.2.3.4,%.0s' {1..40})x"

# other usage errors: one line, exit 2
usage_err() {
	local what=$1 re=$2 err rc
	shift 2
	err=$(rp_reap "$@" 2>&1)
	rc=$?
	assert_eq "$what: exit status" "$rc" 2
	assert_eq "$what: message lines" "$(wc -l <<<"$err")" 1
	assert_match "$what: message" "$err" "$re"
}
usage_err "unknown option" "^twshim: reap: unknown option .*'--frobnicate'" "${VALID[@]}" --frobnicate
usage_err "missing value" "^twshim: reap: unknown option or missing value: '--interval'" "${VALID[@]}" --interval
usage_err "extra argument" "^twshim: reap: unexpected argument 'now'" "${VALID[@]}" now
usage_err "no scope" "^twshim: reap: no scope" --min-age 0 --once
usage_err "only --exclude" "^twshim: reap: no scope" --exclude 127.0.0.2 --min-age 0 --once

err=$("$RP_TOOL" stat --match 127.0.0.1:x 2>&1)
rc=$?
assert_eq "stat --match bad: exit status" "$rc" 2
assert_match "stat --match bad: message" "$err" "^twshim: stat: invalid value '127.0.0.1:x' for --match \(item 1"

assert_eq "nothing reaped by any bad invocation" "$(tw_tw_count dport = :7501)" 5
err=$(rp_reap "${VALID[@]}" 2>&1)
assert_eq "the valid scope alone reaps" "$(tw_field "$err" reaped)" 5

tw_done
