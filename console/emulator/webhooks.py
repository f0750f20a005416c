"""Webhooks: the management API (snake_case JSON) and signed Standard Webhooks deliveries."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from standardwebhooks import Webhook as Signer
from starlette.requests import Request
from starlette.responses import Response

from console.emulator.api import api_route, json_body, json_object
from console.emulator.errors import invalid_argument, not_found
from console.emulator.schema import ROTATE_SIGNING_SECRET_REQUEST, WEBHOOK, check_fields
from console.emulator.wire import json_response, new_id, page, rfc3339

if TYPE_CHECKING:
    from console.emulator.state import EmulatorState

log = logging.getLogger(__name__)

_STATES = ("enabled", "disabled", "disabled_due_to_failed_deliveries")
_SECRET_GRACE_S = 24 * 3600.0
_UPDATABLE = ("name", "uri", "state", "subscribed_events")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _truncate(secret: str) -> str:
    return f"{secret[:6]}...{secret[-4:]}"


class WebhookStore:
    """Registered webhooks plus the delivery machinery (a task per delivery, with retries)."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.hooks: dict[str, dict[str, Any]] = {}
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=1000)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task] = set()

    def load(self) -> None:
        if self.state.persistence is not None:
            for record in self.state.persistence.load("webhook"):
                self.hooks[record["id"]] = record

    def _persist(self, record: dict[str, Any]) -> None:
        if self.state.persistence is not None:
            self.state.persistence.put("webhook", record["id"], record)

    # -- management -------------------------------------------------------------------------

    def get(self, hook_id: str) -> dict[str, Any]:
        record = self.hooks.get(hook_id.removeprefix("webhooks/"))
        if record is None:
            raise not_found(f"Webhook {hook_id} not found.")
        return record

    def _live_secrets(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        now = self.state.clock.now()
        return [s for s in record["secrets"] if s["expire_at"] is None or s["expire_at"] > now]

    def resource(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": record["id"],
            "name": record["name"],
            "uri": record["uri"],
            "subscribed_events": record["subscribed_events"],
            "state": record["state"],
            "signing_secrets": [
                {
                    "truncated_secret": _truncate(s["secret"]),
                    "expire_time": None if s["expire_at"] is None else rfc3339(s["expire_at"]),
                }
                for s in self._live_secrets(record)
            ],
            "create_time": rfc3339(record["created_at"]),
            "update_time": rfc3339(record["updated_at"]),
        }

    @staticmethod
    def _check(body: dict[str, Any], *, creating: bool) -> None:
        uri = body.get("uri")
        if (creating or uri is not None) and (
            not isinstance(uri, str) or not uri.startswith(("http://", "https://"))
        ):
            raise invalid_argument("uri must be an absolute http(s) URL.", "uri")
        events = body.get("subscribed_events")
        if (creating or events is not None) and (
            not isinstance(events, list)
            or not events
            or not all(isinstance(e, str) and e for e in events)
        ):
            raise invalid_argument(
                "subscribed_events must list at least one event.", "subscribed_events"
            )
        state = body.get("state")
        if state is not None and state not in _STATES:
            raise invalid_argument(f"Invalid value at 'state', \"{state}\"", "state")

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check(body, creating=True)
        now = self.state.clock.now()
        secret = new_secret()
        record = {
            "id": new_id(36),
            "name": body.get("name") or "",
            "uri": body["uri"],
            "subscribed_events": list(body["subscribed_events"]),
            "state": "enabled",
            "secrets": [{"secret": secret, "expire_at": None}],
            "created_at": now,
            "updated_at": now,
        }
        self.hooks[record["id"]] = record
        self._persist(record)
        return self.resource(record) | {"new_signing_secret": secret}

    def update(self, hook_id: str, body: dict[str, Any], mask: str | None) -> dict[str, Any]:
        record = self.get(hook_id)
        self._check(body, creating=False)
        fields = (
            [f.strip() for f in mask.split(",")] if mask else [k for k in _UPDATABLE if k in body]
        )
        for name in fields:
            if name not in _UPDATABLE:
                raise invalid_argument(f"update_mask names an unknown field: {name}", "update_mask")
            if body.get(name) is not None:
                record[name] = body[name]
        record["updated_at"] = self.state.clock.now()
        self._persist(record)
        return self.resource(record)

    def rotate(self, hook_id: str, behavior: str | None) -> str:
        record = self.get(hook_id)
        now = self.state.clock.now()
        if behavior == "revoke_previous_secrets_immediately":
            record["secrets"] = []
        elif behavior in (None, "", "revoke_previous_secrets_after_h24"):
            for old in record["secrets"]:
                if old["expire_at"] is None or old["expire_at"] > now + _SECRET_GRACE_S:
                    old["expire_at"] = now + _SECRET_GRACE_S
        else:
            raise invalid_argument(
                f"Invalid value at 'revocation_behavior', \"{behavior}\"", "revocation_behavior"
            )
        secret = new_secret()
        record["secrets"].append({"secret": secret, "expire_at": None})
        record["updated_at"] = now
        self._persist(record)
        return secret

    def delete(self, hook_id: str) -> None:
        record = self.get(hook_id)
        del self.hooks[record["id"]]
        if self.state.persistence is not None:
            self.state.persistence.delete("webhook", record["id"])

    def clear(self) -> None:
        self.hooks.clear()
        self.deliveries.clear()

    # -- delivery ---------------------------------------------------------------------------

    def emit_batch_event(self, event_type: str, record: dict[str, Any]) -> None:
        data: dict[str, Any] = {"id": record["name"], "state": f"BATCH_STATE_{record['terminal']}"}
        output = record.get("output") or {}
        if "responsesFile" in output:
            data["output_file_uri"] = output["responsesFile"]
        if record.get("error"):
            data["error_code"] = record["error"]["code"]
            data["error_message"] = record["error"]["message"]
        config = record.get("webhook_config") or {}
        metadata = config.get("user_metadata") or config.get("userMetadata")
        if metadata:
            data["user_metadata"] = metadata
        uris = config.get("uris")
        if uris:
            # Per-batch URIs replace the registered webhooks for this job.
            targets = [(uri, [self.state.config.dynamic_webhook_secret]) for uri in uris]
        else:
            targets = [
                (hook["uri"], [s["secret"] for s in self._live_secrets(hook)])
                for hook in self.hooks.values()
                if hook["state"] == "enabled" and event_type in hook["subscribed_events"]
            ]
        for uri, keys in targets:
            self.send(uri, keys, event_type, data)

    def ping(self, hook_id: str) -> None:
        record = self.get(hook_id)
        keys = [s["secret"] for s in self._live_secrets(record)]
        self.send(record["uri"], keys, "webhook.ping", {"id": record["id"]})

    def send(self, uri: str, keys: list[str], event_type: str, data: dict[str, Any]) -> None:
        """Queue one delivery; safe to call from any thread."""
        payload = {
            "type": event_type,
            "version": "v1",
            "timestamp": rfc3339(self.state.clock.now()),
            "data": data,
        }
        delivery = {
            "id": f"msg_{uuid.uuid4().hex}",
            "type": event_type,
            "url": uri,
            "status": "pending",
            "attempts": 0,
            "response_status": None,
            "payload": payload,
        }
        self.deliveries.append(delivery)
        if self.loop is None or self.loop.is_closed():
            delivery["status"] = "not_sent"  # no server loop (app not started)
            return
        self.loop.call_soon_threadsafe(self._spawn, delivery, keys)

    def _spawn(self, delivery: dict[str, Any], keys: list[str]) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(delivery, keys))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: dict[str, Any], keys: list[str]) -> None:
        body = orjson.dumps(delivery["payload"])
        delays = self.state.config.webhook_retry_delays
        for attempt in range(len(delays) + 1):
            # Signed with real time: receivers check the timestamp against their own clock.
            stamp = datetime.fromtimestamp(int(time.time()), UTC)
            signature = " ".join(
                Signer(key).sign(delivery["id"], stamp, body.decode()) for key in keys
            )
            headers = {
                "content-type": "application/json",
                "webhook-id": delivery["id"],
                "webhook-timestamp": str(int(stamp.timestamp())),
                "webhook-signature": signature,
                "user-agent": "gemini-api-emulator-webhooks/1",
            }
            delivery["attempts"] = attempt + 1
            try:
                assert self.client is not None
                response = await self.client.post(
                    delivery["url"],
                    content=body,
                    headers=headers,
                    timeout=self.state.config.webhook_timeout_s,
                )
                delivery["response_status"] = response.status_code
                if 200 <= response.status_code < 300:
                    delivery["status"] = "delivered"
                    return
            except httpx.HTTPError as exc:
                delivery["response_status"] = None
                delivery["last_error"] = type(exc).__name__
            if attempt < len(delays):
                await asyncio.sleep(delays[attempt])
        delivery["status"] = "failed"
        log.info("webhook delivery %s to %s failed", delivery["id"], delivery["url"])

    async def drain(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@api_route("webhooks.create")
async def create_webhook(request: Request, state: EmulatorState, entry: dict) -> Response:
    body = json_object(await json_body(request), "Webhook")
    check_fields(body, WEBHOOK)
    return json_response(state.webhooks.create(body))


@api_route("webhooks.list")
async def list_webhooks(request: Request, state: EmulatorState, entry: dict) -> Response:
    hooks = [state.webhooks.resource(r) for r in state.webhooks.hooks.values()]
    chunk, token = page(hooks, request.query_params, default_size=50, max_size=1000)
    body: dict[str, Any] = {"webhooks": chunk}
    if token:
        body["next_page_token"] = token
    return json_response(body)


@api_route("webhooks.get")
async def get_webhook(request: Request, state: EmulatorState, entry: dict) -> Response:
    return json_response(state.webhooks.resource(state.webhooks.get(request.path_params["hook"])))


@api_route("webhooks.update")
async def update_webhook(request: Request, state: EmulatorState, entry: dict) -> Response:
    body = json_object(await json_body(request), "Webhook")
    check_fields(body, WEBHOOK)
    mask = request.query_params.get("update_mask") or request.query_params.get("updateMask")
    return json_response(state.webhooks.update(request.path_params["hook"], body, mask))


@api_route("webhooks.delete")
async def delete_webhook(request: Request, state: EmulatorState, entry: dict) -> Response:
    state.webhooks.delete(request.path_params["hook"])
    return json_response({})


@api_route("webhooks.ping")
async def ping_webhook(request: Request, state: EmulatorState, entry: dict) -> Response:
    state.webhooks.ping(request.path_params["hook"].rpartition(":")[0])
    return json_response({})


@api_route("webhooks.rotateSigningSecret")
async def rotate_webhook_secret(request: Request, state: EmulatorState, entry: dict) -> Response:
    body = json_object(await json_body(request, required=False), "RotateSigningSecretRequest")
    check_fields(body, ROTATE_SIGNING_SECRET_REQUEST)
    hook_id = request.path_params["hook"].rpartition(":")[0]
    secret = state.webhooks.rotate(
        hook_id, body.get("revocation_behavior") or body.get("revocationBehavior")
    )
    return json_response({"secret": secret})
