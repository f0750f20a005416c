"""The spend budget guard: before a call, a file or a batch goes out, its cost estimate (the
pricing module) plus today's spend (the ledger, UTC day) is checked against `budget.daily_usd`,
`budget.per_model` and `budget.per_label`.

- The gateway calls `guard` before every generateContent: over budget raises `OverBudget`
  (scripts print it as `Error: …`; the console asks and may `allow_over` for today).
- The drop folder calls `drop_gate` once a file is validated: over budget, the file waits in
  `held/` with `<name>.status.json` saying why, and goes on when the next day starts or the
  budget is raised (the folder's tick tries held files again).

Per-label spend comes from the interaction log (the ledger has no labels): the logged calls'
cost scaled by `logging.sample_every`, so it is exact only when every call is logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from console.services.overview import day_start
from console.services.pricing import PriceTable, UnknownModelPrice, Usage, call_cost
from console.services.workspace import Workspace
from store.repos import ledger, meta

if TYPE_CHECKING:
    from console.services.dropfolder import DropFolder
    from store.records import DropFile

CHARS_PER_TOKEN = 4
HELD = "held"
DAY_S = 86_400.0

__all__ = [
    "BudgetCheck", "OverBudget", "allow_over", "before_action", "check", "drop_gate", "estimate_cache",
    "estimate_call", "estimate_file", "estimate_samples", "estimate_tier_plan", "guard",
    "require", "shortfall", "spend_gauge",
]  # fmt: skip


@dataclass(frozen=True)
class BudgetCheck:
    """One limit looked at: what was spent today, what the next thing would add."""

    scope: str  # "daily", "model gemini-2.5-flash", "label team=a"
    limit: float | None
    spent: float
    estimate: float
    day_ends_at: float

    @property
    def ok(self) -> bool:
        return self.limit is None or self.spent + self.estimate <= self.limit

    @property
    def reason(self) -> str:
        if self.limit is None:
            return f"no {self.scope} budget"
        until = datetime.fromtimestamp(self.day_ends_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (f"{self.scope} budget ${self.limit:,.4f}: spent ${self.spent:,.4f} today, "
                f"this needs about ${self.estimate:,.4f} more (resets {until}; raise "
                f"budget.{'daily_usd' if self.scope == 'daily' else self._key()} to send now)")

    def _key(self) -> str:
        kind, _, name = self.scope.partition(" ")
        return f"per_{kind}.\"{name}\""


class OverBudget(RuntimeError):
    """`check` is the first limit crossed; `needed` is what today's limits must rise by for
    every crossed limit to hold the action (what the console's "yes" passes to allow_over)."""

    def __init__(self, check: BudgetCheck, needed: float | None = None) -> None:
        self.check = check
        self.needed = shortfall([check]) if needed is None else needed
        super().__init__(f"over budget: {check.reason}")

    @property
    def question(self) -> str:
        return f"Over the {self.check.scope} budget: send anyway?"

    @property
    def explanation(self) -> str:
        c = self.check
        return (f"This needs about ${c.estimate:,.4f}; ${c.spent:,.4f} was spent today against "
                f"the ${c.limit or 0:,.4f} {c.scope} budget. Yes raises today's budget by "
                f"${self.needed:,.4f} for this and sends it; No sends nothing.")


# -- estimates ---------------------------------------------------------------------------------


def _tokens(value: Any) -> int:
    return max(1, len(orjson.dumps(value, default=str)) // CHARS_PER_TOKEN) if value else 0


def estimate_call(prices: PriceTable, model: str, contents: Any, config: Mapping[str, Any] | None,
                  *, tier: str = "standard", batch: bool = False,
                  assumed_output_tokens: int = 1024) -> float:
    """What one generateContent will cost, roughly: characters/4 in, maxOutputTokens out."""
    config = config or {}
    prompt = _tokens(contents) + _tokens(config.get("system_instruction"))
    output = config.get("max_output_tokens") or config.get("maxOutputTokens")
    usage = Usage(prompt_tokens=prompt, output_tokens=int(output or assumed_output_tokens))
    try:
        return call_cost(prices, model, usage, tier="standard" if batch else tier,
                         batch=batch).cost
    except (UnknownModelPrice, ValueError):
        return 0.0


def estimate_file(ws: Workspace, path: Path, *, route: str,
                  prices: PriceTable | None = None) -> tuple[float, dict[str, float]]:
    """A JSONL file's estimated cost on `route` (batch, flex, standard, priority), in total
    and per model."""
    from console.services import jsonl

    prices = prices or PriceTable.load(ws.settings.prices.file)
    default = ws.settings.gemini.default_model
    batch = route in ("batch", "cli", "cli-inline")
    per_model: dict[str, float] = {}
    for request in jsonl.requests(path, display=path.name):
        model = (request.model or default).removeprefix("models/")
        contents, config = jsonl.sdk_call(request.request)
        cost = estimate_call(prices, model, contents, config, tier=route, batch=batch,
                             assumed_output_tokens=ws.settings.budget.assumed_output_tokens)
        per_model[model] = per_model.get(model, 0.0) + cost
    return sum(per_model.values()), per_model


# -- spend and limits --------------------------------------------------------------------------


def _allowance_key(day: float) -> str:
    return f"budget.allow.{datetime.fromtimestamp(day, UTC).strftime('%Y-%m-%d')}"


def allow_over(ws: Workspace, usd: float) -> None:
    """The console's "yes, go over": today's limits are raised by `usd` (until midnight UTC)."""
    day = day_start(ws.clock())
    with ws.session() as session:
        extra = float(meta.get(session, _allowance_key(day)) or 0.0)
        meta.put(session, _allowance_key(day), repr(extra + usd))  # exact: no rounding down


def _label_spend(session: Any, key: str, value: str, since: float) -> float:
    from sqlalchemy import func, select

    from store.tables import InteractionLabelRow, InteractionRow

    i, lab = InteractionRow.__table__, InteractionLabelRow.__table__  # type: ignore[attr-defined]
    query = (select(func.coalesce(func.sum(i.c.cost), 0.0))
             .join(lab, lab.c.interaction_id == i.c.id)
             .where(i.c.at >= since, lab.c.key == key, lab.c.value == value))
    return float(session.execute(query).scalar() or 0.0)


def check(ws: Workspace, *, estimate: float | Mapping[str, float],
          labels: Mapping[str, str] | None = None) -> list[BudgetCheck]:
    """Every configured limit this spend touches; `estimate` is USD in total or per model."""
    b = ws.settings.budget
    per_model = dict(estimate) if isinstance(estimate, Mapping) else {}
    total = sum(per_model.values()) if isinstance(estimate, Mapping) else float(estimate)
    labels = dict(ws.settings.logging.labels) | dict(labels or {})
    wanted_labels = [(k, lab) for k in b.per_label
                     if (lab := k.partition("=")) and labels.get(lab[0]) == lab[2]]
    if b.daily_usd is None and not (set(per_model) & set(b.per_model)) and not wanted_labels:
        return []
    now = ws.clock()
    today = day_start(now)
    ends = today + DAY_S
    with ws.session() as session:
        extra = float(meta.get(session, _allowance_key(today)) or 0.0)
        rows = ledger.spend(session, since=today, by="model")
        label_spend = {k: _label_spend(session, lab[0], lab[2], today)
                       * max(1, ws.settings.logging.sample_every) for k, lab in wanted_labels}
    spent = {r.group: r.cost for r in rows}
    checks = []
    if b.daily_usd is not None:
        checks.append(BudgetCheck("daily", b.daily_usd + extra, sum(spent.values()), total, ends))
    for model, cost in per_model.items():
        if model in b.per_model:
            checks.append(BudgetCheck(f"model {model}", b.per_model[model] + extra,
                                      spent.get(model, 0.0), cost, ends))
    for key, _ in wanted_labels:
        checks.append(BudgetCheck(f"label {key}", b.per_label[key] + extra, label_spend[key],
                                  total, ends))
    return checks


def first_over(checks: Iterable[BudgetCheck]) -> BudgetCheck | None:
    return next((c for c in checks if not c.ok), None)


def shortfall(checks: Iterable[BudgetCheck]) -> float:
    """How much today's limits must rise for every one of `checks` to pass (a hair over, so
    the sum the gateway checks next is within it despite float rounding)."""
    gaps = [c.spent + c.estimate - c.limit for c in checks if c.limit is not None and not c.ok]
    return max(gaps) * (1 + 1e-9) + 1e-9 if gaps else 0.0


def require(ws: Workspace, *, estimate: float | Mapping[str, float],
            labels: Mapping[str, str] | None = None) -> None:
    checks = check(ws, estimate=estimate, labels=labels)
    over = first_over(checks)
    if over is not None:
        raise OverBudget(over, shortfall(checks))


def before_action(ws: Workspace, estimate: float | Mapping[str, float],
                  allowance: float = 0.0) -> None:
    """The console's check before it starts an action: a "yes, go over" given for it raises
    today's budget first; over budget raises OverBudget and nothing has been sent."""
    if allowance:
        allow_over(ws, allowance)
    require(ws, estimate=estimate)


# -- what the console's actions will cost (checked before they start, so "no" sends nothing) --


def _prices(ws: Workspace) -> PriceTable:
    return PriceTable.load(ws.settings.prices.file)


def estimate_tier_plan(ws: Workspace, plan: Any) -> dict[str, float]:
    """A tier run: every sample of every tier, at that tier's price."""
    prices = _prices(ws)
    out = ws.settings.budget.assumed_output_tokens
    cost = sum(estimate_call(prices, plan.model, plan.prompt, {}, tier=tier,
                             assumed_output_tokens=out) * plan.runs_per_tier
               for tier in plan.tiers)
    return {plan.model.removeprefix("models/"): cost}


def estimate_samples(ws: Workspace) -> dict[str, float]:
    """The sample workload: its cache (written and stored an hour), six calls, a batch of six."""
    from console.services import samples
    from console.services.pricing import storage_cost

    prices = _prices(ws)
    out = ws.settings.budget.assumed_output_tokens
    handbook = (samples.SAMPLES_DIR / "handbook.md").read_text()
    questions = samples._questions()
    tiers = ["standard", "standard", "flex", "flex", "priority", "priority"]
    cost = estimate_call(prices, samples.MODEL, handbook, {"system_instruction": samples.SYSTEM},
                         assumed_output_tokens=0)
    try:
        cost += storage_cost(prices, samples.MODEL, _tokens(handbook), 1.0)
    except (UnknownModelPrice, ValueError):
        pass
    cost += sum(estimate_call(prices, samples.MODEL, q, {}, tier=t, assumed_output_tokens=out)
                for q, t in zip(questions, tiers, strict=False))
    cost += sum(estimate_call(prices, samples.MODEL, q, {}, batch=True, assumed_output_tokens=out)
                for q in questions)
    return {samples.MODEL: cost}


def estimate_cache(ws: Workspace, draft: Any) -> dict[str, float]:
    """An explicit cache: its tokens written once at the input price, stored for its TTL."""
    from console.services.caches import estimate_tokens, inspect_files
    from console.services.pricing import storage_cost

    prices = _prices(ws)
    tokens = estimate_tokens(draft.system_instruction, inspect_files(list(draft.files)))
    model = draft.model.removeprefix("models/")
    try:
        cost = call_cost(prices, model, Usage(prompt_tokens=tokens, output_tokens=0)).cost
        cost += storage_cost(prices, model, tokens, draft.ttl_s / 3600)
    except (UnknownModelPrice, ValueError):
        cost = 0.0
    return {model: cost}


def guard(ws: Workspace, prices: PriceTable):
    """The gateway's pre-call check (runs on its loop; one indexed sum over today's ledger)."""

    def before_call(model: str, contents: Any, config: Mapping[str, Any], tier: str,
                    source: str) -> None:
        b = ws.settings.budget
        if b.daily_usd is None and not b.per_model and not b.per_label:
            return
        cost = estimate_call(prices, model, contents, config, tier=tier,
                             assumed_output_tokens=b.assumed_output_tokens)
        require(ws, estimate={model: cost})

    return before_call


def spend_gauge(ws: Workspace) -> tuple[float, float | None]:
    """(spent today, the daily budget or None) for the limits pane's gauge."""
    today = day_start(ws.clock())
    with ws.session() as session:
        spent = sum(r.cost for r in ledger.spend(session, since=today, by="model"))
        extra = float(meta.get(session, _allowance_key(today)) or 0.0)
    limit = ws.settings.budget.daily_usd
    return spent, None if limit is None else limit + extra


# -- the drop folder -------------------------------------------------------------------------


def drop_gate(folder: DropFolder, drop: DropFile, path: Path) -> DropFile | None:
    """Called once a file is validated, before it is sent: over budget, move it to `held/`
    (the claim follows it) with a status file saying why, and return the claim; within
    budget, return None (a file that was held leaves its status file behind no longer)."""
    from store.repos import drops

    ws = folder.ws
    b = ws.settings.budget
    held_dir = folder.root / HELD
    status = held_dir / f"{drop.name}.status.json"
    over = None
    checks: list[BudgetCheck] = []
    if b.daily_usd is not None or b.per_model or b.per_label:
        total, per_model = estimate_file(ws, path, route=drop.route)
        checks = check(ws, estimate=per_model or total)
        over = first_over(checks)
    if over is None:
        if path.parent == held_dir:
            status.unlink(missing_ok=True)
            folder._say("released", path, "within budget now")
        return None
    now = ws.clock()
    if path.parent != held_dir:
        held_dir.mkdir(parents=True, exist_ok=True)
        target = held_dir / f"{drop.name}.jsonl"
        path.rename(target)
        with ws.session() as session:
            drop = drops.advance(session, drop.id, now=now, path=str(target))
            drops.add_event(session, at=now, kind=HELD, path=str(target), detail=over.reason,
                            drop_file_id=drop.id)
        # The refusal rides along: the console's watcher asks whether to go over.
        folder._say(HELD, target, over.reason, over=OverBudget(over, shortfall(checks)))
        path = target
    data = {
        "file": folder.relative(path), "name": drop.name, "step": HELD, "route": drop.route,
        "requests": drop.request_count, "why": over.reason, "scope": over.scope,
        "budget_usd": over.limit, "spent_today_usd": round(over.spent, 8),
        "estimate_usd": round(over.estimate, 8),
        "retry_at": datetime.fromtimestamp(over.day_ends_at, UTC).isoformat(timespec="seconds"),
        "checked_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
    }
    tmp = status.with_name(status.name + ".part")
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    tmp.replace(status)
    return drop
