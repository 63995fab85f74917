#!/usr/bin/env bash
# tool_check: `twshim check` rejects every malformed variable (exit 2, one
# line naming it), from the environment and from an env file; accepts the
# shipped examples/env/*.env; reports env-file syntax that systemd and docker
# read differently; prints the sysctls and the documented warnings.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"

# Malformed values, per variable.  Every variable the parser knows must
# have at least one (checked below), so a new variable cannot go untested.
declare -A BAD=(
	[TWSHIM_LINGER]="bogus|-1|3601|SAFE|"
	[TWSHIM_DRAIN_MS]="abc|60001|-5|1.5"
	[TWSHIM_PORTS]="70000|5-1|1000-70000|below|0-10"
	[TWSHIM_REUSEADDR]="2|yes|"
	[TWSHIM_REUSEPORT]="2|true"
	[TWSHIM_REUSE_PORTS]="abc|70000|9-1|0"
	[TWSHIM_MATCH]="300.1.1.1|10.0.0.0/33|[::1]:99999|example.com"
	[TWSHIM_EXCLUDE]="foo|10.0.0.1:0|::1/129"
	[TWSHIM_LOG]="loud|ERROR"
	[TWSHIM_LOG_FILE]="relative/path|"
	[TWSHIM_STATS_SIGNAL]="TERM|usr1|10|"
	[TWSHIM_ONLY_PROGRAMS]="/usr/bin/curl|a,,b|curl wget|"
	[TWSHIM_SKIP_PROGRAMS]="curl,|/bin/sh"
	[TWSHIM_DISABLE]="2|yes"
)

mapfile -t vars < <("$TW_TOOL" check --list-variables)
assert_ge "variables listed" "${#vars[@]}" 11
for v in "${vars[@]}"; do
	[[ -n ${BAD[$v]+x} ]] || tw__fail "no malformed value tested for $v"
done

for v in "${!BAD[@]}"; do
	IFS='|' read -r -a values <<<"${BAD[$v]}|"
	unset 'values[${#values[@]}-1]' # the trailing separator added above
	for val in "${values[@]}"; do
		# from the environment
		rc=0
		err=$(env "$v=$val" "$TW_TOOL" check -q 2>&1 >/dev/null) || rc=$?
		assert_eq "env $v='$val': status" "$rc" 2
		assert_match "env $v='$val': message" "$err" "^twshim: check: $v=\"[^\"]*\" is not valid"
		# from an env file
		printf '%s=%s\n' "$v" "$val" >"$TW_TMP/bad.env"
		rc=0
		err=$(env -u "$v" "$TW_TOOL" check -q "$TW_TMP/bad.env" 2>&1 >/dev/null) || rc=$?
		assert_eq "file $v='$val': status" "$rc" 2
		assert_match "file $v='$val': message" "$err" "^twshim: check: $v=\"[^\"]*\" is not valid"
	done
done

# Valid values pass, and the inherited environment is ignored with a file.
rc=0
TWSHIM_LINGER=bogus "$TW_TOOL" check -q /dev/null || rc=$?
assert_eq "a file ignores the environment" "$rc" 0
rc=0
TWSHIM_LINGER=safe TWSHIM_DRAIN_MS=500 TWSHIM_PORTS=above TWSHIM_MATCH='10.0.0.0/8:80,[fd00::/8]:443,*:8080' \
	TWSHIM_EXCLUDE=10.1.0.0/16 TWSHIM_LOG=info TWSHIM_LOG_FILE=/tmp/tw.log TWSHIM_REUSEADDR=1 \
	TWSHIM_REUSE_PORTS=8080 TWSHIM_DISABLE=0 "$TW_TOOL" check >"$TW_TMP/ok.out" || rc=$?
assert_eq "valid environment: status" "$rc" 0
out=$(cat "$TW_TMP/ok.out")
assert_match "shows the policy" "$out" "TWSHIM_PORTS +above +client source ports 40010-65535"
for s in ip_local_port_range ip_local_reserved_ports tcp_tw_reuse tcp_timestamps tcp_fin_timeout; do
	assert_match "shows $s" "$out" "net\.ipv4\.$s "
done
assert_match "shows this namespace's range" "$out" "ip_local_port_range +40000 40009"
assert_match "valid result" "$out" "result: valid"

# Every shipped env file is valid.
shopt -s nullglob
files=("$TW_SRC"/examples/env/*.env)
assert_ge "example env files" "${#files[@]}" 1
for f in "${files[@]}"; do
	rc=0
	"$TW_TOOL" check "$f" >"$TW_TMP/ex.out" 2>&1 || rc=$?
	assert_eq "$(basename "$f") passes twshim check" "$rc" 0
	assert_eq "$(basename "$f"): no warning about env-file syntax" \
		"$(grep -c "$(basename "$f"):[0-9]*:" "$TW_TMP/ex.out")" 0
done

# Env-file syntax: errors (exit 2) and warnings (exit 0).
printf ';comment\nTWSHIM_LINGER=safe\n' >"$TW_TMP/semi.env"
rc=0; err=$("$TW_TOOL" check -q "$TW_TMP/semi.env" 2>&1) || rc=$?
assert_eq "';' comment: status" "$rc" 2
assert_match "';' comment: message" "$err" "semi.env:1: ';' starts a comment for systemd only"
printf 'TWSHIM_LINGER\n' >"$TW_TMP/bare.env"
rc=0; err=$("$TW_TOOL" check -q "$TW_TMP/bare.env" 2>&1) || rc=$?
assert_eq "bare name: status" "$rc" 2
printf 'TWSHIM_LINGER="safe"\n' >"$TW_TMP/quoted.env"
rc=0; err=$("$TW_TOOL" check "$TW_TMP/quoted.env" 2>&1) || rc=$?
assert_eq "quoted value (docker keeps the quotes): status" "$rc" 2
assert_match "quoted value: warning" "$err" "quoted value: systemd removes the quotes, docker keeps them"
rc=0; "$TW_TOOL" check /nonexistent.env 2>/dev/null || rc=$?
assert_eq "unreadable file: status" "$rc" 1

# Warnings.
out=$(TWSHIM_PORTS=40005-40100 "$TW_TOOL" check)
assert_match "warns: pinned range overlaps the ephemeral range" "$out" "warning: TWSHIM_PORTS=40005-40100 overlaps ip_local_port_range 40000-40009"
out=$(TWSHIM_REUSEPORT=1 "$TW_TOOL" check)
assert_match "warns: REUSEPORT risk" "$out" "warning: TWSHIM_REUSEPORT=1: any process of the same user"
sysctl -qw net.ipv4.tcp_timestamps=0 || fail "cannot set tcp_timestamps"
out=$(TWSHIM_PORTS=above "$TW_TOOL" check)
assert_match "warns: timestamps off weaken pinning" "$out" "warning: net\.ipv4\.tcp_timestamps=0 makes pinning weaker"
sysctl -qw net.ipv4.tcp_timestamps=1
out=$(TWSHIM_PORTS=above "$TW_TOOL" check)
assert_eq "no timestamps warning when on" "$(grep -c 'tcp_timestamps=0' <<<"$out")" 0
out=$(TWSHIM_LINGR=safe "$TW_TOOL" check)
assert_match "unknown TWSHIM_ name flagged" "$out" "TWSHIM_LINGR +unknown variable"

tw_done
