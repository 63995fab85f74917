# shellcheck shell=bash
# Shared by the reaper's end-to-end tests; source after tests/e2e/lib_e2e.sh and
# tw_netns_enter.  Paths from meson (reap/meson.build):
#   TWTOOL_BIN          the twshim command
#   TWSUP_GOPROBE_SRC   tests/helpers/goprobe, built here (CGO_ENABLED=0)
#   TWSUP_GOPROBE_OUT   where
#   TWSAFE_CLIENT       tests/e2e/safe/twsafe-client

RP_TOOL=${TWTOOL_BIN:-}
[[ -x $RP_TOOL ]] || fail "TWTOOL_BIN='$RP_TOOL' is not executable (run through meson test)"

rp_reap() { "$RP_TOOL" reap "$@"; }

# rp_reaper_start NAME ARGS...: `twshim reap -v ARGS` in the background,
# stderr to $TW_TMP/reap.NAME.err; stopped by the cleanup if the test dies.
rp_reaper_start() {
	local name=$1
	shift
	"$RP_TOOL" reap -v "$@" 2>"$TW_TMP/reap.$name.err" &
	printf -v "TW_PID_$name" '%s' "$!"
	TW_SERVERS+=("$name")
	tw_log "reaper $name started (pid $!): twshim reap -v $*"
}

# rp_reaper_stop NAME: SIGTERM, wait; RP_STATUS and RP_TOTALS (its last
# totals line).
rp_reaper_stop() {
	local pid=TW_PID_$1
	kill -TERM "${!pid}" 2>/dev/null
	RP_STATUS=0
	wait "${!pid}" || RP_STATUS=$?
	printf -v "$pid" '%s' ""
	RP_TOTALS=$(grep 'totals:' "$TW_TMP/reap.$1.err" | tail -n 1)
	tw_log "reaper $1: exit $RP_STATUS, $RP_TOTALS"
}

# rp_passes NAME: passes the running reaper has finished (its -v lines).
rp_passes() {
	grep -c ': pass [0-9]*:' "$TW_TMP/reap.$1.err"
}

# rp_wait_passes NAME N: wait until the reaper has finished N more passes
# than now (condition wait, 60 s bound; fails the test after it).
rp_wait_passes() {
	local want i
	want=$(($(rp_passes "$1") + $2))
	for ((i = 0; i < 6000; i++)); do
		(($(rp_passes "$1") >= want)) && return 0
		sleep 0.01
	done
	fail "reaper $1 did not finish $2 passes in 60 s"
}

# rp_conns PORT: client-side sockets to PORT in any state (TIME_WAIT too).
rp_conns() {
	ss -Htan "dport = :$1" | wc -l
}

# rp_wait_free PORT: wait until no client socket to PORT is left in any
# state, i.e. every port of the range is free again (condition wait, 50 s
# bound: shorter than TIME_WAIT itself, so expiry cannot pass for reaping).
rp_wait_free() {
	local i
	for ((i = 0; i < 5000; i++)); do
		(($(rp_conns "$1") == 0)) && return 0
		sleep 0.01
	done
	tw_log "sockets to port $1 still there after 50 s:"
	ss -tan "dport = :$1" >&2
	return 1
}

# rp_build_goprobe: build the Go probe (static, CGO_ENABLED=0): RP_GO.
rp_build_goprobe() {
	tw_need go readelf
	local out=${TWSUP_GOPROBE_OUT:-} src=${TWSUP_GOPROBE_SRC:-}
	[[ -n $out && -f $src/main.go ]] || fail "TWSUP_GOPROBE_SRC/OUT not set (run through meson test)"
	mkdir -p "$out.cache" "$out.path" || fail "mkdir $out.cache"
	(cd "$src" && CGO_ENABLED=0 GOCACHE=$out.cache GOPATH=$out.path GOFLAGS='' \
		go build -o "$out.new" main.go) || fail "go build of the Go probe failed"
	mv -f "$out.new" "$out" || fail "mv $out"
	if readelf -lW "$out" | grep -q INTERP; then
		fail "$out has a PT_INTERP: not static, LD_PRELOAD could reach it"
	fi
	# shellcheck disable=SC2034 # used by the tests that source this file
	RP_GO=$out
}
