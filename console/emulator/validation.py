"""Request validation: 400 INVALID_ARGUMENT with a message naming the offending field."""

from __future__ import annotations

from typing import Any

from console.emulator.errors import ApiError, invalid_argument
from console.emulator.wire import pick, snake

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

# generationConfig fields and the proto type named in the real API's error text.
_NUMBERS = {
    "temperature": "TYPE_FLOAT",
    "topP": "TYPE_FLOAT",
    "topK": "TYPE_INT32",
    "presencePenalty": "TYPE_FLOAT",
    "frequencyPenalty": "TYPE_FLOAT",
}
_INTEGERS = {"maxOutputTokens", "candidateCount", "seed", "logprobs"}


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
    """Raise 400 for the malformed shapes the real API rejects; unknown fields pass through."""
    if not isinstance(body, dict):
        raise invalid_argument(
            f'Invalid JSON payload received. Expected an object for "{request_name}".'
        )
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
    for name, proto_type in _NUMBERS.items():
        value = pick(config, name)
        if value is not None and not _is_number(value):
            raise _type_error(f"generation_config.{snake(name)}", proto_type, value)
    for name in _INTEGERS:
        value = pick(config, name)
        if value is not None and not _is_integer(value):
            raise _type_error(f"generation_config.{snake(name)}", "TYPE_INT32", value)
    temperature = pick(config, "temperature")
    if temperature is not None and not 0 <= temperature <= 2:
        raise invalid_argument(
            "* GenerateContentRequest.generation_config.temperature: temperature must be "
            "between 0 and 2\n",
            "generation_config.temperature",
        )
    max_tokens = pick(config, "maxOutputTokens")
    if max_tokens is not None and max_tokens < 1:
        raise invalid_argument(
            "* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens "
            "must be positive\n",
            "generation_config.max_output_tokens",
        )
    stops = pick(config, "stopSequences")
    if stops is not None and (
        not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)
    ):
        raise _type_error("generation_config.stop_sequences", "TYPE_STRING", stops)
    thinking = pick(config, "thinkingConfig")
    if thinking is not None:
        if not isinstance(thinking, dict):
            raise _type_error("generation_config.thinking_config", "TYPE_MESSAGE", thinking)
        budget = pick(thinking, "thinkingBudget")
        if budget is not None and not _is_integer(budget):
            raise _type_error(
                "generation_config.thinking_config.thinking_budget", "TYPE_INT32", budget
            )
    mime = pick(config, "responseMimeType")
    if mime is not None and not isinstance(mime, str):
        raise _type_error("generation_config.response_mime_type", "TYPE_STRING", mime)
