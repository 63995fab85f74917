#!/usr/bin/env bash
# correct_privs: privileged programs are run when the library reaches them
# and refused, with the reason, when it cannot; never silently degraded.
#
# Reachability is the kernel's AT_SECURE rule for the user who runs twshim:
# - an empty capability xattr (`setcap =`, or Debian's `setcap
#   cap_net_raw-epi`; getcap shows "=") grants nothing: the loader honours
#   LD_PRELOAD, so `twshim run` runs the program with effect (before: refused);
# - root running a root-owned setuid binary or a file-capability binary gets
#   AT_SECURE=0: run, with effect (before: refused); nobody running them gets
#   AT_SECURE=1: refused, with the reason.
# - `twshim run --supervise` starts the target with no_new_privs, which makes
#   exec ignore setuid bits and file capabilities: a static program with
#   cap_net_raw+ep or setuid root, run by nobody, is refused with the reason
#   (before: it ran without its privileges, silently); run by root, who loses
#   nothing, it runs supervised; --force runs it without them.
# "With effect" is measured from the kernel: 3 connections closed first by
# the program under --linger=0 leave 0 TIME_WAIT instead of 3.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/correct/lib_correct.sh
. "$(dirname "$0")/lib_correct.sh"
tw_need setcap getcap setpriv
TW_TOOL=${TWTOOL_BIN:-}
STATIC=${TWCORRECT_STATIC:-}
[[ -x $TW_TOOL ]] || fail "TWTOOL_BIN='$TW_TOOL' is not executable"
[[ -x $STATIC ]] || fail "TWCORRECT_STATIC='$STATIC' is not executable"

# Programs in a directory nobody can reach.
chmod 755 "$TW_TMP" || fail "chmod $TW_TMP"
D=$TW_TMP
for name in dyn_empty dyn_epi dyn_caps dyn_suid dyn_plain; do cp "$TW_CORRECT" "$D/$name" || fail "cp"; done
for name in st_caps st_suid st_plain; do cp "$STATIC" "$D/$name" || fail "cp"; done
setcap = "$D/dyn_empty" || fail "setcap ="
setcap cap_net_raw-epi "$D/dyn_epi" || fail "setcap cap_net_raw-epi"
setcap cap_net_raw+ep "$D/dyn_caps" || fail "setcap"
setcap cap_net_raw+ep "$D/st_caps" || fail "setcap"
chmod u+s "$D/dyn_suid" "$D/st_suid" || fail "chmod u+s"
tw_log "getcap: $(getcap "$D"/* | tr '\n' ';')"
assert_match "empty capability set as getcap shows it" "$(getcap "$D/dyn_epi")" "dyn_epi =$"

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
# nobody's twshim and library: public copies (the build tree may be root's only)
PUB_TOOL=$(tw_public "$TW_LIB" "$TW_TOOL")
PUB_LIB=$TW_PUB/${TW_LIB##*/}
twrun() { TWSHIM_LIBRARY=$TW_LIB "$TW_TOOL" run "$@"; }

port=7601
# effect WHO LABEL EXPECTED_TW [twshim run args...]: run `conns 3 PORT` and
# count the TIME_WAIT it leaves (0: the policy reached it; 3: it did not).
effect() {
	local who=$1 label=$2 want=$3 rc=0
	shift 3
	tw_server_start P -p "$port" -m reply -n 3 -t 60
	if [[ $who == nobody ]]; then
		as_nobody env TWSHIM_LIBRARY="$PUB_LIB" "$PUB_TOOL" run "$@" conns 3 "$port" \
			>"$TW_TMP/out" 2>"$TW_TMP/err" || rc=$?
	else
		twrun "$@" conns 3 "$port" >"$TW_TMP/out" 2>"$TW_TMP/err" || rc=$?
	fi
	tw_server_wait P
	tw_settle "$port"
	[[ -s $TW_TMP/err ]] && tw_log "$label: stderr: $(cat "$TW_TMP/err")"
	assert_eq "$label: exit status" "$rc" 0
	assert_eq "$label: connections" "$(tail -n 1 "$TW_TMP/out")" "ok=3 failed=0"
	assert_eq "$label: TIME_WAIT left" "$(tw_tw_count dport = :"$port")" "$want"
	port=$((port + 1))
}

# refused WHO LABEL REASON-ERE [twshim run args...]
refused() {
	local who=$1 label=$2 re=$3 rc=0 out
	shift 3
	if [[ $who == nobody ]]; then
		out=$(as_nobody env TWSHIM_LIBRARY="$PUB_LIB" "$PUB_TOOL" run "$@" privs 2>"$TW_TMP/err") || rc=$?
	else
		out=$(twrun "$@" privs 2>"$TW_TMP/err") || rc=$?
	fi
	tw_log "$label: stderr: $(cat "$TW_TMP/err")"
	assert_eq "$label: exit status" "$rc" 2
	assert_eq "$label: the program did not run" "$out" ""
	assert_match "$label: reason" "$(head -n 1 "$TW_TMP/err")" "^twshim: run: refused: $re"
	assert_match "$label: remedy" "$(sed -n 2p "$TW_TMP/err")" "^twshim: run: instead: "
}

# The baseline: the plain copy, without and with the library.
effect root "plain, without twshim (baseline)" 3 --linger=off -- "$D/dyn_plain"
effect nobody "plain, as nobody" 0 --linger=0 -- "$D/dyn_plain"

# --- item 6: empty capability sets, and root ----------------------------------------
effect nobody "setcap = (empty set), as nobody" 0 --linger=0 -- "$D/dyn_empty"
effect nobody "setcap cap_net_raw-epi (empty set), as nobody" 0 --linger=0 -- "$D/dyn_epi"
effect root "cap_net_raw+ep, as root (AT_SECURE=0)" 0 --linger=0 -- "$D/dyn_caps"
effect root "setuid root, as root (AT_SECURE=0)" 0 --linger=0 -- "$D/dyn_suid"
refused nobody "cap_net_raw+ep, as nobody" ".*dyn_caps is marked with file capabilities: started by uid 65534" \
	--linger=0 -- "$D/dyn_caps"
refused nobody "setuid root, as nobody" ".*dyn_suid is setuid: started by uid 65534" --linger=0 -- "$D/dyn_suid"
out=$(as_nobody "$PUB_TOOL" doctor "$D/dyn_epi"); rc=$?
assert_eq "doctor, empty set, as nobody: status" "$rc" 0
assert_match "doctor, empty set: says so" "$out" "capabilities: an empty set"
out=$(as_nobody "$PUB_TOOL" doctor "$D/dyn_caps"); rc=$?
assert_eq "doctor, cap_net_raw+ep, as nobody: status" "$rc" 1
assert_match "doctor, cap_net_raw+ep, as nobody: the capability named" "$out" "privileges: +file-capabilities cap_net_raw \(effective\)"
out=$("$TW_TOOL" doctor "$D/dyn_caps"); rc=$?
assert_eq "doctor, cap_net_raw+ep, as root: status" "$rc" 0

# --- item 5: --supervise and privileges ---------------------------------------------
# What the static program runs with, without twshim, as nobody: its privileges.
assert_match "static cap_net_raw+ep as nobody, without twshim" "$(as_nobody "$D/st_caps" privs)" \
	"^euid=65534 capeff=0000000000002000$"
assert_match "static setuid root as nobody, without twshim" "$(as_nobody "$D/st_suid" privs)" "^euid=0 "
refused nobody "--supervise, static cap_net_raw+ep, as nobody" \
	".*st_caps has file capabilities \(cap_net_raw\): under --supervise it starts with no_new_privs" \
	--supervise -- "$D/st_caps"
refused nobody "--supervise, static setuid root, as nobody" \
	".*st_suid is setuid: under --supervise it starts with no_new_privs" --supervise -- "$D/st_suid"
out=$(as_nobody env TWSHIM_LIBRARY="$PUB_LIB" "$PUB_TOOL" run --supervise --force -- "$D/st_caps" privs 2>/dev/null)
assert_match "--supervise --force, static cap_net_raw+ep, as nobody: runs without it" "$out" \
	"^euid=65534 capeff=0000000000000000$"
out=$(twrun --supervise -- "$D/st_caps" privs 2>/dev/null)
assert_eq "--supervise, static cap_net_raw+ep, as root: runs with root's capabilities" "$out" \
	"euid=0 capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)"
effect root "--supervise, static setuid root, as root" 0 --supervise --linger=0 -- "$D/st_suid"
effect nobody "--supervise, static without privileges, as nobody" 0 --supervise --linger=0 -- "$D/st_plain"

tw_done
