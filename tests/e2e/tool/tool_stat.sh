#!/usr/bin/env bash
# tool_stat: `twshim stat` (NETLINK_SOCK_DIAG) counts what ss counts.
#
# In a private namespace: thousands of client TIME_WAIT over IPv4 and IPv6,
# some on explicitly bound source ports (reserved, above and below the
# ephemeral range), held ESTABLISHED connections and listeners.  Then:
#   - per-state counts and the total equal ss's, snapshot between two equal
#     ss snapshots;
#   - the TIME_WAIT split by local port equals ss with port filters;
#   - filters (--dst, --dport, --sport) equal ss with the same filter;
#   - under load (a client still making connections to a port of its own)
#     the TIME_WAIT count of that port lies between an ss count taken just
#     before and one just after (it only grows while the load runs);
#   - --watch stops after --count samples, and on SIGINT.

export TW_PORT_RANGE="20000 40000"
# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/tool/lib_tool.sh
. "$(dirname "$0")/lib_tool.sh"
tw_need python3
sysctl -qw net.ipv4.ip_local_reserved_ports=20010-20019 || fail "cannot set ip_local_reserved_ports"

N4=${TW_CONNS:-2200}
N6=300

tw_server_start V4 -p 7201 -m reply -t 200
tw_server_start V6 -a ::1 -p 7202 -m reply -t 200

python3 "$TW_CLIENT" -n "$N4" -s x -r 127.0.0.1 "$TW_PORT_V4" >"$TW_TMP/c4" || fail "IPv4 client: $(cat "$TW_TMP/c4")"
python3 "$TW_CLIENT" -n "$N6" -s x -r -6 ::1 "$TW_PORT_V6" >"$TW_TMP/c6" || fail "IPv6 client: $(cat "$TW_TMP/c6")"

# Explicit source ports: 10 reserved, 40 below the range, 60 above it.
python3 - "$TW_PORT_V4" <<'PY' || fail "bound client failed"
import socket, sys
port = int(sys.argv[1])
for src in list(range(20010, 20020)) + list(range(10000, 10040)) + list(range(50000, 50060)):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", src))
    s.connect(("127.0.0.1", port))
    s.sendall(b"x\n")
    s.recv(16)
    s.close()
PY

# 25 connections held open until stdin closes.
coproc HOLD { python3 -c '
import socket, sys
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(25)]
print("ready", flush=True)
sys.stdin.read()
' "$TW_PORT_V4"; }
read -r -t 120 ready <&"${HOLD[0]}" || true
[[ $ready == ready ]] || fail "holder did not connect"

# ss state names -> twshim's
ss_states() {
	ss -Htan | awk '{print $1}' | sed -e 's/^ESTAB$/ESTABLISHED/' -e 's/^UNCONN$/CLOSE/' \
		-e 's/^FIN-WAIT-1$/FIN_WAIT1/' -e 's/^FIN-WAIT-2$/FIN_WAIT2/' -e 's/-/_/g' | sort | uniq -c |
		awk '{print $2 "=" $1}' | sort
}
tool_states() {
	"$TW_TOOL" stat --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k, v in sorted(d["states"].items()):
    if v:
        print("%s=%d" % (k, v))
print("TOTAL=%d" % d["total"])'
}

# Stable snapshot: ss, twshim, ss again; retry while connections still settle.
match=no
for attempt in 1 2 3 4 5 6 7 8 9 10; do
	a=$(ss_states)
	t=$(tool_states)
	b=$(ss_states)
	[[ $a == "$b" ]] || continue
	total=$(ss -Htan | wc -l)
	tw_log "attempt $attempt: ss: $(tr '\n' ' ' <<<"$a") total=$total"
	tw_log "attempt $attempt: twshim: $(tr '\n' ' ' <<<"$t")"
	assert_eq "per-state counts equal ss" "$(grep -v '^TOTAL=' <<<"$t")" "$a"
	assert_eq "total equals ss" "$(sed -n 's/^TOTAL=//p' <<<"$t")" "$total"
	match=yes
	break
done
[[ $match == yes ]] || fail "ss never gave two equal snapshots"

tw_all=$(tw_tw_count)
assert_ge "TIME_WAIT present (ss)" "$tw_all" 2000

json=$("$TW_TOOL" stat --json --top 3)
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$json"; }
assert_eq "TIME_WAIT total = ss" "$(field "$json" 'd["time_wait"]["total"]')" "$tw_all"
assert_eq "TIME_WAIT reserved = ss sport 20010-20019" "$(field "$json" 'd["time_wait"]["reserved"]')" \
	"$(tw_tw_count '( sport >= :20010 and sport <= :20019 )')"
assert_eq "TIME_WAIT reserved" "$(field "$json" 'd["time_wait"]["reserved"]')" 10
assert_eq "TIME_WAIT above = ss sport > 40000" "$(field "$json" 'd["time_wait"]["above"]')" \
	"$(tw_tw_count '( sport > :40000 )')"
assert_eq "TIME_WAIT other = ss sport < 20000" "$(field "$json" 'd["time_wait"]["other"]')" \
	"$(tw_tw_count '( sport < :20000 )')"
assert_eq "TIME_WAIT ephemeral = ss ephemeral minus reserved" "$(field "$json" 'd["time_wait"]["ephemeral"]')" \
	"$(($(tw_tw_count '( sport >= :20000 and sport <= :40000 )') - 10))"
assert_eq "ipv6 sockets = ss -6" "$(field "$json" 'd["ipv6"]')" "$(ss -Htan -6 | wc -l)"
assert_eq "top destination" "$(field "$json" 'd["top_destinations"][0]["address"] + ":" + str(d["top_destinations"][0]["port"])')" \
	"127.0.0.1:$TW_PORT_V4"
assert_eq "top destination count = ss dst" "$(field "$json" 'd["top_destinations"][0]["count"]')" \
	"$(tw_tw_count dst "127.0.0.1:$TW_PORT_V4")"
assert_eq "second destination" "$(field "$json" 'd["top_destinations"][1]["address"]')" "::1"

# Filters equal ss with the same filter.
tw_of() { "$TW_TOOL" stat --json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["time_wait"]["total"])'; }
assert_eq "--dst ::1 = ss dst [::1]" "$(tw_of --dst ::1)" "$(tw_tw_count dst '[::1]')"
assert_eq "--dst 127.0.0.0/8 = ss dst 127.0.0.0/8" "$(tw_of --dst 127.0.0.0/8)" "$(tw_tw_count dst 127.0.0.0/8)"
assert_eq "--dport = ss dport" "$(tw_of --dport "$TW_PORT_V6")" "$(tw_tw_count dport = ":$TW_PORT_V6")"
assert_eq "--sport 50000-65535 = ss" "$(tw_of --sport 50000-65535)" "$(tw_tw_count '( sport >= :50000 )')"
assert_eq "--sport 50000-65535" "$(tw_of --sport 50000-65535)" 60

# Under load: a client keeps connecting while we count.  It talks to a
# server of its own and the counts are of its port only: TIME_WAIT the
# first clients left can expire meanwhile when the run is slow (60 s after
# they were made), the load's own cannot while it runs.
tw_server_start L -p 7203 -m reply -t 200
python3 "$TW_CLIENT" -n 3000 -s x -r 127.0.0.1 "$TW_PORT_L" >"$TW_TMP/c-load" &
load=$!
for i in 1 2 3; do
	before=$(tw_tw_count dport = ":$TW_PORT_L")
	during=$(tw_of --dport "$TW_PORT_L")
	after=$(tw_tw_count dport = ":$TW_PORT_L")
	tw_log "under load $i: ss before=$before twshim=$during ss after=$after"
	assert_ge "under load $i: twshim >= ss before" "$during" "$before"
	assert_le "under load $i: twshim <= ss after" "$during" "$after"
done
wait "$load" || tw__fail "load client failed: $(cat "$TW_TMP/c-load")"

# Human table and --watch.
out=$("$TW_TOOL" stat --top 2)
assert_match "table: TIME_WAIT line" "$out" "TIME_WAIT +[0-9]+"
assert_match "table: ephemeral line" "$out" "ephemeral \(20000-40000\) +[0-9]+"
rc=0
lines=$("$TW_TOOL" stat --json --watch 1 --count 2 | wc -l) || rc=$?
assert_eq "--watch 1 --count 2: samples" "$lines" 2
assert_eq "--watch --count: status" "$rc" 0
mkfifo "$TW_TMP/watch"
"$TW_TOOL" stat --json --watch 60 >"$TW_TMP/watch" &
wpid=$!
read -r -t 120 first <"$TW_TMP/watch" || true
assert_match "--watch: first sample" "$first" '^\{"time":'
kill -INT "$wpid"
rc=0
wait "$wpid" || rc=$?
assert_eq "--watch stops on SIGINT with status 0" "$rc" 0
rc=0
"$TW_TOOL" stat --dst 10.0.0.0/40 2>/dev/null || rc=$?
assert_eq "bad --dst: status" "$rc" 2

eval "exec ${HOLD[1]}>&-"
wait "$HOLD_PID" 2>/dev/null
tw_done
