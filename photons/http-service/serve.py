#!/usr/bin/env python3
"""A plain HTTP service on a socket Luminal holds (systemd's socket-activation convention).

Luminal binds the manifest's sockets once and hands each worker a copy from fd 3 (LISTEN_FDS,
LISTEN_FDNAMES, LISTEN_PID), so a reload starts the new worker on the same socket while the old
one still accepts. On SIGTERM this one stops accepting, finishes the requests it has, and exits:
the connections waiting in the socket's queue go to the new worker, and none is refused.
Run by hand (no Luminal), it binds 127.0.0.1:$PORT itself (default 8123).
"""
import http.server
import os
import signal
import socket
import threading

LISTEN_FDS_START = 3


def held_socket():
    """The socket named 'http' that Luminal holds, or None when not started by it."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    names = os.environ.get("LISTEN_FDNAMES", "").split(":")
    count = int(os.environ.get("LISTEN_FDS", "0"))
    for offset in range(count):
        if offset < len(names) and names[offset] == "http":
            return socket.socket(fileno=LISTEN_FDS_START + offset)
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        body = f"hello from pid {os.getpid()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # Requests in progress are finished before the worker exits (joined by server_close).
    daemon_threads = False

    def __init__(self, listener):
        held = listener is not None
        port = int(os.environ.get("PORT", "8123"))
        super().__init__(("127.0.0.1", port), Handler, bind_and_activate=not held)
        if held:
            self.socket.close()
            self.socket = listener


def main():
    server = Server(held_socket())
    # Blocked before any thread starts (threads inherit the mask), then awaited here: a handler
    # would run only on the main thread, and only if the signal happened to interrupt it.
    stops = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    serving.start()
    print(f"serving on {server.socket.getsockname()}", flush=True)
    signal.sigwait(stops)
    # Stop accepting, then wait for the requests in progress (ThreadingHTTPServer joins them).
    server.shutdown()
    serving.join()
    server.server_close()


if __name__ == "__main__":
    main()
