#!/usr/bin/env bash
# errno: the library never changes what a call returns or its errno.
#
# tests/helpers/twtest-errno makes calls whose result is known — a refused
# blocking connect (ECONNREFUSED), a non-blocking connect (EINPROGRESS, then
# SO_ERROR), connect on fd -1 and on an unused fd (EBADF), on a file
# (ENOTSOCK), with a short length (EINVAL), a NULL address (EFAULT), the
# wrong family (EAFNOSUPPORT), twice (EISCONN), close twice (EBADF) — and
# prints "CASE rc=N errno=NAME" (strerrorname_np).  Its output without the
# library is checked against the known values, then must be identical under
# the library in each client mode.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/lib_e2e.sh"
tw_netns_enter "$@"
tw_need "$TW_ERRNO" diff

CLOSED=7399 # nothing listens here

# run_errno LABEL PORT [VAR=VALUE...]: server on PORT, helper with the given
# TWSHIM_* (none: without the library); output in $TW_TMP/errno.LABEL
run_errno() {
	local label=$1 port=$2
	shift 2
	tw_server_start E -p "$port" -m reply -t 60
	if (($# == 0)); then
		"$TW_ERRNO" "$port" "$CLOSED" >"$TW_TMP/errno.$label" || fail "$label: helper exited $?"
	else
		env "$@" LD_PRELOAD="$TW_LIB" "$TW_ERRNO" "$port" "$CLOSED" >"$TW_TMP/errno.$label" ||
			fail "$label: helper exited $?"
	fi
	tw_server_stop E
}

run_errno plain 7301
out=$(cat "$TW_TMP/errno.plain")
tw_log "without the library:"$'\n'"$out"

# expect CASE "rc=N errno=NAME"
expect() {
	local got
	got=$(grep "^$1 " <<<"$out" | cut -d' ' -f2-)
	assert_eq "without the library: $1" "$got" "$2"
}
expect connect_refused "rc=-1 errno=ECONNREFUSED"
expect connect_nonblock "rc=-1 errno=EINPROGRESS"
expect connect_nonblock_refused "rc=-1 errno=EINPROGRESS"
expect so_error_refused_value "ECONNREFUSED"
expect connect_ebadf "rc=-1 errno=EBADF"
expect connect_ebadf_high "rc=-1 errno=EBADF"
expect connect_enotsock "rc=-1 errno=ENOTSOCK"
expect connect_short_len "rc=-1 errno=EINVAL"
expect connect_null_addr "rc=-1 errno=EFAULT"
expect connect_wrong_family "rc=-1 errno=EAFNOSUPPORT"
expect connect_ok "rc=0 errno=0"
expect connect_isconn "rc=-1 errno=EISCONN"
expect close_twice "rc=-1 errno=EBADF"
expect close_ebadf "rc=-1 errno=EBADF"

# Each configuration gets its own server port: the helper's client-first
# closes may leave TIME_WAIT, which must not eat another run's ports.
port=7302
for cfg in "TWSHIM_LINGER=0" "TWSHIM_LINGER=safe" "TWSHIM_LINGER=5" \
	"TWSHIM_PORTS=above" "TWSHIM_LINGER=0 TWSHIM_PORTS=above" \
	"TWSHIM_LINGER=0 TWSHIM_MATCH=127.0.0.2/32"; do
	read -r -a vars <<<"$cfg"
	label=${cfg//[^A-Za-z0-9=_-]/_}
	run_errno "$label" "$port" "${vars[@]}"
	port=$((port + 1))
	if d=$(diff "$TW_TMP/errno.plain" "$TW_TMP/errno.$label"); then
		assert_eq "with $cfg: every result and errno as without the library" same same
	else
		assert_eq "with $cfg: every result and errno as without the library" "differs:"$'\n'"$d" same
	fi
done

tw_done
