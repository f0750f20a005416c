"""Quality monitoring: a judge model scores every Nth logged answer (per source and labels).

The judge reads only what interaction logging wrote — redacted text — and answers through the
gateway like any call (`source="judge"`, on `quality.judge_tier`, flex by default: half the
standard price) with structured JSON output (`responseJsonSchema`). Scores go to SQLite beside
the interaction. When the hallucination rate over `quality.alert_window` goes over
`quality.alert_hallucination_rate`, an alert is raised once per crossing: the app log, the
console's flash line, `quality.alert_command` (JSON on stdin) and `quality.alert_url` (POST).

Sampling is decided once per interaction, in id order, with the counters and a cursor kept in
SQLite, and a sampled answer gets a `pending` score row in the same transaction: a restart
neither samples twice nor forgets what it had picked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from console.services.errors import GatewayError
from console.services.workspace import Workspace
from store.records import Interaction
from store.repos import meta
from store.repos import quality as repo
from store.repos.quality import DailyQuality, QualityScore

log = logging.getLogger(__name__)

JUDGE_SOURCE = "judge"
CURSOR_KEY = "quality.cursor"
ALERTING_KEY = "quality.alerting"
# Interactions read per transaction while sampling.
SCAN_CHUNK = 500
JUDGE_CONCURRENCY = 8
# Parts of the judged text past this many characters are cut (the judge needs the gist).
MAX_TEXT = 6_000

JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "accuracy": {"type": "integer", "minimum": 1, "maximum": 5},
        "tone": {"type": "integer", "minimum": 1, "maximum": 5},
        "hallucination": {"type": "boolean"},
        "reason": {"type": "string", "maxLength": 300},
    },
    "required": ["accuracy", "tone", "hallucination", "reason"],
    "propertyOrdering": ["accuracy", "tone", "hallucination", "reason"],
}

__all__ = [
    "JUDGE_SCHEMA",
    "JudgeTick",
    "QualityAlert",
    "QualityReport",
    "judge_new",
    "judge_prompt",
    "kick",
    "quality_report",
    "take_alerts",
]


@dataclass(frozen=True)
class QualityAlert:
    judged: int
    hallucinated: int
    rate: float
    threshold: float
    window_s: float
    at: float

    @property
    def text(self) -> str:
        return (f"quality alert: hallucination rate {self.rate:.1%} over the last "
                f"{self.window_s / 3600:g} h ({self.hallucinated} of {self.judged} judged "
                f"answers) is above the {self.threshold:.1%} threshold")

    def as_dict(self) -> dict[str, Any]:
        return {"event": "quality.hallucination_rate", "judged": self.judged,
                "hallucinated": self.hallucinated, "rate": round(self.rate, 6),
                "threshold": self.threshold, "window_s": self.window_s, "at": self.at,
                "text": self.text}


@dataclass(frozen=True)
class JudgeTick:
    """What one pass did."""

    seen: int = 0
    sampled: int = 0
    judged: int = 0
    failed: int = 0
    alert: QualityAlert | None = None
    errors: tuple[str, ...] = ()


# -- the prompt ------------------------------------------------------------------------------


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def judge_prompt(interaction: Interaction) -> str:
    """The text the judge reads: the redacted conversation and the redacted answer."""
    lines = ["# Conversation (redacted)"]
    if interaction.system_instruction:
        lines += ["[system]", _cut(interaction.system_instruction)]
    for turn in orjson.loads(interaction.contents_json or "[]"):
        texts = [p["text"] for p in turn.get("parts") or () if isinstance(p.get("text"), str)]
        others = [next(iter(p), "part") for p in turn.get("parts") or ()
                  if not isinstance(p.get("text"), str)]
        body = "\n".join(texts + [f"[{kind} omitted]" for kind in others])
        lines += [f"[{turn.get('role', 'user')}]", _cut(body)]
    lines += ["", "# Answer to judge (redacted)", _cut(interaction.response_text or "")]
    return "\n".join(lines)


def judge_config(ws: Workspace) -> dict[str, Any]:
    return {
        "system_instruction": ws.settings.quality.rubric_text(),
        "response_mime_type": "application/json",
        "response_json_schema": JUDGE_SCHEMA,
        "temperature": 0.0,
    } | ({"thinking_config": {"thinking_budget": budget}}
         if (budget := ws.settings.quality.judge_thinking_budget) is not None else {})


def group_key(interaction: Interaction) -> str:
    return f"{interaction.source}|{repo.labels_text(interaction.labels)}"


# -- sampling ---------------------------------------------------------------------------------


def _sample(ws: Workspace) -> tuple[int, int]:
    """Look at every interaction logged since the cursor; put a pending score row on every
    Nth of each (source, labels). Returns (seen, sampled)."""
    q = ws.settings.quality
    every = max(1, q.sample_every)
    judge_tier = q.judge_tier
    seen = sampled = 0
    while True:
        now = ws.clock()
        with ws.session() as session:
            cursor = int(meta.get(session, CURSOR_KEY) or 0)
            batch = repo.interactions_after(session, cursor, limit=SCAN_CHUNK)
            if not batch:
                return seen, sampled
            for interaction in batch:
                if interaction.source == JUDGE_SOURCE:
                    continue
                seen += 1
                if repo.bump(session, group_key(interaction)) % every:
                    continue
                sampled += 1
                repo.add_score(session, {
                    "interaction_id": interaction.id, "at": now,
                    "answered_at": interaction.at, "source": interaction.source,
                    "model": interaction.model, "labels": repo.labels_text(interaction.labels),
                    "judge_model": q.judge_model, "judge_tier": judge_tier,
                    "status": "pending",
                })
            meta.put(session, CURSOR_KEY, str(batch[-1].id))


# -- judging -----------------------------------------------------------------------------------


def _pending(ws: Workspace) -> list[tuple[QualityScore, Interaction]]:
    from sqlalchemy import select

    from store.repos import interactions as interaction_repo

    with ws.session() as session:
        rows = session.execute(
            select(repo.S).where(repo.S.c.status == "pending").order_by(repo.S.c.id)
        ).all()
        out = []
        for row in rows:
            score = QualityScore(**dict(row._mapping))
            interaction = interaction_repo.get(session, score.interaction_id)
            if interaction is not None:
                out.append((score, interaction))
        return out


def _parse(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("the judge did not answer with an object")
    accuracy, tone = int(value["accuracy"]), int(value["tone"])
    if not (1 <= accuracy <= 5 and 1 <= tone <= 5):
        raise ValueError(f"scores out of range: {accuracy}, {tone}")
    return {"accuracy": accuracy, "tone": tone, "hallucination": bool(value["hallucination"]),
            "reason": str(value.get("reason") or "")[:500]}


async def _judge_all(ws: Workspace, work: list[tuple[QualityScore, Interaction]],
                     ) -> list[tuple[int, dict[str, Any]]]:
    """On the gateway's loop: every pending score, at most JUDGE_CONCURRENCY at a time."""
    gateway = ws.gateway
    config = judge_config(ws)
    tier = ws.settings.quality.judge_tier
    gate = asyncio.Semaphore(JUDGE_CONCURRENCY)

    async def one(score: QualityScore, interaction: Interaction) -> tuple[int, dict[str, Any]]:
        async with gate:
            try:
                generation = await gateway.generate(
                    score.judge_model, judge_prompt(interaction), config, tier=tier,
                    source=JUDGE_SOURCE, request_key=f"judge/{interaction.id}")
                values = _parse(generation.text)
            except (GatewayError, ValueError, KeyError, TypeError) as error:
                return score.id, {"status": "failed", "error": str(error)[:500]}
            except Exception as error:  # over budget, circuit open: tried again next pass
                return score.id, {"status": "pending", "error": f"{type(error).__name__}: "
                                  f"{str(error)[:300]}"}
            u = generation.usage
            return score.id, values | {
                "status": "scored", "error": None, "prompt_tokens": u.prompt_tokens,
                "output_tokens": u.output_tokens + u.thought_tokens, "cost": generation.cost}

    return list(await asyncio.gather(*(one(s, i) for s, i in work)))


def _store_results(ws: Workspace, results: Sequence[tuple[int, dict[str, Any]]]) -> None:
    from sqlalchemy import update

    now = ws.clock()
    with ws.session() as session:
        for score_id, values in results:
            session.execute(update(repo.S).where(repo.S.c.id == score_id)
                            .values(**values, at=now))


_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


# -- judging through the Batch API (quality.judge_tier = "batch") ------------------------------

# {job name: [score ids]} for judge jobs out; and the job about to be created (its tag and
# ids), written before the create so a crash in between finds the job instead of a second one.
JUDGE_JOBS_KEY = "quality.judge_jobs"
JUDGE_INTENT_KEY = "quality.judge_intent"
BATCHED = "batched"


def _open_jobs(session: Any) -> dict[str, list[int]]:
    return orjson.loads(meta.get(session, JUDGE_JOBS_KEY) or "{}")


def _adopt(ws: Workspace, tag: str, ids: list[int], row: dict[str, Any]) -> None:
    """Record a created judge job and mark its scores as out, in one transaction."""
    from sqlalchemy import update

    from store.repos import batches as batch_repo

    with ws.session() as session:
        batch_repo.record_created(session, row, now=ws.clock())
        jobs = _open_jobs(session)
        jobs[row["name"]] = ids
        meta.put(session, JUDGE_JOBS_KEY, orjson.dumps(jobs).decode())
        meta.put(session, JUDGE_INTENT_KEY, "")
        session.execute(update(repo.S).where(repo.S.c.id.in_(ids))
                        .values(status=BATCHED, error=f"batch {row['name']}", at=ws.clock()))


def _finish_intent(ws: Workspace) -> None:
    """A create cut short by a crash: adopt the job if it was made, else forget the intent
    (its scores are still pending and go in the next job)."""
    from console.services import batches

    with ws.session() as session:
        intent = meta.get(session, JUDGE_INTENT_KEY)
    if not intent:
        return
    value = orjson.loads(intent)
    found = batches.find_by_display_name(ws, value["tag"])
    if found is not None:
        _adopt(ws, value["tag"], value["ids"], found.row())
    else:
        with ws.session() as session:
            meta.put(session, JUDGE_INTENT_KEY, "")


def _submit_judge_batch(ws: Workspace, work: list[tuple[QualityScore, Interaction]],
                        ) -> tuple[str, ...]:
    """Every pending score in one inline batch job per judge model (half the standard price).
    Returns errors (over budget, the API refusing): the scores stay pending for next time."""
    import hashlib

    from console.services import batches, budget
    from console.services.gateway import GatewayError
    from console.services.pricing import PriceTable

    _finish_intent(ws)
    config = judge_config(ws)
    prices = PriceTable.load(ws.settings.prices.file)
    errors: list[str] = []
    by_model: dict[str, list[tuple[QualityScore, Interaction]]] = {}
    for score, interaction in work:
        by_model.setdefault(score.judge_model, []).append((score, interaction))
    for model, items in by_model.items():
        with ws.session() as session:  # a job adopted just now took some of these
            fresh = {r.id for r in repo_pending_ids(session)}
        items = [(s, i) for s, i in items if s.id in fresh]
        if not items:
            continue
        ids = [s.id for s, _ in items]
        requests = [{"contents": [{"role": "user", "parts": [{"text": judge_prompt(i)}]}],
                     "config": config, "metadata": {"key": f"judge/{s.id}"}} for s, i in items]
        estimate = sum(budget.estimate_call(prices, model, r["contents"], config, batch=True,
                                            assumed_output_tokens=200) for r in requests)
        try:
            budget.require(ws, estimate={model: estimate})
        except budget.OverBudget as refusal:
            errors.append(str(refusal))
            continue
        tag = hashlib.sha256(("judge:" + ",".join(map(str, ids))).encode()).hexdigest()
        with ws.session() as session:
            meta.put(session, JUDGE_INTENT_KEY, orjson.dumps({"tag": tag, "ids": ids}).decode())
        gateway = ws.gateway
        try:
            job = gateway.run(gateway.create_batch(
                model, requests, {"display_name": batches.display_name(tag, "gemops-judge")}))
        except GatewayError as error:
            errors.append(str(error))
            with ws.session() as session:
                meta.put(session, JUDGE_INTENT_KEY, "")
            continue
        _adopt(ws, tag, ids, job.submitted(request_count=len(ids), model=model).row())
    return tuple(errors)


def repo_pending_ids(session: Any) -> list[Any]:
    from sqlalchemy import select

    return list(session.execute(select(repo.S.c.id).where(repo.S.c.status == "pending")))


def judge_jobs(ws: Workspace) -> list[str]:
    """Judge jobs still out (sync mirrors them like any job)."""
    with ws.session() as session:
        return list(_open_jobs(session))


def store_batch_verdicts(ws: Workspace, name: str, state: str,
                         responses: dict[str, bytes]) -> JudgeTick:
    """A judge job ended: store each verdict as the flex path does, book each result in the
    ledger (source judge, batch price), and check the alert. A score the job did not answer
    is failed with why. Called by batches.collect_finished; a second call does nothing."""
    from console.services import batches
    from console.services.pricing import Usage

    with _lock(ws):
        with ws.session() as session:
            jobs = _open_jobs(session)
            booked = set()
            if name in jobs:
                from store.repos import batches as batch_repo

                booked = batch_repo.ledgered_keys(session, f"{name}/")
        ids = jobs.get(name)
        if ids is None:
            return JudgeTick()
        gateway = ws.gateway
        results: list[tuple[int, dict[str, Any]]] = []
        with ws.session() as session:
            models = {r.id: r.judge_model for r in (repo_score(session, i) for i in ids) if r}
        for score_id in ids:
            key = f"judge/{score_id}"
            model = models.get(score_id, ws.settings.quality.judge_model)
            ledger_key = batches.ledger_request_key(name, key)
            raw = responses.get(key)
            if raw is None:
                results.append((score_id, {"status": "failed", "error":
                                f"no verdict: the judge job {state.lower()}"}))
                continue
            item = orjson.loads(raw)
            if item.get("response") is None:
                error = item.get("error") or {}
                if ledger_key not in booked:
                    gateway.record_batch_result(model=model, usage=Usage(0),
                                                status=int(error.get("code") or 500),
                                                error=str(error.get("message"))[:300],
                                                request_key=ledger_key, source=JUDGE_SOURCE)
                results.append((score_id, {"status": "failed",
                                           "error": str(error.get("message") or "failed")}))
                continue
            response = item["response"]
            text, _, _ = batches._response_parts(response)
            usage = Usage.from_metadata(response.get("usageMetadata") or {})
            if ledger_key in booked:
                cost, _ = gateway.batch_cost(model, usage)
            else:
                cost, _ = gateway.record_batch_result(model=model, usage=usage, status=200,
                                                      error=None, request_key=ledger_key,
                                                      source=JUDGE_SOURCE)
            try:
                values = _parse(text)
            except (ValueError, KeyError, TypeError) as error:
                results.append((score_id, {"status": "failed", "error": str(error)[:500]}))
                continue
            results.append((score_id, values | {
                "status": "scored", "error": None, "prompt_tokens": usage.prompt_tokens,
                "output_tokens": usage.output_tokens + usage.thought_tokens, "cost": cost}))
        gateway.flush_ledger()
        _store_results(ws, results)
        with ws.session() as session:
            jobs = _open_jobs(session)
            jobs.pop(name, None)
            meta.put(session, JUDGE_JOBS_KEY, orjson.dumps(jobs).decode())
        judged = sum(1 for _, v in results if v["status"] == "scored")
        failed = len(results) - judged
        alert = check_alert(ws) if judged else None
    return JudgeTick(judged=judged, failed=failed, alert=alert,
                     errors=tuple(v["error"] for _, v in results if v.get("error")))


def repo_score(session: Any, score_id: int) -> QualityScore | None:
    from sqlalchemy import select

    row = session.execute(select(repo.S).where(repo.S.c.id == score_id)).first()
    return QualityScore(**dict(row._mapping)) if row else None


def _lock(ws: Workspace) -> threading.Lock:
    with _LOCKS_GUARD:
        found = _LOCKS.get(id(ws))
        if found is None:
            found = _LOCKS[id(ws)] = threading.Lock()
            weakref.finalize(ws, _LOCKS.pop, id(ws), None)
        return found


def judge_new(ws: Workspace) -> JudgeTick:
    """One pass: sample what was logged since the last pass, judge what is pending, store the
    scores, and check the alert. Blocking; one pass at a time per workspace."""
    from console.services.interactions import flush_interactions, logging_run

    if ws.settings.quality.judge_tier == "batch":
        # Judge jobs that ended since the last look: their verdicts first (a command run
        # has no sync loop to see them end).
        from console.services import batches

        for name in judge_jobs(ws):
            batches.refresh_job(ws, name)
    with _lock(ws):
        flush_interactions(ws)
        seen, sampled = _sample(ws)
        work = _pending(ws)
        results: list[tuple[int, dict[str, Any]]] = []
        if work and ws.settings.quality.judge_tier == "batch":
            # One job for all of them; the verdicts are stored when sync sees it end.
            errors = _submit_judge_batch(ws, work)
            return JudgeTick(seen, sampled, errors=errors)
        if work:
            # The judge's own calls are not logged: they would only repeat redacted text.
            with logging_run(ws, source=JUDGE_SOURCE, enabled=False):
                results = ws.gateway.run(_judge_all(ws, work))
            _store_results(ws, results)
        judged = sum(1 for _, v in results if v["status"] == "scored")
        failed = sum(1 for _, v in results if v["status"] == "failed")
        errors = tuple(v["error"] for _, v in results if v.get("error"))
        alert = check_alert(ws) if judged else None
    return JudgeTick(seen, sampled, judged, failed, alert, errors)


# -- alerts ----------------------------------------------------------------------------------


def check_alert(ws: Workspace) -> QualityAlert | None:
    """Raise the alert when the rate has just gone over the threshold (once per crossing)."""
    q = ws.settings.quality
    now = ws.clock()
    with ws.session() as session:
        judged, bad = repo.rate(session, since=now - q.alert_window)
        rate = bad / judged if judged else 0.0
        over = judged >= max(1, q.alert_min_judged) and rate > q.alert_hallucination_rate
        was = meta.get(session, ALERTING_KEY) == "1"
        if over != was:
            meta.put(session, ALERTING_KEY, "1" if over else "0")
    if not over or was:
        return None
    alert = QualityAlert(judged, bad, rate, q.alert_hallucination_rate, q.alert_window, now)
    _raise(ws, alert)
    return alert


def _raise(ws: Workspace, alert: QualityAlert) -> None:
    q = ws.settings.quality
    log.warning("%s", alert.text)
    _state(ws).alerts.append(alert.text)
    payload = orjson.dumps(alert.as_dict())
    if q.alert_command:
        env = os.environ | {"GEMOPS_ALERT_TEXT": alert.text,
                            "GEMOPS_ALERT_RATE": f"{alert.rate:.6f}"}
        try:
            done = subprocess.run(q.alert_command, shell=True, input=payload, env=env,
                                  capture_output=True, timeout=30, check=False)
            if done.returncode:
                log.error("quality.alert_command exited %d", done.returncode)
        except (OSError, subprocess.TimeoutExpired) as error:
            log.error("quality.alert_command failed: %s", error)
    if q.alert_url:
        import httpx

        try:
            response = httpx.post(q.alert_url, content=payload, timeout=10,
                                  headers={"content-type": "application/json"})
            if response.status_code >= 400:
                log.error("quality.alert_url answered %d", response.status_code)
        except httpx.HTTPError as error:
            log.error("quality.alert_url failed: %s", type(error).__name__)


# -- running in the background ----------------------------------------------------------------


@dataclass
class _State:
    thread: threading.Thread | None = None
    alerts: list[str] = field(default_factory=list)


_STATES: dict[int, _State] = {}


def _state(ws: Workspace) -> _State:
    with _LOCKS_GUARD:
        found = _STATES.get(id(ws))
        if found is None:
            found = _STATES[id(ws)] = _State()
            weakref.finalize(ws, _STATES.pop, id(ws), None)
        return found


def kick(ws: Workspace, on_done: Callable[[JudgeTick], None] | None = None) -> bool:
    """Start a judging pass in a background thread unless one runs (or judging is off).
    Never blocks and never raises: the sync tick calls it."""
    from console.services.interactions import logging_enabled

    # The judge reads the interaction log: with logging off there is nothing new to judge.
    if not ws.settings.quality.enabled or not ws.connected or not logging_enabled(ws):
        return False
    state = _state(ws)
    if state.thread is not None and state.thread.is_alive():
        return False

    def run() -> None:
        try:
            result = judge_new(ws)
        except Exception as error:  # the store or the gateway went away: next tick tries again
            log.error("quality: judging pass failed: %s", type(error).__name__)
            return
        if on_done is not None:
            on_done(result)

    state.thread = threading.Thread(target=run, name="gemops-judge", daemon=True)
    state.thread.start()
    return True


def take_alerts(ws: Workspace) -> list[str]:
    """Alert texts raised since the last call (the console flashes them)."""
    state = _state(ws)
    with _LOCKS_GUARD:
        texts, state.alerts = state.alerts, []
    return texts


# -- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityReport:
    since: float | None
    labels: tuple[tuple[str, str], ...]
    daily: list[DailyQuality]
    worst: list[tuple[QualityScore, str]]
    judged: int
    hallucinated: int
    threshold: float
    judge_model: str
    judge_tier: str

    @property
    def rate(self) -> float:
        return self.hallucinated / self.judged if self.judged else 0.0

    @property
    def over(self) -> bool:
        return self.judged > 0 and self.rate > self.threshold

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since, "labels": dict(self.labels), "judged": self.judged,
            "hallucinated": self.hallucinated, "hallucination_rate": round(self.rate, 6),
            "threshold": self.threshold, "over_threshold": self.over,
            "judge_model": self.judge_model, "judge_tier": self.judge_tier,
            "daily": [{"day": d.day, "model": d.model, "labels": d.labels, "judged": d.judged,
                       "accuracy": round(d.accuracy, 3), "tone": round(d.tone, 3),
                       "hallucinations": d.hallucinations,
                       "hallucination_rate": round(d.hallucination_rate, 6),
                       "judge_cost": round(d.cost, 8)} for d in self.daily],
            "worst": [{"interaction_id": s.interaction_id, "model": s.model, "labels": s.labels,
                       "accuracy": s.accuracy, "tone": s.tone, "hallucination": s.hallucination,
                       "reason": s.reason, "answer": text[:200]} for s, text in self.worst],
        }


def parse_labels(labels: Sequence[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in labels:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"a label filter is key=value, not {item!r}")
        out.append((key.strip(), value.strip()))
    return tuple(out)


def quality_report(ws: Workspace, *, since: float | None = None,
                   labels: Sequence[tuple[str, str]] = (), worst: int = 10) -> QualityReport:
    q = ws.settings.quality
    with ws.session() as session:
        daily = repo.daily(session, since=since, labels=labels)
        worst_rows = repo.worst(session, since=since, limit=worst, labels=labels)
        judged, bad = repo.rate(session, since=since, labels=labels)
    return QualityReport(since, tuple(labels), daily, worst_rows, judged, bad,
                         q.alert_hallucination_rate, q.judge_model, q.judge_tier)


def render_report(report: QualityReport, fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps(report.as_dict(), indent=2)
    header = ["day", "model", "labels", "judged", "accuracy", "tone", "halluc.", "rate"]
    rows = [[d.day, d.model, d.labels or "-", f"{d.judged:,}", f"{d.accuracy:.2f}",
             f"{d.tone:.2f}", f"{d.hallucinations:,}", f"{d.hallucination_rate:.1%}"]
            for d in report.daily]
    verdict = "OVER" if report.over else "within"
    summary = (f"hallucination rate {report.rate:.1%} ({report.hallucinated} of "
               f"{report.judged:,} judged) — {verdict} the {report.threshold:.1%} threshold; "
               f"judge {report.judge_model} on {report.judge_tier}")
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines += ["", f"**{summary}**", "", "Worst-scored answers:", ""]
        lines += [f"- #{s.interaction_id} {s.model} acc {s.accuracy} tone {s.tone}"
                  f"{' hallucination' if s.hallucination else ''}: {s.reason}"
                  for s, _ in report.worst]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    if not rows:
        out.append("(no judged answers)")
    out += ["", summary]
    if report.worst:
        out += ["", "worst-scored answers:"]
        out += [f"  #{s.interaction_id} {s.model} acc {s.accuracy} tone {s.tone}"
                f"{' HALLUCINATION' if s.hallucination else ''}  {s.reason}"
                for s, _ in report.worst]
    return "\n".join(out)
