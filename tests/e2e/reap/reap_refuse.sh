#!/usr/bin/env bash
# reap_refuse: privileges and namespaces.
#   without CAP_NET_ADMIN (root with it dropped from the bounding set, or
#     the nobody user): one line naming CAP_NET_ADMIN, exit 1, nothing
#     removed; `twshim check` says reaping cannot run; with it, it can;
#   --netns PID and --netns PATH: a reaper outside reaps a nested
#     namespace's TIME_WAIT and leaves its own namespace's alone;
#   --netns that cannot be entered: one line, exit 1.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/reap/lib_reap.sh
. "$(dirname "$0")/lib_reap.sh"
tw_need setpriv nsenter

tw_server_start A -p 7401 -m reply -t 200
out=$(python3 "$TW_CLIENT" -n 5 -s ping -r 127.0.0.1 7401)
[[ $(tw_field "$out" ok) == 5 ]] || fail "client: $out"
tw_settle 7401
assert_eq "before: TIME_WAIT" "$(tw_tw_count dport = :7401)" 5

# A public copy of twshim: nobody cannot always enter the build tree.
pub_tool=$(tw_public "$RP_TOOL")

# refuse NAME SETPRIV-ARGS...: reap without CAP_NET_ADMIN
refuse() {
	local name=$1 err rc
	shift
	err=$(setpriv "$@" -- "$pub_tool" reap --once --min-age 0 --match 127.0.0.1:7401 2>&1)
	rc=$?
	assert_eq "$name: exit status" "$rc" 1
	assert_eq "$name: message lines" "$(wc -l <<<"$err")" 1
	assert_match "$name: message names CAP_NET_ADMIN" "$err" \
		'^twshim: reap: cannot reap here: this process lacks CAP_NET_ADMIN'
	assert_eq "$name: TIME_WAIT left" "$(tw_tw_count dport = :7401)" 5
	chk=$(setpriv "$@" -- "$pub_tool" check 2>&1)
	assert_match "$name: twshim check" "$(grep -E '^  (CAP_NET_ADMIN|twshim reap) ' <<<"$chk" | tr '\n' ' ' | tr -s ' ')" \
		'CAP_NET_ADMIN no .* twshim reap cannot run here'
}
refuse "root without CAP_NET_ADMIN" --inh-caps=-all --ambient-caps=-all --bounding-set=-net_admin
refuse "nobody" --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all

chk=$("$RP_TOOL" check 2>&1)
assert_match "root: twshim check" "$(grep -E '^  (kernel SOCK_DESTROY|CAP_NET_ADMIN|twshim reap) ' <<<"$chk" | tr '\n' ' ' | tr -s ' ')" \
	'SOCK_DESTROY supported CAP_NET_ADMIN yes twshim reap can run here'
err=$(rp_reap --once --min-age 0 --match 127.0.0.1:7401 2>&1)
assert_eq "root: reaped" "$(tw_field "$err" reaped)" 5

# a nested namespace with 5 TIME_WAIT to each of 7402 and 7403
cat >"$TW_TMP/inner.py" <<'PY'
import socket
for port in (7402, 7403):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.1", port))
    l.listen(16)
    for _ in range(5):
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = l.accept()
        c.close()          # the client closes first: its TIME_WAIT
        a.recv(1)
        a.close()
PY
# shellcheck disable=SC2016 # $1 expands in the inner shell
unshare -n -- bash -c 'ip link set lo up && python3 "$1" && echo ready && exec sleep 300' \
	inner "$TW_TMP/inner.py" >"$TW_TMP/inner.out" 2>&1 &
TW_PID_I=$!
TW_SERVERS+=(I)
inner_tw() { nsenter --net="/proc/$TW_PID_I/ns/net" ss -Htan state time-wait "$@" | wc -l; }
for ((i = 0; i < 3000; i++)); do
	[[ -s $TW_TMP/inner.out ]] && (($(inner_tw) == 10)) && break
	sleep 0.01
done
[[ $(cat "$TW_TMP/inner.out") == ready ]] || fail "nested namespace: $(cat "$TW_TMP/inner.out")"
assert_eq "nested: TIME_WAIT to 7402" "$(inner_tw dport = :7402)" 5
assert_eq "nested: TIME_WAIT to 7403" "$(inner_tw dport = :7403)" 5

# outside TIME_WAIT that the same rules would match
tw_server_start O -p 7402 -m reply -t 200
out=$(python3 "$TW_CLIENT" -n 3 -s ping -r 127.0.0.1 7402)
tw_settle 7402
assert_eq "outer: TIME_WAIT to 7402" "$(tw_tw_count dport = :7402)" 3

err=$(rp_reap --netns "$TW_PID_I" --once --min-age 0 --match 127.0.0.1:7402 2>&1)
assert_eq "--netns PID: exit status" "$?" 0
assert_eq "--netns PID: reaped" "$(tw_field "$err" reaped)" 5
assert_eq "--netns PID: nested TIME_WAIT to 7402 left" "$(inner_tw dport = :7402)" 0
assert_eq "--netns PID: nested TIME_WAIT to 7403 left" "$(inner_tw dport = :7403)" 5
assert_eq "--netns PID: outer TIME_WAIT to 7402 untouched" "$(tw_tw_count dport = :7402)" 3

err=$(rp_reap --netns "/proc/$TW_PID_I/ns/net" --once --min-age 0 --match 127.0.0.1:7403 2>&1)
assert_eq "--netns PATH: reaped" "$(tw_field "$err" reaped)" 5
assert_eq "--netns PATH: nested TIME_WAIT left" "$(inner_tw)" 0
assert_eq "--netns PATH: outer TIME_WAIT to 7402 untouched" "$(tw_tw_count dport = :7402)" 3

err=$(rp_reap --netns "$TW_TMP/no-such-ns" --once --match 127.0.0.1:7402 2>&1)
rc=$?
assert_eq "--netns missing: exit status" "$rc" 1
assert_eq "--netns missing: message lines" "$(wc -l <<<"$err")" 1
assert_match "--netns missing: message" "$err" "^twshim: reap: --netns '.*no-such-ns': cannot enter"
assert_eq "--netns missing: outer TIME_WAIT untouched" "$(tw_tw_count dport = :7402)" 3

tw_done
