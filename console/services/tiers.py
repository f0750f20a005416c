"""Tier tester runs: flex vs standard vs priority, measured (the statistics are in
`tier_stats`, the tables and formats in `tier_report`; their public names are importable here).

A run sends the same prompt N times on each tier through the gateway (so every attempt is also
in the ledger), writes each sample to SQLite the moment it arrives, and summarises the samples
the way practitioners publish tier comparisons: a summary per tier and a per-run breakdown.

Latency is the caller's wall time for the whole call: client-side pacing, every retry and the
HTTP exchange. The gateway's HTTP-only time of the last attempt is kept beside it.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.services.errors import GatewayError
from console.services.redact import redact

# The rule and the rendering, under the names callers have always imported from here.
from console.services.tier_report import (  # noqa: F401
    LATENCY_NOTE,
    SAMPLE_COLUMNS,
    SUMMARY_COLUMNS,
    compare_cells,
    ordered_samples,
    progress_line,
    ratio_text,
    render,
    render_comparison,
    run_title,
    sample_cells,
    status_text,
    summary_cells,
)
from console.services.tier_stats import (  # noqa: F401
    FLEX_SHED_TOO_OFTEN,
    MEANINGFUL,
    STEADIER,
    Marks,
    TierReport,
    TierSummary,
    best,
    build_report,
    failure_kind,
    latency,
    latency_delta,
    percentile,
    plan_timeouts,
    price_change,
    recommend,
    summarise,
    unit_for,
)
from console.services.tier_terms import FLEX_RETRY_ATTEMPTS, ORDERS
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


def load_report(ws: Workspace, run_id: int) -> TierReport:
    with ws.session() as session:
        run = repo.get_run(session, run_id)
        if run is None:
            raise LookupError(f"no tier run #{run_id}")
        return build_report(run, repo.samples(session, run_id))


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


