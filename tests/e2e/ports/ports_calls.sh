#!/usr/bin/env bash
# ports_calls: what the program sees under pinning is what it sees without.
#
#   kernel: bind(ADDR:0) with IP_BIND_ADDRESS_NO_PORT allocates no port, a
#   second bind(ADDR:P) is then allowed, a re-bind(ADDR:0) without the
#   option gets the kernel's port, a non-local ADDR is still refused —
#   what the deferred ADDR:0 binding relies on, checked on this kernel;
#   non-blocking connect (poll + SO_ERROR), 2000 times: no failure, every
#   port pinned (without the library: EADDRNOTAVAIL);
#   refused connects: ECONNREFUSED, blocking and non-blocking, with and
#   without the library;
#   bind(127.0.0.2:0) then connect, 1000 times: the server sees 127.0.0.2
#   and a pinned port every time (without the library: ephemeral ports);
#   bind(non-local:0): EADDRNOTAVAIL with and without the library; a second
#   bind(ADDR:0): EINVAL with and without;
#   python3 socketserver on port 0 (bind(0), getsockname, listen): it
#   reports a real port, ss shows it listening there, a client gets its
#   reply.  (These run first: with all 10 ephemeral ports in TIME_WAIT a
#   bind(ADDR:0) fails without the library, and under it the error would
#   come from listen() instead — the one known difference, see pin.c.)

# shellcheck source=tests/e2e/lib_e2e.sh
. "$(dirname "$0")/../lib_e2e.sh"
tw_netns_enter "$@"
# shellcheck source=tests/e2e/ports/lib_ports.sh
. "$(dirname "$0")/lib_ports.sh"
tw_need python3 "$TW_PROBE"

RANGE=50000-50099
pinned() { env TWSHIM_PORTS=$RANGE LD_PRELOAD="$TW_LIB" "$@"; }

assert_eq "kernel facts for the deferred ADDR:0 binding" "$("$PINTOOL" kernel)" "kernel: ok"

# --- bind(ADDR:0) by servers: first, while the ephemeral range is free -----------
twice='
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]
t = socket.socket(); t.bind(("127.0.0.1", 0))
try:
    t.bind(("127.0.0.1", 0)); r = "OK"
except OSError as e:
    r = __import__("errno").errorcode[e.errno]
print("port0=%d second=%s" % (p, r))'
plain=$(python3 -c "$twice")
pin=$(pinned python3 -c "$twice")
tw_log "bind(ADDR:0) twice: without: $plain; pinned: $pin"
assert_eq "second bind(ADDR:0), without" "$(tw_field "$plain" second)" EINVAL
assert_eq "second bind(ADDR:0), pinned" "$(tw_field "$pin" second)" EINVAL
assert_gt "getsockname after bind(ADDR:0), pinned: a real port" "$(tw_field "$pin" port0)" 0

# --- SO_REUSEADDR is what the program (or TWSHIM_REUSEADDR) left -------------------------
# A pinned connect reads its destination through its own SO_REUSEADDR call
# (pin.h) and takes the option back when it does not pin: never past what
# the program or TWSHIM_REUSEADDR set at a bind.  Each socket connects to a
# listener of the same process, once to an excluded destination.
reuse='
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 7010)); l.listen(8)
def after(bind_port, dest_port):
    s = socket.socket()
    if bind_port: s.bind(("127.0.0.1", bind_port))
    try: s.connect(("127.0.0.1", dest_port))
    except OSError: pass
    return s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
print("bound_excluded=%d bound=%d fresh_excluded=%d" % (after(7011, 7009), after(7012, 7010), after(0, 7009)))'
reuse_line() { env TWSHIM_EXCLUDE='*:7009' "$@" python3 -c "$reuse"; }
plain=$(reuse_line)
server=$(reuse_line TWSHIM_REUSEADDR=1 LD_PRELOAD="$TW_LIB")
both=$(reuse_line TWSHIM_REUSEADDR=1 TWSHIM_PORTS=$RANGE LD_PRELOAD="$TW_LIB")
pin=$(reuse_line TWSHIM_PORTS=$RANGE LD_PRELOAD="$TW_LIB")
tw_log "SO_REUSEADDR after connect: without: $plain; REUSEADDR=1: $server; and pinned: $both; pinned: $pin"
assert_eq "SO_REUSEADDR after connect, without the library" "$plain" \
	"bound_excluded=0 bound=0 fresh_excluded=0"
assert_eq "SO_REUSEADDR after connect, TWSHIM_REUSEADDR=1 (set at the binds)" "$server" \
	"bound_excluded=1 bound=1 fresh_excluded=0"
assert_eq "SO_REUSEADDR after connect, TWSHIM_REUSEADDR=1 and pinned: as without pinning" \
	"$both" "$server"
assert_eq "SO_REUSEADDR after connect, pinned: as without the library" "$pin" "$plain"

# --- python socketserver on port 0 ------------------------------------------------------
mkfifo "$TW_TMP/ss.ready" || fail mkfifo
pinned python3 -c '
import socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline(); self.wfile.write(b"OK\n")
srv = socketserver.TCPServer(("127.0.0.1", 0), H)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % srv.server_address[1])
srv.handle_request()
' "$TW_TMP/ss.ready" &
sspid=$!
# read-write open: never blocks, even if the server died before opening it
exec {ready}<>"$TW_TMP/ss.ready"
read -r -t 120 -u "$ready" ssport || ssport=none
exec {ready}<&-
tw_log "socketserver reports port $ssport"
assert_gt "socketserver: port it reports" "${ssport//none/0}" 0
assert_eq "socketserver: listening there (ss)" "$(ss -Htln "sport = :${ssport//none/0}" | wc -l)" 1
line=$("$TW_PROBE" -q -n 1 -s hello -r 127.0.0.1 "${ssport//none/1}")
assert_eq "socketserver: client got the reply" "$(tw_field "$line" replies)" 1
wait "$sspid"
assert_eq "socketserver: exit status" "$?" 0

# --- non-blocking connect ---------------------------------------------------------
tw_server_start P -p 7000 -m reply -t 60
line=$("$PINTOOL" conn -N -n 50 127.0.0.1 7000)
tw_server_stop P
assert_gt "non-blocking without the library: EADDRNOTAVAIL" "$(tw_field "$line" eaddrnotavail)" 0
tw_server_start S -p 7001 -m reply -n 2000 -t 120
line=$(pinned "$PINTOOL" conn -N -n 2000 -t 2 127.0.0.1 7001)
tw_server_wait S || tw__fail "non-blocking: server did not see 2000 connections end"
tw_log "non-blocking: $line"
assert_eq "non-blocking: failures" "$(tw_field "$line" failed)" 0
assert_eq "non-blocking: ports outside $RANGE" "$(peer_ports S | count_outside 50000 50099 '')" 0
assert_eq "non-blocking: connections accepted" "$(tw_field "$TW_SUMMARY_S" accepted)" 2000

# --- errno of refused connects ---------------------------------------------------
assert_eq "refused, blocking, without" "$("$PINTOOL" refused 127.0.0.1 7999)" ECONNREFUSED
assert_eq "refused, blocking, pinned" "$(pinned "$PINTOOL" refused 127.0.0.1 7999)" ECONNREFUSED
assert_eq "refused, non-blocking, without" "$("$PINTOOL" refused -N 127.0.0.1 7999)" ECONNREFUSED
assert_eq "refused, non-blocking, pinned" "$(pinned "$PINTOOL" refused -N 127.0.0.1 7999)" ECONNREFUSED
assert_eq "refused, IPv6, pinned" "$(pinned "$PINTOOL" refused ::1 7999)" ECONNREFUSED

# --- bind(ADDR:0) then connect -------------------------------------------------------
tw_server_start P -p 7002 -m reply -n 10 -t 60
"$PINTOOL" conn -b 127.0.0.2 -n 10 127.0.0.1 7002 >/dev/null
tw_server_wait P
assert_eq "bind(127.0.0.2:0) without the library: ports outside the ephemeral range" \
	"$(peer_ports P | count_outside 40000 40009 '')" 0
tw_server_start S -p 7003 -m reply -n 1000 -t 120
line=$(pinned "$PINTOOL" conn -b 127.0.0.2 -n 1000 -o "$TW_TMP/bind0.ports" 127.0.0.1 7003)
tw_server_wait S || tw__fail "bind0: server did not see 1000 connections end"
tw_log "bind(127.0.0.2:0): $line"
assert_eq "bind(127.0.0.2:0): failures" "$(tw_field "$line" failed)" 0
assert_eq "bind(127.0.0.2:0): peers from another address" "$(grep -c ' peer=127\.0\.0\.2:' "$TW_OUT_S")" 1000
assert_eq "bind(127.0.0.2:0): ports outside $RANGE" "$(peer_ports S | count_outside 50000 50099 '')" 0
assert_eq "bind(127.0.0.2:0): getsockname after connect agrees" \
	"$(awk '$1 == "127.0.0.2" && $2 >= 50000 && $2 <= 50099' "$TW_TMP/bind0.ports" | wc -l)" 1000

assert_eq "bind(non-local:0), without" "$("$PINTOOL" bindfail 10.255.255.1)" EADDRNOTAVAIL
assert_eq "bind(non-local:0), pinned" "$(pinned "$PINTOOL" bindfail 10.255.255.1)" EADDRNOTAVAIL
assert_eq "bind(non-local v6:0), pinned" "$(pinned "$PINTOOL" bindfail 2001:db8::1)" EADDRNOTAVAIL

tw_done
