#!/usr/bin/env bash
# Stress: a fork storm under the library (safe linger, pinning, reuse).
# Children end in every way a process can: close then exit, exit with the
# socket open, _exit with it open (the kernel closes it), exec with it open
# (the new image sends once more), and fork with it open (shared socket:
# both close).  Each kind talks to its own server port, so the kernel's
# TIME_WAIT count is measured per kind: 0 for every kind (TCP_LINGER2 set
# at connect: the kernel resets the orphan once our FIN is acknowledged,
# whoever closes last), and the server sees every connection end with EOF;
# and everywhere: every child exits 0, no failed connect, no byte lost,
# every source port pinned, no fd leak in the parent, bounded time.
# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
# shellcheck source=tests/e2e/stress/lib_stress.sh
. "$(dirname "$0")/lib_stress.sh"
tw_netns_enter "$@"
base='' out='' # summary lines, filled by st_run

children=$(st_scale "${ST_CHILDREN:-1000}")
((children >= 25)) || children=25
parallel=16
port_base=7200
ports=(7200 7201 7202 7203 7204)
kinds=(close exit _exit exec forkshared)

# Without the library: the 10 ephemeral ports run dry.
st_server_start nolib -P "$ST_PIN" "${ports[@]}"
st_run base "$ST_CLIENT" forkstorm "$port_base" 100 8
st_server_stop nolib
assert_gt "100 children (20 per port, 10 ephemeral ports) without the library: children that failed" "$(tw_field "$base" bad_exit)" 0

# The ephemeral ports the baseline left in TIME_WAIT do not matter below:
# every connection with the library takes a pinned port.
ST_SERVER_PRELOAD=1 st_server_start main -P "$ST_PIN" "${ports[@]}"
tw_before=()
for p in "${ports[@]}"; do
	tw_before+=("$(tw_tw_count dport = :"$p")")
done
st_run out --lib TWSHIM_LINGER=safe TWSHIM_PORTS="$ST_PIN" TWSHIM_REUSEADDR=1 TWSHIM_LOG=warn -- \
	"$ST_CLIENT" forkstorm "$port_base" "$children" "$parallel"
st_server_stop main

bytes=0 conns=0
for i in "${!ports[@]}"; do
	p=${ports[$i]}
	bytes=$((bytes + $(st_port main "$p" bytes)))
	conns=$((conns + $(st_port main "$p" conns)))
	assert_eq "${kinds[$i]}: source ports outside $ST_PIN" "$(st_port main "$p" outside)" 0
done
st_assert_clean "$out" "$bytes" "$children children"
assert_eq "children that did not exit 0" "$(tw_field "$out" bad_exit)" 0
assert_eq "connections the servers accepted" "$conns" "$children"
for i in "${!ports[@]}"; do
	p=${ports[$i]} k=${kinds[$i]}
	n=$(tw_field "$out" "n_$k")
	tw=$(($(tw_tw_count dport = :"$p") - ${tw_before[$i]}))
	assert_eq "$k ($n children): client TIME_WAIT to :$p" "$tw" 0
	assert_eq "$k: closes the server saw as EOF" "$(st_port main "$p" eof)" "$n"
	assert_eq "$k: server TIME_WAIT on :$p" "$(tw_tw_count sport = :"$p")" 0
done
tw_done
