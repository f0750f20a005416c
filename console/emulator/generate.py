"""Deterministic response synthesis: text from a hash of the request, token estimates, PNGs."""

from __future__ import annotations

import base64
import hashlib
import math
import random
import secrets
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from console.emulator import structured
from console.emulator.media import speech
from console.emulator.models import ModelInfo
from console.emulator.wire import pick

# Fixed per-item token costs the real tokenizer charges for media (258 per image tile/second
# of video; 32 per second of audio approximated from bytes), and per generated image.
IMAGE_TOKENS = 258
GENERATED_IMAGE_TOKENS = 1290

_WORDS = [
    "the",
    "model",
    "considers",
    "your",
    "request",
    "and",
    "answers",
    "with",
    "care",
    "while",
    "keeping",
    "the",
    "reply",
    "short",
    "clear",
    "useful",
    "and",
    "grounded",
    "in",
    "what",
    "was",
    "asked",
    "each",
    "point",
    "follows",
    "from",
    "the",
    "previous",
    "one",
    "so",
    "the",
    "reader",
    "can",
    "check",
    "every",
    "step",
    "data",
    "shows",
    "that",
    "simple",
    "plans",
    "work",
    "best",
    "when",
    "costs",
    "stay",
    "low",
    "and",
    "results",
    "arrive",
    "on",
    "time",
    "caching",
    "batching",
    "and",
    "tiers",
    "help",
    "teams",
    "ship",
    "faster",
    "emulated",
    "output",
    "stays",
    "stable",
    "for",
    "the",
    "same",
    "prompt",
    "which",
    "makes",
    "tests",
    "repeatable",
    "across",
    "runs",
    "a",
    "summary",
    "lists",
    "the",
    "key",
    "facts",
    "then",
    "a",
    "short",
    "example",
    "shows",
    "how",
    "to",
    "apply",
    "them",
    "in",
    "practice",
]

# Looked up by (file uri) -> (mime type, size in bytes); lets fileData parts be counted.
FileResolver = Callable[[str], "tuple[str, int] | None"]


@dataclass
class PromptCount:
    """Prompt tokens in total and per modality, plus the prefix segments implicit caching hashes."""

    total: int = 0
    by_modality: dict[str, int] = field(default_factory=dict)

    def add(self, modality: str, tokens: int) -> None:
        self.total += tokens
        self.by_modality[modality] = self.by_modality.get(modality, 0) + tokens

    def details(self) -> list[dict[str, Any]]:
        return [{"modality": m, "tokenCount": n} for m, n in self.by_modality.items() if n]


class TokenCounter:
    """`ceil(characters / chars_per_token)` for text; fixed costs for media."""

    def __init__(self, chars_per_token: float, resolve_file: FileResolver | None = None) -> None:
        self.chars_per_token = chars_per_token
        self.resolve_file = resolve_file

    def text(self, text: str) -> int:
        return math.ceil(len(text) / self.chars_per_token) if text else 0

    def part(self, part: dict, count: PromptCount) -> None:
        text = part.get("text")
        if text:
            count.add("TEXT", self.text(text))
            return
        inline = pick(part, "inlineData")
        if inline is not None:
            mime = pick(inline, "mimeType", "")
            size = len(pick(inline, "data", "")) * 3 // 4
            count.add(*self._media(mime, size))
            return
        file_data = pick(part, "fileData")
        if file_data is not None:
            found = self.resolve_file(pick(file_data, "fileUri", "")) if self.resolve_file else None
            mime, size = found or (pick(file_data, "mimeType", ""), 0)
            count.add(*self._media(mime, size))
            return
        for kind in ("functionCall", "functionResponse", "executableCode", "codeExecutionResult"):
            value = pick(part, kind)
            if value is not None:
                count.add("TEXT", self.text(orjson.dumps(value).decode()))
                return

    def _media(self, mime: str, size: int) -> tuple[str, int]:
        if mime.startswith("image/"):
            return "IMAGE", IMAGE_TOKENS
        if mime.startswith("audio/"):
            return "AUDIO", max(1, size // 1000)
        if mime.startswith("video/"):
            return "VIDEO", max(IMAGE_TOKENS, size // 10_000)
        if mime == "application/pdf":
            return "DOCUMENT", max(IMAGE_TOKENS, size // 1000)
        return "TEXT", math.ceil(size / self.chars_per_token)

    def contents(self, contents: list, count: PromptCount | None = None) -> PromptCount:
        count = count or PromptCount()
        for content in contents or ():
            for part in pick(content, "parts", ()):
                if isinstance(part, dict):
                    self.part(part, count)
        return count

    def request(self, body: dict) -> PromptCount:
        """Every prompt token: system instruction, tools and contents (what TPM counts)."""
        count = PromptCount()
        system = pick(body, "systemInstruction")
        if system:
            self.contents([system], count)
        tools = pick(body, "tools")
        if tools:
            count.add("TEXT", self.text(orjson.dumps(tools).decode()))
        return self.contents(pick(body, "contents", ()), count)

    def prefix_segments(self, body: dict) -> list[tuple[bytes, int]]:
        """(serialised part, tokens) in prompt order: the units implicit caching matches on."""
        segments = []
        system = pick(body, "systemInstruction")
        items = list(pick(system, "parts", ())) if system else []
        tools = pick(body, "tools")
        if tools:
            items.append({"tools": tools})
        for content in pick(body, "contents", ()):
            items.extend(pick(content, "parts", ()))
        for item in items:
            count = PromptCount()
            if "tools" in item:
                count.add("TEXT", self.text(orjson.dumps(item["tools"]).decode()))
            else:
                self.part(item, count)
            segments.append((orjson.dumps(item, option=orjson.OPT_SORT_KEYS), count.total))
        return segments


def request_digest(model_id: str, body: dict) -> bytes:
    """Same model + same request (tier and cache name aside) -> same digest -> same answer."""
    core = {k: v for k, v in body.items() if k not in ("serviceTier", "service_tier")}
    return hashlib.blake2b(
        model_id.encode() + orjson.dumps(core, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).digest()


def _sentences(rng: random.Random, words: int) -> str:
    picked = rng.choices(_WORDS, k=words)
    out = []
    i = 0
    while i < words:
        length = 6 + rng.getrandbits(3)  # sentences of 6 to 13 words
        out.append(" ".join(picked[i : i + length]).capitalize() + ".")
        i += length
    return " ".join(out)


def _last_user_text(body: dict) -> str:
    for content in reversed(pick(body, "contents", ())):
        for part in pick(content, "parts", ()):
            text = part.get("text") if isinstance(part, dict) else None
            if text:
                return text
    return ""


def _from_schema(schema: Any, rng: random.Random, depth: int = 0) -> Any:
    """A value that validates against a (JSON or OpenAPI-style) schema, chosen by the hash."""
    if not isinstance(schema, dict) or depth > 6:
        return _sentences(rng, 4)
    if schema.get("enum"):
        return rng.choice(schema["enum"])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    kind = str(kind).lower()
    if kind == "object":
        props = schema.get("properties") or {}
        return {name: _from_schema(sub, rng, depth + 1) for name, sub in props.items()}
    if kind == "array":
        low = int(schema.get("minItems", schema.get("min_items", 1)) or 1)
        return [_from_schema(schema.get("items"), rng, depth + 1) for _ in range(max(low, 2))]
    if kind == "integer":
        return rng.randint(0, 100)
    if kind == "number":
        return round(rng.uniform(0, 100), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    return _sentences(rng, 3).rstrip(".")


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


@lru_cache(maxsize=64)
def png(red: int, green: int, blue: int, size: int = 64) -> bytes:
    """A real RGB PNG: a diagonal gradient over the given colour."""
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type None for every scanline
        for x in range(size):
            shade = (x + y) * 255 // (2 * size - 2)
            rows += bytes(((red + shade) // 2, (green + shade) // 2, (blue + 255 - shade) // 2))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + _png_chunk(b"IEND", b"")
    )


@dataclass
class Generated:
    """One synthesised answer before it is shaped into a response body."""

    candidates: list[dict[str, Any]]
    output_tokens: int
    thought_tokens: int
    output_by_modality: dict[str, int]


class Synthesizer:
    """Turns a validated generateContent body into a deterministic GenerateContentResponse."""

    def __init__(self, counter: TokenCounter) -> None:
        self.counter = counter

    def generate(self, model: ModelInfo, body: dict) -> Generated:
        digest = request_digest(model.model_id, body)
        config = pick(body, "generationConfig", {})
        count = max(1, int(pick(config, "candidateCount", 1)))
        candidates = []
        output = thoughts = 0
        modalities: dict[str, int] = {}
        for index in range(count):
            rng = random.Random(int.from_bytes(digest, "big") + index)
            candidate, out, thought, mods = self._candidate(model, body, config, rng, index)
            candidates.append(candidate)
            output += out
            thoughts += thought
            for k, v in mods.items():
                modalities[k] = modalities.get(k, 0) + v
        return Generated(candidates, output, thoughts, modalities)

    def _candidate(
        self, model: ModelInfo, body: dict, config: dict, rng: random.Random, index: int
    ) -> tuple[dict, int, int, dict[str, int]]:
        parts: list[dict[str, Any]] = []
        finish = "STOP"
        modalities: dict[str, int] = {}
        if model.tts:  # speech models answer with audio only
            part, tokens = speech(_last_user_text(body), rng)
            return self._shape([part], finish, index), tokens, 0, {"AUDIO": tokens}
        thoughts = self._thought_tokens(model, config, rng)
        thinking = pick(config, "thinkingConfig", {})
        if thoughts and pick(thinking, "includeThoughts", False):
            parts.append(
                {"text": "**Planning the answer** " + _sentences(rng, 12), "thought": True}
            )
        call = self._function_call(body, rng)
        if call is not None:
            parts.append({"functionCall": call})
            text_tokens = self.counter.text(orjson.dumps(call).decode())
            modalities["TEXT"] = text_tokens
            return self._shape(parts, finish, index), text_tokens, thoughts, modalities
        image_only = model.image_output and [
            m.upper() for m in pick(config, "responseModalities", ())
        ] == ["IMAGE"]
        text = "" if image_only else self._text(body, config, rng)
        max_tokens = pick(config, "maxOutputTokens")
        text_tokens = self.counter.text(text)
        if max_tokens and text_tokens > max_tokens:
            text = text[: int(max_tokens * self.counter.chars_per_token)]
            text_tokens = self.counter.text(text)
            finish = "MAX_TOKENS"
        for stop in pick(config, "stopSequences", ()):
            if stop and stop in text:
                text = text[: text.index(stop)]
                text_tokens = self.counter.text(text)
        if text:
            parts.append({"text": text})
            modalities["TEXT"] = text_tokens
        if model.image_output and finish == "STOP":
            color = rng.randrange(256), rng.randrange(256), rng.randrange(256)
            data = base64.b64encode(png(*color)).decode()
            parts.append({"inlineData": {"mimeType": "image/png", "data": data}})
            modalities["IMAGE"] = GENERATED_IMAGE_TOKENS
        return self._shape(parts, finish, index), sum(modalities.values()), thoughts, modalities

    @staticmethod
    def _shape(parts: list[dict], finish: str, index: int) -> dict:
        return {
            "content": {"parts": parts, "role": "model"},
            "finishReason": finish,
            "index": index,
        }

    def _text(self, body: dict, config: dict, rng: random.Random) -> str:
        mime = pick(config, "responseMimeType", "text/plain")
        schema = pick(config, "responseJsonSchema") or pick(config, "responseSchema")
        if mime == "application/json" and isinstance(schema, dict):
            # Deterministic from the prompt text alone, so a caller can predict the answer.
            return structured.generate(schema, structured.prompt_text(body))
        if mime == "application/json":
            value = _from_schema(schema, rng) if schema else {"answer": _sentences(rng, 12)}
            return orjson.dumps(value).decode()
        if mime == "text/x.enum" and isinstance(schema, dict) and schema.get("enum"):
            return str(rng.choice(schema["enum"]))
        prompt = _last_user_text(body)
        topic = " ".join(prompt.split()[:6])
        lead = f"Emulated reply to “{topic}”: " if topic else "Emulated reply: "
        return lead + _sentences(rng, rng.randint(12, 48))

    @staticmethod
    def _thought_tokens(model: ModelInfo, config: dict, rng: random.Random) -> int:
        if not model.thinking:
            return 0
        thinking = pick(config, "thinkingConfig", {})
        budget = pick(thinking, "thinkingBudget")
        if budget == 0 and not model.thinking_required:
            return 0
        level = str(pick(thinking, "thinkingLevel", "")).upper()
        tokens = rng.randint(24, 96) if level in ("LOW", "MINIMAL") else rng.randint(96, 640)
        if budget and budget > 0:
            tokens = min(tokens, int(budget))
        return tokens

    @staticmethod
    def _function_call(body: dict, rng: random.Random) -> dict | None:
        """Call the first declared function unless the last turn already answered one."""
        declarations = [
            d for tool in pick(body, "tools", ()) for d in pick(tool, "functionDeclarations", ())
        ]
        if not declarations:
            return None
        mode = str(
            pick(pick(pick(body, "toolConfig", {}), "functionCallingConfig", {}), "mode", "AUTO")
        )
        if mode.upper() == "NONE":
            return None
        contents = pick(body, "contents", ())
        last_parts = pick(contents[-1], "parts", ()) if contents else ()
        if any(pick(p, "functionResponse") is not None for p in last_parts):
            return None
        declaration = declarations[0]
        schema = (
            pick(declaration, "parametersJsonSchema")
            or pick(declaration, "parameters")
            or {"type": "object"}
        )
        args = _from_schema(schema, rng)
        return {
            "name": declaration.get("name", "function"),
            "args": args if isinstance(args, dict) else {},
        }


def response_id() -> str:
    return secrets.token_urlsafe(16)[:22]
