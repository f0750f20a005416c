"""Service tiers: normalising the asked tier, priority downgrade, flex shedding, latency."""

from __future__ import annotations

import asyncio
import random

from console.emulator.config import TIERS, EmulatorConfig
from console.emulator.errors import invalid_argument, unavailable
from console.emulator.quotas import QuotaTracker


def normalise_tier(value: object) -> str:
    """`"FLEX"`, `"SERVICE_TIER_FLEX"`, `"flex"` -> `"flex"`; absent or unspecified -> standard."""
    if value is None or value == "":
        return "standard"
    if not isinstance(value, str):
        raise invalid_argument(
            f"Invalid value at 'service_tier' (TYPE_ENUM), {value!r}", "service_tier"
        )
    tier = value.strip().lower().removeprefix("service_tier_")
    if tier in ("unspecified", "default"):
        return "standard"
    if tier not in TIERS:
        raise invalid_argument(
            f"Invalid value at 'service_tier' (type.googleapis.com/google.ai.generativelanguage."
            f'v1beta.ServiceTier), "{value}"',
            "service_tier",
        )
    return tier


class TierRouter:
    """Decides which tier serves a request and how long it takes."""

    def __init__(self, config: EmulatorConfig, quotas: QuotaTracker, rng: random.Random) -> None:
        self.config = config
        self.quotas = quotas
        self.rng = rng

    def serve(self, asked: str, model: str, now: float, in_flight: int) -> str:
        """The tier that will serve; raises 503 when flex is shed."""
        if asked == "flex":
            shed_rate = self.config.flex_shed_rate
            limit = self.config.flex_max_in_flight
            if (shed_rate and self.rng.random() < shed_rate) or (limit and in_flight > limit):
                raise unavailable()
            return "flex"
        if asked == "priority" and not self.quotas.admit_priority(model, now):
            return "standard"
        return asked

    async def delay(self, tier: str) -> float:
        """Wait out the tier's configured latency; returns the seconds chosen (for the log)."""
        latency = self.config.tier_latency.get(tier)
        if latency is None:
            return 0.0
        seconds = latency.base_s + (
            self.rng.uniform(0, latency.jitter_s) if latency.jitter_s else 0
        )
        if seconds > 0:
            await asyncio.sleep(seconds)
        return seconds
