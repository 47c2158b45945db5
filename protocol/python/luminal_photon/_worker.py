"""The protocol engine behind :func:`run`."""

from __future__ import annotations

import io
import json
import os
import queue
import sys
import threading
import traceback
from collections.abc import Coroutine
from typing import Any, Callable, NoReturn

from ._context import NO_DATA, CallContext, Context, PhotonError
from ._host_calls import _HostCalls
from ._input import _FrameInput
from ._loop import _AsyncHandlers
from ._photon import Photon, _is_async
from ._warning import _Warning
from ._wire import (EXIT_PROTOCOL, FEATURES, IN_FD, MAX_ID, OUT_FD, RUNTIME, SUPPORTED_PROTOCOLS, _check_tree,
                    _BadFrame, _ENCODER, _LONG_DIGITS, frame_cap, protocol_versions)


class _Worker(_FrameInput, _AsyncHandlers):
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
        # Requests queued or running on the pool, and the warning that every thread is busy.
        self.busy = 0
        # Pool threads alive, and how many of them wait for a host call (another thread is
        # started for each, so max_workers threads run methods: lend_thread).
        self.threads = max_workers
        self.lent = 0
        self.pool_thread = threading.local()
        self.busy_lock = threading.Lock()
        self.busy_warning = _Warning()
        self.init_async()
        self.init_input()

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
                import concurrent.futures                # imported by asyncio already
                future = asyncio.run_coroutine_threadsafe(value, self.running_loop())
                call = self.calls.get(rid)
                if call is not None:
                    call._cancel_with(future)
                try:
                    value = future.result()
                except concurrent.futures.CancelledError:
                    photon = call.photon if call is not None else "the photon"
                    return self.error_frame(rid, "cancelled", f"the call to {photon} was cancelled")
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
                os.set_blocking(fd, True)                # the main thread waits in read and write
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


def run(*photons: Photon, max_workers: int = 8) -> NoReturn:
    """Serve the given photons over fds 3/4 until shutdown or end of file; never returns.

    At most max_workers plain start/stop/call handlers run at once; pings are always answered
    by the reader of fd 3 (the main thread, or the asyncio loop while async handlers run and
    it turns).
    """
    if not all(isinstance(p, Photon) for p in photons):
        raise TypeError("run() takes Photon objects: run(a, b), not run([a, b])")
    _Worker(photons, max_workers).serve()
