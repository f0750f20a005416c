"""Exponential back-off: the one rule for every loop that waits longer after each failure
(the sync cadence, a drop folder's poll and its claim retries, the gateway's retry policy)."""

from __future__ import annotations

# A sync loop's wait stops growing after six failures in a row (64 times its cadence) unless
# its cap stops it sooner: an outage of an hour is not waited out for days after it ends.
CADENCE_DOUBLINGS = 6


def backoff(base_s: float, failures: int, *, cap_s: float, most_doublings: int = 30) -> float:
    """`base_s` doubled once per failure in a row (at most `most_doublings` times), capped at
    `cap_s`; no failures is `base_s`. A cap below the base never makes the wait shorter than
    the base: backing off never means going faster."""
    doubled = base_s * 2 ** min(max(failures, 0), most_doublings)
    return min(max(cap_s, base_s), doubled)
