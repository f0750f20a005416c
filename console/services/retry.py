"""Retry policies on tenacity: the only retry layer (the SDK's own retry stays off).

Retried: 429 (after the server's RetryInfo delay), 503 (exponential backoff with jitter),
500 / 502 / 504 and connection errors. Never another 4xx. Bounded by attempts and by a total
deadline per call. Waits go through an injectable `sleep` so tests run in milliseconds.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from console.services.backoff import backoff

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Failure:
    """What a failed attempt tells the retry policy: its HTTP status (None for a connection
    error or timeout) and the server's requested delay, if any."""

    status: int | None
    retry_delay_s: float | None = None

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUSES


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    deadline_s: float = 300.0
    initial_s: float = 1.0
    max_s: float = 60.0
    jitter_s: float = 1.0

    def backoff(self, attempt: int) -> float:
        """Exponential with jitter: initial * 2^(attempt-1), capped, plus up to jitter_s."""
        wait = backoff(self.initial_s, attempt - 1, cap_s=self.max_s)
        return wait + random.uniform(0, self.jitter_s)

    def wait_for(self, failure: Failure, attempt: int) -> float:
        if failure.status == 429 and failure.retry_delay_s is not None:
            # The server said when; a little jitter keeps concurrent callers from stampeding.
            return failure.retry_delay_s + random.uniform(0, min(0.25, self.jitter_s))
        return self.backoff(attempt)


def parse_duration(text: str | None) -> float | None:
    """`"26s"` / `"1.5s"` (a google.protobuf.Duration in JSON) -> seconds."""
    if not text or not text.endswith("s"):
        return None
    try:
        return float(text[:-1])
    except ValueError:
        return None


def retrying(
    policy: RetryPolicy,
    classify: Callable[[BaseException], Failure | None],
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncRetrying:
    """An AsyncRetrying for one call. `classify` maps an exception to a Failure, or None for
    errors that are not the API's (bugs), which are never retried."""

    def should_retry(error: BaseException) -> bool:
        failure = classify(error)
        return failure is not None and failure.retryable

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        failure = classify(error) if error else None
        # Pure: tenacity computes the wait even after the last attempt.
        return policy.wait_for(failure or Failure(None), state.attempt_number)

    return AsyncRetrying(
        stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.deadline_s),
        wait=wait,
        retry=retry_if_exception(should_retry),
        sleep=sleep,
        reraise=True,
    )
