#!/usr/bin/python3
"""An HTTP/1.1 server that keeps every connection open until the client
ends it — so a client that exits without closing (wget) is the first to
close.

    keepalive-http.py PORT READY_FD OUT

Listens on 127.0.0.1:PORT, writes "PORT\\n" to READY_FD once listening,
answers every GET with 200 "OK\\n" (Content-Length, no Connection: close).
On SIGTERM writes to OUT:
    server: conns=N requests=N eof=N reset=N
(how each connection ended: the client's FIN or its RST).
"""
import http.server
import os
import signal
import sys
import threading

LOCK = threading.Lock()
COUNTS = {"conns": 0, "requests": 0, "eof": 0, "reset": 0}


def bump(key):
    with LOCK:
        COUNTS[key] += 1


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        bump("requests")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"OK\n")

    def handle(self):
        bump("conns")
        try:
            super().handle()  # request after request until EOF
        except ConnectionResetError:
            bump("reset")
            return
        bump("eof")

    def log_message(self, *args):
        pass


def main():
    port, ready_fd, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.write(ready_fd, b"%d\n" % server.server_address[1])
    os.close(ready_fd)
    stop.wait()
    server.shutdown()
    with LOCK, open(out, "w") as f:
        f.write("server: " + " ".join(f"{k}={v}" for k, v in COUNTS.items()) + "\n")


if __name__ == "__main__":
    main()
