"""Judge scores: which logged interactions are still to be looked at, the sampling counters, the
scores, and the daily report's figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, exists, func, insert, select, update
from sqlmodel import Session

from store.records import Interaction, record_from
from store.repos import dialect
from store.repos import interactions as interaction_repo
from store.tables import InteractionLabelRow, InteractionRow, QualityCounterRow, QualityScoreRow

S = QualityScoreRow.__table__
C = QualityCounterRow.__table__
I = InteractionRow.__table__  # noqa: E741
L = InteractionLabelRow.__table__


@dataclass(frozen=True, slots=True)
class QualityScore:
    id: int
    interaction_id: int
    at: float
    answered_at: float
    source: str
    model: str
    labels: str
    judge_model: str
    judge_tier: str
    status: str
    accuracy: int | None
    tone: int | None
    hallucination: bool | None
    reason: str | None
    error: str | None
    prompt_tokens: int
    output_tokens: int
    cost: float


@dataclass(frozen=True, slots=True)
class DailyQuality:
    """One (UTC day, model, labels) line of the report."""

    day: str
    model: str
    labels: str
    judged: int
    accuracy: float
    tone: float
    hallucinations: int
    cost: float

    @property
    def hallucination_rate(self) -> float:
        return self.hallucinations / self.judged if self.judged else 0.0


def labels_text(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def interactions_after(session: Session, after_id: int, *, limit: int = 500) -> list[Interaction]:
    """Logged interactions with ids above `after_id`, oldest first, with their labels."""
    rows = session.execute(select(I).where(I.c.id > after_id).order_by(I.c.id).limit(limit)).all()
    labels = interaction_repo._labels_of(session, [r.id for r in rows])
    return [record_from(Interaction, dict(r._mapping) | {"labels": labels.get(r.id, {})})
            for r in rows]


def bump(session: Session, group_key: str) -> int:
    """Count one more answer in `group_key`; returns how many it has now seen."""
    seen = session.execute(select(C.c.seen).where(C.c.group_key == group_key)).scalar()
    if seen is None:
        session.execute(insert(C).values(group_key=group_key, seen=1))
        return 1
    session.execute(update(C).where(C.c.group_key == group_key).values(seen=seen + 1))
    return seen + 1


def add_score(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(S).values(**values))


def scored_ids(session: Session, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    query = select(S.c.interaction_id).where(S.c.interaction_id.in_(list(ids)))
    return set(session.execute(query).scalars())


def _filters(since: float | None, until: float | None,
             labels: Sequence[tuple[str, str]]) -> list[Any]:
    where: list[Any] = [S.c.status == "scored"]
    if since is not None:
        where.append(S.c.answered_at >= since)
    if until is not None:
        where.append(S.c.answered_at < until)
    for key, value in labels:
        where.append(exists().where(L.c.interaction_id == S.c.interaction_id, L.c.key == key,
                                    L.c.value == value))
    return where


def daily(session: Session, *, since: float | None = None, until: float | None = None,
          labels: Sequence[tuple[str, str]] = ()) -> list[DailyQuality]:
    day = dialect.utc_day(session, S.c.answered_at)
    query = (
        select(day, S.c.model, S.c.labels, func.count(), func.avg(S.c.accuracy),
               func.avg(S.c.tone), func.sum(case((S.c.hallucination, 1), else_=0)),
               func.coalesce(func.sum(S.c.cost), 0.0))
        .where(*_filters(since, until, labels))
        .group_by(day, S.c.model, S.c.labels)
        .order_by(day, S.c.model, S.c.labels)
    )
    return [DailyQuality(d, m, lab, int(n), float(a or 0), float(t or 0), int(h or 0), float(c))
            for d, m, lab, n, a, t, h, c in session.execute(query)]


def rate(session: Session, *, since: float | None = None,
         labels: Sequence[tuple[str, str]] = ()) -> tuple[int, int]:
    """(judged, hallucinated) since `since`."""
    query = select(func.count(), func.sum(case((S.c.hallucination, 1), else_=0))).where(
        *_filters(since, None, labels))
    judged, bad = session.execute(query).one()
    return int(judged or 0), int(bad or 0)


def worst(session: Session, *, since: float | None = None, limit: int = 20,
          labels: Sequence[tuple[str, str]] = ()) -> list[tuple[QualityScore, str]]:
    """The lowest-scored answers (hallucinations first), with the redacted answer text."""
    query = (
        select(S, I.c.response_text)
        .join(I, I.c.id == S.c.interaction_id)
        .where(*_filters(since, None, labels))
        .order_by(S.c.hallucination.desc(), (S.c.accuracy + S.c.tone).asc(), S.c.id)
        .limit(limit)
    )
    out = []
    for row in session.execute(query):
        mapping = dict(row._mapping)
        out.append((record_from(QualityScore, mapping), mapping["response_text"]))
    return out


def totals(session: Session) -> tuple[int, float, int, int]:
    """(judge calls, their cost, prompt tokens, output tokens) over every score."""
    query = select(func.count(), func.coalesce(func.sum(S.c.cost), 0.0),
                   func.coalesce(func.sum(S.c.prompt_tokens), 0),
                   func.coalesce(func.sum(S.c.output_tokens), 0))
    n, cost, p, o = session.execute(query).one()
    return int(n), float(cost), int(p), int(o)
