#!/usr/bin/env bash
# exports: libtwshim.so exports only interposed libc functions.
#
# Every defined dynamic symbol must be a function that libc itself exports
# (connect, close, __close, fclose, dup2, ...), unversioned (a named version
# node would make programs bound to close@GLIBC_2.2.5 bypass the library),
# and nothing else: no tw_* helper, no data.  The checker is first run on a
# list with a planted tw_ name, so it is known to be able to fail.

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/lib_e2e.sh"
tw_netns_enter "$@"
tw_need nm gcc

libc=$(gcc -print-file-name=libc.so.6)
[[ $libc == /* && -f $libc ]] || fail "cannot locate libc.so.6 (gcc says '$libc')"
# libc's exported names, without version suffixes.
libc_names=$(nm -D --defined-only "$libc" | awk '{print $3}' | sed 's/@.*//' | sort -u)
[[ -n $libc_names ]] || fail "nm found no symbols in $libc"

# bad_exports "TYPE NAME" lines on stdin -> the offending ones on stdout
bad_exports() {
	local type name
	while read -r type name; do
		if [[ $type != [TWi] ]]; then
			printf '%s %s (not a function)\n' "$type" "$name"
		elif [[ $name == *@* ]]; then
			printf '%s %s (versioned)\n' "$type" "$name"
		elif [[ $name == tw_* || $name == twshim* ]]; then
			printf '%s %s (project-internal)\n' "$type" "$name"
		elif ! grep -qxF -- "$name" <<<"$libc_names"; then
			printf '%s %s (not a libc name)\n' "$type" "$name"
		fi
	done
}

planted=$(printf 'T connect\nT tw_policy_parse\nB tw_state\nT close@@TWSHIM_1\n' | bad_exports | wc -l)
assert_eq "checker rejects planted names" "$planted" 3

exports=$(nm -D --defined-only "$TW_LIB" | awk '{print $(NF-1), $NF}')
[[ -n $exports ]] || fail "nm -D found no exported symbol in $TW_LIB"
tw_log "exported:"$'\n'"$exports"
bad=$(bad_exports <<<"$exports")
assert_eq "exports that are not unversioned libc functions" "${bad:-none}" none

names=$(awk '{print $2}' <<<"$exports")
for must in connect close; do
	if grep -qxF "$must" <<<"$names"; then
		assert_eq "$must is interposed" yes yes
	else
		assert_eq "$must is interposed" no yes
	fi
done
assert_ge "number of exported functions" "$(wc -l <<<"$names")" 2

tw_done
