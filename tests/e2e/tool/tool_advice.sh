#!/usr/bin/env bash
# tool_advice: `twshim check` explains the kernel 6.x TIME_WAIT sysctls of
# this network namespace (issue 18, item 4): one line each for tcp_tw_reuse
# (what 0/1/2 mean, when 1 helps), tcp_tw_reuse_delay where the kernel has
# it, tcp_max_tw_buckets, and tcp_fin_timeout (which does not shorten
# TIME_WAIT), with the current value read back from /proc/sys.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need sysctl python3

advice() { "$TW_TOOL" check | sed -n '/^advice:/,/^errors:/p'; }
for v in 0 1 2; do
	sysctl -qw net.ipv4.tcp_tw_reuse=$v || fail "cannot set tcp_tw_reuse=$v"
	out=$(advice)
	assert_eq "tcp_tw_reuse=$v: one line" "$(grep -c 'net\.ipv4\.tcp_tw_reuse=' <<<"$out")" 1
	line=$(grep 'net\.ipv4\.tcp_tw_reuse=' <<<"$out")
	assert_match "tcp_tw_reuse=$v: value and when 1 helps" "$line" \
		"^  net\.ipv4\.tcp_tw_reuse=$v: .*; 1 helps a client that reconnects to the same destinations"
	case $v in
	0) assert_match "tcp_tw_reuse=0 meaning" "$line" "never reused" ;;
	1) assert_match "tcp_tw_reuse=1 meaning" "$line" "outgoing connections may reuse" ;;
	2) assert_match "tcp_tw_reuse=2 meaning" "$line" "loopback" ;;
	esac
done
sysctl -qw net.ipv4.tcp_tw_reuse=0

out=$(advice)
fin=$(cat /proc/sys/net/ipv4/tcp_fin_timeout)
assert_match "tcp_fin_timeout: value, does not shorten TIME_WAIT" "$out" \
	"net\.ipv4\.tcp_fin_timeout=$fin: .*does not shorten TIME_WAIT"
buckets=$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets)
assert_match "tcp_max_tw_buckets: value and advice" "$out" \
	"net\.ipv4\.tcp_max_tw_buckets=$buckets: beyond this many TIME_WAIT sockets the kernel drops new ones"
if [[ -e /proc/sys/net/ipv4/tcp_tw_reuse_delay ]]; then
	sysctl -qw net.ipv4.tcp_tw_reuse_delay=2000 || fail "cannot set tcp_tw_reuse_delay"
	assert_match "tcp_tw_reuse_delay: value" "$(advice)" "net\.ipv4\.tcp_tw_reuse_delay=2000: .*after 2000 ms"
else
	assert_eq "tcp_tw_reuse_delay: no line without the sysctl" "$(grep -c tcp_tw_reuse_delay <<<"$out")" 0
fi
j=$("$TW_TOOL" check --json)
assert_eq "--json: four advice lines" "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["advice"]))' <<<"$j")" \
	"$([[ -e /proc/sys/net/ipv4/tcp_tw_reuse_delay ]] && echo 4 || echo 3)"

tw_done
