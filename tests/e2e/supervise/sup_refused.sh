#!/usr/bin/env bash
# sup_refused: a refused connect reaches the target with its errno intact.
#
# Nothing listens on port 7009.  The static and the Go probe each try N
# connections there, unsupervised and supervised (linger 0, then pinning):
# every attempt fails with ECONNREFUSED in all cases — the supervisor
# neither hides nor changes the error.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/supervise/lib_sup.sh
. "$(dirname "$0")/lib_sup.sh"
sup_init
sup_build_goprobe

N=20

# expect NAME LINE
expect() {
	tw_log "$1: $2"
	assert_eq "$1: attempted" "$(tw_field "$2" attempted)" "$N"
	assert_eq "$1: failures" "$(tw_field "$2" failed)" "$N"
	assert_eq "$1: errno" "$(tw_field "$2" first_error)" ECONNREFUSED
}

expect "static unsupervised" "$("$SUP_SP" probe 127.0.0.1 7009 "$N")"
expect "static linger0" "$(TWSHIM_LINGER=0 sup_run -- "$SUP_SP" probe 127.0.0.1 7009 "$N")"
expect "static pinned" "$(TWSHIM_PORTS=50000-50019 sup_run -- "$SUP_SP" probe 127.0.0.1 7009 "$N")"
expect "go unsupervised" "$("$SUP_GO" -addr 127.0.0.1:7009 -n "$N" -c 4)"
expect "go linger0" "$(TWSHIM_LINGER=0 sup_run -- "$SUP_GO" -addr 127.0.0.1:7009 -n "$N" -c 4)"
expect "go pinned" "$(TWSHIM_PORTS=50000-50019 sup_run -- "$SUP_GO" -addr 127.0.0.1:7009 -n "$N" -c 4)"

tw_done
