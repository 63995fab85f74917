#!/usr/bin/env bash
# sup_oldkernel: on a kernel without what supervision needs, the target is
# not run at all: one clear message, status 125.  The missing features are
# simulated by a seccomp filter the test driver puts on itself
# (--fake-old-kernel): no user notification listener; no pidfd_getfd.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/supervise/lib_sup.sh
. "$(dirname "$0")/lib_sup.sh"
sup_init
tw_need sh

export TWSHIM_LINGER=0

for what in listener getfd; do
	marker=$TW_TMP/ran.$what
	err=$(sup_run --fake-old-kernel=$what -- sh -c 'touch "$1"' sh "$marker" 2>&1 >/dev/null)
	rc=$?
	tw_log "$what: $err"
	assert_eq "$what missing: status" "$rc" 125
	assert_match "$what missing: message" "$err" "cannot supervise 'sh'.*not running it"
	assert_eq "$what missing: target ran" "$([[ -e $marker ]] && echo yes || echo no)" no
done

# Control: the same command with the features present does run.
marker=$TW_TMP/ran.control
sup_run -- sh -c 'touch "$1"' sh "$marker"
assert_eq "control: status" "$?" 0
assert_eq "control: target ran" "$([[ -e $marker ]] && echo yes || echo no)" yes

tw_done
