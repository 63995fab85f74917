#!/usr/bin/env python3
"""A short-connection client written with Python's socket module.

    twtest-client.py [-n COUNT] [-s LINE] [-r] [-6] [-b FIRST] HOST PORT

Each round: socket, connect, send LINE + newline, read the reply up to a
newline or EOF, close (client first).  -b FIRST (IPv4): round i binds its
socket to the address FIRST+i first, port left to connect()
(IP_BIND_ADDRESS_NO_PORT), so every round has a source address of its own.
Prints the same summary line as examples/probe:
    attempted=N ok=N failed=N eaddrnotavail=N replies=N other_errno=...
Exit status 0 when every round succeeded, 1 otherwise.
"""
import argparse
import errno
import ipaddress
import socket
import sys


# Linux's value; the socket module has the name only from Python 3.12.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def one_round(family, addr, line, read_reply, source):
    """Return (errno or 0 or 'NOREPLY', replied)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        if source is not None:
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind((source, 0))
        s.connect(addr)
        if line is not None:
            s.sendall(line.encode() + b"\n")
        replied = False
        if read_reply:
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(512)
                if not chunk:
                    break
                buf += chunk
            replied = b"\n" in buf
            if not replied:
                return "NOREPLY", False
        return 0, replied
    except OSError as e:
        return e.errno or "UNKNOWN", False
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1)
    ap.add_argument("-s")
    ap.add_argument("-r", action="store_true")
    ap.add_argument("-6", dest="v6", action="store_true")
    ap.add_argument("-b", dest="first", type=ipaddress.IPv4Address)
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    a = ap.parse_args()

    family = socket.AF_INET6 if a.v6 else socket.AF_INET
    addr = (a.host, a.port)
    ok = failed = replies = eaddrnotavail = 0
    other = {}
    for i in range(a.n):
        source = str(a.first + i) if a.first is not None else None
        res, replied = one_round(family, addr, a.s, a.r, source)
        replies += replied
        if res == 0:
            ok += 1
            continue
        failed += 1
        if res == errno.EADDRNOTAVAIL:
            eaddrnotavail += 1
        else:
            name = errno.errorcode.get(res, str(res)) if isinstance(res, int) else res
            other[name] = other.get(name, 0) + 1
    others = ",".join(f"{k}:{v}" for k, v in sorted(other.items())) or "none"
    print(f"attempted={a.n} ok={ok} failed={failed} eaddrnotavail={eaddrnotavail} "
          f"replies={replies} other_errno={others}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
