#!/usr/bin/env bash
# correct_names: after bind(ADDR:0) with TWSHIM_PORTS=above, every holder of
# the socket sees its real port.
#
# Pinning defers the port of a socket bound to ADDR:0 until connect (the
# kernel's IP_BIND_ADDRESS_NO_PORT), and the library remembers that in this
# process, for this fd.  twcorrect names asks getsockname() through a dup(),
# in a fork()ed child, in a program exec'd with execv() and one started with
# posix_spawn() that inherited the socket, and binds again through the dup:
# each must see what it sees without the library (the real port; EINVAL).
# Before the fix the dup and the children saw port 0 and the second bind
# succeeded.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/correct/lib_correct.sh
. "$(dirname "$0")/lib_correct.sh"

want="dup=same fork=same execv=same spawn=same rebind=EINVAL"
plain=$("$TW_CORRECT" names)
tw_log "without the library: $plain"
assert_eq "without the library" "$(head -n 1 <<<"$plain")" "$want"

for cfg in "TWSHIM_PORTS=above" "TWSHIM_PORTS=above TWSHIM_LINGER=safe" "TWSHIM_PORTS=50000-50099"; do
	read -r -a vars <<<"$cfg"
	with=$(env "${vars[@]}" LD_PRELOAD="$TW_LIB" "$TW_CORRECT" names)
	tw_log "$cfg: ${with//$'\n'/; }"
	assert_eq "$cfg: the port through a dup, a fork, execv, posix_spawn; a second bind" \
		"$(head -n 1 <<<"$with")" "$want"
done

tw_done
