"""Structured output: a JSON value that validates against a response schema, chosen by a hash
of the prompt text (pure: schema + seed text -> JSON text).

Both schema dialects the SDK sends are read: `responseSchema` (the OpenAPI subset, upper-case
types, `nullable`, and snake_case keys such as `min_items`, `any_of`, `property_ordering` as
`t_schema` leaves them) and `responseJsonSchema` (JSON Schema with `$defs`/`$ref`, `anyOf`,
type lists with "null", `const`). Same schema + same seed -> the same text, on any machine.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from console.emulator.wire import pick

__all__ = ["generate", "prompt_text", "value_for"]

_WORDS = ["answer", "clear", "grounded", "short", "useful", "careful", "source", "fact", "check", "step", "reason", "data", "plan", "result", "summary", "example", "detail", "point", "note", "claim", "evidence", "context", "policy", "review"]
MAX_DEPTH = 8
_NULL = "null"


def prompt_text(body: Mapping[str, Any]) -> str:
    """The seed the emulator uses: every text part of `contents`, joined by newlines."""
    texts = []
    for content in pick(body, "contents", ()) or ():
        for part in pick(content, "parts", ()) or ():
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return "\n".join(texts)


def _rng(seed: str | bytes) -> random.Random:
    data = seed.encode() if isinstance(seed, str) else seed
    return random.Random(int.from_bytes(hashlib.blake2b(data, digest_size=16).digest(), "big"))


def generate(schema: Mapping[str, Any], seed: str | bytes) -> str:
    """JSON text that validates against `schema`, deterministic from `seed`."""
    return orjson.dumps(value_for(schema, seed)).decode()


def value_for(schema: Mapping[str, Any], seed: str | bytes) -> Any:
    return _Builder(schema).build(schema, _rng(seed), 0)


def _get(schema: Mapping[str, Any], camel: str, default: Any = None) -> Any:
    """A keyword in either spelling (the SDK leaves some of its Schema fields snake_case)."""
    if camel in schema:
        return schema[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return schema.get(snake, default)


def _number(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


class _Builder:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.defs = {**(root.get("definitions") or {}), **(root.get("$defs") or {})}

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            found = self.defs.get(ref.rsplit("/", 1)[-1])
            if isinstance(found, Mapping):
                rest = {k: v for k, v in schema.items() if k != "$ref"}
                return {**found, **rest}
        return schema

    def build(self, schema: Any, rng: random.Random, depth: int) -> Any:
        if not isinstance(schema, Mapping) or not schema:
            return self._string({}, rng)
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if enum:
            return rng.choice(list(enum))
        choices = _get(schema, "anyOf") or _get(schema, "oneOf")
        if choices:
            options = [self._resolve(c) for c in choices if isinstance(c, Mapping)]
            real = [c for c in options if str(c.get("type", "")).lower() != _NULL]
            if len(real) < len(options) and (not real or rng.random() < 0.2):
                return None
            return self.build(rng.choice(real), rng, depth)
        all_of = _get(schema, "allOf")
        if all_of:
            merged: dict[str, Any] = {}
            for part in all_of:
                merged.update(self._resolve(part) if isinstance(part, Mapping) else {})
            return self.build(merged, rng, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            real_kinds = [str(k).lower() for k in kind if str(k).lower() != _NULL]
            if len(real_kinds) < len(kind) and (not real_kinds or rng.random() < 0.2):
                return None
            kind = rng.choice(real_kinds)
        elif schema.get("nullable") and rng.random() < 0.2:
            return None
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        kind = str(kind).lower()
        if kind == "object":
            return self._object(schema, rng, depth)
        if kind == "array":
            return self._array(schema, rng, depth)
        if kind == "integer":
            return self._integer(schema, rng)
        if kind == "number":
            return self._float(schema, rng)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == _NULL:
            return None
        return self._string(schema, rng)

    def _object(self, schema: Mapping[str, Any], rng: random.Random, depth: int) -> dict:
        props = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        order = _get(schema, "propertyOrdering") or list(props)
        names = [n for n in order if n in props] + [n for n in props if n not in order]
        out: dict[str, Any] = {}
        for name in names:
            # Past the depth limit only what is required, so recursive schemas still end.
            if depth >= MAX_DEPTH and name not in required:
                continue
            out[name] = self.build(props[name], rng, depth + 1)
        return out

    def _array(self, schema: Mapping[str, Any], rng: random.Random, depth: int) -> list:
        low = int(_get(schema, "minItems", 0) or 0)
        high_value = _get(schema, "maxItems")
        high = int(high_value) if high_value is not None else max(low, 3)
        if depth >= MAX_DEPTH:
            high = low
        count = rng.randint(low, max(low, high)) if high > low else low
        if high_value is None and low == 0 and depth < MAX_DEPTH:
            count = max(count, 1)
        items = schema.get("items") or {}
        return [self.build(items, rng, depth + 1) for _ in range(count)]

    @staticmethod
    def _bounds(schema: Mapping[str, Any]) -> tuple[float | None, float | None, bool, bool]:
        low, high = _number(schema.get("minimum")), _number(schema.get("maximum"))
        low_open = high_open = False
        exclusive_low, exclusive_high = _get(schema, "exclusiveMinimum"), _get(
            schema, "exclusiveMaximum")
        # JSON Schema 2020-12 gives numbers; draft 4 (and OpenAPI 3.0) gives booleans.
        if isinstance(exclusive_low, bool):
            low_open = exclusive_low
        elif _number(exclusive_low) is not None:
            low, low_open = _number(exclusive_low), True
        if isinstance(exclusive_high, bool):
            high_open = exclusive_high
        elif _number(exclusive_high) is not None:
            high, high_open = _number(exclusive_high), True
        return low, high, low_open, high_open

    def _integer(self, schema: Mapping[str, Any], rng: random.Random) -> int:
        low, high, low_open, high_open = self._bounds(schema)
        lo = (math.floor(low) + 1 if low_open else math.ceil(low)) if low is not None else None
        hi = (math.ceil(high) - 1 if high_open else math.floor(high)) if high is not None else None
        if lo is None and hi is None:
            lo, hi = 0, 100
        elif lo is None:
            lo = hi - 100  # type: ignore[operator]
        elif hi is None:
            hi = lo + 100
        return rng.randint(lo, max(lo, hi))  # type: ignore[arg-type,type-var]

    def _float(self, schema: Mapping[str, Any], rng: random.Random) -> float:
        low, high, low_open, high_open = self._bounds(schema)
        if low is None and high is None:
            low, high = 0.0, 100.0
        elif low is None:
            low = high - 100.0  # type: ignore[operator]
        elif high is None:
            high = low + 100.0
        assert low is not None and high is not None
        value = round(rng.uniform(low, high), 4)
        span = high - low
        # Rounding may land on an open end: step inside.
        if (low_open and value <= low) or value < low:
            value = low + span / 4 if span else low
        if (high_open and value >= high) or value > high:
            value = high - span / 4 if span else high
        return value

    def _string(self, schema: Mapping[str, Any], rng: random.Random) -> str:
        fmt = str(schema.get("format") or "")
        base = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86_400))
        if fmt == "date-time":
            return base.strftime("%Y-%m-%dT%H:%M:%SZ")
        if fmt == "date":
            return base.strftime("%Y-%m-%d")
        if fmt == "time":
            return base.strftime("%H:%M:%S")
        if fmt == "email":
            return f"{rng.choice(_WORDS)}@example.com"
        if fmt == "uuid":
            return f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-8{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}"
        if fmt in ("uri", "url"):
            return f"https://example.com/{rng.choice(_WORDS)}"
        low = int(_get(schema, "minLength", 0) or 0)
        high_value = _get(schema, "maxLength")
        text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 6)))
        while len(text) < low:
            text += " " + rng.choice(_WORDS)
        if high_value is not None:
            text = text[: max(low, int(high_value))]
        return text
