#!/usr/bin/env bash
# tool_statlive: `twshim stat` shows how full the ephemeral range is, in
# Prometheus text format too (issue 18, item 3).
#
# In a namespace with a 10-port ephemeral range, the probe makes 6 short
# connections to one server and closes first: 6 TIME_WAIT sockets hold 6
# of the 10 ports toward that destination (4 more and connect() fails with
# EADDRNOTAVAIL).  stat must say so — table, --json, --prom, per
# destination — with numbers equal to what ss counts from the kernel;
# --state keeps only the named states; --watch headers are UTC times.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need ss python3

tw_server_start S -p 7301 -m reply -n 6 -t 60
out=$("$TW_PROBE" -q -n 6 -s hi -r 127.0.0.1 7301)
tw_server_wait S
tw_settle 7301
assert_eq "probe: ok" "$(tw_field "$out" ok)" 6
tw_count=$(tw_tw_count dport = :7301)
used=$(ss -Htan "( sport >= :40000 and sport <= :40009 )" | awk '{print $4}' | sed 's/.*://' | sort -u | wc -l)
assert_eq "kernel: TIME_WAIT toward the server" "$tw_count" 6
assert_eq "kernel: ephemeral ports in use" "$used" 6

# Table.
out=$("$TW_TOOL" stat --by-dest)
assert_match "table: range fullness" "$out" "ephemeral range 40000-40009: 6 of 10 ports in use \(60%\)"
assert_match "table: per destination" "$out" "127\.0\.0\.1:7301 +6 \(60%\)"

# Prometheus text format: every sample line well formed, HELP and TYPE first.
prom=$("$TW_TOOL" stat --prom --by-dest)
bad=$(grep -vE '^# (HELP|TYPE) twshim_[a-z_]+ .+$|^twshim_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+$' <<<"$prom" || true)
assert_eq "prom: malformed lines" "${bad:-none}" none
for m in twshim_tcp_sockets twshim_time_wait_sockets twshim_ephemeral_ports twshim_ephemeral_ports_used \
	twshim_ephemeral_ports_used_by_destination; do
	assert_eq "prom: TYPE of $m" "$(grep -c "^# TYPE $m gauge$" <<<"$prom")" 1
done
assert_match "prom: TIME_WAIT sockets" "$prom" $'\ntwshim_tcp_sockets\\{state="time_wait"\\} 6\n'
assert_match "prom: range size" "$prom" $'\ntwshim_ephemeral_ports 10\n'
assert_match "prom: range use" "$prom" $'\ntwshim_ephemeral_ports_used 6\n'
assert_match "prom: per destination" "$prom" \
	'twshim_ephemeral_ports_used_by_destination\{address="127\.0\.0\.1",port="7301"\} 6'

# JSON.
j=$("$TW_TOOL" stat --json --by-dest)
assert_eq "json: ephemeral" "$(python3 -c 'import json,sys; e=json.load(sys.stdin)["ephemeral"]; print(e["size"], e["used"], e["by_destination"][0]["count"])' <<<"$j")" "10 6 6"

# --state: only the named states.
out=$("$TW_TOOL" stat --state established --json)
assert_eq "--state established: total" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' <<<"$out")" 0
out=$("$TW_TOOL" stat --state TIME-WAIT,listen --json)
assert_eq "--state time-wait,listen: total" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' <<<"$out")" \
	"$(ss -Htan state time-wait state listening | wc -l)"
rc=0
"$TW_TOOL" stat --state waiting 2>"$TW_TMP/err" || rc=$?
assert_eq "--state bad: status" "$rc" 2
assert_match "--state bad: message" "$(cat "$TW_TMP/err")" "invalid value 'waiting' for --state \(accepted: "

# --watch: the header is a UTC time.
out=$("$TW_TOOL" stat --watch 1 --count 1 --top 0)
assert_match "--watch header" "$(head -n 1 <<<"$out")" '^--- [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

tw_done
