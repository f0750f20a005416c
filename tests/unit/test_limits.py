"""The limiter on a fake clock: pacing per quota model, TPM reservations and corrections, RPD
reset at midnight Pacific, RetryInfo cool-downs and learning, tier shares, and the breaker's
rule (short 429s are waited out; only failures after honouring the delay open it)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from console.services.limits import (
    CircuitOpen,
    QuotaExhausted,
    RateLimiter,
    next_pacific_midnight,
)
from console.settings import LimitSpec, LimitsSettings, load_settings

MODEL = "gemini-2.5-flash"


class FakeTime:
    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


def limiter(clock: FakeTime, quota_model: str = "bounded", budget=None, **spec) -> RateLimiter:
    limits = LimitsSettings(models={MODEL: LimitSpec(**({"rpm": 60, "tpm": 10**9} | spec))},
                            quota_model=quota_model)
    return RateLimiter(limits, clock=clock.now, sleep=clock.sleep, breaker_cool_down_s=30,
                       budget=budget)


async def send_times(lim: RateLimiter, clock: FakeTime, n: int, tier: str = "standard"):
    start = clock.now()
    times = []
    for _ in range(n):
        permit = await lim.acquire(MODEL, tier, 10)
        times.append(clock.now() - start)
        lim.settle(permit, actual_tokens=10, ok=True)
    return times


def most_in_any_minute(times: list[float]) -> int:
    return max(sum(1 for u in times if t - 60 < u <= t) for t in times)


async def test_sliding_log_uses_the_whole_minute_then_waits_for_the_window():
    clock = FakeTime()
    times = await send_times(limiter(clock, "sliding-log", rpm=60), clock, 130)
    assert times[59] == 0 and times[60] == pytest.approx(60) and times[120] == pytest.approx(120)
    assert most_in_any_minute(times) == 60


async def test_token_bucket_bursts_a_fraction_then_paces_at_rpm():
    clock = FakeTime()
    times = await send_times(limiter(clock, "token-bucket", rpm=600), clock, 700)
    burst = sum(1 for t in times if t == 0)
    # 10 % of the minute, less what one second of latency could bunch up.
    assert burst == 60 - 10
    gaps = [b - a for a, b in pairwise(times[burst:])]
    assert all(gap == pytest.approx(0.1) for gap in gaps)  # RPM/60 per second, no margin


async def test_bounded_never_sends_more_than_rpm_in_any_minute():
    clock = FakeTime()
    times = await send_times(limiter(clock, "bounded", rpm=60), clock, 200)
    assert sum(1 for t in times if t == 0) == 6
    assert most_in_any_minute(times) <= 60


async def test_tpm_waits_for_the_window_and_is_corrected_by_actual_usage():
    clock = FakeTime()
    lim = limiter(clock, "sliding-log", rpm=10_000, tpm=1_000)
    start = clock.now()
    first = await lim.acquire(MODEL, "standard", 600)
    lim.settle(first, actual_tokens=300, ok=True)  # the real count was smaller
    second = await lim.acquire(MODEL, "standard", 600)  # 300 + 600 fits: no wait
    assert clock.now() - start < 1
    lim.settle(second, actual_tokens=600, ok=True)
    await lim.acquire(MODEL, "standard", 600)  # 900 + 600 > 1000: wait for the first to age out
    assert clock.now() - start == pytest.approx(60, abs=0.1)


async def test_token_bucket_tokens_are_reserved_then_corrected():
    clock = FakeTime()
    lim = limiter(clock, "token-bucket", rpm=10_000, tpm=6_000)  # burst 600 tokens, 100/s
    start = clock.now()
    permit = await lim.acquire(MODEL, "standard", 600)
    # The estimate is reserved: the next 600 wait for the refill...
    probe = limiter(clock, "token-bucket", budget=lim._budget, rpm=10_000, tpm=6_000)
    lim.settle(permit, actual_tokens=100, ok=True)  # ...unless the real count gives it back
    await probe.acquire(MODEL, "standard", 500)
    assert clock.now() - start == pytest.approx(0, abs=0.01)
    await probe.acquire(MODEL, "standard", 600)
    assert clock.now() - start == pytest.approx(6, abs=0.01)


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


async def test_tiers_share_one_budget_and_priority_is_not_scaled_down():
    clock = FakeTime()
    lim = limiter(clock, "sliding-log", rpm=60)
    times = []
    for tier in ["flex", "standard", "priority"] * 30:
        lim.settle(await lim.acquire(MODEL, tier, 1), actual_tokens=1, ok=True)
        times.append(clock.now())
    # 60 in the first minute across all tiers (not 60 each), then the window.
    assert sum(1 for t in times if t - times[0] < 60) == 60
    assert limiter(clock).views() == [] and LimitsSettings().for_call(MODEL, "priority").rpm \
        == LimitsSettings().for_call(MODEL, "standard").rpm


async def test_a_tier_share_caps_that_tier_inside_the_budget():
    clock = FakeTime()
    limits = LimitsSettings(models={MODEL: LimitSpec(rpm=60, tpm=10**9)},
                            quota_model="sliding-log", tier_share={"flex": 0.5})
    lim = RateLimiter(limits, clock=clock.now, sleep=clock.sleep)
    flex = await send_times(lim, clock, 31, tier="flex")
    assert flex[29] == 0 and flex[30] == pytest.approx(60)
    # Standard still has the other half of the minute.
    assert (await send_times(lim, clock, 30))[-1] == 0


async def test_retry_delay_cools_the_model_for_every_tier():
    clock = FakeTime()
    lim = limiter(clock, rpm=600)
    lim.quota_error(MODEL, "standard", retry_delay_s=20)
    start = clock.now()
    await lim.acquire(MODEL, "flex", 1)  # the quota is the project's: flex waits too
    assert clock.now() - start == pytest.approx(20)
    await lim.acquire("gemini-2.5-pro", "standard", 1)  # another model is not cooled
    assert clock.now() - start == pytest.approx(20)


async def test_a_429_with_a_long_delay_teaches_the_rate_the_server_allowed():
    clock = FakeTime()
    lim = limiter(clock, rpm=600)
    for _ in range(30):
        lim.settle(await lim.acquire(MODEL, "standard", 1), actual_tokens=1, ok=True)
    lim.quota_error(MODEL, "standard", retry_delay_s=2)  # short: only a cool-down
    assert lim.bucket(MODEL, "standard").effective_rpm == 600
    lim.quota_error(MODEL, "standard", retry_delay_s=40)
    # 30 got through in the last minute: that is the real limit; pace a little under it.
    assert lim.bucket(MODEL, "standard").effective_rpm == pytest.approx(30 * 0.97)
    clock.t += 120
    await lim.acquire(MODEL, "standard", 1)
    assert 30 * 0.97 < lim.bucket(MODEL, "standard").effective_rpm < 600 * 0.2


async def test_breaker_opens_after_failures_that_honoured_the_delay_and_half_opens():
    clock = FakeTime()
    lim = limiter(clock, rpm=10_000)
    for _ in range(3):  # each retry waited the delay the previous 429 asked for
        permit = await lim.acquire(MODEL, "standard", 1)
        lim.settle(permit, actual_tokens=None, ok=False, counted=False)
        lim.quota_error(MODEL, "standard", retry_delay_s=4, permit=permit)
    assert lim.bucket(MODEL, "standard").breaker.state == "open"
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


async def test_three_short_429s_on_requests_already_in_flight_do_not_open_the_breaker():
    clock = FakeTime()
    lim = limiter(clock, rpm=10_000)
    in_flight = [await lim.acquire(MODEL, "standard", 1) for _ in range(8)]
    clock.t += 0.5
    for permit, delay in zip(in_flight, (3, 4, 5), strict=False):
        lim.settle(permit, actual_tokens=None, ok=False, counted=False)
        lim.quota_error(MODEL, "standard", retry_delay_s=delay, permit=permit)
        lim.check_breaker(MODEL, "standard")  # never raises
    assert lim.bucket(MODEL, "standard").breaker.state == "closed"
    # The retries wait the longest delay asked, then succeed: the breaker stays closed.
    start = clock.now()
    retry = await lim.acquire(MODEL, "standard", 1)
    assert clock.now() - start == pytest.approx(5 - 0.5 + 0.0, abs=0.6)
    lim.settle(retry, actual_tokens=1, ok=True)
    assert lim.bucket(MODEL, "standard").breaker.consecutive == 0


async def test_a_daily_quota_429_opens_the_breaker_at_once():
    clock = FakeTime()
    lim = limiter(clock, rpm=10_000)
    lim.quota_error(MODEL, "standard", retry_delay_s=6 * 3600)
    assert lim.bucket(MODEL, "standard").breaker.state == "open"


def test_flex_503_that_failed_for_good_strikes_the_breaker():
    clock = FakeTime()
    lim = limiter(clock)
    for _ in range(3):
        lim.unavailable(MODEL, "standard")
    assert lim.bucket(MODEL, "standard").breaker.state == "closed"
    for _ in range(3):
        lim.unavailable(MODEL, "flex")
    assert lim.bucket(MODEL, "flex").breaker.state == "open"


def test_default_limits_agree_with_the_emulator_catalogue():
    from console.emulator.models import CATALOGUE

    limits = load_settings().limits
    for model_id, spec in limits.models.items():
        info = CATALOGUE.get(model_id)
        if info is None:
            continue
        assert (spec.rpm, spec.tpm, spec.rpd or 0) == (info.rpm, info.tpm, info.rpd), model_id


async def test_tpm_zero_means_not_enforced_for_every_tier():
    clock = FakeTime()
    lim = limiter(clock, "sliding-log", rpm=600, tpm=0)
    times = await send_times(lim, clock, 20, tier="flex")
    assert times[-1] == 0  # no tier cap of one token a minute


async def test_token_bucket_burst_shrinks_when_calls_are_slow():
    clock = FakeTime()
    lim = limiter(clock, "token-bucket", rpm=600)
    permit = await lim.acquire(MODEL, "standard", 1)
    clock.t += 3.2  # a slow call: requests sent on time may reach the server 3.5 s late
    lim.settle(permit, actual_tokens=1, ok=True)
    lim.bucket(MODEL, "standard").next_slot = 0.0  # forget the reserved slots
    times = await send_times(lim, clock, 100)
    # 10 % of the minute less what 3.5 s of latency could bunch up (35 requests).
    assert sum(1 for t in times if t == 0) == 60 - 35
