"""The Starlette application: the API route table, error rendering and the background ticker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipResponder
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from console.emulator import batches, caches, control, embeddings, files, serving, webhooks
from console.emulator.clock import EmulatorClock
from console.emulator.config import EmulatorConfig
from console.emulator.errors import ApiError, not_found
from console.emulator.faults import silence_drop_logs
from console.emulator.state import EmulatorState

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]

# POST /{v}/models/{model}:{action}
_MODEL_ACTIONS: dict[str, Endpoint] = {
    "generateContent": serving.generate_content,
    "streamGenerateContent": serving.stream_generate_content,
    "countTokens": serving.count_tokens,
    "batchGenerateContent": batches.create_batch,
    "embedContent": embeddings.embed_content,
    "batchEmbedContents": embeddings.batch_embed_contents,
    "asyncBatchEmbedContent": batches.create_embed_batch,
}

# Compress every non-empty body when the client accepts gzip: the API gzips its JSON answers
# whatever their size, even a two-byte `{}` (google-genai's own tests check the header on one).
GZIP_MINIMUM_SIZE = 1


class AcceptGzip:
    """gzip a response when the request says `Accept-Encoding: gzip`, as the real API does.

    Starlette's GZipMiddleware also wraps requests that do not ask for gzip; this one steps
    aside for them, so clients that do not compress pay nothing. Event streams stay plain.
    """

    def __init__(self, app: ASGIApp, minimum_size: int = GZIP_MINIMUM_SIZE) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"accept-encoding" and b"gzip" in value:
                    responder = GZipResponder(self.app, self.minimum_size)
                    await responder(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def by_method(**endpoints: Endpoint) -> Endpoint:
    async def dispatch(request: Request) -> Response:
        return await endpoints[request.method.lower()](request)

    return dispatch


def by_action(actions: dict[str, Endpoint], param: str, fallback: Endpoint) -> Endpoint:
    """Routes `…/{name}:{action}`, the Google custom-method form, to the action's endpoint."""

    async def dispatch(request: Request) -> Response:
        action = (
            request.path_params[param].rpartition(":")[2]
            if ":" in request.path_params[param]
            else ""
        )
        return await actions.get(action, fallback)(request)

    return dispatch


async def models_post(request: Request) -> Response:
    target = request.path_params["target"]
    action = target.rpartition(":")[2] if ":" in target else ""
    return await _MODEL_ACTIONS.get(action, serving.unknown_method)(request)


def routes() -> list:
    return [
        Mount("/_emulator", routes=control.ROUTES),
        Route("/{version}/models", serving.list_models, methods=["GET"]),
        Route(
            "/{version}/models/{target}",
            by_method(
                get=serving.get_model,
                post=models_post,
                delete=serving.change_model,
                patch=serving.change_model,
            ),
            methods=["GET", "POST", "DELETE", "PATCH"],
        ),
        Route("/{version}/tunedModels", serving.list_tuned_models, methods=["GET"]),
        Route(
            "/{version}/tunedModels/{target}",
            by_method(
                get=serving.get_tuned_model,
                delete=serving.get_tuned_model,
                patch=serving.get_tuned_model,
                post=serving.get_tuned_model,
            ),
            methods=["GET", "DELETE", "PATCH", "POST"],
        ),
        Route(
            "/{version}/cachedContents",
            by_method(get=caches.list_caches, post=caches.create_cache),
            methods=["GET", "POST"],
        ),
        Route(
            "/{version}/cachedContents/{cache}",
            by_method(get=caches.get_cache, patch=caches.patch_cache, delete=caches.delete_cache),
            methods=["GET", "PATCH", "DELETE"],
        ),
        Route("/upload/{version}/files", files.upload, methods=["POST"]),
        Route("/{version}/files", files.list_files, methods=["GET"]),
        Route("/{version}/files:register", files.register_files, methods=["POST"]),
        Route(
            "/{version}/files/{file}",
            by_method(get=files.get_file, delete=files.delete_file),
            methods=["GET", "DELETE"],
        ),
        Route("/download/{version}/files/{file}", files.download_file, methods=["GET"]),
        Route("/{version}/batches", batches.list_batches, methods=["GET"]),
        Route(
            "/{version}/batches/{batch}",
            by_method(
                get=batches.get_batch,
                delete=batches.delete_batch,
                post=by_action({"cancel": batches.cancel_batch}, "batch", serving.unknown_method),
            ),
            methods=["GET", "DELETE", "POST"],
        ),
        Route(
            "/{version}/webhooks",
            by_method(get=webhooks.list_webhooks, post=webhooks.create_webhook),
            methods=["GET", "POST"],
        ),
        Route(
            "/{version}/webhooks/{hook}",
            by_method(
                get=webhooks.get_webhook,
                patch=webhooks.update_webhook,
                delete=webhooks.delete_webhook,
                post=by_action(
                    {
                        "ping": webhooks.ping_webhook,
                        "rotateSigningSecret": webhooks.rotate_webhook_secret,
                    },
                    "hook",
                    serving.unknown_method,
                ),
            ),
            methods=["GET", "PATCH", "DELETE", "POST"],
        ),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = not_found(f"The requested URL {request.url.path} was not found on this server.")
    elif exc.status_code == 405:
        # The API never answers 405: a verb a resource does not have is an unknown method.
        error = not_found("Method not found.")
    else:
        error = ApiError(exc.status_code, str(exc.detail))
    return error.response()


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("emulator error on %s %s", request.method, request.url.path)
    return ApiError(500, "Internal error encountered.", "INTERNAL").response()


async def _ticker(state: EmulatorState) -> None:
    while True:
        await asyncio.sleep(state.config.tick_interval_s)
        try:
            state.tick()
        except Exception:  # a bad record must not stop batches advancing for everyone else
            log.exception("emulator tick failed")


def create_app(
    config: EmulatorConfig | None = None, clock: EmulatorClock | None = None
) -> Starlette:
    """A ready emulator app; `app.state.emulator` is its `EmulatorState`."""
    state = EmulatorState(config or EmulatorConfig(), clock or EmulatorClock())
    silence_drop_logs()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.open()
        state.webhooks.loop = asyncio.get_running_loop()
        state.webhooks.client = httpx.AsyncClient()
        ticker = asyncio.create_task(_ticker(state))
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await state.webhooks.drain()
            await state.webhooks.client.aclose()
            state.webhooks.loop = None
            state.close()

    app = Starlette(
        routes=routes(),
        middleware=[Middleware(AcceptGzip)],
        lifespan=lifespan,
        exception_handlers={
            HTTPException: _http_error,
            ApiError: _api_error,
            Exception: _unexpected,
        },
    )
    app.state.emulator = state
    return app
