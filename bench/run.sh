#!/bin/bash
# twshim benchmarks: build, run everything in a private network namespace,
# print a table and write bench/REPORT.md.
#
#   bench/run.sh              (as root: it needs unshare -n and sysctls)
#
# Environment:
#   TWBENCH_BUILDDIR  build directory (default: <source>/build-bench, set
#                     up with --buildtype=release if it does not exist)
#   TWBENCH_REPORT    where to write the report (default: bench/REPORT.md)
#   TWBENCH_RUNS      runs per figure (default 7)
#
# Benchmarks, not tests: the script exits 0 whether or not a target is met;
# the report says met or missed.  It exits non-zero only when it cannot run
# at all (no build, no namespace).  Every figure is the median of several
# runs; baseline and subject runs alternate (A B, B A, A B, ...) so that
# drift of the machine hits both, and ratios and differences are taken per
# pair of neighbouring runs, then their median is reported.

set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${TWBENCH_BUILDDIR:-$SRC/build-bench}
REPORT=${TWBENCH_REPORT:-$SRC/bench/REPORT.md}
RUNS=${TWBENCH_RUNS:-7}
# TWBENCH_QUICK=1: a smoke run of the script itself (tiny counts, 2 runs);
# its numbers mean nothing.
QUICK=${TWBENCH_QUICK:-0}
((QUICK)) && RUNS=2
scale() { if ((QUICK)); then echo $(($1 / 20 > 0 ? $1 / 20 : 1)); else echo "$1"; fi; }

say() { printf 'bench: %s\n' "$*" >&2; }

# --- outside the namespace: build, then re-enter through unshare -n --------

if [[ -z ${TWBENCH_IN_NS:-} ]]; then
	if ((EUID != 0)); then
		say "must run as root (unshare -n, sysctls in the private namespace)"
		exit 1
	fi
	if [[ ! -f $BUILD/build.ninja ]]; then
		meson setup "$BUILD" "$SRC" --buildtype=release >&2 || exit 1
	fi
	targets=(lib/libtwshim.so bench/bench-close bench/bench-cycle bench/bench-spawn
		 bench/bench-mem bench/libtwbench-empty.so)
	if ! ninja -C "$BUILD" "${targets[@]}" >&2; then
		# The tree is shared and may be broken for a moment by someone
		# else's half-written file: measure the last good build, and say so.
		for t in "${targets[@]}"; do
			[[ -e $BUILD/$t ]] || { say "build failed, no previous build"; exit 1; }
		done
		say "build failed: measuring the previous build (the report says so)"
		export TWBENCH_STALE=1
	fi
	# Optional pieces: the figures that need them say "not measured".
	ninja -C "$BUILD" bench/bench-cycle-static >&2 || say "static probe not built"
	ninja -C "$BUILD" tools/twshim >&2 || say "twshim command not built"
	export TWBENCH_IN_NS=1
	exec unshare -n -- "$0" "$@"
fi

ip link set lo up || { say "cannot bring up loopback in the private namespace"; exit 1; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

BB=$BUILD/bench
LIB=$BUILD/lib/libtwshim.so
EMPTY=$BB/libtwbench-empty.so
TWSHIM=$BUILD/tools/twshim
RES=$(mktemp -d /tmp/twbench.XXXXXX)
TMPF=$(mktemp /dev/shm/twbench.XXXXXX)
trap 'rm -rf "$RES" "$TMPF"' EXIT
head -c 4096 /dev/zero >"$TMPF"

# The full policy set: every behaviour on, rules to evaluate, the pinned
# range resolved from /proc at load.  Loopback destinations are selected.
FULL=(TWSHIM_LINGER=safe TWSHIM_DRAIN_MS=200 TWSHIM_PORTS=above TWSHIM_REUSEADDR=1
      TWSHIM_REUSEPORT=0 'TWSHIM_MATCH=127.0.0.0/8,10.0.0.0/8:80-443,[::1]:5000'
      'TWSHIM_EXCLUDE=127.0.0.2,*:22' TWSHIM_LOG=error)

with_lib() { env LD_PRELOAD="$LIB" "$@"; }

# --- bookkeeping -------------------------------------------------------------

# run_role FIG ROLE I: run the function FIG__ROLE, keep its output.
run_role() {
	local out
	if ! out=$("$1__$2" 2>"$RES/$1.$2.$3.err"); then
		say "$1 ($2, run $3) failed: $(tail -n 2 "$RES/$1.$2.$3.err" | tr '\n' ' ')"
		out=failed
	fi
	printf '%s\n' "$out" >"$RES/$1.$2.$3"
}

# interleave FIG RUNS ROLE...: RUNS rounds; round i starts at role i mod n,
# so no role is always first.
interleave() {
	local fig=$1 runs=$2 i j n
	shift 2
	local roles=("$@")
	n=${#roles[@]}
	for ((i = 0; i < runs; i++)); do
		for ((j = 0; j < n; j++)); do
			run_role "$fig" "${roles[(i + j) % n]}" "$i"
		done
	done
	echo "$runs" >"$RES/$fig.runs"
}

# values FIG ROLE KEY: one value per run, in run order (NA when missing).
values() {
	local runs i v
	runs=$(cat "$RES/$1.runs" 2>/dev/null || echo 0)
	for ((i = 0; i < runs; i++)); do
		v=$(grep -o "\(^\| \)$3=[^ ]*" "$RES/$1.$2.$i" 2>/dev/null | head -n 1 | cut -d= -f2)
		echo "${v:-NA}"
	done
}

# median of the numbers on stdin (NA lines ignored; NA if none)
median() {
	grep -v '^NA$' | sort -g | awk '{a[NR] = $1}
		END { if (NR == 0) print "NA"; else if (NR % 2) print a[(NR + 1) / 2];
		      else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# quartile Q (25 or 75) of the numbers on stdin, nearest rank
quartile() {
	grep -v '^NA$' | sort -g | awk -v q="$1" '{a[NR] = $1}
		END { if (NR == 0) { print "NA"; exit } r = int(q / 100 * NR + 0.999);
		      if (r < 1) r = 1; print a[r] }'
}

# per_pair OP FIG KEY ROLE_A ROLE_B: B/A (OP=ratio) or B-A (OP=diff) per run
per_pair() {
	paste <(values "$2" "$4" "$3") <(values "$2" "$5" "$3") | awk -v op="$1" '
		$1 == "NA" || $2 == "NA" || ($1 == 0 && op == "ratio") { print "NA"; next }
		{ print (op == "ratio" ? $2 / $1 : $2 - $1) }'
}

fmt() { # fmt PRINTF_FORMAT VALUE  (NA passes through)
	if [[ $2 == NA || -z $2 ]]; then echo NA; else printf "$1" "$2"; fi
}

# check VALUE OP LIMIT -> met / missed / "not measured"
check() {
	if [[ $1 == NA || -z $1 ]]; then echo "not measured"; return; fi
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? (v <= l) : (v >= l); print ok ? "met" : "**missed**" }'
}

both() { # both VERDICT VERDICT -> met only if both met
	if [[ $1 == met && $2 == met ]]; then echo met
	elif [[ $1 == "not measured" || $2 == "not measured" ]]; then echo "not measured"
	else echo "**missed**"; fi
}

ROWS=() # markdown table rows
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }

# --- 1. close() of an fd the library never recorded -------------------------

N_CLOSE_FILE=$(scale 500000)
N_CLOSE_SOCK=$(scale 100000)
close_file__base() { "$BB/bench-close" file "$TMPF" $N_CLOSE_FILE; }
close_file__lib() { with_lib "${FULL[@]}" "$BB/bench-close" file "$TMPF" $N_CLOSE_FILE; }
close_sock__base() { "$BB/bench-close" socket $N_CLOSE_SOCK; }
close_sock__lib() { with_lib "${FULL[@]}" "$BB/bench-close" socket $N_CLOSE_SOCK; }
# In-process A/B: batches alternate between close() and libc's close called
# directly.  Without the library this measures the method's bias, which is
# subtracted (per pair of neighbouring runs).
ab_file__base() { "$BB/bench-close" --ab file "$TMPF" $N_CLOSE_FILE; }
ab_file__lib() { with_lib "${FULL[@]}" "$BB/bench-close" --ab file "$TMPF" $N_CLOSE_FILE; }
ab_sock__base() { "$BB/bench-close" --ab socket $N_CLOSE_SOCK; }
ab_sock__lib() { with_lib "${FULL[@]}" "$BB/bench-close" --ab socket $N_CLOSE_SOCK; }

# Instructions (callgrind, user space only) and system calls (perf
# tracepoint) per loop iteration: the difference between a long and a short
# run removes start-up and exit.
count_per_iter() { # count_per_iter MEASURE KIND(file|socket) WITH_LIB(0|1)
	local m=$1 kind=$2 lib=$3 n1=1000 n2=21000 a b pre=()
	local args1 args2
	if [[ $kind == file ]]; then args1=(file "$TMPF" $n1); args2=(file "$TMPF" $n2)
	else args1=(socket $n1); args2=(socket $n2); fi
	((lib)) && pre=(env LD_PRELOAD="$LIB" "${FULL[@]}")
	if [[ $m == instr ]]; then
		a=$("${pre[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			"$BB/bench-close" "${args1[@]}" 2>&1 >/dev/null | awk '/Collected :/ {print $NF}')
		b=$("${pre[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			"$BB/bench-close" "${args2[@]}" 2>&1 >/dev/null | awk '/Collected :/ {print $NF}')
	else
		a=$(perf stat -x, -e raw_syscalls:sys_enter -- "${pre[@]}" "$BB/bench-close" \
			"${args1[@]}" 2>&1 >/dev/null | awk -F, '/raw_syscalls/ {print $1}')
		b=$(perf stat -x, -e raw_syscalls:sys_enter -- "${pre[@]}" "$BB/bench-close" \
			"${args2[@]}" 2>&1 >/dev/null | awk -F, '/raw_syscalls/ {print $1}')
	fi
	if [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]]; then
		awk -v a="$a" -v b="$b" -v n=$((n2 - n1)) 'BEGIN { printf "%.2f", (b - a) / n }'
	else
		echo NA
	fi
}

# added COUNT: with library minus without, per close
added_count() {
	local base lib
	base=$(count_per_iter "$1" "$2" 0)
	lib=$(count_per_iter "$1" "$2" 1)
	if [[ $base == NA || $lib == NA ]]; then echo NA; return; fi
	awk -v a="$base" -v b="$lib" 'BEGIN { printf "%.2f", b - a }'
}

PERF_INSTR="not available"
if perf stat -x, -e instructions true 2>&1 | grep -q '^[0-9]'; then
	PERF_INSTR="available"
elif command -v perf >/dev/null; then
	PERF_INSTR="not supported here (perf has no hardware counters in this machine)"
fi

say "close(): $RUNS+4 runs each, file and socket"
interleave close_file $((RUNS + 4)) base lib
interleave close_sock $RUNS base lib
interleave ab_file "$RUNS" base lib
interleave ab_sock "$RUNS" base lib
for kind in file socket; do
	if command -v valgrind >/dev/null; then
		eval "INSTR_$kind=\$(added_count instr $kind)"
	else
		eval "INSTR_$kind=NA"
	fi
	if perf stat -x, -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
		eval "SYSC_$kind=\$(added_count sysc $kind)"
	else
		eval "SYSC_$kind=NA"
	fi
done

close_row() { # close_row FIG AB_FIG LABEL KIND
	local fig=$1 ab=$2 base lib d q1 q3 instr sysc v1 v2 a hook direct
	base=$(values "$fig" base ns_per_close | median)
	lib=$(values "$fig" lib ns_per_close | median)
	d=$(per_pair diff "$fig" ns_per_close base lib | median)
	q1=$(per_pair diff "$fig" ns_per_close base lib | quartile 25)
	q3=$(per_pair diff "$fig" ns_per_close base lib | quartile 75)
	a=$(per_pair diff "$ab" ns_added base lib | median)
	hook=$(values "$ab" lib ns_hook | median)
	direct=$(values "$ab" lib ns_direct | median)
	eval "instr=\$INSTR_$4 sysc=\$SYSC_$4"
	v1=$(check "$a" "<=" 5)
	v2=$(check "$sysc" "<=" 0.01)
	row "$3" "$(fmt %.1f "$base") ns (no library); $(fmt %.1f "$direct") ns (libc close called directly, same process)" \
		"$(fmt %.1f "$lib") ns; $(fmt %.1f "$hook") ns (interposed, same process)" \
		"**$(fmt %+.1f "$a") ns/call** (in-process A/B, bias removed); separate processes: $(fmt %+.1f "$d") ns (pairs IQR $(fmt %+.1f "$q1")…$(fmt %+.1f "$q3")); $(fmt %+.2f "$instr") instructions/call, $(fmt %+.2f "$sysc") syscalls/call" \
		"≤ 5 ns, no syscall added" "$(both "$v1" "$v2")"
}
close_row close_file ab_file "\`close()\` of an unrecorded regular file (tmpfs), full policy" file
close_row close_sock ab_sock "\`close()\` of an unrecorded TCP socket, full policy" socket

# --- 2-4. connect + close cycles on loopback --------------------------------

N_CYCLE=$(scale 20000)
PIN_RANGE=61000-61999
cyc_linger0__base() { "$BB/bench-cycle" --count $N_CYCLE --linger-self; }
cyc_linger0__lib() { with_lib TWSHIM_LINGER=0 "$BB/bench-cycle" --count $N_CYCLE; }
cyc_safe__base() { with_lib TWSHIM_LINGER=0 "$BB/bench-cycle" --count $N_CYCLE; }
cyc_safe__lib() { with_lib TWSHIM_LINGER=safe "$BB/bench-cycle" --count $N_CYCLE; }
cyc_pin__base() { "$BB/bench-cycle" --count $N_CYCLE --linger-self --bind-self $PIN_RANGE; }
cyc_pin__lib() { with_lib TWSHIM_PORTS=$PIN_RANGE "$BB/bench-cycle" --count $N_CYCLE --linger-self; }
# 90% of the 1000-port range held open to the same destination
cyc_hold__base() { "$BB/bench-cycle" --count $N_CYCLE --linger-self --bind-self $PIN_RANGE --hold 900 --latency; }
cyc_hold__lib() { with_lib TWSHIM_PORTS=$PIN_RANGE "$BB/bench-cycle" --count $N_CYCLE --linger-self --hold 900 --latency; }

say "connect cycles: linger 0, safe, pinned, pinned with 90% held"
for fig in cyc_linger0 cyc_safe cyc_pin cyc_hold; do
	interleave $fig "$RUNS" base lib
done

cycle_cells() { # cycle_cells FIG -> "base|lib|ratio|diff"
	echo "$(values "$1" base us_per_cycle | median)|$(values "$1" lib us_per_cycle | median)|$(per_pair ratio "$1" us_per_cycle base lib | median)|$(per_pair diff "$1" us_per_cycle base lib | median)"
}
IFS='|' read -r b l r d <<<"$(cycle_cells cyc_linger0)"
row "connect + close cycle, \`TWSHIM_LINGER=0\` (baseline: program sets SO_LINGER {1,0})" \
	"$(fmt %.2f "$b") µs" "$(fmt %.2f "$l") µs" "$(fmt %.3f "$r")× ($(fmt %+.2f "$d") µs)" "≤ 1.05×" "$(check "$r" "<=" 1.05)"
IFS='|' read -r b l r d <<<"$(cycle_cells cyc_safe)"
row "connect + close cycle, \`TWSHIM_LINGER=safe\` (baseline: \`TWSHIM_LINGER=0\`)" \
	"$(fmt %.2f "$b") µs" "$(fmt %.2f "$l") µs" "$(fmt %+.2f "$d") µs/cycle ($(fmt %.3f "$r")×)" "≤ 1.5 µs added" "$(check "$d" "<=" 1.5)"
IFS='|' read -r b l r d <<<"$(cycle_cells cyc_pin)"
row "pinned connect cycle, \`TWSHIM_PORTS=$PIN_RANGE\` (baseline: program binds the port itself)" \
	"$(fmt %.2f "$b") µs" "$(fmt %.2f "$l") µs" "$(fmt %.3f "$r")× ($(fmt %+.2f "$d") µs)" "≤ 1.10×" "$(check "$r" "<=" 1.10)"
hb50=$(values cyc_hold base p50_ns | median); hb99=$(values cyc_hold base p99_ns | median)
hl50=$(values cyc_hold lib p50_ns | median); hl99=$(values cyc_hold lib p99_ns | median)
htail=$(paste <(values cyc_hold lib p50_ns) <(values cyc_hold lib p99_ns) |
	awk '$1 == "NA" || $2 == "NA" || $1 == 0 { print "NA"; next } { print $2 / $1 }' | median)
row "pinned cycle with 900 of the 1000 ports held open (same destination)" \
	"p50 $(fmt %.1f "$(awk -v v="$hb50" 'BEGIN{print v/1000}')") µs, p99 $(fmt %.1f "$(awk -v v="$hb99" 'BEGIN{print v/1000}')") µs" \
	"p50 $(fmt %.1f "$(awk -v v="$hl50" 'BEGIN{print v/1000}')") µs, p99 $(fmt %.1f "$(awk -v v="$hl99" 'BEGIN{print v/1000}')") µs" \
	"p99/p50 = $(fmt %.2f "$htail") (subject)" "p99 ≤ 3× p50" "$(check "$htail" "<=" 3)"

# --- 5. process start --------------------------------------------------------

N_SPAWN=$(scale 1000)
spawn__none() { "$BB/bench-spawn" $N_SPAWN -- /bin/true; }
spawn__empty() { "$BB/bench-spawn" $N_SPAWN -e LD_PRELOAD="$EMPTY" -- /bin/true; }
spawn__full() {
	local e=() v
	for v in "${FULL[@]}"; do e+=(-e "$v"); done
	"$BB/bench-spawn" $N_SPAWN -e LD_PRELOAD="$LIB" "${e[@]}" -- /bin/true
}
say "process start: /bin/true x $N_SPAWN, no preload / empty library / twshim"
interleave spawn "$RUNS" none empty full
sn=$(values spawn none us_per_spawn | median)
se=$(values spawn empty us_per_spawn | median)
sf=$(values spawn full us_per_spawn | median)
sr=$(per_pair ratio spawn us_per_spawn empty full | median)
sd=$(per_pair diff spawn us_per_spawn none full | median)
sde=$(per_pair diff spawn us_per_spawn none empty | median)
row "process start \`/bin/true\`, full policy set (baseline: empty preloaded library; no preload: $(fmt %.1f "$sn") µs)" \
	"$(fmt %.1f "$se") µs" "$(fmt %.1f "$sf") µs" \
	"$(fmt %.3f "$sr")× the empty library; $(fmt %+.1f "$sd") µs over no preload (empty library alone: $(fmt %+.1f "$sde") µs)" \
	"≤ 1.10× and ≤ 100 µs over no preload" "$(both "$(check "$sr" "<=" 1.10)" "$(check "$sd" "<=" 100)")"

# --- 6. sustained short connections, 10-port ephemeral range ----------------

# Each run gets its own namespace: TIME_WAIT left by one run (60 s) must not
# reach the next.  Prints the program's line plus "tw=N" from the kernel.
sustain_ns() { # sustain_ns SECONDS [VAR=VALUE...]
	local secs=$1
	shift
	unshare -n -- env TWB_SECS="$secs" TWB_CYCLE="$BB/bench-cycle" TWB_LIB="$LIB" bash -c '
		ip link set lo up || exit 1
		sysctl -qw net.ipv4.ip_local_port_range="60990 60999" net.ipv4.tcp_tw_reuse=0 || exit 1
		if (($# > 0)); then
			out=$(env LD_PRELOAD="$TWB_LIB" "$@" "$TWB_CYCLE" --seconds "$TWB_SECS") || exit 1
		else
			out=$("$TWB_CYCLE" --seconds "$TWB_SECS") || exit 1
		fi
		echo "$out tw=$(ss -Htan state time-wait | wc -l)"' sustain "$@"
}
SUS_SECS=$( ((QUICK)) && echo 1 || echo 3)
sus_plain__run() { sustain_ns 1; }
sus_linger0__run() { sustain_ns $SUS_SECS TWSHIM_LINGER=0; }
sus_safe__run() { sustain_ns $SUS_SECS TWSHIM_LINGER=safe; }
sus_pin__run() { sustain_ns $SUS_SECS TWSHIM_PORTS=above; }
sus_safepin__run() { sustain_ns $SUS_SECS TWSHIM_LINGER=safe TWSHIM_PORTS=above; }

say "sustained connections, 10-port ephemeral range, tcp_tw_reuse=0"
interleave sus_plain 3 run
interleave sus_linger0 3 run
interleave sus_safe 3 run
interleave sus_pin 3 run
interleave sus_safepin 5 run

sum() { grep -v '^NA$' | awk '{s += $1} END {print NR ? s : "NA"}'; }
max() { grep -v '^NA$' | sort -g | tail -n 1 | grep . || echo NA; }
sus_cell() { # sus_cell FIG -> "conn/s|fail total|tw max|ok_before_first_fail median"
	echo "$(values "$1" run conn_per_s | median)|$(values "$1" run fail | sum)|$(values "$1" run tw | max)|$(values "$1" run ok_before_first_fail | median)"
}
IFS='|' read -r pc pf pt pb <<<"$(sus_cell sus_plain)"
SUS_TABLE=()
for m in "sus_plain|no library (1 s runs)" "sus_linger0|TWSHIM_LINGER=0" "sus_safe|TWSHIM_LINGER=safe" \
	 "sus_pin|TWSHIM_PORTS=above (normal close)" "sus_safepin|TWSHIM_LINGER=safe TWSHIM_PORTS=above"; do
	IFS='|' read -r c f t b <<<"$(sus_cell "${m%%|*}")"
	SUS_TABLE+=("| ${m#*|} | $(values "${m%%|*}" run conn_per_s | grep -vc '^NA$') | $(fmt %.0f "$c") | $f | $b | $t |")
done
IFS='|' read -r c f t b <<<"$(sus_cell sus_safepin)"
v1=$(check "$c" ">=" 20000)
v2=$(check "$f" "<=" 0)
v3=$(check "$t" "<=" 0)
row "sustained short connections for 3 s, 10-port \`ip_local_port_range\`, \`tcp_tw_reuse=0\`, \`safe\` + pinning (baseline: no library)" \
	"$(fmt %.0f "$pb") connections, then EADDRNOTAVAIL ($pf failures in 3×1 s)" \
	"$(fmt %.0f "$c") conn/s, $f failures, $t TIME_WAIT" "—" \
	"≥ 20,000 conn/s, 0 failures, 0 TIME_WAIT" "$(both "$v1" "$(both "$v2" "$v3")")"

# --- 6b. TWSHIM_LINGER=safe: cost per cycle, sustained rates (own script) -----

say "TWSHIM_LINGER=safe: cost per cycle and sustained rates (bench/safe.sh)"
SAFE_SECTION=$(TWBENCH_BUILDDIR=$BUILD TWBENCH_RUNS=$RUNS TWBENCH_QUICK=$QUICK bash "$SRC/bench/safe.sh") ||
	SAFE_SECTION="(bench/safe.sh failed: no figures)"

# --- 7. threads ---------------------------------------------------------------

THR_SECS=$( ((QUICK)) && echo 1 || echo 2)
thr__base() { "$BB/bench-cycle" --threads 8 --seconds $THR_SECS --linger-self; }
thr__lib() { with_lib TWSHIM_PORTS=above "$BB/bench-cycle" --threads 8 --seconds $THR_SECS --linger-self; }
say "8 threads connecting concurrently, 2 s runs"
interleave thr "$RUNS" base lib
tb=$(values thr base conn_per_s | median)
tl=$(values thr lib conn_per_s | median)
tr=$(per_pair ratio thr conn_per_s base lib | median)
tf=$(values thr lib fail | sum)
row "8 threads connecting concurrently, \`TWSHIM_PORTS=above\` (baseline: no library; both set linger 0 themselves)" \
	"$(fmt %.0f "$tb") conn/s" "$(fmt %.0f "$tl") conn/s ($tf failures)" "$(fmt %.3f "$tr")×" "≥ 0.9×" "$(check "$tr" ">=" 0.9)"

# --- 8. supervised connect ----------------------------------------------------

N_SUP=$(scale 5000)
SUP_STATE="not measured: mode not available in this build"
if [[ -x $TWSHIM && -x $BB/bench-cycle-static ]] &&
	"$TWSHIM" run --help 2>&1 | grep -q -- '--supervise' &&
	"$TWSHIM" run --supervise --linger=0 -- "$BB/bench-cycle-static" --count 10 >/dev/null 2>&1; then
	SUP_STATE=measured
	sup__base() { "$BB/bench-cycle-static" --count $N_SUP --linger-self; }
	sup__lib() { "$TWSHIM" run --supervise --linger=0 -- "$BB/bench-cycle-static" --count $N_SUP; }
	say "supervised connect: static probe, $N_SUP cycles"
	interleave sup "$RUNS" base lib
	row "supervised connect cycle: static probe under \`twshim run --supervise --linger=0\` (baseline: same static probe unsupervised, setting linger 0 itself)" \
		"$(fmt %.2f "$(values sup base us_per_cycle | median)") µs" \
		"$(fmt %.2f "$(values sup lib us_per_cycle | median)") µs" \
		"$(fmt %+.2f "$(per_pair diff sup us_per_cycle base lib | median)") µs per connect ($(fmt %.2f "$(per_pair ratio sup us_per_cycle base lib | median)")×)" \
		"report the added µs" "reported"
else
	row "supervised connect (\`twshim run --supervise\`)" "—" "—" "$SUP_STATE" "report the added µs" "not measured"
fi

# --- 9. memory ------------------------------------------------------------------

mem_k() { # mem_k ROLE K [HIGH]
	local role=$1
	shift
	case $role in
	base) "$BB/bench-mem" "$@" ;;
	lib) with_lib "${FULL[@]}" "$BB/bench-mem" "$@" ;;
	safe) with_lib TWSHIM_LINGER=safe "$BB/bench-mem" "$@" ;; # fd table only, no pinning tables
	esac
}
# HIGH: the rlimit hard limit may be low (no CAP_SYS_RESOURCE in a container)
MEM_HIGH=$(($(ulimit -Hn) > 20000 ? 19000 : $(ulimit -Hn) - 1000))
for k in 0 100 1000 4000 high; do
	for r in base lib safe; do
		if [[ $k == high ]]; then
			eval "mem${k}__$r() { mem_k $r 10 $MEM_HIGH; }"
		else
			eval "mem${k}__$r() { mem_k $r $k; }"
		fi
	done
done
say "memory"
MEM_TABLE=()
growth() { # growth FIG ROLE: (after - start) of ROLE minus that of base, per run
	paste <(values "$1" base rss_start_kb) <(values "$1" base rss_after_kb) \
	      <(values "$1" "$2" rss_start_kb) <(values "$1" "$2" rss_after_kb) |
		awk '/NA/ { print "NA"; next } { print ($4 - $3) - ($2 - $1) }' | median
}
for m in "mem0|0 (start of main)" "mem100|100" "mem1000|1,000" "mem4000|4,000" "memhigh|10, at fds $MEM_HIGH–$((MEM_HIGH + 9))"; do
	fig=${m%%|*}
	interleave "$fig" 5 base lib safe
	s=$(per_pair diff "$fig" rss_start_kb base lib | median)
	MEM_TABLE+=("| ${m#*|} | $(values "$fig" base rss_after_kb | median) KiB | $(values "$fig" lib rss_after_kb | median) KiB | $(fmt %+d "$s") KiB | $(fmt %+d "$(growth "$fig" lib)") KiB | $(fmt %+d "$(growth "$fig" safe)") KiB |")
done
ms=$(per_pair diff mem0 rss_start_kb base lib | median)
m4=$(per_pair diff mem4000 rss_after_kb base lib | median)
row "memory (baseline: no library)" "—" "—" \
	"$(fmt %+d "$ms") KiB RSS at start; $(fmt %+d "$m4") KiB with 4,000 recorded connections (see memory table)" \
	"report added RSS; fd table proportional to fds used" "reported"

# --- 10. twshim reap (its own section, from bench/reap.sh) ------------------------

REAP_SECTION=
if [[ -x $TWSHIM ]]; then
	say "twshim reap"
	REAP_SECTION=$("$SRC/bench/reap.sh" "$BUILD") || REAP_SECTION="(bench/reap.sh failed)"
else
	REAP_SECTION="### \`twshim reap\`: not measured (the twshim command was not built)"
fi

# --- report ---------------------------------------------------------------------

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
cores=$(nproc)
kernel=$(uname -r)
glibc=$(getconf GNU_LIBC_VERSION)
date_now=$(date -u '+%Y-%m-%d %H:%M UTC')
buildtype=$(meson configure "$BUILD" 2>/dev/null | awk '$1 == "buildtype" {print $2; exit}')
ccver=$(cc --version | head -n 1)
commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$SRC" status --porcelain -- lib include 2>/dev/null | grep -c . || true)

{
cat <<EOF
# twshim benchmark report

## How to rerun

\`\`\`sh
bench/run.sh               # as root; or: meson test --benchmark -C <builddir>
\`\`\`

The script builds what it needs with meson (\`build-bench\`, \`--buildtype=release\`, unless
\`TWBENCH_BUILDDIR\` names another build directory), re-executes itself in a private network
namespace (\`unshare -n\`, loopback only), prints the table below and rewrites this file. It takes
about 5 minutes on 2 cores and always exits 0: these are benchmarks, not tests.

Method: each figure is the **median of $RUNS runs** (11 for the file \`close()\`, 3–5 for the 3 s sustained runs, 5 for memory;
the plain sustained baseline runs 1 s). Baseline and subject runs alternate (A B, B A, …) so that drift of the
machine hits both; ratios and differences are computed per pair of neighbouring runs and their
median is reported. The \`close()\` cost is also measured inside one process (batches of 1,000
alternating between the interposed \`close()\` and libc's own \`close\` called through a pointer),
which cancels drift batch by batch; the verdict uses that figure, corrected by the same
measurement without the library (the method's bias). Times are wall clock (\`CLOCK_MONOTONIC\`), measured inside the benchmark
programs.

## Machine

| | |
| --- | --- |
| date | $date_now |
| CPU | $cpu, $cores cores (\`nproc\`) |
| kernel | $kernel |
| glibc | $glibc |
| compiler | $ccver |
| load average (1, 5, 15 min) | $LOAD_BEFORE before the run, $(cut -d' ' -f1-3 /proc/loadavg) after (other work on the machine perturbs every figure; interleaving cancels slow drift, not bursts) |
| build type | $buildtype (\`$BUILD\` → \`$(basename "$BUILD")\`) |
| source | commit $commit, $dirty uncommitted file(s) under lib/ and include/$( [[ -n ${TWBENCH_STALE:-} ]] && echo "; **the rebuild failed: these are the figures of the previous build**") |
| \`perf stat -e instructions\` | $PERF_INSTR; instruction counts below come from \`valgrind --tool=callgrind\` (user space only), system calls from the \`raw_syscalls:sys_enter\` tracepoint |

## Figures

| figure | baseline | with twshim | ratio / added | target | verdict |
| --- | --- | --- | --- | --- | --- |
EOF
printf '%s\n' "${ROWS[@]}"
cat <<EOF

"Full policy" is \`${FULL[*]}\`.

### Sustained short connections (each run in its own namespace, 10-port range 60990–60999, \`tcp_tw_reuse=0\`)

| mode | runs | conn/s (median) | failures (all runs) | successes before the first failure, or all if none (median) | TIME_WAIT after the run (max) |
| --- | --- | --- | --- | --- | --- |
EOF
printf '%s\n' "${SUS_TABLE[@]}"
echo
printf '%s\n' "$SAFE_SECTION"
cat <<EOF

### Memory (Rss from /proc/self/smaps_rollup, library with the full policy; loopback client connections held open)

| client connections held | RSS without the library | RSS with it (full policy) | added at start of main (full policy) | added growth from the connections, full policy | added growth, \`TWSHIM_LINGER=safe\` only (fd table alone) |
| --- | --- | --- | --- | --- | --- |
EOF
printf '%s\n' "${MEM_TABLE[@]}"
echo
printf '%s\n' "$REAP_SECTION"
echo
if [[ -f $SRC/bench/notes.md ]]; then
	cat "$SRC/bench/notes.md"
fi
} >"$REPORT.tmp" && mv "$REPORT.tmp" "$REPORT"

# the same tables on stdout
echo
echo "| figure | baseline | with twshim | ratio / added | target | verdict |"
printf '%s\n' "${ROWS[@]}"
echo
printf '%s\n' "${SUS_TABLE[@]}"
echo
printf '%s\n' "${MEM_TABLE[@]}"
echo
printf '%s\n' "$REAP_SECTION"
say "report written to $REPORT"
exit 0
