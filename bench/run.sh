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
	targets=(lib/libtwshim.so bench/bench-close bench/bench-cycle bench/bench-ab bench/bench-spawn
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
	# The build a user gets by default (debugoptimized): the instruction
	# count of an unmanaged close() is judged on it.
	DEFBUILD=${TWBENCH_DEFAULT_BUILDDIR:-$SRC/build-bench-default}
	if [[ ! -f $DEFBUILD/build.ninja ]]; then
		meson setup "$DEFBUILD" "$SRC" >&2 || say "default build not set up"
	fi
	ninja -C "$DEFBUILD" lib/libtwshim.so >&2 || say "default build failed: its row says NA"
	export TWBENCH_LIB_DEFAULT=$DEFBUILD/lib/libtwshim.so
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
LIB_DEFAULT=${TWBENCH_LIB_DEFAULT:-}
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
count_per_iter() { # count_per_iter MEASURE KIND(file|socket) WITH_LIB(0|1) [LIBRARY]
	local m=$1 kind=$2 lib=$3 libpath=${4:-$LIB} n1=1000 n2=21000 a b pre=()
	local args1 args2
	if [[ $kind == file ]]; then args1=(file "$TMPF" $n1); args2=(file "$TMPF" $n2)
	else args1=(socket $n1); args2=(socket $n2); fi
	((lib)) && pre=(env LD_PRELOAD="$libpath" "${FULL[@]}")
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

# added MEASURE KIND [LIBRARY]: with library minus without, per close
added_count() {
	local base lib
	base=$(count_per_iter "$1" "$2" 0)
	lib=$(count_per_iter "$1" "$2" 1 "${3:-$LIB}")
	if [[ $base == NA || $lib == NA ]]; then echo NA; return; fi
	awk -v a="$base" -v b="$lib" 'BEGIN { printf "%.2f", b - a }'
}

PERF_INSTR="not available"
if perf stat -x, -e instructions true 2>&1 | grep -q '^[0-9]'; then
	PERF_INSTR="available"
elif command -v perf >/dev/null; then
	PERF_INSTR="not supported here (perf has no hardware counters in this machine)"
fi

# The machine's own speed, so that reports from different machines (or one
# virtual machine on different days) can be compared: what one system call
# costs here.
SYSCALL_NS="not measured (perf bench missing)"
if ns=$(perf bench syscall basic -l $(scale 2000000) 2>/dev/null | awk '/usecs\/op/ { printf "%.0f", $1 * 1000 }') &&
	[[ -n $ns ]]; then
	SYSCALL_NS="$ns ns (\`perf bench syscall basic\`: getppid)"
fi

say "close(): $RUNS+4 runs each, file and socket"
interleave close_file $((RUNS + 4)) base lib
interleave close_sock $RUNS base lib
interleave ab_file "$RUNS" base lib
interleave ab_sock "$RUNS" base lib
for kind in file socket; do
	if command -v valgrind >/dev/null; then
		eval "INSTR_$kind=\$(added_count instr $kind)"
		eval "INSTRDEF_$kind=NA"
		[[ -f $LIB_DEFAULT ]] && eval "INSTRDEF_$kind=\$(added_count instr $kind \"\$LIB_DEFAULT\")"
	else
		eval "INSTR_$kind=NA INSTRDEF_$kind=NA"
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
	eval "instr=\$INSTR_$4 sysc=\$SYSC_$4 instrdef=\$INSTRDEF_$4"
	v1=$(check "$a" "<=" 5)
	v2=$(check "$sysc" "<=" 0.01)
	v3=$(check "$instrdef" "<=" 30)
	row "$3" "$(fmt %.1f "$base") ns (no library); $(fmt %.1f "$direct") ns (libc close called directly, same process)" \
		"$(fmt %.1f "$lib") ns; $(fmt %.1f "$hook") ns (interposed, same process)" \
		"**$(fmt %+.1f "$a") ns/call** (in-process A/B, bias removed); separate processes: $(fmt %+.1f "$d") ns (pairs IQR $(fmt %+.1f "$q1")…$(fmt %+.1f "$q3")); $(fmt %+.2f "$instr") instructions/call (release), **$(fmt %+.2f "$instrdef") in the default build** (debugoptimized), $(fmt %+.2f "$sysc") syscalls/call" \
		"≤ 5 ns, ≤ 30 instructions (default build), no syscall added" "$(both "$v1" "$(both "$v2" "$v3")")"
}
close_row close_file ab_file "\`close()\` of an unrecorded regular file (tmpfs), full policy" file
close_row close_sock ab_sock "\`close()\` of an unrecorded TCP socket, full policy" socket

# --- 2-4. connect + close cycles: in-process A/B ------------------------------

# bench-ab: batches of 200 cycles alternate in one process between side A,
# the program doing the work itself through libc directly (the floor), and
# side B, the ordinary calls (through the library when it is preloaded).
# Each figure runs twice per round: "lib" with the library, "bias" without
# it and the same work on both sides; added = lib - bias, per round.
N_AB=$(scale 20000)
PIN_RANGE=61000-61999
# IP_LOCAL_PORT_RANGE reaches only ports inside ip_local_port_range (kernel
# facts): its floor row uses a range inside the namespace's default one.
FLOOR_RANGE=50000-50999
KEEPALIVE_LIB=/usr/lib/libkeepalive.so
bab() { "$BB/bench-ab" $N_AB "$@"; }
ab_linger0__lib() { with_lib TWSHIM_LINGER=0 "$BB/bench-ab" $N_AB --a linger --b none; }
ab_linger0__bias() { bab --a linger --b linger; }
ab_safe__lib() { with_lib TWSHIM_LINGER=safe "$BB/bench-ab" $N_AB --a linger --b none; }
ab_safe__bias() { bab --a linger --b linger; }
# floors of safe: the program setting TCP_LINGER2 -1 itself; and what that
# costs the kernel over SO_LINGER {1,0} (the FIN/ACK exchange it keeps)
ab_safeself__lib() { with_lib TWSHIM_LINGER=safe "$BB/bench-ab" $N_AB --a linger2 --b none; }
ab_safeself__bias() { bab --a linger2 --b linger2; }
ab_linger2k__lib() { bab --a linger --b linger2; }
ab_linger2k__bias() { bab --a linger --b linger; }
ab_pin__lib() { with_lib TWSHIM_PORTS=$PIN_RANGE "$BB/bench-ab" $N_AB --a linger --b linger --range $PIN_RANGE; }
ab_pin__bias() { bab --a linger --b linger --range $PIN_RANGE; }
ab_pinself__lib() { with_lib TWSHIM_PORTS=$PIN_RANGE "$BB/bench-ab" $N_AB --a linger,bind --b linger --range $PIN_RANGE; }
ab_pinself__bias() { bab --a linger,bind --b linger,bind --range $PIN_RANGE; }
# floors: the program binding a port of the range itself, or asking the
# kernel for one with IP_LOCAL_PORT_RANGE, over an unpinned connect
ab_bindself__lib() { bab --a linger --b linger,bind --range $PIN_RANGE; }
ab_bindself__bias() { bab --a linger --b linger --range $PIN_RANGE; }
ab_prange__lib() { bab --a linger --b linger,portrange --range $FLOOR_RANGE; }
ab_prange__bias() { bab --a linger --b linger --range $FLOOR_RANGE; }
# peer: libkeepalive (Debian package libkeepalive0) interposes socket() and
# sets SO_KEEPALIVE; the program sets linger itself on both sides
ab_keepalive__lib() { env LD_PRELOAD="$KEEPALIVE_LIB" "$BB/bench-ab" $N_AB --a linger --b linger; }
ab_keepalive__bias() { bab --a linger --b linger; }

AB_FIGS=(ab_linger0 ab_safe ab_safeself ab_linger2k ab_pin ab_pinself ab_bindself ab_prange)
[[ -f $KEEPALIVE_LIB ]] && AB_FIGS+=(ab_keepalive)
say "connect cycles, in-process A/B: ${AB_FIGS[*]}"
for fig in "${AB_FIGS[@]}"; do
	interleave "$fig" "$RUNS" lib bias
done

# ab_added FIG -> median over rounds of (lib - bias) added_us
ab_added() { per_pair diff "$1" added_us bias lib | median; }
ab_q() { per_pair diff "$1" added_us bias lib | quartile "$2"; }
ab_cell() { # ab_cell FIG -> "+X.XX µs (rounds IQR a…b)"
	echo "$(fmt %+.2f "$(ab_added "$1")") µs (rounds IQR $(fmt %+.2f "$(ab_q "$1" 25)")…$(fmt %+.2f "$(ab_q "$1" 75)"))"
}
ab_side() { values "$1" lib "$2" | median; } # ab_side FIG a_us|b_us

# Instructions per cycle (callgrind, user space), from a short and a long
# run of bench-cycle: what the library adds to a cycle, independent of load.
cycle_instr() { # cycle_instr [VAR=VALUE...] -- bench-cycle args
	local pre=() a b
	while [[ $1 != -- ]]; do pre+=("$1"); shift; done
	shift
	a=$(env "${pre[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$BB/bench-cycle" --count 200 "$@" 2>&1 >/dev/null | awk '/Collected :/ {print $NF}')
	b=$(env "${pre[@]}" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		"$BB/bench-cycle" --count 2200 "$@" 2>&1 >/dev/null | awk '/Collected :/ {print $NF}')
	if [[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ ]]; then
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", (b - a) / 2000 }'
	else
		echo NA
	fi
}
instr_diff() { [[ $1 == NA || $2 == NA ]] && echo NA || echo $(($2 - $1)); }
I_LINGER=NA I_PIN=NA I_PINSELF=NA
if command -v valgrind >/dev/null; then
	say "instructions per cycle (callgrind)"
	i_base=$(cycle_instr -- --linger-self)
	i_bind=$(cycle_instr -- --linger-self --bind-self $PIN_RANGE)
	I_LINGER=$(instr_diff "$i_base" "$(cycle_instr LD_PRELOAD="$LIB" TWSHIM_LINGER=0 --)")
	i_pin=$(cycle_instr LD_PRELOAD="$LIB" TWSHIM_PORTS=$PIN_RANGE -- --linger-self)
	I_PIN=$(instr_diff "$i_base" "$i_pin")
	I_PINSELF=$(instr_diff "$i_bind" "$i_pin")
fi

kp=""
[[ -f $KEEPALIVE_LIB ]] && kp="; peer libkeepalive (preloaded, socket() interposed, program sets linger): $(ab_cell ab_keepalive)"
row "connect + close, \`TWSHIM_LINGER=0\` (floor: the program sets SO_LINGER {1,0} itself)" \
	"$(fmt %.2f "$(ab_side ab_linger0 a_us)") µs" "$(fmt %.2f "$(ab_side ab_linger0 b_us)") µs" \
	"**$(ab_cell ab_linger0)** per cycle; $(fmt %+d "$I_LINGER") instructions/cycle$kp" \
	"≤ +0.3 µs" "$(check "$(ab_added ab_linger0)" "<=" 0.3)"
safe_over=$(paste <(per_pair diff ab_linger0 added_us bias lib) <(per_pair diff ab_safe added_us bias lib) |
	awk '$1 == "NA" || $2 == "NA" { print "NA"; next } { print $2 - $1 }' | median)
row "connect + close, \`TWSHIM_LINGER=safe\` (floor: the program sets SO_LINGER {1,0} itself; target against \`TWSHIM_LINGER=0\`)" \
	"$(fmt %.2f "$(ab_side ab_safe a_us)") µs" "$(fmt %.2f "$(ab_side ab_safe b_us)") µs" \
	"$(ab_cell ab_safe) over the floor; **$(fmt %+.2f "$safe_over") µs over \`TWSHIM_LINGER=0\`** (per round); floors: the program setting \`TCP_LINGER2\` -1 itself costs the kernel $(ab_cell ab_linger2k) over SO_LINGER {1,0} (its FIN/ACK exchange: no byte lost), and the library adds $(ab_cell ab_safeself) over the program doing that itself" \
	"≤ +1.5 µs over linger 0" "$(check "$safe_over" "<=" 1.5)"
row "pinned connect, \`TWSHIM_PORTS=$PIN_RANGE\` (floor: the program binding a port of the range itself; baseline: unpinned connect; all set linger 0 themselves)" \
	"$(fmt %.2f "$(ab_side ab_pin a_us)") µs" "$(fmt %.2f "$(ab_side ab_pin b_us)") µs" \
	"**$(ab_cell ab_pinself) over the program binding itself**, $(fmt %+d "$I_PINSELF") instructions/cycle; over an unpinned connect $(ab_cell ab_pin), $(fmt %+d "$I_PIN") instructions/cycle; floors over an unpinned connect: the program binding a port of the range itself $(ab_cell ab_bindself), \`IP_LOCAL_PORT_RANGE\` $FLOOR_RANGE (in-range) $(ab_cell ab_prange)" \
	"within +0.3 µs of the program binding its own port" "$(check "$(ab_added ab_pinself)" "<=" 0.3)"

# Latency with most of the range held: separate processes (p99 of single
# cycles, not a difference of batches).
N_CYCLE=$(scale 20000)
cyc_hold__base() { "$BB/bench-cycle" --count $N_CYCLE --linger-self --bind-self $PIN_RANGE --hold 900 --latency; }
cyc_hold__lib() { with_lib TWSHIM_PORTS=$PIN_RANGE "$BB/bench-cycle" --count $N_CYCLE --linger-self --hold 900 --latency; }
say "pinned cycles with 90% of the range held"
interleave cyc_hold "$RUNS" base lib
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
	"≤ +45 µs over no preload (stretch: ≤ 1.10× the empty library)" "$(check "$sd" "<=" 45)"

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

# Two processes in lock-step (bench-cycle --turn): the unsupervised static
# probe and the supervised one take turns, batch by batch (200 cycles), so
# both see the same machine; added = median over batch pairs of (B - A).
# Bias: the same with both unsupervised.  Measured with the other core idle
# and with a busy loop competing for it: the spread says how stable it is.
N_SUP=$(scale 6000)
SUP_STATE="not measured: mode not available in this build"
# With "pinned", both probes and the supervisor run on one CPU (taskset):
# the placement sync wake-up asks the kernel for, whatever the kernel does.
sup_pair() { # sup_pair supervised|plain [pinned] -> "a_us=.. b_us=.. added_us=.."
	local d rc=0 pin=()
	[[ ${2:-} == pinned ]] && pin=(taskset -c "$SUP_CPU")
	d=$(mktemp -d "$RES/sup.XXXXXX")
	mkfifo "$d/ab" "$d/ba"
	timeout 300 "${pin[@]}" "$BB/bench-cycle-static" --count $N_SUP --port 5201 --linger-self --lead \
		--turn "$d/ba,$d/ab" >"$d/a" &
	if [[ $1 == supervised ]]; then
		timeout 300 "${pin[@]}" "$TWSHIM" run --supervise --linger=0 -- "$BB/bench-cycle-static" \
			--count $N_SUP --port 5202 --turn "$d/ab,$d/ba" >"$d/b" || rc=1
	else
		timeout 300 "${pin[@]}" "$BB/bench-cycle-static" --count $N_SUP --port 5202 --linger-self \
			--turn "$d/ab,$d/ba" >"$d/b" || rc=1
	fi
	wait $! || rc=1
	((rc == 0)) || return 1
	awk 'FNR == 1 { sub(/^batch_us=/, "", $1); n = split($1, v, ",");
		for (i = 1; i <= n; i++) x[FILENAME, i] = v[i]; cnt = n }
	     END { for (i = 1; i <= cnt; i++) { a[i] = x[ARGV[1], i]; b[i] = x[ARGV[2], i]; d[i] = b[i] - a[i] }
		   printf "a_us=%.3f b_us=%.3f added_us=%.3f\n", med(a, cnt), med(b, cnt), med(d, cnt) }
	     function med(arr, n,   i, j, t, c) { for (i = 1; i <= n; i++) c[i] = arr[i];
		   for (i = 2; i <= n; i++) for (j = i; j > 1 && c[j - 1] > c[j]; j--) { t = c[j]; c[j] = c[j - 1]; c[j - 1] = t }
		   return n % 2 ? c[(n + 1) / 2] : (c[n / 2] + c[n / 2 + 1]) / 2 }' "$d/a" "$d/b"
}
# Per connect, counted by perf over the whole run (supervisor + target, or
# the probe alone): system calls, and wake-ups handed to an idle vCPU.  A
# wake-up's sched_waking event is counted in the waker's context; its
# sched_wakeup too, except when the wakee was put on another, idle CPU:
# then that CPU completes it (the kernel's wake list), outside the run's
# tasks.  So waking - wakeup = wake-ups that had to wake the other vCPU
# (20-50 us each in a VM whose idle vCPUs halt).  Load does not change the
# system calls; the idle wake-ups say which case the time figure was in.
sup_counts() { # sup_counts supervised|plain -> "sys=.. idlewake=.." per connect
	local n=$(scale 4000) cmd
	if [[ $1 == supervised ]]; then
		cmd=("$TWSHIM" run --supervise --linger=0 -- "$BB/bench-cycle-static" --count "$n" --port 5203)
	else
		cmd=("$BB/bench-cycle-static" --count "$n" --port 5203 --linger-self)
	fi
	perf stat -x, -e raw_syscalls:sys_enter,sched:sched_waking,sched:sched_wakeup -- "${cmd[@]}" 2>&1 >/dev/null |
		awk -F, -v n="$n" '/raw_syscalls/ { s = $1 } /sched_waking/ { w = $1 } /sched_wakeup/ { u = $1 }
			END { if (s !~ /^[0-9]+$/ || w !~ /^[0-9]+$/ || u !~ /^[0-9]+$/) print "sys=NA idlewake=NA"
			      else printf "sys=%.2f idlewake=%.2f\n", s / n, (w - u) / n }'
}
BUSY_PID=
busy_start() { (while :; do :; done) & BUSY_PID=$!; }
busy_stop() { [[ -n $BUSY_PID ]] && kill "$BUSY_PID" 2>/dev/null; wait "$BUSY_PID" 2>/dev/null; BUSY_PID=; }
if [[ -x $TWSHIM && -x $BB/bench-cycle-static ]] &&
	"$TWSHIM" run --help 2>&1 | grep -q -- '--supervise' &&
	"$TWSHIM" run --supervise --linger=0 -- "$BB/bench-cycle-static" --count 10 >/dev/null 2>&1; then
	SUP_STATE=measured
	sup_idle__lib() { sup_pair supervised; }
	sup_idle__bias() { sup_pair plain; }
	sup_busy__lib() { busy_start; sup_pair supervised; local r=$?; busy_stop; return $r; }
	sup_busy__bias() { busy_start; sup_pair plain; local r=$?; busy_stop; return $r; }
	# the first CPU this script may use
	SUP_CPU=$(taskset -pc $$ 2>/dev/null | sed -n 's/.*: *\([0-9]*\).*/\1/p')
	sup_pin__lib() { sup_pair supervised pinned; }
	sup_pin__bias() { sup_pair plain pinned; }
	say "supervised connect: static probe, lock-step batches, other core idle and busy, both sides on one CPU"
	interleave sup_idle "$RUNS" lib bias
	interleave sup_busy "$RUNS" lib bias
	SUP_PIN=""
	if [[ -n $SUP_CPU ]] && command -v taskset >/dev/null; then
		interleave sup_pin "$RUNS" lib bias
		SUP_PIN="; $(ab_cell sup_pin) with both sides pinned to one CPU (other core idle; the placement sync wake-up asks the kernel for)"
	fi
	si=$(ab_added sup_idle)
	sb=$(ab_added sup_busy)
	SUP_COUNTS=""
	if perf stat -x, -e raw_syscalls:sys_enter,sched:sched_waking,sched:sched_wakeup true >/dev/null 2>&1; then
		ci=$(sup_counts supervised); cp=$(sup_counts plain)
		busy_start; cb=$(sup_counts supervised); cbp=$(sup_counts plain); busy_stop
		SUP_COUNTS=$(awk -v i="$ci" -v p="$cp" -v b="$cb" -v bp="$cbp" 'function f(s, k,   a) {
				match(s, k "=[0-9.NA]+"); return substr(s, RSTART + length(k) + 1, RLENGTH - length(k) - 1) }
			BEGIN { if (f(i, "sys") == "NA" || f(p, "sys") == "NA") exit
				printf "; per connect: +%.2f system calls (supervisor and target); wake-ups that woke the other, idle vCPU: %.2f supervised vs %.2f unsupervised with the other core idle, %.2f vs %.2f with it busy (separate runs)",
					f(i, "sys") - f(p, "sys"), f(i, "idlewake"), f(p, "idlewake"), f(b, "idlewake"), f(bp, "idlewake") }')
	fi
	spread=$(awk -v i="$si" -v b="$sb" 'BEGIN { if (i == "NA" || b == "NA" || i <= 0 || b <= 0) { print "NA"; exit }
		print (i > b ? i / b : b / i) }')
	# A figure at or below 0 is within the method's noise: no ratio, and
	# the ≤ 12 µs checks decide alone.
	spread_ok() { if [[ $1 != NA && $2 != NA ]] && awk -v i="$1" -v b="$2" 'BEGIN { exit !(i <= 0 || b <= 0) }'; then
		echo met; else check "$3" "<=" 2; fi; }
	sync=$("$TWSHIM" doctor "$BB/bench-cycle-static" 2>/dev/null | sed -n 's/^ *supervisor: *seccomp sync wake-up \([a-z]*\).*/\1/p')
	row "supervised connect: static probe under \`twshim run --supervise --linger=0\` (floor: the same probe unsupervised, setting linger 0 itself; sync wake-up: ${sync:-unknown})" \
		"$(fmt %.2f "$(ab_side sup_idle a_us)") µs" "$(fmt %.2f "$(ab_side sup_idle b_us)") µs" \
		"**$(ab_cell sup_idle) with the other core idle, $(ab_cell sup_busy) with it busy**; spread $(fmt %.2f "$spread")×$SUP_PIN$SUP_COUNTS" \
		"≤ +12 µs, spread ≤ 2×" "$(both "$(check "$si" "<=" 12)" "$(both "$(check "$sb" "<=" 12)" "$(spread_ok "$si" "$sb" "$spread")")")"
else
	row "supervised connect (\`twshim run --supervise\`)" "—" "—" "$SUP_STATE" "≤ +12 µs, spread ≤ 2×" "not measured"
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
about 9 minutes on 2 cores and always exits 0: these are benchmarks, not tests. Run it on a quiet
machine: the report records the load average before and after.

Method. Every per-call figure is measured **inside one process** (in-process A/B): batches of
200 connect/close cycles (1,000 for \`close()\`) alternate A B B A … between side A, the program
doing the work itself through libc's functions called directly (the floor: a preloaded library
never sees these calls), and side B, the ordinary calls (through the library when it is
preloaded). The figure is the median over neighbouring batch pairs of B − A, so load on the
machine hits both sides alike. The same run **without the library and with identical work on
both sides** measures the method's bias, which is subtracted round by round. Each figure is the
median of **$RUNS rounds** (lib and bias alternate; the rounds' interquartile range is shown).
The supervised connect needs two processes: the unsupervised and the supervised static probe run
in **lock-step** (one batch each in turn, through two FIFOs), with the same bias run (both
unsupervised); once with the other core idle, once with a busy loop competing for it, and once
with both probes and the supervisor pinned to one CPU (the placement sync wake-up asks for). Its
load-independent counts per connect (system calls; wake-ups that had to wake the other, idle
vCPU) come from separate \`perf stat\` runs.
Only process start uses separate processes (medians of $RUNS interleaved runs); the 90%-held
latency row and the sustained and thread rows also run as separate processes. Instruction counts
come from \`valgrind --tool=callgrind\` (user space only; load does not change them), system calls
from the \`raw_syscalls:sys_enter\` tracepoint. Times are wall clock (\`CLOCK_MONOTONIC\`),
measured inside the benchmark programs. Peers: libkeepalive is measured when its Debian package
(\`libkeepalive0\`) is installed; bindp and force_bind are not packaged by Debian (no binary or
source package), and nothing else may be fetched here, so they are not measured.

## Machine

| | |
| --- | --- |
| date | $date_now |
| CPU | $cpu, $cores cores (\`nproc\`) |
| kernel | $kernel |
| glibc | $glibc |
| compiler | $ccver |
| one system call | $SYSCALL_NS: every figure that crosses into the kernel scales with it; compare reports with this line |
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
