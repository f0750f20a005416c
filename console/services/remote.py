"""What the gateway hands back about remote resources: our own frozen records, built here and
only here from either shape the API reaches us in — the SDK's typed objects (create, update,
upload, the public list pagers) or raw wire JSON (batch jobs, whose progress counters and
input file the SDK's BatchJob drops). Services turn a record into a mirror row with `row()`.

Light on purpose: no SDK import (not even for typing: only the gateway imports google.genai),
so services can type against these without loading it."""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

# The wire says BATCH_STATE_*; the SDK (and everything else in gemops) says JOB_STATE_*.
_STATE_PREFIX = "BATCH_STATE_"
PENDING = "JOB_STATE_PENDING"


@functools.lru_cache(maxsize=65_536)
def parse_time(text: str | None) -> float | None:
    """RFC 3339 (up to nanoseconds) -> Unix seconds. Memoised: a steady sync sees the same
    timestamps over and over."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        pass
    # Older forms fromisoformat refuses: trim the fraction to microseconds by hand.
    text = text.replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _stamp(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _enum_text(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def _model(value: str | None) -> str:
    return (value or "").removeprefix("models/")


class _Record:
    """`row()`: the record as its mirror table's row (every field but those marked extra)."""

    __slots__ = ()
    _EXTRA: tuple[str, ...] = ()

    def row(self) -> dict[str, Any]:
        cls = type(self)
        columns = _COLUMNS.get(cls)
        if columns is None:
            columns = _COLUMNS[cls] = tuple(
                f.name for f in fields(self) if f.name not in cls._EXTRA)  # type: ignore[arg-type]
        return {name: getattr(self, name) for name in columns}


_COLUMNS: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class RemoteCache(_Record):
    name: str
    display_name: str = ""
    model: str = ""
    total_tokens: int = 0
    created_at: float | None = None
    updated_at: float | None = None
    expires_at: float | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RemoteCache:
        return cls(
            name=raw["name"],
            display_name=raw.get("displayName") or "",
            model=_model(raw.get("model")),
            total_tokens=_int((raw.get("usageMetadata") or {}).get("totalTokenCount")),
            created_at=parse_time(raw.get("createTime")),
            updated_at=parse_time(raw.get("updateTime")),
            expires_at=parse_time(raw.get("expireTime")),
        )

    @classmethod
    def from_sdk(cls, cache: Any) -> RemoteCache:
        """An SDK CachedContent (create / get / update answers, the list pager's items)."""
        usage = cache.usage_metadata
        return cls(
            name=cache.name or "",
            display_name=cache.display_name or "",
            model=_model(cache.model),
            total_tokens=_int(usage.total_token_count if usage else 0),
            created_at=_stamp(cache.create_time),
            updated_at=_stamp(cache.update_time),
            expires_at=_stamp(cache.expire_time),
        )


@dataclass(frozen=True, slots=True)
class RemoteFile(_Record):
    name: str
    display_name: str = ""
    mime_type: str = ""
    size_bytes: int = 0
    state: str = ""
    source: str = ""
    uri: str = ""
    download_uri: str = ""
    sha256: str = ""
    created_at: float | None = None
    expires_at: float | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RemoteFile:
        return cls(
            name=raw["name"],
            display_name=raw.get("displayName") or "",
            mime_type=raw.get("mimeType") or "",
            size_bytes=_int(raw.get("sizeBytes")),
            state=raw.get("state") or "",
            source=raw.get("source") or "",
            uri=raw.get("uri") or "",
            download_uri=raw.get("downloadUri") or "",
            sha256=raw.get("sha256Hash") or "",
            created_at=parse_time(raw.get("createTime")),
            expires_at=parse_time(raw.get("expirationTime")),
        )

    @classmethod
    def from_sdk(cls, remote: Any) -> RemoteFile:
        """An SDK File (upload answers, the list pager's items)."""
        return cls(
            name=remote.name or "",
            display_name=remote.display_name or "",
            mime_type=remote.mime_type or "",
            size_bytes=_int(remote.size_bytes),
            state=_enum_text(remote.state),
            source=_enum_text(remote.source),
            uri=remote.uri or "",
            download_uri=remote.download_uri or "",
            sha256=remote.sha256_hash or "",
            created_at=_stamp(remote.create_time),
            expires_at=_stamp(remote.expiration_time),
        )


@dataclass(frozen=True, slots=True)
class RemoteBatch(_Record):
    name: str
    display_name: str = ""
    model: str = ""
    state: str = PENDING
    created_at: float | None = None
    updated_at: float | None = None
    ended_at: float | None = None
    request_count: int = 0
    succeeded_count: int = 0
    failed_count: int = 0
    pending_count: int = 0
    input_file: str | None = None
    responses_file: str | None = None
    error: str | None = None
    # Not mirrored: the raw inlined responses (wire JSON, written to results files as is).
    inlined_responses: tuple[dict[str, Any], ...] = ()

    _EXTRA = ("inlined_responses",)

    @property
    def cancelled(self) -> bool:
        return self.state == "JOB_STATE_CANCELLED"

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RemoteBatch:
        # The progress counters live in metadata.batchStats, which the SDK's BatchJob drops.
        meta = raw.get("metadata") or {}
        stats = meta.get("batchStats") or {}
        state = meta.get("state") or "BATCH_STATE_UNSPECIFIED"
        if state.startswith(_STATE_PREFIX):
            state = "JOB_STATE_" + state.removeprefix(_STATE_PREFIX)
        output = meta.get("output") or raw.get("response") or {}
        error = raw.get("error") or meta.get("error")
        inlined = (output.get("inlinedResponses") or {}).get("inlinedResponses") or ()
        return cls(
            name=raw["name"],
            display_name=meta.get("displayName") or "",
            model=_model(meta.get("model")),
            state=state,
            created_at=parse_time(meta.get("createTime")),
            updated_at=parse_time(meta.get("updateTime")),
            ended_at=parse_time(meta.get("endTime")),
            request_count=_int(stats.get("requestCount")),
            succeeded_count=_int(stats.get("successfulRequestCount")),
            failed_count=_int(stats.get("failedRequestCount")),
            pending_count=_int(stats.get("pendingRequestCount")),
            input_file=(meta.get("inputConfig") or {}).get("fileName"),
            responses_file=output.get("responsesFile"),
            error=(error or {}).get("message") if isinstance(error, dict) else None,
            inlined_responses=tuple(inlined),
        )

    @classmethod
    def from_sdk(cls, job: Any) -> RemoteBatch:
        """An SDK BatchJob (the create answer): it carries no counters and no input file."""
        dest = job.dest
        error = job.error
        return cls(
            name=job.name or "",
            display_name=job.display_name or "",
            model=_model(job.model),
            state=_enum_text(job.state) or PENDING,
            created_at=_stamp(job.create_time),
            updated_at=_stamp(job.update_time),
            ended_at=_stamp(job.end_time),
            responses_file=(dest.file_name if dest else None) or None,
            error=(error.message if error else None) or None,
        )

    def submitted(self, *, request_count: int, model: str) -> RemoteBatch:
        """A job just created, completed with what its submitter knows: every request is
        pending, and the model is the one asked for when the answer leaves it out."""
        return replace(self, model=self.model or _model(model), request_count=request_count,
                       pending_count=request_count, updated_at=self.updated_at or self.created_at)
