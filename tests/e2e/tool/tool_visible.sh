#!/usr/bin/env bash
# tool_visible: twshim is never silently inactive (issue 18, item 1).
#
# Each case shows what the operator sees when twshim is NOT in effect, and
# measures it from the kernel where traffic is involved:
#   library: a misspelt TWSHIM_* name, an unopenable TWSHIM_LOG_FILE, the
#     start line at TWSHIM_LOG=info;
#   check: unknown names, CR line ends, quotes docker keeps, an LD_PRELOAD
#     entry that is missing or not the library: errors, exit 2, --json;
#   run: the unknown-name warning, --dry-run, --env-file (same reader as
#     check; its variables take effect: TIME_WAIT measured), and the
#     library of the build tree found relative to the command itself.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need python3 ss
py=/usr/bin/python3
[[ -x $py ]] || fail "$py not found"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z'
N=8

# --- the library ------------------------------------------------------------

# A misspelt name: the connections still leave TIME_WAIT (the library is
# not in effect), and one line says so, naming the nearest known name.
tw_server_start A -p 7101 -m reply -n "$N" -t 60
out=$(TWSHIM_LINGR=0 tw_preload "$TW_PROBE" -q -n "$N" -s hi -r 127.0.0.1 7101 2>"$TW_TMP/err")
tw_server_wait A
tw_settle 7101
assert_eq "misspelt name: connections ok" "$(tw_field "$out" ok)" "$N"
assert_eq "misspelt name: TIME_WAIT left (not in effect)" "$(tw_tw_count dport = :7101)" "$N"
assert_eq "misspelt name: stderr lines" "$(wc -l <"$TW_TMP/err")" 1
assert_match "misspelt name: the line" "$(cat "$TW_TMP/err")" \
	"^$ts twshim\[probe:[0-9]+\]: error: TWSHIM_LINGR is not a twshim variable, it is ignored \(did you mean TWSHIM_LINGER\?\)$"
# The correct name on the same program: no TIME_WAIT, no line.
tw_server_start B -p 7102 -m reply -n "$N" -t 60
out=$(TWSHIM_LINGER=0 tw_preload "$TW_PROBE" -q -n "$N" -s hi -r 127.0.0.1 7102 2>"$TW_TMP/err")
tw_server_wait B
tw_settle 7102
assert_eq "correct name: TIME_WAIT left" "$(tw_tw_count dport = :7102)" 0
assert_eq "correct name: stderr lines" "$(wc -l <"$TW_TMP/err")" 0

# TWSHIM_LOG=info: one start line with the policy in effect.
TWSHIM_LOG=info TWSHIM_LINGER=safe TWSHIM_PORTS=41000-41999 tw_preload "$TW_PROBE" -q -n 0 127.0.0.1 7103 \
	>/dev/null 2>"$TW_TMP/err"
assert_eq "info: start lines" "$(grep -c ': info: start: ' "$TW_TMP/err")" 1
assert_match "info: start line shows the policy" "$(grep ': info: start: ' "$TW_TMP/err")" \
	"^$ts twshim\[probe:[0-9]+\]: info: start: linger=safe drain_ms=200 ports=41000-41999 "
out=$(tw_preload "$TW_PROBE" -q -n 0 127.0.0.1 7103 2>&1 >/dev/null)
assert_eq "default level: no start line" "$out" ""

# A log file that cannot be opened: one line saying why and where lines go.
TWSHIM_LINGER=junk TWSHIM_PORTS=junk TWSHIM_LOG_FILE=$TW_TMP/missing-dir/x.log \
	tw_preload "$TW_PROBE" -q -n 0 127.0.0.1 7103 >/dev/null 2>"$TW_TMP/err"
assert_eq "unopenable log file: lines" "$(grep -c . "$TW_TMP/err")" 3
assert_eq "unopenable log file: the reason, once" \
	"$(grep -Ec "error: TWSHIM_LOG_FILE=$TW_TMP/missing-dir/x.log cannot be opened \(no such file or directory, errno 2\): log lines go to stderr$" "$TW_TMP/err")" 1
assert_eq "unopenable log file: the lines themselves on stderr" \
	"$(grep -Ec "error: TWSHIM_(LINGER|PORTS)=\"junk\" is not valid" "$TW_TMP/err")" 2

# --- twshim check -----------------------------------------------------------

# check_rc NAME EXPECTED_RC ERE [check args...]: status and the "errors:" section.
check_case() {
	local what=$1 want=$2 re=$3 rc=0 out
	shift 3
	out=$("$@" 2>"$TW_TMP/check.err") || rc=$?
	assert_eq "$what: status" "$rc" "$want"
	if ((want == 2)); then
		assert_match "$what: under errors" "$(sed -n '/^errors:/,/^warnings:/p' <<<"$out")" "$re"
		assert_match "$what: on stderr" "$(cat "$TW_TMP/check.err")" "$re"
	fi
}
printf 'TWSHIM_LINGR=safe\n' >"$TW_TMP/typo.env"
check_case "unknown name in a file" 2 "TWSHIM_LINGR is not a twshim variable.*TWSHIM_LINGER" \
	"$TW_TOOL" check "$TW_TMP/typo.env"
check_case "unknown name in the environment" 2 "TWSHIM_PORT is not a twshim variable.*TWSHIM_PORTS" \
	env TWSHIM_PORT=above "$TW_TOOL" check
printf 'TWSHIM_LINGER=safe\r\n' >"$TW_TMP/crlf.env"
check_case "CR line end" 2 "crlf.env:1: line ends with CR" "$TW_TOOL" check "$TW_TMP/crlf.env"
printf "TWSHIM_PORTS='above'\n" >"$TW_TMP/quote.env"
check_case "quotes docker keeps" 2 "quote.env:1: TWSHIM_PORTS: quoted value" "$TW_TOOL" check "$TW_TMP/quote.env"
check_case "LD_PRELOAD: missing file" 2 "LD_PRELOAD entry /usr/lib/nowhere/libtwshim.so: No such file" \
	env LD_PRELOAD=/usr/lib/nowhere/libtwshim.so TWSHIM_LINGER=safe "$TW_TOOL" check
printf 'not a library\n' >"$TW_TMP/libtwshim.so"
check_case "LD_PRELOAD: not the library" 2 "LD_PRELOAD entry $TW_TMP/libtwshim.so is not libtwshim.so" \
	env LD_PRELOAD="$TW_TMP/libtwshim.so" TWSHIM_LINGER=safe "$TW_TOOL" check
check_case "LD_PRELOAD: the library" 0 "" env LD_PRELOAD="$TW_LIB" TWSHIM_LINGER=safe "$TW_TOOL" check
out=$(LD_PRELOAD=$TW_LIB TWSHIM_LINGER=safe "$TW_TOOL" check)
assert_match "LD_PRELOAD: the library is reported" "$out" "LD_PRELOAD +contains libtwshim.so"
assert_eq "valid: errors (none)" "$(sed -n '/^errors:/{n;p}' <<<"$out")" "  (none)"

# --json: one object, valid or not, that a JSON parser reads.
json_field() { "$py" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
rc=0
j=$(env TWSHIM_LINGR=safe "$TW_TOOL" check --json 2>/dev/null) || rc=$?
assert_eq "--json invalid: status" "$rc" 2
assert_eq "--json invalid: valid" "$(json_field 'd["valid"]' <<<"$j")" False
assert_match "--json invalid: errors" "$(json_field 'd["errors"][0]' <<<"$j")" "TWSHIM_LINGR is not a twshim variable"
j=$(env TWSHIM_LINGER=safe "$TW_TOOL" check --json)
assert_eq "--json valid: valid" "$(json_field 'd["valid"]' <<<"$j")" True
assert_eq "--json valid: policy value" "$(json_field 'd["policy"]["TWSHIM_LINGER"]["value"]' <<<"$j")" safe
assert_eq "--json valid: sysctl" "$(json_field 'd["sysctls"]["net.ipv4.tcp_tw_reuse"]' <<<"$j")" 0

# --- twshim run -------------------------------------------------------------

# Unknown names: a warning, and the command still runs.
rc=0
out=$(TWSHIM_LINGR=safe tw_tool_run -- /bin/echo ran 2>"$TW_TMP/err") || rc=$?
assert_eq "run: unknown name: status" "$rc" 0
assert_eq "run: unknown name: ran" "$out" ran
assert_match "run: unknown name: warning" "$(grep 'twshim: run:' "$TW_TMP/err")" \
	"^twshim: run: warning: TWSHIM_LINGR is not a twshim variable, it is ignored \(did you mean TWSHIM_LINGER\?\)$"

# --dry-run: prints the environment and the command, runs nothing.
rc=0
out=$(tw_tool_run --dry-run --linger=safe -- /usr/bin/touch "$TW_TMP/marker file") || rc=$?
assert_eq "dry-run: status" "$rc" 0
assert_eq "dry-run: nothing ran" "$([[ -e "$TW_TMP/marker file" ]] && echo ran || echo not)" not
assert_match "dry-run: the command" "$out" "exec: /usr/bin/touch '$TW_TMP/marker file'"
assert_match "dry-run: the variables" "$out" $'\n  TWSHIM_LINGER=safe\n'
assert_match "dry-run: LD_PRELOAD" "$out" "LD_PRELOAD=$TW_LIB"

# --env-file: the reader of `twshim check`; an error refuses the run.
rc=0
tw_tool_run --env-file "$TW_TMP/crlf.env" -- /usr/bin/touch "$TW_TMP/marker" 2>"$TW_TMP/err" || rc=$?
assert_eq "env-file with CR: status" "$rc" 2
assert_eq "env-file with CR: nothing ran" "$([[ -e $TW_TMP/marker ]] && echo ran || echo not)" not
assert_match "env-file with CR: the reason" "$(cat "$TW_TMP/err")" "crlf.env:1: line ends with CR"
printf '# probe settings\nTWSHIM_LINGER=0\n' >"$TW_TMP/good.env"
tw_server_start C -p 7104 -m reply -n "$N" -t 60
out=$(tw_tool_run --env-file "$TW_TMP/good.env" -- "$TW_PROBE" -q -n "$N" -s hi -r 127.0.0.1 7104)
tw_server_wait C
tw_settle 7104
assert_eq "env-file: connections ok" "$(tw_field "$out" ok)" "$N"
assert_eq "env-file: its TWSHIM_LINGER=0 took effect (TIME_WAIT left)" "$(tw_tw_count dport = :7104)" 0

# The library beside a twshim built in the tree; a copy elsewhere (as if
# installed) falls back to the install path.
out=$(env -u TWSHIM_LIBRARY "$TW_TOOL" run --dry-run -- /bin/true)
assert_match "in-tree twshim: the library of its build tree" "$out" \
	"LD_PRELOAD=$(dirname "$(dirname "$TW_TOOL")")/lib/libtwshim.so"$'\n'
mkdir -p "$TW_TMP/bin" && cp "$TW_TOOL" "$TW_TMP/bin/twshim"
rc=0
out=$(env -u TWSHIM_LIBRARY "$TW_TMP/bin/twshim" run --dry-run -- /bin/true 2>&1) || rc=$?
if [[ -e ${TWTOOL_INSTALL_LIB:?run through meson test} ]]; then
	assert_match "copy: the install path" "$out" "LD_PRELOAD=$TWTOOL_INSTALL_LIB"
else
	assert_match "copy: the install path" "$out" "library $TWTOOL_INSTALL_LIB: No such file"
fi

# setuid targets, by the kernel's AT_SECURE rule (tools/target.c, issue
# 16): root gets no secure-execution mode from a root-owned setuid bit, so
# the run goes ahead; another user's run is refused with the reason.
cp /bin/true "$TW_TMP/suid-true" && chmod 4755 "$TW_TMP/suid-true" && chmod 755 "$TW_TMP"
rc=0
out=$(tw_tool_run --dry-run --linger=safe -- "$TW_TMP/suid-true" 2>&1) || rc=$?
assert_eq "setuid target, run by root: status" "$rc" 0
assert_match "setuid target, run by root: preloaded" "$out" "LD_PRELOAD=$TW_LIB"
rc=0
pub_tool=$(tw_public "$TW_LIB" "$TW_TOOL")
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env TWSHIM_LIBRARY="$TW_PUB/${TW_LIB##*/}" \
	"$pub_tool" run --dry-run --linger=safe -- "$TW_TMP/suid-true" 2>&1) || rc=$?
assert_eq "setuid target, run by another user: status" "$rc" 2
assert_match "setuid target, run by another user: the reason" "$out" "refused: .*secure-execution mode"

tw_done
