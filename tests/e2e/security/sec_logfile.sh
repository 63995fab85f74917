#!/usr/bin/env bash
# TWSHIM_LOG_FILE: opened for append with O_CLOEXEC|O_NOFOLLOW, never
# truncated, never through a symbolic link, and whole lines when many
# processes write to it at once.
# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"
tw_need strace

probe=${TWSEC_PROBE:?run through meson test} # linked to the library
host=/usr/bin/python3
[[ -x $host ]] || fail "$host not found"
# Every line starts with an RFC 3339 UTC timestamp.
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z'
preload() { env LD_PRELOAD="$TW_LIB${LD_PRELOAD:+:$LD_PRELOAD}" "$@"; }

# 1. Append, never truncate: two runs after two lines already there.
log=$TW_TMP/append.log
printf 'keep-1\nkeep-2\n' >"$log"
for i in 1 2; do
	out=$(preload TWSHIM_LINGER=junk TWSHIM_LOG_FILE="$log" "$host" -c 'print(42)' 2>"$TW_TMP/err")
	assert_eq "append run $i: stdout" "$out" 42
	assert_eq "append run $i: stderr lines" "$(wc -l <"$TW_TMP/err")" 0
done
assert_eq "lines in the log file" "$(wc -l <"$log")" 4
assert_eq "first lines kept" "$(head -n 2 "$log" | tr '\n' ' ')" "keep-1 keep-2 "
assert_eq "appended lines naming TWSHIM_LINGER" "$(grep -Ec "^$ts twshim\[python3:[0-9]+\]: error: TWSHIM_LINGER=" "$log")" 2

# 2. A symbolic link as the log file: not followed; the line goes to stderr.
target=$TW_TMP/target
printf 'target\n' >"$target"
ln -s "$target" "$TW_TMP/link.log"
out=$(preload TWSHIM_LINGER=junk TWSHIM_LOG_FILE="$TW_TMP/link.log" "$host" -c 'print(42)' 2>"$TW_TMP/err")
assert_eq "symlink: stdout" "$out" 42
assert_eq "symlink: the link's target unchanged" "$(cat "$target")" target
assert_eq "symlink: the line went to stderr instead" \
	"$(grep -Ec "^$ts twshim\[python3:[0-9]+\]: error: TWSHIM_LINGER=" "$TW_TMP/err")" 1

# 3. The open flags, as the kernel saw them.
log3=$TW_TMP/flags.log
preload TWSHIM_LINGER=junk TWSHIM_LOG_FILE="$log3" \
	strace -f -qq -e trace=open,openat -o "$TW_TMP/strace" "$probe" >"$TW_TMP/flags.out" 2>&1
opens=$(grep -F "\"$log3\"" "$TW_TMP/strace")
tw_log "open of the log file: $opens"
assert_ge "opens of the log file" "$(grep -c . <<<"$opens")" 1
for flag in O_WRONLY O_APPEND O_CLOEXEC O_NOFOLLOW O_CREAT; do
	assert_eq "every open has $flag" "$(grep -vc "$flag" <<<"$opens")" 0
done
assert_eq "opens with O_TRUNC" "$(grep -c O_TRUNC <<<"$opens")" 0

# 4. Many processes, one file: 64 at once, 3 lines each, all whole.  The
# processes log at load time and use no socket (/bin/true under the
# library), so nothing here depends on free ports.  A FIFO is their starting
# gate: each opens it and blocks until the test opens the write end, so they
# start their writes together.
shared=$TW_TMP/shared.log
gate=$TW_TMP/gate
mkfifo "$gate" || fail "mkfifo $gate"
n=64
pids=()
for ((i = 0; i < n; i++)); do
	(
		exec 3<"$gate"
		exec env LD_PRELOAD="$TW_LIB${LD_PRELOAD:+:$LD_PRELOAD}" TWSHIM_LINGER=junk \
			TWSHIM_PORTS=junk TWSHIM_DRAIN_MS=junk TWSHIM_LOG_FILE="$shared" /bin/true
	) 2>>"$TW_TMP/err.shared" &
	pids+=($!)
done
exec 4>"$gate" # opens the gate (returns once a first process waits at it)
bad_exit=0
for p in "${pids[@]}"; do
	wait "$p" || bad_exit=$((bad_exit + 1))
done
exec 4>&-
assert_eq "processes that failed" "$bad_exit" 0
assert_eq "lines in the shared file" "$(wc -l <"$shared")" $((n * 3))
re="^$ts "'twshim\[true:[0-9]+\]: error: TWSHIM_(LINGER|PORTS|DRAIN_MS)="junk" is not valid \(accepted: [^)]*\); [a-z ]+$'
assert_eq "whole, well-formed lines" "$(grep -Ec "$re" "$shared")" $((n * 3))
assert_eq "processes with all 3 of their lines in the file" \
	"$(sed -E 's/^[^ ]+ twshim\[true:([0-9]+)\].*/\1/' "$shared" | sort | uniq -c | awk '$1 == 3' | wc -l)" "$n"
assert_eq "stderr lines (all went to the file)" "$(wc -l <"$TW_TMP/err.shared" 2>/dev/null || echo 0)" 0
tw_done
