#!/usr/bin/env bash
# sup_bind: TWSHIM_REUSEADDR / TWSHIM_REUSEPORT reach a static program's
# bind() through the supervisor (bind is trapped only when one is set).
# The probe binds without setting any option and prints what the kernel
# then reports for its socket.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/supervise/lib_sup.sh
. "$(dirname "$0")/lib_sup.sh"
sup_init

line=$(TWSHIM_REUSEADDR=1 tw_preload "$SUP_SP" bindcheck 7101)
tw_log "preload alone: $line"
assert_eq "preload alone: SO_REUSEADDR" "$(tw_field "$line" reuseaddr)" 0

line=$(TWSHIM_REUSEADDR=1 sup_run -- "$SUP_SP" bindcheck 7102)
tw_log "supervised REUSEADDR: $line"
assert_eq "supervised: SO_REUSEADDR" "$(tw_field "$line" reuseaddr)" 1
assert_eq "supervised: SO_REUSEPORT (not asked)" "$(tw_field "$line" reuseport)" 0

line=$(TWSHIM_REUSEPORT=1 sup_run -- "$SUP_SP" bindcheck 7103)
tw_log "supervised REUSEPORT: $line"
assert_eq "supervised: SO_REUSEPORT" "$(tw_field "$line" reuseport)" 1

line=$(TWSHIM_LINGER=0 sup_run -- "$SUP_SP" bindcheck 7104)
tw_log "supervised, no reuse asked: $line"
assert_eq "no reuse asked: SO_REUSEADDR" "$(tw_field "$line" reuseaddr)" 0

tw_done
