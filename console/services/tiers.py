"""Tier tester runs and their statistics: flex vs standard vs priority, measured and explained.

A run sends the same prompt N times on each tier through the gateway (so every attempt is also
in the ledger), writes each sample to SQLite the moment it arrives, and summarises the samples
the way practitioners publish tier comparisons: a summary per tier and a per-run breakdown.

Latency is the caller's wall time for the whole call: client-side pacing, every retry and the
HTTP exchange. The gateway's HTTP-only time of the last attempt is kept beside it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.services.errors import GatewayError
from console.services.redact import redact
from console.services.tier_terms import FLEX_RETRY_ATTEMPTS, FORMATS, ORDERS, PARTS
from console.services.wording import plural
from console.services.workspace import Workspace
from console.settings import TIERS, Settings
from store.records import TierRun, TierSample
from store.repos import tiers as repo

if TYPE_CHECKING:
    from console.services.gateway import Gateway
    from console.services.retry import RetryPolicy

STATUSES = ("running", "finished", "interrupted", "failed")
SOURCE = "tier_test"
MAX_RUNS_PER_TIER = 1000
MAX_CONCURRENCY = 64
# How often a run checks whether it was asked to stop (a quit must not wait on a slow call).
STOP_POLL_S = 0.05
# A run still marked running with no sign of life for longer than its longest timeout plus
# this margin was left behind by a process that died: it is shown as interrupted.
STALE_MARGIN_S = 60.0
# Differences smaller than this fraction of standard's figure are noise, not a finding.
MEANINGFUL = 0.05
# Priority is "steadier" when its spread is at most this fraction of standard's.
STEADIER = 0.75
# Flex shedding more than this share of calls is not a tier to build on right now.
FLEX_SHED_TOO_OFTEN = 0.5


class PlanError(ValueError):
    """A tier run that cannot start as asked; the message says what to change."""


class Unreachable(RuntimeError):
    """The API (or emulator) did not answer the warm-up call: no run is started."""


# -- the plan --------------------------------------------------------------------------------


def parse_tiers(text: str | Iterable[str]) -> tuple[str, ...]:
    """`"flex, Priority"` or `["flex"]` -> the tiers in canonical order; `"all"` -> every tier."""
    names = text.split(",") if isinstance(text, str) else list(text)
    wanted = {n.strip().lower().removeprefix("service_tier_") for n in names if n.strip()}
    if "all" in wanted:
        return TIERS
    unknown = sorted(wanted - set(TIERS))
    if unknown:
        raise PlanError(f"unknown tier(s) {', '.join(unknown)}; choose from {', '.join(TIERS)}")
    if not wanted:
        raise PlanError(f"choose at least one tier ({', '.join(TIERS)})")
    return tuple(t for t in TIERS if t in wanted)


@dataclass(frozen=True)
class TierPlan:
    """What a run will do. Building one validates everything, so a run never starts half-wrong."""

    model: str
    prompt: str
    tiers: tuple[str, ...] = TIERS
    runs_per_tier: int = 5
    order: str = "interleaved"
    concurrency: int = 1
    retry_flex: bool = False
    # Seconds per tier; flex may queue for minutes before it answers.
    timeouts: Mapping[str, float] = field(default_factory=dict)
    # Store the prompt as typed; by default the stored copy is redacted (it may carry PII).
    keep_prompt: bool = False

    def __post_init__(self) -> None:
        model = self.model.strip().removeprefix("models/")
        if not model:
            raise PlanError("give a model, e.g. gemini-2.5-flash")
        object.__setattr__(self, "model", model)
        if not self.prompt.strip():
            raise PlanError("the prompt is empty: give a prompt or a prompt file")
        object.__setattr__(self, "tiers", parse_tiers(self.tiers))
        if not 1 <= self.runs_per_tier <= MAX_RUNS_PER_TIER:
            raise PlanError(f"runs per tier must be 1–{MAX_RUNS_PER_TIER} (got {self.runs_per_tier})")
        if self.order not in ORDERS:
            raise PlanError(f"order must be {' or '.join(ORDERS)} (got {self.order!r})")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise PlanError(f"concurrency must be 1–{MAX_CONCURRENCY} (got {self.concurrency})")
        missing = [t for t in self.tiers if t not in self.timeouts]
        if missing:
            raise PlanError(f"no timeout for {', '.join(missing)}")
        for tier, seconds in self.timeouts.items():
            if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
                raise PlanError(f"the {tier} timeout must be a positive number of seconds")
        object.__setattr__(self, "timeouts", {t: float(self.timeouts[t]) for t in self.tiers})

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        model: str | None = None,
        prompt: str | None = None,
        prompt_file: str | Path | None = None,
        tiers: str | Iterable[str] = TIERS,
        runs_per_tier: int = 5,
        order: str = "interleaved",
        concurrency: int = 1,
        retry_flex: bool = False,
        timeouts: Mapping[str, float | None] | None = None,
        keep_prompt: bool = False,
    ) -> TierPlan:
        """A plan with the settings' defaults: their model, their timeouts (flex's long one)."""
        if prompt and prompt_file:
            raise PlanError("give a prompt or a prompt file, not both")
        if prompt_file:
            prompt = read_prompt_file(prompt_file)
        defaults = {
            t: settings.gemini.flex_timeout_s if t == "flex" else settings.gemini.timeout_s
            for t in TIERS
        }
        given = {t: s for t, s in (timeouts or {}).items() if s is not None}
        return cls(
            model=model or settings.gemini.default_model,
            prompt=prompt or "",
            tiers=parse_tiers(tiers),
            runs_per_tier=runs_per_tier,
            order=order,
            concurrency=concurrency,
            retry_flex=retry_flex,
            timeouts=defaults | given,
            keep_prompt=keep_prompt,
        )

    @property
    def total(self) -> int:
        return self.runs_per_tier * len(self.tiers)

    def schedule(self) -> list[tuple[str, int]]:
        """(tier, run number) in sending order.

        Interleaved takes one run of every tier per round and rotates which tier goes first,
        so drift in the service (or a cold connection) falls on all tiers alike.
        """
        n = len(self.tiers)
        if self.order == "grouped":
            return [(t, seq) for t in self.tiers for seq in range(1, self.runs_per_tier + 1)]
        return [
            (self.tiers[(round_ + i) % n], round_ + 1)
            for round_ in range(self.runs_per_tier)
            for i in range(n)
        ]

    def retry_for(self, tier: str) -> RetryPolicy:
        from console.services.retry import RetryPolicy

        if tier == "flex" and self.retry_flex:
            return RetryPolicy(attempts=FLEX_RETRY_ATTEMPTS, deadline_s=self.timeouts[tier])
        # A tier test measures the tier as it is: a 503 or 429 is a finding, not something
        # to paper over.
        return RetryPolicy(attempts=1)


def read_prompt_file(path: str | Path) -> str:
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"prompt file {file} does not exist") from None
    except IsADirectoryError:
        raise PlanError(f"prompt file {file} is a directory") from None
    except UnicodeDecodeError:
        raise PlanError(f"prompt file {file} is not UTF-8 text") from None
    except OSError as error:
        raise PlanError(f"prompt file {file}: {error.strerror or error}") from None
    if not text.strip():
        raise PlanError(f"prompt file {file} is empty")
    return text


def plan_timeouts(run: TierRun) -> dict[str, float]:
    try:
        loaded = json.loads(run.timeouts) if run.timeouts else {}
    except ValueError:
        return {}
    return {str(k): float(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


# -- running -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleArrived:
    """One sample is in SQLite: `done` of `total` so far."""

    run: TierRun
    sample: TierSample
    done: int
    total: int


def run_tier_test(
    ws: Workspace,
    plan: TierPlan,
    *,
    on_start: Callable[[TierRun], None] | None = None,
    on_sample: Callable[[SampleArrived], None] | None = None,
    stop: threading.Event | None = None,
) -> TierReport:
    """Run a plan to the end (or until `stop` is set) and return its report.

    Blocking: call it from a worker thread or a command, never from an event loop. Each sample
    is written as it arrives, so a stop, a crash or Ctrl+C keeps everything already measured;
    the run is then marked interrupted.
    """
    gateway = ws.gateway  # connect (and start the emulator) before a run row exists
    try:
        _warm_up(gateway, plan)
        settle_abandoned(ws)
        with ws.session() as session:
            run = repo.create_run(session, {
                "created_at": ws.clock(), "model": plan.model,
                "prompt": plan.prompt if plan.keep_prompt else redact(plan.prompt),
                "prompt_kept": plan.keep_prompt,
                "tiers": ",".join(plan.tiers), "runs_per_tier": plan.runs_per_tier,
                "run_order": plan.order, "concurrency": plan.concurrency,
                "retry_flex": plan.retry_flex, "status": "running",
                "timeouts": json.dumps(plan.timeouts),
            })
        if on_start is not None:
            on_start(run)
        asyncio.run(_execute(ws, gateway, run, plan, on_sample, stop))
    finally:
        # The run's ledger rows land with its samples, so spend and gauges agree at once.
        gateway.flush_ledger()
    return load_report(ws, run.id)


def _warm_up(gateway: Gateway, plan: TierPlan) -> None:
    """One untimed, free call first: the connection is open before the first sample is timed
    (else run 1 pays for the TCP/TLS handshake), and a wrong model name fails here, cleanly."""
    from console.services.limits import CircuitOpen, QuotaExhausted

    try:
        gateway.run(gateway.count_tokens(plan.model, plan.prompt))
    except GatewayError as error:
        if error.status in (400, 403, 404):
            raise PlanError(f"{plan.model}: {error.message}") from error
        if error.status is None:
            # A run of nothing but connection errors would measure nothing.
            raise Unreachable(str(error)) from error
        # Anything else (a 503, a 429) is left for the samples to measure and record.
    except (CircuitOpen, QuotaExhausted):
        pass  # the samples record these too
    except Exception as error:  # a transport error the gateway did not translate
        raise Unreachable(f"{type(error).__name__}: {error}") from error


async def _execute(
    ws: Workspace,
    gateway: Gateway,
    run: TierRun,
    plan: TierPlan,
    on_sample: Callable[[SampleArrived], None] | None,
    stop: threading.Event | None,
) -> None:
    slots = asyncio.Semaphore(plan.concurrency)  # FIFO: samples start in schedule order
    writes: list[asyncio.Task] = []
    done = 0

    async def one(tier: str, seq: int) -> None:
        nonlocal done
        async with slots:
            if stop is not None and stop.is_set():
                return
            values = await _measure(ws, gateway, run.id, plan, tier, seq)
        # The write finishes even if the run is stopped meanwhile: a measured sample is kept.
        write = asyncio.create_task(asyncio.to_thread(_write_sample, ws, values))
        writes.append(write)
        sample = await asyncio.shield(write)
        done += 1
        if on_sample is not None:
            on_sample(SampleArrived(run, sample, done, plan.total))

    tasks = [asyncio.create_task(one(t, seq)) for t, seq in plan.schedule()]
    status: str = "failed"
    note: str | None = "stopped unexpectedly"
    try:
        pending = set(tasks)
        while pending:
            finished, pending = await asyncio.wait(pending, timeout=STOP_POLL_S)
            for task in finished:
                task.result()  # a bug or a store failure ends the run, recorded as failed
            if stop is not None and stop.is_set():
                break
        await asyncio.gather(*writes)
        if len(writes) == plan.total:
            status, note = "finished", None
        else:
            status, note = "interrupted", "stopped by the user"
    except asyncio.CancelledError:
        status, note = "interrupted", "Ctrl+C"
        raise
    except Exception as error:
        note = f"{type(error).__name__}: {error}"
        raise
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*writes, return_exceptions=True)
        await asyncio.to_thread(_finish, ws, run.id, status, note)


async def _measure(
    ws: Workspace, gateway: Gateway, run_id: int, plan: TierPlan, tier: str, seq: int
) -> dict[str, Any]:
    from console.services.limits import CircuitOpen, QuotaExhausted

    retry = plan.retry_for(tier)
    key = f"tiers:{run_id}:{tier}:{seq}"
    started = time.perf_counter()
    values: dict[str, Any] = {"run_id": run_id, "tier_asked": tier, "seq": seq}
    try:
        generation = await gateway.submit(gateway.generate(
            plan.model, plan.prompt, {}, tier=tier, source=SOURCE, request_key=key,
            retry=retry, timeout_s=plan.timeouts[tier],
        ))
    except GatewayError as error:
        wall_ms = (time.perf_counter() - started) * 1000
        attempts = await _attempts(ws, gateway, key) if retry.attempts > 1 else 1
        return values | {
            "ok": False, "status": error.status or 0, "latency_ms": wall_ms,
            "error": _error_text(error.status, error.message, plan.timeouts[tier]),
            "attempts": attempts, "at": ws.clock(),
        }
    except (CircuitOpen, QuotaExhausted) as error:
        # Held back on this side: no request went out, and that is recorded too.
        return values | {
            "ok": False, "status": 429, "error": f"held back by gemops: {error}",
            "latency_ms": (time.perf_counter() - started) * 1000, "attempts": 0,
            "at": ws.clock(),
        }
    except Exception as error:
        # Whatever ends a call (a timeout, a dropped connection) is a measured outcome: it
        # is recorded as a failed sample and the run goes on.
        return values | {
            "ok": False, "status": 0, "latency_ms": (time.perf_counter() - started) * 1000,
            "error": _error_text(None, f"{type(error).__name__}: {error}", plan.timeouts[tier]),
            "attempts": 1, "at": ws.clock(),
        }
    wall_ms = (time.perf_counter() - started) * 1000
    usage = generation.usage
    return values | {
        "ok": True, "status": 200, "tier_served": generation.tier_served,
        "latency_ms": wall_ms, "api_latency_ms": generation.latency_ms,
        "prompt_tokens": usage.prompt_tokens, "cached_tokens": usage.cached_tokens,
        "output_tokens": usage.output_tokens, "thought_tokens": usage.thought_tokens,
        "total_tokens": usage.prompt_tokens + usage.output_tokens + usage.thought_tokens,
        "cost": generation.cost, "standard_cost": generation.standard_cost,
        "attempts": generation.attempts, "at": ws.clock(),
    }


async def _attempts(ws: Workspace, gateway: Gateway, request_key: str) -> int:
    """How many attempts a failed, retried call made: the ledger has one row per attempt
    (each booked as it was answered)."""
    def count() -> int:
        with ws.session() as session:
            return repo.ledger_attempts(session, request_key)

    return max(1, await asyncio.to_thread(count))


def _error_text(status: int | None, message: str, timeout_s: float) -> str:
    if status == 503:
        return f"503 shed: {message}"
    if not status and "timeout" in message.lower():
        return f"timed out after {timeout_s:g} s"
    return f"{status or 'no response'}: {message}"


def _write_sample(ws: Workspace, values: dict[str, Any]) -> TierSample:
    with ws.session() as session:
        return repo.add_sample(session, values)


def _finish(ws: Workspace, run_id: int, status: str, note: str | None) -> None:
    with ws.session() as session:
        repo.finish_run(session, run_id, status=status, finished_at=ws.clock(), note=note)


def settle_abandoned(ws: Workspace) -> int:
    """Mark runs left "running" by a process that died as interrupted; returns how many."""
    now = ws.clock()
    settled = 0
    with ws.session() as session:
        for run, last_seen in repo.running(session):
            longest = max(plan_timeouts(run).values(), default=900.0)
            if now - last_seen > longest + STALE_MARGIN_S:
                repo.finish_run(session, run.id, status="interrupted", finished_at=last_seen,
                                note="abandoned: the process running it stopped")
                settled += 1
    return settled


# -- statistics --------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, Excel's PERCENTILE.INC):
    rank = q × (n − 1) over the sorted values."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def failure_kind(sample: TierSample) -> str:
    """How a failed sample reads in a table: `503`, `timeout`, `429`, `no response`."""
    if sample.status == 503:
        return "503"
    if sample.status:
        return str(sample.status)
    return "timeout" if "timed out" in (sample.error or "") else "no response"


@dataclass(frozen=True)
class TierSummary:
    """One tier's row of the summary table. Latency figures cover successful samples only:
    a 503 comes back fast and would flatter the tier."""

    tier: str
    asked: int
    ok: int
    failures: tuple[tuple[str, int], ...]
    failovers: int
    # The tiers that served the failovers, e.g. ("standard",) for downgraded priority calls.
    served_instead: tuple[str, ...]
    # Attempts beyond the first (flex with "retry 503s"): hidden in the ok count, shown here.
    retries: int
    avg_ms: float | None
    min_ms: float | None
    max_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    avg_output_tokens: float | None
    cost: float
    standard_cost: float

    @property
    def spread_ms(self) -> float | None:
        """max − min, as published; one sample has no spread to speak of."""
        if self.ok < 2 or self.max_ms is None or self.min_ms is None:
            return None
        return self.max_ms - self.min_ms

    @property
    def shed(self) -> int:
        return dict(self.failures).get("503", 0)

    @property
    def failed(self) -> int:
        return self.asked - self.ok

    @property
    def cost_per_call(self) -> float | None:
        return self.cost / self.ok if self.ok else None

    @property
    def cost_vs_standard(self) -> float | None:
        """What these calls cost relative to the same tokens on standard (−0.5 = half)."""
        if self.standard_cost <= 0:
            return None
        return self.cost / self.standard_cost - 1.0


def summarise(samples: Iterable[TierSample], tiers: Sequence[str]) -> list[TierSummary]:
    by_tier: dict[str, list[TierSample]] = {t: [] for t in tiers}
    for sample in samples:
        by_tier.setdefault(sample.tier_asked, []).append(sample)
    summaries = []
    for tier, group in by_tier.items():
        good = [s for s in group if s.ok]
        latencies = [s.latency_ms for s in good]
        kinds = Counter(failure_kind(s) for s in group if not s.ok)
        moved = [s for s in good if s.tier_served and s.tier_served != tier]
        summaries.append(TierSummary(
            tier=tier,
            asked=len(group),
            ok=len(good),
            failures=tuple(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
            failovers=len(moved),
            served_instead=tuple(sorted({s.tier_served or "" for s in moved})),
            retries=sum(max(0, s.attempts - 1) for s in group),
            avg_ms=sum(latencies) / len(latencies) if latencies else None,
            min_ms=min(latencies) if latencies else None,
            max_ms=max(latencies) if latencies else None,
            p50_ms=percentile(latencies, 0.50) if latencies else None,
            p95_ms=percentile(latencies, 0.95) if latencies else None,
            avg_output_tokens=(
                sum(s.output_tokens for s in good) / len(good) if good else None
            ),
            cost=sum(s.cost for s in good),
            standard_cost=sum(s.standard_cost for s in good),
        ))
    return summaries


@dataclass(frozen=True)
class Marks:
    """Which tier wins each column (None when the run cannot tell)."""

    fastest: str | None = None  # lowest average latency
    steadiest: str | None = None  # smallest spread, among tiers with 2+ successful samples
    cheapest: str | None = None  # lowest cost vs standard

    def cells(self) -> set[tuple[str, str]]:
        """(tier, summary column key) pairs to mark."""
        pairs = {(self.fastest, "avg"), (self.steadiest, "spread"), (self.cheapest, "vs_std")}
        return {(tier, key) for tier, key in pairs if tier is not None}


def best(summaries: Sequence[TierSummary]) -> Marks:
    measured = [s for s in summaries if s.ok]
    if len(measured) < 2:
        return Marks()
    fastest = min(measured, key=lambda s: s.avg_ms or 0.0).tier
    spread = [s for s in measured if s.ok >= 2]
    steadiest = min(spread, key=lambda s: s.spread_ms or 0.0).tier if len(spread) >= 2 else None
    priced = [s for s in measured if s.cost_vs_standard is not None]
    cheapest = (
        min(priced, key=lambda s: s.cost_vs_standard or 0.0).tier if len(priced) >= 2 else None
    )
    return Marks(fastest, steadiest, cheapest)


# -- the recommendation ------------------------------------------------------------------------


def unit_for(samples: Iterable[TierSample]) -> str:
    """Seconds when any call took a second or more, else milliseconds — one unit per run."""
    return "s" if any(s.latency_ms >= 1000 for s in samples) else "ms"


def latency(ms: float | None, unit: str) -> str:
    if ms is None:
        return "—"
    return f"{ms / 1000:.2f} s" if unit == "s" else f"{ms:.0f} ms"


def latency_delta(ms: float, unit: str) -> str:
    sign = "+" if ms >= 0 else "-"
    return sign + latency(abs(ms), unit)


def price_change(ratio: float | None) -> str:
    """−0.5 -> "50 % cheaper"; 0.8 -> "80 % dearer"."""
    if ratio is None:
        return "price unknown"
    percent = round(ratio * 100)
    if percent == 0:
        return "same price"
    return f"{abs(percent)} % {'cheaper' if percent < 0 else 'dearer'}"


def recommend(
    summaries: Sequence[TierSummary], *, unit: str = "s", retry_flex: bool = False
) -> list[str]:
    """One line per tier, measured against standard: what it costs, what it does to latency,
    what failed — and what that makes it good for."""
    by_tier = {s.tier: s for s in summaries}
    base = by_tier.get("standard")
    lines = []
    for s in summaries:
        if s.tier == "standard" or not s.asked:
            continue
        facts = [price_change(s.cost_vs_standard)] if s.ok else []
        # Latency and verdicts are measured against standard only when both have answers.
        compared_to = base if base is not None and base.ok and s.ok else None
        if compared_to is not None:
            facts.append(
                f"{latency_delta((s.avg_ms or 0) - (compared_to.avg_ms or 0), unit)} avg")
        elif s.ok:
            facts.append(f"{latency(s.avg_ms, unit)} avg (no standard runs to compare)")
        if s.tier == "flex":
            facts.append(f"{s.shed}/{s.asked} shed")
        other = s.failed - (s.shed if s.tier == "flex" else 0)
        if other:
            facts.append(f"{other}/{s.asked} failed")
        if s.retries:
            facts.append(f"{s.retries} {'retry' if s.retries == 1 else 'retries'}")
        if s.failovers:
            served = " or ".join(s.served_instead)
            moved = "downgraded to" if s.tier == "priority" else "served as"
            facts.append(f"{s.failovers}/{s.ok} {moved} {served}")
        verdict = (
            _flex_verdict(s, compared_to, retry_flex)
            if s.tier == "flex"
            else _priority_verdict(s, compared_to)
        )
        lines.append(f"{s.tier}: {', '.join(facts)} — {verdict}")
    if not lines and base is not None and base.asked:
        lines.append(
            f"standard: {base.ok}/{base.asked} ok, {latency(base.avg_ms, unit)} avg"
            " — add flex or priority to the run to compare"
        )
    return lines


def _slower(s: TierSummary, base: TierSummary) -> bool:
    return (s.avg_ms or 0) - (base.avg_ms or 0) > MEANINGFUL * (base.avg_ms or 0)


def _flex_verdict(s: TierSummary, base: TierSummary | None, retry_flex: bool) -> str:
    if not s.ok:
        return "unusable right now: every call failed; use standard, or the Batch API"
    if s.shed / s.asked > FLEX_SHED_TOO_OFTEN:
        return "sheds too often right now; send background work to the Batch API"
    if s.shed and not retry_flex:
        return "fine for background work, with 503 retries (--retry-flex)"
    if base is not None and not _slower(s, base):
        return "no slower than standard in this run; use it wherever a retry is acceptable"
    return "fine for background work, not for someone waiting"


def _priority_verdict(s: TierSummary, base: TierSummary | None) -> str:
    if not s.ok:
        return "every call failed; see the per-run errors"
    if s.failovers * 2 > s.ok:
        return "over its limit: most calls ran (and were billed) as standard"
    if base is None:
        return "run standard beside it to judge the premium"
    faster = (base.avg_ms or 0) - (s.avg_ms or 0) > MEANINGFUL * (base.avg_ms or 0)
    judged = s.spread_ms is not None and base.spread_ms is not None
    steadier = judged and (s.spread_ms or 0) <= STEADIER * (base.spread_ms or 0)
    if faster and steadier:
        return "worth it for latency-sensitive calls: faster and steadier"
    if faster:
        return "worth it for latency-sensitive calls: faster" + (
            ", though not steadier" if judged else ""
        )
    if steadier:
        return (
            f"steadier (spread {_spread(s)} vs {_spread(base)}) but not faster;"
            " worth it only for tail latency"
        )
    return "not worth the premium here: no faster or steadier than standard"


def _spread(s: TierSummary) -> str:
    return latency(s.spread_ms, "s" if (s.max_ms or 0) >= 1000 else "ms")


# -- reports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierReport:
    """A run with its samples, summary, marks and recommendation."""

    run: TierRun
    samples: list[TierSample]
    summaries: list[TierSummary]
    marks: Marks
    recommendation: list[str]
    unit: str

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(t for t in self.run.tiers.split(",") if t)

    @property
    def total(self) -> int:
        return self.run.runs_per_tier * len(self.tiers)

    @property
    def done(self) -> int:
        return len(self.samples)

    @property
    def ok(self) -> int:
        return sum(1 for s in self.samples if s.ok)

    @property
    def cost(self) -> float:
        return sum(s.cost for s in self.samples)


def build_report(run: TierRun, samples: Sequence[TierSample]) -> TierReport:
    tiers = [t for t in run.tiers.split(",") if t]
    summaries = summarise(samples, tiers)
    unit = unit_for(samples)
    return TierReport(
        run=run, samples=list(samples), summaries=summaries, marks=best(summaries),
        recommendation=recommend(summaries, unit=unit, retry_flex=run.retry_flex), unit=unit,
    )


def load_report(ws: Workspace, run_id: int) -> TierReport:
    with ws.session() as session:
        run = repo.get_run(session, run_id)
        if run is None:
            raise LookupError(f"no tier run #{run_id}")
        return build_report(run, repo.samples(session, run_id))


def latest_report(ws: Workspace) -> TierReport | None:
    with ws.session() as session:
        runs = repo.recent(session, limit=1)
    return load_report(ws, runs[0].id) if runs else None


@dataclass(frozen=True)
class PastRun:
    run: TierRun
    done: int
    ok: int

    @property
    def total(self) -> int:
        return self.run.runs_per_tier * len([t for t in self.run.tiers.split(",") if t])


def past_runs(ws: Workspace, limit: int = 50) -> list[PastRun]:
    """The latest runs, newest first, with how many samples each recorded."""
    settle_abandoned(ws)
    with ws.session() as session:
        runs = repo.recent(session, limit)
        counts = repo.sample_counts(session, [r.id for r in runs])
    return [PastRun(r, *counts.get(r.id, (0, 0))) for r in runs]


def delete_run(ws: Workspace, run_id: int) -> bool:
    with ws.session() as session:
        return repo.delete_run(session, run_id)


# -- tables as cells ---------------------------------------------------------------------------

SUMMARY_COLUMNS: list[tuple[str, str]] = [
    ("tier", "Tier"),
    ("ok", "OK"),
    ("avg", "Avg"),
    ("min", "Min"),
    ("max", "Max"),
    ("p50", "p50"),
    ("p95", "p95"),
    ("spread", "Spread"),
    ("avg_out", "Avg out"),
    ("per_call", "$/call"),
    ("vs_std", "vs standard"),
    ("failovers", "Failovers"),
    ("errors", "Errors"),
]

SAMPLE_COLUMNS: list[tuple[str, str]] = [
    ("tier", "Tier"),
    ("run", "Run"),
    ("ok", "OK"),
    ("latency", "Latency (wall)"),
    ("http", "HTTP"),
    ("served", "Served"),
    ("in", "In"),
    ("out", "Out"),
    ("thought", "Thought"),
    ("total", "Total"),
    ("attempts", "Tries"),
    ("cost", "Cost"),
    ("error", "Error"),
]

LATENCY_NOTE = (
    "Latency (wall): the caller's wait for the whole call, incl. client pacing and retries; "
    "HTTP: the last attempt's exchange. Summary latencies cover successful calls only; "
    "p50/p95 interpolate between ranks."
)


def usd(value: float | None) -> str:
    if value is None:
        return "—"
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"


def ratio_text(ratio: float | None, tier: str) -> str:
    if ratio is None:
        return "—"
    if tier == "standard" and abs(ratio) < 0.005:
        return "baseline"
    return f"{ratio * 100:+.0f} %"


def summary_cells(report: TierReport) -> list[dict[str, str]]:
    unit = report.unit
    rows = []
    for s in report.summaries:
        rows.append({
            "tier": s.tier,
            "ok": f"{s.ok}/{s.asked}",
            "avg": latency(s.avg_ms, unit),
            "min": latency(s.min_ms, unit),
            "max": latency(s.max_ms, unit),
            "p50": latency(s.p50_ms, unit),
            "p95": latency(s.p95_ms, unit),
            "spread": latency(s.spread_ms, unit),
            "avg_out": "—" if s.avg_output_tokens is None else f"{s.avg_output_tokens:.0f}",
            "per_call": usd(s.cost_per_call),
            "vs_std": ratio_text(s.cost_vs_standard, s.tier),
            "failovers": f"{s.failovers}" if s.ok else "—",
            "errors": (", ".join(f"{n}×{kind}" for kind, n in s.failures) or "0")
            + (f" +{s.retries} retried" if s.retries else ""),
        })
    return rows


def sample_cells(sample: TierSample, unit: str) -> dict[str, str]:
    return {
        "tier": sample.tier_asked,
        "run": str(sample.seq),
        "ok": "✓" if sample.ok else f"✗ {failure_kind(sample)}",
        "latency": latency(sample.latency_ms, unit),
        "http": latency(sample.api_latency_ms, unit),
        "served": sample.tier_served or "—",
        "in": str(sample.prompt_tokens) if sample.ok else "—",
        "out": str(sample.output_tokens) if sample.ok else "—",
        "thought": str(sample.thought_tokens) if sample.ok else "—",
        "total": str(sample.total_tokens) if sample.ok else "—",
        "attempts": str(sample.attempts),
        "cost": usd(sample.cost) if sample.ok else "—",
        "error": sample.error or "",
    }


def ordered_samples(report: TierReport) -> list[TierSample]:
    """The breakdown's order: by tier (the run's order), then run number."""
    rank = {t: i for i, t in enumerate(report.tiers)}
    return sorted(report.samples, key=lambda s: (rank.get(s.tier_asked, 99), s.seq))


def run_title(run: TierRun) -> str:
    mode = "sequential" if run.concurrency == 1 else f"{run.concurrency} at a time"
    retry = ", flex 503s retried" if run.retry_flex else ""
    return (
        f"tier run #{run.id}: {run.model}, {plural(run.runs_per_tier, 'run')} per tier, "
        f"{run.run_order}, {mode}{retry}"
    )


def status_text(report: TierReport) -> str:
    run = report.run
    note = f" ({run.note})" if run.note else ""
    return f"{run.status}{note}: {report.done}/{report.total} samples, {report.ok} ok"


def progress_line(event: SampleArrived) -> str:
    """One line per sample for a terminal watching a run."""
    s = event.sample
    width = len(str(event.total))
    unit = "s" if s.latency_ms >= 1000 else "ms"
    served = f"served {s.tier_served}" if s.ok else (s.error or "failed")
    return (
        f"[{event.done:>{width}}/{event.total}] {s.tier_asked:<8} #{s.seq:<3} "
        f"{'ok ' if s.ok else 'ERR'} {latency(s.latency_ms, unit):>9}  {served}"
    )


# -- rendering: table | markdown | json | csv --------------------------------------------------



def render(report: TierReport, fmt: str = "table", *, only: str | None = None) -> str:
    """The run's two tables (or `only` one) as text, Markdown, JSON or CSV."""
    parts = (only,) if only else PARTS
    if fmt == "json":
        return json.dumps(_report_dict(report, parts), indent=2)
    if fmt == "csv":
        return _render_csv(report, parts)
    if fmt not in ("table", "markdown"):
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    markdown = fmt == "markdown"
    marked = report.marks.cells()
    blocks = [("## " if markdown else "") + run_title(report.run), status_text(report)]
    if "summary" in parts:
        cells = summary_cells(report)
        for row in cells:
            for key in row:
                if (row["tier"], key) in marked:
                    row[key] = f"**{row[key]}**" if markdown else f"{row[key]} *"
        blocks.append(_grid(SUMMARY_COLUMNS, cells, markdown))
        legend = _legend(report.marks)
        if legend:
            blocks.append(("marked in bold: " if markdown else "* ") + legend)
    if "runs" in parts:
        rows = [sample_cells(s, report.unit) for s in ordered_samples(report)]
        blocks.append(_grid(SAMPLE_COLUMNS, rows, markdown) if rows else "no samples recorded")
    blocks.append(("_" + LATENCY_NOTE + "_") if markdown else LATENCY_NOTE)
    if report.recommendation and "summary" in parts:
        bullet = "- " if markdown else ""
        head = "**Recommendation**" if markdown else "Recommendation:"
        blocks.append("\n".join([head, *(bullet + line for line in report.recommendation)]))
    return "\n\n".join(blocks) + "\n"


def _legend(marks: Marks) -> str:
    found = [
        f"{what}: {tier}"
        for what, tier in (
            ("fastest (avg)", marks.fastest),
            ("steadiest (spread)", marks.steadiest),
            ("cheapest (vs standard)", marks.cheapest),
        )
        if tier
    ]
    return ", ".join(found)


def _grid(columns: Sequence[tuple[str, str]], rows: Sequence[Mapping[str, str]],
          markdown: bool) -> str:
    keys = [k for k, _ in columns]
    labels = [label for _, label in columns]
    if markdown:
        lines = ["| " + " | ".join(labels) + " |", "|" + "|".join("---" for _ in keys) + "|"]
        lines += ["| " + " | ".join(r[k].replace("|", "\\|") for k in keys) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(label), *(len(r[k]) for r in rows)) for k, label in columns]
    # Words left, figures right, the way a terminal table reads best.
    left = {"tier", "served", "error", "ok"}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if k in left else c.rjust(w)
            for k, c, w in zip(keys, cells, widths, strict=True)
        ).rstrip()

    out = [line(labels), "  ".join("-" * w for w in widths)]
    out += [line([r[k] for k in keys]) for r in rows]
    return "\n".join(out)


def _summary_record(s: TierSummary) -> dict[str, Any]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "tier": s.tier, "samples": s.asked, "ok": s.ok,
        "avg_ms": ms(s.avg_ms), "min_ms": ms(s.min_ms), "max_ms": ms(s.max_ms),
        "p50_ms": ms(s.p50_ms), "p95_ms": ms(s.p95_ms), "spread_ms": ms(s.spread_ms),
        "avg_output_tokens": None if s.avg_output_tokens is None else round(s.avg_output_tokens, 1),
        "cost_usd": round(s.cost, 8), "standard_cost_usd": round(s.standard_cost, 8),
        "cost_vs_standard": None if s.cost_vs_standard is None else round(s.cost_vs_standard, 4),
        "failovers": s.failovers, "shed": s.shed, "retries": s.retries,
        "failures": {kind: n for kind, n in s.failures},
    }


def _sample_record(s: TierSample) -> dict[str, Any]:
    return {
        "tier": s.tier_asked, "run": s.seq, "ok": s.ok, "status": s.status,
        "latency_ms": round(s.latency_ms, 1),
        "http_latency_ms": None if s.api_latency_ms is None else round(s.api_latency_ms, 1),
        "served": s.tier_served, "input_tokens": s.prompt_tokens,
        "cached_tokens": s.cached_tokens, "output_tokens": s.output_tokens,
        "thought_tokens": s.thought_tokens, "total_tokens": s.total_tokens,
        "attempts": s.attempts, "cost_usd": round(s.cost, 8), "error": s.error, "at": s.at,
    }


def _report_dict(report: TierReport, parts: Sequence[str]) -> dict[str, Any]:
    run = report.run
    body: dict[str, Any] = {
        "run": {
            "id": run.id, "model": run.model, "tiers": list(report.tiers),
            "runs_per_tier": run.runs_per_tier, "order": run.run_order,
            "concurrency": run.concurrency, "retry_flex": run.retry_flex,
            "timeouts_s": plan_timeouts(run), "status": run.status, "note": run.note,
            "created_at": run.created_at, "finished_at": run.finished_at,
            "samples": report.done, "planned": report.total,
        },
        "latency": "wall time of the whole call incl. client pacing and retries, in ms",
    }
    if "summary" in parts:
        body["summary"] = [_summary_record(s) for s in report.summaries]
        body["marks"] = {"fastest": report.marks.fastest, "steadiest": report.marks.steadiest,
                         "cheapest": report.marks.cheapest}
        body["recommendation"] = report.recommendation
    if "runs" in parts:
        body["runs"] = [_sample_record(s) for s in ordered_samples(report)]
    return body


def _render_csv(report: TierReport, parts: Sequence[str]) -> str:
    """Raw figures (no units): the summary, a blank line, then the per-run breakdown."""
    blocks = []
    tables = {
        "summary": [_summary_record(s) | {"failures": _failures_text(s)}
                    for s in report.summaries],
        "runs": [_sample_record(s) for s in ordered_samples(report)],
    }
    for part in parts:
        records = tables[part]
        if not records:
            continue
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        blocks.append(out.getvalue())
    return "\n".join(blocks)


def _failures_text(s: TierSummary) -> str:
    return " ".join(f"{kind}:{n}" for kind, n in s.failures)


# -- two runs side by side ---------------------------------------------------------------------

COMPARE_COLUMNS: list[tuple[str, str]] = [
    ("tier", "Tier"),
    ("ok_a", "OK A"),
    ("ok_b", "OK B"),
    ("avg_a", "Avg A"),
    ("avg_b", "Avg B"),
    ("avg_delta", "Δ avg"),
    ("p95_a", "p95 A"),
    ("p95_b", "p95 B"),
    ("spread_a", "Spread A"),
    ("spread_b", "Spread B"),
    ("vs_std_a", "vs std A"),
    ("vs_std_b", "vs std B"),
    ("failovers", "Failovers A/B"),
]


def compare_cells(a: TierReport, b: TierReport) -> list[dict[str, str]]:
    """Run A and run B per tier, side by side, with B's change in average latency."""
    unit = "s" if "s" in (a.unit, b.unit) else "ms"
    sa = {s.tier: s for s in a.summaries}
    sb = {s.tier: s for s in b.summaries}
    rows = []
    for tier in [t for t in TIERS if t in sa or t in sb]:
        x, y = sa.get(tier), sb.get(tier)
        delta = (
            latency_delta(y.avg_ms - x.avg_ms, unit)
            if x and y and x.avg_ms is not None and y.avg_ms is not None
            else "—"
        )
        rows.append({
            "tier": tier,
            "ok_a": f"{x.ok}/{x.asked}" if x else "—",
            "ok_b": f"{y.ok}/{y.asked}" if y else "—",
            "avg_a": latency(x.avg_ms if x else None, unit),
            "avg_b": latency(y.avg_ms if y else None, unit),
            "avg_delta": delta,
            "p95_a": latency(x.p95_ms if x else None, unit),
            "p95_b": latency(y.p95_ms if y else None, unit),
            "spread_a": latency(x.spread_ms if x else None, unit),
            "spread_b": latency(y.spread_ms if y else None, unit),
            "vs_std_a": ratio_text(x.cost_vs_standard, tier) if x else "—",
            "vs_std_b": ratio_text(y.cost_vs_standard, tier) if y else "—",
            "failovers": f"{x.failovers if x else '—'}/{y.failovers if y else '—'}",
        })
    return rows


def render_comparison(a: TierReport, b: TierReport, fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps({
            "a": _report_dict(a, ("summary",)), "b": _report_dict(b, ("summary",)),
            "side_by_side": compare_cells(a, b),
        }, indent=2)
    if fmt == "csv":
        rows = compare_cells(a, b)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=[k for k, _ in COMPARE_COLUMNS],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    markdown = fmt == "markdown"
    head = [f"A = {run_title(a.run)}", f"B = {run_title(b.run)}"]
    blocks = ["\n".join(("- " if markdown else "") + h for h in head),
              _grid(COMPARE_COLUMNS, compare_cells(a, b), markdown)]
    for name, report in (("A", a), ("B", b)):
        if report.recommendation:
            blocks.append("\n".join([f"{name}:", *report.recommendation]))
    return "\n\n".join(blocks) + "\n"
