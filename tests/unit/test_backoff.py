"""The one back-off rule the sync loops, the drop folder's retries and the retry policy share."""

from __future__ import annotations

from console.services.backoff import CADENCE_DOUBLINGS, backoff
from console.services.retry import RetryPolicy


def test_doubles_per_failure_up_to_the_cap():
    assert [backoff(2.0, n, cap_s=30.0) for n in range(6)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_stops_doubling_after_the_most_doublings():
    assert backoff(1.0, 50, cap_s=1e9, most_doublings=CADENCE_DOUBLINGS) == 64.0


def test_a_cap_below_the_base_never_makes_the_wait_shorter():
    assert backoff(10.0, 3, cap_s=5.0) == 10.0


def test_a_huge_run_of_failures_does_not_overflow():
    assert backoff(1.0, 10_000, cap_s=300.0) == 300.0


def test_the_retry_policy_waits_by_the_same_rule():
    policy = RetryPolicy(initial_s=0.5, max_s=3.0, jitter_s=0.0)
    assert [policy.backoff(a) for a in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
