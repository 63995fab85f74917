#!/usr/bin/env bash
# reap_scope: the reaper touches only its scope, counted from the kernel
# before and after each run (`twshim reap --once --min-age 0`):
#   --match 127.0.0.1:7101 ends exactly the TIME_WAIT to that destination;
#     TIME_WAIT to another port, another address, IPv6 are left, and an
#     open connection to the same destination keeps working;
#   --match 127.0.0.0/8 --exclude 127.0.0.2: exclude wins;
#   IPv6 rules, and IPv4 rules on IPv4-mapped IPv6 sockets (a dual-stack
#     client), as the library's matcher decides;
#   --local-ports with --match: only local ports in the list, to that port;
#   no scope: refused (exit 2), nothing removed.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/reap/lib_reap.sh
. "$(dirname "$0")/lib_reap.sh"

# tw_make HOST PORT N [-6]: N client TIME_WAIT toward HOST:PORT.
tw_make() {
	local out
	out=$(python3 "$TW_CLIENT" -n "$3" -s ping -r ${4:+"$4"} "$1" "$2")
	[[ $(tw_field "$out" ok) == "$3" ]] || fail "client to $1:$2: $out"
}

tw_server_start A -p 7101 -m reply -t 200
tw_server_start B -p 7102 -m reply -t 200
tw_server_start C -a 127.0.0.2 -p 7101 -m reply -t 200
tw_server_start D -a ::1 -p 7103 -m reply -t 200
tw_server_start E -p 7104 -m reply -t 200
tw_server_start F -p 7105 -m reply -t 200

tw_make 127.0.0.1 7101 5
tw_make 127.0.0.1 7102 5
tw_make 127.0.0.2 7101 5
tw_make ::1 7103 5 -6
tw_make ::ffff:127.0.0.1 7105 5 -6
tw_settle 7101
tw_settle 7102
tw_settle 7103
tw_settle 7105
# an open connection to the scoped destination (bash /dev/tcp), open until the end
exec 5<>/dev/tcp/127.0.0.1/7101 || fail "open connection to 7101"

count_all() {
	A=$(tw_tw_count dst 127.0.0.1 dport = :7101)
	B=$(tw_tw_count dport = :7102)
	C=$(tw_tw_count dst 127.0.0.2)
	D=$(tw_tw_count dport = :7103)
	F=$(tw_tw_count dport = :7105)
	EST=$(tw_state_count established dst 127.0.0.1 dport = :7101)
	tw_log "TIME_WAIT: 127.0.0.1:7101=$A 127.0.0.1:7102=$B 127.0.0.2:7101=$C [::1]:7103=$D mapped:7105=$F; established to 7101: $EST"
}
count_all
assert_eq "before: TIME_WAIT to 127.0.0.1:7101" "$A" 5
assert_eq "before: TIME_WAIT to 127.0.0.1:7102" "$B" 5
assert_eq "before: TIME_WAIT to 127.0.0.2:7101" "$C" 5
assert_eq "before: TIME_WAIT to [::1]:7103" "$D" 5
assert_eq "before: TIME_WAIT of mapped IPv6 sockets to 7105" "$F" 5
assert_eq "before: IPv6 family of the mapped ones" "$(ss -Htan6 state time-wait dport = :7105 | wc -l)" 5
assert_eq "before: open connection to 127.0.0.1:7101" "$EST" 1

# twshim stat covers the same scope
st=$("$RP_TOOL" stat --match 127.0.0.1:7101 --top 0)
assert_match "stat --match 127.0.0.1:7101: TIME_WAIT" "$(grep -E '^ +TIME_WAIT ' <<<"$st")" ' 5$'

# no scope
err=$(rp_reap --once --min-age 0 2>&1)
rc=$?
assert_eq "no scope: exit status" "$rc" 2
assert_match "no scope: message" "$err" '^twshim: reap: no scope'
assert_eq "no scope: message lines" "$(wc -l <<<"$err")" 1
count_all
assert_eq "no scope: nothing removed" "$((A + B + C + D + F))" 25

# one destination
err=$(rp_reap --once --min-age 0 --match 127.0.0.1:7101 2>&1)
assert_eq "--match 127.0.0.1:7101: exit status" "$?" 0
assert_eq "--match 127.0.0.1:7101: reaped" "$(tw_field "$err" reaped)" 5
count_all
assert_eq "--match 127.0.0.1:7101: its TIME_WAIT" "$A" 0
assert_eq "--match 127.0.0.1:7101: other port left" "$B" 5
assert_eq "--match 127.0.0.1:7101: other address left" "$C" 5
assert_eq "--match 127.0.0.1:7101: IPv6 left" "$D" 5
assert_eq "--match 127.0.0.1:7101: mapped to another port left" "$F" 5
assert_eq "--match 127.0.0.1:7101: open connection still there" "$EST" 1
printf 'ping\n' >&5
read -r -t 120 reply <&5
assert_eq "--match 127.0.0.1:7101: open connection still answers" "$reply" OK

# exclude wins (the mapped sockets to 7105 are in 127.0.0.0/8 too)
err=$(rp_reap --once --min-age 0 --match 127.0.0.0/8:7100-7102 --exclude 127.0.0.2 2>&1)
assert_eq "--exclude 127.0.0.2: reaped" "$(tw_field "$err" reaped)" 5
count_all
assert_eq "--exclude 127.0.0.2: 127.0.0.1:7102 reaped" "$B" 0
assert_eq "--exclude 127.0.0.2: 127.0.0.2:7101 left" "$C" 5
assert_eq "--exclude 127.0.0.2: IPv6 left" "$D" 5
assert_eq "--exclude 127.0.0.2: port 7105 left" "$F" 5

# IPv6, and an IPv6 rule that must not catch IPv4-mapped sockets
err=$(rp_reap --once --min-age 0 --match '[::/0]:7103-7105' 2>&1)
assert_eq "--match [::/0]:7103-7105: reaped" "$(tw_field "$err" reaped)" 5
count_all
assert_eq "--match [::/0]:7103-7105: [::1]:7103 reaped" "$D" 0
assert_eq "--match [::/0]:7103-7105: mapped (IPv4 for the rules) left" "$F" 5
assert_eq "--match [::/0]:7103-7105: 127.0.0.2 left" "$C" 5

# an IPv4 rule reaches the IPv4-mapped IPv6 sockets
err=$(rp_reap --once --min-age 0 --match 127.0.0.1/32:7105 2>&1)
assert_eq "--match 127.0.0.1/32:7105: reaped" "$(tw_field "$err" reaped)" 5
count_all
assert_eq "--match 127.0.0.1/32:7105: mapped sockets reaped" "$F" 0
assert_eq "--match 127.0.0.1/32:7105: 127.0.0.2 left" "$C" 5

# local ports: 10 TIME_WAIT to one destination hold all 10 ports 40000-40009
tw_make 127.0.0.1 7104 10
tw_settle 7104
assert_eq "before: TIME_WAIT to 7104 (every port of the range)" "$(tw_tw_count dport = :7104)" 10
err=$(rp_reap --once --min-age 0 --local-ports 40000-40002,40004 --match '*:7104' 2>&1)
assert_eq "--local-ports 40000-40002,40004: reaped" "$(tw_field "$err" reaped)" 4
left=$(ss -Htan state time-wait dport = :7104 | awk '{ n = split($3, a, ":"); print a[n] }' | sort -n | tr '\n' ' ')
assert_eq "--local-ports 40000-40002,40004: local ports left" "$left" "40003 40005 40006 40007 40008 40009 "
count_all
assert_eq "--local-ports with --match *:7104: 127.0.0.2 left" "$C" 5
assert_eq "the open connection is still there" "$EST" 1

tw_done
