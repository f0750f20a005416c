"""A wire-faithful Gemini Developer API emulator (Starlette + uvicorn) that stands alone."""

from console.emulator.app import create_app
from console.emulator.clock import EmulatorClock
from console.emulator.config import (
    BatchTiming,
    EmulatorConfig,
    FaultProfile,
    ModelQuota,
    TierLatency,
)
from console.emulator.server import EmulatorServer, serve_forever

__all__ = [
    "BatchTiming",
    "EmulatorClock",
    "EmulatorConfig",
    "EmulatorServer",
    "FaultProfile",
    "ModelQuota",
    "TierLatency",
    "create_app",
    "serve_forever",
]
