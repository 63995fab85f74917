# shellcheck shell=bash
# Shared by share.sh and matrix.sh (source after ../lib_e2e.sh and
# tw_netns_enter): run twsafe-share for one case and judge it by the kernel.

TS_SHARE=${TWSAFE_SHARE:-}
[[ -x $TS_SHARE ]] || fail "TWSAFE_SHARE='$TS_SHARE' is not executable (run through meson test)"
SH_PORT=${SH_PORT:-7000}

# sh_run TAG MODE(off|safe|0) [twsafe-share args...]: one run on a fresh
# server port.  Sets SH_RECEIVED (bytes, all connections), SH_ENDS (the
# reader's ends, sorted, e.g. "eof" or "eof eof"), SH_INTACT (connections
# whose bytes matched the pattern), SH_CONNS, SH_SENT (the writer's count)
# and SH_TW (client-side TIME_WAIT once every connection settled).
sh_run() {
	local tag=$1 mode=$2 out
	shift 2
	SH_PORT=$((SH_PORT + 1))
	out=$TW_TMP/share.$SH_PORT
	if [[ $mode == off ]]; then
		"$TS_SHARE" -p "$SH_PORT" "$@" >"$out" || tw__fail "$tag: helper failed"
	else
		TWSHIM_LINGER=$mode tw_preload "$TS_SHARE" -p "$SH_PORT" "$@" >"$out" ||
			tw__fail "$tag: helper failed"
	fi
	tw_settle "$SH_PORT"
	SH_TW=$(tw_tw_count dport = ":$SH_PORT")
	SH_CONNS=$(grep -c '^conn=' "$out")
	SH_RECEIVED=$(awk -F'[ =]' '/^conn=/ { s += $4 } END { print s + 0 }' "$out")
	SH_INTACT=$(grep -c '^conn=.* intact=1 ' "$out")
	SH_ENDS=$(grep -o 'end=[a-z]*' "$out" | cut -d= -f2 | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }')
	SH_SENT=$(tw_field "$(grep '^sent=' "$out")" sent)
	tw_log "$tag: sent=$SH_SENT received=$SH_RECEIVED ends=[$SH_ENDS] intact=$SH_INTACT/$SH_CONNS client TIME_WAIT=$SH_TW"
}

# sh_expect TAG BYTES CONNS WANT-END WANT-TW: every byte, the end, TIME_WAIT.
# WANT-TW "-" skips the TIME_WAIT check (the case says why).
sh_expect() {
	local tag=$1 want_bytes=$2 conns=$3 want_end=$4 want_tw=$5
	assert_eq "$tag: bytes received" "$SH_RECEIVED" "$want_bytes"
	assert_eq "$tag: connections intact" "$SH_INTACT" "$conns"
	assert_eq "$tag: how the reader's stream ended" "$SH_ENDS" "$want_end=$conns"
	[[ $want_tw == - ]] || assert_eq "$tag: client-side TIME_WAIT" "$SH_TW" "$want_tw"
}
