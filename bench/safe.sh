#!/bin/bash
# TWSHIM_LINGER=safe benchmarks: prints a Markdown section on stdout.
# bench/run.sh includes it in bench/REPORT.md; it also runs on its own:
#
#   bench/safe.sh       (root: unshare -n, sysctls; uses build-bench, or
#                        TWBENCH_BUILDDIR, which must already be built)
#
# 1. Cost of one probe cycle (socket, connect, accept, client close, server
#    close; bench-cycle --count) with the close made TIME_WAIT-free by the
#    program itself (SO_LINGER {1,0}: the reference; TCP_LINGER2 -1) or by
#    the library (TWSHIM_LINGER=0; safe).  Runs alternate, median.  A plain
#    close is no baseline here: its TIME_WAIT entries pile up and slow the
#    kernel's port search (measured: 30x slower per cycle after 20,000).
# 2. Sustained rate for 2 s in a 1,000-port and a 10-port
#    ip_local_port_range (tcp_tw_reuse=0), against a peer that closes at
#    once and one that keeps its sockets open (its kernel then delays the
#    ACK of our FIN, and safe's port stays held until that ACK): conn/s,
#    failed connects, TIME_WAIT left, nstat TcpExtDelayedACKs.  Each run in
#    its own network namespace.
set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${TWBENCH_BUILDDIR:-$SRC/build-bench}
CYCLE=$BUILD/bench/bench-cycle
LIB=$BUILD/lib/libtwshim.so
RUNS=${TWBENCH_RUNS:-5}
QUICK=${TWBENCH_QUICK:-0}
N=$( ((QUICK)) && echo 2000 || echo 20000)
SECS=$( ((QUICK)) && echo 1 || echo 2)
((QUICK)) && RUNS=2
for f in "$CYCLE" "$LIB"; do
	[[ -x $f || -f $f ]] || { echo "safe.sh: $f not built" >&2; exit 1; }
done
((EUID == 0)) || { echo "safe.sh: must run as root" >&2; exit 1; }

# in_ns RANGE CMD...: run CMD in a fresh namespace with that port range.
in_ns() {
	local range=$1
	shift
	unshare -n -- env TWB_RANGE="$range" bash -c '
		ip link set lo up && sysctl -qw net.ipv4.ip_local_port_range="$TWB_RANGE" \
			net.ipv4.tcp_tw_reuse=0 || exit 1
		nstat -n >/dev/null 2>&1
		out=$("$@") || exit 1
		echo "$out tw=$(ss -Htan state time-wait | wc -l)" \
			"delack=$(nstat 2>/dev/null | awk "/TcpExtDelayedACKs / {print \$2}")"' in_ns "$@"
}
field() { local kv; for kv in $1; do [[ $kv == "$2="* ]] && { echo "${kv#*=}"; return; }; done; echo NA; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "NA"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# --- 1. cost per cycle ---------------------------------------------------------
declare -A COST
modes=(self0 self2 lib0 libsafe)
declare -A LABEL=(
	[base]="plain close (TIME_WAIT left)"
	[self0]="program sets SO_LINGER {1,0}"
	[self2]="program sets TCP_LINGER2 -1"
	[lib0]="library, TWSHIM_LINGER=0"
	[libsafe]="library, TWSHIM_LINGER=safe"
)
cmd_for() {
	case $1 in
	base) echo "$CYCLE --count $N" ;;
	self0) echo "$CYCLE --count $N --linger-self" ;;
	self2) echo "$CYCLE --count $N --linger2-self" ;;
	lib0) echo "env LD_PRELOAD=$LIB TWSHIM_LINGER=0 $CYCLE --count $N" ;;
	libsafe) echo "env LD_PRELOAD=$LIB TWSHIM_LINGER=safe $CYCLE --count $N" ;;
	esac
}
for ((r = 0; r < RUNS; r++)); do
	order=("${modes[@]}")
	((r % 2)) && order=($(printf '%s\n' "${modes[@]}" | tac))
	for m in "${order[@]}"; do
		# a wide range: N cycles of the baseline leave N TIME_WAIT
		# shellcheck disable=SC2046
		line=$(in_ns "32768 60999" $(cmd_for "$m"))
		COST[$m]+="$(field "$line" us_per_cycle) "
	done
done

echo "### TWSHIM_LINGER=safe: cost per cycle and sustained rates (bench/safe.sh)"
echo
echo "One probe cycle in one process (socket, connect to a loopback listener, accept, client close, server close), median of $RUNS alternating runs of $N cycles each:"
echo
echo "| close made TIME_WAIT-free by | µs per cycle | vs the program's own SO_LINGER {1,0} |"
echo "| --- | --- | --- |"
b=$(tr ' ' '\n' <<<"${COST[self0]}" | grep . | median)
for m in "${modes[@]}"; do
	v=$(tr ' ' '\n' <<<"${COST[$m]}" | grep . | median)
	echo "| ${LABEL[$m]} | $v | $(awk -v a="$v" -v b="$b" 'BEGIN {if (a == "NA" || b == "NA" || b == 0) print "NA"; else printf "%+.2f µs\n", a - b}') |"
done

# --- 2. sustained ------------------------------------------------------------------
echo
echo "Sustained for $SECS s (one run each, own namespace, \`tcp_tw_reuse=0\`); \"peer keeps open\": the server side keeps its accepted sockets open (\`--peer-open 5000\`), so its kernel delays the ACK of our FIN:"
echo
echo "| port range | peer | mode | conn/s | failed connects | TIME_WAIT left | delayed ACKs (nstat) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for range in "60000 60999|1,000 ports" "60990 60999|10 ports"; do
	for peer in "0|closes at once" "5000|keeps open"; do
		for m in "base|no library" "self2|program sets TCP_LINGER2 -1" "libsafe|TWSHIM_LINGER=safe" \
			"lib0|TWSHIM_LINGER=0"; do
			c=$(cmd_for "${m%%|*}" | sed "s/--count $N/--seconds $SECS --peer-open ${peer%%|*}/")
			# shellcheck disable=SC2086
			line=$(in_ns "${range%%|*}" $c 2>/dev/null)
			echo "| ${range#*|} | ${peer#*|} | ${m#*|} | $(field "$line" conn_per_s) | $(field "$line" fail) | $(field "$line" tw) | $(field "$line" delack) |"
		done
	done
done
echo
echo "With \`safe\` a port is free again only when the peer acknowledges our FIN (then the kernel answers with RST: no TIME_WAIT). A peer that closes at once sends that ACK with its own FIN; one that does not close delays it (\`tcp_fin()\` enters delayed-ACK pingpong mode), so in a 10-port range the rate is bounded by 10 ports per delayed-ACK interval. \`TWSHIM_LINGER=0\` frees the port at close, at the price of unsent data."
