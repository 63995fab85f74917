#!/usr/bin/env bash
# ports_above: TWSHIM_PORTS=above follows this namespace's
# ip_local_port_range; bad ranges give one clear line; services keep the
# ephemeral range; a listener inside the pinned range is skipped.
#
#   above with ephemeral 40000-40009: every source port is in 40010-65535;
#   the namespace changed to 40000-60000: every port is in 60001-65535
#   (and without the library some are <= 60000 — the check can fail);
#   ephemeral range ending at 65535: one error line, nothing pinned;
#   every port of the range reserved: one error line, nothing pinned;
#   a range overlapping the ephemeral one: one warning line, still pinned;
#   a service binding (no SO_REUSEADDR) a port of the 10-port ephemeral
#   range: fails with EADDRINUSE after plain probes (their TIME_WAIT holds
#   every ephemeral port), succeeds while and after pinned probes ran;
#   a listener on 0.0.0.0:65523 with TWSHIM_PORTS=65520-65529: no
#   connection uses 65523, none fails, the library counted the busy port.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/ports/lib_ports.sh
. "$(dirname "$0")/lib_ports.sh"
tw_need python3 "$TW_PROBE"

N=${TW_CONNS:-2000}

set_range() {
	sysctl -qw "net.ipv4.ip_local_port_range=$1 $2" || fail "cannot set ip_local_port_range $1 $2"
}

# pinned_probe NAME PORT COUNT [env...]: probe under the library (debug log:
# the load-time range line is a debug line) against a
# fresh server; sets LINE, SUMMARY, ERRLINES (library lines on stderr).
pinned_probe() {
	local name=$1 port=$2 count=$3 log=$TW_TMP/twshim.$1.log err=$TW_TMP/stderr.$1
	shift 3
	tw_server_start S -p "$port" -m reply -n "$count" -t 120
	LINE=$(env TWSHIM_LOG=debug TWSHIM_LOG_FILE="$log" "$@" LD_PRELOAD="$TW_LIB" \
		"$TW_PROBE" -q -n "$count" -s hello -r 127.0.0.1 "$port" 2>"$err")
	tw_server_wait S || tw__fail "$name: server did not see $count connections end"
	SUMMARY=$(summary_of "$log")
	ERRLOG=$log
	tw_log "$name: client says: $LINE"
	tw_log "$name: library says: $SUMMARY"
}

# bind_service PORT: bind 0.0.0.0:PORT without SO_REUSEADDR and listen, as
# a service starting up does; prints OK or the errno name.
bind_service() {
	python3 -c '
import errno, socket, sys
s = socket.socket()
try:
    s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(5); print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))' "$1"
}

# --- services keep the ephemeral range --------------------------------------------
# Pinned probes first, with a service binding in the middle of the run.
tw_server_start S -p 7007 -m reply -n "$N" -t 120
LD_PRELOAD="$TW_LIB" TWSHIM_PORTS=above "$TW_PROBE" -q -n "$N" -s hello -r 127.0.0.1 7007 \
	>"$TW_TMP/bg.out" &
bg=$!
during=$(bind_service 40003)
wait "$bg"
tw_server_wait S
after=$(bind_service 40005)
assert_eq "pinned probes: failures" "$(tw_field "$(cat "$TW_TMP/bg.out")" failed)" 0
assert_eq "pinned probes: a service binds 40003 while they run" "$during" OK
assert_eq "pinned probes: a service binds 40005 after them" "$after" OK
assert_eq "pinned probes: sockets on ephemeral ports" \
	"$(ss -Htan '(' sport ">= :40000" and sport "<= :40009" ')' | wc -l)" 0
assert_eq "pinned probes: ports outside 40010-65535" "$(peer_ports S | count_outside 40010 65535 '')" 0
# Then plain probes: their TIME_WAIT holds every ephemeral port.
tw_server_start P -p 7008 -m reply -n 30 -t 60
"$TW_PROBE" -q -n 30 -s hello -r 127.0.0.1 7008 >/dev/null
tw_server_stop P
assert_eq "plain probes: TIME_WAIT on ephemeral ports" \
	"$(tw_tw_count '(' sport ">= :40000" and sport "<= :40009" and dport = :7008 ')')" 10
assert_eq "plain probes: a service binding 40006" "$(bind_service 40006)" EADDRINUSE

# --- above follows the namespace ---------------------------------------------
pinned_probe above-10 7001 "$N" TWSHIM_PORTS=above
assert_eq "above (ephemeral 40000-40009): failures" "$(tw_field "$LINE" failed)" 0
assert_eq "above (ephemeral 40000-40009): ports outside 40010-65535" \
	"$(peer_ports S | count_outside 40010 65535 '')" 0
assert_match "above: the library announced its range" "$(grep -h 'pinning client' "$ERRLOG")" '40010-65535'

set_range 40000 60000
tw_server_start P -p 7002 -m reply -n 200 -t 60
"$TW_PROBE" -q -n 200 -s hello -r 127.0.0.1 7002 >/dev/null
tw_server_wait P
assert_gt "without the library (ephemeral 40000-60000): ports outside 60001-65535" \
	"$(peer_ports P | count_outside 60001 65535 '')" 0
pinned_probe above-60000 7003 "$N" TWSHIM_PORTS=above
assert_eq "above (ephemeral 40000-60000): failures" "$(tw_field "$LINE" failed)" 0
assert_eq "above (ephemeral 40000-60000): ports outside 60001-65535" \
	"$(peer_ports S | count_outside 60001 65535 '')" 0

# --- unusable ranges ------------------------------------------------------------
set_range 40000 65535
# (TWSHIM_LINGER=0 keeps a client action on, so the exit summary is printed)
pinned_probe above-none 7004 20 TWSHIM_PORTS=above TWSHIM_LINGER=0
assert_eq "above with ephemeral ending at 65535: error lines" \
	"$(grep -c 'error: .*TWSHIM_PORTS=above.*no port above' "$ERRLOG")" 1
assert_eq "above with ephemeral ending at 65535: pinned" "$(tw_field "$SUMMARY" pinned)" 0
assert_eq "above with ephemeral ending at 65535: failures" "$(tw_field "$LINE" failed)" 0
set_range 40000 40009

sysctl -qw net.ipv4.ip_local_reserved_ports=50000-50009 || fail "cannot set ip_local_reserved_ports"
pinned_probe all-reserved 7005 5 TWSHIM_PORTS=50000-50009 TWSHIM_LINGER=0
assert_eq "range all reserved: error lines" "$(grep -c 'error: .*reserved' "$ERRLOG")" 1
assert_eq "range all reserved: pinned" "$(tw_field "$SUMMARY" pinned)" 0
assert_eq "range all reserved: ports outside the ephemeral range" "$(peer_ports S | count_outside 40000 40009 '')" 0
sysctl -qw net.ipv4.ip_local_reserved_ports= || fail "cannot clear ip_local_reserved_ports"

pinned_probe overlap 7006 500 TWSHIM_PORTS=40005-40100 TWSHIM_LOG=warn
assert_eq "overlapping range: warning lines" "$(grep -c 'warn: .*overlaps the ephemeral range' "$ERRLOG")" 1
assert_eq "overlapping range: failures" "$(tw_field "$LINE" failed)" 0
assert_eq "overlapping range: ports outside 40005-40100" "$(peer_ports S | count_outside 40005 40100 '')" 0

# --- a listener inside the pinned range ----------------------------------------
tw_server_start L -a 0.0.0.0 -p 65523 -m reply -t 120
pinned_probe listener 7009 1000 TWSHIM_PORTS=65520-65529
assert_eq "listener on 65523: failures" "$(tw_field "$LINE" failed)" 0
assert_eq "listener on 65523: connections from port 65523" "$(peer_ports S | grep -c '^65523$')" 0
assert_eq "listener on 65523: ports outside 65520-65529" "$(peer_ports S | count_outside 65520 65529 '')" 0
assert_eq "listener on 65523: distinct ports used" "$(peer_ports S | sort -u | wc -l)" 9
assert_ge "listener on 65523: busy-port retries counted" "$(tw_field "$SUMMARY" pin_retries)" 1
assert_eq "listener on 65523: fallbacks" "$(tw_field "$SUMMARY" pin_fallback)" 0
tw_server_stop L

tw_done
