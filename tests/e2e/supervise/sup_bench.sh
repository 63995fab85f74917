#!/usr/bin/env bash
# sup_bench: what supervision costs.  N request/reply connections, closed
# with linger 0 — set by the probe itself without the supervisor, by the
# supervisor (TWSHIM_LINGER=0) with it — against the test server, in a
# namespace with the full ephemeral range.  Prints connections per second
# with and without, and the time added per connect:
#   (elapsed supervised - elapsed unsupervised) / N
# Best of TW_BENCH_RUNS runs each.  Asserts only that every connection
# succeeded.

export TW_PORT_RANGE="32768 60999"
# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/supervise/lib_sup.sh
. "$(dirname "$0")/lib_sup.sh"
sup_init
sup_build_goprobe

N=${TW_CONNS:-5000}
RUNS=${TW_BENCH_RUNS:-3}
PORT=7100

# best NAME CMD...: run CMD RUNS times against a fresh server each time;
# sets BEST_US (lowest elapsed_us) and BEST_LINE.
best() {
	local name=$1 i line el
	shift
	BEST_US=
	for ((i = 0; i < RUNS; i++)); do
		PORT=$((PORT + 1))
		tw_server_start S -p "$PORT" -m reply -n "$N" -t 120
		line=$("$@" | sed "s/@PORT@/$PORT/g")
		tw_server_wait S || tw__fail "$name: server did not see $N connections end"
		assert_eq "$name run $i: failures" "$(tw_field "$line" failed)" 0
		el=$(tw_field "$line" elapsed_us)
		if [[ -z $BEST_US ]] || ((el < BEST_US)); then
			BEST_US=$el
			BEST_LINE=$line
		fi
	done
	tw_log "$name: best of $RUNS: $BEST_LINE"
}

static_plain() { "$SUP_SP" probe 127.0.0.1 "$PORT" "$N" request linger0; }
static_sup() { TWSHIM_LINGER=0 "$SUP_DRIVER" -- "$SUP_SP" probe 127.0.0.1 "$PORT" "$N" request; }
go_plain() { "$SUP_GO" -addr "127.0.0.1:$PORT" -n "$N" -c "$1" -request -linger0; }
go_sup() { TWSHIM_LINGER=0 "$SUP_DRIVER" -- "$SUP_GO" -addr "127.0.0.1:$PORT" -n "$N" -c "$1" -request; }

report() {
	local name=$1 plain=$2 sup=$3
	tw_log "RESULT $name: $(awk -v n="$N" -v p="$plain" -v s="$sup" 'BEGIN {
		printf "unsupervised %d conn/s, supervised %d conn/s, added %.1f us per connect",
			n * 1e6 / p, n * 1e6 / s, (s - p) / n }')"
}

static_plain_c() { "$SUP_SP" probe 127.0.0.1 "$PORT" "$N" linger0; }
static_sup_c() { TWSHIM_LINGER=0 "$SUP_DRIVER" -- "$SUP_SP" probe 127.0.0.1 "$PORT" "$N"; }

best "static connect-only unsupervised" static_plain_c; p=$BEST_US
best "static connect-only supervised" static_sup_c; s=$BEST_US
report "static C probe, connect+close only" "$p" "$s"

best "static unsupervised" static_plain; p=$BEST_US
best "static supervised" static_sup; s=$BEST_US
report "static C probe, request/reply" "$p" "$s"

best "go -c 1 unsupervised" go_plain 1; p=$BEST_US
best "go -c 1 supervised" go_sup 1; s=$BEST_US
report "Go probe, 1 goroutine" "$p" "$s"

best "go -c 8 unsupervised" go_plain 8; p=$BEST_US
best "go -c 8 supervised" go_sup 8; s=$BEST_US
report "Go probe, 8 goroutines" "$p" "$s"

tw_done
