"""Calls from the worker to the host (protocol/PROTOCOL.md section 3.4)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

from ._context import NO_DATA, PhotonError
from ._wire import _BadFrame

if TYPE_CHECKING:
    from ._worker import _Worker


class _HostCalls:
    """The worker's host calls in flight (PROTOCOL.md section 3.4), by its own ids from 1: each
    waits for the host's one reply; a reply to an id nobody waits for is dropped."""

    def __init__(self, worker: _Worker):
        self.worker = worker
        self.lock = threading.Lock()
        self.next_id = 1
        self.waiting: dict[int, Callable[[dict[str, Any]], None]] = {}

    def send(self, photon: str, function: str, params: Any, within: int | None,
             deliver: Callable[[dict[str, Any]], None]) -> int:
        """Write the host call; deliver(reply) is called, on the reading thread, with its reply."""
        if not isinstance(function, str):
            raise TypeError("a host function's name is a string")
        with self.lock:
            rid, self.next_id = self.next_id, self.next_id + 1
        msg: dict[str, Any] = {"type": "host_call", "id": rid, "photon": photon, "function": function, "params": params}
        if within is not None:
            msg["within"] = within
        frame = self.worker.encode(msg)                  # ValueError/TypeError: not sendable
        with self.lock:
            self.waiting[rid] = deliver
        self.worker.write(frame)
        return rid

    def answer(self, rid: int, msg: dict[str, Any]) -> None:
        """The host's reply to host call rid (a host_result or host_error message)."""
        if msg["type"] == "host_error":
            if not isinstance(msg.get("code"), str) or not isinstance(msg.get("message"), str):
                raise _BadFrame("invalid message: host_error needs string members 'code' and 'message'")
        elif "value" not in msg:
            raise _BadFrame("invalid message: host_result is missing member 'value'")
        with self.lock:
            deliver = self.waiting.pop(rid, None)
        if deliver is not None:
            deliver(msg)

    def give_up(self, rid: int) -> None:
        """Stop waiting for host call rid and tell the host (host_cancel), unless it was answered."""
        with self.lock:
            if self.waiting.pop(rid, None) is None:
                return
        self.worker.write(self.worker.encode({"type": "host_cancel", "id": rid}))

    @staticmethod
    def outcome(msg: dict[str, Any]) -> Any:
        """The result a reply carries, or its error raised as PhotonError."""
        if msg["type"] == "host_result":
            return msg["value"]
        raise PhotonError._reply(msg["code"], msg["message"], msg["data"] if "data" in msg else NO_DATA)

    @staticmethod
    def timed_out(function: str, timeout: float) -> PhotonError:
        return PhotonError("deadline_exceeded", f"the host call {function!r} took more than {timeout:g} s")

    def call(self, photon: str, function: str, params: Any, within: int | None, timeout: float | None) -> Any:
        """A host call from a thread: wait for its reply."""
        replied = threading.Event()
        box: list[dict[str, Any]] = []

        def deliver(msg: dict[str, Any]) -> None:
            box.append(msg)
            replied.set()
        rid = self.send(photon, function, params, within, deliver)
        lent = self.worker.lend_thread()
        try:
            answered = replied.wait(timeout)
        finally:
            if lent:
                self.worker.return_thread()
        if not answered:
            self.give_up(rid)
            if not box:
                raise self.timed_out(function, timeout or 0)
        return self.outcome(box[0])

    async def call_async(self, photon: str, function: str, params: Any, within: int | None, timeout: float | None) -> Any:
        """A host call from the asyncio loop: await its reply; a cancel of the awaiting task, or
        its timeout, gives it up."""
        import asyncio
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()

        def settle(msg: dict[str, Any]) -> None:
            if not future.done():
                future.set_result(msg)
        rid = self.send(photon, function, params, within, lambda msg: loop.call_soon_threadsafe(settle, msg))
        try:
            msg = await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            self.give_up(rid)
            raise self.timed_out(function, timeout or 0) from None
        except asyncio.CancelledError:
            self.give_up(rid)
            raise
        return self.outcome(msg)
