#!/usr/bin/env bash
# ports_range: TWSHIM_PORTS=LO-HI pins every client source port into LO-HI,
# skips ip_local_reserved_ports, and alone (no linger) removes EADDRNOTAVAIL.
#
# Namespace: 10 ephemeral ports (40000-40009), tcp_tw_reuse=0, reserved
# ports 50010-50019,50050.  Source ports are measured by the server from
# accept()'s peer address, i.e. what the kernel used.
#   without the library: EADDRNOTAVAIL after ~10 connections, every port
#   used is ephemeral (outside the pinned range — the check can fail);
#   with TWSHIM_PORTS=50000-50099: probe, python3 and curl each make
#   TW_CONNS (2000) connections, closing first (normal close, TIME_WAIT
#   on the client): none fails, every source port is in 50000-50099 and
#   none is reserved, no port of the ephemeral range is used;
#   with TWSHIM_LINGER=safe as well: the same, and no TIME_WAIT at all.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/ports/lib_ports.sh
. "$(dirname "$0")/lib_ports.sh"
tw_need curl python3 "$TW_PROBE"
[[ -f $TW_CLIENT ]] || fail "TWTEST_CLIENT='$TW_CLIENT' not found"

N=${TW_CONNS:-2000}
LO=50000
HI=50099
RES_SYSCTL=50010-50019,50050
RES_RE='5001[0-9]|50050'
sysctl -qw "net.ipv4.ip_local_reserved_ports=$RES_SYSCTL" || fail "cannot set ip_local_reserved_ports"
[[ $(cat /proc/sys/net/ipv4/ip_local_reserved_ports) == "$RES_SYSCTL" ]] ||
	fail "ip_local_reserved_ports reads '$(cat /proc/sys/net/ipv4/ip_local_reserved_ports)'"

# RUN: the prefix a phase puts before the client program (environment,
# LD_PRELOAD); empty without the library.
RUN=()
client_probe() { "${RUN[@]}" "$TW_PROBE" -q -n "$2" -s hello -r 127.0.0.1 "$1"; }
client_python() { "${RUN[@]}" python3 "$TW_CLIENT" -n "$2" -s hello -r 127.0.0.1 "$1"; }
client_curl() {
	local cfg=$TW_TMP/curl.$1.cfg res=$TW_TMP/curl.$1.res log=$TW_TMP/curl.$1.log i ok
	for ((i = 0; i < $2; i++)); do
		printf 'url = "http://127.0.0.1:%s/c/%d"\noutput = "/dev/null"\n' "$1" "$i"
	done >"$cfg"
	"${RUN[@]}" curl -s -v -K "$cfg" -w '%{http_code} %{exitcode}\n' >"$res" 2>"$log"
	ok=$(grep -c '^200 0$' "$res")
	printf 'attempted=%s ok=%s failed=%s eaddrnotavail=%s\n' "$(wc -l <"$res")" "$ok" \
		"$(($2 - ok))" "$(grep -c 'Cannot assign requested address' "$log")"
}

# --- without the library: the problem exists and the measurement sees it ---
tw_server_start P -p 7000 -m reply -t 60
line=$(client_probe 7000 100)
tw_server_stop P
tw_log "plain probe: $line"
assert_gt "without the library: EADDRNOTAVAIL" "$(tw_field "$line" eaddrnotavail)" 0
ok=$(tw_field "$line" ok)
assert_eq "without the library: source ports outside $LO-$HI" \
	"$(peer_ports P | count_outside $LO $HI "$RES_RE")" "$ok"
assert_eq "without the library: source ports outside the ephemeral range" \
	"$(peer_ports P | count_outside 40000 40009 '')" 0
assert_eq "without the library: TIME_WAIT on ephemeral ports" \
	"$(tw_tw_count '(' sport ">= :40000" and sport "<= :40009" and dport = :7000 ')')" "$ok"

# --- with the library --------------------------------------------------------
# phase NAME CLIENT PORT SERVERMODE [extra env...]
phase() {
	local name=$1 client=$2 port=$3 smode=$4 log=$TW_TMP/twshim.$1.log
	shift 4
	tw_server_start S -p "$port" -m "$smode" -n "$N" -t 120
	RUN=(env TWSHIM_PORTS=$LO-$HI TWSHIM_LOG=info TWSHIM_LOG_FILE="$log" "$@" LD_PRELOAD="$TW_LIB")
	line=$("client_$client" "$port" "$N")
	RUN=()
	tw_server_wait S || tw__fail "$name: server did not see $N connections end"
	tw_log "$name: client says: $line"
	tw_log "$name: library says: $(summary_of "$log")"
	assert_eq "$name: failures" "$(tw_field "$line" failed)" 0
	assert_eq "$name: connections accepted" "$(tw_field "$TW_SUMMARY_S" accepted)" "$N"
	assert_eq "$name: source ports seen" "$(peer_ports S | wc -l)" "$N"
	assert_eq "$name: source ports outside $LO-$HI or reserved" \
		"$(peer_ports S | count_outside $LO $HI "$RES_RE")" 0
	assert_eq "$name: source ports in the ephemeral range" \
		"$(peer_ports S | awk '$1 >= 40000 && $1 <= 40009' | wc -l)" 0
	assert_eq "$name: TIME_WAIT on ephemeral ports to port $port" \
		"$(tw_tw_count '(' sport ">= :40000" and sport "<= :40009" and dport = ":$port" ')')" 0
	assert_ge "$name: distinct source ports" "$(peer_ports S | sort -u | wc -l)" 50
	pinned=$(tw_field "$(summary_of "$log")" pinned)
	assert_eq "$name: connects the library pinned (summary)" "$pinned" "$N"
}

phase probe probe 7001 reply
assert_gt "probe: client TIME_WAIT kept (normal close)" "$(tw_tw_count dport = :7001)" 0
assert_le "probe: client TIME_WAIT bounded by the range" "$(tw_tw_count dport = :7001)" 89
phase python python 7002 reply
phase curl curl 7003 http
phase probe+safe probe 7004 reply TWSHIM_LINGER=safe
assert_eq "probe+safe: client TIME_WAIT" "$(tw_tw_count dport = :7004)" 0
assert_eq "probe+safe: TIME_WAIT anywhere for port 7004" \
	"$(tw_tw_count '(' dport = :7004 or sport = :7004 ')')" 0

tw_done
