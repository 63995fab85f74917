#!/usr/bin/python3
"""A legacy Python service: socketserver.TCPServer with its defaults
(allow_reuse_address is False), closing every connection first.

    legacy_server.py PORT CONNS READY_FD

Binds 0.0.0.0:PORT, writes "PORT\\n" to READY_FD, answers CONNS
connections (read a line, write "OK\\n", close), then prints
    bind=ok handled=N allow_reuse_address=False
If the bind fails it prints bind=EADDRINUSE (or the error) and exits 1.
"""
import errno
import os
import socketserver
import sys


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.rfile.readline()
        self.wfile.write(b"OK\n")
        # Returning closes the connection: the server closes first.


def main():
    port, conns, ready = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    try:
        server = socketserver.TCPServer(("0.0.0.0", port), Handler)
    except OSError as e:
        name = "EADDRINUSE" if e.errno == errno.EADDRINUSE else str(e)
        print(f"bind={name}", flush=True)
        return 1
    os.write(ready, b"%d\n" % port)
    os.close(ready)
    for _ in range(conns):
        server.handle_request()
    server.server_close()
    print(f"bind=ok handled={conns} "
          f"allow_reuse_address={socketserver.TCPServer.allow_reuse_address}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
