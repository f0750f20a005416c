"""The emulator's clock: real time plus an adjustable offset, so tests can jump time."""

from __future__ import annotations

import threading
import time


class EmulatorClock:
    """Wall-clock seconds since the epoch, shifted by `offset`.

    Batches, caches, files and quotas all read this clock, so `advance(3600)` expires a
    one-hour cache at once instead of a test sleeping for it.
    """

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = float(offset)
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the emulator clock only moves forward")
        with self._lock:
            self._offset += float(seconds)
            return self._offset

    def set_offset(self, offset: float) -> None:
        with self._lock:
            self._offset = float(offset)
