"""Explicit context caches: create / extend / delete with every check made before anything is
sent, and what each cache costs (storage) and saves (cached input); implicit and explicit hit
rates from the ledger.

Token counting: a cache below the model's minimum is refused by the API only after its files
were uploaded, so the count comes first. It is made with countTokens (free, stores nothing,
and the same counter the API applies to the cache), sending the files inline rather than
through the Files API; only files beyond the inline budget are estimated locally (text at 4
characters a token, 258 tokens per image and per PDF page). The minimum is the price table's
`cache_min_tokens`, so a price file can follow Google when it changes.
"""

from __future__ import annotations

import math
import mimetypes
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from console.services import render
from console.services.errors import GatewayError
from console.services.pricing import (
    LONG_CONTEXT_THRESHOLD,
    TOKENS_PER_RATE_UNIT,
    ModelPrice,
    PriceTable,
    UnknownModelPrice,
    storage_cost,
)
from console.services.remote import RemoteFile
from console.services.sync import is_unreachable
from console.services.workspace import Workspace
from store.records import CachedContent, CacheUsage
from store.repos import caches, files

# Gemini reads these as text; anything else that decodes as UTF-8 is sent as text/plain.
TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/jsonl",
        "application/rtf",
        "application/x-javascript",
        "application/x-python-code",
        "application/x-typescript",
        "application/xml",
    }
)
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})
PDF = "application/pdf"
_EXTRA_TYPES = {".md": "text/markdown", ".jsonl": "application/jsonl", ".ts": "text/x-typescript"}

MAX_FILE_BYTES = 2 * 1024**3  # the Files API's per-file limit
# countTokens takes files inline up to the request limit (20 MB, base64 included); beyond
# this budget a file's tokens are estimated instead of counted.
INLINE_COUNT_BYTES = 14 * 1024 * 1024
CHARS_PER_TOKEN = 4
MEDIA_TOKENS = 258  # an image, or a PDF page
HIT_WINDOW_S = 7 * 86_400
# The API says 403 (not 404) for a cache that expired or never existed.
GONE_STATUSES = frozenset({403, 404})

# What the API accepts: a TTL is a protobuf Duration (at most 315,576,000,000 s) and the expiry
# it gives a protobuf Timestamp (before the year 10000); a longer one is refused remotely.
MAX_DURATION_S = 315_576_000_000
MAX_EXPIRY = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
_TTL_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_TTL_UNITS = {"d": 86_400, "h": 3600, "m": 60, "s": 1}
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


class CacheError(Exception):
    """A cache operation that cannot go ahead; the message is for a person."""


class CacheInputError(CacheError):
    """The request itself is wrong (no such file, unsupported type, bad TTL, ...)."""


class CacheTooSmall(CacheError):
    def __init__(self, check: TokenCheck) -> None:
        self.check = check
        approx = "about " if check.estimated_tokens else ""
        super().__init__(
            f"too small to cache: {approx}{check.tokens:,} tokens, but {check.model} needs at "
            f"least {check.minimum:,} — nothing was uploaded or created"
        )


class CacheGone(CacheError):
    """The cache no longer exists remotely (expired, or deleted elsewhere)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name} no longer exists (expired or deleted elsewhere)")


# -- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CacheDraft:
    """What a person asked to cache: files and/or a system instruction, for a model and TTL."""

    model: str
    ttl_s: float
    files: tuple[Path, ...] = ()
    system_instruction: str = ""
    display_name: str = ""


@dataclass(frozen=True)
class DraftFile:
    path: Path
    mime_type: str
    size: int
    estimate: int


@dataclass(frozen=True)
class TokenCheck:
    model: str
    tokens: int
    minimum: int
    # The part of `tokens` that was estimated locally rather than counted by the API.
    estimated_tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.tokens >= self.minimum


def parse_ttl(text: str, *, now: float | None = None) -> float:
    """`90m`, `1h30m`, `2d`, `3600s` or bare seconds -> seconds (positive, and no longer than
    the API accepts: see MAX_DURATION_S / MAX_EXPIRY)."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise CacheInputError("give a TTL, e.g. 1h, 90m, 3600s")
    try:
        seconds = float(cleaned)
    except ValueError:
        parts = _TTL_PART.findall(cleaned)
        if not parts or "".join(n + u for n, u in parts) != cleaned:
            raise CacheInputError(
                f"{text!r} is not a duration; use e.g. 1h, 90m, 1h30m, 3600s"
            ) from None
        seconds = sum(float(n) * _TTL_UNITS[u] for n, u in parts)
    if not math.isfinite(seconds) or seconds <= 0:
        raise CacheInputError(f"the TTL must be positive (got {text!r})")
    limit = min(MAX_DURATION_S, MAX_EXPIRY - (time.time() if now is None else now))
    if seconds > limit:
        raise CacheInputError(
            f"{text!r} is longer than the API accepts: at most {int(limit):,}s "
            "(the expiry must fall before the year 10000)"
        )
    return seconds


def mime_type_of(path: Path) -> str | None:
    """The type the file is sent as, or None when Gemini cannot cache it."""
    guessed = _EXTRA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    if guessed and (guessed.startswith("text/") or guessed in TEXT_TYPES):
        return guessed
    if guessed in IMAGE_TYPES or guessed == PDF:
        return guessed
    try:
        with path.open("rb") as handle:
            handle.read(64 * 1024).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def _is_text(mime: str) -> bool:
    return mime.startswith("text/") or mime in TEXT_TYPES


def _not_utf8_at(path: Path) -> tuple[int, int] | None:
    """(offset, byte) of the first byte that is not UTF-8, or None when it all decodes."""
    carry, offset = b"", 0  # offset: where `carry` starts in the file
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(1024 * 1024)
            data = carry + chunk
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as error:
                # A sequence cut by the chunk's end is finished by the next chunk.
                if chunk and error.reason == "unexpected end of data":
                    carry = data[error.start:]
                    offset += error.start
                    continue
                return offset + error.start, data[error.start]
            if not chunk:
                return None
            offset += len(data)


def estimate_file_tokens(path: Path, mime_type: str, size: int) -> int:
    if mime_type in IMAGE_TYPES:
        return MEDIA_TOKENS
    if mime_type == PDF:
        return MEDIA_TOKENS * max(1, _pdf_pages(path))
    return math.ceil(size / CHARS_PER_TOKEN)


def _pdf_pages(path: Path) -> int:
    pages, tail = 0, b""
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            window = tail + chunk
            pages += len(_PDF_PAGE.findall(window)) - len(_PDF_PAGE.findall(tail))
            tail = window[-32:]
    return pages


def inspect_files(paths: Sequence[Path]) -> list[DraftFile]:
    """Each file checked (exists, readable, a type Gemini caches, within the size limit);
    every problem is reported at once."""
    found, problems = [], []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            problems.append(f"{path}: is a folder; give its files (e.g. -f {path}/*.txt)")
            continue
        if not path.is_file():
            problems.append(f"{path}: no such file")
            continue
        try:
            size = path.stat().st_size
            mime = mime_type_of(path)
        except OSError as error:
            problems.append(f"{path}: cannot read ({error.strerror or error})")
            continue
        bad_byte = _not_utf8_at(path) if mime is not None and _is_text(mime) else None
        if mime is None:
            problems.append(f"{path}: not text, PDF or an image (PNG, JPEG, WebP, HEIC)")
        elif bad_byte is not None:
            problems.append(
                f"{path}: text that is not UTF-8 (byte 0x{bad_byte[1]:02x} at offset "
                f"{bad_byte[0]:,}); Gemini reads text as UTF-8, so convert it first, "
                f"e.g. iconv -f latin1 -t utf-8"
            )
        elif size == 0:
            problems.append(f"{path}: the file is empty")
        elif size > MAX_FILE_BYTES:
            problems.append(f"{path}: {size:,} bytes is over the Files API's 2 GB limit")
        else:
            found.append(DraftFile(path, mime, size, estimate_file_tokens(path, mime, size)))
    if problems:
        raise CacheInputError("; ".join(problems))
    return found


def estimate_tokens(system_instruction: str, draft_files: Sequence[DraftFile]) -> int:
    """A local estimate (no API call), for showing as a person composes a cache."""
    text = math.ceil(len(system_instruction.strip()) / CHARS_PER_TOKEN)
    return text + sum(f.estimate for f in draft_files)


# -- prices ------------------------------------------------------------------------------


def price_table(ws: Workspace) -> PriceTable:
    if ws.connected:
        return ws.gateway.prices
    return PriceTable.load(ws.settings.prices.file)


def cache_models(ws: Workspace) -> list[str]:
    """Models a cache can be made for (image-output models cannot hold one)."""
    names = [name for name, p in price_table(ws).models.items() if p.image_output is None]
    default = ws.settings.gemini.default_model
    return sorted(names, key=lambda n: (n != default, n))


def minimum_tokens(ws: Workspace, model: str) -> int:
    try:
        return price_table(ws).for_model(model).cache_min_tokens
    except UnknownModelPrice as error:
        raise CacheInputError(str(error)) from None


def cache_saving(price: ModelPrice, cached_tokens: int, long_cached_tokens: int = 0) -> float:
    """What the cached tokens would have cost more at the full input rate (standard tier)."""
    short = cached_tokens - long_cached_tokens
    saved = short * (price.input_rate(False) - price.cache_read_rate(False))
    saved += long_cached_tokens * (price.input_rate(True) - price.cache_read_rate(True))
    return saved / TOKENS_PER_RATE_UNIT


# -- the caches table --------------------------------------------------------------------


@dataclass(frozen=True)
class CacheView:
    """One live cache with its storage price and what the ledger says it was used for."""

    cache: CachedContent
    # None when the price table does not know the model.
    per_hour: float | None
    usage: CacheUsage | None
    saved: float

    @property
    def name(self) -> str:
        return self.cache.name

    @property
    def calls(self) -> int:
        return self.usage.calls if self.usage else 0

    def hours_stored(self, now: float) -> float:
        c = self.cache
        if c.created_at is None:
            return 0.0
        end = min(now, c.expires_at) if c.expires_at is not None else now
        return max(0.0, end - c.created_at) / 3600

    def storage_so_far(self, now: float) -> float | None:
        return None if self.per_hour is None else self.per_hour * self.hours_stored(now)

    def storage_until_expiry(self, now: float) -> float | None:
        c = self.cache
        if self.per_hour is None or c.expires_at is None:
            return None
        return self.per_hour * max(0.0, c.expires_at - now) / 3600

    def expires_in(self, now: float) -> float | None:
        return None if self.cache.expires_at is None else self.cache.expires_at - now


def cache_views(ws: Workspace) -> list[CacheView]:
    table = price_table(ws)
    with ws.session() as session:
        live = caches.active(session, now=ws.clock())
        used = caches.usage(
            session, [c.name for c in live], long_context_threshold=LONG_CONTEXT_THRESHOLD
        )
    views = []
    for cache in live:
        usage = used.get(cache.name)
        try:
            price = table.for_model(cache.model)
        except UnknownModelPrice:
            views.append(CacheView(cache, None, usage, 0.0))
            continue
        per_hour = storage_cost(table, price.name, cache.total_tokens, 1.0)
        saved = cache_saving(price, usage.cached_tokens, usage.long_cached_tokens) if usage else 0.0
        views.append(CacheView(cache, per_hour, usage, saved))
    return views


def active_caches(ws: Workspace) -> list[CachedContent]:
    with ws.session() as session:
        return caches.active(session, now=ws.clock())


def resolve(ws: Workspace, ref: str) -> CachedContent:
    """A cache by resource name, bare id or display name, from the mirror."""
    with ws.session() as session:
        found = caches.find(session, ref)
    if not found:
        raise CacheInputError(f"no cache called {ref!r} (try `gemops caches list`)")
    if len(found) > 1:
        names = ", ".join(c.name for c in found)
        raise CacheInputError(f"{ref!r} names {len(found)} caches ({names}); give the name")
    return found[0]


# -- hit rates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HitRow:
    """Cache hits of one group of online calls, implicit or explicit, and what they saved."""

    group: str
    kind: str
    models: tuple[str, ...]
    calls: int
    prompt_tokens: int
    cached_tokens: int
    saved: float
    last_at: float | None

    @property
    def rate(self) -> float:
        return self.cached_tokens / self.prompt_tokens if self.prompt_tokens else 0.0


def hit_rates(
    ws: Workspace, *, by: Literal["model", "prefix"] = "model", since: float | None = None
) -> list[HitRow]:
    """Hit rate (cached ÷ prompt tokens) per model or prompt-prefix group, implicit and
    explicit apart, with the input cost the hits saved at standard rates."""
    table = price_table(ws)
    since = ws.clock() - HIT_WINDOW_S if since is None else since
    with ws.session() as session:
        groups = caches.hit_groups(
            session, since=since, by=by, long_context_threshold=LONG_CONTEXT_THRESHOLD
        )
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for g in groups:
        row = merged.setdefault(
            (g.group, g.kind),
            {"models": [], "calls": 0, "prompt": 0, "cached": 0, "saved": 0.0, "last": None},
        )
        row["models"].append(g.model)
        row["calls"] += g.calls
        row["prompt"] += g.prompt_tokens
        row["cached"] += g.cached_tokens
        try:
            row["saved"] += cache_saving(
                table.for_model(g.model), g.cached_tokens, g.long_cached_tokens
            )
        except UnknownModelPrice:
            pass
        if g.last_at is not None:
            row["last"] = g.last_at if row["last"] is None else max(row["last"], g.last_at)
    rows = [
        HitRow(group, kind, tuple(r["models"]), r["calls"], r["prompt"], r["cached"],
               r["saved"], r["last"])
        for (group, kind), r in merged.items()
    ]
    if by == "prefix":
        # The biggest prompt groups first: that is where structure pays.
        rows.sort(key=lambda r: (-r.prompt_tokens, r.group, r.kind))
    return rows


def hit_advice(ws: Workspace, rows: Sequence[HitRow]) -> str | None:
    """One sentence when implicit caching misses where it could hit, else None."""
    table = price_table(ws)
    for row in rows:
        if row.kind != "implicit" or row.calls < 5 or row.rate >= 0.25:
            continue
        try:
            minimum = table.for_model(row.models[0]).cache_min_tokens
        except UnknownModelPrice:
            continue
        if row.prompt_tokens / row.calls < minimum:
            continue
        return (
            f"{row.group}: only {row.rate:.0%} of prompt tokens hit the implicit cache — put "
            "the shared part (system instruction, documents) first, byte-identical, and the "
            "part that varies last"
        )
    return None


# -- create / extend / delete ------------------------------------------------------------

Progress = Callable[[str, int, int], None]


def validate(ws: Workspace, draft: CacheDraft) -> list[DraftFile]:
    """Everything that can be checked without the API; raises CacheInputError."""
    if not draft.files and not draft.system_instruction.strip():
        raise CacheInputError("nothing to cache: add a file or a system instruction")
    if draft.ttl_s <= 0:
        raise CacheInputError("the TTL must be positive")
    minimum_tokens(ws, draft.model)
    return inspect_files(draft.files)


def count_tokens(ws: Workspace, draft: CacheDraft, draft_files: Sequence[DraftFile]) -> TokenCheck:
    """The cache's size as the API counts it (countTokens), before anything is stored."""
    parts: list[dict[str, Any]] = []
    estimated, budget = 0, INLINE_COUNT_BYTES
    for f in draft_files:
        if f.size <= budget:
            parts.append({"inline_data": {"mime_type": f.mime_type, "data": f.path.read_bytes()}})
            budget -= f.size
        else:
            estimated += f.estimate
    contents = []
    if draft.system_instruction.strip():
        # countTokens takes no system instruction on this API; its text counts the same.
        contents.append({"role": "user", "parts": [{"text": draft.system_instruction}]})
    if parts:
        contents.append({"role": "user", "parts": parts})
    counted = ws.gateway.run(ws.gateway.count_tokens(draft.model, contents)) if contents else 0
    return TokenCheck(draft.model, counted + estimated, minimum_tokens(ws, draft.model), estimated)


def create(ws: Workspace, draft: CacheDraft, progress: Progress | None = None) -> CachedContent:
    """Validate, count, upload (Files API), create; the new cache is in SQLite on return.
    Files uploaded for a cache that then failed are deleted again."""
    report = progress or (lambda _text, _done, _total: None)
    draft_files = validate(ws, draft)
    total = len(draft_files) + 2
    report("counting tokens", 0, total)
    check = count_tokens(ws, draft, draft_files)
    if not check.ok:
        raise CacheTooSmall(check)
    gateway = ws.gateway
    uploaded: list[RemoteFile] = []
    try:
        for i, f in enumerate(draft_files, start=1):
            report(f"uploading {f.path.name} ({i}/{len(draft_files)}, {render.size(f.size)})", i, total)
            remote = gateway.run(gateway.upload_file(f.path, mime_type=f.mime_type))
            uploaded.append(remote)
            if remote.state == "FAILED":
                raise CacheError(f"{f.path.name}: the Files API could not process it")
            with ws.session() as session:
                files.upsert_one(session, remote.row(), now=ws.clock())
        report("creating cache", total - 1, total)
        config: dict[str, Any] = {"ttl": f"{draft.ttl_s:.0f}s"}
        if draft.display_name.strip():
            config["display_name"] = draft.display_name.strip()
        if draft.system_instruction.strip():
            config["system_instruction"] = draft.system_instruction
        if uploaded:
            config["contents"] = [
                {
                    "role": "user",
                    "parts": [
                        {"file_data": {"file_uri": r.uri, "mime_type": r.mime_type}}
                        for r in uploaded
                    ],
                }
            ]
        created = gateway.run(gateway.create_cache(draft.model, config))
    except BaseException:
        _forget_uploads(ws, uploaded)
        raise
    row = created.row()
    with ws.session() as session:
        caches.upsert_one(session, row, now=ws.clock())
        record = caches.get(session, row["name"])
    report("created", total, total)
    assert record is not None
    return record


def _forget_uploads(ws: Workspace, uploaded: Sequence[RemoteFile]) -> None:
    gateway = ws.gateway
    for remote in uploaded:
        try:
            gateway.run(gateway.delete_file(remote.name))
        except Exception:  # best effort: an orphan file expires by itself after 48 h
            continue
        with ws.session() as session:
            files.mark_gone(session, remote.name, now=ws.clock())


def extend(
    ws: Workspace, name: str, *, by_s: float | None = None, ttl_s: float | None = None
) -> CachedContent:
    """Push the expiry `by_s` past its current value (read fresh from the API, so nothing
    another client did is undone), or set it to `ttl_s` from now."""
    amount = by_s if by_s is not None else ttl_s
    if amount is None or (by_s is not None and ttl_s is not None):
        raise CacheInputError("give either an extension or a new TTL")
    if amount <= 0:
        raise CacheInputError("the extension must be positive")
    gateway = ws.gateway
    if by_s is not None:
        current = _gone_aware(ws, name, lambda: gateway.run(gateway.get_cache(name)))
        expires = current.expires_at or ws.clock()
        config: dict[str, Any] = {"expire_time": datetime.fromtimestamp(expires + by_s, UTC)}
    else:
        config = {"ttl": f"{ttl_s:.0f}s"}
    updated = _gone_aware(ws, name, lambda: gateway.run(gateway.update_cache(name, config)))
    row = updated.row()
    with ws.session() as session:
        caches.upsert_one(session, row, now=ws.clock())
        record = caches.get(session, row["name"])
    assert record is not None
    return record


def delete(ws: Workspace, name: str) -> None:
    """Delete remotely and mark gone here. A cache already gone is marked gone too, and
    CacheGone says so."""
    gateway = ws.gateway
    _gone_aware(ws, name, lambda: gateway.run(gateway.delete_cache(name)))
    with ws.session() as session:
        caches.mark_gone(session, name, now=ws.clock())


def _gone_aware(ws: Workspace, name: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except GatewayError as error:
        if error.status in GONE_STATUSES:
            with ws.session() as session:
                caches.mark_gone(session, name, now=ws.clock())
            raise CacheGone(name) from error
        raise


def describe_error(error: BaseException) -> str:
    """A failed cache operation in one line for a person (flash line, CLI)."""
    if isinstance(error, GatewayError):
        return _describe_gateway_error(error)
    if isinstance(error, CacheError):
        return str(error)
    if is_unreachable(error):
        return f"cannot reach the API ({type(error).__name__}: {error})"
    return f"{type(error).__name__}: {error}"


def _describe_gateway_error(error: GatewayError) -> str:
    what = error.operation.replace("_", " ")
    if error.status == 429:
        wait = f"; retry in {math.ceil(error.retry_delay_s)}s" if error.retry_delay_s else ""
        return f"{what}: rate limited (429){wait} — {error.message}"
    if error.status is None:
        return f"{what}: cannot reach the API ({error.message})"
    return f"{what}: HTTP {error.status} — {error.message}"
