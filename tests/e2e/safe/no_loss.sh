#!/usr/bin/env bash
# no_loss: TWSHIM_LINGER=safe never trades data for a missing TIME_WAIT.
#
# twsafe-client writes SIZE bytes (1 B to 4 MiB) of a test pattern and
# closes at once; the test server reads slowly (4 KiB receive buffer, a
# pause per read) and checksums every connection (FNV-1a, as the client).
#   TWSHIM_LINGER=safe: every byte arrives intact, the server sees EOF and
#     no TIME_WAIT is left (the kernel resets the orphan once our FIN, so
#     every byte, is acknowledged);
#   TWSHIM_LINGER=0 (reset at once): the large writes arrive short — the
#     loss that `safe` exists to prevent, and proof the check can fail;
#   TWSHIM_LINGER=safe, TWSHIM_DRAIN_MS=1 (accepted, no effect), a very
#     slow reader: the same — intact data, EOF, no TIME_WAIT.
# Each phase has its own server port.

# shellcheck source=tests/e2e/lib_e2e.sh
. "${TWE2E_LIB_SH:-$(dirname "$0")/../lib_e2e.sh}"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/safe/lib_safe.sh
. "$(dirname "$0")/lib_safe.sh"

SIZES=(1 1000 65536 1048576 4194304)
LARGE=1048576 # from this size on, linger 0 must show loss

# phase TAG PORT SERVER-DELAY-MS CLIENT-ENV...: one client process per size.
phase() {
	local tag=$1 port=$2 delay=$3
	shift 3
	local cout=$TW_TMP/client.$port size
	: >"$cout"
	tw_server_start S -p "$port" -m sink -b 4096 -d "$delay" -n "${#SIZES[@]}" -t 120
	for size in "${SIZES[@]}"; do
		env LD_PRELOAD="$TW_LIB" "$@" "$TS_CLIENT" -p "$port" -m send -b "$size" -v \
			| grep '^conn ' >>"$cout"
	done
	tw_server_wait S || tw__fail "$tag: server did not see every connection end"
	tw_settle "$port"
	local res=$TW_TMP/pairs.$port line
	ts_intact "$cout" "$TW_OUT_S" >"$res"
	while read -r line; do
		[[ $line == pair* ]] && tw_log "$tag: $line"
	done <"$res"
	RESULT=$(tail -n 1 "$res")
	PAIRS=$res
	CTW=$(tw_tw_count dport = ":$port")
	tw_log "$tag: $RESULT client-side TIME_WAIT=$CTW"
}

phase "safe" 7301 1 TWSHIM_LINGER=safe
assert_eq "safe: connections intact" "$(tw_field "$RESULT" intact)" "${#SIZES[@]}"
assert_eq "safe: bytes received" "$(tw_field "$RESULT" received)" "$(tw_field "$RESULT" sent)"
assert_eq "safe: client-side TIME_WAIT" "$CTW" 0
assert_eq "safe: server saw every connection end with EOF" \
	"$(tw_field "$TW_SUMMARY_S" eof)" "${#SIZES[@]}"

phase "linger 0" 7302 1 TWSHIM_LINGER=0
assert_eq "linger 0: client-side TIME_WAIT" "$CTW" 0
while read -r kind line; do
	[[ $kind == pair ]] || continue
	sent=$(tw_field "$line" sent)
	((sent >= LARGE)) && assert_match "linger 0: size $sent did not arrive intact (received=$(tw_field "$line" received))" \
		"$(tw_field "$line" verdict)" '^(short|corrupt|unmatched)$'
done <"$PAIRS"

phase "safe drain=1, slow reader" 7303 5 TWSHIM_LINGER=safe TWSHIM_DRAIN_MS=1
assert_eq "safe drain=1: connections intact" "$(tw_field "$RESULT" intact)" "${#SIZES[@]}"
assert_eq "safe drain=1: bytes received" "$(tw_field "$RESULT" received)" \
	"$(tw_field "$RESULT" sent)"
assert_eq "safe drain=1: client-side TIME_WAIT" "$CTW" 0
assert_eq "safe drain=1: server saw every connection end with EOF" \
	"$(tw_field "$TW_SUMMARY_S" eof)" "${#SIZES[@]}"

tw_done
