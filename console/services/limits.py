"""Client-side quota: RPM / TPM / RPD pacing per (model, tier), RetryInfo-aware cool-downs,
an adaptive rate when the server's real limit is lower than configured, and a circuit breaker.

Requests are *paced* (one slot every 60/RPM seconds), never released in bursts at window
edges, so a workload that stays inside the configured limits sees no 429 at all. Tokens are
reserved for in-flight requests and corrected once the response reports the real count.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from console.settings import LimitsSettings

PACIFIC = ZoneInfo("America/Los_Angeles")
# Pace slightly under the limit: timer jitter must never push a sliding minute over it.
PACING_MARGIN = 0.985
# After a 429 the learnt rate sits this far below what the server let through.
LEARNT_MARGIN = 0.97
# Recovery towards the configured rate: +2 % of it per quiet minute.
RECOVERY_PER_MINUTE = 0.02


class QuotaExhausted(Exception):
    """The daily request quota (RPD) for a (model, tier) is spent until midnight Pacific."""


class CircuitOpen(Exception):
    """Too many consecutive quota errors: calls to this (model, tier) are held back."""

    def __init__(self, model: str, tier: str, retry_at: float) -> None:
        self.model, self.tier, self.retry_at = model, tier, retry_at
        super().__init__(f"circuit open for {model} on {tier}: quota errors; retry later")


def next_pacific_midnight(now: float) -> float:
    local = datetime.fromtimestamp(now, PACIFIC)
    tomorrow = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return tomorrow.timestamp()


@dataclass
class Breaker:
    threshold: int = 3
    cool_down_s: float = 30.0
    consecutive: int = 0
    open_until: float | None = None
    half_open_trial: bool = False

    @property
    def state(self) -> str:
        if self.open_until is None:
            return "closed"
        return "half-open" if self.half_open_trial else "open"


@dataclass
class Bucket:
    """Pacing state for one (model, tier)."""

    rpm: int
    tpm: int
    rpd: int | None
    effective_rpm: float
    next_slot: float = 0.0
    tokens_in_flight: int = 0
    token_log: deque[tuple[float, int]] = field(default_factory=deque)
    success_log: deque[float] = field(default_factory=deque)
    day_count: int = 0
    day_resets_at: float = 0.0
    cool_until: float = 0.0
    last_quota_error: float | None = None
    quota_errors: int = 0
    breaker: Breaker = field(default_factory=Breaker)

    def tokens_last_minute(self, now: float) -> int:
        while self.token_log and self.token_log[0][0] <= now - 60:
            self.token_log.popleft()
        return sum(n for _, n in self.token_log)


@dataclass(frozen=True)
class Permit:
    """What `acquire` reserved; hand it back to `settle` with the real token count."""

    key: tuple[str, str]
    tokens: int
    at: float


@dataclass(frozen=True)
class BucketView:
    model: str
    tier: str
    rpm: int
    effective_rpm: float
    tpm: int
    rpd: int | None
    day_count: int
    cool_until: float
    breaker: str
    quota_errors: int


class RateLimiter:
    def __init__(
        self,
        limits: LimitsSettings,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        breaker_threshold: int = 3,
        breaker_cool_down_s: float = 30.0,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._breaker_threshold = breaker_threshold
        self._breaker_cool_down_s = breaker_cool_down_s

    def bucket(self, model: str, tier: str) -> Bucket:
        key = (model.removeprefix("models/"), tier)
        bucket = self._buckets.get(key)
        if bucket is None:
            spec = self._limits.for_call(*key)
            bucket = Bucket(
                rpm=spec.rpm,
                tpm=spec.tpm,
                rpd=spec.rpd,
                effective_rpm=spec.rpm * PACING_MARGIN,
                day_resets_at=next_pacific_midnight(self._clock()),
                breaker=Breaker(self._breaker_threshold, self._breaker_cool_down_s),
            )
            self._buckets[key] = bucket
        return bucket

    def views(self) -> list[BucketView]:
        return [
            BucketView(m, t, b.rpm, b.effective_rpm, b.tpm, b.rpd, b.day_count, b.cool_until,
                       b.breaker.state, b.quota_errors)
            for (m, t), b in sorted(self._buckets.items())
        ]

    def check_breaker(self, model: str, tier: str) -> None:
        """Raise CircuitOpen while the breaker is open; let one trial through when it half-opens."""
        breaker = self.bucket(model, tier).breaker
        if breaker.open_until is None:
            return
        now = self._clock()
        if now < breaker.open_until or breaker.half_open_trial:
            raise CircuitOpen(model, tier, breaker.open_until)
        breaker.half_open_trial = True

    async def acquire(self, model: str, tier: str, tokens: int) -> Permit:
        bucket = self.bucket(model, tier)
        key = (model.removeprefix("models/"), tier)
        now = self._clock()
        self._recover(bucket, now)
        if now >= bucket.day_resets_at:
            bucket.day_count = 0
            bucket.day_resets_at = next_pacific_midnight(now)
        if bucket.rpd is not None and bucket.day_count >= bucket.rpd:
            raise QuotaExhausted(f"daily limit of {bucket.rpd} requests for {key[0]} on {key[1]} "
                                 "is spent until midnight Pacific")
        # Reserve the slot synchronously so concurrent callers queue behind each other; a 429
        # seen while waiting moves the cool-down on, and then the slot is taken again.
        while True:
            interval = 60.0 / bucket.effective_rpm
            slot = max(now, bucket.next_slot, bucket.cool_until)
            bucket.next_slot = slot + interval
            if slot > now:
                await self._sleep(slot - now)
            now = self._clock()
            if now >= bucket.cool_until:
                break
        bucket.day_count += 1
        # TPM: wait until the last minute's tokens plus this request fit.
        tokens = min(tokens, bucket.tpm)
        while True:
            now = self._clock()
            used = bucket.tokens_last_minute(now) + bucket.tokens_in_flight
            if used + tokens <= bucket.tpm or not bucket.token_log:
                break
            oldest = bucket.token_log[0][0]
            await self._sleep(max(0.001, oldest + 60 - now))
        bucket.tokens_in_flight += tokens
        return Permit(key, tokens, self._clock())

    def settle(self, permit: Permit, *, actual_tokens: int | None, ok: bool) -> None:
        """Release the reservation, booking the real token count when the call reported one."""
        bucket = self._buckets[permit.key]
        bucket.tokens_in_flight = max(0, bucket.tokens_in_flight - permit.tokens)
        now = self._clock()
        booked = permit.tokens if actual_tokens is None else actual_tokens
        if booked:
            bucket.token_log.append((now, booked))
        if ok:
            bucket.success_log.append(now)
            while bucket.success_log and bucket.success_log[0] <= now - 60:
                bucket.success_log.popleft()
            breaker = bucket.breaker
            breaker.consecutive = 0
            breaker.open_until = None
            breaker.half_open_trial = False

    def quota_error(self, model: str, tier: str, retry_delay_s: float | None) -> None:
        """A 429: cool this (model, tier) down, learn the real rate, count towards the breaker."""
        bucket = self.bucket(model, tier)
        now = self._clock()
        delay = retry_delay_s if retry_delay_s is not None else 60.0 / bucket.effective_rpm * 4
        bucket.cool_until = max(bucket.cool_until, now + delay)
        bucket.next_slot = max(bucket.next_slot, bucket.cool_until)
        bucket.quota_errors += 1
        bucket.last_quota_error = now
        while bucket.success_log and bucket.success_log[0] <= now - 60:
            bucket.success_log.popleft()
        # What the server let through in the last minute is the best estimate of its limit.
        observed = len(bucket.success_log)
        if observed:
            bucket.effective_rpm = max(1.0, min(bucket.effective_rpm, observed * LEARNT_MARGIN))
        else:
            bucket.effective_rpm = max(1.0, bucket.effective_rpm * 0.5)
        breaker = bucket.breaker
        breaker.consecutive += 1
        if breaker.half_open_trial or breaker.consecutive >= breaker.threshold:
            breaker.open_until = now + max(breaker.cool_down_s, delay)
            breaker.half_open_trial = False

    def _recover(self, bucket: Bucket, now: float) -> None:
        ceiling = bucket.rpm * PACING_MARGIN
        if bucket.effective_rpm >= ceiling or bucket.last_quota_error is None:
            return
        quiet_minutes = (now - bucket.last_quota_error) / 60
        if quiet_minutes >= 1:
            bucket.effective_rpm = min(
                ceiling, bucket.effective_rpm + ceiling * RECOVERY_PER_MINUTE * quiet_minutes
            )
            bucket.last_quota_error = now
