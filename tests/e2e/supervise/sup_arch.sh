#!/usr/bin/env bash
# sup_arch: the filter checks the architecture.  A 64-bit process can still
# make i386 system calls (int 0x80), which the supervisor does not decode:
# those connects must fail loudly (ENOSYS) rather than run unmanaged.
# Unsupervised, the same calls reach the network stack (ECONNREFUSED: no
# listener on the port), which shows the probe really makes them.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/supervise/lib_sup.sh
. "$(dirname "$0")/lib_sup.sh"
sup_init

line=$("$SUP_SP" i386 7009)
tw_log "unsupervised: $line"
assert_eq "unsupervised i386 connect" "$(tw_field "$line" i386_connect)" ECONNREFUSED
assert_eq "unsupervised i386 socketcall connect" "$(tw_field "$line" socketcall_connect)" ECONNREFUSED

line=$(TWSHIM_LINGER=0 sup_run -- "$SUP_SP" i386 7009)
tw_log "supervised: $line"
assert_eq "supervised i386 connect" "$(tw_field "$line" i386_connect)" ENOSYS
assert_eq "supervised i386 socketcall connect" "$(tw_field "$line" socketcall_connect)" ENOSYS

tw_done
