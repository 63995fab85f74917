#!/usr/bin/env bash
# Secure-execution mode: a set-user-ID program that loads the library
# ignores every TWSHIM_* variable (secure_getenv), so its caller cannot
# steer it: no linger is set, no diagnostic is printed and no log file is
# opened, created or written.  The same binary without the set-user-ID bit,
# run by the same user with the same environment, does all three (so the
# test cannot pass with a library that ignores the environment always).
# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
tw_need setpriv

probe=${TWSEC_PROBE:?run through meson test}
[[ -x $probe ]] || fail "TWSEC_PROBE=$probe is not executable"
chmod 755 "$TW_TMP" || fail "chmod $TW_TMP"
bin=$TW_TMP/bin logs=$TW_TMP/logs
{ mkdir -p "$bin" "$logs" && chmod 755 "$bin" && chmod 1777 "$logs"; } || fail "mkdir"
install -o root -g root -m 4755 "$probe" "$bin/probe-suid" || fail "install set-user-ID copy"
install -o root -g root -m 0755 "$probe" "$bin/probe-plain" || fail "install plain copy"
[[ -u $bin/probe-suid ]] || fail "set-user-ID bit not set on $bin/probe-suid (nosuid mount?)"
# The probes need libtwshim.so (DT_NEEDED): nobody finds the plain one's in a
# public copy (LD_LIBRARY_PATH, which the set-user-ID one ignores: it loads
# the build tree's through its RUNPATH, as root).
tw_public "$TW_LIB" >/dev/null

# as_nobody VAR=VALUE... -- CMD: run as uid/gid 65534 with that environment.
as_nobody() {
	local envs=()
	while [[ $1 != -- ]]; do
		envs+=("$1")
		shift
	done
	shift
	env "${envs[@]}" LD_LIBRARY_PATH="$TW_PUB" setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
}

# 1. linger: TWSHIM_LINGER=0 sets SO_LINGER at connect unless ignored.
plain=$(as_nobody TWSHIM_LINGER=0 -- "$bin/probe-plain" 2>"$TW_TMP/err.plain")
suid=$(as_nobody TWSHIM_LINGER=0 -- "$bin/probe-suid" 2>"$TW_TMP/err.suid")
tw_log "plain: $plain"
tw_log "suid:  $suid"
assert_eq "plain: library loaded" "$(tw_field "$plain" loaded)" 1
assert_eq "plain: AT_SECURE" "$(tw_field "$plain" secure)" 0
assert_eq "plain: SO_LINGER set from TWSHIM_LINGER=0" "$(tw_field "$plain" linger)" 1
assert_eq "set-user-ID: library loaded" "$(tw_field "$suid" loaded)" 1
assert_eq "set-user-ID: AT_SECURE" "$(tw_field "$suid" secure)" 1
assert_eq "set-user-ID: euid" "$(tw_field "$suid" euid)" 0
assert_eq "set-user-ID: ruid" "$(tw_field "$suid" ruid)" 65534
assert_eq "set-user-ID: SO_LINGER (TWSHIM_LINGER ignored)" "$(tw_field "$suid" linger)" 0

# 2. diagnostics and the log file: a bad value plus TWSHIM_LOG_FILE.
as_nobody TWSHIM_LINGER=junk TWSHIM_LOG_FILE="$logs/plain.log" -- "$bin/probe-plain" \
	>/dev/null 2>"$TW_TMP/err.plain"
as_nobody TWSHIM_LINGER=junk TWSHIM_LOG_FILE="$logs/suid.log" -- "$bin/probe-suid" \
	>/dev/null 2>"$TW_TMP/err.suid"
assert_eq "plain: lines in its TWSHIM_LOG_FILE" "$(cat "$logs/plain.log" 2>/dev/null | wc -l)" 1
assert_eq "plain: stderr lines (the line went to the file)" "$(wc -l <"$TW_TMP/err.plain")" 0
assert_eq "set-user-ID: TWSHIM_LOG_FILE created" "$([[ -e $logs/suid.log ]] && echo yes || echo no)" no
assert_eq "set-user-ID: stderr lines (no diagnostic: nothing was read)" \
	"$(wc -l <"$TW_TMP/err.suid")" 0

# 3. A path only root could write, handed to the set-user-ID program.
rootonly=$TW_TMP/rootonly
mkdir -m 700 "$rootonly" || fail "mkdir $rootonly"
as_nobody TWSHIM_LOG=debug TWSHIM_LINGER=junk TWSHIM_LOG_FILE="$rootonly/owned.log" -- \
	"$bin/probe-suid" >/dev/null 2>"$TW_TMP/err.suid"
assert_eq "set-user-ID: file created in a root-only directory" \
	"$([[ -e $rootonly/owned.log ]] && echo yes || echo no)" no
assert_eq "set-user-ID: stderr lines at TWSHIM_LOG=debug (ignored too)" \
	"$(wc -l <"$TW_TMP/err.suid")" 0
tw_done
