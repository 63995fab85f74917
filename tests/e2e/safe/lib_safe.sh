# shellcheck shell=bash
# Helpers shared by the TWSHIM_LINGER=safe tests; source after ../lib_e2e.sh
# (and after tw_netns_enter).  Paths come from meson (safe/meson.build):
#   TWSAFE_CLIENT  twsafe-client    TWSAFE_LINGER  twsafe-linger
#   TWSAFE_FORK    twsafe-fork

# shellcheck disable=SC2034 # read by the tests that source this file
{
	TS_CLIENT=${TWSAFE_CLIENT:-}
	TS_LINGER=${TWSAFE_LINGER:-}
	TS_FORK=${TWSAFE_FORK:-}
}
[[ -x $TS_CLIENT ]] || fail "TWSAFE_CLIENT='$TS_CLIENT' is not executable (run through meson test)"


# ts_intact CLIENT_OUT SERVER_OUT: compare the client's "conn lport=P
# sent=N fnv=H" lines with the server's "conn=.. peer=A:P bytes=N fnv=H
# end=E" lines.  A client connection is intact when a server record not
# yet used has the same byte count and checksum (each record counts once).
# The others are paired for the report with a record of the same port,
# else with one the server could not name (peer=?:0: reset before
# accept()).  Prints a line per connection, then the totals last:
#   pair lport=P sent=N received=N fnv=CLIENT/SERVER end=E verdict=V
#   conns=N intact=N short=N corrupt=N unmatched=N sent=N received=N
ts_intact() {
	awk '
	FNR == NR && /^conn lport=/ {
		n++
		split($2, a, "="); cport[n] = a[2]
		split($3, a, "="); csent[n] = a[2]
		split($4, a, "="); cfnv[n] = a[2]
		next
	}
	FNR != NR && /^conn=/ {
		m++
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "peer") { c = split(kv[2], ap, ":"); sport[m] = ap[c] }
			if (kv[1] == "bytes") sbytes[m] = kv[2]
			if (kv[1] == "fnv") sfnv[m] = kv[2]
			if (kv[1] == "end") send[m] = kv[2]
		}
	}
	function take(i, how,   j) {
		for (j = 1; j <= m; j++) {
			if (used[j]) continue
			if ((how == "same" && sbytes[j] == csent[i] && sfnv[j] == cfnv[i]) ||
			    (how == "port" && sport[j] == cport[i]) || (how == "anon" && sport[j] == 0)) {
				used[j] = 1; pair[i] = j
				return 1
			}
		}
		return 0
	}
	END {
		for (i = 1; i <= n; i++) if (take(i, "same")) verdict[i] = "intact"
		for (i = 1; i <= n; i++) if (!(i in pair)) take(i, "port")
		for (i = 1; i <= n; i++) if (!(i in pair)) take(i, "anon")
		for (i = 1; i <= n; i++) {
			sent += csent[i]
			if (!(i in pair)) {
				verdict[i] = "unmatched"; unmatched++
				printf "pair lport=%s sent=%s received=none fnv=%s/none end=none verdict=unmatched\n",
					cport[i], csent[i], cfnv[i]
				continue
			}
			j = pair[i]; recv += sbytes[j]
			if (verdict[i] == "intact") intact++
			else if (sbytes[j] + 0 < csent[i] + 0) { verdict[i] = "short"; short++ }
			else { verdict[i] = "corrupt"; corrupt++ }
			printf "pair lport=%s sent=%s received=%s fnv=%s/%s end=%s verdict=%s\n", cport[i],
				csent[i], sbytes[j], cfnv[i], sfnv[j], send[j], verdict[i]
		}
		printf "conns=%d intact=%d short=%d corrupt=%d unmatched=%d sent=%d received=%d\n",
			n, intact, short, corrupt, unmatched, sent, recv
	}' "$1" "$2"
}
