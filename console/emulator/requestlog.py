"""The bounded request log behind `GET /_emulator/requests` (never records API keys)."""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

from starlette.requests import Request

_SECRET_PARAMS = frozenset({"key", "api_key", "access_token"})


class RequestLog:
    def __init__(self, size: int) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._ids = itertools.count(1)

    def open(self, request: Request, operation: str, now: float) -> dict[str, Any]:
        scope = request.scope
        raw_query = scope.get("query_string", b"")
        query = (
            {k: v for k, v in request.query_params.items() if k not in _SECRET_PARAMS}
            if raw_query
            else {}
        )
        entry = {
            "id": next(self._ids),
            "time": now,
            "method": scope["method"],
            "path": scope["path"],
            "query": query,
            "operation": operation,
            "model": None,
            "tier_requested": None,
            "tier_served": None,
            "status": None,
        }
        self.entries.append(entry)
        return entry

    def query(
        self,
        *,
        operation: str | None = None,
        model: str | None = None,
        since_id: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        rows = [
            e
            for e in list(self.entries)
            if e["id"] > since_id
            and (operation is None or e["operation"] == operation)
            and (model is None or e["model"] == model)
        ]
        return rows[-limit:] if limit else rows

    def clear(self) -> None:
        self.entries.clear()
