"""How a worker reads the host's frames from fd 3: on its main thread, or on its asyncio loop
while async handlers run."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, NoReturn

from ._wire import IN_FD, _BadFrame, _loads, _SURROGATE_ESCAPE

if TYPE_CHECKING:
    import asyncio

READING_LINGER = 0.05                 # seconds the loop keeps reading fd 3 after its last async request


class _FrameInput:
    """The part of the worker (`_Worker`) that reads and decodes frames and hands the reading
    between its main thread and its asyncio loop."""

    def init_input(self) -> None:
        """The reading's state, before anything is read."""
        self.buffer = bytearray()
        # Who reads fd 3: the main thread, or (while async requests run) the loop itself, so a
        # request and its reply do not pass between two threads and the GIL. The loop has it
        # only while it turns: the stall watch takes it back for the main thread when the loop
        # stalls, and the main thread keeps it until the loop has turned for STALL_MEMORY
        # seconds (loop_stalled_until), so pings are answered meanwhile, also through a storm of
        # stalls. A fd 3 that epoll cannot watch (a regular file) is read by the main thread
        # alone. The lock is held while the loop reads and handles input, and to move the reading.
        self.reading_on_loop = False
        self.reader_lock = threading.Lock()
        self.reader_back = threading.Event()             # the main thread waits on it meanwhile
        self.loop_stalled_until = 0.0                    # time.monotonic(); inf while stalled
        self.input_pollable = True
        self.linger: asyncio.TimerHandle | None = None   # the loop's own: a give-back to come
        self.wanted = 4                                  # bytes the next frame needs in the buffer

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
                    handing = self.input_pollable and time.monotonic() >= self.loop_stalled_until
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
            if self.reading_on_loop:
                assert self.loop is not None
                try:
                    self.loop.add_reader(IN_FD, self.read_on_loop)
                except OSError:                          # epoll cannot watch it: a regular file, say
                    self.input_pollable = False
                    self.give_reading_back()
        self.settle_if_idle()                            # async requests all done already: linger

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
        """On the loop: with no async request left, stop watching it and give the reading back
        after READING_LINGER seconds without one (async requests one after the other keep it)."""
        if self.async_running == 0 and self.linger is None:
            assert self.loop is not None
            self.linger = self.loop.call_later(READING_LINGER, self.give_back_if_idle)

    def give_back_if_idle(self) -> None:
        """On the loop, READING_LINGER seconds after the last async request ended: unless another
        runs, stop watching the loop and give the reading back."""
        self.linger = None
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
