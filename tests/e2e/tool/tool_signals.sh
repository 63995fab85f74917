#!/usr/bin/env bash
# tool_signals: live numbers from the library (issue 18, item 3).
#
# A python3 client makes N short connections to the test server, then:
#   SIGTERM with the default disposition: the summary line "(SIGTERM)" is
#     written and the process still dies of SIGTERM (status 143), as
#     without the library;
#   the program's own handler, set after the library's: it runs exactly as
#     without the library (no summary from the signal; the exit path's);
#   SIG_IGN: the signal stays ignored;
#   what the program reads back (signal.getsignal) is what it reads without
#     the library — Python decides its KeyboardInterrupt handler on it;
#   TWSHIM_STATS_SIGNAL=USR1: the counters at the default log level, the
#     process lives on, and its own USR1 handler still runs after ours.
# The counters are checked against the kernel: connects=N and rst=N for
# N connections that left no TIME_WAIT.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
tw_need ss
py=/usr/bin/python3
[[ -x $py ]] || fail "$py not found"
N=5

# client PORT ACTION: N connections, then ACTION (python source).
client() {
	exec "$py" -c '
import os, signal, socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"hi\n"); s.recv(16); s.close()
sys.stdout.flush()
exec(sys.argv[3])
sys.stdout.flush()
' "$1" "$N" "$2"
}

port=7200
# run NAME ACTION [env...]: one client against a fresh server; sets OUT, RC,
# ERR (stderr file) and TW (TIME_WAIT left).
run() {
	local name=$1 action=$2
	shift 2
	port=$((port + 1))
	tw_server_start "$name" -p "$port" -m reply -n "$N" -t 60
	RC=0
	OUT=$(env "$@" "$BASH" -c "$(declare -f client); py=$py N=$N; client $port '$action'" \
		2>"$TW_TMP/$name.err") || RC=$?
	ERR=$TW_TMP/$name.err
	tw_server_wait "$name"
	tw_settle "$port"
	TW=$(tw_tw_count dport = ":$port")
}
lib() { printf 'LD_PRELOAD=%s' "$TW_LIB"; }
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z'

# 0. Below TWSHIM_LOG=info no summary is wanted, so nothing is installed:
# the kernel's view (SigCgt in /proc/self/status, which no interposer can
# dress up) is the same as without the library.
sigcgt='print(open("/proc/self/status").read().split("SigCgt:")[1].split()[0])'
run C0 "$sigcgt"
want=$OUT
run C1 "$sigcgt" "$(lib)" TWSHIM_LINGER=0
assert_eq "default log level: caught signals (SigCgt) as without the library" "$OUT" "$want"
run C2 "$sigcgt" "$(lib)" TWSHIM_LINGER=0 TWSHIM_LOG=info
# (Python catches SIGINT itself, so SIGTERM is the one that changes.)
assert_eq "TWSHIM_LOG=info: the stand-in catches SIGTERM (SigCgt bits added)" \
	"$(printf '%x' $(( 16#$OUT & ~16#$want )))" "$(printf '%x' $((1 << (15 - 1))))"

# 1. SIGTERM, default disposition.
kill_self='os.kill(os.getpid(), signal.SIGTERM); print("survived")'
run T0 "$kill_self"
assert_eq "without the library: SIGTERM status" "$RC" 143
assert_eq "without the library: TIME_WAIT" "$TW" "$N"
assert_eq "without the library: stderr" "$(grep -c . "$ERR")" 0
run T1 "$kill_self" "$(lib)" TWSHIM_LINGER=0 TWSHIM_LOG=info
assert_eq "SIGTERM: still dies of it" "$RC" 143
assert_eq "SIGTERM: TIME_WAIT" "$TW" 0
assert_eq "SIGTERM: summary lines" "$(grep -c 'info: summary (SIGTERM) connects=' "$ERR")" 1
assert_match "SIGTERM: the counters" "$(grep 'summary (SIGTERM)' "$ERR")" \
	"^$ts twshim\[python3:[0-9]+\]: info: summary \(SIGTERM\) connects=$N matched=$N linger_set=$N "
assert_eq "SIGTERM: no other summary" "$(grep -c 'summary connects=' "$ERR")" 0

# 2. The program's own handler, set after the library loaded.
own='signal.signal(signal.SIGTERM, lambda s, f: (print("handled"), sys.stdout.flush(), sys.exit(3))); os.kill(os.getpid(), signal.SIGTERM)'
run H0 "$own"
h0_out=$OUT h0_rc=$RC
run H1 "$own" "$(lib)" TWSHIM_LINGER=0 TWSHIM_LOG=info
assert_eq "own handler: output as without the library" "$OUT" "$h0_out"
assert_eq "own handler: status as without the library" "$RC" "$h0_rc"
assert_eq "own handler: status" "$RC" 3
assert_eq "own handler: no summary from the signal" "$(grep -c 'summary (SIGTERM)' "$ERR")" 0
assert_eq "own handler: the exit summary" "$(grep -c "info: summary connects=$N " "$ERR")" 1

# 3. SIG_IGN stays ignored.
ign='signal.signal(signal.SIGTERM, signal.SIG_IGN); os.kill(os.getpid(), signal.SIGTERM); print("alive")'
run I1 "$ign" "$(lib)" TWSHIM_LINGER=0 TWSHIM_LOG=info
assert_eq "SIG_IGN: alive" "$OUT" alive
assert_eq "SIG_IGN: status" "$RC" 0
assert_eq "SIG_IGN: no summary from the signal" "$(grep -c 'summary (SIGTERM)' "$ERR")" 0

# 4. What the program reads back is unchanged.
view='print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGUSR1))'
run V0 "$view"
v0=$OUT
run V1 "$view" "$(lib)" TWSHIM_LINGER=0 TWSHIM_LOG=info TWSHIM_STATS_SIGNAL=USR1
assert_eq "handlers read back as without the library" "$OUT" "$v0"
assert_eq "handlers read back: Python's own SIGINT handler" "${OUT%% *}" True

# 5. Counters on demand, at the default log level.
usr1='os.kill(os.getpid(), signal.SIGUSR1); print("alive")'
run U0 "$usr1"
assert_eq "without TWSHIM_STATS_SIGNAL: SIGUSR1 kills" "$RC" 138
run U1 "$usr1" "$(lib)" TWSHIM_LINGER=0 TWSHIM_STATS_SIGNAL=USR1
assert_eq "stats signal: alive" "$OUT" alive
assert_eq "stats signal: status" "$RC" 0
assert_eq "stats signal: one line" "$(grep -c . "$ERR")" 1
assert_match "stats signal: the counters" "$(cat "$ERR")" \
	"^$ts twshim\[python3:[0-9]+\]: info: counters \(SIGUSR1\) connects=$N matched=$N linger_set=$N "
chain='signal.signal(signal.SIGUSR1, lambda s, f: print("mine", s)); os.kill(os.getpid(), signal.SIGUSR1); print("alive")'
run U2 "$chain" "$(lib)" TWSHIM_LINGER=0 TWSHIM_STATS_SIGNAL=SIGUSR1
assert_eq "stats signal chained: the program's handler ran" "$OUT" $'mine 10\nalive'
assert_eq "stats signal chained: the counters" "$(grep -c 'counters (SIGUSR1)' "$ERR")" 1

tw_done
