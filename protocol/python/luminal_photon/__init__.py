"""Luminal photon runtime for Python 3.11+ (standard library only).

A photon file declares one or more :class:`Photon` objects, registers handlers on them and
calls :func:`run`, which speaks the Luminal worker protocol version 1 (``protocol/PROTOCOL.md``)
on the file descriptors the host gives the worker: frames are read from fd 3 and written to
fd 4. stdout and stderr are plain log streams; ``print()`` never disturbs the protocol.

    from luminal_photon import Photon, PhotonError, run

    greeter = Photon("greeter", kinds=["IPhoton"], author="Ada", version="1.0.0")

    @greeter.method()
    def greet(params, ctx):
        if not isinstance(params, dict) or not isinstance(params.get("who"), str):
            raise PhotonError("invalid_params", "who must be a string")
        ctx.emit("greeted", {"who": params["who"]})
        return {"greeting": f"Hello, {params['who']}!"}

    run(greeter)

Handlers run on a pool of ``max_workers`` threads (default 8), so a slow call delays neither
pings nor other calls. A handler written ``async def`` (a method, a start routine, a finalizer)
runs instead on an asyncio loop the runtime keeps on a thread of its own: any number of them
wait at once without taking a thread. A cancel reaches such a method as ``asyncio.CancelledError``
at its next ``await`` (the call is then answered ``cancelled``); deadlines are read as for the
others (``ctx.remaining()``). A coroutine that holds the loop without awaiting for over a second
is named in a warning on stderr (once per stall, at most one every 10 s); pings are answered all
the same. While async handlers run, the loop itself reads the host's frames (no hand-over between
threads per call); within 0.2 s of a stall of the loop the main thread reads them again. Timers on
the loop fire on time (``asyncio.sleep(0.001)`` waits about 1 ms, not up to 2 as with asyncio's
own epoll selector). When every thread is busy and a request has to wait for one, a warning
says so on stderr (at most one every 10 s, with the count of those left out meanwhile). Calls are served from a successful start until stop; a call to a photon
not started, or a second start, is answered ``invalid_state``. A :class:`Context` is handed to
every handler; it may be kept and used to emit events from any thread. A method gets a
:class:`CallContext`: it says when the host cancelled the call (``ctx.cancelled``,
``ctx.wait_cancelled(timeout)``) and how long the caller waits (``ctx.deadline``,
``ctx.remaining()``); ``ctx.check()`` raises the matching error. ``@p.method(idempotent=True)``
declares a method safe to run again after a crash. Every context calls back: ``ctx.host.call(name,
params)`` runs a host function (PROTOCOL.md section 3.4; the built-in ``config`` returns the
package manifest's ``config``) and ``ctx.call(photon, method, params)`` another photon's method
through the host, within this call's deadline and cancelled with it; a sync handler waits for the
reply (another pool thread takes its place meanwhile), an ``async def`` one awaits it. A method
of a streamed call sends parts of its result with ``ctx.send_part(value)``, waiting for the
caller's credit (``ctx.streamed`` says whether the caller asked for parts). ``print()`` output is line-buffered and written at once; a
last line without a newline may be lost when the worker exits.

Exit status: 0 on ``shutdown``, end of file on fd 3 or EPIPE on fd 4; 70 if the host breaks the protocol (a
bad frame or message: the reason is written to stderr) or fds 3/4 are not usable.
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import sys
import threading
import time
import traceback
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Callable, NoReturn, overload

if TYPE_CHECKING:
    import asyncio    # imported when first needed: importing asyncio takes tens of milliseconds

__all__ = ["Photon", "PhotonError", "Context", "CallContext", "Host", "run"]

SUPPORTED_PROTOCOLS = (1,)
RUNTIME = "luminal-python/1"
FEATURES = ("cancel", "deadline", "host_calls", "streams")   # optional protocol features this runtime implements
DEFAULT_FRAME_CAP = 16 * 1024 * 1024
MAX_DEPTH = 512                       # deepest array/object nesting, top-level object = 1
MAX_ID = 2**53 - 1
IN_FD, OUT_FD = 3, 4
_FD_SETSIZE = 1024                    # select() takes descriptors below this
EXIT_PROTOCOL = 70                    # EX_SOFTWARE: the host broke the protocol
WARNING_INTERVAL = 10.0               # seconds between two warnings of one kind
LOOP_STALL_WARNING = 1.0              # seconds a coroutine may hold the asyncio loop before a warning
READER_TAKEOVER = 0.2                 # seconds the loop may not turn before the main thread reads fd 3 again
ERROR_CODES = frozenset({"unknown_photon", "unknown_method", "invalid_params",
                         "photon_error", "unsupported", "invalid_state", "cancelled",
                         "deadline_exceeded", "unknown_function", "not_allowed", "call_cycle",
                         "chain_too_deep", "overloaded", "unavailable", "host_error"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONG_DIGITS = re.compile(r"[0-9]{309}")  # an integer this long is beyond double range


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
            self._wake_credit_waiters()

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


Handler = Callable[[Any, Context], Any]


_CO_COROUTINE = 0x80                  # the code flag of an ``async def`` function


def _is_async(fn: Callable[..., Any] | None) -> bool:
    """Whether fn is an ``async def`` handler (run on the runtime's asyncio loop): a coroutine
    function, a bound method of one, or a ``functools.partial`` of one."""
    while fn is not None and not hasattr(fn, "__code__"):
        fn = getattr(fn, "func", None) or getattr(fn, "__func__", None)
    return fn is not None and bool(fn.__code__.co_flags & _CO_COROUTINE)


class Photon:
    """A named photon: its kinds, metadata, methods and optional start/stop routines."""

    def __init__(self, name: str, kinds: list[str] | tuple[str, ...] = (), *,
                 author: str | None = None, version: str | None = None,
                 description: str | None = None, tags: list[str] | None = None,
                 metadata: dict[str, Any] | None = None):
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"invalid photon name {name!r}: must match {_NAME.pattern}")
        if isinstance(kinds, str) or not all(isinstance(k, str) for k in kinds):
            raise TypeError("kinds must be a list of strings")
        self.name, self.kinds = name, list(kinds)
        self.metadata = dict(metadata or {})
        for key, value in (("author", author), ("version", version),
                           ("description", description), ("tags", tags)):
            if value is not None:
                self.metadata[key] = list(value) if key == "tags" else value
        self.methods: dict[str, Handler] = {}
        self.idempotent: list[str] = []
        self.start_handler: Callable[[Context], Any] | None = None
        self.stop_handler: Callable[[Context], Any] | None = None

    @overload
    def method(self, name: Handler, *, idempotent: bool = False) -> Handler: ...

    @overload
    def method(self, name: str | None = None, *, idempotent: bool = False) -> Callable[[Handler], Handler]: ...

    def method(self, name: str | Handler | None = None, *,
               idempotent: bool = False) -> Handler | Callable[[Handler], Handler]:
        """Register ``fn(params, ctx)`` as a method: ``@p.method``, ``@p.method()`` or
        ``@p.method("name")``. Its return value is the call's result (None -> null).
        ``idempotent=True``: a call in flight when the worker crashed is sent again to the
        next worker process."""
        def register(fn: Handler, method_name: str | None = None) -> Handler:
            method_name = method_name or fn.__name__
            if not isinstance(method_name, str) or not method_name:
                raise ValueError("a method name must be a non-empty string")
            if method_name in self.methods:
                raise ValueError(f"{self.name} already has a method {method_name!r}")
            self.methods[method_name] = fn
            if idempotent:
                self.idempotent.append(method_name)
            return fn
        if callable(name):
            return register(name)
        return lambda fn: register(fn, name)

    def on_start(self, fn: Callable[[Context], Any]) -> Callable[[Context], Any]:
        """Register ``fn(ctx)`` as the start routine; its return value is the start result."""
        self.start_handler = fn
        return fn

    def on_stop(self, fn: Callable[[Context], Any]) -> Callable[[Context], Any]:
        """Register ``fn(ctx)`` as the finalizer run by ``stop``."""
        self.stop_handler = fn
        return fn

    def describe(self) -> dict[str, Any]:
        """The photon object of the hello frame."""
        described = {"name": self.name, "kinds": self.kinds, "methods": list(self.methods),
                     "metadata": self.metadata}
        if self.idempotent:
            described["idempotent"] = list(self.idempotent)
        return described


class _Warning:
    """A warning something outside can trigger over and over, written to stderr at most once every
    WARNING_INTERVAL seconds; the next one written says how many were left out meanwhile."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.written_at: float | None = None
        self.suppressed = 0

    def say(self, text: str) -> None:
        now = time.monotonic()
        with self.lock:
            if self.written_at is not None and now - self.written_at < WARNING_INTERVAL:
                self.suppressed += 1
                return
            if self.suppressed:
                text += f" ({self.suppressed} more like this suppressed)"
            self.written_at, self.suppressed = now, 0
        try:
            os.write(2, (text + "\n").encode("utf-8", "replace"))
        except OSError:
            pass


class _BadFrame(Exception):
    """The host sent something the protocol forbids; the worker exits with status 70."""


def _check_tree(value: Any, numbers: bool = False) -> None:
    """Reject nesting deeper than MAX_DEPTH (this also ends cycles), non-string keys and,
    with numbers=True, integers beyond double range (a peer could not decode them)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"JSON nesting deeper than {MAX_DEPTH}")
        if isinstance(item, dict):
            if not all(isinstance(k, str) for k in item):
                raise TypeError("JSON object keys must be strings")
            item = item.values()
        for child in item:
            if isinstance(child, (dict, list, tuple)):
                stack.append((child, depth + 1))
            elif numbers and isinstance(child, int):
                try:
                    float(child)
                except OverflowError:
                    raise ValueError(f"integer {str(child)[:20]}... is beyond double range") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key in object")
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _parse_float(token: str) -> float:
    value = float(token)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {token[:40]} is out of double range")
    return value


def _parse_int(token: str) -> int | float:
    """Integer tokens that fit a signed 64-bit integer stay exact; others are doubles."""
    if len(token) < 19:                              # fewer digits than 2^63 has: it fits
        return int(token)
    value = int(token)
    return value if -2**63 <= value < 2**63 else _parse_float(token)


def _pairs(value: Any) -> int:
    """How many members the objects in a decoded value have together."""
    count, stack = 0, [value] if type(value) is dict or type(value) is list else []
    while stack:
        item = stack.pop()
        if type(item) is dict:
            count += len(item)
            item = item.values()
        for child in item:
            if type(child) is dict or type(child) is list:
                stack.append(child)
    return count


def _loads(text: str) -> Any:
    """The JSON value text holds, held to the protocol's rules (section 1): no duplicate key,
    nesting at most MAX_DEPTH, numbers as the protocol reads them; ValueError or RecursionError
    if it breaks one. Objects are decoded by the C decoder as they come; a duplicate key shows
    as fewer members than the text has colons, and only then (or when a string holds a colon)
    is the text decoded again, one object at a time, to tell."""
    value = _DECODER.decode(text)
    if text.count("{") + text.count("[") > MAX_DEPTH:
        _check_tree(value)
    if _pairs(value) != text.count(":"):
        value = _PAIRS_DECODER.decode(text)
    return value


# One encoder and the decoders for every frame: json.dumps and json.loads with options build a
# new one (and the decoder its scanner) at each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_parse_int, parse_float=_parse_float)
_PAIRS_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_reject_constant,
                                  parse_int=_parse_int, parse_float=_parse_float)


def frame_cap(text: str | None) -> int:
    """The frame cap for a LUMINAL_FRAME_CAP value (PROTOCOL.md section 1): the value when it is
    only ASCII digits and from 2 to 2^32-1; otherwise (absent, empty, a sign, spaces, any other
    character, 0, 1, above 2^32-1) the default, 16777216."""
    if text is None or not re.fullmatch(r"[0-9]+", text, re.ASCII):
        return DEFAULT_FRAME_CAP
    digits = text.lstrip("0")
    if len(digits) > 10:                             # also keeps int() within its digit limit
        return DEFAULT_FRAME_CAP
    value = int(digits or "0")
    return value if 2 <= value <= 2**32 - 1 else DEFAULT_FRAME_CAP


def protocol_versions(text: str | None) -> list[int]:
    """The versions a LUMINAL_PROTOCOL value lists (PROTOCOL.md section 1): each comma-separated
    element of one to nine ASCII digits; other elements are ignored. Empty when none is left."""
    return [int(p) for p in (text or "").split(",") if re.fullmatch(r"[0-9]{1,9}", p, re.ASCII)]


def _new_loop() -> asyncio.AbstractEventLoop:
    """A new asyncio loop whose timers fire on time. epoll_wait counts whole milliseconds, and
    asyncio's epoll selector rounds a wait up to the next one: a coroutine sleeping 1 ms waited
    up to 2. This loop's selector waits for its epoll descriptor with select(), which counts
    microseconds, then collects the events without waiting."""
    import asyncio
    import select
    import selectors

    if selectors.DefaultSelector is not selectors.EpollSelector:
        return asyncio.new_event_loop()

    class OnTimeSelector(selectors.EpollSelector):
        def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            if timeout is not None and timeout > 0 and self.fileno() < _FD_SETSIZE:
                try:
                    select.select([self.fileno()], [], [], timeout)
                except InterruptedError:
                    pass
                timeout = 0
            return super().select(timeout)

    return asyncio.SelectorEventLoop(OnTimeSelector())


class _Worker:
    """The protocol engine behind :func:`run`: one reader loop plus a pool of handler threads."""

    def __init__(self, photons: tuple[Photon, ...], max_workers: int):
        if not photons:
            raise ValueError("run() needs at least one photon")
        self.photons = {p.name: p for p in photons}
        if len(self.photons) != len(photons):
            raise ValueError("photon names must be unique")
        self.host_calls = _HostCalls(self)
        offered = protocol_versions(os.environ.get("LUMINAL_PROTOCOL")) or [1]
        common = [v for v in SUPPORTED_PROTOCOLS if v in offered]
        self.protocol = max(common or SUPPORTED_PROTOCOLS)
        self.cap = frame_cap(os.environ.get("LUMINAL_FRAME_CAP"))
        self.lock = threading.Lock()
        # photon -> "starting", "started" or "stopped"; absent: not started (start failed or none yet)
        self.phases: dict[str, str] = {}
        self.phase_lock = threading.Lock()
        self.jobs: queue.SimpleQueue[tuple[int, Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self.calls: dict[int, CallContext] = {}          # calls running or queued, by id
        self.max_workers = max_workers
        self.buffer = bytearray()
        # Requests queued or running on the pool, and the warnings that every thread is busy
        # and that a coroutine holds the asyncio loop.
        self.busy = 0
        # Pool threads alive, and how many of them wait for a host call (another thread is
        # started for each, so max_workers threads run methods: lend_thread).
        self.threads = max_workers
        self.lent = 0
        self.pool_thread = threading.local()
        self.busy_lock = threading.Lock()
        self.busy_warning = _Warning()
        self.stall_warning = _Warning()
        # The asyncio loop async handlers run on (started at the first async request), and
        # how many async requests it has: its stall watch looks only while there are some.
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None              # the thread id running it
        self.loop_lock = threading.Lock()
        # Async requests read and not yet handed to the loop (the reader's own: handed over in one
        # go before it waits for input), and replies of async requests not yet written (the
        # loop's own: written together once the loop's ready callbacks have run).
        self.async_batch: list[tuple[int, Callable[..., Any], tuple[Any, ...], str]] = []
        self.reply_batch: list[bytes] = []
        self.tasks: set[asyncio.Task[None]] = set()      # the loop's own: the async requests' tasks
        self.async_running = 0                           # the loop's own count of them
        self.loop_busy = threading.Event()               # set while async requests run or the loop reads
        # Who reads fd 3: the main thread, or (while async requests run) the loop itself, so a
        # request and its reply do not pass between two threads and the GIL. The loop has it
        # only while it turns: the stall watch takes it back for the main thread when the loop
        # stalls (loop_stalled until it turns again), so pings are answered meanwhile. The
        # lock is held while the loop reads and handles input, and to move the reading.
        self.reading_on_loop = False
        self.reader_lock = threading.Lock()
        self.reader_back = threading.Event()             # the main thread waits on it meanwhile
        self.loop_stalled = False
        self.wanted = 4                                  # bytes the next frame needs in the buffer

    # -- output -------------------------------------------------------------------------------
    def encode(self, msg: dict[str, Any]) -> bytes:
        """One whole frame for msg (the runtime's own, its keys strings); ValueError/TypeError if
        it is not valid or exceeds the cap."""
        for value in msg.values():                       # only nested values need the walk
            if isinstance(value, (dict, list, tuple)):
                _check_tree(msg)
                break
        text = _ENCODER.encode(msg)
        if len(text) > 308 and _LONG_DIGITS.search(text):
            _check_tree(msg, numbers=True)
        payload = text.encode("utf-8")
        if len(payload) > self.cap:
            raise ValueError(f"frame of {len(payload)} bytes exceeds the frame cap of {self.cap}")
        return len(payload).to_bytes(4, "big") + payload

    def write(self, frame: bytes) -> None:
        """Write a whole frame to fd 4; frames of concurrent writers never interleave."""
        view = memoryview(frame)
        with self.lock:
            while view:
                try:
                    view = view[os.write(OUT_FD, view):]
                except InterruptedError:
                    continue
                except BrokenPipeError:
                    self.exit(0, keep_lock=True)         # the host stopped listening
                except OSError as exc:
                    self.fail(f"cannot write to fd {OUT_FD}: {exc}", keep_lock=True)

    def error_frame(self, rid: int, code: str, message: str, data: Any = NO_DATA) -> bytes:
        """An error reply; drops data, then shortens the message, if the frame cannot be sent."""
        msg = {"type": "error", "id": rid, "code": code, "message": message}
        if data is not NO_DATA:
            msg["data"] = data
        try:
            return self.encode(msg)
        except (ValueError, TypeError) as exc:
            safe = message[:1000].encode("utf-8", "replace").decode("utf-8")
            return self.encode({"type": "error", "id": rid, "code": code,
                                "message": f"{safe} (error data not sendable: {exc})"[:2000]})

    def work(self) -> None:
        """A pool thread: run queued requests, replying to each exactly once; it ends after one
        when the pool has more threads than max_workers not waiting for a host call."""
        self.pool_thread.active = True
        while True:
            rid, fn, args = self.jobs.get()
            try:
                frame = self.reply(rid, fn, args)
            except BaseException:                        # e.g. an exception whose str() fails
                frame = self.unprintable_frame(rid)
            call = self.calls.pop(rid, None)
            if call is not None:
                call._end()                              # before the reply: no part may follow it
            self.write(frame)
            with self.busy_lock:
                self.busy -= 1
                if self.threads - self.lent > self.max_workers:
                    self.threads -= 1
                    return

    def lend_thread(self) -> bool:
        """A pool thread is about to wait for a host call: another takes its place meanwhile, so
        methods waiting on each other's photons never hold every thread (a call to a photon of
        this worker would wait for one for ever). True if the caller is a pool thread; it then
        calls return_thread when the wait is over."""
        if not getattr(self.pool_thread, "active", False):
            return False
        with self.busy_lock:
            self.lent += 1
            grow = self.threads - self.lent < self.max_workers
            if grow:
                self.threads += 1
        if grow:
            threading.Thread(target=self.work, name="photon-extra", daemon=True).start()
        return True

    def return_thread(self) -> None:
        """The wait lend_thread was for is over (the pool shrinks again as threads finish)."""
        with self.busy_lock:
            self.lent -= 1

    def unprintable_frame(self, rid: int) -> bytes:
        """The reply to request rid when even its error could not be put into words."""
        return self.encode({"type": "error", "id": rid, "code": "photon_error",
                            "message": "the photon failed and its error is unprintable"})

    def submit(self, rid: int, fn: Callable[..., Any], args: tuple[Any, ...], label: str) -> None:
        """Queue request rid for the pool, warning (rate-limited) when it must wait for a thread;
        an async handler goes to the asyncio loop instead."""
        if _is_async(fn):
            self.submit_async(rid, fn, args, label)
            return
        with self.busy_lock:
            self.busy += 1
            waiting = self.busy - self.threads
        if waiting > 0:
            self.busy_warning.say(f"luminal_photon: all {self.max_workers} method threads are busy; {label} "
                                  f"waits for one ({waiting} waiting)")
        self.jobs.put((rid, fn, args))

    def reply(self, rid: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
        """Run fn(*args); its result or error as the reply frame to request rid."""
        try:
            value = fn(*args)
            if isinstance(value, Coroutine):             # a plain function that returned a coroutine
                import asyncio
                value = asyncio.run_coroutine_threadsafe(value, self.running_loop()).result()
        except PhotonError as exc:
            return self.error_frame(rid, exc.code, exc.message, exc.data)
        except BaseException as exc:                     # even SystemExit gets its reply
            return self.exception_frame(rid, exc)
        return self.result_frame(rid, value)

    def result_frame(self, rid: int, value: Any) -> bytes:
        """The result reply to request rid, or an error reply if value cannot be sent."""
        try:
            return self.encode({"type": "result", "id": rid, "value": value})
        except Exception as exc:
            return self.error_frame(rid, "photon_error", f"the result cannot be sent: {exc}")

    def exception_frame(self, rid: int, exc: BaseException) -> bytes:
        """The photon_error reply to request rid for an exception a handler raised (its traceback on stderr)."""
        traceback.print_exception(exc)
        name, text = type(exc).__name__, str(exc)
        return self.error_frame(rid, "photon_error", f"{name}: {text}" if text else name, {"exception": name})

    # -- async handlers -----------------------------------------------------------------------
    def running_loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop async handlers run on, started (with the watch that names a stall of
        it) the first time it is needed: asyncio is imported then, not when a photon starts."""
        import asyncio
        with self.loop_lock:
            if self.loop is None:
                loop = _new_loop()
                threading.Thread(target=self.run_loop, args=(loop,), name="photon-asyncio", daemon=True).start()
                threading.Thread(target=self.watch_loop, args=(loop,), name="photon-asyncio-watch", daemon=True).start()
                self.loop = loop
            return self.loop

    def on_loop(self) -> bool:
        """Whether the calling thread runs the asyncio loop."""
        return self.loop_thread is not None and threading.get_ident() == self.loop_thread

    def run_loop(self, loop: asyncio.AbstractEventLoop) -> NoReturn:
        """Run the loop for the process's life: a handler that stops it (`loop.stop()`) is told
        on stderr, and the loop runs on, so the other async handlers are not left waiting."""
        self.loop_thread = threading.get_ident()
        while True:
            loop.run_forever()
            try:
                os.write(2, b"luminal_photon: a handler stopped the asyncio loop; it runs on (the runtime owns it)\n")
            except OSError:
                pass

    def submit_async(self, rid: int, fn: Callable[..., Any], args: tuple[Any, ...], label: str) -> None:
        """Run async handler fn(*args) for request rid as a task named label on the loop, once
        the reader is done with the input it has (`begin_async`)."""
        self.async_batch.append((rid, fn, args, label))

    def begin_async(self, batch: list[tuple[int, Callable[..., Any], tuple[Any, ...], str]]) -> None:
        """On the loop: a task for each async request of batch."""
        if not batch:
            return
        loop = self.loop
        assert loop is not None
        if self.async_running == 0:
            self.loop_busy.set()
        self.async_running += len(batch)
        for rid, fn, args, label in batch:
            # Held until done: the loop itself keeps only weak references to its tasks.
            self.tasks.add(loop.create_task(self.reply_async(rid, fn, args), name=label))

    def queue_reply(self, rid: int, frame: bytes) -> None:
        """On the loop: the reply to async request rid, written with the others of this turn."""
        call = self.calls.pop(rid, None)
        if call is not None:
            call._end()
        self.reply_batch.append(frame)
        if len(self.reply_batch) == 1:
            assert self.loop is not None
            self.loop.call_soon(self.write_reply_batch)

    def write_reply_batch(self) -> None:
        """On the loop: write the replies queued this turn, in one write when they fit."""
        frames, self.reply_batch = b"".join(self.reply_batch), []
        self.write(frames)

    async def reply_async(self, rid: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Await fn(*args) and write its reply to request rid; a cancel of the call (before it
        began, or at an await) is answered cancelled."""
        import asyncio
        call = self.calls.get(rid)
        task = asyncio.current_task(self.loop)
        try:
            try:
                if call is not None:
                    call._task = task
                    if call.cancelled:                   # cancelled while its task was being made
                        raise asyncio.CancelledError
                value = await fn(*args)
            except asyncio.CancelledError:
                photon = call.photon if call is not None else "the photon"
                frame = self.error_frame(rid, "cancelled", f"the call to {photon} was cancelled")
            except PhotonError as exc:
                frame = self.error_frame(rid, exc.code, exc.message, exc.data)
            except BaseException as exc:
                frame = self.exception_frame(rid, exc)
            else:
                frame = self.result_frame(rid, value)
        except BaseException:                            # e.g. an exception whose str() fails
            frame = self.unprintable_frame(rid)
        self.queue_reply(rid, frame)
        self.tasks.discard(task)                         # nothing is awaited after this
        self.async_running -= 1
        self.settle_if_idle()

    def watch_loop(self, loop: asyncio.AbstractEventLoop) -> NoReturn:
        """While async handlers run, check every READER_TAKEOVER seconds that the loop turns.
        When it has not for that long, the main thread reads fd 3 again until it does; when it
        has not for LOOP_STALL_WARNING seconds, name the task holding it on stderr, once a
        stall (and at most once every WARNING_INTERVAL seconds)."""
        import asyncio
        while True:
            self.loop_busy.wait()
            turned = threading.Event()
            loop.call_soon_threadsafe(turned.set)
            if not turned.wait(READER_TAKEOVER):
                with self.reader_lock:
                    self.loop_stalled = True
                    self.give_reading_back()
                if not turned.wait(LOOP_STALL_WARNING - READER_TAKEOVER):
                    try:
                        task = asyncio.current_task(loop)
                    except RuntimeError:
                        task = None
                    who = f"the task {task.get_name()!r}" if task is not None else "a coroutine"
                    self.stall_warning.say(f"luminal_photon: {who} has held the asyncio loop for over "
                                           f"{LOOP_STALL_WARNING:g} s without awaiting; the other async handlers "
                                           "wait (run blocking work in a sync method or with asyncio.to_thread)")
                    turned.wait()
                self.loop_stalled = False
            time.sleep(READER_TAKEOVER)

    # -- input --------------------------------------------------------------------------------
    def next_payload(self) -> bytearray | None:
        """The payload of the next whole frame in the buffer, taken out of it; None until more
        is read (self.wanted then says how much the frame needs)."""
        buffer = self.buffer
        if len(buffer) < 4:
            self.wanted = 4
            return None
        length = int.from_bytes(buffer[:4], "big")
        if length < 2:
            raise _BadFrame(f"bad frame length {length}")
        if length > self.cap:                            # checked before reading the payload
            raise _BadFrame(f"oversize frame: {length} bytes, cap {self.cap}")
        if len(buffer) < 4 + length:
            self.wanted = 4 + length
            return None
        payload = buffer[4:4 + length]
        del buffer[:4 + length]
        return payload

    def read_input(self) -> None:
        """Read what fd 3 has (waiting for some) into the buffer; at end of file, exit 0 (even
        inside a frame: the host is gone, PROTOCOL.md section 6)."""
        while True:
            try:
                chunk = os.read(IN_FD, max(self.wanted - len(self.buffer), 65536))
            except InterruptedError:
                continue
            except BlockingIOError:                      # the loop's reading: nothing after all
                return
            except OSError as exc:
                self.fail(f"cannot read fd {IN_FD}: {exc}")
            if not chunk:
                os._exit(0)
            self.buffer += chunk
            return

    def decode(self, payload: bytearray) -> dict[str, Any]:
        """The message a frame's payload holds; _BadFrame if it is not a valid one."""
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _BadFrame(f"invalid UTF-8: {exc}") from None
        try:
            msg = _loads(text)
            if not isinstance(msg, dict):
                raise ValueError("the top level is not an object")
            # json accepts lone surrogate escapes ("\ud800"), which the protocol forbids:
            # encoding the decoded message as UTF-8 raises on any it holds.
            if _SURROGATE_ESCAPE.search(text):
                json.dumps(msg, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError) as exc:
            raise _BadFrame(f"invalid JSON: {exc}") from None
        return msg

    def handle_input(self) -> None:
        """Handle every whole frame in the buffer; one the protocol forbids ends the worker (70)."""
        try:
            while (payload := self.next_payload()) is not None:
                self.dispatch(self.decode(payload))
        except _BadFrame as exc:
            self.fail(str(exc))
        except (ValueError, TypeError) as exc:           # only with an absurdly small cap
            self.fail(f"cannot send a reply: {exc}")

    def read_on_thread(self) -> NoReturn:
        """The main thread's reading, for the process's life. Before it waits for input with
        async requests to begin or running, it hands the reading to the loop (unless the loop is
        stalled) and waits until the loop, or the stall watch, gives it back."""
        while True:
            self.handle_input()
            batch = self.async_batch
            if batch or self.async_running:
                self.async_batch = []
                loop = self.running_loop()
                with self.reader_lock:
                    handing = not self.loop_stalled
                    if handing:
                        self.reader_back.clear()
                        self.reading_on_loop = True
                        os.set_blocking(IN_FD, False)     # a stale readiness must not block the loop
                        self.loop_busy.set()             # watched from now: take_reading may never run
                if handing:
                    loop.call_soon_threadsafe(self.take_reading, batch)
                    self.reader_back.wait()
                    os.set_blocking(IN_FD, True)
                    continue
                if batch:
                    loop.call_soon_threadsafe(self.begin_async, batch)
            self.read_input()

    def take_reading(self, batch: list[tuple[int, Callable[..., Any], tuple[Any, ...], str]]) -> None:
        """On the loop: begin batch, and read fd 3 here while async requests run."""
        self.begin_async(batch)
        with self.reader_lock:
            if self.reading_on_loop and self.async_running:
                assert self.loop is not None
                self.loop.add_reader(IN_FD, self.read_on_loop)
                return
        self.settle_if_idle()

    def read_on_loop(self) -> None:
        """On the loop, when fd 3 is readable: read and handle what it has; end of file exits 0."""
        with self.reader_lock:
            if not self.reading_on_loop:                 # given back: the main thread reads
                assert self.loop is not None
                self.loop.remove_reader(IN_FD)
                return
            self.read_input()
            self.handle_input()
            batch, self.async_batch = self.async_batch, []
        self.begin_async(batch)

    def settle_if_idle(self) -> None:
        """On the loop: with no async request left, stop watching it and give the reading back."""
        if self.async_running == 0:
            self.loop_busy.clear()
            with self.reader_lock:
                self.give_reading_back()

    def give_reading_back(self) -> None:
        """Under the reader lock: hand the reading of fd 3 back to the main thread if the loop has
        it (from the loop when its async requests are done, or from the stall watch)."""
        if self.reading_on_loop:
            self.reading_on_loop = False
            if self.on_loop():
                assert self.loop is not None
                self.loop.remove_reader(IN_FD)
            self.reader_back.set()

    # -- dispatch -----------------------------------------------------------------------------
    def request_id(self, msg: dict[str, Any]) -> int:
        """The request's id: an integer in 1 ... 2^53-1 (an integral double like 9.0 counts)."""
        rid = msg.get("id")
        if type(rid) is float and rid.is_integer():
            rid = int(rid)
        if type(rid) is not int or not 1 <= rid <= MAX_ID:
            raise _BadFrame(f"invalid message: {msg['type']} needs an integer member 'id' "
                            f"in 1...2^53-1, got {json.dumps(rid)[:40]}")
        return rid

    def dispatch(self, msg: dict[str, Any]) -> None:
        """Handle one host message: ping inline, start/stop/call on the pool."""
        kind = msg.get("type")
        if not isinstance(kind, str):
            raise _BadFrame("invalid message: missing or non-string member 'type'")
        if kind == "shutdown":
            self.exit(0)
        if kind == "ping":
            self.write(self.encode({"type": "pong", "id": self.request_id(msg)}))
            return
        if kind == "cancel":                             # no reply; unknown or finished: ignored
            call = self.calls.get(self.request_id(msg))
            if call is not None:
                call._cancel()
                task, loop = call._task, self.loop
                if task is not None and loop is not None:
                    loop.call_soon_threadsafe(task.cancel)
            return
        if kind in ("host_result", "host_error"):        # the host's reply to a host call
            self.host_calls.answer(self.request_id(msg), msg)
            return
        if kind == "credit":                             # no reply; a call not streaming: ignored
            rid, parts = self.request_id(msg), msg.get("parts")
            if type(parts) is float and parts.is_integer():
                parts = int(parts)
            if type(parts) is not int or parts < 1:
                raise _BadFrame("invalid message: credit member 'parts' must be a positive integer")
            call = self.calls.get(rid)
            if call is not None:
                call._grant(parts)
            return
        if kind not in ("start", "stop", "call"):
            if msg.get("id") is not None:               # null counts as absent
                rid = self.request_id(msg)
                self.write(self.error_frame(rid, "unsupported",
                                            f"this worker does not support {kind!r} requests"))
            return
        rid, name = self.request_id(msg), msg.get("photon")
        if not isinstance(name, str):
            raise _BadFrame(f"invalid message: {kind} needs a string member 'photon'")
        photon = self.photons.get(name)
        if photon is None:
            self.write(self.error_frame(rid, "unknown_photon", f"this worker hosts no photon {name!r}"))
            return
        if kind == "call":
            method = msg.get("method")
            if not isinstance(method, str):
                raise _BadFrame("invalid message: call needs a string member 'method'")
            phase = self.phases.get(name)                # its state first, then its methods (§3.2)
            if phase != "started":
                why = "it was stopped" if phase == "stopped" else "no start has succeeded"
                self.write(self.error_frame(rid, "invalid_state", f"photon {name} is not started ({why})"))
                return
            handler = photon.methods.get(method)
            if handler is None:
                self.write(self.error_frame(rid, "unknown_method", f"{name} has no method {method!r}"))
                return
            deadline = msg.get("deadline_ms")
            if type(deadline) is float and deadline.is_integer():   # an integral number counts (§3)
                deadline = int(deadline)
            if deadline is not None and (type(deadline) is not int or deadline < 0):
                raise _BadFrame("invalid message: call member 'deadline_ms' must be an integer of at least 0")
            stream = msg.get("stream")
            if type(stream) is float and stream.is_integer():
                stream = int(stream)
            if stream is not None and (type(stream) is not int or stream < 1):
                raise _BadFrame("invalid message: call member 'stream' must be a positive integer")
            call = self.calls[rid] = CallContext(name, self, rid, deadline, stream)
            self.submit(rid, handler, (msg.get("params"), call), f"call {method!r} of {name}")
        elif kind == "start":
            with self.phase_lock:
                phase = self.phases.get(name)
                if phase is None:
                    self.phases[name] = "starting"
            if phase is not None:
                why = ("was stopped; it cannot be started again in this worker process"
                       if phase == "stopped" else "is already started")
                self.write(self.error_frame(rid, "invalid_state", f"photon {name} {why}"))
                return
            self.submit(rid, self.start_routine(name, photon.start_handler), (Context(name, self, rid),), f"the start of {name}")
        else:
            with self.phase_lock:
                self.phases[name] = "stopped"
            self.submit(rid, photon.stop_handler or (lambda _ctx: None), (Context(name, self, rid),), f"the stop of {name}")

    def start_routine(self, name: str, routine: Callable[[Context], Any] | None) -> Callable[[Context], Any]:
        """The start routine of photon name (async if it is), recording its outcome before the
        reply is sent."""
        def settle(succeeded: bool) -> None:
            with self.phase_lock:                        # a stop meanwhile wins
                if self.phases.get(name) == "starting":
                    if succeeded:
                        self.phases[name] = "started"
                    else:
                        del self.phases[name]

        if routine is not None and _is_async(routine):
            async def start_async(ctx: Context) -> Any:
                succeeded = False
                try:
                    value = await routine(ctx)
                    succeeded = True
                    return value
                finally:
                    settle(succeeded)
            return start_async

        def start(ctx: Context) -> Any:
            succeeded = False
            try:
                value = routine(ctx) if routine else None
                succeeded = True
                return value
            finally:
                settle(succeeded)
        return start

    # -- lifecycle ----------------------------------------------------------------------------
    def exit(self, status: int, keep_lock: bool = False) -> NoReturn:
        """Exit now, leaving no partial frame on fd 4 (waits <= 0.25 s for one being written).

        Nothing here waits for another thread: CPU-bound handlers make every GIL hand-over
        slow, so exiting promptly means never giving the GIL away on the way out.
        """
        if not keep_lock:
            self.lock.acquire(timeout=0.25)
        os._exit(status)

    def fail(self, reason: str, keep_lock: bool = False) -> NoReturn:
        """The host broke the protocol (or fd 3/4 is unusable): say why on stderr, exit 70."""
        try:
            os.write(2, f"luminal_photon: protocol failure: {reason}\n".encode("utf-8", "replace"))
        except OSError:
            pass
        self.exit(EXIT_PROTOCOL, keep_lock)

    def serve(self) -> NoReturn:
        """Send hello, then read and dispatch frames until shutdown or end of file."""
        for fd in (IN_FD, OUT_FD):
            try:
                os.set_inheritable(fd, False)            # children must not hold our pipes
            except OSError:
                self.fail(f"fd {fd} is not open: run this photon file under Luminal")
        for stream in (sys.stdout, sys.stderr):          # print() lines reach the log at once
            if isinstance(stream, io.TextIOWrapper):     # (exit never flushes: see exit())
                stream.reconfigure(line_buffering=True, write_through=True)
        # Start the pool now: starting a thread later, while CPU-bound handlers hold the GIL,
        # would stall the reader (and so pings and end of file) for up to seconds.
        for i in range(self.max_workers):
            threading.Thread(target=self.work, name=f"photon-{i}", daemon=True).start()
        try:
            hello = self.encode({"type": "hello", "protocol": self.protocol, "pid": os.getpid(),
                                 "runtime": RUNTIME, "features": list(FEATURES),
                                 "photons": [p.describe() for p in self.photons.values()]})
        except (ValueError, TypeError) as exc:
            self.fail(f"cannot send hello: {exc}")
        self.write(hello)
        self.read_on_thread()


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


def run(*photons: Photon, max_workers: int = 8) -> NoReturn:
    """Serve the given photons over fds 3/4 until shutdown or end of file; never returns.

    At most max_workers plain start/stop/call handlers run at once; pings are always answered
    by the reader of fd 3 (the main thread, or the asyncio loop while async handlers run and
    it turns).
    """
    if not all(isinstance(p, Photon) for p in photons):
        raise TypeError("run() takes Photon objects: run(a, b), not run([a, b])")
    _Worker(photons, max_workers).serve()
