# shellcheck shell=bash
# Helpers shared by the ports_*.sh tests (sourced after ../lib_e2e.sh).

[[ -x ${PINTOOL:-} ]] || fail "PINTOOL='${PINTOOL:-}' is not executable (run through meson test)"

# peer_ports NAME: the client source ports the server accepted, one a line
# (from the kernel's accept() peer address, logged per connection).
peer_ports() {
	local out=TW_OUT_$1
	sed -n 's/.* peer=.*:\([0-9][0-9]*\) .*/\1/p' "${!out}"
}

# count_outside LO HI RESERVED-REGEX < ports: how many ports lie outside
# LO-HI or match the reserved list (an ERE over the whole port, '' = none).
count_outside() {
	local lo=$1 hi=$2 res=${3:-}
	awk -v lo="$lo" -v hi="$hi" -v res="$res" '
		{ if ($1 < lo || $1 > hi || (res != "" && $1 ~ ("^(" res ")$"))) n++ }
		END { print n + 0 }'
}

# summary_of FILE: the library's exit summary line in a TWSHIM_LOG_FILE.
summary_of() {
	grep -h 'info: summary' "$1" | tail -n 1
}
