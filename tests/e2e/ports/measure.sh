#!/usr/bin/env bash
# measure: cost of pinning (not a pass/fail test; run by hand, as root,
# from a build directory):
#   TWSHIM_LIB=build-X/lib/libtwshim.so TWTEST_SERVER=build-X/tests/e2e/twtest-server \
#   PINTOOL=build-X/tests/e2e/ports/pintool bash tests/e2e/ports/measure.sh
# Prints connect() cost (pintool bench: the program sets SO_LINGER {1,0}
# itself, so no TIME_WAIT accumulates in any run):
#   1. plain / library loaded with nothing to do / pinned to `above`;
#   2. pinned to a 1000-port range with 90% of it held by other sockets:
#      a) bound without SO_REUSEADDR by another process (bind: EADDRINUSE)
#      b) connected to the same destination by another pinned process
#         (bind succeeds, connect: EADDRNOTAVAIL, socket replaced).

if [[ -z ${TW_MEASURE_NS:-} ]]; then
	export TW_MEASURE_NS=1
	exec unshare -n -- bash "$0" "$@"
fi
set -u
ip link set lo up
sysctl -qw net.ipv4.ip_local_port_range="32768 60999" net.ipv4.tcp_tw_reuse=0
N=${N:-20000}
T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

server() { # PORT
	mkfifo "$T/ready.$1"
	"$TWTEST_SERVER" -p "$1" -m reply -t 600 -r 3 -o /dev/null 3>"$T/ready.$1" &
	read -r _ <"$T/ready.$1"
}
bench() { # LABEL [env...]
	local label=$1 log=$T/log.$RANDOM
	shift
	printf '%-44s %s  %s\n' "$label" \
		"$(env "$@" TWSHIM_LOG=info TWSHIM_LOG_FILE="$log" "$PINTOOL" bench -n "$N" 127.0.0.1 "$PORT")" \
		"$(grep -ho 'pinned=[0-9]* pin_retries=[0-9]* pin_replaced=[0-9]* pin_fallback=[0-9]*' "$log" 2>/dev/null)"
}

PORT=7100
server $PORT
bench "plain"
bench "library, nothing to do" LD_PRELOAD="$TWSHIM_LIB" TWSHIM_PORTS=off
bench "library, TWSHIM_PORTS=above (61000-65535)" LD_PRELOAD="$TWSHIM_LIB" TWSHIM_PORTS=above
bench "plain (again)"
bench "library, TWSHIM_PORTS=above (again)" LD_PRELOAD="$TWSHIM_LIB" TWSHIM_PORTS=above

# 2a: 900 of 50000-50999 bound (no SO_REUSEADDR) by another process
mkfifo "$T/held" "$T/go"
python3 -c '
import random, socket, sys
ports = random.sample(range(50000, 51000), 900)
socks = []
for p in ports:
    s = socket.socket(); s.bind(("0.0.0.0", p)); socks.append(s)
print(len(socks), flush=True)
sys.stdin.read()' <"$T/go" >"$T/held" &
holder=$!
exec {go}>"$T/go"
read -r held <"$T/held"
echo "held by bound sockets: $held of 1000"
bench "90% held (bound, EADDRINUSE), N=$N" LD_PRELOAD="$TWSHIM_LIB" TWSHIM_PORTS=50000-50999
exec {go}>&-
wait "$holder"

# 2b: 900 connections of another pinned process to the same destination
PORT=7101
server $PORT
mkfifo "$T/go2" "$T/held2"
env LD_PRELOAD="$TWSHIM_LIB" TWSHIM_PORTS=50000-50999 "$PINTOOL" hold -n 900 127.0.0.1 $PORT \
	<"$T/go2" >"$T/held2" &
exec {go2}>"$T/go2"
read -r held <"$T/held2"
echo "held by another pinned process, same destination: $held"
bench "90% held (same dest, EADDRNOTAVAIL), N=$N" LD_PRELOAD="$TWSHIM_LIB" TWSHIM_PORTS=50000-50999
exec {go2}>&-
