"""Request validation: 400 INVALID_ARGUMENT with a message naming the offending field."""

from __future__ import annotations

from typing import Any

from console.emulator.errors import ApiError, invalid_argument
from console.emulator.schema import GENERATE_CONTENT_REQUEST, check_fields
from console.emulator.wire import pick, snake

LOGPROBS_WITHOUT_RESPONSE_LOGPROBS = "logprobs must be set only when response_logprobs is true."

_PART_KINDS = (
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "thoughtSignature",
)
_ROLES = ("", "user", "model", "function", "tool", "system")


def _type_error(path: str, proto_type: str, value: Any) -> ApiError:
    return invalid_argument(f"Invalid value at '{path}' ({proto_type}), {value!r}", path)


def _missing(request_name: str, path: str, what: str) -> ApiError:
    return invalid_argument(f"* {request_name}.{path}: {what}\n", path)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def check_content(content: Any, path: str, request_name: str, *, need_parts: bool = True) -> None:
    if not isinstance(content, dict):
        raise _type_error(
            path, "type.googleapis.com/google.ai.generativelanguage.v1beta.Content", content
        )
    role = pick(content, "role", "")
    if not isinstance(role, str) or role not in _ROLES:
        raise invalid_argument(
            f"* {request_name}.{path}.role: Please use a valid role: user, model.\n", f"{path}.role"
        )
    parts = pick(content, "parts")
    if parts is None or parts == []:
        if need_parts:
            raise _missing(request_name, f"{path}.parts", "contents.parts must not be empty.")
        return
    if not isinstance(parts, list):
        raise _type_error(f"{path}.parts", "TYPE_MESSAGE", parts)
    for j, part in enumerate(parts):
        check_part(part, f"{path}.parts[{j}]", request_name)


def check_part(part: Any, path: str, request_name: str) -> None:
    if not isinstance(part, dict):
        raise _type_error(
            path, "type.googleapis.com/google.ai.generativelanguage.v1beta.Part", part
        )
    if not any(kind in part or snake(kind) in part for kind in _PART_KINDS):
        raise _missing(
            request_name,
            f"{path}.data",
            "required oneof field 'data' must have one initialized field",
        )
    text = part.get("text")
    if text is not None and not isinstance(text, str):
        raise _type_error(f"{path}.text", "TYPE_STRING", text)
    inline = pick(part, "inlineData")
    if inline is not None:
        if not isinstance(inline, dict) or not isinstance(pick(inline, "data"), str):
            raise _missing(
                request_name, f"{path}.inline_data.data", "inline_data.data must be base64 bytes"
            )
        if not isinstance(pick(inline, "mimeType"), str):
            raise _missing(
                request_name, f"{path}.inline_data.mime_type", "mime_type is not specified"
            )
    file_data = pick(part, "fileData")
    if file_data is not None and not isinstance(pick(file_data, "fileUri"), str):
        raise _missing(request_name, f"{path}.file_data.file_uri", "file_uri is not specified")


def check_generate_request(body: Any, request_name: str = "GenerateContentRequest") -> None:
    """Raise 400 for the malformed shapes and unknown fields the real API rejects."""
    if not isinstance(body, dict):
        raise invalid_argument(
            f'Invalid JSON payload received. Expected an object for "{request_name}".'
        )
    check_fields(body, GENERATE_CONTENT_REQUEST)
    contents = pick(body, "contents")
    if contents is None or contents == []:
        raise _missing(request_name, "contents", "contents is not specified")
    if not isinstance(contents, list):
        raise _type_error("contents", "TYPE_MESSAGE", contents)
    for i, content in enumerate(contents):
        check_content(content, f"contents[{i}]", request_name)
    system = pick(body, "systemInstruction")
    if system is not None:
        check_content(system, "system_instruction", request_name, need_parts=False)
    config = pick(body, "generationConfig")
    if config is not None:
        check_generation_config(config)
    for name in ("tools", "safetySettings"):
        value = pick(body, name)
        if value is not None and not isinstance(value, list):
            raise _type_error(snake(name), "TYPE_MESSAGE", value)
    cached = pick(body, "cachedContent")
    if cached is not None and not isinstance(cached, str):
        raise _type_error("cached_content", "TYPE_STRING", cached)


def check_generation_config(config: Any) -> None:
    if not isinstance(config, dict):
        raise _type_error(
            "generation_config",
            "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig",
            config,
        )
    # Walk the fields present (usually two or three) rather than probing every known one.
    for key, value in config.items():
        name = _CAMEL.get(key, key)
        if value is None or name not in _CHECKS:
            continue
        path = f"generation_config.{snake(name)}"
        _CHECKS[name](value, path)
    if pick(config, "logprobs") is not None and pick(config, "responseLogprobs") is not True:
        raise invalid_argument(LOGPROBS_WITHOUT_RESPONSE_LOGPROBS, "generation_config.logprobs")


def _number(proto_type: str, low: float | None = None, high: float | None = None):
    def check(value: Any, path: str) -> None:
        if not _is_number(value):
            raise _type_error(path, proto_type, value)
        if (low is not None and value < low) or (high is not None and value > high):
            raise invalid_argument(
                f"* GenerateContentRequest.{path}: {path.rsplit('.', 1)[1]} must be between "
                f"{low} and {high}\n",
                path,
            )

    return check


def _integer(minimum: int | None = None):
    def check(value: Any, path: str) -> None:
        if not _is_integer(value):
            raise _type_error(path, "TYPE_INT32", value)
        if minimum is not None and value < minimum:
            raise invalid_argument(
                f"* GenerateContentRequest.{path}: {path.rsplit('.', 1)[1]} must be at least "
                f"{minimum}\n",
                path,
            )

    return check


def _strings(value: Any, path: str) -> None:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _type_error(path, "TYPE_STRING", value)


def _string(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise _type_error(path, "TYPE_STRING", value)


def _thinking(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise _type_error(path, "TYPE_MESSAGE", value)
    budget = pick(value, "thinkingBudget")
    if budget is not None and not _is_integer(budget):
        raise _type_error(f"{path}.thinking_budget", "TYPE_INT32", budget)


_CHECKS = {
    "temperature": _number("TYPE_FLOAT", 0, 2),
    "topP": _number("TYPE_FLOAT", 0, 1),
    "topK": _number("TYPE_INT32", 1),
    "presencePenalty": _number("TYPE_FLOAT"),
    "frequencyPenalty": _number("TYPE_FLOAT"),
    "maxOutputTokens": _integer(1),
    "candidateCount": _integer(1),
    "seed": _integer(),
    "logprobs": _integer(0),
    "stopSequences": _strings,
    "responseMimeType": _string,
    "thinkingConfig": _thinking,
}
_CAMEL = {snake(name): name for name in _CHECKS}
