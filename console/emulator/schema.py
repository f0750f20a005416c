"""Unknown-field strictness: every request body is checked against the API's message shapes.

The real API parses request JSON into protos and answers an unknown field with 400
INVALID_ARGUMENT, `Invalid JSON payload received. Unknown name "x" at 'path': Cannot find
field.` Both spellings of a field are accepted (camelCase and snake_case), as proto-JSON
parsers do. Free-form values (Struct fields, schemas, metadata maps) are not descended into.
"""

from __future__ import annotations

from typing import Any

from console.emulator.errors import ApiError
from console.emulator.wire import snake


class Message:
    """A proto message's JSON field names; `None` children are scalars or free-form values."""

    __slots__ = ("lookup", "name")

    def __init__(self, name: str, fields: dict[str, Any]) -> None:
        self.name = name
        self.lookup: dict[str, tuple[str, Any]] = {}
        for camel, spec in fields.items():
            self.lookup[camel] = self.lookup[snake(camel)] = (snake(camel), spec)


def unknown_field(name: str, path: str) -> ApiError:
    where = f" at '{path}'" if path else ""
    message = f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'
    violation: dict[str, str] = {"description": message}
    if path:
        violation["field"] = path
    return ApiError(
        400,
        message,
        "INVALID_ARGUMENT",
        [{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}],
    )


def check_fields(value: Any, message: Message, path: str = "") -> None:
    """Raise 400 for the first field `message` does not have (type errors are left to callers)."""
    if value.__class__ is not dict:
        return
    lookup = message.lookup
    for key, child in value.items():
        entry = lookup.get(key)
        if entry is None:
            raise unknown_field(key, path)
        spec = entry[1]
        if spec is None or child is None:
            continue
        sub = f"{path}.{entry[0]}" if path else entry[0]
        if spec.__class__ is Message:
            check_fields(child, spec, sub)
        elif child.__class__ is list:
            inner = spec[0]
            for i, item in enumerate(child):
                check_fields(item, inner, f"{sub}[{i}]")


def _free(*names: str) -> dict[str, None]:
    return dict.fromkeys(names)


BLOB = Message("Blob", _free("mimeType", "data", "displayName"))
FILE_DATA = Message("FileData", _free("mimeType", "fileUri", "displayName"))
PART = Message(
    "Part",
    {
        **_free(
            "text",
            "thought",
            "thoughtSignature",
            "functionCall",
            "functionResponse",
            "executableCode",
            "codeExecutionResult",
            "videoMetadata",
            "partMetadata",
            "mediaResolution",
            "audioMetadata",
            "audioTranscription",
            "documentMetadata",
            "mediaProcessing",
            "speechMetadata",
            "spreadsheetMetadata",
            "toolCall",
            "toolResponse",
        ),
        "inlineData": BLOB,
        "fileData": FILE_DATA,
    },
)
CONTENT = Message("Content", {"role": None, "parts": [PART]})
SAFETY_SETTING = Message("SafetySetting", _free("category", "threshold", "method"))
FUNCTION_CALLING_CONFIG = Message(
    "FunctionCallingConfig", _free("mode", "allowedFunctionNames", "streamFunctionCallArguments")
)
TOOL_CONFIG = Message(
    "ToolConfig",
    {
        "functionCallingConfig": FUNCTION_CALLING_CONFIG,
        **_free("retrievalConfig", "includeServerSideToolInvocations"),
    },
)
TOOL = Message(
    "Tool",
    _free(
        "functionDeclarations",
        "googleSearchRetrieval",
        "codeExecution",
        "googleSearch",
        "computerUse",
        "urlContext",
        "fileSearch",
        "googleMaps",
        "mcpServers",
    ),
)
THINKING_CONFIG = Message(
    "ThinkingConfig", _free("includeThoughts", "thinkingBudget", "thinkingLevel")
)
GENERATION_CONFIG = Message(
    "GenerationConfig",
    {
        **_free(
            "candidateCount",
            "stopSequences",
            "maxOutputTokens",
            "temperature",
            "topP",
            "topK",
            "seed",
            "presencePenalty",
            "frequencyPenalty",
            "responseLogprobs",
            "logprobs",
            "responseMimeType",
            "responseSchema",
            "responseJsonSchema",
            "responseModalities",
            "mediaResolution",
            "speechConfig",
            "imageConfig",
            "enableEnhancedCivicAnswers",
            "audioTranscriptionConfig",
            "enableAffectiveDialog",
        ),
        "thinkingConfig": THINKING_CONFIG,
    },
)
GENERATE_CONTENT_REQUEST = Message(
    "GenerateContentRequest",
    {
        "contents": [CONTENT],
        "systemInstruction": CONTENT,
        "tools": [TOOL],
        "toolConfig": TOOL_CONFIG,
        "safetySettings": [SAFETY_SETTING],
        "generationConfig": GENERATION_CONFIG,
        **_free("model", "cachedContent", "serviceTier", "labels", "store", "continuationToken"),
    },
)
COUNT_TOKENS_REQUEST = Message(
    "CountTokensRequest",
    {"contents": [CONTENT], "generateContentRequest": GENERATE_CONTENT_REQUEST},
)
CACHED_CONTENT = Message(
    "CachedContent",
    {
        "contents": [CONTENT],
        "systemInstruction": CONTENT,
        "tools": [TOOL],
        "toolConfig": TOOL_CONFIG,
        **_free(
            "name",
            "displayName",
            "model",
            "ttl",
            "expireTime",
            "createTime",
            "updateTime",
            "usageMetadata",
        ),
    },
)
_BATCH_OUTPUT_ONLY = _free(
    "name", "model", "output", "createTime", "endTime", "updateTime", "batchStats", "state"
)


def _batch_request(request: Message, name: str) -> Message:
    inlined = Message("InlinedRequest", {"request": request, "metadata": None})
    source = Message(
        "InputConfig",
        {"fileName": None, "requests": Message("InlinedRequests", {"requests": [inlined]})},
    )
    batch = Message(
        name,
        {
            "inputConfig": source,
            **_free("displayName", "priority", "webhookConfig"),
            **_BATCH_OUTPUT_ONLY,
        },
    )
    return Message(f"{name}Request", {"batch": batch})


BATCH_GENERATE_CONTENT_REQUEST = _batch_request(GENERATE_CONTENT_REQUEST, "GenerateContentBatch")
EMBED_CONTENT_REQUEST = Message(
    "EmbedContentRequest",
    {"content": CONTENT, **_free("model", "taskType", "title", "outputDimensionality")},
)
BATCH_EMBED_CONTENTS_REQUEST = Message(
    "BatchEmbedContentsRequest", {"requests": [EMBED_CONTENT_REQUEST]}
)
ASYNC_BATCH_EMBED_CONTENT_REQUEST = _batch_request(EMBED_CONTENT_REQUEST, "EmbedContentBatch")
CREATE_FILE_REQUEST = Message(
    "CreateFileRequest",
    {
        "file": Message(
            "File",
            _free(
                "name",
                "displayName",
                "mimeType",
                "sizeBytes",
                "createTime",
                "updateTime",
                "expirationTime",
                "sha256Hash",
                "uri",
                "downloadUri",
                "state",
                "source",
                "videoMetadata",
                "error",
            ),
        )
    },
)
REGISTER_FILES_REQUEST = Message("RegisterFilesRequest", _free("uris"))
WEBHOOK = Message(
    "Webhook",
    _free(
        "name",
        "uri",
        "subscribed_events",
        "state",
        "id",
        "create_time",
        "update_time",
        "signing_secrets",
        "new_signing_secret",
    ),
)
ROTATE_SIGNING_SECRET_REQUEST = Message("RotateSigningSecretRequest", _free("revocation_behavior"))
