"""Fault injection: errors by status, latency spikes and dropped connections, per profile."""

from __future__ import annotations

import asyncio
import logging
import random

from starlette.types import Receive, Scope, Send

from console.emulator.config import EmulatorConfig
from console.emulator.errors import injected

# uvicorn logs this line when a response ends early, which is exactly what a drop does.
_DROP_LOG = "ASGI callable returned without completing response."


class DroppedConnection(Exception):
    """Raised by the injector; the endpoint answers with a truncated response instead."""


class DroppedResponse:
    """Promises a body, sends part of it, then returns: uvicorn closes the socket mid-response."""

    status_code = 200

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"candidates": [', "more_body": True})


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _DROP_LOG


def silence_drop_logs() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())


class FaultInjector:
    """Applies `config.faults` before an API operation is served."""

    def __init__(self, config: EmulatorConfig, rng: random.Random) -> None:
        self.config = config
        self.rng = rng

    def _applies(self, operation: str) -> bool:
        profile = self.config.faults
        return profile.active and (profile.operations is None or operation in profile.operations)

    async def before(self, operation: str) -> None:
        if not self._applies(operation):
            return
        profile = self.config.faults
        if profile.latency_spike_rate and self.rng.random() < profile.latency_spike_rate:
            await asyncio.sleep(profile.latency_spike_s)
        if profile.drop_connection_rate and self.rng.random() < profile.drop_connection_rate:
            raise DroppedConnection()
        roll = self.rng.random()
        for code, rate in profile.error_rates.items():
            if roll < rate:
                raise injected(int(code))
            roll -= rate

    def breaks_stream(self, operation: str) -> bool:
        if not self._applies(operation):
            return False
        rate = self.config.faults.stream_error_rate
        return bool(rate) and self.rng.random() < rate
