"""goodput: successful requests per minute ÷ the rate limit, over 1,000+ requests on the emulator.

Two runs of the gateway's limiter, each with the same run of a naive fixed-window limiter (at
most RPM requests per calendar minute, released as fast as they come) as the baseline:
  A. configured limit = the server's limit: target goodput >= 0.97 of RPM with zero 429s;
  B. the server's real limit is lower than configured (and unknown): target goodput >= 0.90
     of the real limit with <= 2 % of requests answered 429.
Time is dilated (tests/simtime.py) so each run's minutes of quota pass in seconds.
"""

from __future__ import annotations

import asyncio
import math
import tempfile

from console.emulator import EmulatorConfig, EmulatorServer
from console.services.gateway import Gateway
from console.services.limits import Permit, RateLimiter
from console.services.pricing import PriceTable
from console.services.retry import RetryPolicy
from console.settings import LimitSpec, LimitsSettings
from tests.bench._harness import BenchResult
from tests.simtime import DilatedClock

MODEL = "gemini-2.5-flash"
REQUESTS = 1_000
CONFIGURED_RPM = 600
LOWER_RPM = 400
SPEED = 6.0
CONCURRENCY = 16


class FixedWindowLimiter(RateLimiter):
    """The naive baseline: count requests per calendar minute; when the count reaches RPM,
    wait for the next minute. No pacing, no learning; a 429 only costs its retry delay."""

    def __init__(self, rpm: int, clock, sleep) -> None:
        super().__init__(LimitsSettings(), clock=clock, sleep=sleep, breaker_threshold=10**9)
        self._rpm = rpm
        self._window = -1
        self._count = 0

    def check_breaker(self, model: str, tier: str) -> None:
        return None

    async def acquire(self, model: str, tier: str, tokens: int) -> Permit:
        while True:
            now = self._clock()
            window = int(now // 60)
            if window != self._window:
                self._window, self._count = window, 0
            if self._count < self._rpm:
                self._count += 1
                return Permit((model, tier), 0, now)
            await self._sleep((window + 1) * 60 - now)

    def settle(self, permit: Permit, *, actual_tokens, ok) -> None:
        return None

    def quota_error(self, model: str, tier: str, retry_delay_s) -> None:
        return None


def one_run(*, server_rpm: int, configured_rpm: int, naive: bool) -> dict:
    clock = DilatedClock(SPEED)
    config = EmulatorConfig(seed=3)
    config.update({"quotas": {MODEL: {"rpm": server_rpm, "tpm": 0, "rpd": 0}}})
    server = EmulatorServer(config, clock=clock).start()
    if naive:
        limiter = FixedWindowLimiter(configured_rpm, clock.now, clock.sleep)
    else:
        limits = LimitsSettings(models={MODEL: LimitSpec(rpm=configured_rpm, tpm=10**9)})
        limiter = RateLimiter(limits, clock=clock.now, sleep=clock.sleep,
                              breaker_threshold=10**9)
    statuses: list[int] = []
    gateway = Gateway(
        api_key="bench", base_url=server.base_url, prices=PriceTable.default(), limiter=limiter,
        write_ledger=lambda rows: statuses.extend(r["status"] for r in rows
                                                  if r["operation"] == "generate"),
        clock=clock.now, sleep=clock.sleep,
        retry_policy=RetryPolicy(attempts=20, deadline_s=3600, initial_s=1, jitter_s=0.5),
    )

    async def workload() -> tuple[float, float]:
        await gateway.count_tokens(MODEL, "warm up")  # connection set-up off the clock
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> None:
            async with gate:
                await gateway.generate(MODEL, f"request {i}")

        started = clock.now()
        await asyncio.gather(*(one(i) for i in range(REQUESTS)))
        return started, clock.now()

    try:
        started, ended = gateway.run(workload())
        gateway.flush_ledger()
    finally:
        gateway.close()
        server.stop()
    minutes = (ended - started) / 60
    ok = statuses.count(200)
    return {
        "requests": ok,
        "attempts": len(statuses),
        "http_429": statuses.count(429),
        "share_429": statuses.count(429) / max(1, len(statuses)),
        "minutes": round(minutes, 3),
        # Goodput over the span: the last request needs only its own slot, so the span
        # holds REQUESTS - 1 intervals.
        "goodput_rpm": (ok - 1) / minutes if minutes else math.inf,
    }


def run() -> BenchResult:
    with tempfile.TemporaryDirectory():
        ours_a = one_run(server_rpm=CONFIGURED_RPM, configured_rpm=CONFIGURED_RPM, naive=False)
        naive_a = one_run(server_rpm=CONFIGURED_RPM, configured_rpm=CONFIGURED_RPM, naive=True)
        ours_b = one_run(server_rpm=LOWER_RPM, configured_rpm=CONFIGURED_RPM, naive=False)
        naive_b = one_run(server_rpm=LOWER_RPM, configured_rpm=CONFIGURED_RPM, naive=True)
    ratio_a = ours_a["goodput_rpm"] / CONFIGURED_RPM
    ratio_b = ours_b["goodput_rpm"] / LOWER_RPM
    line_b = (
        f"  lower server limit: goodput {ratio_b:.3f} of the real {LOWER_RPM} RPM, "
        f"{ours_b['share_429']:.1%} answered 429 (naive: {naive_b['goodput_rpm'] / LOWER_RPM:.3f},"
        f" {naive_b['share_429']:.1%} 429)  [target >= 0.90, <= 2 %]"
    )
    print(line_b)
    print(f"  matching limits: {ours_a['http_429']} x 429 (naive: {naive_a['http_429']} x 429)"
          "  [target 0]")
    return BenchResult(
        name="goodput",
        value=ratio_a,
        unit="of configured RPM",
        baseline=naive_a["goodput_rpm"] / CONFIGURED_RPM,
        baseline_label="naive fixed window",
        target=">= 0.97 with zero 429s",
        extra={
            "matching_limits": {"ours": ours_a, "naive": naive_a},
            "lower_server_limit": {"ours": ours_b, "naive": naive_b,
                                   "ours_ratio_of_true_limit": ratio_b,
                                   "naive_ratio_of_true_limit": naive_b["goodput_rpm"] / LOWER_RPM},
            "requests": REQUESTS, "speed": SPEED,
        },
    )


if __name__ == "__main__":
    print(run().line())
