"""Model routes: list / get, countTokens, generateContent and streamGenerateContent (SSE)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from console.emulator.api import api_route, json_body, json_object
from console.emulator.errors import ApiError, invalid_argument, model_not_found, not_found
from console.emulator.generate import PromptCount, response_id
from console.emulator.logprobs import logprobs_result
from console.emulator.models import CATALOGUE, ModelInfo, lookup, model_id
from console.emulator.schema import COUNT_TOKENS_REQUEST, check_fields
from console.emulator.tiers import normalise_tier
from console.emulator.validation import check_content, check_generate_request
from console.emulator.wire import json_response, page, pick

_CACHE_NAME = re.compile(r"^cachedContents/[A-Za-z0-9_-]+$")

if TYPE_CHECKING:
    from console.emulator.state import EmulatorState


@dataclass
class Prepared:
    """A validated request with its prompt accounting, ready to be answered."""

    model: ModelInfo
    body: dict[str, Any]  # with an explicit cache's contents folded in
    count: PromptCount
    cached_tokens: int


class Responder:
    """Prompt accounting (explicit and implicit caches) and response shaping."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    @staticmethod
    def check(body: dict[str, Any]) -> None:
        check_generate_request(body)

    def prepare(
        self,
        model: ModelInfo,
        body: dict[str, Any],
        *,
        request_name: str = "GenerateContentRequest",
    ) -> Prepared:
        check_generate_request(body, request_name)
        check_model_features(model, body)
        state = self.state
        cache_name = pick(body, "cachedContent")
        if cache_name:
            if not _CACHE_NAME.match(cache_name):
                raise invalid_argument(
                    f"* {request_name}.cached_content: Invalid CachedContent name "
                    f'"{cache_name}". The name must look like cachedContents/{{cachedContent}}.\n',
                    "cached_content",
                )
            record = state.caches.get(cache_name)
            if record["model"] != model.name:
                raise invalid_argument(
                    f"Model used by GenerateContent request ({model.name}) and CachedContent "
                    f"({record['model']}) has to be the same."
                )
            for name in ("systemInstruction", "tools", "toolConfig"):
                if pick(body, name) is not None:
                    raise invalid_argument(
                        "CachedContent can not be used with GenerateContent request setting "
                        "system_instruction, tools or tool_config.\n\nProposed fix: move those "
                        "values to CachedContent from GenerateContent request."
                    )
            cached = record["usageMetadata"]["totalTokenCount"]
            content = record["_content"]
            merged = {k: v for k, v in body.items() if k not in ("cachedContent", "cached_content")}
            merged["contents"] = list(content.get("contents") or []) + list(pick(body, "contents"))
            for name in ("systemInstruction", "tools", "toolConfig"):
                if name in content:
                    merged[name] = content[name]
            count = state.counter.request(merged)
            return Prepared(model, merged, count, cached)
        count = state.counter.request(body)
        cached = 0
        if model.implicit_caching:
            minimum = state.config.implicit_cache_minimum(model.model_id)
            if count.total >= minimum:
                cached = state.implicit.match_and_record(
                    model.model_id,
                    state.counter.prefix_segments(body),
                    minimum,
                    state.clock.now(),
                    state.config.implicit_cache_ttl_s,
                )
        return Prepared(model, body, count, cached)

    def respond(self, prepared: Prepared) -> dict[str, Any]:
        generated = self.state.synth.generate(prepared.model, prepared.body)
        count = prepared.count
        usage: dict[str, Any] = {
            "promptTokenCount": count.total,
            "candidatesTokenCount": generated.output_tokens,
            "totalTokenCount": count.total + generated.output_tokens + generated.thought_tokens,
            "promptTokensDetails": count.details(),
        }
        if prepared.cached_tokens:
            usage["cachedContentTokenCount"] = prepared.cached_tokens
            usage["cacheTokensDetails"] = [
                {"modality": "TEXT", "tokenCount": prepared.cached_tokens}
            ]
        if generated.thought_tokens:
            usage["thoughtsTokenCount"] = generated.thought_tokens
        if any(m != "TEXT" for m in generated.output_by_modality):
            usage["candidatesTokensDetails"] = [
                {"modality": m, "tokenCount": n} for m, n in generated.output_by_modality.items()
            ]
        config = pick(prepared.body, "generationConfig")
        if config is not None and pick(config, "responseLogprobs") is True:
            top = int(pick(config, "logprobs", 0))
            for candidate in generated.candidates:
                average, result = logprobs_result(candidate, top)
                candidate["avgLogprobs"] = average
                candidate["logprobsResult"] = result
        return {
            "candidates": generated.candidates,
            "usageMetadata": usage,
            "modelVersion": prepared.model.serves_as,
            "responseId": response_id(),
        }


def check_model_features(model: ModelInfo, body: dict[str, Any]) -> None:
    """400 for what the request asks of a model that cannot do it (logprobs, modalities)."""
    config = pick(body, "generationConfig")
    if config is None:
        return
    if pick(config, "responseLogprobs") is True and not model.logprobs:
        raise invalid_argument(f"Logprobs is not enabled for {model.name}")
    modalities = pick(config, "responseModalities")
    if model.tts and isinstance(modalities, list) and modalities:
        asked = sorted(str(m).upper() for m in modalities)
        if asked != ["AUDIO"]:
            raise invalid_argument(
                f"The requested combination of response modalities ({', '.join(asked)}) is not "
                f"supported by the model. {model.name} accepts the following combination of "
                "response modalities:\n* AUDIO\n"
            )


def resolve_model(name: str, version: str, method: str, entry: dict) -> ModelInfo:
    model = lookup(name)
    entry["model"] = model_id(name)
    if model is None or method not in model.methods:
        raise model_not_found(model_id(name), version, method)
    return model


async def _admit(request: Request, state: EmulatorState, entry: dict, method: str):
    """Shared front half of generate and stream: parse, account, pick the serving tier."""
    version = request.path_params["version"]
    model = resolve_model(request.path_params["target"].rpartition(":")[0], version, method, entry)
    body = json_object(await json_body(request), "GenerateContentRequest")
    asked = normalise_tier(pick(body, "serviceTier"))
    entry["tier_requested"] = asked
    prepared = state.responder.prepare(model, body)
    now = state.clock.now()
    state.quotas.admit(model.model_id, prepared.count.total, now)
    served = state.tiers.serve(asked, model.model_id, now, state.in_flight)
    entry["tier_served"] = served
    entry["delay_s"] = await state.tiers.delay(served)
    return prepared, served


@api_route("generateContent")
async def generate_content(request: Request, state: EmulatorState, entry: dict) -> Response:
    prepared, served = await _admit(request, state, entry, "generateContent")
    return json_response(
        state.responder.respond(prepared), headers={"x-gemini-service-tier": served}
    )


def _pieces(candidate: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Split one candidate's parts into stream chunks: thoughts, text in three, then the rest."""
    chunks: list[list[dict[str, Any]]] = []
    tail: list[dict[str, Any]] = []
    for part in candidate["content"]["parts"]:
        text = part.get("text")
        if text is None:
            tail.append(part)
        elif part.get("thought"):
            chunks.append([part])
        else:
            step = max(1, len(text) // 3 + 1)
            chunks.extend([{"text": text[i : i + step]}] for i in range(0, len(text), step))
    if tail or not chunks:
        chunks.append(tail)
    return chunks


def stream_events(response: dict[str, Any], break_after_first: bool) -> list[bytes]:
    usage = response["usageMetadata"]
    partial_usage = {
        "promptTokenCount": usage["promptTokenCount"],
        "totalTokenCount": usage["promptTokenCount"],
        "promptTokensDetails": usage["promptTokensDetails"],
    }
    per_candidate = [_pieces(c) for c in response["candidates"]]
    total = max(len(p) for p in per_candidate)
    events = []
    for i in range(total):
        last = i == total - 1
        candidates = []
        for candidate, pieces in zip(response["candidates"], per_candidate, strict=True):
            if i >= len(pieces):
                continue
            chunk = {"content": {"parts": pieces[i], "role": "model"}}
            if i == len(pieces) - 1:
                chunk["finishReason"] = candidate["finishReason"]
            chunk["index"] = candidate["index"]
            candidates.append(chunk)
        event = {
            "candidates": candidates,
            "usageMetadata": usage if last else partial_usage,
            "modelVersion": response["modelVersion"],
            "responseId": response["responseId"],
        }
        events.append(b"data: " + orjson.dumps(event) + b"\r\n\r\n")
        if break_after_first and not last:
            error = ApiError(
                500,
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting",
            )
            events.append(b"data: " + orjson.dumps(error.body()) + b"\r\n\r\n")
            break
    return events


@api_route("streamGenerateContent")
async def stream_generate_content(request: Request, state: EmulatorState, entry: dict) -> Response:
    prepared, served = await _admit(request, state, entry, "generateContent")
    events = stream_events(
        state.responder.respond(prepared), state.faults.breaks_stream("streamGenerateContent")
    )

    async def body() -> AsyncIterator[bytes]:
        for event in events:
            yield event

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"x-gemini-service-tier": served}
    )


@api_route("countTokens")
async def count_tokens(request: Request, state: EmulatorState, entry: dict) -> Response:
    version = request.path_params["version"]
    model = resolve_model(
        request.path_params["target"].rpartition(":")[0], version, "countTokens", entry
    )
    body = json_object(await json_body(request), "CountTokensRequest")
    check_fields(body, COUNT_TOKENS_REQUEST)
    inner = pick(body, "generateContentRequest")
    if inner is not None:
        prepared = state.responder.prepare(
            model,
            json_object(inner, "GenerateContentRequest"),
            request_name="CountTokensRequest.generate_content_request",
        )
        count, cached = prepared.count, prepared.cached_tokens
    else:
        contents = pick(body, "contents", [])
        if not isinstance(contents, list):
            raise invalid_argument("Invalid value at 'contents' (TYPE_MESSAGE)", "contents")
        for i, content in enumerate(contents):
            check_content(content, f"contents[{i}]", "CountTokensRequest")
        count, cached = state.counter.contents(contents), 0
    result: dict[str, Any] = {"totalTokens": count.total}
    if cached:
        result["cachedContentTokenCount"] = cached
    result["promptTokensDetails"] = count.details()
    return json_response(result)


@api_route("models.list")
async def list_models(request: Request, state: EmulatorState, entry: dict) -> Response:
    models = [m.resource() for m in CATALOGUE.values()]
    chunk, token = page(models, request.query_params, default_size=50, max_size=1000)
    body: dict[str, Any] = {"models": chunk}
    if token:
        body["nextPageToken"] = token
    return json_response(body)


@api_route("models.get")
async def get_model(request: Request, state: EmulatorState, entry: dict) -> Response:
    name = request.path_params["target"]
    entry["model"] = model_id(name)
    model = lookup(name)
    if model is None:
        raise not_found(
            f"models/{model_id(name)} is not found for API version {request.path_params['version']}, or is not supported for GetModel."
        )
    return json_response(model.resource())


@api_route("tunedModels.list")
async def list_tuned_models(request: Request, state: EmulatorState, entry: dict) -> Response:
    return json_response({})


@api_route("tunedModels.get")
async def get_tuned_model(request: Request, state: EmulatorState, entry: dict) -> Response:
    """Every tunedModels/… call: the emulator holds no tuned models."""
    target = request.path_params["target"].partition(":")[0]
    raise not_found(f"Tuned model tunedModels/{target} does not exist.")


@api_route("models.change")
async def change_model(request: Request, state: EmulatorState, entry: dict) -> Response:
    """DELETE / PATCH on a base model: the API has no such method for `models/…`."""
    entry["model"] = model_id(request.path_params["target"])
    raise not_found("Method not found.")


@api_route("unknownMethod")
async def unknown_method(request: Request, state: EmulatorState, entry: dict) -> Response:
    action = request.path_params["target"].rpartition(":")[2]
    raise not_found(f"Method not found: {action}")
