#!/usr/bin/env bash
# correct_badptr: a bad pointer gets the kernel's answer, never a crash.
#
# twcorrect badptr calls every interposed function that takes a pointer
# (connect, __connect, bind, setsockopt, getsockname, sendto and sendmsg with
# MSG_FASTOPEN and without, fcntl/fcntl64, posix_spawn, execve, execv,
# execvp, execvpe, fexecve, sigaction, fclose) with NULL, (void *)8 and a PROT_NONE
# page, and a sockaddr whose first 8 bytes are readable and the rest on a
# PROT_NONE page (pinning reads the destination through its own
# SO_REUSEADDR call: the kernel checks only the first bytes there), each in its own child, and prints the result and errno or the
# signal.  The functions without pointer arguments (close, dup*, listen,
# close_range...) have nothing to test here.  The output with the library —
# loaded with every feature off, and with every feature on — must be
# identical to the output without it.  Before the fix, connect and bind with
# (void *)8 ended in SIGSEGV.  TCP Fast Open is enabled in the namespace so
# that the MSG_FASTOPEN calls reach the connect path.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
TW_CORRECT=${TWCORRECT:-}
[[ -x $TW_CORRECT ]] || fail "TWCORRECT='$TW_CORRECT' is not executable"
tw_need diff
sysctl -qw net.ipv4.tcp_fastopen=3 || fail "cannot set net.ipv4.tcp_fastopen"
# Some calls crash inside libc itself, with or without the library (glibc's
# execvp reads the name, sigaction copies the action, fclose the FILE): in
# a sanitizer build the instrumented library brings ASan's SIGSEGV handler,
# which would turn that crash into a report.  Let it be the plain signal.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_sigbus=0

"$TW_CORRECT" badptr >"$TW_TMP/plain" || fail "helper exited $? without the library"
cases=$(wc -l <"$TW_TMP/plain")
tw_log "without the library: $cases calls"
assert_ge "calls made without the library" "$cases" 80
assert_eq "EFAULT from connect((void *)8) without the library" \
	"$(grep -c '^connect16/eight rc=-1 errno=EFAULT$' "$TW_TMP/plain")" 1
assert_eq "EFAULT from bind(PROT_NONE) without the library" \
	"$(grep -c '^bind16/protnone rc=-1 errno=EFAULT$' "$TW_TMP/plain")" 1
assert_eq "EFAULT from connect(straddling a PROT_NONE page) without the library" \
	"$(grep -c '^connect16/straddle rc=-1 errno=EFAULT$' "$TW_TMP/plain")" 1
assert_eq "SO_REUSEADDR still 0 after connect(straddle) without the library" \
	"$(grep -c '^connect16_reuseaddr/straddle rc=0 errno=0$' "$TW_TMP/plain")" 1

for cfg in "" "TWSHIM_LINGER=0 TWSHIM_PORTS=above TWSHIM_REUSEADDR=1 TWSHIM_REUSEPORT=1" \
	"TWSHIM_LINGER=safe TWSHIM_PORTS=above TWSHIM_REUSEADDR=1 TWSHIM_REUSEPORT=1 TWSHIM_LOG=debug TWSHIM_STATS_SIGNAL=USR1" \
	"TWSHIM_LINGER=5 TWSHIM_MATCH=127.0.0.0/8 TWSHIM_EXCLUDE=*:9"; do
	read -r -a vars <<<"$cfg"
	label=${cfg:-every feature off}
	env "${vars[@]}" LD_PRELOAD="$TW_LIB" "$TW_CORRECT" badptr >"$TW_TMP/with" 2>/dev/null ||
		fail "helper exited $? with $label"
	if d=$(diff "$TW_TMP/plain" "$TW_TMP/with"); then
		assert_eq "with the library ($label): every result, errno and signal as without" same same
	else
		assert_eq "with the library ($label): every result, errno and signal as without" \
			"differs:"$'\n'"$d" same
	fi
done

tw_done
