"""THE path to Gemini: limiter -> google-genai (Client.aio) -> retry -> ledger.

The gateway owns one asyncio loop in a thread of its own: the SDK's async client, the limiter
and the ledger writer live there, so the console's UI loop is never blocked and any thread
can call in (`run`) while coroutines on other loops can await (`submit`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import threading
import time
import types as types_module
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

import httpx
import orjson
from google import genai
from google.genai import _interactions as nextgen_errors
from google.genai import errors as genai_errors
from google.genai import types

from console.services.callbook import CallBook, RowSink
from console.services.errors import GatewayError
from console.services.limits import CircuitOpen, QuotaExhausted, RateLimiter
from console.services.pricing import PriceTable, UnknownModelPrice, Usage, call_cost
from console.services.remote import RemoteBatch, RemoteCache, RemoteFile
from console.services.retry import Failure, RetryPolicy, parse_duration, retrying

T = TypeVar("T")

# Rough pre-call estimate for TPM reservations; corrected from usage_metadata afterwards.
CHARS_PER_TOKEN = 4

LEDGER_DEFAULTS: dict[str, Any] = {
    "model": "", "operation": "", "tier_asked": "standard", "tier_served": None,
    "prompt_tokens": 0, "cached_tokens": 0, "candidate_tokens": 0, "thought_tokens": 0,
    "total_tokens": 0, "latency_ms": 0.0, "status": 200, "error": None, "attempt": 1,
    "cost": 0.0, "standard_cost": 0.0, "batch": False, "source": "console",
    "cached_content": None, "prefix_hash": None, "request_key": None,
}

__all__ = ["CircuitOpen", "Exchange", "Gateway", "GatewayError", "Generation", "QuotaExhausted"]


def _transport_errors() -> tuple[type[BaseException], ...]:
    # google-genai speaks through httpx2 (a fork with its own exception classes) when it is
    # installed, and through httpx otherwise: a dropped connection may come from either.
    errors: list[type[BaseException]] = [httpx.TransportError, asyncio.TimeoutError,
                                         ConnectionError]
    try:
        import httpx2

        errors.append(httpx2.TransportError)
    except ImportError:
        pass
    return tuple(errors)


TRANSPORT_ERRORS = _transport_errors()


def _async_transport() -> Any:
    """The SDK's own httpx transport, given explicitly: without it google-genai switches to
    aiohttp whenever aiohttp is importable (textual-serve brings it), and its errors, headers
    and retries differ from those the gateway classifies. An HTTPS proxy from the environment
    is kept."""
    client_lib: types_module.ModuleType
    try:
        import httpx2 as client_lib
    except ImportError:
        client_lib = httpx
    proxy = urllib.request.getproxies().get("https")
    return client_lib.AsyncHTTPTransport(proxy=proxy) if proxy else client_lib.AsyncHTTPTransport()


def classify(error: BaseException) -> Failure | None:
    """Map an SDK or transport error to what the retry policy needs."""
    if isinstance(error, genai_errors.APIError):
        return Failure(error.code, _retry_delay(error))
    # The SDK's webhooks client (its "next-gen" surface) raises an error hierarchy of its own.
    if isinstance(error, nextgen_errors.APIStatusError):
        return Failure(error.status_code, _retry_delay(error))
    if isinstance(error, (*TRANSPORT_ERRORS, nextgen_errors.APIConnectionError)):
        return Failure(None)
    return None


def _retry_delay(error: genai_errors.APIError | nextgen_errors.APIStatusError) -> float | None:
    details = error.details if isinstance(error, genai_errors.APIError) else error.body
    body = details if isinstance(details, dict) else {}
    for detail in (body.get("error") or {}).get("details") or []:
        if isinstance(detail, dict) and detail.get("@type", "").endswith("RetryInfo"):
            return parse_duration(detail.get("retryDelay"))
    return None


def _as_gateway_error(operation: str, error: BaseException) -> GatewayError:
    if isinstance(error, genai_errors.APIError):
        return GatewayError(operation, error.code, error.message or str(error.status),
                            _retry_delay(error))
    if isinstance(error, nextgen_errors.APIStatusError):
        return GatewayError(operation, error.status_code, _nextgen_message(error),
                            _retry_delay(error))
    return GatewayError(operation, None, f"{type(error).__name__}: {error}")


@dataclass(frozen=True)
class Generation:
    """A finished generateContent call, in plain values."""

    model: str
    text: str
    tier_asked: str
    tier_served: str
    usage: Usage
    cost: float
    standard_cost: float
    latency_ms: float
    attempts: int
    finish_reason: str | None
    images: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class Exchange:
    """What interaction logging sees of a successful call (it redacts before writing)."""

    model: str
    tier: str
    source: str
    contents: Any
    config: dict[str, Any]
    generation: Generation


def prefix_hash(contents: Any, config: dict[str, Any]) -> str:
    """Group calls whose leading content is identical: implicit caching hits such groups."""
    head = repr(config.get("system_instruction") or "")[:2048]
    first = contents[0] if isinstance(contents, list) and contents else contents
    head += repr(first)[:2048]
    return hashlib.blake2b(head.encode(), digest_size=6).hexdigest()


def estimate_tokens(contents: Any, config: dict[str, Any] | None = None) -> int:
    size = len(repr(contents)) + len(repr((config or {}).get("system_instruction") or ""))
    return max(1, size // CHARS_PER_TOKEN)


@dataclass
class Gateway:
    api_key: str
    base_url: str | None
    prices: PriceTable
    limiter: RateLimiter
    # Without a durable `book`, each answered call's row goes to this callable.
    write_ledger: Callable[[list[dict[str, Any]]], None] | None = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    api_version: str | None = None
    timeout_s: float = 60.0
    flex_timeout_s: float = 900.0
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    observers: list[Callable[[Exchange], None]] = field(default_factory=list)
    # Durable booking (write-ahead + answer in one transaction); without one, rows go to
    # `write_ledger` as they are answered.
    book: CallBook | None = None
    # Called before every generate with (model, contents, config, tier, source); raises to
    # refuse the call (the spend budget guard, console/services/budget.py).
    budget_check: Callable[..., None] | None = None

    def __post_init__(self) -> None:
        if self.book is None and self.write_ledger is None:
            raise ValueError("a Gateway needs a book or a write_ledger")
        self._book: CallBook = self.book or RowSink(self.write_ledger)  # type: ignore[arg-type]
        # Batch results are booked together with the results file they belong to (flush_ledger).
        self._batch_rows: list[dict[str, Any]] = []
        self._batch_lock = threading.Lock()
        # Bookings touch the disk: one thread of their own, in call order, off the loop.
        self._booking = concurrent.futures.ThreadPoolExecutor(1, "gemops-ledger")
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="gemops-gateway", daemon=True)
        self._thread.start()
        self._ready.wait()

    # -- the loop ----------------------------------------------------------------------

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        http_options = types.HttpOptions(
            base_url=self.base_url, api_version=self.api_version, timeout=int(self.timeout_s * 1000),
            async_client_args={"transport": _async_transport()},
            # One attempt per SDK call: the gateway retries (and ledgers every attempt) itself.
            # Unset, the SDK's webhooks client would retry on its own, unseen, up to 5 times.
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        self.client = genai.Client(api_key=self.api_key, http_options=http_options)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a gateway coroutine from any thread that is not the gateway's, and wait."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def submit(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a gateway coroutine from another event loop."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return await asyncio.wrap_future(future)

    def flush_ledger(self) -> None:
        """Write the batch results booked so far (calls are booked as they are answered)."""
        with self._batch_lock:
            rows, self._batch_rows = self._batch_rows, []
        if rows:
            self._book.answered(None, rows)

    def close(self) -> None:
        if not self._loop.is_running():
            return
        try:
            self.run(self.client.aio.aclose(), timeout=5)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._booking.shutdown(wait=True)
        self.flush_ledger()
        self._book.close()

    # -- accounting ----------------------------------------------------------------------

    async def _sending(self, **call: Any) -> int | None:
        """The write-ahead of one attempt, before it leaves this process."""
        call = {"at": self.clock()} | call
        if self._book.blocking:
            return await self._loop.run_in_executor(self._booking, self._book.sending, call)
        return self._book.sending(call)

    async def _answered(self, call_id: int | None, **values: Any) -> None:
        """Book an attempt's ledger row, removing its write-ahead in the same transaction."""
        # Every row carries every column: rows written together go in one executemany.
        row = LEDGER_DEFAULTS | {"at": self.clock()} | values
        if self._book.blocking:
            await self._loop.run_in_executor(self._booking, self._book.answered, call_id, [row])
        else:
            self._book.answered(call_id, [row])

    def _price(self, model: str, usage: Usage, tier: str, batch: bool) -> tuple[float, float]:
        try:
            priced = call_cost(self.prices, model, usage, tier=tier, batch=batch)
        except (UnknownModelPrice, ValueError):
            return 0.0, 0.0
        return priced.cost, priced.standard_cost

    # -- generateContent ---------------------------------------------------------------

    async def generate(
        self,
        model: str,
        contents: Any,
        config: dict[str, Any] | None = None,
        *,
        tier: str = "standard",
        source: str = "console",
        request_key: str | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float | None = None,
    ) -> Generation:
        """One generateContent through the limiter, with retries; every attempt is ledgered."""
        model = model.removeprefix("models/")
        config = dict(config or {})
        if self.budget_check is not None:
            self.budget_check(model, contents, config, tier, source)
        call_config = dict(config)
        if tier != "standard":
            call_config["service_tier"] = tier
        timeout = timeout_s or (self.flex_timeout_s if tier == "flex" else self.timeout_s)
        if timeout != self.timeout_s:  # the client's own timeout needs no per-call options,
            # which the SDK would merge field by field on every call
            call_config["http_options"] = types.HttpOptions(timeout=int(timeout * 1000))
        estimate = estimate_tokens(contents, config)
        group = prefix_hash(contents, config)
        cached_content = config.get("cached_content")
        attempts = 0

        async def attempt() -> Generation:
            nonlocal attempts
            attempts += 1
            self.limiter.check_breaker(model, tier)
            permit = await self.limiter.acquire(model, tier, estimate)
            call_id = await self._sending(
                model=model, operation="generate", tier_asked=tier, source=source,
                request_key=request_key, attempt=attempts, prompt_tokens=estimate,
                estimated_cost=self._price(model, Usage(estimate), tier, False)[0])
            started = time.perf_counter()
            try:
                response = await self.client.aio.models.generate_content(
                    model=model, contents=contents,
                    config=cast("types.GenerateContentConfigDict", call_config),
                )
            except BaseException as error:
                latency = (time.perf_counter() - started) * 1000
                failure = classify(error)
                quota = failure is not None and failure.status == 429
                self.limiter.settle(permit, actual_tokens=None, ok=False, counted=not quota)
                await self._answered(
                    call_id, model=model, operation="generate", tier_asked=tier, latency_ms=latency,
                    status=failure.status or 0 if failure else 0, error=_short(error),
                    attempt=attempts, source=source, cached_content=cached_content,
                    prefix_hash=group, request_key=request_key,
                )
                if failure is not None and failure.status == 429:
                    self.limiter.quota_error(model, tier, failure.retry_delay_s, permit=permit)
                raise
            latency = (time.perf_counter() - started) * 1000
            generation = self._generation(model, tier, response, latency, attempts)
            self.limiter.settle(permit, actual_tokens=generation.usage.prompt_tokens, ok=True)
            u = generation.usage
            await self._answered(
                call_id, model=model, operation="generate", tier_asked=tier,
                tier_served=generation.tier_served, prompt_tokens=u.prompt_tokens,
                cached_tokens=u.cached_tokens, candidate_tokens=u.output_tokens,
                thought_tokens=u.thought_tokens,
                total_tokens=u.prompt_tokens + u.output_tokens + u.thought_tokens,
                latency_ms=latency, status=200, attempt=attempts, cost=generation.cost,
                standard_cost=generation.standard_cost, source=source,
                cached_content=cached_content, prefix_hash=group, request_key=request_key,
            )
            return generation

        try:
            async for attempt_state in retrying(
                retry or self.retry_policy, classify, sleep=self.sleep
            ):
                with attempt_state:
                    generation = await attempt()
        except (CircuitOpen, QuotaExhausted):
            raise
        except BaseException as error:
            if classify(error) is None:
                raise
            if getattr(classify(error), "status", None) == 503:
                self.limiter.unavailable(model, tier)
            raise _as_gateway_error("generate", error) from error
        for observe in self.observers:
            observe(Exchange(model, tier, source, contents, config, generation))
        return generation

    def _generation(
        self, model: str, tier: str, response: Any, latency_ms: float, attempts: int
    ) -> Generation:
        headers = (response.sdk_http_response.headers or {}) if response.sdk_http_response else {}
        served = headers.get("x-gemini-service-tier") or tier
        meta = response.usage_metadata
        images: list[tuple[str, bytes]] = []
        texts: list[str] = []
        finish = None
        if response.candidates:
            candidate = response.candidates[0]
            finish = candidate.finish_reason.value if candidate.finish_reason else None
            for part in (candidate.content.parts if candidate.content else None) or []:
                if part.text and not part.thought:
                    texts.append(part.text)
                elif part.inline_data and part.inline_data.data:
                    images.append((part.inline_data.mime_type or "", part.inline_data.data))
        usage = Usage(
            prompt_tokens=(meta.prompt_token_count or 0) if meta else 0,
            cached_tokens=(meta.cached_content_token_count or 0) if meta else 0,
            output_tokens=(meta.candidates_token_count or 0) if meta else 0,
            thought_tokens=(meta.thoughts_token_count or 0) if meta else 0,
            images_out=len(images),
        )
        if images:
            # Images are priced per image; their tokens are not billed again as text.
            usage = Usage(usage.prompt_tokens, usage.cached_tokens, 0, usage.thought_tokens,
                          len(images))
        cost, standard = self._price(model, usage, served, batch=False)
        return Generation(
            model=model, text="".join(texts), tier_asked=tier, tier_served=served, usage=usage,
            cost=cost, standard_cost=standard, latency_ms=latency_ms, attempts=attempts,
            finish_reason=finish, images=tuple(images),
        )

    async def count_tokens(self, model: str, contents: Any) -> int:
        response = await self._plain("count_tokens", lambda: self.client.aio.models.count_tokens(
            model=model, contents=contents), model=model.removeprefix("models/"))
        return response.total_tokens or 0

    # -- everything else: retried, ledgered as operations --------------------------------

    async def _plain(
        self,
        operation: str,
        call: Callable[[], Awaitable[T]],
        *,
        model: str = "",
        record: bool = True,
        cost: float = 0.0,
    ) -> T:
        attempts = 0
        try:
            async for attempt_state in retrying(self.retry_policy, classify, sleep=self.sleep):
                with attempt_state:
                    attempts += 1
                    call_id = (await self._sending(model=model, operation=operation,
                                                   attempt=attempts) if record else None)
                    started = time.perf_counter()
                    try:
                        result = await call()
                    except BaseException as error:
                        failure = classify(error)
                        if record:
                            await self._answered(
                                call_id, model=model, operation=operation,
                                latency_ms=(time.perf_counter() - started) * 1000,
                                status=(failure.status or 0) if failure else 0,
                                error=_short(error), attempt=attempts,
                            )
                        raise
                    if record:
                        await self._answered(
                            call_id, model=model, operation=operation, status=200, attempt=attempts,
                            latency_ms=(time.perf_counter() - started) * 1000, cost=cost,
                        )
                    return result
        except BaseException as error:
            if classify(error) is None:
                raise
            raise _as_gateway_error(operation, error) from error
        raise AssertionError("unreachable")  # the retry loop returns or raises

    async def _pages(self, operation: str, first: Callable[[], Awaitable[Any]]) -> list[Any]:
        """Every item behind one of the SDK's public list pagers, each page retried."""
        pager = await self._plain(operation, first, record=False)
        items = list(pager.page)
        while pager.config.get("page_token"):
            await self._plain(operation, pager.next_page, record=False)
            items.extend(pager.page)
        return items

    async def list_caches(self, *, page_size: int = 1000) -> list[RemoteCache]:
        caches = await self._pages("list_cachedContents", lambda: self.client.aio.caches.list(
            config={"page_size": page_size}))
        return [RemoteCache.from_sdk(cache) for cache in caches]

    async def list_files(self, *, page_size: int = 100) -> list[RemoteFile]:
        listed = await self._pages("list_files", lambda: self.client.aio.files.list(
            config={"page_size": page_size}))
        return [RemoteFile.from_sdk(remote) for remote in listed]

    async def list_batches(self, *, page_size: int = 1000) -> list[RemoteBatch]:
        return [RemoteBatch.from_json(raw) for raw in await self.raw_list("batches",
                                                                          page_size=page_size)]

    async def get_batch(self, name: str) -> RemoteBatch:
        return RemoteBatch.from_json(await self.raw_get(name))

    async def raw_list(self, collection: str, *, page_size: int = 1000) -> list[dict[str, Any]]:
        """Every item of a paged collection as raw JSON, keeping fields the SDK would drop.

        Kept on the SDK's private `_api_client` on purpose: the public `batches.list` pager
        (google-genai 3.6) builds each BatchJob from name, state, times, model and output only,
        dropping `metadata.batchStats` (the progress counters) and `metadata.inputConfig`
        (the input file) that the batch pane and the results writer need. The SDK's own
        transport is used; only the parsing is ours. Caches and files list through the public
        pagers (`list_caches`, `list_files`)."""
        key = {"batches": "operations"}.get(collection, collection)
        items: list[dict[str, Any]] = []
        token = None
        while True:
            query = {"pageSize": page_size} | ({"pageToken": token} if token else {})
            path = f"{collection}?{urlencode(query)}"
            response = await self._plain(
                f"list_{collection}",
                partial(self.client.aio._api_client.async_request, "get", path, {}),
                record=False,
            )
            page = orjson.loads(response.body or "{}")
            items.extend(page.get(key) or [])
            token = page.get("nextPageToken")
            if not token:
                return items

    async def raw_get(self, name: str) -> dict[str, Any]:
        """One batch job as raw JSON: private for the reason given at `raw_list` (the public
        `batches.get` drops batchStats and inputConfig)."""
        response = await self._plain(
            "get", lambda: self.client.aio._api_client.async_request("get", name, {}), record=False
        )
        return orjson.loads(response.body or "{}")

    # caches
    async def create_cache(self, model: str, config: dict[str, Any]) -> RemoteCache:
        return RemoteCache.from_sdk(await self._plain(
            "create_cache", lambda: self.client.aio.caches.create(
                model=model, config=cast("types.CreateCachedContentConfigDict", config)),
            model=model))

    async def get_cache(self, name: str) -> RemoteCache:
        return RemoteCache.from_sdk(await self._plain(
            "get_cache", lambda: self.client.aio.caches.get(name=name), record=False))

    async def update_cache(self, name: str, config: dict[str, Any]) -> RemoteCache:
        return RemoteCache.from_sdk(await self._plain(
            "update_cache", lambda: self.client.aio.caches.update(
                name=name, config=cast("types.UpdateCachedContentConfigDict", config))))

    async def delete_cache(self, name: str) -> None:
        await self._plain("delete_cache", lambda: self.client.aio.caches.delete(name=name))

    # files
    async def upload_file(self, path: Path, *, mime_type: str | None = None,
                          display_name: str | None = None) -> RemoteFile:
        config: dict[str, Any] = {"display_name": display_name or path.name}
        if mime_type:
            config["mime_type"] = mime_type
        return RemoteFile.from_sdk(await self._plain(
            "upload_file", lambda: self.client.aio.files.upload(
                file=path, config=cast("types.UploadFileConfigDict", config))))

    async def download_file(self, name: str) -> bytes:
        return await self._plain("download_file", lambda: self.client.aio.files.download(
            file=name), record=False)

    async def delete_file(self, name: str) -> None:
        await self._plain("delete_file", lambda: self.client.aio.files.delete(name=name))

    # batches
    async def create_batch(self, model: str, src: Any, config: dict[str, Any]) -> RemoteBatch:
        return RemoteBatch.from_sdk(await self._plain(
            "create_batch", lambda: self.client.aio.batches.create(
                model=model, src=src, config=cast("types.CreateBatchJobConfigDict", config)),
            model=model))

    async def cancel_batch(self, name: str) -> None:
        await self._plain("cancel_batch", lambda: self.client.aio.batches.cancel(name=name))

    async def delete_batch(self, name: str) -> None:
        await self._plain("delete_batch", lambda: self.client.aio.batches.delete(name=name))

    def batch_cost(self, model: str, usage: Usage) -> tuple[float, float]:
        return self._price(model, usage, "standard", batch=True)

    def record_batch_result(self, *, model: str, usage: Usage, status: int, error: str | None,
                            request_key: str | None, source: str) -> tuple[float, float]:
        """A batch result becomes a ledger row at the batch-discounted price."""
        cost, standard = self.batch_cost(model, usage) if status == 200 else (0.0, 0.0)
        self._book_batch_row(
            model=model.removeprefix("models/"), operation="batch_result", tier_asked="batch",
            tier_served="batch", prompt_tokens=usage.prompt_tokens,
            cached_tokens=usage.cached_tokens, candidate_tokens=usage.output_tokens,
            thought_tokens=usage.thought_tokens,
            total_tokens=usage.prompt_tokens + usage.output_tokens + usage.thought_tokens,
            status=status, error=error, cost=cost, standard_cost=standard, batch=True,
            source=source, request_key=request_key,
        )
        return cost, standard

    def _book_batch_row(self, **values: Any) -> None:
        with self._batch_lock:
            self._batch_rows.append(LEDGER_DEFAULTS | {"at": self.clock()} | values)

    # uploads with progress, webhooks (issue 6)
    async def upload_stream(self, open_stream: Callable[[], Any], *, mime_type: str,
                            display_name: str) -> RemoteFile:
        """Upload from a binary stream opened afresh for every attempt (a retry starts at byte
        0); callers wrap the stream to report progress as the SDK reads its chunks."""
        return RemoteFile.from_sdk(await self._plain(
            "upload_file", lambda: self.client.aio.files.upload(
                file=open_stream(),
                config={"mime_type": mime_type, "display_name": display_name})))

    async def create_webhook(self, uri: str, events: list[str], name: str = "") -> dict[str, Any]:
        """Register a webhook; the reply carries `new_signing_secret`, shown only this once."""
        hook = await self._plain("create_webhook", lambda: self.client.aio.webhooks.create(
            subscribed_events=cast("Any", events), uri=uri, name=name or None))
        return _webhook_json(hook)

    async def list_webhooks(self) -> list[dict[str, Any]]:
        hooks: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = await self._plain("list_webhooks", partial(
                self.client.aio.webhooks.list, page_size=1000, page_token=token), record=False)
            hooks.extend(_webhook_json(hook) for hook in page.webhooks or [])
            token = page.next_page_token
            if not token:
                return hooks

    async def delete_webhook(self, webhook_id: str) -> None:
        hook_id = webhook_id.removeprefix("webhooks/")
        await self._plain("delete_webhook", lambda: self.client.aio.webhooks.delete(id=hook_id))


def _webhook_json(hook: Any) -> dict[str, Any]:
    """A webhook as the management API's (snake_case) JSON."""
    return cast("dict[str, Any]", hook.model_dump(mode="json", exclude_none=True))

def _nextgen_message(error: nextgen_errors.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    return str((body.get("error") or {}).get("message") or error.message)


def _short(error: BaseException) -> str:
    if isinstance(error, genai_errors.APIError):
        return f"{error.code} {error.status}: {(error.message or '')[:300]}"
    if isinstance(error, nextgen_errors.APIStatusError):
        return f"{error.status_code}: {_nextgen_message(error)[:300]}"
    return f"{type(error).__name__}: {str(error)[:300]}"
