# shellcheck shell=bash
# Shared by the correctness tests (issue 16); sourced after ../lib_e2e.sh.
TW_CORRECT=${TWCORRECT:-}
[[ -x $TW_CORRECT ]] || fail "TWCORRECT='$TW_CORRECT' is not executable (run through meson test)"

# ports_outside LO HI < "port N" lines: how many ports lie outside [LO, HI]
ports_outside() {
	awk -v lo="$1" -v hi="$2" '$1 == "port" && ($2 < lo || $2 > hi) { n++ } END { print n + 0 }'
}

# server_ends NAME: the end= values of the server's connections, sorted, one line
server_ends() {
	local out=TW_OUT_$1
	grep -o 'end=[a-z]*' "${!out}" | sort | uniq -c | awk '{ printf "%s%s:%s", sep, $2, $1; sep = " " }'
}
