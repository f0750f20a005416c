"""Embeddings: `embedContent`, `batchEmbedContents` (what the SDK's embed_content sends)."""

from __future__ import annotations

import hashlib
import math
import random
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from console.emulator.api import api_route, json_body, json_object
from console.emulator.errors import invalid_argument, model_not_found
from console.emulator.models import ModelInfo, lookup, model_id
from console.emulator.schema import (
    BATCH_EMBED_CONTENTS_REQUEST,
    EMBED_CONTENT_REQUEST,
    check_fields,
)
from console.emulator.validation import check_content
from console.emulator.wire import json_response, pick

if TYPE_CHECKING:
    from console.emulator.state import EmulatorState

_TASK_TYPES = frozenset(
    {
        "TASK_TYPE_UNSPECIFIED",
        "RETRIEVAL_QUERY",
        "RETRIEVAL_DOCUMENT",
        "SEMANTIC_SIMILARITY",
        "CLASSIFICATION",
        "CLUSTERING",
        "QUESTION_ANSWERING",
        "FACT_VERIFICATION",
        "CODE_RETRIEVAL_QUERY",
    }
)


def embedding_model(name: str, version: str, method: str, entry: dict | None = None) -> ModelInfo:
    model = lookup(name)
    if entry is not None:
        entry["model"] = model_id(name)
    if model is None or not model.embeddings:
        raise model_not_found(model_id(name), version, method)
    return model


def check_embed_request(model: ModelInfo, body: Any, request_name: str, path: str = "") -> None:
    """400 for what the real API rejects in one EmbedContentRequest."""
    prefix = f"{path}." if path else ""
    if not isinstance(body, dict):
        raise invalid_argument(
            f'Invalid JSON payload received. Expected an object for "{request_name}".'
        )
    content = pick(body, "content")
    if content is None:
        raise invalid_argument(
            f"* {request_name}.{prefix}content: content is not specified\n", f"{prefix}content"
        )
    check_content(content, f"{prefix}content", request_name)
    task = pick(body, "taskType")
    if task is not None and task not in _TASK_TYPES:
        raise invalid_argument(
            f"Invalid value at '{prefix}task_type' "
            f'(type.googleapis.com/google.ai.generativelanguage.v1beta.TaskType), "{task}"',
            f"{prefix}task_type",
        )
    dims = pick(body, "outputDimensionality")
    if dims is not None:
        if isinstance(dims, bool) or not isinstance(dims, (int, float)) or dims != int(dims):
            raise invalid_argument(
                f"Invalid value at '{prefix}output_dimensionality' (TYPE_INT32), {dims!r}",
                f"{prefix}output_dimensionality",
            )
        if not 1 <= dims <= model.embedding_dimensions:
            raise invalid_argument(
                f"* {request_name}.{prefix}output_dimensionality: output_dimensionality must be "
                f"between 1 and {model.embedding_dimensions} for {model.name}\n",
                f"{prefix}output_dimensionality",
            )


def embed(state: EmulatorState, model: ModelInfo, body: dict[str, Any]) -> tuple[list[float], int]:
    """A deterministic vector for one request (the same text, task and size, the same vector)."""
    content = pick(body, "content")
    dims = int(pick(body, "outputDimensionality", model.embedding_dimensions))
    seed = hashlib.blake2b(
        orjson.dumps(
            [model.serves_as, content, pick(body, "taskType"), pick(body, "title")],
            option=orjson.OPT_SORT_KEYS,
        ),
        digest_size=8,
    ).digest()
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(dims)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    tokens = state.counter.contents([content]).total
    return [round(v / norm, 8) for v in values], tokens


@api_route("embedContent")
async def embed_content(request: Request, state: EmulatorState, entry: dict) -> Response:
    name = request.path_params["target"].rpartition(":")[0]
    model = embedding_model(name, request.path_params["version"], "embedContent", entry)
    body = json_object(await json_body(request), "EmbedContentRequest")
    check_fields(body, EMBED_CONTENT_REQUEST)
    check_embed_request(model, body, "EmbedContentRequest")
    values, tokens = embed(state, model, body)
    state.quotas.admit(model.model_id, tokens, state.clock.now())
    return json_response({"embedding": {"values": values}})


@api_route("batchEmbedContents")
async def batch_embed_contents(request: Request, state: EmulatorState, entry: dict) -> Response:
    name = request.path_params["target"].rpartition(":")[0]
    model = embedding_model(name, request.path_params["version"], "batchEmbedContents", entry)
    body = json_object(await json_body(request), "BatchEmbedContentsRequest")
    check_fields(body, BATCH_EMBED_CONTENTS_REQUEST)
    requests = pick(body, "requests")
    if not isinstance(requests, list) or not requests:
        raise invalid_argument(
            "* BatchEmbedContentsRequest.requests: requests must not be empty\n", "requests"
        )
    if len(requests) > 100:
        raise invalid_argument(
            "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n",
            "requests",
        )
    embeddings = []
    total = 0
    for i, item in enumerate(requests):
        check_embed_request(model, item, "BatchEmbedContentsRequest", f"requests[{i}]")
        inner = pick(item, "model")
        if inner is not None and model_id(str(inner)) != model.model_id:
            raise invalid_argument(
                f"* BatchEmbedContentsRequest.requests[{i}].model: the model of every request "
                f"must be the one in the URL ({model.name}), not {inner}\n",
                f"requests[{i}].model",
            )
        values, tokens = embed(state, model, item)
        embeddings.append({"values": values})
        total += tokens
    state.quotas.admit(model.model_id, total, state.clock.now())
    return json_response({"embeddings": embeddings})
