"""The remote -> SQLite mirror: one `tick()` lists caches, batch jobs and files and upserts
them in one transaction; rows that vanished remotely are marked gone, never deleted."""

from __future__ import annotations

import asyncio
import time
import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.services.workspace import Workspace
from store.repos import batches, caches, files, sync_state

# The wire says BATCH_STATE_*; the SDK (and everything else in gemops) says JOB_STATE_*.
_STATE_PREFIX = "BATCH_STATE_"


@dataclass(frozen=True)
class TickResult:
    at: float
    error: str | None
    caches: int = 0
    batches: int = 0
    files: int = 0
    gone: int = 0
    duration_ms: float = 0.0


def parse_time(text: str | None) -> float | None:
    if not text:
        return None
    # RFC 3339 with up to nanoseconds; Python keeps microseconds.
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


def cache_row(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": raw["name"],
        "display_name": raw.get("displayName") or "",
        "model": (raw.get("model") or "").removeprefix("models/"),
        "total_tokens": _int((raw.get("usageMetadata") or {}).get("totalTokenCount")),
        "created_at": parse_time(raw.get("createTime")),
        "updated_at": parse_time(raw.get("updateTime")),
        "expires_at": parse_time(raw.get("expireTime")),
    }


def batch_row(raw: dict[str, Any]) -> dict[str, Any]:
    meta = raw.get("metadata") or {}
    stats = meta.get("batchStats") or {}
    state = meta.get("state") or "BATCH_STATE_UNSPECIFIED"
    if state.startswith(_STATE_PREFIX):
        state = "JOB_STATE_" + state.removeprefix(_STATE_PREFIX)
    output = meta.get("output") or {}
    error = raw.get("error") or meta.get("error")
    return {
        "name": raw["name"],
        "display_name": meta.get("displayName") or "",
        "model": (meta.get("model") or "").removeprefix("models/"),
        "state": state,
        "created_at": parse_time(meta.get("createTime")),
        "updated_at": parse_time(meta.get("updateTime")),
        "ended_at": parse_time(meta.get("endTime")),
        "request_count": _int(stats.get("requestCount")),
        "succeeded_count": _int(stats.get("successfulRequestCount")),
        "failed_count": _int(stats.get("failedRequestCount")),
        "pending_count": _int(stats.get("pendingRequestCount")),
        "input_file": (meta.get("inputConfig") or {}).get("fileName"),
        "responses_file": output.get("responsesFile"),
        "error": (error or {}).get("message") if isinstance(error, dict) else None,
    }


def file_row(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": raw["name"],
        "display_name": raw.get("displayName") or "",
        "mime_type": raw.get("mimeType") or "",
        "size_bytes": _int(raw.get("sizeBytes")),
        "state": raw.get("state") or "",
        "source": raw.get("source") or "",
        "uri": raw.get("uri") or "",
        "download_uri": raw.get("downloadUri") or "",
        "sha256": raw.get("sha256Hash") or "",
        "created_at": parse_time(raw.get("createTime")),
        "expires_at": parse_time(raw.get("expirationTime")),
    }


async def _list_all(ws: Workspace) -> tuple[list, list, list]:
    gateway = ws.gateway
    return await asyncio.gather(
        gateway.raw_list("cachedContents"),
        gateway.raw_list("batches"),
        gateway.raw_list("files"),
    )


def sync_once(ws: Workspace) -> TickResult:
    """One tick, from any thread but the gateway's. Errors are recorded, not raised."""
    now = ws.clock()
    started = time.perf_counter()
    try:
        raw_caches, raw_batches, raw_files = ws.gateway.run(_list_all(ws))
        cache_rows = [cache_row(r) for r in raw_caches]
        batch_rows = [batch_row(r) for r in raw_batches]
        file_rows = [file_row(r) for r in raw_files]
        with ws.session() as session:
            gone = caches.mirror_remote(session, cache_rows, now=now)
            gone += batches.mirror_remote(session, batch_rows, now=now)
            gone += files.mirror_remote(session, file_rows, now=now)
            duration = (time.perf_counter() - started) * 1000
            sync_state.record_success(session, "all", at=now, duration_ms=duration)
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        if not isinstance(error, OSError) and "Gateway" not in type(error).__name__:
            message += "\n" + traceback.format_exc(limit=3)
        with ws.session() as session:
            sync_state.record_error(session, "all", at=now, error=message[:2000])
        return TickResult(at=now, error=message.splitlines()[0])
    return TickResult(
        at=now, error=None, caches=len(cache_rows), batches=len(batch_rows),
        files=len(file_rows), gone=gone, duration_ms=duration,
    )


def next_interval(ws: Workspace) -> float:
    """Steady cadence; faster while a batch runs; exponential back-off after errors."""
    s = ws.settings.sync
    with ws.session() as session:
        state = sync_state.get(session, "all")
        running = batches.running_count(session)
    if state and state.consecutive_errors:
        return min(s.max_backoff_s, s.interval_s * 2 ** min(state.consecutive_errors, 6))
    return s.fast_interval_s if running else s.interval_s
