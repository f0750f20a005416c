"""The webhooks receiver (Standard Webhooks, verified with `standardwebhooks`) and registration.

A delivery is accepted only when its signature matches one of the secrets (several during a
rotation), its timestamp is within the tolerance, and its body is within the size limit; a
signed body that is not the documented shape (JSON object, string `type`, for batch events a
`data.id` string) is refused with 400. Only the batch events trigger a sync of that job (which
writes its results when it has finished); other event types are answered 200 and ignored.

A webhook-id is remembered only once its delivery was handled, so a sender's retry of a
delivery that failed is acted on; the memory (`StoredDeliveries`) is kept in SQLite so it
survives a restart, bounded by age (the sender retries for 24 h).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from console.services.workspace import Workspace

BATCH_EVENTS = ("batch.succeeded", "batch.failed", "batch.expired")
# Every event type the API documents (a webhook's subscribed_events); only batch ones act.
DOCUMENTED_EVENTS = (
    *BATCH_EVENTS, "interaction.requires_action", "interaction.completed", "interaction.failed",
    "video.generated",
)
DEFAULT_PATH = "/webhooks/gemini"
MAX_BODY_BYTES = 256 * 1024
TOLERANCE_S = 300.0
REMEMBERED_IDS = 10_000
# Failed deliveries are retried for 24 h: an id is remembered for longer than that.
REMEMBER_S = 72 * 3600.0
# The sender wants an answer within a few seconds; a sync that takes longer goes on after
# a 202, and its id is remembered when it is done.
HANDLE_BUDGET_S = 4.0

log = logging.getLogger("gemops.webhooks")


@dataclass(frozen=True)
class Delivery:
    """What the receiver did with one request, for logs and tests."""

    webhook_id: str | None
    status: int
    # accepted, duplicate, ignored, in-progress, handling, failed, bad-signature, stale,
    # too-large, malformed
    outcome: str
    event: str | None = None
    batch: str | None = None
    reason: str | None = None


class DeliveryMemory(Protocol):
    """Which webhook-ids were handled (acted on, or deliberately ignored)."""

    def handled(self, webhook_id: str) -> bool: ...

    def remember(self, webhook_id: str, event: str, outcome: str) -> None: ...


class RecentDeliveries:
    """The memory in this process only (tests, and a receiver without a database)."""

    def __init__(self, keep_s: float = REMEMBER_S, limit: int = REMEMBERED_IDS,
                 clock: Callable[[], float] = time.time) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self.keep_s, self.limit, self._clock = keep_s, limit, clock

    def handled(self, webhook_id: str) -> bool:
        with self._lock:
            at = self._seen.get(webhook_id)
            return at is not None and at >= self._clock() - self.keep_s

    def remember(self, webhook_id: str, event: str, outcome: str) -> None:
        with self._lock:
            self._seen[webhook_id] = self._clock()
            self._seen.move_to_end(webhook_id)
            while len(self._seen) > self.limit:
                self._seen.popitem(last=False)


class StoredDeliveries:
    """The memory in SQLite (`webhook_deliveries`): it survives a restart; rows older than
    `keep_s` are dropped as new ones are written."""

    def __init__(self, ws: Workspace, keep_s: float = REMEMBER_S) -> None:
        self.ws, self.keep_s = ws, keep_s

    def handled(self, webhook_id: str) -> bool:
        from store.repos import webhook_deliveries

        with self.ws.session() as session:
            return webhook_deliveries.handled(session, webhook_id,
                                              since=self.ws.clock() - self.keep_s)

    def remember(self, webhook_id: str, event: str, outcome: str) -> None:
        from store.repos import webhook_deliveries

        now = self.ws.clock()
        with self.ws.session() as session:
            webhook_deliveries.remember(session, webhook_id, at=now, event=event,
                                        outcome=outcome)
            webhook_deliveries.forget_before(session, now - self.keep_s)


def _shape_problem(payload: Any) -> str | None:
    """Why a verified body is not a delivery we can read (None when it is one)."""
    if not isinstance(payload, dict):
        return "the body is not a JSON object"
    event = payload.get("type")
    if not isinstance(event, str) or not event:
        return "`type` is missing or not a string"
    if event in BATCH_EVENTS:
        data = payload.get("data")
        if not isinstance(data, dict):
            return "`data` is missing or not an object"
        batch = data.get("id")
        if not isinstance(batch, str) or not batch.strip():
            return "`data.id` is missing or not a string"
    return None


class WebhookReceiver:
    """The verification, de-duplication and dispatch, as a Starlette app (`app()`)."""

    def __init__(
        self,
        secrets: Sequence[str],
        on_batch: Callable[[str, dict[str, Any]], None],
        *,
        path: str = DEFAULT_PATH,
        max_body: int = MAX_BODY_BYTES,
        tolerance_s: float = TOLERANCE_S,
        clock: Callable[[], float] = time.time,
        on_delivery: Callable[[Delivery], None] | None = None,
        memory: DeliveryMemory | None = None,
        handle_budget_s: float = HANDLE_BUDGET_S,
    ) -> None:
        self._verifiers: list[Any] = []
        for secret in secrets:
            self.trust(secret)
        self._on_batch = on_batch
        self.path = path
        self.max_body = max_body
        self.tolerance_s = tolerance_s
        self.handle_budget_s = handle_budget_s
        self._clock = clock
        self._on_delivery = on_delivery or (lambda delivery: None)
        self.memory: DeliveryMemory = memory or RecentDeliveries(clock=clock)
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()
        self.deliveries: list[Delivery] = []

    def trust(self, secret: str) -> None:
        """Accept deliveries signed with `secret` too (a new or rotated signing secret)."""
        from standardwebhooks import Webhook

        self._verifiers.append(Webhook(secret))

    def check(self, body: bytes, headers: dict[str, str]) -> tuple[Delivery, dict | None]:
        """Verify one delivery: (what to answer, the payload when it is to be handled).
        Replays are not looked at here, and nothing is remembered: an id is remembered once
        it was handled (`handle`)."""
        from standardwebhooks.webhooks import WebhookVerificationError

        headers = {k.lower(): v for k, v in headers.items()}
        webhook_id = headers.get("webhook-id")
        stamp = headers.get("webhook-timestamp")
        if not (webhook_id and stamp and headers.get("webhook-signature")):
            return Delivery(webhook_id, 400, "malformed", reason="missing headers"), None
        if len(body) > self.max_body:
            return Delivery(webhook_id, 413, "too-large"), None
        try:
            age = self._clock() - float(stamp)
        except ValueError:
            return Delivery(webhook_id, 400, "malformed", reason="bad timestamp"), None
        if abs(age) > self.tolerance_s:
            return Delivery(webhook_id, 401, "stale"), None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Delivery(webhook_id, 400, "malformed", reason="body is not UTF-8"), None
        verified = False
        for verifier in self._verifiers:
            try:
                verifier.verify(text, headers, json_parse=False)
            except (WebhookVerificationError, ValueError, TypeError):
                continue
            verified = True
            break
        if not verified:
            return Delivery(webhook_id, 401, "bad-signature"), None
        # Signed by the sender: from here a bad body is the sender's bug, said with 400.
        try:
            payload = json.loads(text)
        except ValueError:
            return Delivery(webhook_id, 400, "malformed", reason="body is not JSON"), None
        problem = _shape_problem(payload)
        event = payload.get("type") if isinstance(payload, dict) else None
        event = event if isinstance(event, str) else None
        if problem is not None:
            return Delivery(webhook_id, 400, "malformed", event, reason=problem), None
        batch = payload["data"]["id"] if event in BATCH_EVENTS else None
        return Delivery(webhook_id, 200, "accepted", event, batch), payload

    def _record(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        if delivery.status >= 400 or delivery.outcome in ("ignored", "failed"):
            log.warning("webhook %s", describe(delivery))
        try:
            self._on_delivery(delivery)
        except Exception:  # a reporting callback must not turn a delivery into a 500
            log.exception("webhook delivery callback failed")

    def _claim(self, webhook_id: str) -> bool:
        with self._in_flight_lock:
            if webhook_id in self._in_flight:
                return False
            self._in_flight.add(webhook_id)
            return True

    def _release(self, webhook_id: str) -> None:
        with self._in_flight_lock:
            self._in_flight.discard(webhook_id)

    def dispatch(self, delivery: Delivery, payload: dict) -> str:
        """Act on an accepted delivery: a batch event syncs that job; anything else is
        ignored. Returns the outcome ("accepted" or "ignored")."""
        if delivery.event not in BATCH_EVENTS or delivery.batch is None:
            return "ignored"
        name = delivery.batch
        if not name.startswith("batches/"):
            name = f"batches/{name}"
        self._on_batch(name, payload)
        return "accepted"

    def handle(self, delivery: Delivery, payload: dict) -> str:
        """Dispatch, then remember the id (only now: a failure leaves it for the retry).
        The caller has claimed the id; it is released here, however this ends."""
        webhook_id = delivery.webhook_id or ""
        try:
            outcome = self.dispatch(delivery, payload)
            self.memory.remember(webhook_id, delivery.event or "", outcome)
            return outcome
        finally:
            self._release(webhook_id)

    async def receive_body(self, body: bytes, headers: dict[str, str]) -> Delivery:
        """Check, handle within the budget, and say what happened (recorded)."""
        delivery, payload = self.check(body, headers)
        if payload is None:
            self._record(delivery)
            return delivery
        webhook_id = delivery.webhook_id or ""
        if await asyncio.to_thread(self.memory.handled, webhook_id):
            delivery = Delivery(webhook_id, 200, "duplicate", delivery.event, delivery.batch)
            self._record(delivery)
            return delivery
        if not self._claim(webhook_id):
            # The same id is being handled right now: the sender tries again later.
            delivery = Delivery(webhook_id, 409, "in-progress", delivery.event, delivery.batch)
            self._record(delivery)
            return delivery
        work = asyncio.ensure_future(asyncio.to_thread(self.handle, delivery, payload))
        try:
            outcome = await asyncio.wait_for(asyncio.shield(work), self.handle_budget_s)
        except TimeoutError:
            work.add_done_callback(lambda done: self._finished_late(delivery, done))
            delivery = Delivery(webhook_id, 202, "handling", delivery.event, delivery.batch)
        except Exception as error:
            log.warning("webhook %s: handling failed", webhook_id, exc_info=error)
            delivery = Delivery(webhook_id, 500, "failed", delivery.event, delivery.batch,
                                reason=f"{type(error).__name__}: {error}")
        else:
            why = None
            if outcome == "ignored":
                why = ("not a batch event" if delivery.event in DOCUMENTED_EVENTS
                       else "an event type the API does not document")
            delivery = Delivery(webhook_id, 200, outcome, delivery.event, delivery.batch, why)
        self._record(delivery)
        return delivery

    def _finished_late(self, delivery: Delivery, done: asyncio.Future) -> None:
        error = done.exception() if not done.cancelled() else None
        if error is not None:
            log.warning("webhook %s: handling failed after the answer",
                        delivery.webhook_id, exc_info=error)

    def app(self):
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def receive(request: Request) -> JSONResponse:
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_body:
                delivery = Delivery(request.headers.get("webhook-id"), 413, "too-large")
                self._record(delivery)
                return JSONResponse({"error": "body too large"}, status_code=413)
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > self.max_body:
                    delivery = Delivery(request.headers.get("webhook-id"), 413, "too-large")
                    self._record(delivery)
                    return JSONResponse({"error": "body too large"}, status_code=413)
            delivery = await self.receive_body(bytes(body), dict(request.headers))
            answer: dict[str, Any] = {"outcome": delivery.outcome}
            if delivery.reason and delivery.status in (200, 400):
                answer["reason"] = delivery.reason
            return JSONResponse(answer, status_code=delivery.status)

        async def health(request: Request) -> JSONResponse:
            return JSONResponse({"status": "ok", "deliveries": len(self.deliveries)})

        return Starlette(routes=[
            Route(self.path, receive, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ])


def sync_batch(ws: Workspace) -> Callable[[str, dict[str, Any]], None]:
    """The action for a batch event: sync that job now (writing its results if it ended)."""
    from console.services.batches import refresh_job

    def act(name: str, payload: dict[str, Any]) -> None:
        refresh_job(ws, name)

    return act


class ReceiverServer:
    """uvicorn on a loopback port in a background thread (`gemops watch`, tests)."""

    def __init__(self, receiver: WebhookReceiver, host: str = "127.0.0.1", port: int = 0) -> None:
        self.receiver = receiver
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.receiver.path}"

    def start(self, timeout: float = 10.0) -> ReceiverServer:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.receiver.app(), log_level="warning", access_log=False,
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"gemops-webhooks-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"the webhooks receiver did not start on {self.url}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(5)
            self._server = self._thread = None


def serve(receiver: WebhookReceiver, host: str, port: int) -> None:
    """The receiver in the foreground until interrupted (`gemops webhooks serve`)."""
    import uvicorn

    uvicorn.Server(uvicorn.Config(receiver.app(), host=host, port=port, log_level="info",
                                  access_log=False, lifespan="off")).run()


def register(ws: Workspace, uri: str, *, events: Sequence[str] = BATCH_EVENTS,
             name: str = "") -> dict[str, Any]:
    """Register `uri` for `events`; the reply's `new_signing_secret` is shown only now."""
    return ws.gateway.run(ws.gateway.create_webhook(uri, list(events), name))


def registered(ws: Workspace) -> list[dict[str, Any]]:
    return ws.gateway.run(ws.gateway.list_webhooks())


def unregister(ws: Workspace, webhook_id: str) -> None:
    ws.gateway.run(ws.gateway.delete_webhook(webhook_id))


def parse_secrets(values: Sequence[str]) -> list[str]:
    """Secrets from repeated options or one env var (space or comma separated)."""
    found: list[str] = []
    for value in values:
        found += [s for s in value.replace(",", " ").split() if s]
    return found


def describe(delivery: Delivery) -> str:
    """One log line: the HTTP status, what happened, and to which event."""
    what = " ".join(str(x) for x in (delivery.event, delivery.batch) if x) or "-"
    why = f": {delivery.reason}" if delivery.reason else ""
    return (f"{delivery.status} {delivery.outcome:<13} {what}{why}  "
            f"({delivery.webhook_id or 'no id'})")
