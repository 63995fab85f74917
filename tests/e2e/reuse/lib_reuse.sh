# shellcheck shell=bash
# Helpers shared by the reuse-on-bind tests; source after ../lib_e2e.sh (and
# after tw_netns_enter).  Paths come from meson (reuse/meson.build):
#   TWREUSE_SERVER     twreuse-server (a legacy C server)
#   TWREUSE_SERVER_OWN the same server with SO_REUSEPORT compiled in
#   TWREUSE_UNTOUCHED  twreuse-untouched
#   TWREUSE_LEGACY_PY  legacy_server.py (socketserver.TCPServer defaults)

# shellcheck disable=SC2034 # read by the tests that source this file
{
	RS_SERVER=${TWREUSE_SERVER:-}
	RS_SERVER_OWN=${TWREUSE_SERVER_OWN:-}
	RS_UNTOUCHED=${TWREUSE_UNTOUCHED:-}
	RS_LEGACY_PY=${TWREUSE_LEGACY_PY:-}
	RS_PY=/usr/bin/python3 # not a pyenv shim script
}
[[ -x $RS_SERVER ]] || fail "TWREUSE_SERVER='$RS_SERVER' is not executable (run through meson test)"
[[ -x $TW_PROBE ]] || fail "TWSHIM_PROBE='$TW_PROBE' is not executable"

# rs_start NAME KIND PORT CONNS [VAR=VALUE...]: start a server of KIND (c,
# own: the C server with SO_REUSEPORT compiled in, or py) with the given
# environment (LD_PRELOAD=... for "with the library"), under the command
# in the array RS_WRAP when a test sets it (e.g. strace).  Waits until it
# listens or exits.  Sets RS_PID_NAME (the background job), RS_SPID_NAME
# (the server process, which the C server reports), RS_OUT_NAME; returns 1
# when it exited at once (a failed bind: see rs_wait).
RS_WRAP=()
rs_start() {
	local name=$1 kind=$2 port=$3 conns=$4
	shift 4
	local ready=$TW_TMP/rs.$name.ready out=$TW_TMP/rs.$name.out pid i p spid
	: >"$ready"
	case $kind in
	c) "${RS_WRAP[@]}" env "$@" "$RS_SERVER" -p "$port" -n "$conns" -r 3 3>"$ready" >"$out" 2>"$out.err" & ;;
	own) "${RS_WRAP[@]}" env "$@" "$RS_SERVER_OWN" -p "$port" -n "$conns" -r 3 3>"$ready" >"$out" 2>"$out.err" & ;;
	*) "${RS_WRAP[@]}" env "$@" "$RS_PY" "$RS_LEGACY_PY" "$port" "$conns" 3 3>"$ready" >"$out" 2>"$out.err" & ;;
	esac
	pid=$!
	printf -v "RS_PID_$name" '%s' "$pid"
	printf -v "RS_OUT_$name" '%s' "$out"
	printf -v "RS_SPID_$name" '%s' "$pid"
	# A condition wait: the server writes its port once it listens.
	for ((i = 0; i < 3000; i++)); do
		if [[ -s $ready ]]; then
			read -r p spid <"$ready"
			[[ -n $spid ]] && printf -v "RS_SPID_$name" '%s' "$spid"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.01
	done
	fail "server $name ($kind, port $port) neither listened nor exited within 30 s"
}

# rs_wait NAME: wait for the server to exit; RS_LINE_NAME = its last line.
rs_wait() {
	local pid=RS_PID_$1 out=RS_OUT_$1 rc=0
	wait "${!pid}" || rc=$?
	printf -v "RS_LINE_$1" '%s' "$(tail -n 1 "${!out}")"
	local line=RS_LINE_$1
	tw_log "server $1 (exit $rc): ${!line}"
	return "$rc"
}

# rs_stop NAME: SIGTERM to the server, then rs_wait.
rs_stop() {
	local pid=RS_SPID_$1
	kill -TERM "${!pid}" 2>/dev/null
	rs_wait "$1"
}

