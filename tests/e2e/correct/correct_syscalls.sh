#!/usr/bin/env bash
# correct_syscalls: what the library adds to a connect, in system calls
# (strace; exact counts, no timing).  Five client connections, each socket
# made with socket():
# 1. TWSHIM_LINGER=0: one setsockopt(SO_LINGER) per connect and nothing else
#    of its own: no getsockopt (the socket is known as TCP from socket(), its
#    record needs no SO_COOKIE), no rt_sigprocmask probe of the destination
#    pointer (read after the kernel read it).
# 2. TWSHIM_LINGER=safe: the same with one setsockopt(TCP_LINGER2) instead.
# 3. TWSHIM_PORTS=above: SO_REUSEADDR and the bind per connect and nothing
#    else: the destination, needed before the bind, is read through the
#    SO_REUSEADDR call itself (pin.h), no probe, no getsockopt.
# Before issue 20 each connect made two getsockopt and a probe more; the
# pinned connect kept its probe until the SO_REUSEADDR read, safe until it
# set TCP_LINGER2 after the connect too.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/correct/lib_correct.sh
. "$(dirname "$0")/lib_correct.sh"
tw_need strace

# traced OUT VAR=VALUE...: twcorrect conns 5 under the library and strace
traced() {
	local out=$1
	shift
	strace -f -qq -o "$out" -e trace=getsockopt,setsockopt,bind,rt_sigprocmask \
		env "$@" LD_PRELOAD="$TW_LIB${LD_PRELOAD:+:$LD_PRELOAD}" \
		"$TW_CORRECT" conns 5 "$PORT" >"$out.client"
}
# count FILE REGEX: matching lines of the trace
count() { grep -cE "$2" "$1"; }

tw_server_start S -p 7311 -m reply -t 60
PORT=7311
traced "$TW_TMP/l0" TWSHIM_LINGER=0
assert_eq "linger 0: connections" "$(tail -n 1 "$TW_TMP/l0.client")" "ok=5 failed=0"
assert_eq "linger 0: setsockopt(SO_LINGER)" "$(count "$TW_TMP/l0" 'setsockopt\(.*SO_LINGER')" 5
assert_eq "linger 0: getsockopt" "$(count "$TW_TMP/l0" 'getsockopt\(')" 0
assert_eq "linger 0: destination probes (rt_sigprocmask EINVAL)" \
	"$(count "$TW_TMP/l0" 'rt_sigprocmask\(.*EINVAL')" 0
assert_eq "linger 0: binds" "$(count "$TW_TMP/l0" '^[0-9]+ +bind\(')" 0

traced "$TW_TMP/safe" TWSHIM_LINGER=safe
assert_eq "safe: connections" "$(tail -n 1 "$TW_TMP/safe.client")" "ok=5 failed=0"
assert_eq "safe: setsockopt(TCP_LINGER2)" "$(count "$TW_TMP/safe" 'setsockopt\(.*TCP_LINGER2')" 5
assert_eq "safe: getsockopt" "$(count "$TW_TMP/safe" 'getsockopt\(')" 0
assert_eq "safe: destination probes (rt_sigprocmask EINVAL)" \
	"$(count "$TW_TMP/safe" 'rt_sigprocmask\(.*EINVAL')" 0
assert_eq "safe: binds" "$(count "$TW_TMP/safe" '^[0-9]+ +bind\(')" 0

traced "$TW_TMP/pin" TWSHIM_PORTS=above
assert_eq "pinned: connections" "$(tail -n 1 "$TW_TMP/pin.client")" "ok=5 failed=0"
assert_eq "pinned: binds" "$(count "$TW_TMP/pin" '^[0-9]+ +bind\(')" 5
assert_eq "pinned: setsockopt(SO_REUSEADDR)" "$(count "$TW_TMP/pin" 'setsockopt\(.*SO_REUSEADDR')" 5
assert_eq "pinned: getsockopt" "$(count "$TW_TMP/pin" 'getsockopt\(')" 0
assert_eq "pinned: destination probes (rt_sigprocmask EINVAL)" \
	"$(count "$TW_TMP/pin" 'rt_sigprocmask\(.*EINVAL')" 0
tw_server_stop S

tw_done
