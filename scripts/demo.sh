#!/usr/bin/env bash
# twshim in one screen: the legacy probe makes 2000 short connections in a
# private network namespace with 10 ephemeral ports and tcp_tw_reuse=0,
# first as it is, then under LD_PRELOAD=libtwshim.so with linger 0, safe,
# pinning above the ephemeral range, and safe + pinning; then linger 0, safe
# and safe + pinning against a server that notices the close 100 ms late
# (safe holds a port until the peer acknowledges the FIN: 10 ports are too
# few for that, the pinned range is not).
#
#   scripts/demo.sh [COUNT]        (root; builds into ./build if needed)
#
# Installs only what the demo needs (scripts/deps.sh demo); the test
# toolchain comes with scripts/test.sh.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${TWSHIM_BUILD_DIR:-build}
[[ $build == /* ]] || build=$PWD/$build
count=${1:-2000}
[[ $count =~ ^[0-9]+$ ]] || {
	echo "usage: scripts/demo.sh [COUNT]" >&2
	exit 2
}

# quiet CMD...: no output unless it fails.
quiet() {
	local out
	out=$("$@" 2>&1) || {
		printf '%s\n' "$out" >&2
		echo "demo.sh: failed: $*" >&2
		exit 1
	}
}

step() { printf 'demo: %s\n' "$*"; }

if [[ ${1:-} != --inside && ${2:-} != --inside ]]; then
	# Root first: the demo shrinks the port range of a private network
	# namespace, which needs it; say so before spending time on a build.
	if ((EUID != 0)) || ! unshare -n true 2>/dev/null; then
		echo "demo.sh: the demo needs root (it creates a private network namespace with unshare -n):" >&2
		echo "demo.sh:   sudo scripts/demo.sh${1:+ $1}" >&2
		exit 1
	fi
	step "installing packages the demo needs (scripts/deps.sh demo)..."
	quiet bash scripts/deps.sh demo
	if [[ ! -f $build/build.ninja ]]; then
		step "configuring the build in $build (meson setup)..."
		quiet meson setup "$build"
	fi
	step "building the library, the twshim command, the probe and the test server (ninja)..."
	quiet ninja -C "$build" lib/libtwshim.so tools/twshim examples/probe tests/e2e/twtest-server
	step "running the probe $count times per row in a private network namespace..."
	echo
	exec unshare -n -- bash "${BASH_SOURCE[0]}" "$count" --inside
fi

# --- inside the private namespace ---------------------------------------------
lib=$build/lib/libtwshim.so
probe=$build/examples/probe
server=$build/tests/e2e/twtest-server
for f in "$lib" "$probe" "$server"; do
	[[ -e $f ]] || {
		echo "demo.sh: $f was not built (tests disabled in $build?)" >&2
		exit 1
	}
done

ip link set lo up
sysctl -qw net.ipv4.ip_local_port_range="40000 40009" net.ipv4.tcp_tw_reuse=0
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# run MODE PORT [env...]: one probe run against a fresh server; prints a row
run() {
	local mode=$1 port=$2
	shift 2
	mkfifo "$tmp/ready"
	"$server" -p "$port" -m reply ${DELAY:+-d "$DELAY"} -t 120 -r 3 -o "$tmp/server.$port" 3>"$tmp/ready" &
	local pid=$! ready line
	read -r -t 30 ready <"$tmp/ready" || true
	rm -f "$tmp/ready"
	[[ -n $ready ]] || {
		echo "demo.sh: test server did not start" >&2
		exit 1
	}
	line=$(env "$@" "$probe" -q -n "$count" -s hello -r 127.0.0.1 "$port" || true)
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" || true
	local tw
	tw=$(ss -Htan state time-wait dport = ":$port" | wc -l)
	local attempted ok failed ena
	attempted=$(field "$line" attempted)
	ok=$(field "$line" ok)
	failed=$(field "$line" failed)
	ena=$(field "$line" eaddrnotavail)
	printf '%-32s | %9s | %6s | %6s | %13s | %15s\n' "$mode" "$attempted" "$ok" "$failed" "$ena" "$tw"
}

field() {
	local kv
	for kv in $1; do
		[[ $kv == "$2="* ]] && {
			printf '%s' "${kv#*=}"
			return
		}
	done
	printf '?'
}

echo "probe: $count connect/send/read/close cycles to 127.0.0.1"
echo "namespace: ip_local_port_range=$(tr -s '\t' ' ' </proc/sys/net/ipv4/ip_local_port_range)," \
	"tcp_tw_reuse=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)"
echo
printf '%-32s | %9s | %6s | %6s | %13s | %15s\n' mode attempted ok failed EADDRNOTAVAIL "TIME_WAIT left"
printf '%s\n' "---------------------------------+-----------+--------+--------+---------------+----------------"
run "plain" 7001
run "TWSHIM_LINGER=0" 7002 LD_PRELOAD="$lib" TWSHIM_LINGER=0
run "TWSHIM_LINGER=safe" 7003 LD_PRELOAD="$lib" TWSHIM_LINGER=safe
run "TWSHIM_PORTS=above" 7004 LD_PRELOAD="$lib" TWSHIM_PORTS=above
run "TWSHIM_PORTS=above LINGER=safe" 7005 LD_PRELOAD="$lib" TWSHIM_PORTS=above TWSHIM_LINGER=safe
echo "the same against a server that notices the client's close 100 ms late:"
DELAY=100 run "TWSHIM_LINGER=0" 7006 LD_PRELOAD="$lib" TWSHIM_LINGER=0
DELAY=100 run "TWSHIM_LINGER=safe" 7007 LD_PRELOAD="$lib" TWSHIM_LINGER=safe
DELAY=100 run "TWSHIM_PORTS=above LINGER=safe" 7008 LD_PRELOAD="$lib" TWSHIM_PORTS=above TWSHIM_LINGER=safe

cat <<'EOF'

legend:
  mode            plain: the probe as it is; the other rows: the same probe under
                  LD_PRELOAD=libtwshim.so with the TWSHIM_* variables shown
  attempted / ok  connections tried / completed with the server's reply
  failed          connections that failed, for any reason
  EADDRNOTAVAIL   of those, connect() found no free source port (the range is
                  full of TIME_WAIT)
  TIME_WAIT left  client-side TIME_WAIT sockets the kernel holds after the run (ss)

next:
  build/tools/twshim run --linger=safe --ports=above -- PROBE ARGS...
                  run your own probe with twshim (it uses the library built beside it)
  build/tools/twshim run --dry-run --linger=safe -- PROBE ARGS...
                  show the environment and the command it would run
  build/tools/twshim doctor PROBE        can the library reach it? (static, Go, setuid)
  build/tools/twshim stat --by-dest      TIME_WAIT and ephemeral range use, now
  build/tools/twshim stat --prom         the same numbers for Prometheus
  build/tools/twshim check FILE.env      validate an env file before deploying it
  man -l doc/twshim.1; man -l doc/libtwshim.7
EOF
