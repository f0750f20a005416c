"""The limiter on a fake clock: pacing, TPM reservations, RPD reset at midnight Pacific,
RetryInfo cool-downs and learning, and the breaker's open / half-open / closed cycle."""

from __future__ import annotations

import asyncio
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from console.services.limits import CircuitOpen, QuotaExhausted, RateLimiter, next_pacific_midnight
from console.settings import LimitSpec, LimitsSettings

MODEL = "gemini-2.5-flash"


class FakeTime:
    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


def limiter(clock: FakeTime, **spec) -> RateLimiter:
    limits = LimitsSettings(models={MODEL: LimitSpec(**({"rpm": 60, "tpm": 10**9} | spec))})
    return RateLimiter(limits, clock=clock.now, sleep=clock.sleep, breaker_cool_down_s=30)


async def test_requests_are_paced_not_bursted():
    clock = FakeTime()
    lim = limiter(clock, rpm=60)
    times = []
    for _ in range(5):
        permit = await lim.acquire(MODEL, "standard", 10)
        times.append(clock.now())
        lim.settle(permit, actual_tokens=10, ok=True)
    gaps = [b - a for a, b in pairwise(times)]
    # One slot every 60/RPM seconds, a little under the limit for safety.
    assert all(gap == pytest.approx(60 / (60 * 0.985)) for gap in gaps)


async def test_tpm_waits_for_the_window_and_is_corrected_by_actual_usage():
    clock = FakeTime()
    lim = limiter(clock, rpm=10_000, tpm=1_000)
    start = clock.now()
    first = await lim.acquire(MODEL, "standard", 600)
    lim.settle(first, actual_tokens=300, ok=True)  # the real count was smaller
    second = await lim.acquire(MODEL, "standard", 600)  # 300 + 600 fits: no wait
    assert clock.now() - start < 1
    lim.settle(second, actual_tokens=600, ok=True)
    await lim.acquire(MODEL, "standard", 600)  # 900 + 600 > 1000: wait for the first to age out
    assert clock.now() - start == pytest.approx(60, abs=0.1)


async def test_in_flight_tokens_are_reserved():
    clock = FakeTime()
    lim = limiter(clock, rpm=10_000, tpm=1_000)
    await lim.acquire(MODEL, "standard", 700)  # not settled: still in flight
    assert lim.bucket(MODEL, "standard").tokens_in_flight == 700


async def test_rpd_is_spent_until_midnight_pacific():
    pacific = ZoneInfo("America/Los_Angeles")
    clock = FakeTime(datetime(2026, 11, 21, 23, 59, tzinfo=pacific).timestamp())
    lim = limiter(clock, rpm=10_000, rpd=2)
    for _ in range(2):
        lim.settle(await lim.acquire(MODEL, "standard", 1), actual_tokens=1, ok=True)
    with pytest.raises(QuotaExhausted, match="midnight Pacific"):
        await lim.acquire(MODEL, "standard", 1)
    clock.t = next_pacific_midnight(clock.t) + 1
    await lim.acquire(MODEL, "standard", 1)


async def test_retry_delay_cools_only_that_model_and_tier():
    clock = FakeTime()
    lim = limiter(clock, rpm=600)
    lim.quota_error(MODEL, "standard", retry_delay_s=20)
    start = clock.now()
    await lim.acquire(MODEL, "flex", 1)
    assert clock.now() == start  # flex is not cooled
    await lim.acquire(MODEL, "standard", 1)
    assert clock.now() - start == pytest.approx(20)


async def test_a_429_teaches_the_rate_the_server_allowed():
    clock = FakeTime()
    lim = limiter(clock, rpm=600)
    for _ in range(30):
        lim.settle(await lim.acquire(MODEL, "standard", 1), actual_tokens=1, ok=True)
    lim.quota_error(MODEL, "standard", retry_delay_s=1)
    # 30 got through in the last minute: that is the real limit; pace a little under it.
    assert lim.bucket(MODEL, "standard").effective_rpm == pytest.approx(30 * 0.97)
    # Slow recovery: a quiet minute later it has crept back up, not jumped.
    clock.t += 120
    await lim.acquire(MODEL, "standard", 1)
    assert 30 * 0.97 < lim.bucket(MODEL, "standard").effective_rpm < 600 * 0.2


async def test_breaker_opens_half_opens_and_closes():
    clock = FakeTime()
    lim = limiter(clock)
    for _ in range(3):
        lim.quota_error(MODEL, "standard", retry_delay_s=1)
    with pytest.raises(CircuitOpen):
        lim.check_breaker(MODEL, "standard")
    clock.t += 31
    lim.check_breaker(MODEL, "standard")  # the one trial call
    assert lim.bucket(MODEL, "standard").breaker.state == "half-open"
    with pytest.raises(CircuitOpen):
        lim.check_breaker(MODEL, "standard")  # others wait for the trial
    lim.quota_error(MODEL, "standard", retry_delay_s=1)  # the trial failed: open again
    assert lim.bucket(MODEL, "standard").breaker.state == "open"
    clock.t += 31
    lim.check_breaker(MODEL, "standard")
    permit = await lim.acquire(MODEL, "standard", 1)
    lim.settle(permit, actual_tokens=1, ok=True)  # the trial succeeded: closed
    assert lim.bucket(MODEL, "standard").breaker.state == "closed"
