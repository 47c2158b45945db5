"""The asyncio loop that runs a worker's ``async def`` handlers: a thread of its own, timers that
fire on time, and a watch that names a coroutine holding it."""

from __future__ import annotations

import math
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, NoReturn

from ._context import PhotonError
from ._warning import _Warning

if TYPE_CHECKING:
    import asyncio    # imported when first needed: importing asyncio takes tens of milliseconds

_FD_SETSIZE = 1024                    # select() takes descriptors below this
LOOP_STALL_WARNING = 1.0              # seconds a coroutine may hold the asyncio loop before a warning
READER_TAKEOVER = 0.1                 # seconds the loop may not turn before the main thread reads fd 3 again
STALL_MEMORY = 1.0                    # seconds the loop must turn after a stall before it reads fd 3 again


def _new_loop() -> asyncio.AbstractEventLoop:
    """A new asyncio loop whose timers fire on time. epoll_wait counts whole milliseconds, and
    asyncio's epoll selector rounds a wait up to the next one: a coroutine sleeping 1 ms waited
    up to 2. This loop's selector waits for its epoll descriptor with select(), which counts
    microseconds, then collects the events without waiting. A photon that installed an event
    loop policy of its own (uvloop's, say) gets that policy's loop."""
    import asyncio
    import select
    import selectors

    if type(asyncio.get_event_loop_policy()) is not asyncio.DefaultEventLoopPolicy \
            or selectors.DefaultSelector is not selectors.EpollSelector:
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


class _AsyncHandlers:
    """The part of the worker (`_Worker`) that runs async handlers on its asyncio loop."""

    def init_async(self) -> None:
        """The async handlers' state, before any runs (the loop is made when the first one comes)."""
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
        self.tasks: dict[asyncio.Task[None], int] = {}   # the loop's own: the async requests' tasks, their ids
        self.async_running = 0                           # the loop's own count of them
        self.loop_busy = threading.Event()               # set while async requests run or the loop reads
        self.stall_warning = _Warning()

    def running_loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop async handlers run on, started (with the watch that names a stall of
        it) the first time it is needed: asyncio is imported then, not when a photon starts."""
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
        """Run the loop for the process's life: a handler that stops it (`loop.stop()`), or a task
        of its own that raises SystemExit or KeyboardInterrupt (asyncio lets those out of the
        loop), is told on stderr, and the loop runs on, so the other async handlers are not left
        waiting."""
        self.loop_thread = threading.get_ident()
        while True:
            try:
                loop.run_forever()
                why = "a handler stopped the asyncio loop"
            except BaseException as exc:
                why = f"a task that is no request's raised {type(exc).__name__} on the asyncio loop"
            try:
                os.write(2, f"luminal_photon: {why}; it runs on (the runtime owns it)\n".encode())
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
            self.tasks[loop.create_task(self.reply_async(rid, fn, args), name=label)] = rid

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
        if task is not None:
            del self.tasks[task]                         # nothing is awaited after this
        self.async_running -= 1
        self.settle_if_idle()

    def turned(self, seen: threading.Event) -> None:
        """On the loop, for the stall watch: the loop turns. Requests whose tasks ended without
        running (a handler cancelled every task, say) are answered cancelled here."""
        seen.set()
        ended = [(task, rid) for task, rid in self.tasks.items() if task.done()]
        for task, rid in ended:
            del self.tasks[task]
            call = self.calls.get(rid)
            photon = call.photon if call is not None else "the photon"
            self.queue_reply(rid, self.error_frame(rid, "cancelled", f"the call to {photon} was cancelled before it began"))
            self.async_running -= 1
        if ended:
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
            loop.call_soon_threadsafe(self.turned, turned)
            if not turned.wait(READER_TAKEOVER):
                with self.reader_lock:
                    self.loop_stalled_until = math.inf
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
                self.loop_stalled_until = time.monotonic() + STALL_MEMORY
            time.sleep(READER_TAKEOVER)
