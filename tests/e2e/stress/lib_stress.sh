# shellcheck shell=bash
# Shared by the stress tests; source after tests/e2e/lib_e2e.sh:
#
#   . "$TWE2E_LIB_SH"
#   . "$(dirname "$0")/lib_stress.sh"
#   tw_netns_enter "$@"
#
# Paths from meson: TWSTRESS (client workloads), TWSTRESS_SERVER.
# TW_SANITIZER_VARIANT (asan, tsan; set by scripts/sanitize.sh) scales the
# workloads down and, under ASan, turns leak checking back on for our own
# programs (the ASan run checks no leaks in hosts we do not own).

ST_CLIENT=${TWSTRESS:-}
ST_SERVER_BIN=${TWSTRESS_SERVER:-}
[[ -x $ST_CLIENT && -x $ST_SERVER_BIN ]] || fail "TWSTRESS/TWSTRESS_SERVER not set (run through meson test)"

# The pinned range used by every stress test: above the namespace's
# ephemeral range (lib_e2e.sh: 40000-40009).
ST_PIN_LO=50000
ST_PIN_HI=50999
# shellcheck disable=SC2034 # used by the tests that source this file
ST_PIN="$ST_PIN_LO-$ST_PIN_HI"
# Bound on one workload; the workload's own watchdog fires first (240 s).
ST_TIMEOUT=${ST_TIMEOUT:-300}

# st_scale N: N reduced for the sanitizer variant (never below 1).
st_scale() {
	local n=$1 div=1
	case ${TW_SANITIZER_VARIANT:-} in
	asan) div=2 ;;
	tsan) div=8 ;;
	esac
	n=$((n / div))
	((n >= 1)) || n=1
	printf '%s\n' "$n"
}

# st_cmd [--lib VAR=VALUE... --] CMD...: fill ST_CMD with CMD preceded by
# env(1) settings: with --lib, the library preloaded (ahead of any
# inherited LD_PRELOAD, as lib_e2e.sh's tw_preload does) and the given TWSHIM_*
# variables; under ASan, leak checking on (these are our own programs).
st_cmd() {
	ST_CMD=(env)
	if [[ $1 == --lib ]]; then
		shift
		while [[ $1 != -- ]]; do
			ST_CMD+=("$1")
			shift
		done
		shift
		ST_CMD+=("LD_PRELOAD=$TW_LIB${LD_PRELOAD:+:$LD_PRELOAD}")
	fi
	if [[ ${TW_SANITIZER_VARIANT:-} == asan ]]; then
		ST_CMD+=("ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1")
	fi
	ST_CMD+=("$@")
}

# st_server_start NAME [twstress-server options] PORT...: start, wait for
# "ready" on a FIFO (no sleeping).  Runs under the library with
# TWSHIM_REUSEADDR=1 when ST_SERVER_PRELOAD=1 (the server's listener then
# reports reuseaddr=1).
st_server_start() {
	local name=$1
	shift
	local fifo=$TW_TMP/ready.$name out=$TW_TMP/server.$name.out
	mkfifo "$fifo" || fail "mkfifo"
	if [[ ${ST_SERVER_PRELOAD:-0} == 1 ]]; then
		st_cmd --lib TWSHIM_REUSEADDR=1 -- "$ST_SERVER_BIN" -r 3 -o "$out" "$@"
	else
		st_cmd "$ST_SERVER_BIN" -r 3 -o "$out" "$@"
	fi
	"${ST_CMD[@]}" 3>"$fifo" &
	local pid=$! word=
	read -r -t 120 word <"$fifo" || true
	rm -f "$fifo"
	[[ $word == ready ]] || fail "stress server $name ($*) did not become ready"
	printf -v "ST_PID_$name" '%s' "$pid"
	printf -v "ST_OUT_$name" '%s' "$out"
	TW_SERVERS+=("$name")
	# lib_e2e.sh's cleanup kills TW_PID_<name>
	printf -v "TW_PID_$name" '%s' "$pid"
	tw_log "stress server $name: pid $pid, $*"
}

# st_server_stop NAME: SIGTERM, wait; its summary is then in ST_OUT_NAME.
st_server_stop() {
	local pid=ST_PID_$1 out=ST_OUT_$1 rc=0
	kill -TERM "${!pid}" 2>/dev/null
	wait "${!pid}" || rc=$?
	printf -v "TW_PID_$1" '%s' ""
	((rc == 0)) || tw__fail "stress server $1 exited with status $rc"
	sed "s/^/$TW_TEST_NAME: server $1: /" "${!out}" >&2
}

# st_port NAME PORT KEY: a field of the server's line for PORT.
st_port() {
	local out=ST_OUT_$1 line
	line=$(grep "^port=$2 " "${!out}")
	tw_field "$line" "$3"
}

# st_run OUTVAR [--lib VAR=VALUE... --] CMD...: run a workload (see
# st_cmd) with the time bound; its summary line goes to OUTVAR, its status
# to ST_RC, its elapsed ms to ST_MS.
st_run() {
	local var=$1 t0 line
	shift
	st_cmd "$@"
	t0=$(date +%s%N)
	line=$(timeout -k 10 "$ST_TIMEOUT" "${ST_CMD[@]}" </dev/null)
	ST_RC=$?
	ST_MS=$((($(date +%s%N) - t0) / 1000000))
	printf -v "$var" '%s' "$line"
	tw_log "workload (${ST_MS} ms, status $ST_RC): $line"
}

# The checks every run with the library must pass: completed in time, no
# failed connect, no fd leak, every byte the client sent reached a server.
st_assert_clean() {
	local line=$1 server_bytes=$2 what=$3
	assert_eq "$what: exit status (124 = timeout, 3 = watchdog: deadlock)" "$ST_RC" 0
	assert_eq "$what: failed connects/exchanges" "$(tw_field "$line" failures)" 0
	assert_eq "$what: first errno" "$(tw_field "$line" first_errno)" 0
	assert_eq "$what: open fds after (before: $(tw_field "$line" fds_before))" \
		"$(tw_field "$line" fds_after)" "$(tw_field "$line" fds_before)"
	assert_eq "$what: bytes the servers received" "$server_bytes" "$(tw_field "$line" bytes)"
}

# The same workload without the library must show the problem (so the
# test cannot pass vacuously): connects fail once the 10 ephemeral ports
# sit in TIME_WAIT.
st_assert_baseline_fails() {
	local line=$1 what=$2
	assert_gt "$what without the library: failed connects (ports exhausted)" \
		"$(tw_field "$line" failures)" 0
	assert_eq "$what without the library: first errno (EADDRNOTAVAIL)" \
		"$(tw_field "$line" first_errno)" 99
}
