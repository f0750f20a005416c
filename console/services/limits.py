"""Client-side quota: one RPM / TPM / RPD budget per (project, model), shared by every gemops
process through a `Budget` (the store's `StoreBudget`, or `MemoryBudget` in one process), with
per-tier shares as policy on top, RetryInfo-aware cool-downs, a learnt rate when the server's
real limit is lower than configured, and a circuit breaker.

The pacing mirrors how the server counts (`Pace.model`), so a workload uses the burst the
server allows and no more:
- `sliding-log`: the n-th request goes no earlier than 60 s after the (n-RPM)-th was answered
  (an exact moving window, as `limits`' moving-window strategy; the answer time is an upper
  bound on when the server counted it, so no margin is needed);
- `token-bucket`: GCRA, rate RPM/60 with a burst of `burst_fraction` of the minute (less the
  requests one second of latency could bunch up at the server);
- `bounded`: GCRA with that burst and a refill of RPM minus the burst per minute, never more
  than RPM in any 60 s: safe whichever way the server counts.
Slots are *reserved* (a caller gets its own send time and sleeps until it), so concurrent
callers, in this process or another, queue without retrying. Tokens are reserved with the
request's estimate and corrected to the real count when the response reports it.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from console.settings import LimitsSettings

PACIFIC = ZoneInfo("America/Los_Angeles")
WINDOW_S = 60.0
# After a 429 the learnt rate sits this far below what the server let through.
LEARNT_MARGIN = 0.97
# Recovery towards the configured rate: +2 % of it per quiet minute.
RECOVERY_PER_MINUTE = 0.02
# Token-bucket pacing leaves this much refill out of the burst: requests sent on schedule but
# slowed on the way (upload, network) must not arrive at the server bunched beyond its burst.
# It grows to the slowest of the model's recent calls (sent to answered), up to the cap.
LATENCY_ALLOWANCE_S = 1.0
LATENCY_ALLOWANCE_CAP_S = 10.0
LATENCY_SAMPLES = 32
# Only a 429 asking for a longer wait than this teaches a lower rate: a short one (a token
# bucket's refill, a moment's jitter) is answered by the cool-down alone.
LEARN_AFTER_DELAY_S = 5.0
# A retryDelay longer than this is not a per-minute quota (a daily one, or an outage):
# waiting it out is not the answer, so the breaker opens at once.
LONG_RETRY_DELAY_S = 300.0


class QuotaExhausted(Exception):
    """The daily request quota (RPD) for a model is spent until midnight Pacific."""


class CircuitOpen(Exception):
    """Repeated quota errors after honouring the server's delay: calls are held back."""

    def __init__(self, model: str, tier: str, retry_at: float) -> None:
        self.model, self.tier, self.retry_at = model, tier, retry_at
        super().__init__(f"circuit open for {model} on {tier}: quota errors; retry later")


def next_pacific_midnight(now: float) -> float:
    local = datetime.fromtimestamp(now, PACIFIC)
    tomorrow = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return tomorrow.timestamp()


def pacific_day(now: float) -> str:
    return datetime.fromtimestamp(now, PACIFIC).strftime("%Y-%m-%d")


def project_id(api_key: str, base_url: str | None) -> str:
    """A key belongs to one project; the same key on another endpoint is another budget."""
    digest = hashlib.blake2b(f"{api_key}\n{base_url or ''}".encode(), digest_size=8)
    return f"key-{digest.hexdigest()}"


# -- the pacing arithmetic (pure) ------------------------------------------------------------


@dataclass(frozen=True)
class Pace:
    """How one budget is paced: its limits and the server's counting model."""

    model: str  # sliding-log | token-bucket | bounded
    rpm: float
    tpm: float  # 0 = not enforced
    rpd: int | None
    burst_fraction: float = 0.1
    # After a 429 the rate is learnt and bursts stop until it has recovered.
    no_burst: bool = False
    latency_s: float = LATENCY_ALLOWANCE_S

    @property
    def burst(self) -> float:
        """GCRA burst in requests (token-bucket and bounded)."""
        if self.no_burst:
            return 1.0
        burst = math.floor(self.rpm * self.burst_fraction)
        if self.model == "token-bucket":
            burst -= math.ceil(self.rpm / WINDOW_S * self.latency_s)
        return float(max(1, burst))

    @property
    def refill_per_minute(self) -> float:
        if self.model == "bounded":
            # One below what fits, so arrival jitter at a window's edge cannot add one more.
            return max(self.rpm - self.burst - 1, self.rpm / 2)
        return self.rpm

    @property
    def token_burst(self) -> float:
        return max(1.0, self.tpm * (1.0 if self.no_burst else self.burst_fraction))


@dataclass
class BudgetState:
    """The shared row of one budget."""

    seq: int = 0  # requests reserved so far (sliding-log numbering)
    tat: float = 0.0  # GCRA theoretical arrival time, requests
    token_tat: float = 0.0  # GCRA theoretical arrival time, tokens
    cool_until: float = 0.0
    day: str = ""
    day_count: int = 0


class EventLog(Protocol):
    """The sliding log's reads; `StoreBudget` answers from SQL, `MemoryBudget` from a dict."""

    def latest_at(self, first_seq: int, last_seq: int) -> float | None: ...

    def window(self, since: float) -> list[tuple[float, int]]: ...

    def tokens_since(self, since: float) -> int: ...


@dataclass(frozen=True)
class Grant:
    slot: float  # when the caller may send
    seq: int | None  # the sliding-log event, for settling
    day_count: int
    cool_until: float
    exhausted: bool = False


# How far back the sliding log looks for an answer that came in after a later one.
REORDER_SPAN = 64


def plan(
    state: BudgetState, log: EventLog | None, *, now: float, tokens: int, pace: Pace,
    today: str, not_before: float = 0.0,
) -> Grant:
    """Reserve the earliest slot the budget allows; updates `state` (the caller adds the
    sliding-log event `(grant.seq, grant.slot, tokens)` and saves the state)."""
    if state.day != today:
        state.day, state.day_count = today, 0
    if pace.rpd is not None and state.day_count >= pace.rpd:
        return Grant(math.inf, None, state.day_count, state.cool_until, exhausted=True)
    slot = max(now, state.cool_until, not_before)
    seq = None
    if pace.model == "sliding-log":
        limit = max(1, int(pace.rpm))
        if log is not None and state.seq >= limit:
            # Any request answered before the (n - RPM)-th must also have left the window.
            last = state.seq - limit + 1
            oldest = log.latest_at(max(1, last - REORDER_SPAN), last)
            if oldest is not None:
                slot = max(slot, oldest + WINDOW_S)
        if pace.tpm and log is not None:
            slot = _tokens_fit(log, slot, min(tokens, int(pace.tpm)), int(pace.tpm))
        state.seq += 1
        seq = state.seq
    else:
        interval = WINDOW_S / pace.refill_per_minute
        # (less a microsecond: float sums of intervals must not push a burst's last slot on)
        slot = max(slot, state.tat - (pace.burst - 1) * interval - 1e-6)
        if pace.tpm:
            per_token = WINDOW_S / pace.tpm
            needed = min(tokens, pace.token_burst)
            slot = max(slot, state.token_tat + (needed - pace.token_burst) * per_token)
            state.token_tat = max(state.token_tat, slot) + tokens * per_token
        state.tat = max(state.tat, slot) + interval
    state.day_count += 1
    return Grant(slot, seq, state.day_count, state.cool_until)


def _tokens_fit(log: EventLog, slot: float, tokens: int, tpm: int) -> float:
    if log.tokens_since(slot - WINDOW_S) + tokens <= tpm:
        return slot  # the common case: one aggregate, no rows read
    events = sorted(log.window(slot - WINDOW_S))
    used = sum(n for _, n in events)
    for at, n in events:
        if used + tokens <= tpm:
            break
        used -= n
        slot = max(slot, at + WINDOW_S)
    return slot


def correct_tokens(state: BudgetState, pace: Pace, reserved: int, actual: int) -> None:
    """GCRA: give back (or take) the difference between the estimate and the real count."""
    if pace.model != "sliding-log" and pace.tpm:
        state.token_tat += (actual - reserved) * (WINDOW_S / pace.tpm)


# -- where budgets live ----------------------------------------------------------------------


class Budget(Protocol):
    """Shared state of budgets keyed by (project, scope); scope = model or `model@tier`."""

    blocking: bool  # True: run calls off the event loop

    def reserve(self, project: str, scopes: list[tuple[str, Pace]],
                now: float | Callable[[], float], tokens: int) -> Grant:
        """`now` may be the clock itself, read once the budget is locked."""
        ...

    def settle(self, project: str, scope: str, pace: Pace, seq: int | None, at: float,
               reserved: int, actual: int, counted: bool) -> None: ...

    def cool(self, project: str, scope: str, until: float, *, exact: bool = False) -> None: ...

    def cool_until(self, project: str, scope: str) -> float: ...

    def forget_slots(self, project: str, scope: str) -> None: ...


class _MemoryLog:
    def __init__(self) -> None:
        self.events: dict[int, tuple[float, int]] = {}

    def latest_at(self, first_seq: int, last_seq: int) -> float | None:
        found = [self.events[s][0] for s in range(first_seq, last_seq + 1) if s in self.events]
        return max(found) if found else None

    def window(self, since: float) -> list[tuple[float, int]]:
        return [(at, n) for at, n in self.events.values() if at > since]

    def tokens_since(self, since: float) -> int:
        return sum(n for at, n in self.events.values() if at > since)

    def prune(self, keep_after: int) -> None:
        for seq in [s for s in self.events if s <= keep_after]:
            del self.events[seq]


class MemoryBudget:
    """Budgets for one process (tests, or no store): the same arithmetic as `StoreBudget`."""

    blocking = False

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], BudgetState] = {}
        self.logs: dict[tuple[str, str], _MemoryLog] = {}

    def _get(self, project: str, scope: str) -> tuple[BudgetState, _MemoryLog]:
        key = (project, scope)
        if key not in self.states:
            self.states[key], self.logs[key] = BudgetState(), _MemoryLog()
        return self.states[key], self.logs[key]

    def reserve(self, project: str, scopes: list[tuple[str, Pace]],
                now: float | Callable[[], float], tokens: int) -> Grant:
        grant = None
        not_before = 0.0
        now = now() if callable(now) else now
        for scope, pace in scopes:
            state, log = self._get(project, scope)
            grant = plan(state, log, now=now, tokens=tokens, pace=pace, today=pacific_day(now),
                         not_before=not_before)
            if grant.exhausted:
                return grant
            if grant.seq is not None:
                log.events[grant.seq] = (grant.slot, tokens)
                if grant.seq % 512 == 0:
                    log.prune(grant.seq - 2 * max(int(pace.rpm), 1) - REORDER_SPAN)
            not_before = grant.slot
        assert grant is not None
        return grant

    def settle(self, project: str, scope: str, pace: Pace, seq: int | None, at: float,
               reserved: int, actual: int, counted: bool) -> None:
        state, log = self._get(project, scope)
        if seq is not None and seq in log.events:
            log.events[seq] = (max(at, log.events[seq][0]), actual) if counted else (-math.inf, 0)
        else:
            correct_tokens(state, pace, reserved, actual if counted else 0)

    def cool(self, project: str, scope: str, until: float, *, exact: bool = False) -> None:
        state, _ = self._get(project, scope)
        state.cool_until = until if exact else max(state.cool_until, until)

    def cool_until(self, project: str, scope: str) -> float:
        return self._get(project, scope)[0].cool_until

    def forget_slots(self, project: str, scope: str) -> None:
        state, log = self._get(project, scope)
        state.tat = state.token_tat = 0.0
        log.events.clear()


# -- the limiter -----------------------------------------------------------------------------


@dataclass
class Breaker:
    """Opens after `threshold` consecutive *strikes*, closes on a success.

    A strike is a 429 on a request sent after the server's previous retryDelay had passed
    (it honoured the wait and was refused again), a 429 asking for more than
    LONG_RETRY_DELAY_S (a daily quota), or, on flex, a call that failed for good with 503
    after its retries. A 429 on a request that was already on its way when an earlier 429
    asked for a wait is no strike: waiting the retryDelay is the answer to it.
    """

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

    def strike(self, now: float, delay: float, *, at_once: bool = False) -> None:
        self.consecutive += 1
        if at_once or self.half_open_trial or self.consecutive >= self.threshold:
            self.open_until = now + max(self.cool_down_s, delay)
            self.half_open_trial = False

    def success(self) -> None:
        self.consecutive = 0
        self.open_until = None
        self.half_open_trial = False


@dataclass
class ModelPace:
    """What this process has learnt about one model's real limit."""

    rpm: int
    effective_rpm: float
    success_log: deque[float] = field(default_factory=deque)
    last_quota_error: float | None = None
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))

    @property
    def latency_allowance(self) -> float:
        """The slowest recent call, in half seconds, within [LATENCY_ALLOWANCE_S, cap]."""
        slowest = max(self.latencies, default=0.0)
        return min(LATENCY_ALLOWANCE_CAP_S,
                   max(LATENCY_ALLOWANCE_S, math.ceil(slowest * 2) / 2))

    @property
    def learnt(self) -> bool:
        return self.effective_rpm < self.rpm


class Bucket:
    """One (model, tier) as this process sees it: the breaker and the model's pace."""

    def __init__(self, limiter: RateLimiter, model: str, tier: str, breaker: Breaker) -> None:
        self._limiter, self.model, self.tier, self.breaker = limiter, model, tier, breaker
        self.quota_errors = 0
        self.day_count = 0
        self._next_slot = 0.0

    @property
    def next_slot(self) -> float:
        """The last slot granted. Setting it (tests) drops the model's reserved slots."""
        return self._next_slot

    @next_slot.setter
    def next_slot(self, value: float) -> None:
        self._next_slot = value
        self._limiter.forget_slots(self.model)

    @property
    def cool_until(self) -> float:
        return self._limiter.cool_until(self.model)

    @cool_until.setter
    def cool_until(self, value: float) -> None:
        # Tests skip a cool-down this way; it is shared, so it ends for every process.
        self._limiter.set_cool_until(self.model, value)

    @property
    def effective_rpm(self) -> float:
        return self._limiter.model_pace(self.model).effective_rpm


@dataclass(frozen=True)
class Permit:
    """What `acquire` reserved; hand it back to `settle` with the real token count."""

    key: tuple[str, str]
    tokens: int
    at: float
    seq: int | None = None
    scope: str = ""


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
        budget: Budget | None = None,
        project: str | None = None,
        server_model: str | None = None,
        server_burst_fraction: float | None = None,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._budget: Budget = budget or MemoryBudget()
        self.project = limits.project or project or "default"
        model = limits.quota_model
        self.quota_model = (server_model or "bounded") if model == "auto" else model
        self.burst_fraction = (
            server_burst_fraction
            if model == "auto" and server_burst_fraction is not None
            else limits.burst_fraction
        )
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._paces: dict[str, ModelPace] = {}
        self._cool: dict[str, float] = {}  # the last cool-down seen, per model
        self._scope_cache: dict[tuple[str, str, float, float], list[tuple[str, Pace]]] = {}
        self._breaker_threshold = breaker_threshold
        self._breaker_cool_down_s = breaker_cool_down_s

    # -- state -------------------------------------------------------------------------

    def bucket(self, model: str, tier: str) -> Bucket:
        key = (model.removeprefix("models/"), tier)
        bucket = self._buckets.get(key)
        if bucket is None:
            breaker = Breaker(self._breaker_threshold, self._breaker_cool_down_s)
            bucket = self._buckets[key] = Bucket(self, key[0], tier, breaker)
        return bucket

    def model_pace(self, model: str) -> ModelPace:
        pace = self._paces.get(model)
        if pace is None:
            rpm = self._limits.for_model(model).rpm
            pace = self._paces[model] = ModelPace(rpm, float(rpm))
        return pace

    def cool_until(self, model: str) -> float:
        return self._cool.get(model, 0.0)

    def set_cool_until(self, model: str, until: float) -> None:
        self._cool[model] = until
        self._call_soon(self._budget.cool, self.project, model, until, exact=True)

    def forget_slots(self, model: str) -> None:
        self._call_soon(self._budget.forget_slots, self.project, model)

    def views(self) -> list[BucketView]:
        views = []
        for (m, t), b in sorted(self._buckets.items()):
            spec = self._limits.for_call(m, t)
            views.append(BucketView(m, t, spec.rpm, self.model_pace(m).effective_rpm, spec.tpm,
                                    spec.rpd, b.day_count, self.cool_until(m), b.breaker.state,
                                    b.quota_errors))
        return views

    def _scopes(self, model: str, tier: str) -> list[tuple[str, Pace]]:
        """The tier's cap (when it has one) first, then the (project, model) budget."""
        learnt = self.model_pace(model)
        key = (model, tier, learnt.effective_rpm, learnt.latency_allowance)
        cached = self._scope_cache.get(key)
        if cached is None:
            cached = self._scope_cache[key] = self._make_scopes(model, tier, learnt)
        return cached

    def _make_scopes(self, model: str, tier: str, learnt: ModelPace) -> list[tuple[str, Pace]]:
        base = self._limits.for_model(model)
        scopes = []
        cap = self._limits.for_call(model, tier)
        # TPM 0 is "not enforced": a share of it is not 1 token a minute (for_call's floor).
        cap_tpm = cap.tpm if base.tpm else 0
        if (cap.rpm, cap_tpm, cap.rpd) != (base.rpm, base.tpm, base.rpd):
            scopes.append((f"{model}@{tier}", self._pace(cap.rpm, cap_tpm, cap.rpd, learnt)))
        scopes.append((model, self._pace(base.rpm, base.tpm, base.rpd, learnt)))
        return scopes

    def _pace(self, rpm: int, tpm: int, rpd: int | None, learnt: ModelPace) -> Pace:
        scale = learnt.effective_rpm / learnt.rpm if learnt.rpm else 1.0
        return Pace(self.quota_model, max(1.0, rpm * min(1.0, scale)), float(tpm), rpd,
                    self.burst_fraction, no_burst=learnt.learnt,
                    latency_s=learnt.latency_allowance)

    # -- the calls the gateway makes ---------------------------------------------------

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
        model = model.removeprefix("models/")
        bucket = self.bucket(model, tier)
        self._recover(self.model_pace(model), self._clock())
        scopes = self._scopes(model, tier)
        tokens = max(0, min(tokens, int(scopes[-1][1].tpm or tokens)))
        while True:
            if self._budget.blocking:
                grant = await asyncio.get_running_loop().run_in_executor(
                    getattr(self._budget, "executor", None), self._budget.reserve, self.project,
                    scopes, self._clock, tokens)
            else:
                grant = self._budget.reserve(self.project, scopes, self._clock, tokens)
            now = self._clock()
            self._cool[model] = max(self._cool.get(model, 0.0), grant.cool_until)
            bucket.day_count = grant.day_count
            if grant.exhausted:
                raise QuotaExhausted(
                    f"daily limit of {scopes[-1][1].rpd} requests for {model} is spent until "
                    "midnight Pacific")
            bucket._next_slot = grant.slot
            if grant.slot > now:
                await self._sleep(grant.slot - now)
            # A 429 seen while this caller slept moved the cool-down on: take a new slot.
            if self._clock() >= self._cool.get(model, 0.0) or grant.slot >= self._cool[model]:
                break
            self._call_soon(self._budget.settle, self.project, scopes[-1][0], scopes[-1][1],
                            grant.seq, grant.slot, tokens, 0, False)
        return Permit((model, tier), tokens, self._clock(), grant.seq, scopes[-1][0])

    def settle(self, permit: Permit, *, actual_tokens: int | None, ok: bool,
               counted: bool = True) -> None:
        """Release the reservation: book the real token count (and the answer's time, an upper
        bound on when the server counted the request). `counted=False` for a 429, which the
        server did not count."""
        model, tier = permit.key
        now = self._clock()
        actual = permit.tokens if actual_tokens is None else actual_tokens
        pace = self._scopes(model, tier)[-1][1]
        if permit.seq is not None or actual != permit.tokens or not counted:
            self._call_soon(self._budget.settle, self.project, permit.scope or model, pace,
                            permit.seq, now, permit.tokens, actual, counted)
        learnt = self.model_pace(model)
        learnt.latencies.append(max(0.0, now - permit.at))
        if ok:
            learnt.success_log.append(now)
            while learnt.success_log and learnt.success_log[0] <= now - WINDOW_S:
                learnt.success_log.popleft()
            self.bucket(model, tier).breaker.success()

    def quota_error(self, model: str, tier: str, retry_delay_s: float | None,
                    permit: Permit | None = None) -> None:
        """A 429: cool the model's budget down for every process, learn the real rate, and
        strike the breaker only when the request had honoured the previous delay."""
        model = model.removeprefix("models/")
        bucket = self.bucket(model, tier)
        learnt = self.model_pace(model)
        now = self._clock()
        delay = (retry_delay_s if retry_delay_s is not None
                 else WINDOW_S / max(1.0, learnt.effective_rpm) * 4)
        honoured = permit is None or permit.at >= self.cool_until(model)
        until = max(self.cool_until(model), now + delay)
        self._cool[model] = until
        self._call_soon(self._budget.cool, self.project, model, until)
        bucket.quota_errors += 1
        learnt.last_quota_error = now
        while learnt.success_log and learnt.success_log[0] <= now - WINDOW_S:
            learnt.success_log.popleft()
        # What the server let through in the last minute is the best estimate of its limit.
        observed = len(learnt.success_log)
        if retry_delay_s is not None and retry_delay_s <= LEARN_AFTER_DELAY_S:
            pass  # a short delay: the server admits again in a moment; waiting is the answer
        elif observed:
            learnt.effective_rpm = max(1.0, min(learnt.effective_rpm, observed * LEARNT_MARGIN))
        else:
            learnt.effective_rpm = max(1.0, learnt.effective_rpm * 0.5)
        if honoured or delay > LONG_RETRY_DELAY_S:
            bucket.breaker.strike(now, delay, at_once=delay > LONG_RETRY_DELAY_S)

    def unavailable(self, model: str, tier: str) -> None:
        """A call that failed for good with 503: on flex (sheddable) it is a strike."""
        if tier == "flex":
            self.bucket(model, tier).breaker.strike(self._clock(), 0.0)

    # -- helpers -----------------------------------------------------------------------

    def _call_soon(self, fn: Callable[..., object], *args: object, **kwargs: object) -> None:
        if not self._budget.blocking:
            fn(*args, **kwargs)
            return
        submit = getattr(self._budget, "submit", None)
        if submit is not None:
            submit(fn, *args, **kwargs)
        else:
            fn(*args, **kwargs)

    def _recover(self, learnt: ModelPace, now: float) -> None:
        if not learnt.learnt or learnt.last_quota_error is None:
            return
        quiet_minutes = (now - learnt.last_quota_error) / 60
        if quiet_minutes >= 1:
            learnt.effective_rpm = min(
                float(learnt.rpm),
                learnt.effective_rpm + learnt.rpm * RECOVERY_PER_MINUTE * quiet_minutes,
            )
            learnt.last_quota_error = now
