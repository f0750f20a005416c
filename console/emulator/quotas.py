"""Per-model RPM / TPM / RPD accounting and the priority tier's own (smaller) request limit.

Two quota models (`EmulatorConfig.quota_model`) decide how RPM and TPM are enforced:
- `sliding-log`: at most RPM requests (TPM tokens) in any 60 s; a whole minute's quota may go
  at once, and the retryDelay is when the oldest request leaves the window.
- `token-bucket`: the quota refills continuously (RPM/60 per second) into a bucket that holds
  only `quota_burst_fraction` of a minute's quota, so a burst beyond that is refused with a
  short retryDelay however quiet the last minute was.
RPD is a count per Pacific day in both.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from console.emulator.config import QUOTA_MODELS, EmulatorConfig
from console.emulator.errors import quota_exceeded

_WINDOW_S = 60.0
_PACIFIC = ZoneInfo("America/Los_Angeles")


class MinuteWindow:
    """A sliding 60 s window of (time, tokens) events with running totals."""

    __slots__ = ("events", "tokens")

    def __init__(self) -> None:
        self.events: deque[tuple[float, int]] = deque()
        self.tokens = 0

    def prune(self, now: float) -> None:
        events = self.events
        horizon = now - _WINDOW_S
        while events and events[0][0] <= horizon:
            self.tokens -= events.popleft()[1]

    def add(self, now: float, tokens: int) -> None:
        self.events.append((now, tokens))
        self.tokens += tokens

    def seconds_until_requests_below(self, limit: int, now: float) -> float:
        # The oldest event that must leave the window for one more request to fit.
        index = len(self.events) - limit
        return self.events[index][0] + _WINDOW_S - now

    def seconds_until_tokens_fit(self, limit: int, needed: int, now: float) -> float:
        excess = self.tokens + needed - limit
        for stamp, tokens in self.events:
            excess -= tokens
            if excess <= 0:
                return stamp + _WINDOW_S - now
        return _WINDOW_S


def pacific_day(now: float) -> str:
    return datetime.fromtimestamp(now, _PACIFIC).strftime("%Y-%m-%d")


def seconds_to_pacific_midnight(now: float) -> float:
    local = datetime.fromtimestamp(now, _PACIFIC)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp() - now


class TokenBucket:
    """A continuously refilled bucket; starts full. The level may go below zero when one
    request costs more than the bucket holds (a large prompt against TPM): it then has to
    refill that debt before anything else fits, which keeps the long-run rate exact."""

    __slots__ = ("level", "stamp")

    def __init__(self, capacity: float, now: float) -> None:
        self.level = capacity
        self.stamp = now

    def refill(self, now: float, capacity: float, per_second: float) -> None:
        if now > self.stamp:
            self.level = min(capacity, self.level + (now - self.stamp) * per_second)
            self.stamp = now

    def seconds_until(self, needed: float, per_second: float) -> float:
        return max(0.0, (needed - self.level) / per_second)


def check_quota_model(name: str) -> str:
    if name not in QUOTA_MODELS:
        raise ValueError(f"quota_model must be one of {', '.join(QUOTA_MODELS)}, not {name!r}")
    return name


def _delay(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))


def _day_spent(model: str, rpd: int, now: float) -> Exception:
    """The 429 for a spent daily quota: retry after midnight Pacific."""
    return quota_exceeded(model, "generate_requests_per_model_per_day",
                          "GenerateRequestsPerDayPerProjectPerModel", rpd,
                          _delay(seconds_to_pacific_midnight(now)))


class QuotaTracker:
    """Raises 429 RESOURCE_EXHAUSTED (QuotaFailure + RetryInfo) when a limit would be crossed."""

    def __init__(self, config: EmulatorConfig) -> None:
        check_quota_model(config.quota_model)
        self.config = config
        self.windows: dict[str, MinuteWindow] = {}
        self.buckets: dict[str, tuple[TokenBucket, TokenBucket]] = {}
        self.priority_windows: dict[str, MinuteWindow] = {}
        self.days: dict[str, list] = {}  # model -> [pacific day, requests that day]

    def admit(self, model: str, tokens: int, now: float) -> None:
        """Check every limit for one request of `tokens` input tokens, then count it."""
        if not self.config.quotas_enabled:
            return
        quota = self.config.quota_for(model)
        if check_quota_model(self.config.quota_model) == "token-bucket":
            self._admit_bucket(model, quota, tokens, now)
            self._count_day(model, quota, now)
            return
        window = self.windows.get(model)
        if window is None:
            window = self.windows[model] = MinuteWindow()
        window.prune(now)
        if quota.rpm and len(window.events) >= quota.rpm:
            raise quota_exceeded(
                model,
                "generate_requests_per_model",
                "GenerateRequestsPerMinutePerProjectPerModel",
                quota.rpm,
                _delay(window.seconds_until_requests_below(quota.rpm, now)),
            )
        if quota.tpm and window.tokens + tokens > quota.tpm:
            wait = (
                window.seconds_until_tokens_fit(quota.tpm, tokens, now)
                if tokens <= quota.tpm
                else _WINDOW_S
            )
            raise quota_exceeded(
                model,
                "generate_content_paid_tier_input_token_count",
                "GenerateContentPaidTierInputTokensPerModelPerMinute",
                quota.tpm,
                _delay(wait),
            )
        self._count_day(model, quota, now)
        window.add(now, tokens)

    def _admit_bucket(self, model: str, quota, tokens: int, now: float) -> None:
        fraction = max(0.0, self.config.quota_burst_fraction)
        requests_cap = max(1.0, quota.rpm * fraction)
        tokens_cap = max(1.0, quota.tpm * fraction)
        pair = self.buckets.get(model)
        if pair is None:
            pair = self.buckets[model] = (TokenBucket(requests_cap, now),
                                          TokenBucket(tokens_cap, now))
        requests, token_bucket = pair
        if quota.rpm:
            requests.refill(now, requests_cap, quota.rpm / 60)
            if requests.level < 1:
                raise quota_exceeded(
                    model,
                    "generate_requests_per_model",
                    "GenerateRequestsPerMinutePerProjectPerModel",
                    quota.rpm,
                    _delay(requests.seconds_until(1, quota.rpm / 60)),
                )
        if quota.tpm:
            token_bucket.refill(now, tokens_cap, quota.tpm / 60)
            needed = min(tokens, tokens_cap)
            if tokens > quota.tpm:
                raise quota_exceeded(
                    model,
                    "generate_content_paid_tier_input_token_count",
                    "GenerateContentPaidTierInputTokensPerModelPerMinute",
                    quota.tpm,
                    _delay(_WINDOW_S),
                )
            if token_bucket.level < needed:
                raise quota_exceeded(
                    model,
                    "generate_content_paid_tier_input_token_count",
                    "GenerateContentPaidTierInputTokensPerModelPerMinute",
                    quota.tpm,
                    _delay(token_bucket.seconds_until(needed, quota.tpm / 60)),
                )
        self._check_day(model, quota, now)
        if quota.rpm:
            requests.level -= 1
        if quota.tpm:
            token_bucket.level -= tokens

    def _check_day(self, model: str, quota, now: float) -> None:
        if not quota.rpd:
            return
        day = self.days.get(model)
        if day is not None and day[0] == pacific_day(now) and day[1] >= quota.rpd:
            raise _day_spent(model, quota.rpd, now)

    def _count_day(self, model: str, quota, now: float) -> None:
        if not quota.rpd:
            return
        today = pacific_day(now)
        day = self.days.get(model)
        if day is None or day[0] != today:
            day = self.days[model] = [today, 0]
        if day[1] >= quota.rpd:
            raise _day_spent(model, quota.rpd, now)
        day[1] += 1

    def admit_priority(self, model: str, now: float) -> bool:
        """True while priority has room (fraction × RPM); False means downgrade to standard."""
        quota = self.config.quota_for(model)
        if not self.config.quotas_enabled or not quota.rpm:
            return True
        limit = max(1, int(quota.rpm * self.config.priority_limit_fraction))
        window = self.priority_windows.get(model)
        if window is None:
            window = self.priority_windows[model] = MinuteWindow()
        window.prune(now)
        if len(window.events) >= limit:
            return False
        window.add(now, 0)
        return True

    def day_counters(self) -> dict[str, list]:
        return {model: list(day) for model, day in self.days.items()}

    def restore_day_counters(self, counters: dict[str, list]) -> None:
        self.days = {model: list(day) for model, day in counters.items()}

    def reset(self) -> None:
        self.windows.clear()
        self.buckets.clear()
        self.priority_windows.clear()
        self.days.clear()
