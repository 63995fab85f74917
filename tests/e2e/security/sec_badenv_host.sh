#!/usr/bin/env bash
# Bad input in a real host program: /usr/bin/python3 -c 'print(42)' under
# the library, once per (variable, hostile value).  Each run must print
# exactly "42" on stdout, exit 0, and write exactly one stderr line, which
# comes from the library ("twshim[...]") and names the variable.
# shellcheck source=tests/e2e/lib_e2e.sh
. "$TWE2E_LIB_SH"
tw_netns_enter "$@"

host=/usr/bin/python3 # not `python3`: on PATH it may be a pyenv shim script
[[ -x $host ]] || fail "$host not found (scripts/deps.sh)"
read -ra vars <<<"${TWSEC_VARIABLES:?run through meson test}"
((${#vars[@]} >= 11)) || fail "TWSEC_VARIABLES lists ${#vars[@]} variables"

big=$(head -c 102400 /dev/zero | tr '\0' 'A')
values=("" " " "-1" "+1" "99999999999999999999999999" "18446744073709551616" "1x" "0x10"
	$'\t\r\x01\x7f\xff' "," "1," "[::1" "[::1]:70000" "1.2.3.4/33" "::/129" "fe80::1%eth0"
	"*" "$big")

# Without the library the host prints 42 and nothing else: the baseline
# the runs below are compared with.
out=$("$host" -c 'print(42)' 2>"$TW_TMP/err")
assert_eq "without the library: stdout" "$out" 42
assert_eq "without the library: stderr lines" "$(wc -l <"$TW_TMP/err")" 0

runs=0 good=0
for var in "${vars[@]}"; do
	for value in "${values[@]}"; do
		runs=$((runs + 1))
		rc=0
		out=$(env "$var=$value" LD_PRELOAD="$TW_LIB${LD_PRELOAD:+:$LD_PRELOAD}" \
			"$host" -c 'print(42)' 2>"$TW_TMP/err") || rc=$?
		lines=$(wc -l <"$TW_TMP/err")
		if [[ $out == 42 && $rc == 0 && $lines == 1 ]] &&
			grep -Eq "^[0-9T:.-]+Z twshim\[python3:[0-9]+\]: error: $var=" "$TW_TMP/err"; then
			good=$((good + 1))
		else
			tw_log "bad run: $var='${value:0:40}' (${#value} bytes): rc=$rc stdout='${out:0:80}' stderr lines=$lines:"
			head -c 600 "$TW_TMP/err" >&2
		fi
	done
done
assert_eq "runs with stdout \"42\", exit 0 and one stderr line naming the variable (of $runs)" \
	"$good" "$runs"
tw_done
