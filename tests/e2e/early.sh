#!/usr/bin/env bash
# early: calls that reach the interposers before the library's constructor
# has run (another preloaded library's constructor runs first) pass straight
# through with libc's result and errno, and the program then runs normally
# with the policy applied.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/lib_e2e.sh"
tw_netns_enter "$@"

[[ -f ${TWTEST_EARLY:-} ]] || fail "TWTEST_EARLY not set (run through meson test)"

expected=$(LD_PRELOAD=$TWTEST_EARLY /bin/true 2>&1)
tw_log "without the library:"$'\n'"$expected"
assert_eq "early calls without the library" "$(grep -c '^early:' <<<"$expected")" 6
for order in "$TW_LIB:$TWTEST_EARLY" "$TWTEST_EARLY:$TW_LIB"; do
	got=$(env LD_PRELOAD="$order" TWSHIM_LINGER=0 TWSHIM_PORTS=50000-50099 TWSHIM_REUSEADDR=1 \
		/bin/true 2>&1)
	assert_eq "early calls with LD_PRELOAD=$(basename "${order%%:*}"):...: same results and errno" \
		"$got" "$expected"
done

# Not vacuous: with the library first in LD_PRELOAD the loader runs the other
# constructor first, so those calls really came before the library's set-up
# (its "loaded" debug line comes after them).
order=$(env LD_PRELOAD="$TW_LIB:$TWTEST_EARLY" TWSHIM_LINGER=0 TWSHIM_LOG=debug /bin/true 2>&1 |
	grep -nE '^early:|debug: loaded' | head -n 1)
tw_log "first line: $order"
assert_match "the early calls ran before the library's constructor" "$order" '^1:early:'

# After loading, the policy is in force: a probe run in the same configuration.
tw_server_start S -p 7301 -m reply -n 200 -t 60
line=$(env LD_PRELOAD="$TW_LIB:$TWTEST_EARLY" TWSHIM_LINGER=0 "$TW_PROBE" -q -n 200 -s hi -r 127.0.0.1 7301 2>"$TW_TMP/probe.err")
tw_server_wait S || fail "server did not see 200 connections end"
assert_eq "probe after early calls: failures" "$(tw_field "$line" failed)" 0
assert_eq "probe after early calls: TIME_WAIT" "$(tw_tw_count dport = :7301)" 0
tw_done
