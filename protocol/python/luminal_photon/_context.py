"""What a handler gets besides its params: the context, the host's functions, and the error
it raises to answer with an error."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from ._wire import ERROR_CODES

if TYPE_CHECKING:
    import asyncio    # imported when first needed: importing asyncio takes tens of milliseconds
    import concurrent.futures

    from ._worker import _Worker


class _NoData:
    """The type of :data:`NO_DATA`."""

    def __repr__(self) -> str:
        return "NO_DATA"


NO_DATA: Any = _NoData()
"""The default ``data`` of :class:`PhotonError`: the reply has no ``data`` member.
(``data=None`` sends ``"data": null``; the host keeps the two apart, PROTOCOL.md §3.1.)"""


class PhotonError(Exception):
    """Raise from a handler to reply ``error`` with this code, message and optional data."""

    def __init__(self, code: str, message: str, data: Any = NO_DATA):
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r} (use one of {sorted(ERROR_CODES)})")
        super().__init__(message)
        self.code, self.message, self.data = code, str(message), data

    @classmethod
    def _reply(cls, code: str, message: str, data: Any = NO_DATA) -> PhotonError:
        """An error reply from the host, kept with its code whatever it is (a host function
        may answer with a code of its own)."""
        error = cls.__new__(cls)
        Exception.__init__(error, message)
        error.code, error.message, error.data = code, message, data
        return error


class Host:
    """The functions the host offers a photon (PROTOCOL.md section 3.4): those the host
    application registered, and the built-in ``call`` and ``config``. ``ctx.host``."""

    def __init__(self, photon: str, worker: _Worker, request: int | None):
        self._photon, self._worker, self._request = photon, worker, request

    def call(self, function: str, params: Any = None, timeout: float | None = None) -> Any:
        """Call the host function ``function`` with ``params`` and return its result; raise
        :class:`PhotonError` with the host's error code (``unknown_function``, ...) if it fails.

        In a sync handler (or any thread but the runtime's asyncio loop) it waits for the reply;
        in an ``async def`` handler it returns an awaitable: ``await ctx.host.call(...)``.
        ``timeout`` (seconds) gives up waiting: the host is told and ``deadline_exceeded`` raised.
        A host call made within a call is cancelled by the host with that call."""
        if self._worker.on_loop():
            return self._worker.host_calls.call_async(self._photon, function, params, self._request, timeout)
        return self._worker.host_calls.call(self._photon, function, params, self._request, timeout)


class Context:
    """What a handler gets besides its params: the photon's name, :meth:`emit`, the host's
    functions (:attr:`host`) and calls to other photons (:meth:`call`)."""

    def __init__(self, photon: str, worker: _Worker, request: int | None = None):
        self.photon = photon
        self._worker = worker
        #: The functions the host offers this photon: ``ctx.host.call("config")``.
        self.host = Host(photon, worker, request)

    def call(self, photon: str, method: str, params: Any = None, timeout: float | None = None) -> Any:
        """Call ``method`` of the loaded photon ``photon`` through the host (its built-in host
        function ``call``) and return its result, or raise :class:`PhotonError` with its error.
        Bounded by this call's deadline (and ``timeout`` seconds if given), cancelled with it,
        and refused (``call_cycle``, ``chain_too_deep``, ``not_allowed``, ``unknown_photon``)
        rather than left to deadlock. Awaitable in an ``async def`` handler, as
        :meth:`Host.call`."""
        request: dict[str, Any] = {"photon": photon, "method": method, "params": params}
        if timeout is not None:
            request["timeout"] = timeout
        return self.host.call("call", request)

    def emit(self, name: str, data: Any = None) -> None:
        """Send an event frame for this photon (thread-safe). ``data=None`` omits ``data``.

        Raises ValueError/TypeError if the event cannot be encoded or exceeds the frame cap.
        """
        if not isinstance(name, str) or not name:
            raise ValueError("an event name must be a non-empty string")
        msg = {"type": "event", "photon": self.photon, "name": name}
        if data is not None:
            msg["data"] = data
        self._worker.write(self._worker.encode(msg))


class CallContext(Context):
    """The context of one call: a :class:`Context` that also knows whether the host cancelled
    the call, how long its caller waits, and whether it takes the result in parts."""

    def __init__(self, photon: str, worker: _Worker, request: int, deadline_ms: int | None,
                 stream: int | None = None):
        super().__init__(photon, worker, request)
        self._rid = request
        # A streamed call's credit (parts it may still send), the threads waiting for more (on
        # the condition) and the coroutines (their loops and futures), and whether the call has
        # been answered (no part may follow). None: not streamed.
        self._credit = stream
        self._credit_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._ended = False
        # Whether the host cancelled the call; the event a wait for that blocks on is made only
        # when a handler waits (an Event per call was a good part of a call's cost).
        self._cancelled = False
        self._cancel_event: threading.Event | None = None
        self._cancel_lock = threading.Lock()
        self._credit_granted = threading.Condition(self._cancel_lock) if stream is not None else None
        self._task: asyncio.Task[Any] | None = None      # the task running an async method
        self._future: concurrent.futures.Future[Any] | None = None   # or a coroutine a plain one returned
        #: time.monotonic() value at which the caller stops waiting; None without a deadline.
        self.deadline = None if deadline_ms is None else time.monotonic() + deadline_ms / 1000

    @property
    def cancelled(self) -> bool:
        """True once the host cancelled this call (its reply will be discarded)."""
        return self._cancelled

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Block until the call is cancelled or timeout seconds pass; True if cancelled."""
        with self._cancel_lock:
            if self._cancelled:
                return True
            if self._cancel_event is None:
                self._cancel_event = threading.Event()
            event = self._cancel_event
        return event.wait(timeout)

    def _cancel(self) -> None:
        """The host cancelled the call: say so to whoever asks or waits."""
        with self._cancel_lock:
            self._cancelled = True
            if self._cancel_event is not None:
                self._cancel_event.set()
            if self._future is not None:
                self._future.cancel()
            self._wake_credit_waiters()

    def _cancel_with(self, future: concurrent.futures.Future[Any]) -> None:
        """The call runs as future (the coroutine a plain handler returned, on the loop): a
        cancel of the call, already made or still to come, cancels it."""
        with self._cancel_lock:
            self._future = future
            if self._cancelled:
                future.cancel()

    @property
    def streamed(self) -> bool:
        """True when the caller takes this call's result in parts (:meth:`send_part`) before the
        final value the method returns (PROTOCOL.md section 3.5)."""
        return self._credit is not None

    def send_part(self, value: Any) -> Any:
        """Send value as the next part of this streamed call's result, once the caller has taken
        enough of the parts before it (its credit): a sync handler waits here, an async one
        awaits it (``await ctx.send_part(x)``). Raises PhotonError("invalid_state") for a call
        that is not streamed, PhotonError("cancelled") once the call is cancelled, and
        ValueError if the part cannot be encoded or exceeds the frame cap (nothing is sent)."""
        if self._credit is None:
            raise PhotonError("invalid_state", f"this call of photon {self.photon} is not streamed: "
                                               "its caller takes the result whole")
        frame = self._worker.encode({"type": "part", "id": self._rid, "value": value})
        if self._worker.on_loop():
            return self._send_part_async(frame)
        assert self._credit_granted is not None
        with self._cancel_lock:
            while self._credit == 0 and not self._cancelled and not self._ended:
                self._credit_granted.wait()
            self._take_credit()
            # Written under the lock: the call's reply (after _end, which takes it) cannot pass it.
            self._worker.write(frame)
        return None

    def _take_credit(self) -> None:
        """Under the lock: spend one part's credit, or raise if the call was cancelled or has
        been answered."""
        if self._cancelled:
            raise PhotonError("cancelled", f"the call to {self.photon} was cancelled")
        if self._ended:
            raise PhotonError("invalid_state", f"the call to {self.photon} has been answered: no part may follow its result")
        assert self._credit is not None
        self._credit -= 1

    async def _send_part_async(self, frame: bytes) -> None:
        import asyncio
        while True:
            with self._cancel_lock:
                if self._cancelled or self._ended or self._credit:
                    self._take_credit()
                    self._worker.write(frame)
                    return
                loop = asyncio.get_running_loop()
                future = loop.create_future()
                self._credit_waiters.append((loop, future))
            await future

    def _grant(self, parts: int) -> None:
        """The host's credit: parts more may be sent."""
        with self._cancel_lock:
            if self._credit is None:
                return
            self._credit += parts
            self._wake_credit_waiters()

    def _end(self) -> None:
        """The call has been answered: a sender still waiting for credit, or coming later, is told."""
        if self._credit is None:
            return
        with self._cancel_lock:
            self._ended = True
            self._wake_credit_waiters()

    def _wake_credit_waiters(self) -> None:
        """Under the lock: every sender waiting for credit looks again (those that find none wait
        again)."""
        if self._credit_granted is not None:
            self._credit_granted.notify_all()
        waiters, self._credit_waiters = self._credit_waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(lambda future=future: future.done() or future.set_result(None))

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never below 0), or None without a deadline."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def check(self) -> None:
        """Raise PhotonError("cancelled") once cancelled, PhotonError("deadline_exceeded")
        once the deadline has passed; otherwise return."""
        if self.cancelled:
            raise PhotonError("cancelled", f"the call to {self.photon} was cancelled")
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise PhotonError("deadline_exceeded", f"photon {self.photon} gave up: the call's deadline passed")
