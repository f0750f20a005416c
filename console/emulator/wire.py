"""Wire helpers: camel/snake field access, timestamps, durations, ids, paging, JSON responses."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")
_snake_cache: dict[str, str] = {}
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def snake(camel: str) -> str:
    name = _snake_cache.get(camel)
    if name is None:
        name = _snake_cache[camel] = _SNAKE.sub("_", camel).lower()
    return name


def pick(obj: Any, camel: str, default: Any = None) -> Any:
    """Read a field by its camelCase name or its snake_case twin, as proto-JSON parsers do."""
    if obj.__class__ is not dict:
        return default
    value = obj.get(camel)
    if value is None:
        value = obj.get(_snake_cache.get(camel) or snake(camel))
    return default if value is None else value


def has(obj: dict, camel: str) -> bool:
    return camel in obj or snake(camel) in obj


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: str) -> float:
    """RFC 3339 with `Z` or an offset, any fraction length (nanoseconds are truncated)."""
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)s\s*$")


def parse_duration(value: Any) -> float | None:
    """`"3600s"` or `"1.5s"` -> seconds; None when the text is not a proto Duration."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value)
    return float(match.group(1)) if match else None


def new_id(length: int = 12) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def int64(value: int) -> str:
    """int64 fields travel as JSON strings in proto-JSON."""
    return str(int(value))


def page(items: list, query: Any, *, default_size: int, max_size: int) -> tuple[list, str | None]:
    """Slice one page; the token is an opaque offset and is never returned with an empty page."""
    raw_size = query.get("pageSize") or query.get("page_size")
    try:
        size = int(raw_size) if raw_size else default_size
    except ValueError:
        size = default_size
    size = max(1, min(size if size > 0 else default_size, max_size))
    token = query.get("pageToken") or query.get("page_token") or ""
    start = _decode_token(token)
    chunk = items[start : start + size]
    more = bool(chunk) and start + size < len(items)
    return chunk, (_encode_token(start + size) if more else None)


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        return max(0, int(text[1:])) if text.startswith("o") else 0
    except (ValueError, UnicodeDecodeError):
        return 0


class JSONBody(Response):
    """An orjson-encoded response; the API's lowercase `content-type` included."""

    media_type = "application/json; charset=UTF-8"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONBody:
    return JSONBody(body, status_code=status, headers=headers)
