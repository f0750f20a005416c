"""The ledger: one row per API call attempt; every gauge, cost and hit rate is read from here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import case, func, insert, literal_column, select
from sqlmodel import Session

from store.records import CallWindow, HitRate, LedgerRecord, SpendRow, record_from
from store.repos import dialect
from store.tables import LedgerEntry

T = LedgerEntry.__table__


def insert_many(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    if entries:
        session.execute(insert(T), list(entries))


def recent(session: Session, limit: int = 100, since: float | None = None) -> list[LedgerRecord]:
    query = select(T).order_by(T.c.id.desc()).limit(limit)
    if since is not None:
        query = query.where(T.c.at >= since)
    return [record_from(LedgerRecord, dict(r._mapping)) for r in session.execute(query)]


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(T)).scalar_one()


Grouping = Literal["model", "tier", "day", "mode"]
# Operations on files, caches and jobs (upload, delete, extend, cancel) name no model; their
# rows are grouped under this label rather than a blank one.
NO_MODEL = "(file/cache ops)"


def _group_expr(session: Session, by: Grouping):
    if by == "model":
        return func.coalesce(func.nullif(T.c.model, ""), literal_column(f"'{NO_MODEL}'"))
    if by == "tier":
        return func.coalesce(T.c.tier_served, T.c.tier_asked)
    if by == "day":
        return dialect.utc_day(session, T.c.at)
    # mode: how the call was made — batch, explicit cache, or plain on its tier.
    return case(
        (T.c.batch.is_(True), literal_column("'batch'")),
        (T.c.cached_content.is_not(None), literal_column("'explicit cache'")),
        else_=literal_column("'online'"),
    )


def spend(
    session: Session, *, since: float, until: float | None = None, by: Grouping = "model"
) -> list[SpendRow]:
    group = _group_expr(session, by).label("grp")
    query = (
        select(
            group,
            func.count(),
            func.sum(case((T.c.status != 200, 1), else_=0)),
            func.coalesce(func.sum(T.c.prompt_tokens), 0),
            func.coalesce(func.sum(T.c.cached_tokens), 0),
            func.coalesce(func.sum(T.c.candidate_tokens + T.c.thought_tokens), 0),
            func.coalesce(func.sum(T.c.cost), 0.0),
            func.coalesce(func.sum(T.c.standard_cost), 0.0),
        )
        .where(T.c.at >= since)
        .group_by(group)
        .order_by(group)
    )
    if until is not None:
        query = query.where(T.c.at < until)
    return [
        SpendRow(str(g), int(n), int(e or 0), int(p), int(c), int(o), float(cost), float(std))
        for g, n, e, p, c, o, cost, std in session.execute(query)
    ]


def windows(session: Session, *, since: float) -> list[CallWindow]:
    query = (
        select(
            T.c.model,
            T.c.tier_asked,
            func.count(),
            func.coalesce(func.sum(T.c.prompt_tokens), 0),
            func.sum(case((T.c.status == 429, 1), else_=0)),
            func.sum(case((T.c.status == 503, 1), else_=0)),
        )
        # Operations naming no model (files, cache updates) count against no model's limits.
        .where(T.c.at >= since, T.c.batch.is_(False), T.c.model != "")
        .group_by(T.c.model, T.c.tier_asked)
        .order_by(T.c.model, T.c.tier_asked)
    )
    return [
        CallWindow(m, t, int(n), int(p), int(q or 0), int(u or 0))
        for m, t, n, p, q, u in session.execute(query)
    ]


def per_minute(
    session: Session, *, model: str, tier: str, since: float, minutes: int
) -> list[int]:
    """Requests per minute for one (model, tier) over the last `minutes`, oldest first."""
    bucket = func.cast((T.c.at - since) / 60, T.c.attempt.type).label("bucket")
    query = (
        select(bucket, func.count())
        .where(T.c.at >= since, T.c.model == model, T.c.tier_asked == tier)
        .group_by(bucket)
    )
    counts = [0] * minutes
    for index, n in session.execute(query):
        if 0 <= index < minutes:
            counts[int(index)] = int(n)
    return counts


def hit_rates(
    session: Session, *, since: float, by: Literal["model", "prefix"] = "model"
) -> list[HitRate]:
    kind = case((T.c.cached_content.is_not(None), "explicit"), else_="implicit").label("kind")
    group = (T.c.model if by == "model" else func.coalesce(T.c.prefix_hash, "-")).label("grp")
    query = (
        select(
            group,
            kind,
            func.count(),
            func.coalesce(func.sum(T.c.prompt_tokens), 0),
            func.coalesce(func.sum(T.c.cached_tokens), 0),
            func.coalesce(func.sum(T.c.standard_cost - T.c.cost), 0.0),
        )
        .where(T.c.at >= since, T.c.status == 200, T.c.batch.is_(False))
        .group_by(group, kind)
        .order_by(group, kind)
    )
    return [
        HitRate(str(g), k, int(n), int(p), int(c), float(s))
        for g, k, n, p, c, s in session.execute(query)
    ]
