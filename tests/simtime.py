"""Dilated time shared by the emulator and the gateway: a minute of quota in a few seconds.

Both sides read the same clock, which runs `speed` times faster than the wall, and the
gateway's sleeps are divided by `speed`; every request still happens at its own moment, so
sliding quota windows behave exactly as they would in real time.
"""

from __future__ import annotations

import asyncio
import time

from console.emulator.clock import EmulatorClock


class DilatedClock(EmulatorClock):
    def __init__(self, speed: float, origin: float | None = None) -> None:
        super().__init__()
        self.speed = speed
        # Processes that pass the same origin (and speed) read the same dilated time.
        self._origin = time.time() if origin is None else origin

    @property
    def origin(self) -> float:
        return self._origin

    def now(self) -> float:
        return self._origin + (time.time() - self._origin) * self.speed + self.offset

    async def sleep(self, seconds: float) -> None:
        # The event loop sleeps on the monotonic clock, this clock runs on the wall clock, and
        # at this speed their drift (NTP slewing) adds up: sleep until *this* clock is there.
        until = self.now() + max(0.0, seconds)
        while (left := until - self.now()) > 0:
            await asyncio.sleep(left / self.speed)
