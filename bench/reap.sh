#!/bin/bash
# shellcheck disable=SC2317,SC2016 # functions and scripts run through `bash -c` in a new namespace
# twshim reap benchmark: a section generator for bench/run.sh (or alone).
#
#   bench/reap.sh BUILD_DIR     (as root: unshare -n, sysctls)
#
# Prints a Markdown section on stdout (progress on stderr):
#   1. the reaper's CPU time per pass and per reaped socket, on a namespace
#      holding 100,000 unrelated TIME_WAIT sockets (outside the scope: the
#      kernel filter must keep them out of user space), next to the same
#      pass without any socket and with the 100,000 dumped to user space
#      (what a pass would cost without the kernel filter);
#   2. the highest connection rate that stays free of EADDRNOTAVAIL in a
#      1,000-port range, for a plain client with `twshim reap` beside it
#      (defaults, and a short guard), with `net.ipv4.tcp_tw_reuse=1`, and
#      for a static client under `twshim run --supervise --linger=0`.
#      Each step runs in its own namespace (no TIME_WAIT carried over) at a
#      paced rate (bench-cycle --rate); the ladder stops at the first rate
#      with a failure.
#
# TWBENCH_QUICK=1: short steps (numbers mean little).  Exits 0 unless it
# cannot run at all.
set -uo pipefail

BUILD=${1:?usage: bench/reap.sh BUILD_DIR}
TWSHIM=$BUILD/tools/twshim
CYCLE=$BUILD/bench/bench-cycle
CYCLE_STATIC=$BUILD/bench/bench-cycle-static
QUICK=${TWBENCH_QUICK:-0}
STEP=$( ((QUICK)) && echo 1 || echo 5)      # seconds per ladder step
IDLE=$( ((QUICK)) && echo 1 || echo 3)      # seconds of back-to-back passes
N_UNRELATED=$( ((QUICK)) && echo 10000 || echo 100000)
N_REAP=$( ((QUICK)) && echo 2000 || echo 20000)

say() { printf 'bench-reap: %s\n' "$*" >&2; }
[[ -x $TWSHIM && -x $CYCLE ]] || { say "build $BUILD first (tools/twshim, bench/bench-cycle)"; exit 1; }
((EUID == 0)) || { say "must run as root"; exit 1; }
RES=$(mktemp -d /tmp/twbench-reap.XXXXXX)
trap 'rm -rf "$RES"' EXIT

# rusage CMD...: run CMD, print "user_s= sys_s= wall_s=" of that process
# alone (wait4: a python3 wrapper such as pyenv's shim has children of its
# own that RUSAGE_CHILDREN would add).
rusage() {
	python3 - "$@" <<'PY'
import os, subprocess, sys, time
t = time.monotonic()
p = subprocess.Popen(sys.argv[1:])
_, _, r = os.wait4(p.pid, 0)
w = time.monotonic() - t
print(f"user_s={r.ru_utime:.4f} sys_s={r.ru_stime:.4f} wall_s={w:.4f}")
PY
}

# daemon_cpu SECONDS ARGS...: `twshim reap ARGS` for SECONDS, SIGTERM;
# prints its totals line and its CPU time.
daemon_cpu() {
	local secs=$1
	shift
	python3 - "$secs" "$TWSHIM" reap "$@" <<'PY'
import os, signal, subprocess, sys, time
secs = float(sys.argv[1])
p = subprocess.Popen(sys.argv[2:], stderr=open("/dev/shm/twbench-reap.err", "w"), text=True)
time.sleep(secs)
p.send_signal(signal.SIGTERM)
_, _, r = os.wait4(p.pid, 0)
err = open("/dev/shm/twbench-reap.err").read()
os.unlink("/dev/shm/twbench-reap.err")
tot = [l for l in err.splitlines() if "totals:" in l]
print(f"{tot[-1] if tot else 'no totals'} user_s={r.ru_utime:.4f} sys_s={r.ru_stime:.4f}")
PY
}

field() { # field LINE KEY
	local kv
	for kv in $1; do [[ $kv == "$2="* ]] && { echo "${kv#*=}"; return; }; done
	echo NA
}
calc() { python3 -c "print(format($1, '$2'))" 2>/dev/null || echo NA; }

# --- 1. CPU per pass and per reaped socket --------------------------------------

# Everything of part 1 runs in one namespace: it needs the 100k sockets.
part1() {
	ip link set lo up || exit 1
	sysctl -qw net.ipv4.ip_local_port_range="10000 59999" net.ipv4.tcp_tw_reuse=0 \
		net.ipv4.tcp_max_tw_buckets=400000 || exit 1
	local out
	out=$(daemon_cpu "$IDLE" --match 127.0.0.1:7000 --interval 0)
	echo "empty $out"
	# N_UNRELATED TIME_WAIT to ports 6000 and 6001 (50,000 local ports each);
	# they last 60 s, so everything below is done within that, and counted
	# (explicit binds: the kernel's own port search slows down as the range
	# fills, quadratically)
	local half=$((N_UNRELATED / 2))
	"$CYCLE" --count "$half" --port 6000 --bind-self "10000-$((10000 + half))" >/dev/null
	"$CYCLE" --count "$half" --port 6001 --bind-self "10000-$((10000 + half))" >/dev/null
	echo "unrelated_tw=$(ss -Htan state time-wait | wc -l)"
	out=$(daemon_cpu "$IDLE" --match 127.0.0.1:7000 --interval 0)
	echo "filtered $out"
	out=$(daemon_cpu "$IDLE" --match 127.0.0.0/8 --min-age 1h --interval 0)
	echo "unfiltered $out"
	"$CYCLE" --count "$N_REAP" --port 7000 --bind-self "10000-$((10000 + N_REAP))" >/dev/null
	echo "scoped_tw=$(ss -Htan state time-wait dport = :7000 | wc -l)"
	out=$(rusage "$TWSHIM" reap --once --min-age 0 --match 127.0.0.1:7000 2>&1)
	echo "reap $(tr '\n' ' ' <<<"$out")"
	# the same process on the same namespace with nothing to reap: its start
	# and its pass, to subtract
	out=$(rusage "$TWSHIM" reap --once --min-age 0 --match 127.0.0.1:7000 2>&1)
	echo "noreap $(tr '\n' ' ' <<<"$out")"
	echo "left_scoped=$(ss -Htan state time-wait dport = :7000 | wc -l) left_all=$(ss -Htan state time-wait | wc -l)"
}
export -f part1 daemon_cpu rusage
say "part 1: CPU per pass and per reaped socket ($N_UNRELATED unrelated TIME_WAIT)"
TWSHIM=$TWSHIM CYCLE=$CYCLE IDLE=$IDLE QUICK=$QUICK N_REAP=$N_REAP N_UNRELATED=$N_UNRELATED \
	unshare -n -- bash -c part1 >"$RES/part1" 2>"$RES/part1.err" || say "part 1 failed: $(tail -n 3 "$RES/part1.err")"
cat "$RES/part1" >&2

line() { grep "^$1 " "$RES/part1" | head -n 1; }
per_pass() { # per_pass LINE -> "µs CPU per pass|passes"
	local l=$1 p u s
	p=$(field "$l" passes) u=$(field "$l" user_s) s=$(field "$l" sys_s)
	echo "$(calc "($u + $s) * 1e6 / $p" .0f)|$p|$(calc "$u * 1e6 / $p" .0f)|$(calc "$s * 1e6 / $p" .0f)"
}
IFS='|' read -r e_us e_p e_u e_s <<<"$(per_pass "$(line empty)")"
IFS='|' read -r f_us f_p f_u f_s <<<"$(per_pass "$(line filtered)")"
IFS='|' read -r n_us n_p n_u n_s <<<"$(per_pass "$(line unfiltered)")"
unrel=$(field "$(grep '^unrelated_tw=' "$RES/part1")" unrelated_tw)
rl=$(line reap)
reaped=$(field "$rl" reaped)
r_cpu=$(calc "($(field "$rl" user_s) + $(field "$rl" sys_s)) * 1e6" .0f)
r_wall=$(calc "$(field "$rl" wall_s) * 1e3" .1f)
r_per=$(calc "$r_cpu / $reaped" .2f)
nl=$(line noreap)
z_cpu=$(calc "($(field "$nl" user_s) + $(field "$nl" sys_s)) * 1e6" .0f)
r_net=$(calc "($r_cpu - $z_cpu) / $reaped" .2f)
left=$(grep '^left_scoped=' "$RES/part1")

# --- 2. connection rate free of EADDRNOTAVAIL, 1,000-port range ----------------

# step MODE RATE: one paced run in a fresh namespace; prints bench-cycle's
# line plus tw= (TIME_WAIT at the end).  RATE 0: back to back.
step() {
	local mode=$1 rate=$2
	unshare -n -- env TWSHIM="$TWSHIM" CYCLE="$CYCLE" CYCLE_STATIC="$CYCLE_STATIC" STEP="$STEP" \
		MODE="$mode" RATE="$rate" bash -c '
		ip link set lo up || exit 1
		reuse=0
		[[ $MODE == tw_reuse ]] && reuse=1
		sysctl -qw net.ipv4.ip_local_port_range="50000 50999" net.ipv4.tcp_tw_reuse=$reuse || exit 1
		rargs=()
		((RATE)) && rargs=(--rate "$RATE")
		case $MODE in
		reap_default) "$TWSHIM" reap --match 127.0.0.1:5000 2>/dev/null & ;;
		reap_short) "$TWSHIM" reap --match 127.0.0.1:5000 --min-age 100ms --interval 100ms 2>/dev/null & ;;
		esac
		rp=$!
		if [[ $MODE == supervise ]]; then
			out=$("$TWSHIM" run --supervise --linger=0 -- "$CYCLE_STATIC" --seconds "$STEP" "${rargs[@]}")
		else
			out=$("$CYCLE" --seconds "$STEP" "${rargs[@]}")
		fi
		[[ $MODE == reap_* ]] && kill -TERM "$rp" && wait "$rp"
		echo "$out tw=$(ss -Htan state time-wait | wc -l)"'
}

RATES=(250 500 750 900 1000 1500 2000 3000 5000 8000 12000)
# ladder MODE: the highest paced rate with 0 failures and the conn/s it
# achieved (a loaded machine falls behind the pace), and the first rate with
# failures: "rate|conn/s|first failing step"
ladder() {
	local mode=$1 r out best=NA bestc=NA failat=none
	for r in "${RATES[@]}"; do
		out=$(step "$mode" "$r")
		say "$mode rate=$r: $out"
		echo "$mode $r $out" >>"$RES/ladder"
		if [[ $(field "$out" fail) != 0 ]]; then
			failat="$r conn/s (achieved $(field "$out" conn_per_s), $(field "$out" fail) failures)"
			break
		fi
		best=$r
		bestc=$(field "$out" conn_per_s)
	done
	echo "$best|$bestc|$failat"
}

say "part 2: connection rate in a 1,000-port range, $STEP s per step"
plain=$(step plain 0)
say "plain, back to back: $plain"
IFS='|' read -r d_best d_c d_fail <<<"$(ladder reap_default)"
IFS='|' read -r s_best s_c s_fail <<<"$(ladder reap_short)"
IFS='|' read -r t_best t_c t_fail <<<"$(ladder tw_reuse)"
if [[ -x $CYCLE_STATIC ]]; then
	sup=$(step supervise 0)
	say "supervise, back to back: $sup"
else
	sup="not measured: no static bench-cycle"
fi
reapfree=$(step reap_short 0)
say "reap_short, back to back: $reapfree"

cat <<EOF

### \`twshim reap\`: cost and sustained rate

Generated by \`bench/reap.sh\` (each part in its own network namespace, loopback, \`tcp_tw_reuse=0\`
unless stated).

**CPU per pass** (\`twshim reap --interval 0\`, passes back to back for $IDLE s; user + system CPU
of the reaper divided by its passes; a pass is one filtered dump per address family):

| namespace | passes | CPU per pass | user / system |
| --- | --- | --- | --- |
| no TCP socket in the namespace (the kernel still walks every bucket of the host's TCP hash table, twice: one dump per family) | $e_p | $e_us µs | $e_u / $e_s µs |
| $unrel unrelated TIME_WAIT, scope \`--match 127.0.0.1:7000\` (none in it: the kernel filter drops them) | $f_p | $f_us µs | $f_u / $f_s µs |
| the same $unrel TIME_WAIT in scope but younger than \`--min-age 1h\` (all dumped to user space: the cost without the kernel filter) | $n_p | $n_us µs | $n_u / $n_s µs |

**CPU per reaped socket**: $N_REAP TIME_WAIT in scope among the $unrel unrelated ones,
\`twshim reap --once --min-age 0\` (the whole process: start, probe, dump, destroys):
$reaped reaped in $r_wall ms wall, $r_cpu µs CPU ($r_per µs per reaped socket); the same command
with nothing left to reap: $z_cpu µs; the difference: **$r_net µs CPU per reaped socket**
($left after it).

**Sustained connection rate free of EADDRNOTAVAIL, 1,000-port \`ip_local_port_range\`**
(bench-cycle: connect to 127.0.0.1:5000, the client closes first; paced at each rate of
${RATES[*]} conn/s for $STEP s in a fresh namespace; the highest rate with no failure):

| mode | highest paced rate with 0 failures (conn/s achieved) | first paced rate with failures |
| --- | --- | --- |
| no fix, back to back | — | $(field "$plain" ok_before_first_fail) connections, then EADDRNOTAVAIL ($(field "$plain" fail) failures in $STEP s) |
| \`twshim reap\` defaults (\`--min-age 1s --interval 1s\`) | $d_best ($d_c) | $d_fail |
| \`twshim reap --min-age 100ms --interval 100ms\` | $s_best ($s_c) | $s_fail |
| \`net.ipv4.tcp_tw_reuse=1\` (no twshim; reuses a TIME_WAIT port after 1 s) | $t_best ($t_c) | $t_fail |
| \`twshim run --supervise --linger=0\`, static client, back to back | $(field "$sup" conn_per_s) conn/s, $(field "$sup" fail) failures, $(field "$sup" tw) TIME_WAIT | — (no TIME_WAIT: the rate is the client's CPU) |

For reference, \`twshim reap --min-age 100ms --interval 100ms\` with the client back to back:
$(field "$reapfree" conn_per_s) conn/s, $(field "$reapfree" fail) failures. The arithmetic of
twshim(1): rate ≈ ports / (min-age + interval), here 1,000 / (1 s + ≤ 1 s) ≥ 500 conn/s with the
defaults; the reaper wakes when the next socket comes of age, so the limit is 1,000 / (1 s + the
reaper's wake-up and pass), a little below \`tcp_tw_reuse=1\`, which reuses a port inside
\`connect()\` itself. The kernel walks every TCP socket of the namespace (and every bucket of the
host's hash table) in each dump whatever the filter: the filter saves the copy to user space, so
a pass costs in proportion to all TCP sockets of the namespace, not to the ones in scope.
EOF
exit 0
