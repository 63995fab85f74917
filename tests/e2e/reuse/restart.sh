#!/usr/bin/env bash
# restart: TWSHIM_REUSEADDR=1 lets a legacy server restart over its own
# TIME_WAIT.
#
# A server that binds without SO_REUSEADDR (twreuse-server in C, and
# Python's socketserver.TCPServer, whose allow_reuse_address defaults to
# False) answers a few connections and closes each first, so its port
# holds TIME_WAIT entries; it then exits and a new instance starts at once
# on the same port:
#   without the library: the restart fails with EADDRINUSE;
#   with TWSHIM_REUSEADDR=1 on both instances: it binds and serves;
#   documented limit: if the old instance ran without the library, its
#     TIME_WAIT entries lack SO_REUSEADDR and the restart still fails.

# shellcheck source=tests/e2e/lib_e2e.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib_e2e.sh}"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/reuse/lib_reuse.sh
. "$(dirname "$0")/lib_reuse.sh"
[[ -x $RS_PY && -f $RS_LEGACY_PY ]] || fail "need $RS_PY and legacy_server.py"

N=5
LIBENV=("LD_PRELOAD=$TW_LIB" TWSHIM_REUSEADDR=1)

# phase TAG KIND PORT OLD(off|on) NEW(off|on) EXPECTED-BIND
phase() {
	local tag=$1 kind=$2 port=$3 old=$4 new=$5 want=$6 line
	local -a e_old=() e_new=()
	[[ $old == on ]] && e_old=("${LIBENV[@]}")
	[[ $new == on ]] && e_new=("${LIBENV[@]}")
	rs_start A "$kind" "$port" "$N" "${e_old[@]}" || fail "$tag: the first instance did not start"
	line=$("$TW_PROBE" -q -n "$N" -s hello -E 127.0.0.1 "$port")
	tw_log "$tag: clients: $line"
	rs_wait A || tw__fail "$tag: first instance failed"
	tw_settle "$port"
	assert_eq "$tag: first instance answered" "$(tw_field "$line" replies)" "$N"
	assert_gt "$tag: server-side TIME_WAIT on the port before the restart" \
		"$(tw_tw_count sport = ":$port")" 0
	if rs_start B "$kind" "$port" 1 "${e_new[@]}"; then
		line=$("$TW_PROBE" -q -n 1 -s hello -E 127.0.0.1 "$port")
		tw_log "$tag: client of the restarted instance: $line"
	fi
	rs_wait B
	assert_eq "$tag: restart bind" "$(tw_field "$RS_LINE_B" bind)" "$want"
	if [[ $kind == c && $want == ok ]]; then
		assert_eq "$tag: restarted instance answered" "$(tw_field "$line" replies)" 1
		assert_eq "$tag: SO_REUSEADDR on the restarted listener" \
			"$(tw_field "$RS_LINE_B" reuseaddr)" 1
	fi
	if [[ $kind == py ]]; then
		assert_eq "$tag: Python's default" "$(tw_field "$RS_LINE_A" allow_reuse_address)" False
	fi
}

phase "C, no library" c 8101 off off EADDRINUSE
phase "C, TWSHIM_REUSEADDR=1 on both" c 8102 on on ok
phase "C, old instance without the library (limit)" c 8103 off on EADDRINUSE
phase "Python, no library" py 8104 off off EADDRINUSE
phase "Python, TWSHIM_REUSEADDR=1 on both" py 8105 on on ok

tw_done
