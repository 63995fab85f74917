#!/usr/bin/env bash
# untouched (reuse): TWSHIM_REUSEADDR / TWSHIM_REUSEPORT change only TCP
# sockets bound to a non-zero port, never a program's own choice, and only
# the ports TWSHIM_REUSE_PORTS lists when it is set.
#
# twreuse-untouched binds one socket per spec and prints what
# getsockopt(SO_REUSEADDR / SO_REUSEPORT) says after bind().
#   no library: everything 0 (baseline);
#   TWSHIM_REUSEADDR=1 TWSHIM_REUSEPORT=1: TCP (v4 and v6) on a fixed port
#     gets 1/1 (contrast: the check can see the library act); UDP, port-0
#     binds and AF_UNIX stay 0/0; a program that sets SO_REUSEADDR (or
#     SO_REUSEPORT) to 0 itself keeps that 0;
#   TWSHIM_REUSE_PORTS=8080,9000-9010: only those ports get the option.

# shellcheck source=tests/e2e/lib_e2e.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib_e2e.sh}"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/reuse/lib_reuse.sh
. "$(dirname "$0")/lib_reuse.sh"
[[ -x $RS_UNTOUCHED ]] || fail "TWREUSE_UNTOUCHED='$RS_UNTOUCHED' is not executable"

# check TAG OUTPUT SPEC EXPECTED(reuseaddr/reuseport)
check() {
	local tag=$1 out=$2 spec=$3 want=$4 line
	line=$(grep -F -- "$spec " <<<"$out" | head -n 1)
	assert_eq "$tag: $spec bind" "$(tw_field "$line" bind)" ok
	assert_eq "$tag: $spec SO_REUSEADDR/SO_REUSEPORT" \
		"$(tw_field "$line" reuseaddr)/$(tw_field "$line" reuseport)" "$want"
}

SPECS=(tcp:9101 tcp6:9102 udp:9103 udp6:9104 tcp:0 unix tcp-noaddr:9105 tcp-noport:9106)

out=$("$RS_UNTOUCHED" "${SPECS[@]}")
tw_log "no library:"$'\n'"$out"
for s in "${SPECS[@]}"; do
	check "no library" "$out" "$s" 0/0
done

tag="REUSEADDR=1 REUSEPORT=1"
out=$(TWSHIM_REUSEADDR=1 TWSHIM_REUSEPORT=1 tw_preload "$RS_UNTOUCHED" "${SPECS[@]}")
tw_log "$tag:"$'\n'"$out"
check "$tag" "$out" tcp:9101 1/1
check "$tag" "$out" tcp6:9102 1/1
check "$tag" "$out" udp:9103 0/0
check "$tag" "$out" udp6:9104 0/0
check "$tag" "$out" tcp:0 0/0
check "$tag" "$out" unix 0/0
check "$tag" "$out" tcp-noaddr:9105 0/1
check "$tag" "$out" tcp-noport:9106 1/0

tag="REUSEADDR=1 REUSE_PORTS=8080,9000-9010"
LIMITED=(tcp:8080 tcp:8081 tcp:7999 tcp:9000 tcp:9005 tcp:9010 tcp:9011 tcp:8999)
out=$(TWSHIM_REUSEADDR=1 TWSHIM_REUSE_PORTS=8080,9000-9010 tw_preload "$RS_UNTOUCHED" "${LIMITED[@]}")
tw_log "$tag:"$'\n'"$out"
check "$tag" "$out" tcp:8080 1/0
check "$tag" "$out" tcp:8081 0/0
check "$tag" "$out" tcp:7999 0/0
check "$tag" "$out" tcp:9000 1/0
check "$tag" "$out" tcp:9005 1/0
check "$tag" "$out" tcp:9010 1/0
check "$tag" "$out" tcp:9011 0/0
check "$tag" "$out" tcp:8999 0/0

tw_done
