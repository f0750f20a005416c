"""The control surface under `/_emulator/`: health, reset, request log, clock, faults, config."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.emulator.config import FaultProfile
from console.emulator.errors import invalid_argument
from console.emulator.wire import json_response, rfc3339

if TYPE_CHECKING:
    from console.emulator.state import EmulatorState


def _state(request: Request) -> EmulatorState:
    return request.app.state.emulator


async def _object(request: Request) -> dict:
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise invalid_argument("Invalid JSON payload received.") from None
    if not isinstance(body, dict):
        raise invalid_argument("Expected a JSON object.")
    return body


def _clock_body(state: EmulatorState) -> dict:
    now = state.clock.now()
    return {"now": rfc3339(now), "now_unix": now, "offset_seconds": state.clock.offset}


async def health(request: Request) -> Response:
    state = _state(request)
    return json_response(
        {
            "status": "ok",
            "emulator": "gemini",
            "clock": _clock_body(state),
            "persistent": state.persistence is not None,
            "counts": {
                "files": len(state.files.files),
                "cachedContents": len(state.caches.caches),
                "batches": len(state.batches.batches),
                "webhooks": len(state.webhooks.hooks),
                "requests_logged": len(state.log.entries),
            },
        }
    )


async def reset(request: Request) -> Response:
    _state(request).reset()
    return json_response({})


async def requests(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        state.log.clear()
        return json_response({})
    params = request.query_params
    try:
        since = int(params.get("since_id", 0))
        limit = int(params["limit"]) if "limit" in params else None
    except ValueError:
        raise invalid_argument("since_id and limit must be integers") from None
    rows = state.log.query(
        operation=params.get("operation"), model=params.get("model"), since_id=since, limit=limit
    )
    return json_response({"requests": rows})


async def clock(request: Request) -> Response:
    state = _state(request)
    if request.method == "POST":
        body = await _object(request)
        seconds = body.get("advance_seconds", 0)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise invalid_argument(
                "advance_seconds must be a non-negative number", "advance_seconds"
            )
        state.clock.advance(seconds)
        state.tick()
    return json_response(_clock_body(state))


async def faults(request: Request) -> Response:
    state = _state(request)
    if request.method == "PUT":
        try:
            state.config.faults = FaultProfile.from_dict(await _object(request))
        except (TypeError, ValueError) as exc:
            raise invalid_argument(str(exc)) from None
    return json_response(state.config.faults.to_dict())


async def config(request: Request) -> Response:
    state = _state(request)
    if request.method == "PATCH":
        try:
            state.config.update(await _object(request))
        except (TypeError, ValueError) as exc:
            raise invalid_argument(str(exc)) from None
        state.apply_config()
    return json_response(state.config.to_dict())


async def deliveries(request: Request) -> Response:
    return json_response({"deliveries": list(_state(request).webhooks.deliveries)})


async def tick(request: Request) -> Response:
    _state(request).tick()
    return json_response({})


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/reset", reset, methods=["POST"]),
    Route("/requests", requests, methods=["GET", "DELETE"]),
    Route("/clock", clock, methods=["GET", "POST"]),
    Route("/faults", faults, methods=["GET", "PUT"]),
    Route("/config", config, methods=["GET", "PATCH"]),
    Route("/webhook-deliveries", deliveries, methods=["GET"]),
    Route("/tick", tick, methods=["POST"]),
]
