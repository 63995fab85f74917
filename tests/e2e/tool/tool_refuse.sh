#!/usr/bin/env bash
# tool_refuse: `twshim run` refuses, with the documented message and exit
# status 2, targets the library cannot reach (static, setuid, setgid, file
# capabilities) and does not start them; --force runs them; `twshim doctor`
# explains each case.  A marker file written by the target shows whether it
# ran.  Privileged programs are unreachable only for a user the exec would
# raise (the kernel's AT_SECURE rule): those cases run as nobody; root runs
# them with the library (tests/e2e/correct/correct_privs.sh measures that).

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need setcap cp chmod setpriv
STATIC=${TWTOOL_STATIC:-}
[[ -x $STATIC ]] || fail "TWTOOL_STATIC='$STATIC' is not executable"

# refused NAME PROGRAM REASON-ERE: refused with status 2, reason and remedy
# on stderr, nothing on stdout, the program not started; then --force runs it.
# RUNAS: a command prefix (e.g. setpriv to nobody), empty for root.
RUNAS=()
chmod 1777 "$TW_TMP" || fail "chmod $TW_TMP"
PUB_TOOL=$(tw_public "$TW_LIB" "$TW_TOOL")
tw_tool_as() {
	"${RUNAS[@]}" env TWSHIM_LIBRARY="$TW_PUB/${TW_LIB##*/}" "$PUB_TOOL" "$@"
}
refused() {
	local name=$1 prog=$2 re=$3 marker=$TW_TMP/ran.$1 rc=0 out err
	out=$(tw_tool_as run --linger=0 -- "$prog" "$marker" 2>"$TW_TMP/err") || rc=$?
	err=$(cat "$TW_TMP/err")
	tw_log "$name: stderr: $err"
	assert_eq "$name: exit status" "$rc" 2
	assert_match "$name: reason" "$err" "^twshim: run: refused: $re"
	assert_match "$name: remedy" "$err" $'\n''twshim: run: instead: .*--force'
	assert_eq "$name: nothing on stdout" "$out" ""
	assert_eq "$name: target not started" "$([[ -e $marker ]] && echo ran || echo 'not run')" "not run"
	[[ ${4:-} == noforce ]] && return
	rc=0
	tw_tool_as run --force --linger=0 -- "$prog" "$marker" 2>/dev/null || rc=$?
	assert_eq "$name --force: exit status" "$rc" 0
	assert_eq "$name --force: target ran" "$([[ -e $marker ]] && echo ran || echo 'not run')" "ran"
}

refused static "$STATIC" ".*is statically linked \(no program interpreter\): nothing loads the library into it"
err=$(tw_tool_run -- "$STATIC" 2>&1)
assert_match "static: points to --supervise" "$err" "twshim run --supervise"

# A dynamic program that creates its argument: touch; run by nobody.
RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if ! cp "$(command -v touch)" "$TW_TMP/touch-suid" || ! chmod u+s "$TW_TMP/touch-suid"; then fail "setuid copy"; fi
refused setuid "$TW_TMP/touch-suid" ".*touch-suid is setuid: started by uid 65534, the dynamic loader runs it in secure-execution mode and ignores LD_PRELOAD"
if ! cp "$(command -v touch)" "$TW_TMP/touch-sgid" || ! chmod g+s "$TW_TMP/touch-sgid"; then fail "setgid copy"; fi
refused setgid "$TW_TMP/touch-sgid" ".*touch-sgid is setgid"
if ! cp "$(command -v touch)" "$TW_TMP/touch-caps" || ! setcap cap_net_raw+ep "$TW_TMP/touch-caps"; then fail "setcap"; fi
refused caps "$TW_TMP/touch-caps" ".*touch-caps is marked with file capabilities"
RUNAS=()

# The same program without privileges runs, with the library.
cp "$(command -v touch)" "$TW_TMP/touch-plain"
rc=0
tw_tool_run --linger=0 -- "$TW_TMP/touch-plain" "$TW_TMP/ran.plain" || rc=$?
assert_eq "plain copy: exit status" "$rc" 0
assert_eq "plain copy: ran" "$([[ -e $TW_TMP/ran.plain ]] && echo ran)" "ran"

# Not found / not executable.
rc=0
tw_tool_run -- /nonexistent/prog 2>/dev/null || rc=$?
assert_eq "missing command: exit status" "$rc" 127
rc=0
tw_tool_run -- "$TW_TMP/nonexec" 2>/dev/null || rc=$?
assert_eq "missing path: exit status" "$rc" 127

# doctor: the reasons, and its exit statuses (0 reachable, 1 not).
out=$("$TW_TOOL" doctor "$STATIC"); rc=$?
assert_eq "doctor static: status" "$rc" 1
assert_match "doctor static: linking" "$out" "linking: +static"
assert_match "doctor static: verdict" "$out" "verdict: +NOT reachable"
# The supervisor's wake-up mode, probed on this kernel (Linux >= 6.6 has it).
IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
if ((kmaj > 6 || (kmaj == 6 && kmin >= 6))); then sync=yes; else sync=no; fi
assert_match "doctor static: supervisor wake-up (kernel $(uname -r))" "$out" \
	"supervisor: +seccomp sync wake-up $sync "
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PUB_TOOL" doctor "$TW_TMP/touch-suid"); rc=$?
assert_eq "doctor setuid: status" "$rc" 1
assert_match "doctor setuid: privileges" "$out" "privileges: +setuid"
out=$("$TW_TOOL" doctor "$TW_TMP/touch-caps"); rc=$?
assert_match "doctor caps: privileges" "$out" "privileges: +file-capabilities"
out=$("$TW_TOOL" doctor curl); rc=$?
assert_eq "doctor curl: status" "$rc" 0
assert_match "doctor curl: dynamic" "$out" "linking: +dynamic"
assert_match "doctor curl: connect imported (by libcurl)" "$out" "connect\(\): +imported by .*libcurl"
assert_match "doctor curl: Go" "$out" "Go: +no"
out=$("$TW_TOOL" doctor "$TW_PROBE"); rc=$?
assert_eq "doctor probe: status" "$rc" 0
assert_match "doctor probe: imports connect itself" "$out" "connect\(\): +imported by $TW_PROBE"
rc=0
"$TW_TOOL" doctor /nonexistent 2>/dev/null || rc=$?
assert_eq "doctor missing file: status" "$rc" 2

# A Go program, when a Go toolchain is installed (the crafted-ELF unit test
# covers the detection either way).
if command -v go >/dev/null 2>&1; then
	mkdir -p "$TW_TMP/go" && cat >"$TW_TMP/go/main.go" <<'GO'
package main

import "net"

func main() { c, err := net.Dial("tcp", "127.0.0.1:1"); _, _ = c, err }
GO
	if (cd "$TW_TMP/go" && GOCACHE=$TW_TMP/gocache GOPATH=$TW_TMP/gopath GO111MODULE=off go build -o goprog main.go) 2>"$TW_TMP/go.err"; then
		refused go "$TW_TMP/go/goprog" ".*goprog is a Go program \(.*\): Go makes its socket system calls directly" noforce
	else
		tw_log "go build failed: $(cat "$TW_TMP/go.err")"
		tw__fail "go toolchain present but go build failed"
	fi
else
	tw_log "no Go toolchain: Go detection is covered by the unit test "tool" only"
fi

tw_done
