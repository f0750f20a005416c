"""Mirrored explicit caches, and what the ledger says about their use and cache hits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from sqlalchemy import case, func, literal_column, or_, select, update
from sqlmodel import Session

from store.records import CachedContent, CacheUsage, HitGroup, record_from
from store.repos.mirror import mirror
from store.tables import CachedContentRow, LedgerEntry

T = CachedContentRow.__table__
L = LedgerEntry.__table__
PREFIX = "cachedContents/"


def mirror_remote(
    session: Session, rows: Sequence[dict[str, Any]], *, now: float, complete: bool = True
) -> int:
    return mirror(session, T, rows, now=now, complete=complete)


def upsert_one(session: Session, row: dict[str, Any], *, now: float) -> None:
    mirror(session, T, [row], now=now, complete=False)


def mark_gone(session: Session, name: str, *, now: float) -> None:
    session.execute(update(T).where(T.c.name == name, T.c.gone_at.is_(None)).values(gone_at=now))


def active(session: Session, *, now: float) -> list[CachedContent]:
    query = (
        select(T)
        .where(T.c.gone_at.is_(None))
        .where((T.c.expires_at.is_(None)) | (T.c.expires_at > now))
        .order_by(T.c.created_at.desc())
    )
    return [record_from(CachedContent, dict(r._mapping)) for r in session.execute(query)]


def get(session: Session, name: str) -> CachedContent | None:
    row = session.execute(select(T).where(T.c.name == name)).first()
    return record_from(CachedContent, dict(row._mapping)) if row else None


def find(session: Session, ref: str) -> list[CachedContent]:
    """Caches a person may mean by `ref`: the resource name, the bare id, or a display name.
    Live ones only, unless nothing live matches (a gone cache can still be looked up)."""
    ref = ref.strip()
    name = ref if ref.startswith(PREFIX) else PREFIX + ref
    query = select(T).where(or_(T.c.name == name, T.c.display_name == ref))
    found = [record_from(CachedContent, dict(r._mapping)) for r in session.execute(query)]
    exact = [c for c in found if c.name == name]
    if exact:
        return exact
    live = [c for c in found if c.gone_at is None]
    return live or found


def _ledger_keys(names: Iterable[str]) -> list[str]:
    # Callers name a cache either way ("cachedContents/x" or "x"); the ledger keeps what they sent.
    keys: list[str] = []
    for name in names:
        keys += [name, name.removeprefix(PREFIX)]
    return keys


def usage(
    session: Session, names: Sequence[str], *, long_context_threshold: int
) -> dict[str, CacheUsage]:
    """Successful calls that used each cache (any time), keyed by the cache's resource name."""
    if not names:
        return {}
    long_cached = case((L.c.prompt_tokens > long_context_threshold, L.c.cached_tokens), else_=0)
    totals: dict[str, list] = {}
    keys = _ledger_keys(names)
    for start in range(0, len(keys), 500):
        query = (
            select(
                L.c.cached_content,
                func.count(),
                func.coalesce(func.sum(L.c.prompt_tokens), 0),
                func.coalesce(func.sum(L.c.cached_tokens), 0),
                func.coalesce(func.sum(long_cached), 0),
                func.coalesce(func.sum(L.c.cost), 0.0),
                func.max(L.c.at),
            )
            .where(L.c.cached_content.in_(keys[start : start + 500]), L.c.status == 200)
            .group_by(L.c.cached_content)
        )
        for key, calls, prompt, cached, long_, cost, last in session.execute(query):
            name = key if key.startswith(PREFIX) else PREFIX + key
            sums = totals.setdefault(name, [0, 0, 0, 0, 0.0, None])
            for i, value in enumerate((calls, prompt, cached, long_, cost)):
                sums[i] += value
            sums[5] = last if sums[5] is None else max(sums[5], last)
    return {
        name: CacheUsage(name, int(c), int(p), int(k), int(lc), float(cost), last)
        for name, (c, p, k, lc, cost, last) in totals.items()
    }


def hit_groups(
    session: Session,
    *,
    since: float,
    by: Literal["model", "prefix"],
    long_context_threshold: int,
) -> list[HitGroup]:
    """Prompt and cached tokens of successful online calls since `since`, per group, kind
    (explicit when the call named a cache, otherwise implicit) and model."""
    kind = case(
        (L.c.cached_content.is_not(None), literal_column("'explicit'")),
        else_=literal_column("'implicit'"),
    ).label("kind")
    group = (L.c.model if by == "model" else func.coalesce(L.c.prefix_hash, "-")).label("grp")
    long_cached = case((L.c.prompt_tokens > long_context_threshold, L.c.cached_tokens), else_=0)
    query = (
        select(
            group,
            kind,
            L.c.model,
            func.count(),
            func.coalesce(func.sum(L.c.prompt_tokens), 0),
            func.coalesce(func.sum(L.c.cached_tokens), 0),
            func.coalesce(func.sum(long_cached), 0),
            func.max(L.c.at),
        )
        # Batch results are left out: a batch request's cache is not recorded per row.
        .where(
            L.c.at >= since,
            L.c.status == 200,
            L.c.operation == "generate",
            L.c.batch.is_(False),
        )
        .group_by(group, kind, L.c.model)
        .order_by(group, kind, L.c.model)
    )
    return [
        HitGroup(str(g), k, m, int(n), int(p), int(c), int(lc), last)
        for g, k, m, n, p, c, lc, last in session.execute(query)
    ]
