# shellcheck shell=bash
# Shared by the supervisor's end-to-end tests (tests/e2e/supervise/*.sh),
# sourced after tests/e2e/lib_e2e.sh and tw_netns_enter.  Paths from meson:
#   TWSUP_DRIVER        twshim-supervise-test (tw_supervise_exec on its own)
#   TWSUP_STATIC_PROBE  tests/helpers/static_probe.c built with gcc -static
#   TWSUP_GOPROBE_SRC   tests/helpers/goprobe (built here, CGO_ENABLED=0)
#   TWSUP_GOPROBE_OUT   where the Go probe is built

sup_init() {
	SUP_DRIVER=${TWSUP_DRIVER:-}
	SUP_SP=${TWSUP_STATIC_PROBE:-}
	[[ -x $SUP_DRIVER ]] || fail "TWSUP_DRIVER='$SUP_DRIVER' is not executable (run through meson test)"
	[[ -x $SUP_SP ]] || fail "TWSUP_STATIC_PROBE='$SUP_SP' is not executable"
	sup_check_static "$SUP_SP"
}

# sup_check_static FILE: no program interpreter, so LD_PRELOAD cannot act.
sup_check_static() {
	tw_need readelf
	if readelf -lW "$1" | grep -q 'INTERP'; then
		fail "$1 has a PT_INTERP: it is not static, the test would prove nothing"
	fi
}

# sup_build_goprobe: build the Go probe (static, CGO_ENABLED=0); sets SUP_GO.
sup_build_goprobe() {
	tw_need go
	local out=${TWSUP_GOPROBE_OUT:-} src=${TWSUP_GOPROBE_SRC:-}
	[[ -n $out && -f $src/main.go ]] || fail "TWSUP_GOPROBE_SRC/OUT not set (run through meson test)"
	mkdir -p "$out.cache" "$out.path" || fail "mkdir $out.cache"
	(cd "$src" && CGO_ENABLED=0 GOCACHE=$out.cache GOPATH=$out.path GOFLAGS= \
		go build -o "$out.new" main.go) || fail "go build of the Go probe failed"
	mv -f "$out.new" "$out" || fail "mv $out"
	sup_check_static "$out"
	SUP_GO=$out
}

# sup_run [DRIVER OPTIONS] -- CMD...: run CMD under the supervisor (the
# TWSHIM_* of the caller's environment are the policy).
sup_run() {
	"$SUP_DRIVER" "$@"
}

# sup_field_in_range WHAT LINE LO HI: lport_min/lport_max inside [LO, HI]
sup_ports_in_range() {
	local what=$1 line=$2 lo=$3 hi=$4
	assert_ge "$what: lowest source port" "$(tw_field "$line" lport_min)" "$lo"
	assert_le "$what: highest source port" "$(tw_field "$line" lport_max)" "$hi"
}

# sup_tw_outside LO HI [ss filter...]: TIME_WAIT entries whose source port
# is outside [LO, HI].
sup_tw_outside() {
	local lo=$1 hi=$2
	shift 2
	ss -Htan state time-wait "$@" | awk -v lo="$lo" -v hi="$hi" '
		{ n = split($3, a, ":"); p = a[n] + 0; if (p < lo || p > hi) bad++ }
		END { print bad + 0 }'
}
