#!/usr/bin/env bash
# reap_age: the minimum age.  Every TIME_WAIT is younger than 60 s (its
# whole life), so --min-age 1m can never reap one: a running reaper with
# that guard leaves 10 fresh TIME_WAIT alone pass after pass, and reports
# them as young; --min-age 0 then reaps all of them.  (The age arithmetic,
# 60 s minus the timer the kernel reports, is unit-tested.)  The default
# guard (1 s) also ends them, later.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/reap/lib_reap.sh
. "$(dirname "$0")/lib_reap.sh"

make10() {
	local out
	out=$(python3 "$TW_CLIENT" -n 10 -s ping -r 127.0.0.1 "$1")
	[[ $(tw_field "$out" ok) == 10 ]] || fail "client to $1: $out"
	tw_settle "$1"
}

tw_server_start A -p 7201 -m reply -t 200
make10 7201
assert_eq "before: TIME_WAIT" "$(tw_tw_count dport = :7201)" 10

# a running reaper, guard 1m: three passes see them and leave them
rp_reaper_start Y --match 127.0.0.1:7201 --min-age 1m --interval 20ms
rp_wait_passes Y 3
assert_eq "--min-age 1m, 3 passes later: TIME_WAIT" "$(tw_tw_count dport = :7201)" 10
last=$(grep ': pass ' "$TW_TMP/reap.Y.err" | tail -n 1)
assert_eq "--min-age 1m: young in the last pass" "$(tw_field "$last" young)" 10
rp_reaper_stop Y
assert_eq "--min-age 1m: reaped in all" "$(tw_field "$RP_TOTALS" reaped)" 0
assert_eq "--min-age 1m: exit status" "$RP_STATUS" 0

# --once with the same guard
err=$(rp_reap --once --min-age 1m --match 127.0.0.1:7201 2>&1)
assert_eq "--once --min-age 1m: reaped" "$(tw_field "$err" reaped)" 0
assert_eq "--once --min-age 1m: young" "$(tw_field "$err" young)" 10

# guard 0: all of them
err=$(rp_reap --once --min-age 0 --match 127.0.0.1:7201 2>&1)
assert_eq "--min-age 0: reaped" "$(tw_field "$err" reaped)" 10
assert_eq "--min-age 0: TIME_WAIT left" "$(tw_tw_count dport = :7201)" 0

# the default guard (1 s): the reaper ends them once they are old enough
# (a condition wait on the kernel; TIME_WAIT would last 60 s)
make10 7201
rp_reaper_start D --match 127.0.0.1:7201 --interval 20ms
rp_wait_free 7201 || tw__fail "default guard: TIME_WAIT not reaped in 50 s"
rp_reaper_stop D
assert_eq "default guard: reaped" "$(tw_field "$RP_TOTALS" reaped)" 10

tw_done
