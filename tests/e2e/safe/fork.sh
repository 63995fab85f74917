#!/usr/bin/env bash
# fork: a socket that exists at fork() loses nothing under
# TWSHIM_LINGER=safe, and leaves no TIME_WAIT.
#
# twsafe-fork connects, forks; one process closes its copy at once (with
# nothing in flight: a naive safe close would set linger {1,0} there), the
# other then writes BYTES of the test pattern into a slow reader and
# closes.  The linger belongs to the socket, not the fd, so a reset armed
# by the first close would cut the writer's data.
#   without the library and with TWSHIM_LINGER=safe: every byte arrives
#     intact, the server sees EOF — whether the parent or the child is the
#     writer; one TIME_WAIT without the library, none with safe (the kernel
#     acts at the last close, in whichever process);
#   TWSHIM_LINGER=0 (linger set at connect, contrast): the same run loses
#     data and ends with a reset — what the check would catch.

# shellcheck source=tests/e2e/lib_e2e.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib_e2e.sh}"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/safe/lib_safe.sh
. "$(dirname "$0")/lib_safe.sh"
[[ -x $TS_FORK ]] || fail "TWSAFE_FORK='$TS_FORK' is not executable"

BYTES=1048576
PORT=7600

# phase TAG WRITER LIBMODE(off|safe|0): sets RES (ts_intact totals), CTW.
phase() {
	local tag=$1 writer=$2 lib=$3 out
	PORT=$((PORT + 1))
	out=$TW_TMP/fork.$PORT
	tw_server_start S -p "$PORT" -m sink -b 4096 -d 1 -n 1 -t 60
	if [[ $lib == off ]]; then
		"$TS_FORK" -p "$PORT" -b "$BYTES" -w "$writer" >"$out"
	else
		TWSHIM_LINGER=$lib tw_preload "$TS_FORK" -p "$PORT" -b "$BYTES" \
			-w "$writer" >"$out"
	fi
	tw_server_wait S || tw__fail "$tag: server did not see the connection end"
	tw_settle "$PORT"
	tw_log "$tag: helper says: $(cat "$out")"
	sed -i 's/^writer=[a-z]* /conn /' "$out"
	ts_intact "$out" "$TW_OUT_S" >"$out.res"
	tw_log "$tag: $(head -n 1 "$out.res")"
	RES=$(tail -n 1 "$out.res")
	END=$(tw_field "$(head -n 1 "$out.res")" end)
	CTW=$(tw_tw_count dport = ":$PORT")
}

for writer in child parent; do
	for lib in off safe; do
		tag="$lib, parent and child share the socket, $writer writes"
		phase "$tag" "$writer" "$lib"
		assert_eq "$tag: connection intact" "$(tw_field "$RES" intact)" 1
		assert_eq "$tag: bytes received" "$(tw_field "$RES" received)" "$BYTES"
		assert_eq "$tag: how the server saw it end" "$END" eof
		assert_eq "$tag: client-side TIME_WAIT" "$CTW" "$([[ $lib == off ]] && echo 1 || echo 0)"
	done
done

tag="linger 0 (contrast), child writes"
phase "$tag" child 0
assert_gt "$tag: bytes lost" "$((BYTES - $(tw_field "$RES" received)))" 0
assert_eq "$tag: how the server saw it end" "$END" reset

tw_done
