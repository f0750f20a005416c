"""Logged interactions: batched inserts, filtered pages and totals, and streaming reads for export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import and_, exists, func, insert, literal, or_, select, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from store.records import Interaction, InteractionFilter, InteractionTotals
from store.tables import InteractionLabelRow, InteractionRow

T = InteractionRow.__table__
L = InteractionLabelRow.__table__

# Rows fetched per round trip while streaming: big enough to amortise the fetch, small enough
# that memory stays flat whatever the table holds.
STREAM_CHUNK = 2_000
# Column order of `stream()` tuples.
EXPORT_COLUMNS = (
    "id", "at", "model", "tier", "source", "prompt_tokens", "output_tokens", "thought_tokens",
    "cost", "system_instruction", "contents_json", "response_text",
)  # fmt: skip


def insert_many(
    session: Session, rows: Sequence[dict[str, Any]], labels: Sequence[dict[str, str]]
) -> list[int]:
    """Insert interactions (column dicts) with their labels (one dict per row); return the ids
    in the order given."""
    if len(rows) != len(labels):
        raise ValueError(f"{len(rows)} interactions but {len(labels)} label sets")
    if not rows:
        return []
    ids = list(
        session.execute(
            insert(T).returning(T.c.id, sort_by_parameter_order=True), list(rows)
        ).scalars()
    )
    label_rows = [
        {"interaction_id": iid, "key": key, "value": value}
        for iid, pairs in zip(ids, labels, strict=True)
        for key, value in pairs.items()
    ]
    if label_rows:
        session.execute(insert(L), label_rows)
    return ids


def _conditions(flt: InteractionFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for key, value in flt.labels:
        # Correlated, so a newest-first page walks the time index and stops once it is full;
        # each check is one probe of the labels' primary key.
        conditions.append(
            exists().where(L.c.interaction_id == T.c.id, L.c.key == key, L.c.value == value)
        )
    if flt.models:
        conditions.append(T.c.model.in_(flt.models))
    if flt.sources:
        conditions.append(T.c.source.in_(flt.sources))
    if flt.since is not None:
        conditions.append(T.c.at >= flt.since)
    if flt.until is not None:
        conditions.append(T.c.at < flt.until)
    if flt.text:
        pattern = "%" + flt.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                T.c.contents_json.like(pattern, escape="\\"),
                T.c.response_text.like(pattern, escape="\\"),
                T.c.system_instruction.like(pattern, escape="\\"),
            )
        )
    return conditions


def _where(flt: InteractionFilter | None) -> list[ColumnElement[bool]]:
    return _conditions(flt) if flt is not None else []


def _labels_of(session: Session, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    labels: dict[int, dict[str, str]] = {}
    if ids:
        query = select(L.c.interaction_id, L.c.key, L.c.value).where(L.c.interaction_id.in_(ids))
        for iid, key, value in session.execute(query):
            labels.setdefault(iid, {})[key] = value
    return labels


def page(
    session: Session,
    flt: InteractionFilter | None = None,
    *,
    limit: int = 200,
    before: tuple[float, int] | None = None,
) -> list[Interaction]:
    """The newest interactions matching `flt`, newest first; `before` (the last row's `at`
    and `id`) pages further back. The (model|source, at) indexes serve this without a sort."""
    query = (
        select(T).where(*_where(flt)).order_by(T.c.at.desc(), T.c.id.desc()).limit(limit)
    )
    if before is not None:
        at, iid = before
        query = query.where(or_(T.c.at < at, and_(T.c.at == at, T.c.id < iid)))
    rows = session.execute(query).all()
    labels = _labels_of(session, [r.id for r in rows])
    return [Interaction(**r._mapping, labels=labels.get(r.id, {})) for r in rows]


def newest_id(session: Session) -> int | None:
    """The last interaction's id: cheap, so a view can tell whether anything was logged since."""
    return session.execute(select(func.max(T.c.id))).scalar_one()


def get(session: Session, interaction_id: int) -> Interaction | None:
    row = session.execute(select(T).where(T.c.id == interaction_id)).first()
    if row is None:
        return None
    return Interaction(**row._mapping, labels=_labels_of(session, [row.id]).get(row.id, {}))


def totals(session: Session, flt: InteractionFilter | None = None) -> InteractionTotals:
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(T.c.prompt_tokens), 0),
            func.coalesce(func.sum(T.c.output_tokens), 0),
            func.coalesce(func.sum(T.c.thought_tokens), 0),
            func.coalesce(func.sum(T.c.cost), 0.0),
        ).where(*_where(flt))
    ).one()
    return InteractionTotals(int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4]))


def count(session: Session, flt: InteractionFilter | None = None) -> int:
    return session.execute(select(func.count()).select_from(T).where(*_where(flt))).scalar_one()


# Each distinct value by one index probe per value rather than a walk of the whole index.
_DISTINCT = """
WITH RECURSIVE found(v) AS (
    SELECT min({column}) FROM interactions
    UNION ALL
    SELECT (SELECT min({column}) FROM interactions WHERE {column} > found.v)
    FROM found WHERE found.v IS NOT NULL
)
SELECT v FROM found WHERE v IS NOT NULL
"""


def distinct_values(session: Session) -> dict[str, list[str]]:
    """What there is to filter on: the models and sources present, sorted."""
    return {
        key: list(session.execute(text(_DISTINCT.format(column=column))).scalars())
        for key, column in (("models", "model"), ("sources", "source"))
    }


# Between one label and the next in `stream(with_labels=True)`: a byte no label text holds.
LABEL_SEPARATOR = "\x1f"


def _labels_text(session: Session):
    """Every label of an interaction as `k=v` items joined by LABEL_SEPARATOR, in no particular
    order, as a correlated scalar subquery."""
    pair = L.c.key + literal("=") + L.c.value
    if session.get_bind().dialect.name == "postgresql":
        joined = func.string_agg(pair, literal(LABEL_SEPARATOR))
    else:
        joined = func.group_concat(pair, literal(LABEL_SEPARATOR))
    return select(joined).where(L.c.interaction_id == T.c.id).scalar_subquery()


def stream(
    session: Session,
    flt: InteractionFilter | None = None,
    *,
    with_labels: bool = False,
    chunk: int | None = None,
) -> Iterator[Sequence[Any]]:
    """Every interaction matching `flt`, oldest first, in lists of at most `chunk` rows (rows are
    indexed like tuples: `EXPORT_COLUMNS`, then the labels when asked). Rows are
    fetched a chunk at a time, on a server-side cursor where the database has one, so memory
    stays flat whatever the number of rows."""
    columns = [T.c[name] for name in EXPORT_COLUMNS]
    if with_labels:
        columns.append(_labels_text(session))
    query = select(*columns).where(*_where(flt)).order_by(T.c.id)
    connection = session.connection().execution_options(yield_per=chunk or STREAM_CHUNK)
    result = connection.execute(query)
    try:
        yield from result.partitions()
    finally:
        result.close()
