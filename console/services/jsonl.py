"""Batch JSONL, read as a stream: validation that names file, line and field, and the normal form.

A line is `{"key"?, "request": {REST GenerateContentRequest}}` or the shorthand
`{"key"?, "prompt": "…", "model"?, "config"?}`. An optional first line
`{"defaults": {...}}` (system instruction, generation config, cached content, model, tools…)
is merged into every request, so shared context is written once. Keys missing from a line
are generated from its line number (`line-7`); every key must be unique in its file.

The file is never read whole: lines are parsed one at a time, and key uniqueness is checked
on hashes of the keys (a second pass names the first line of any key used twice), so memory
stays flat however large the file is.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, cast

import orjson

# The Files API takes at most 2 GB per file.
MAX_FILE_BYTES = 2 * 1024**3
# Inline batch requests must stay under 20 MB in total.
MAX_INLINE_BYTES = 20 * 1024**2
# A report keeps this many errors in memory; a `sink` passed to `validate` sees every one.
KEPT_ERRORS = 1000
# The service's rough ratio; a line's estimate only decides whether countTokens is needed.
CHARS_PER_TOKEN = 4
# An image part costs about this many tokens, whatever its size in base64.
TOKENS_PER_MEDIA_PART = 258
READ_BUFFER = 1 << 20
_BOM = b"\xef\xbb\xbf"
# orjson appends "line 1 column 7 (char 6)": the line is already named, the column is enough.
_POSITION = re.compile(r": line \d+ column (\d+) \(char \d+\)$")

TOP_FIELDS = frozenset({"key", "request", "prompt", "model", "config"})

# Top-level GenerateContentRequest fields: wire (camelCase) name by either spelling.
REQUEST_FIELDS = {
    "contents": "contents",
    "model": "model",
    "systemInstruction": "systemInstruction",
    "system_instruction": "systemInstruction",
    "generationConfig": "generationConfig",
    "generation_config": "generationConfig",
    "safetySettings": "safetySettings",
    "safety_settings": "safetySettings",
    "tools": "tools",
    "toolConfig": "toolConfig",
    "tool_config": "toolConfig",
    "cachedContent": "cachedContent",
    "cached_content": "cachedContent",
    "labels": "labels",
    "serviceTier": "serviceTier",
    "service_tier": "serviceTier",
}
# What a defaults header may carry: the shared part of a request, and the model.
DEFAULT_FIELDS = {
    k: v for k, v in REQUEST_FIELDS.items() if v not in ("contents", "serviceTier")
}

_GENERATION_NAMES = (
    "temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences",
    "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities", "seed",
    "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "thinkingConfig",
    "mediaResolution", "speechConfig", "imageConfig", "enableEnhancedCivicAnswers",
)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


GENERATION_FIELDS = {n: n for n in _GENERATION_NAMES} | {_snake(n): n for n in _GENERATION_NAMES}
# The shorthand's flat, SDK-style `config`: generation fields plus the request-level ones.
CONFIG_FIELDS = GENERATION_FIELDS | {
    k: v for k, v in DEFAULT_FIELDS.items() if v not in ("generationConfig", "model")
}

_PART_FIELDS = frozenset({
    "text", "inlineData", "inline_data", "fileData", "file_data", "functionCall",
    "function_call", "functionResponse", "function_response", "executableCode",
    "executable_code", "codeExecutionResult", "code_execution_result", "thought",
    "thoughtSignature", "thought_signature", "videoMetadata", "video_metadata",
    "mediaResolution", "media_resolution",
})
_ROLES = frozenset({"user", "model", "function", "tool"})


@dataclass(frozen=True, slots=True)
class LineError:
    """One problem, located: `file:line: field: message`."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class BatchRequest(NamedTuple):
    """A valid line in normal form: its key and a REST request with the defaults merged in."""

    line: int
    key: str
    request: dict[str, Any]
    # The model this line asks for (shorthand `model` or `request.model`), else None.
    model: str | None
    # The line is already what the Batch API reads: a string key and a request, no defaults.
    verbatim: bool = True
    # The line's length in bytes: only long lines are worth a token estimate.
    size: int = 0

    def jsonl(self) -> bytes:
        return orjson.dumps({"key": self.key, "request": self.request}) + b"\n"


@dataclass
class Validation:
    """What a pass over a file found. `errors` keeps the first KEPT_ERRORS of `error_count`."""

    file: str
    size: int = 0
    requests: int = 0
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    bad_lines: int = 0
    # Requests per model named in the file (a line without one counts under None).
    models: dict[str | None, int] = field(default_factory=dict)
    # True when the file is not already in the form the Batch API reads (a defaults header,
    # shorthand lines, generated keys, blank lines): a normalised copy is uploaded instead.
    needs_rewrite: bool = False
    # Lines whose estimate is close enough to their model's input limit that only countTokens
    # can tell: (line, model, estimated tokens).
    near_limit: list[tuple[int, str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and self.requests > 0

    def model_for(self, default: str) -> str:
        """The one model a batch of this file runs (per-line models must agree)."""
        named = [m for m in self.models if m]
        return (named[0] if len(named) == 1 else default).removeprefix("models/")

    def add(self, error: LineError) -> None:
        self.error_count += 1
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(error)


class _Checker:
    """The per-line rules. Kept in one object so the hot loop pays for no lookups it can avoid."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.defaults: dict[str, Any] | None = None
        self.default_model: str | None = None

    # -- shapes -------------------------------------------------------------------------------

    def content(self, value: Any, path: str, out: list, line: int, *, need_parts=True) -> None:
        if value.__class__ is not dict:
            out.append(LineError(self.file, line, path, f"expected a Content object, got {_kind(value)}"))
            return
        role = value.get("role")
        if role is not None and (role.__class__ is not str or role not in _ROLES):
            out.append(LineError(self.file, line, f"{path}.role",
                                 f"must be one of user, model, function, tool; got {role!r}"))
        parts = value.get("parts")
        if parts.__class__ is not list or not parts:
            if parts is None and not need_parts:
                return
            what = "is missing" if parts is None else (
                "must not be empty" if parts == [] else f"must be a list, got {_kind(parts)}")
            out.append(LineError(self.file, line, f"{path}.parts", what))
            return
        for j, part in enumerate(parts):
            if part.__class__ is not dict:
                out.append(LineError(self.file, line, f"{path}.parts[{j}]",
                                     f"expected a Part object, got {_kind(part)}"))
                continue
            text = part.get("text")
            if text is not None:
                if text.__class__ is not str:
                    out.append(LineError(self.file, line, f"{path}.parts[{j}].text",
                                         f"must be a string, got {_kind(text)}"))
                if len(part) == 1:
                    continue
            if not part.keys() & _PART_FIELDS or part.keys() - _PART_FIELDS:
                unknown = sorted(part.keys() - _PART_FIELDS)
                message = (f"unknown field {unknown[0]!r}" if unknown else
                           "needs one of text, inlineData, fileData, functionCall, functionResponse")
                out.append(LineError(self.file, line, f"{path}.parts[{j}]", message))
                continue
            inline = part.get("inlineData", part.get("inline_data"))
            if inline is not None:
                self._blob(inline, f"{path}.parts[{j}].inlineData", out, line)
            data = part.get("fileData", part.get("file_data"))
            if data is not None and (
                data.__class__ is not dict
                or data.get("fileUri", data.get("file_uri")).__class__ is not str
            ):
                out.append(LineError(self.file, line, f"{path}.parts[{j}].fileData.fileUri",
                                     "is required (a files/… URI)"))

    def _blob(self, blob: Any, path: str, out: list, line: int) -> None:
        if blob.__class__ is not dict:
            out.append(LineError(self.file, line, path, f"expected an object, got {_kind(blob)}"))
            return
        if blob.get("data").__class__ is not str:
            out.append(LineError(self.file, line, f"{path}.data", "is required (base64 bytes)"))
        if blob.get("mimeType", blob.get("mime_type")).__class__ is not str:
            out.append(LineError(self.file, line, f"{path}.mimeType", "is required"))

    def system(self, value: Any, path: str, out: list, line: int) -> Any:
        """A system instruction as a string or a Content; returns its wire form."""
        if value.__class__ is str:
            return {"parts": [{"text": value}]}
        self.content(value, path, out, line, need_parts=False)
        return value

    def generation(self, config: Any, path: str, out: list, line: int) -> None:
        if config.__class__ is not dict:
            out.append(LineError(self.file, line, path, f"expected an object, got {_kind(config)}"))
            return
        checks = _GENERATION_CHECKS
        for name, value in config.items():
            if value is not None:
                problem = checks.get(name, _unknown)(value)
                if problem:
                    out.append(LineError(self.file, line, f"{path}.{name}", problem))

    def request_fields(self, request: dict, path: str, out: list, line: int,
                       names: dict[str, str]) -> None:
        """Every top-level request field except contents (which `request` checks)."""
        for name, value in request.items():
            wire = names.get(name)
            if wire is None:
                out.append(LineError(self.file, line, f"{path}.{name}", "unknown field"))
            elif wire == "contents":
                continue
            elif wire == "generationConfig":
                self.generation(value, f"{path}.{name}", out, line)
            elif wire == "systemInstruction":
                # A string or a plain-text Content (nearly every line) is fine as it is.
                if value.__class__ is not str and not _plain_text_content(value):
                    self.system(value, f"{path}.{name}", out, line)
            elif wire in ("cachedContent", "model", "serviceTier"):
                if value.__class__ is not str or not value:
                    out.append(LineError(self.file, line, f"{path}.{name}",
                                         f"must be a non-empty string, got {_kind(value)}"))
            elif wire in ("tools", "safetySettings"):
                if value.__class__ is not list:
                    out.append(LineError(self.file, line, f"{path}.{name}",
                                         f"must be a list, got {_kind(value)}"))
            elif wire in ("toolConfig", "labels") and value.__class__ is not dict:
                out.append(LineError(self.file, line, f"{path}.{name}",
                                     f"must be an object, got {_kind(value)}"))

    def request(self, request: Any, out: list, line: int) -> None:
        if request.__class__ is not dict:
            out.append(LineError(self.file, line, "request",
                                 f"expected a GenerateContentRequest object, got {_kind(request)}"))
            return
        contents = request.get("contents")
        if contents.__class__ is not list or not contents:
            what = "is missing" if contents is None else (
                "must not be empty" if contents == [] else f"must be a list, got {_kind(contents)}")
            out.append(LineError(self.file, line, "request.contents", what))
        else:
            plain = _plain_text_content
            for i, content in enumerate(contents):
                if not plain(content):
                    self.content(content, f"request.contents[{i}]", out, line)
        if len(request) > 1:
            self.request_fields(request, "request", out, line, REQUEST_FIELDS)

    # -- the defaults header ------------------------------------------------------------------

    def header(self, obj: dict, line: int, out: list) -> None:
        extra = sorted(obj.keys() - {"defaults"})
        if extra:
            out.append(LineError(self.file, line, extra[0],
                                 "unknown field beside defaults (the header has only defaults)"))
        defaults = obj["defaults"]
        if defaults.__class__ is not dict:
            out.append(LineError(self.file, line, "defaults", f"expected an object, got {_kind(defaults)}"))
            return
        self.request_fields(defaults, "defaults", out, line, DEFAULT_FIELDS)
        merged: dict[str, Any] = {}
        for name, value in defaults.items():
            wire = DEFAULT_FIELDS.get(name)
            if wire == "model":
                self.default_model = value if value.__class__ is str else None
            elif wire == "systemInstruction" and value.__class__ is str:
                merged[wire] = {"parts": [{"text": value}]}
            elif wire is not None:
                merged[wire] = value
        self.defaults = merged

    # -- a line -------------------------------------------------------------------------------

    def shorthand(self, obj: dict, out: list, line: int) -> dict[str, Any]:
        prompt = obj["prompt"]
        if prompt.__class__ is not str or not prompt.strip():
            out.append(LineError(self.file, line, "prompt",
                                 f"must be a non-empty string, got {_kind(prompt)}"))
        request: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
        config = obj.get("config")
        if config is None:
            return request
        if config.__class__ is not dict:
            out.append(LineError(self.file, line, "config", f"expected an object, got {_kind(config)}"))
            return request
        generation: dict[str, Any] = {}
        for name, value in config.items():
            wire = CONFIG_FIELDS.get(name)
            if wire is None:
                out.append(LineError(self.file, line, f"config.{name}", "unknown field"))
            elif wire in GENERATION_FIELDS:
                problem = _GENERATION_CHECKS[name](value) if value is not None else None
                if problem:
                    out.append(LineError(self.file, line, f"config.{name}", problem))
                generation[wire] = value
            elif wire == "systemInstruction":
                request[wire] = self.system(value, f"config.{name}", out, line)
            else:
                request[wire] = value
        rest = {k: v for k, v in request.items() if k not in ("contents", "systemInstruction")}
        if rest:
            self.request_fields(rest, "config", out, line, CONFIG_FIELDS)
        if generation:
            request["generationConfig"] = generation
        return request

    def merge(self, request: dict[str, Any]) -> dict[str, Any]:
        """The defaults under the line's own fields (generation config merged key by key)."""
        defaults = self.defaults
        if not defaults:
            return request
        merged = dict(defaults)
        for name, value in request.items():
            wire = REQUEST_FIELDS.get(name, name)
            if wire == "generationConfig" and "generationConfig" in defaults and value.__class__ is dict:
                value = defaults["generationConfig"] | value
            merged[wire] = value
        return merged


_KINDS = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
          int: "a number", float: "a number", type(None): "null"}


def _kind(value: Any) -> str:
    return _KINDS.get(value.__class__, type(value).__name__)


def _number(low: float | None = None, high: float | None = None, integer: bool = False):
    lowest = -math.inf if low is None else low
    highest = math.inf if high is None else high

    def check(value: Any) -> str | None:
        kind = value.__class__
        # The usual case in one test: a number in range (an integer where one is needed).
        if (kind is int or (kind is float and not integer)) and lowest <= value <= highest:
            return None
        if value.__class__ not in (int, float) or (integer and value.__class__ is float
                                                   and not value.is_integer()):
            return f"must be {'an integer' if integer else 'a number'}, got {_kind(value)}"
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                return f"must be at least {low}, got {value}"
            return f"must be between {low} and {high}, got {value}"
        return None

    return check


def _strings(value: Any) -> str | None:
    if value.__class__ is not list or not all(v.__class__ is str for v in value):
        return f"must be a list of strings, got {_kind(value)}"
    return None


def _string(value: Any) -> str | None:
    return None if value.__class__ is str else f"must be a string, got {_kind(value)}"


def _object(value: Any) -> str | None:
    return None if value.__class__ is dict else f"must be an object, got {_kind(value)}"


def _unknown(value: Any) -> str:
    return "unknown field"


def _anything(value: Any) -> None:
    return None


_VALUE_CHECKS = {
    "temperature": _number(0, 2),
    "topP": _number(0, 1),
    "topK": _number(1, integer=True),
    "candidateCount": _number(1, integer=True),
    "maxOutputTokens": _number(1, integer=True),
    "seed": _number(integer=True),
    "presencePenalty": _number(),
    "frequencyPenalty": _number(),
    "logprobs": _number(0, integer=True),
    "stopSequences": _strings,
    "responseModalities": _strings,
    "responseMimeType": _string,
    "thinkingConfig": _object,
    "imageConfig": _object,
    "speechConfig": _object,
}
# Generation fields by either spelling -> their check (known fields without one pass as-is).
_GENERATION_CHECKS = {
    name: _VALUE_CHECKS.get(wire, _anything) for name, wire in GENERATION_FIELDS.items()
}


def _plain_text_content(content: Any) -> bool:
    """The shape nearly every line has, {"role"?, "parts": [{"text": "…"}, …]}, checked without
    building a single path string; anything else goes through the full `content` check."""
    if content.__class__ is not dict:
        return False
    parts = content.get("parts")
    if parts.__class__ is not list or not parts:
        return False
    size = len(content)
    if size == 2:
        role = content.get("role")
        if role is None or role not in _ROLES:
            return False
    elif size != 1:
        return False
    for part in parts:
        if part.__class__ is not dict or len(part) != 1 or part.get("text").__class__ is not str:
            return False
    return True


# A BatchRequest made without NamedTuple's Python-level __new__ (a call per line saved).
_new_tuple = tuple.__new__


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb", buffering=READ_BUFFER) as handle:
        for number, raw in enumerate(handle, 1):
            yield number, (raw[3:] if number == 1 and raw.startswith(_BOM) else raw)


def scan(path: Path, *, display: str | None = None) -> Iterator[BatchRequest | LineError]:
    """Every valid line as a BatchRequest and every problem as a LineError, in file order.

    Repeated keys are reported by `validate` (finding them needs the whole file); `scan`
    alone is for reading the requests of a file already validated."""
    file = display or path.name
    checker = _Checker(file)
    check_request = checker.request
    first = True
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    problems: list[LineError] = []
    for number, raw in _lines(path):
        if raw.isspace():
            continue
        try:
            obj = loads(raw)
        except decode_error as error:
            yield LineError(file, number, "json", f"not valid JSON ({_json_reason(error, raw)})")
            first = False
            continue
        if obj.__class__ is not dict:
            yield LineError(file, number, "json", f"expected a JSON object, got {_kind(obj)}")
            first = False
            continue
        key = obj.get("key")
        request = obj.get("request")
        if len(obj) == 2 and request is not None and key.__class__ is str and key:
            # The Batch API's own form, nearly every line of a large file: the same checks as
            # below, less those that cannot apply (no other field, so no prompt, config or
            # line-level model), and no list or path string made unless something is wrong.
            first = False
            check_request(request, problems, number)
            model = request.get("model") if request.__class__ is dict else None
            if model is not None and (model.__class__ is not str or not model):
                problems.append(LineError(file, number, "model",
                                          f"must be a non-empty string, got {_kind(model)}"))
            if problems:
                yield from problems
                problems = []
                continue
            if checker.defaults:
                yield _new_tuple(BatchRequest, (number, key, checker.merge(request),
                                                model or checker.default_model, False, len(raw)))
            else:
                yield _new_tuple(BatchRequest, (number, key, request,
                                                model or checker.default_model, True, len(raw)))
            continue
        if "defaults" in obj:
            if first:
                checker.header(obj, number, problems)
            else:
                problems.append(LineError(file, number, "defaults",
                                          "a defaults header must be the first line"))
            first = False
            yield from problems
            problems = []
            continue
        first = False
        verbatim = key.__class__ is str and request is not None and len(obj) == 2
        if not verbatim and obj.keys() - TOP_FIELDS:
            for name in sorted(obj.keys() - TOP_FIELDS):
                problems.append(LineError(file, number, name, "unknown field (a line has key, "
                                          "request, or prompt with model and config)"))
        model = obj.get("model")
        if request is not None:
            if "prompt" in obj:
                problems.append(LineError(file, number, "prompt",
                                          "give request or prompt, not both"))
            if "config" in obj:
                problems.append(LineError(file, number, "config", "config goes with prompt; "
                                          "put it in request.generationConfig"))
            checker.request(request, problems, number)
            if model is None and request.__class__ is dict:
                model = request.get("model")
        elif "prompt" in obj:
            request = checker.shorthand(obj, problems, number)
        else:
            problems.append(LineError(file, number, "request",
                                      "is missing (give request or prompt)"))
        if model is not None and (model.__class__ is not str or not model):
            problems.append(LineError(file, number, "model",
                                      f"must be a non-empty string, got {_kind(model)}"))
        if key is None:
            key = f"line-{number}"
        elif key.__class__ is int:
            key = str(key)
        elif key.__class__ is not str or not key:
            problems.append(LineError(file, number, "key", "must be a non-empty string, got "
                                      + ("an empty string" if key == "" else _kind(key))))
        if problems:
            yield from problems
            problems = []
            continue
        # No problems: `request` is the checked request object.
        if checker.defaults:
            request = checker.merge(cast(dict[str, Any], request))
            verbatim = False
        yield BatchRequest(number, key, cast(dict[str, Any], request), model or checker.default_model, verbatim,
                           len(raw))


def _json_reason(error: Exception, raw: bytes) -> str:
    text = str(error)
    if "utf-8" in text.lower():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            return (f"not UTF-8: byte 0x{raw[bad.start]:02x} at byte offset {bad.start} of the "
                    "line; save the file as UTF-8")
    if not raw.endswith(b"\n") and "unexpected end" in text.lower():
        return "the line ends early: was the file still being written?"
    return _POSITION.sub(r" at column \1", text)


@dataclass(frozen=True)
class InputLimits:
    """Each model's input token limit, for rejecting a line no model call could take."""

    default_model: str
    by_model: Mapping[str, int]
    default_limit: int = 1_048_576

    def of(self, model: str | None) -> tuple[str, int]:
        name = (model or self.default_model).removeprefix("models/")
        return name, self.by_model.get(name, self.default_limit)

    @property
    def floor_bytes(self) -> int:
        """Lines shorter than this are under half of every limit: no estimate needed."""
        smallest = min([self.default_limit, *self.by_model.values()])
        return smallest // 2 * CHARS_PER_TOKEN


def estimate_tokens(request: dict[str, Any]) -> int:
    """A cheap upper-leaning estimate of a request's input tokens: text at CHARS_PER_TOKEN,
    each inline or file part at one image's worth (the bytes of base64 data are no measure)."""
    chars = media = 0
    turns = list(request.get("contents") or [])
    system = request.get("systemInstruction") or request.get("system_instruction")
    if isinstance(system, dict):
        turns.append(system)
    for turn in turns:
        for part in (turn.get("parts") or []) if isinstance(turn, dict) else []:
            if not isinstance(part, dict):
                continue
            text = part.get("text")
            if isinstance(text, str):
                chars += len(text)
            elif part.keys() & {"inlineData", "inline_data", "fileData", "file_data"}:
                media += 1
    return chars // CHARS_PER_TOKEN + media * TOKENS_PER_MEDIA_PART


def over_limit(file: str, line: int, model: str, tokens: int, limit: int,
               *, estimated: bool) -> LineError:
    about = "about " if estimated else ""
    return LineError(file, line, "request", f"{about}{tokens:,} tokens exceeds {model}'s input "
                                            f"limit of {limit:,}")


def validate(
    path: Path, *, display: str | None = None, sink: Callable[[LineError], None] | None = None,
    limits: InputLimits | None = None,
) -> Validation:
    """One streaming pass (two when a key repeats): counts, models, and every error located.

    `sink`, when given, receives every error as it is found (the report keeps the first
    KEPT_ERRORS), so an errors file can list them all without holding them in memory.
    With `limits`, a line far over its model's input limit is an error, and one near it is
    listed in `near_limit` for countTokens to settle."""
    file = display or path.name
    report = Validation(file=file)

    def add(error: LineError) -> None:
        report.add(error)
        if sink is not None:
            sink(error)

    try:
        report.size = path.stat().st_size
    except OSError as error:
        add(LineError(file, 0, "file", f"cannot be read: {error.strerror}"))
        return report
    if report.size > MAX_FILE_BYTES:
        add(LineError(file, 0, "file", f"is {report.size:,} bytes; the Files API takes at most "
                                       f"{MAX_FILE_BYTES:,}"))
        return report
    seen: set[int] = set()
    repeated: dict[str, list[int]] = {}
    bad_line = 0
    models = report.models
    rewrite = False
    expected = 1
    floor = limits.floor_bytes if limits is not None else 1 << 62
    count = 0
    for item in scan(path, display=file):
        if isinstance(item, LineError):
            add(item)
            if item.line != bad_line:
                bad_line = item.line
                report.bad_lines += 1
            continue
        line, key, request, model, verbatim, size = item
        # Blank lines, a header or a BOM before this line: the upload is a normalised copy.
        if line != expected or not verbatim:
            rewrite = True
        expected = line + 1
        h = hash(key)
        if h in seen:
            repeated.setdefault(key, []).append(line)
        else:
            seen.add(h)
        if size >= floor and limits is not None:
            name, limit = limits.of(model)
            estimate = estimate_tokens(request)
            if estimate >= 2 * limit:
                add(over_limit(file, line, name, estimate, limit, estimated=True))
                report.bad_lines += 1
                continue
            if estimate >= limit // 2:
                report.near_limit.append((line, name, estimate))
        models[model] = models.get(model, 0) + 1
        count += 1
    report.requests = count
    del seen
    if report.requests == 0 and report.error_count == 0:
        add(LineError(file, 0, "file", "has no requests"))
    if repeated:
        for repeat in _repeated_keys(path, file, repeated):
            add(repeat)
            report.bad_lines += 1
    with path.open("rb") as handle:
        report.needs_rewrite = rewrite or handle.read(3) == _BOM
    report.errors.sort(key=lambda e: e.line)
    return report


def _repeated_keys(path: Path, file: str, repeated: dict[str, list[int]]) -> list[LineError]:
    """Second pass: name the first line of each repeated key (a mere hash match is no repeat)."""
    first: dict[str, int] = {}
    for item in scan(path, display=file):
        if isinstance(item, BatchRequest) and item.key in repeated and item.key not in first:
            first[item.key] = item.line
    errors = []
    for key, lines in repeated.items():
        for line in lines:
            if first.get(key, line) == line:
                continue
            origin = "generated for this line" if key == f"line-{line}" else "given"
            errors.append(LineError(file, line, "key", f"{key!r} ({origin}) is already used on "
                                    f"line {first[key]}; keys must be unique in a file"))
    return errors


def requests(path: Path, *, display: str | None = None) -> Iterator[BatchRequest]:
    """The requests of a valid file, in order (errors, if any, are skipped)."""
    for item in scan(path, display=display):
        if isinstance(item, BatchRequest):
            yield item


def write_normal_form(
    path: Path, out: Path, *, skip_keys: frozenset[str] = frozenset(), display: str | None = None
) -> tuple[int, int]:
    """Write `{"key", "request"}` lines (defaults merged, shorthand expanded) to `out`,
    leaving out `skip_keys`. Returns (requests written, bytes written). Deterministic:
    the same input gives the same bytes, so a restart re-creates the identical upload."""
    count = size = 0
    tmp = out.with_name(out.name + ".part")
    with tmp.open("wb", buffering=READ_BUFFER) as handle:
        for item in requests(path, display=display):
            if item.key in skip_keys:
                continue
            request = item.request
            if "model" in request:
                request = {k: v for k, v in request.items() if k != "model"}
            data = orjson.dumps({"key": item.key, "request": request}) + b"\n"
            handle.write(data)
            count += 1
            size += len(data)
    tmp.replace(out)
    return count, size


def content_hash(path: Path) -> str:
    """SHA-256 of the file's bytes, streamed: the identity a drop-folder claim is made on."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(READ_BUFFER):
            digest.update(chunk)
    return digest.hexdigest()


def sdk_call(request: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A REST request as the gateway's (contents, config): top-level fields in the SDK's
    snake_case, generation fields flattened in (the SDK reads their camelCase names)."""
    config: dict[str, Any] = {}
    for name, value in request.items():
        wire = REQUEST_FIELDS.get(name, name)
        if wire in ("contents", "model"):
            continue
        if wire == "generationConfig":
            config.update(value)
        else:
            config[_snake(wire)] = value
    return request.get("contents"), config
