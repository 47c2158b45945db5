"""Warnings something outside can trigger over and over, rate-limited."""

from __future__ import annotations

import os
import threading
import time

WARNING_INTERVAL = 10.0               # seconds between two warnings of one kind


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
