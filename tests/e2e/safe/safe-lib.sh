# shellcheck shell=bash
# Helpers shared by the TWSHIM_LINGER=safe tests; source after ../lib.sh
# (and after tw_netns_enter).  Paths come from meson (safe/meson.build):
#   TWSAFE_CLIENT  twsafe-client    TWSAFE_LINGER  twsafe-linger
#   TWSAFE_FORK    twsafe-fork

TS_CLIENT=${TWSAFE_CLIENT:-}
TS_LINGER=${TWSAFE_LINGER:-}
TS_FORK=${TWSAFE_FORK:-}
[[ -x $TS_CLIENT ]] || fail "TWSAFE_CLIENT='$TS_CLIENT' is not executable (run through meson test)"

# ts_settle PORT: wait until every connection to or from PORT has reached
# a final state (TIME_WAIT, or gone), so that counts taken next are the
# kernel's last word.  A condition wait with a generous bound; if the bound
# passes the test goes on and its assertions show what was left.
ts_settle() {
	local port=$1 i n
	for ((i = 0; i < 1000; i++)); do
		n=$(ss -Htan state established state fin-wait-1 state fin-wait-2 state last-ack \
			state closing state close-wait state syn-sent state syn-recv \
			"( sport = :$port or dport = :$port )" | wc -l)
		((n == 0)) && return 0
		sleep 0.01
	done
	tw_log "port $port still has $n connections in transient states after 10 s:"
	ss -tan "( sport = :$port or dport = :$port )" >&2
}

# ts_intact CLIENT_OUT SERVER_OUT: compare the client's "conn lport=P
# sent=N fnv=H" lines with the server's "conn=.. peer=A:P bytes=N fnv=H"
# lines, pairing the k-th use of a local port on both sides (a port is
# reused only after its previous connection ended).  Prints a line per
# connection, then the totals as the last line:
#   pair lport=P sent=N received=N fnv=CLIENT/SERVER end=eof|reset|...
#   conns=N intact=N short=N corrupt=N unmatched=N sent=N received=N
ts_intact() {
	awk '
	FNR == NR && /^conn lport=/ {
		split($2, p, "="); split($3, s, "="); split($4, f, "=")
		k = p[2] SUBSEP (++cuse[p[2]])
		csent[k] = s[2]; cfnv[k] = f[2]; order[++n] = k
		next
	}
	FNR != NR && /^conn=/ {
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "peer") { m = split(kv[2], ap, ":"); port = ap[m] }
			if (kv[1] == "bytes") bytes = kv[2]
			if (kv[1] == "fnv") fnv = kv[2]
			if (kv[1] == "end") end = kv[2]
		}
		k = port SUBSEP (++suse[port])
		sbytes[k] = bytes; sfnv[k] = fnv; send[k] = end
	}
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]; sent += csent[k]
			split(k, kp, SUBSEP)
			printf "pair lport=%s sent=%s received=%s fnv=%s/%s end=%s\n", kp[1], csent[k],
				(k in sbytes) ? sbytes[k] : "none", cfnv[k], (k in sbytes) ? sfnv[k] : "none",
				(k in sbytes) ? send[k] : "none"
			if (!(k in sbytes)) { unmatched++; continue }
			recv += sbytes[k]
			if (sbytes[k] + 0 < csent[k] + 0) short++
			else if (sbytes[k] != csent[k] || sfnv[k] != cfnv[k]) corrupt++
			else intact++
		}
		printf "conns=%d intact=%d short=%d corrupt=%d unmatched=%d sent=%d received=%d\n",
			n, intact, short, corrupt, unmatched, sent, recv
	}' "$1" "$2"
}
