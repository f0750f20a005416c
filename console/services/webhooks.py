"""The webhooks receiver (Standard Webhooks, verified with `standardwebhooks`) and registration.

A delivery is accepted only when its signature matches one of the secrets (several during a
rotation), its timestamp is within the tolerance, and its body is within the size limit; a
webhook-id seen before is acknowledged and not acted on twice. A batch event triggers an
immediate sync of that job, which writes its results when it has finished.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from console.services.workspace import Workspace

BATCH_EVENTS = ("batch.succeeded", "batch.failed", "batch.expired")
DEFAULT_PATH = "/webhooks/gemini"
MAX_BODY_BYTES = 256 * 1024
TOLERANCE_S = 300.0
REMEMBERED_IDS = 10_000


@dataclass(frozen=True)
class Delivery:
    """What the receiver did with one request, for logs and tests."""

    webhook_id: str | None
    status: int
    outcome: str  # accepted, duplicate, bad-signature, stale, too-large, malformed
    event: str | None = None
    batch: str | None = None


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
    ) -> None:
        self._verifiers: list[Any] = []
        for secret in secrets:
            self.trust(secret)
        self._on_batch = on_batch
        self.path = path
        self.max_body = max_body
        self.tolerance_s = tolerance_s
        self._clock = clock
        self._on_delivery = on_delivery or (lambda delivery: None)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_lock = threading.Lock()
        self.deliveries: list[Delivery] = []

    def trust(self, secret: str) -> None:
        """Accept deliveries signed with `secret` too (a new or rotated signing secret)."""
        from standardwebhooks import Webhook

        self._verifiers.append(Webhook(secret))

    def _remember(self, webhook_id: str) -> bool:
        """True when this id is new (and now remembered)."""
        with self._seen_lock:
            if webhook_id in self._seen:
                self._seen.move_to_end(webhook_id)
                return False
            self._seen[webhook_id] = None
            while len(self._seen) > REMEMBERED_IDS:
                self._seen.popitem(last=False)
            return True

    def _forget(self, webhook_id: str) -> None:
        with self._seen_lock:
            self._seen.pop(webhook_id, None)

    def check(self, body: bytes, headers: dict[str, str]) -> tuple[Delivery, dict | None]:
        """Verify one delivery: (what to answer, the payload when it is to be acted on)."""
        from standardwebhooks.webhooks import WebhookVerificationError

        headers = {k.lower(): v for k, v in headers.items()}
        webhook_id = headers.get("webhook-id")
        stamp = headers.get("webhook-timestamp")
        if not (webhook_id and stamp and headers.get("webhook-signature")):
            return Delivery(webhook_id, 400, "malformed"), None
        if len(body) > self.max_body:
            return Delivery(webhook_id, 413, "too-large"), None
        try:
            age = self._clock() - float(stamp)
        except ValueError:
            return Delivery(webhook_id, 400, "malformed"), None
        if abs(age) > self.tolerance_s:
            return Delivery(webhook_id, 401, "stale"), None
        payload = None
        for verifier in self._verifiers:
            try:
                payload = verifier.verify(body, headers)
                break
            except (WebhookVerificationError, ValueError, TypeError):
                continue
        if payload is None or not isinstance(payload, dict):
            return Delivery(webhook_id, 401, "bad-signature"), None
        event = payload.get("type")
        data = payload.get("data") or {}
        batch = data.get("id") if isinstance(data, dict) else None
        if not self._remember(webhook_id):
            return Delivery(webhook_id, 200, "duplicate", event, batch), None
        return Delivery(webhook_id, 200, "accepted", event, batch), payload

    def _record(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self._on_delivery(delivery)

    def dispatch(self, delivery: Delivery, payload: dict) -> None:
        """Act on an accepted batch event (runs after the 2xx went out)."""
        name = delivery.batch
        if not (delivery.event or "").startswith("batch.") or not isinstance(name, str):
            return
        if not name.startswith("batches/"):
            name = f"batches/{name}"
        try:
            self._on_batch(name, payload)
        except Exception:
            # Not acted on: let the sender's retry (same webhook-id) try again.
            self._forget(delivery.webhook_id or "")
            raise

    def app(self):
        from starlette.applications import Starlette
        from starlette.background import BackgroundTask
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
            delivery, payload = self.check(bytes(body), dict(request.headers))
            self._record(delivery)
            if payload is None:
                return JSONResponse({"outcome": delivery.outcome}, status_code=delivery.status)
            task = BackgroundTask(asyncio.to_thread, self.dispatch, delivery, payload)
            return JSONResponse({"outcome": delivery.outcome}, background=task)

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
    what = " ".join(x for x in (delivery.event, delivery.batch) if x) or "-"
    return f"{delivery.status} {delivery.outcome:<13} {what}  ({delivery.webhook_id or 'no id'})"
