# shellcheck shell=bash
# Shared library for the twshim end-to-end tests.  Source it first thing:
#
#   . "$(dirname "$0")/lib_e2e.sh"
#   tw_netns_enter "$@"
#
# Every test runs in a private network namespace (loopback only) with a
# 10-port ephemeral range and tcp_tw_reuse=0, so a short-connection client
# runs out of ports after ~10 connections unless the library does its job.
# A test that cannot get that environment FAILS (exit 1); it never skips
# (exit 77 is never used).
#
# Paths come from meson (tests/e2e/meson.build):
#   TWSHIM_LIB     the preload library      TWSHIM_PROBE  examples/probe
#   TWTEST_SERVER  tests/helpers server     TWTEST_CLIENT python client
#   TWTEST_SOCKOPT / TWTEST_ERRNO          small C helpers
# They are copied to TW_* shell variables and removed from the environment,
# so programs run under the library see only the TWSHIM_* a test sets.

set -uo pipefail

TW_TEST_NAME=$(basename "$0" .sh)
TW_PORT_RANGE=${TW_PORT_RANGE:-40000 40009}
TW_ASSERT_OK=0
TW_ASSERT_FAILED=0

tw_log() { printf '%s: %s\n' "$TW_TEST_NAME" "$*" >&2; }

# Fatal: print why and stop the test.
fail() {
	tw_log "FAIL: $*"
	exit 1
}

# --- assertions: print what was measured; record, do not stop ---------------

tw__pass() {
	TW_ASSERT_OK=$((TW_ASSERT_OK + 1))
	tw_log "ok   - $*"
}

tw__fail() {
	TW_ASSERT_FAILED=$((TW_ASSERT_FAILED + 1))
	tw_log "FAIL - $*"
}

tw__int() {
	[[ $1 =~ ^-?[0-9]+$ ]]
}

# assert_eq WHAT MEASURED EXPECTED  (integers compare numerically)
assert_eq() {
	local what=$1 got=$2 want=$3
	if { tw__int "$got" && tw__int "$want" && ((got == want)); } || [[ $got == "$want" ]]; then
		tw__pass "$what: measured $got, expected $want"
	else
		tw__fail "$what: measured '$got', expected '$want'"
	fi
}

# assert_ge WHAT MEASURED MIN
assert_ge() {
	local what=$1 got=$2 min=$3
	if tw__int "$got" && ((got >= min)); then
		tw__pass "$what: measured $got, expected >= $min"
	else
		tw__fail "$what: measured '$got', expected >= $min"
	fi
}

# assert_gt WHAT MEASURED LIMIT
assert_gt() {
	local what=$1 got=$2 lim=$3
	if tw__int "$got" && ((got > lim)); then
		tw__pass "$what: measured $got, expected > $lim"
	else
		tw__fail "$what: measured '$got', expected > $lim"
	fi
}

# assert_le WHAT MEASURED MAX
assert_le() {
	local what=$1 got=$2 max=$3
	if tw__int "$got" && ((got <= max)); then
		tw__pass "$what: measured $got, expected <= $max"
	else
		tw__fail "$what: measured '$got', expected <= $max"
	fi
}

# assert_match WHAT TEXT ERE
assert_match() {
	local what=$1 got=$2 re=$3
	if [[ $got =~ $re ]]; then
		tw__pass "$what: '$got' matches /$re/"
	else
		tw__fail "$what: '$got' does not match /$re/"
	fi
}

# End of a test: exit 0 only if every assertion held (and there was one).
tw_done() {
	tw_log "assertions: $TW_ASSERT_OK ok, $TW_ASSERT_FAILED failed"
	((TW_ASSERT_OK + TW_ASSERT_FAILED > 0)) || fail "no assertion was made"
	((TW_ASSERT_FAILED == 0)) || exit 1
	exit 0
}

# --- environment ------------------------------------------------------------

# tw_need CMD...: fail when a tool is missing.
tw_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || fail "required command '$c' not found (run scripts/deps.sh)"
	done
}

# Copy meson's paths into TW_* variables, check them, and drop the TWSHIM_*
# paths from the environment.
tw__paths() {
	# shellcheck disable=SC2034 # read by the tests that source this file
	{
		TW_LIB=${TWSHIM_LIB:-}
		TW_PROBE=${TWSHIM_PROBE:-}
		TW_SERVER=${TWTEST_SERVER:-}
		TW_CLIENT=${TWTEST_CLIENT:-}
		TW_SOCKOPT=${TWTEST_SOCKOPT:-}
		TW_ERRNO=${TWTEST_ERRNO:-}
	}
	[[ -n $TW_LIB && -f $TW_LIB ]] || fail "TWSHIM_LIB='$TW_LIB' is not a file (run through meson test)"
	[[ -x $TW_SERVER ]] || fail "TWTEST_SERVER='$TW_SERVER' is not executable"
	unset TWSHIM_LIB TWSHIM_PROBE
	# Whatever the caller had set must not leak into "without the library".
	local name
	for name in $(compgen -e); do
		case $name in TWSHIM_*) unset "$name" ;; esac
	done
}

# Re-run the calling test inside `unshare -n` unless already done, then set
# the namespace up.  Call with the script's own arguments.
tw_netns_enter() {
	local here
	here=$(readlink /proc/self/ns/net) || fail "cannot read /proc/self/ns/net"
	if [[ -z ${TW_NETNS_PARENT:-} ]]; then
		tw_need unshare ip ss sysctl
		unshare -n true 2>/dev/null ||
			fail "cannot create a network namespace (unshare -n): need root or CAP_SYS_ADMIN"
		export TW_NETNS_PARENT=$here
		# Every signal at its default: a test must not inherit an ignored
		# SIGHUP (nohup) or SIGINT (a background job), which its programs
		# could not catch or forward.
		exec unshare -n -- env --default-signal "${BASH:-bash}" "$0" "$@"
	fi
	[[ $here != "$TW_NETNS_PARENT" ]] || fail "re-executed but still in the parent network namespace"
	tw__paths
	tw_netns_setup
	TW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/twe2e-$TW_TEST_NAME.XXXXXX") || fail "mktemp"
	TW_PUB=$TW_TMP/pub # tw_public's copies
	trap tw__cleanup EXIT
	# meson's timeout sends SIGTERM: leave through the EXIT trap, whose
	# evidence dump then tells what the test was waiting for.
	trap 'tw_log "FAIL: SIGTERM (meson timeout?)"; exit 143' TERM
}

# Loopback up, small ephemeral range, no TIME_WAIT reuse; verified by reading
# the values back.
#
# tcp_rfc1337=1: a TIME_WAIT ignores RSTs, so the TIME_WAIT a test counts
# without the library is the kernel's whole count.  Without it a count came
# out one short about once in 150 runs under load (correct_tfo; traced and
# captured on lo, Linux 6.18): the server's pure ACK of the client's FIN,
# built before its own FIN but sent from the other CPU, reached the client
# after that FIN (loopback queues a packet on the sending CPU's backlog,
# whose softirq work may wait in ksoftirqd behind busy tasks); the client's
# TIME_WAIT answered it with a duplicate ACK, the listener answered that
# with a RST carrying exactly the TIME_WAIT's rcv_nxt, and the RST destroyed
# the TIME_WAIT ("TIME_WAIT assassination", RFC 1337).  The library never
# relies on a RST reaching a TIME_WAIT: linger 0 and safe end a client
# socket before it could enter TIME_WAIT, and the reaper uses SOCK_DESTROY.
tw_netns_setup() {
	ip link set lo up || fail "ip link set lo up"
	sysctl -qw "net.ipv4.ip_local_port_range=$TW_PORT_RANGE" >/dev/null ||
		fail "cannot set ip_local_port_range"
	sysctl -qw net.ipv4.tcp_tw_reuse=0 >/dev/null || fail "cannot set tcp_tw_reuse"
	sysctl -qw net.ipv4.tcp_rfc1337=1 >/dev/null || fail "cannot set tcp_rfc1337"
	local range reuse
	range=$(tr -s ' \t' '  ' </proc/sys/net/ipv4/ip_local_port_range)
	reuse=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)
	[[ $range == "$TW_PORT_RANGE" ]] || fail "ip_local_port_range is '$range', wanted '$TW_PORT_RANGE'"
	[[ $reuse == 0 ]] || fail "tcp_tw_reuse is $reuse"
	[[ $(cat /proc/sys/net/ipv4/tcp_rfc1337) == 1 ]] || fail "tcp_rfc1337 is not 1"
	# Every second address of 127/8 answers on lo; tests may use 127.0.0.2.
	tw_log "namespace $(readlink /proc/self/ns/net): lo up, ports $range, tcp_tw_reuse=$reuse"
}

TW_SERVERS=()

# --- evidence on failure ------------------------------------------------------
# When a test exits non-zero (fail, a failed assertion at tw_done, or a
# shell error), its log gets what it saw, taken inside its namespace before
# anything is stopped: the namespace's sysctls, every TCP socket (`ss
# -tanoi`) and the listeners with their processes (`ss -tlnpe`), the tail of
# every text file under $TW_TMP (by convention the captured stderr and
# output of every process the test started) and of the files registered
# with tw_watch_stderr, and what each function in TW_DIAG_HOOKS prints.

TW_WATCHED=()
TW_DIAG_HOOKS=()
TW_DIAG_LINES=${TW_DIAG_LINES:-40}

# tw_watch_stderr FILE...: dump FILE (e.g. a process's stderr kept outside
# $TW_TMP) when the test fails.
tw_watch_stderr() {
	TW_WATCHED+=("$@")
}

tw__dump_file() {
	local f=$1 n
	[[ -f $f ]] || return 0
	if [[ ! -s $f ]]; then
		printf -- '--- %s: empty ---\n' "$f"
		return 0
	fi
	if ! grep -Iq . "$f" 2>/dev/null; then
		printf -- '--- %s: %s bytes of binary data\n' "$f" "$(stat -c %s "$f")"
		return 0
	fi
	n=$(wc -l <"$f")
	if ((n > TW_DIAG_LINES)); then
		printf -- '--- %s (last %d of %d lines) ---\n' "$f" "$TW_DIAG_LINES" "$n"
	else
		printf -- '--- %s ---\n' "$f"
	fi
	tail -n "$TW_DIAG_LINES" -- "$f"
}

tw__diagnose() {
	local rc=$1 f h n
	{
		printf '\n===== %s failed (exit %s): what the test saw =====\n' "$TW_TEST_NAME" "$rc"
		printf 'after %d s; load average %s\n' "$SECONDS" "$(cut -d' ' -f1-3 /proc/loadavg)"
		printf -- '--- sysctls of namespace %s ---\n' "$(readlink /proc/self/ns/net)"
		sysctl net.ipv4.ip_local_port_range net.ipv4.ip_local_reserved_ports \
			net.ipv4.tcp_tw_reuse net.ipv4.tcp_rfc1337 net.ipv4.tcp_fin_timeout net.ipv4.tcp_max_tw_buckets \
			net.ipv4.tcp_syncookies net.ipv4.tcp_max_syn_backlog net.core.somaxconn 2>&1
		printf -- '--- TCP sockets by state ---\n'
		ss -Htan | awk '{print $1}' | sort | uniq -c
		n=$(ss -Htan | wc -l)
		printf -- '--- ss -tanoi (%d sockets; the first 200) ---\n' "$n"
		ss -tanoi | head -n 401
		printf -- '--- ss -tlnpe (listeners) ---\n'
		ss -tlnpe
		if [[ -n ${TW_TMP:-} && -d $TW_TMP ]]; then
			while IFS= read -r -d '' f; do
				tw__dump_file "$f"
			done < <(find "$TW_TMP" -type f -print0 | sort -z)
		fi
		for f in "${TW_WATCHED[@]}"; do
			tw__dump_file "$f"
		done
		for h in "${TW_DIAG_HOOKS[@]}"; do
			printf -- '--- %s ---\n' "$h"
			"$h"
		done
		printf '===== end of %s evidence =====\n' "$TW_TEST_NAME"
	} >&2 2>&1
}

tw__cleanup() {
	local rc=$? name pid
	((rc == 0)) || tw__diagnose "$rc"
	for name in "${TW_SERVERS[@]}"; do
		pid=TW_PID_$name
		[[ -n ${!pid:-} ]] && kill -TERM "${!pid}" 2>/dev/null
	done
	wait 2>/dev/null
	[[ -n ${TW_TMP:-} && -d $TW_TMP ]] && rm -rf -- "$TW_TMP"
}

# --- running as another user --------------------------------------------------

# The checkout may sit under a directory only root can enter (a fresh clone
# in a 0700 mktemp directory, /root/...), so a test that runs something as
# nobody gives it copies of its own, in a directory anyone can read.
# tw_public FILE...: copies FILE... (modes kept) into $TW_PUB ($TW_TMP/pub)
# and prints the copy of the last one.  TW_TMP becomes enterable (not
# readable) by all.
tw_public() {
	{ chmod go+x "$TW_TMP" && mkdir -p "$TW_PUB" && chmod 0755 "$TW_PUB"; } ||
		fail "cannot make $TW_PUB"
	local f
	for f in "$@"; do
		{ cp -p -- "$f" "$TW_PUB/" && chmod a+rX -- "$TW_PUB/${f##*/}"; } ||
			fail "cannot copy $f into $TW_PUB"
	done
	printf '%s\n' "$TW_PUB/${f##*/}"
}

# --- kernel state -----------------------------------------------------------

# tw_tw_count [ss filter...]: TIME_WAIT sockets in this namespace, e.g.
#   tw_tw_count                      all of them
#   tw_tw_count dport = :7001        client side of connections to port 7001
#   tw_tw_count sport = :7001        server side of port 7001
#   tw_tw_count dst 127.0.0.2:7001   client side to one address
tw_tw_count() {
	ss -Htan state time-wait "$@" | wc -l
}

# tw_state_count STATE [ss filter...]
tw_state_count() {
	local st=$1
	shift
	ss -Htan state "$st" "$@" | wc -l
}

# --- test server --------------------------------------------------------------

# tw_server_start NAME [twtest-server options...]
# Starts the server in the background and waits for it to say it listens
# (it writes its port to a FIFO; no sleeping).  Sets TW_PORT_NAME,
# TW_PID_NAME and TW_OUT_NAME (its per-connection results file).
tw_server_start() {
	local name=$1
	shift
	local fifo=$TW_TMP/ready.$name out=$TW_TMP/server.$name.out
	mkfifo "$fifo" || fail "mkfifo $fifo"
	"$TW_SERVER" -r 3 -o "$out" "$@" 3>"$fifo" &
	local pid=$!
	local port=
	# The open of the read end returns once the server opened its end.
	read -r -t 120 port <"$fifo" || true
	rm -f "$fifo"
	[[ $port =~ ^[0-9]+$ ]] || fail "server $name ($*) did not become ready"
	printf -v "TW_PORT_$name" '%s' "$port"
	printf -v "TW_PID_$name" '%s' "$pid"
	printf -v "TW_OUT_$name" '%s' "$out"
	TW_SERVERS+=("$name")
	tw_log "server $name listening on port $port (pid $pid, $*)"
}

# tw_server_stop NAME: SIGTERM, wait, set TW_SUMMARY_NAME to its summary
# line.  (Not in a $(...) subshell: only this shell can wait for it.)
tw_server_stop() {
	local pid=TW_PID_$1
	kill -TERM "${!pid}" 2>/dev/null
	wait "${!pid}" 2>/dev/null
	printf -v "$pid" '%s' ""
	tw__summary "$1"
}

# tw_server_wait NAME: wait until the server exits by itself (after its -n
# connections or its own -t bound), set TW_SUMMARY_NAME, return its status.
tw_server_wait() {
	local pid=TW_PID_$1 rc=0
	wait "${!pid}" || rc=$?
	printf -v "$pid" '%s' ""
	tw__summary "$1"
	return "$rc"
}

tw__summary() {
	local out=TW_OUT_$1 line
	line=$(grep '^server:' "${!out}" | tail -n 1)
	printf -v "TW_SUMMARY_$1" '%s' "$line"
	tw_log "server $1: ${line:-no summary}"
}

# tw_field LINE KEY: the value of KEY=VALUE in a space-separated line.
tw_field() {
	local kv
	for kv in $1; do
		if [[ $kv == "$2="* ]]; then
			printf '%s\n' "${kv#*=}"
			return 0
		fi
	done
	printf 'missing\n'
}

# tw_preload CMD...: run CMD with the library preloaded (after any
# LD_PRELOAD the caller had), with the TWSHIM_* given in the environment.
tw_preload() {
	LD_PRELOAD=$TW_LIB${LD_PRELOAD:+:$LD_PRELOAD} "$@"
}

# tw_settle PORT: wait until every connection to or from PORT has reached a
# final state (TIME_WAIT, or gone), so that counts taken next are the
# kernel's last word.  A condition wait with a generous bound (60 s, which
# load does not reach); if the bound passes the test goes on and its
# assertions show what was left.
tw_settle() {
	local port=$1 i n
	for ((i = 0; i < 6000; i++)); do
		n=$(ss -Htan state established state fin-wait-1 state fin-wait-2 state last-ack \
			state closing state close-wait state syn-sent state syn-recv \
			"( sport = :$port or dport = :$port )" | wc -l)
		((n == 0)) && return 0
		sleep 0.01
	done
	tw_log "port $port still has $n connections in transient states after 60 s:"
	ss -tan "( sport = :$port or dport = :$port )" >&2
}
