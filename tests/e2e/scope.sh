#!/usr/bin/env bash
# scope: TWSHIM_MATCH / TWSHIM_EXCLUDE choose which destinations get
# TWSHIM_LINGER=0.
#
# Each case runs the probe (TW_SCOPE_CONNS, default 200, connections) under
# the library against two listeners, one selected by the rules and one not:
#   selected:     no failure, no client-side TIME_WAIT;
#   not selected: the library leaves it alone, so with 10 ephemeral ports it
#                 runs out (EADDRNOTAVAIL) and keeps its TIME_WAIT.
# The "not selected" half is also what shows the test can fail: a library
# that ignored the rules would make both halves look the same.
# Every case uses fresh server ports: TIME_WAIT from one case never touches
# another's 4-tuples.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/lib_e2e.sh"
tw_netns_enter "$@"
tw_need "$TW_PROBE"

N=${TW_SCOPE_CONNS:-200}

# run_probe TAG FAMILYFLAG HOST PORT -> sets LINE; rules come from the caller's env
run_probe() {
	local tag=$1 fam=$2 host=$3 port=$4
	local args=(-q -n "$N" -s hello -r)
	[[ $fam == 6 ]] && args+=(-6)
	LINE=$(tw_preload "$TW_PROBE" "${args[@]}" "$host" "$port")
	tw_log "$tag: probe $host $port says: $LINE"
}

# expect_selected TAG HOST PORT  /  expect_untouched TAG HOST PORT
# (TIME_WAIT counted on the client side: destination HOST:PORT)
expect_selected() {
	local tag=$1 dst=$2
	assert_eq "$tag attempted" "$(tw_field "$LINE" attempted)" "$N"
	assert_eq "$tag failures" "$(tw_field "$LINE" failed)" 0
	assert_eq "$tag replies" "$(tw_field "$LINE" replies)" "$N"
	assert_eq "$tag client-side TIME_WAIT to $dst" "$(tw_tw_count dst "$dst")" 0
}

expect_untouched() {
	local tag=$1 dst=$2
	assert_eq "$tag attempted" "$(tw_field "$LINE" attempted)" "$N"
	assert_gt "$tag EADDRNOTAVAIL (library left it alone)" "$(tw_field "$LINE" eaddrnotavail)" 0
	assert_gt "$tag client-side TIME_WAIT to $dst" "$(tw_tw_count dst "$dst")" 0
}

# scope_case NAME "VAR=VALUE ..." SEL_FAM SEL_HOST SEL_PORT SEL_SS OTHER_FAM OTHER_HOST OTHER_PORT OTHER_SS
# Servers must already listen.  *_SS is the ss "dst" filter for the target.
scope_case() {
	local name=$1 envs=$2
	local -a vars
	read -r -a vars <<<"$envs"
	tw_log "case $name: $envs"
	export TWSHIM_LINGER=0
	local v
	for v in "${vars[@]}"; do export "${v?}"; done
	run_probe "$name/selected" "$3" "$4" "$5"
	expect_selected "$name/selected" "$6"
	run_probe "$name/not-selected" "$7" "$8" "$9"
	expect_untouched "$name/not-selected" "${10}"
	unset TWSHIM_LINGER TWSHIM_MATCH TWSHIM_EXCLUDE
}

# Listeners: 127.0.0.1 and 127.0.0.2 (both on lo), ::1.
tw_server_start A1 -a 127.0.0.1 -p 7101 -m reply -t 120
tw_server_start A2 -a 127.0.0.2 -p 7102 -m reply -t 120
tw_server_start B1 -a 127.0.0.1 -p 7103 -m reply -t 120
tw_server_start B2 -a 127.0.0.1 -p 7104 -m reply -t 120
tw_server_start C1 -a 127.0.0.1 -p 7105 -m reply -t 120
tw_server_start C2 -a 127.0.0.2 -p 7106 -m reply -t 120
tw_server_start D1 -a ::1 -p 7107 -m reply -t 120
tw_server_start D2 -a ::1 -p 7108 -m reply -t 120
tw_server_start E1 -a 127.0.0.1 -p 7109 -m reply -t 120
tw_server_start E2 -a ::1 -p 7110 -m reply -t 120
tw_server_start F1 -a 127.0.0.2 -p 7111 -m reply -t 120
tw_server_start F2 -a 127.0.0.1 -p 7112 -m reply -t 120

# By address: only 127.0.0.2 is selected.
scope_case addr "TWSHIM_MATCH=127.0.0.2/32" \
	4 127.0.0.2 7102 127.0.0.2:7102 \
	4 127.0.0.1 7101 127.0.0.1:7101

# By port: *:PORT selects one of two listeners on the same address.
scope_case port "TWSHIM_MATCH=*:7104" \
	4 127.0.0.1 7104 127.0.0.1:7104 \
	4 127.0.0.1 7103 127.0.0.1:7103

# EXCLUDE wins over MATCH: 127/8 matches both, 127.0.0.1 is excluded.
scope_case exclude-wins "TWSHIM_MATCH=127.0.0.0/8 TWSHIM_EXCLUDE=127.0.0.1/32" \
	4 127.0.0.2 7106 127.0.0.2:7106 \
	4 127.0.0.1 7105 127.0.0.1:7105

# IPv6 rule with a port: [::1]:7108 only.
scope_case ipv6 "TWSHIM_MATCH=[::1/128]:7108" \
	6 ::1 7108 '[::1]:7108' \
	6 ::1 7107 '[::1]:7107'

# An IPv4-mapped IPv6 destination follows the IPv4 rule; ::1 is not 127/8.
# (The server listens on 127.0.0.1; an AF_INET6 socket reaches it through
# ::ffff:127.0.0.1, and ss shows that destination in its mapped form.)
scope_case v4-mapped "TWSHIM_MATCH=127.0.0.1/32" \
	6 ::ffff:127.0.0.1 7109 '[::ffff:127.0.0.1]:7109' \
	6 ::1 7110 '[::1]:7110'

# EXCLUDE alone (MATCH unset = everything): a v4-mapped destination is
# excluded by its IPv4 rule.
scope_case exclude-only "TWSHIM_EXCLUDE=127.0.0.1/32" \
	4 127.0.0.2 7111 127.0.0.2:7111 \
	6 ::ffff:127.0.0.1 7112 '[::ffff:127.0.0.1]:7112'

tw_done
