"""The listening sockets the host hands a protocol worker (PROTOCOL.md section 1.1)."""

from __future__ import annotations

import os
import socket
import threading

FIRST_FD = 5
LIMIT = 16

_lock = threading.Lock()
_sockets: list[tuple[str, socket.socket]] | None = None


def _decimal(text: str | None) -> int | None:
    if text is None or not 1 <= len(text) <= 9 or not all("0" <= c <= "9" for c in text):
        return None
    return int(text)


def held_socket_fds(count: str | None, names: str | None, pid: str | None, own_pid: int) -> list[tuple[str, int]]:
    """The (name, fd) pairs the variables' values describe for the process ``own_pid``."""
    number = _decimal(count)
    if _decimal(pid) != own_pid or number is None or not 1 <= number <= LIMIT:
        return []
    given = names.split(":") if names is not None else []
    return [(given[i] if i < len(given) and given[i] else "unknown", FIRST_FD + i) for i in range(number)]


def held_sockets() -> list[tuple[str, socket.socket]]:
    """The listening sockets the host handed this worker (its manifest's ``sockets``), as
    (name, socket) pairs in order; empty when it handed none. The same objects on every call."""
    global _sockets
    with _lock:
        if _sockets is None:
            env = os.environ
            fds = held_socket_fds(env.get("LUMINAL_LISTEN_FDS"), env.get("LUMINAL_LISTEN_FDNAMES"),
                                  env.get("LUMINAL_LISTEN_PID"), os.getpid())
            _sockets = [(name, socket.socket(fileno=fd)) for name, fd in fds]
        return list(_sockets)
