#!/usr/bin/env bash
# sup_fork: children of the target stay supervised.
#
# TWSHIM_LINGER=0, 10 ephemeral ports, tcp_tw_reuse=0; the static probe's
# connections are made
#   by a fork()ed child of the target;
#   by a child that exec()s the probe again;
#   by a child left running after the target itself has exited (sh starts
#     it in the background and exits): the supervisor returns the target's
#     status at once and a background copy keeps serving the child.
# Each: no failure and no TIME_WAIT, where the unsupervised probe gets
# EADDRNOTAVAIL (shown once, to keep the test honest).

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/supervise/lib_sup.sh
. "$(dirname "$0")/lib_sup.sh"
sup_init
tw_need sh tail

N=${TW_CONNS:-300}
SP=$SUP_SP

tw_server_start A -p 7001 -m reply -t 60
line=$("$SP" probe 127.0.0.1 7001 "$N" request fork)
tw_server_stop A
tw_log "unsupervised fork: $line"
assert_gt "unsupervised fork: EADDRNOTAVAIL" "$(tw_field "$line" eaddrnotavail)" 0

# check NAME PORT LINE
check() {
	local name=$1 port=$2 line=$3
	tw_log "$name: $line"
	assert_eq "$name: successes" "$(tw_field "$line" ok)" "$N"
	assert_eq "$name: failures" "$(tw_field "$line" failed)" 0
	assert_eq "$name: TIME_WAIT to the server" "$(tw_tw_count dport = ":$port")" 0
	assert_eq "$name: server saw resets" "$(tw_field "$TW_SUMMARY_S" reset)" "$N"
}

for mode in fork exec; do
	[[ $mode == exec ]] && port=7003 || port=7002
	tw_server_start S -p "$port" -m reply -n "$N" -t 60
	line=$(TWSHIM_LINGER=0 sup_run -- "$SP" probe 127.0.0.1 "$port" "$N" request "$mode")
	rc=$?
	tw_server_wait S || tw__fail "$mode: server did not see $N connections end"
	assert_eq "$mode: supervisor exit status" "$rc" 0
	check "$mode" "$port" "$line"
done

# Orphaned child: the target (sh) exits before its child has connected;
# the child waits for a go-ahead on a FIFO, so the target is certainly gone
# when it starts.
go=$TW_TMP/go out=$TW_TMP/orphan.out pidf=$TW_TMP/orphan.pid
mkfifo "$go" || fail "mkfifo"
tw_server_start S -p 7004 -m reply -n "$N" -t 60
# shellcheck disable=SC2016 # expanded by the target's shell
TWSHIM_LINGER=0 sup_run -- sh -c '(read -r x <"$1"; exec "$2" probe 127.0.0.1 7004 "$3" request) >"$4" & echo $! >"$5"' \
	sh "$go" "$SP" "$N" "$out" "$pidf"
rc=$?
assert_eq "orphan: supervisor returned the target's status" "$rc" 0
orphan=$(cat "$pidf")
[[ $orphan =~ ^[0-9]+$ ]] || fail "no orphan pid"
echo go >"$go"
# Not our child: wait for it to end by watching its pid.
tail --pid="$orphan" -s 0.05 -f /dev/null
tw_server_wait S || tw__fail "orphan: server did not see $N connections end"
check "orphan after the target exited" 7004 "$(cat "$out")"
# The background supervisor ends once no process runs under the filter any
# more (the listener reports POLLHUP): wait for any copy of the driver.
left=0
for exe in /proc/[0-9]*/exe; do
	[[ $(readlink "$exe" 2>/dev/null) == "$SUP_DRIVER" ]] || continue
	p=${exe#/proc/}
	p=${p%/exe}
	timeout 120 tail --pid="$p" -s 0.05 -f /dev/null || left=$((left + 1))
done
assert_eq "orphan: background supervisors still running" "$left" 0

tw_done
