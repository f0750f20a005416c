"""The wrapper every API route shares: version check, API key, faults, request log, errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from console.emulator.errors import ApiError, invalid_argument, invalid_key, missing_key, not_found
from console.emulator.faults import DroppedConnection, DroppedResponse

if TYPE_CHECKING:
    from console.emulator.state import EmulatorState

log = logging.getLogger(__name__)

VERSIONS = frozenset({"v1", "v1beta", "v1alpha"})

Handler = Callable[[Request, "EmulatorState", dict[str, Any]], Awaitable[Response]]


def authorize(request: Request, accepted: set[str] | None) -> None:
    key = request.headers.get("x-goog-api-key")
    if key is None and request.scope.get("query_string"):
        key = request.query_params.get("key")
    key = (key or "").strip()
    if not key:
        raise missing_key()
    if key == "invalid" or (accepted is not None and key not in accepted):
        raise invalid_key()


def api_route(operation: str, *, auth: bool = True) -> Callable[[Handler], Callable]:
    """Wrap a handler `(request, state, log_entry) -> Response` as a Starlette endpoint."""

    def decorate(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            state: EmulatorState = request.app.state.emulator
            entry = state.log.open(request, operation, state.clock.now())
            started = time.perf_counter()
            state.in_flight += 1
            # Calls being served as this one arrived (itself included): tests read overlap
            # from here, not from wall-clock bounds.
            entry["in_flight"] = state.in_flight
            try:
                if request.path_params.get("version", "v1beta") not in VERSIONS:
                    raise not_found(f"API version not found: {request.path_params['version']}")
                if auth:
                    authorize(request, state.config.accepted_keys)
                await state.faults.before(operation)
                response = await handler(request, state, entry)
            except ApiError as error:
                response = error.response()
            except DroppedConnection:
                response = DroppedResponse()  # type: ignore[assignment]
            except Exception:
                log.exception("emulator error in %s", operation)
                response = ApiError(500, "Internal error encountered.", "INTERNAL").response()
            finally:
                state.in_flight -= 1
            entry["status"] = response.status_code
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            return response

        endpoint.__name__ = handler.__name__
        return endpoint

    return decorate


async def json_body(request: Request, *, required: bool = True) -> Any:
    """The parsed JSON body; 400 INVALID_ARGUMENT with the real wording when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise invalid_argument("Invalid JSON payload received. Unexpected end of input.")
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid_argument(
            f"Invalid JSON payload received. Unexpected token.\n{exc.msg} at {exc.pos}"
        ) from None


def json_object(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise invalid_argument(f'Invalid JSON payload received. Expected an object for "{what}".')
    return value
