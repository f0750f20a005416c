"""Batch API: `batchGenerateContent` jobs whose lifecycle is computed from the emulator clock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from console.emulator.api import api_route, json_body, json_object
from console.emulator.embeddings import check_embed_request, embed
from console.emulator.errors import (
    RPC_CODES,
    ApiError,
    failed_precondition,
    invalid_argument,
    model_not_found,
    not_found,
)
from console.emulator.files import base_url
from console.emulator.models import ModelInfo, lookup, model_id
from console.emulator.schema import (
    ASYNC_BATCH_EMBED_CONTENT_REQUEST,
    BATCH_GENERATE_CONTENT_REQUEST,
    check_fields,
)
from console.emulator.wire import int64, json_response, new_id, page, pick, rfc3339

if TYPE_CHECKING:
    from console.emulator.state import EmulatorState

_PREFIX = "type.googleapis.com/google.ai.generativelanguage.v1main."
META_TYPE = _PREFIX + "GenerateContentBatch"
OUTPUT_TYPE = _PREFIX + "GenerateContentBatchOutput"
EMBED_META_TYPE = _PREFIX + "EmbedContentBatch"
EMBED_OUTPUT_TYPE = _PREFIX + "EmbedContentBatchOutput"
_REQUEST = "BatchGenerateContentRequest"
# kind -> (the model method it needs, the request message, the request's name)
_KINDS = {
    "generate": ("batchGenerateContent", BATCH_GENERATE_CONTENT_REQUEST, _REQUEST),
    "embed": (
        "asyncBatchEmbedContent",
        ASYNC_BATCH_EMBED_CONTENT_REQUEST,
        "AsyncBatchEmbedContentRequest",
    ),
}

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED")
EVENTS = {"SUCCEEDED": "batch.succeeded", "FAILED": "batch.failed", "EXPIRED": "batch.expired"}
_EXPIRED_MESSAGE = "Batch has not been processed within the 48h timeframe."


def _item_error(error: ApiError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "status": error.status}


class BatchStore:
    """Batch records; `refresh` turns clock time into state, and finishes jobs exactly once."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.batches: dict[str, dict[str, Any]] = {}

    def load(self) -> None:
        if self.state.persistence is not None:
            for record in self.state.persistence.load("batch"):
                self.batches[record["id"]] = record

    def _persist(self, record: dict[str, Any]) -> None:
        if self.state.persistence is not None:
            self.state.persistence.put("batch", record["id"], record)

    # -- creation ---------------------------------------------------------------------------

    def create(
        self, model_name: str, body: dict, version: str, base: str, kind: str = "generate"
    ) -> dict[str, Any]:
        state = self.state
        method, message, request_name = _KINDS[kind]
        model = lookup(model_name)
        if model is None or method not in model.methods:
            raise model_not_found(model_id(model_name), version, method)
        check_fields(body, message)
        batch = (
            json_object(pick(body, "batch"), "batch") if pick(body, "batch") is not None else None
        )
        if batch is None:
            raise invalid_argument(f"* {request_name}.batch: batch is not specified\n", "batch")
        source = pick(batch, "inputConfig")
        if not isinstance(source, dict):
            raise invalid_argument(
                f"* {_REQUEST}.batch.input_config: input_config is not specified\n",
                "batch.input_config",
            )
        inline, file_name = pick(source, "requests"), pick(source, "fileName")
        if (inline is None) == (file_name is None):
            raise invalid_argument(
                f"* {_REQUEST}.batch.input_config: exactly one of requests or file_name must be "
                "set\n",
                "batch.input_config",
            )
        fail_mode = None
        if inline is not None:
            items = self._inline_items(inline, model, kind)
        else:
            items, fail_mode = self._file_items(str(file_name), model, kind)
        if fail_mode is None and state.rng.random() < state.config.batch.fail_rate:
            fail_mode = "internal"
        batch_id = new_id(36)
        timing = state.config.batch
        webhook = pick(batch, "webhookConfig")
        record = {
            "id": batch_id,
            "kind": kind,
            "name": f"batches/{batch_id}",
            "model": model.name,
            "display_name": pick(batch, "displayName", ""),
            "created_at": state.clock.now(),
            "pending_s": timing.pending_s,
            "per_request_s": timing.per_request_s,
            "expiry_s": timing.expiry_s,
            "input_file": None
            if inline is not None
            else f"files/{str(file_name).removeprefix('files/')}",
            "items": items,
            "fail_mode": fail_mode,
            "webhook_config": webhook if isinstance(webhook, dict) else None,
            "version": version,
            "base": base,
            "terminal": None,
            "end_time": None,
            "processed": 0,
            "output": None,
            "error": None,
        }
        self.batches[batch_id] = record
        self._persist(record)
        return record

    def _inline_items(self, inline: Any, model: ModelInfo, kind: str) -> list[dict[str, Any]]:
        requests = pick(inline, "requests") if isinstance(inline, dict) else inline
        if not isinstance(requests, list) or not requests:
            raise invalid_argument(
                f"* {_REQUEST}.batch.input_config.requests.requests: requests must not be empty\n",
                "batch.input_config.requests.requests",
            )
        items = []
        for i, entry in enumerate(requests):
            if not isinstance(entry, dict):
                raise invalid_argument(
                    f"Invalid value at 'batch.input_config.requests.requests[{i}]' (TYPE_MESSAGE)",
                    f"batch.input_config.requests.requests[{i}]",
                )
            metadata = pick(entry, "metadata")
            if isinstance(metadata, dict):
                # The SDK parses echoed metadata as dict[str, str]; anything else breaks it.
                metadata = {
                    str(k): v if isinstance(v, str) else orjson.dumps(v).decode()
                    for k, v in metadata.items()
                }
            items.append(self._item(pick(entry, "request"), None, model, kind, metadata))
        return items

    def _item(
        self,
        request: Any,
        key: str | None,
        model: ModelInfo,
        kind: str,
        metadata: Any = None,
    ) -> dict[str, Any]:
        item: dict[str, Any] = {"key": key, "metadata": metadata, "request": None, "error": None}
        try:
            name = "EmbedContentRequest" if kind == "embed" else "GenerateContentRequest"
            if not isinstance(request, dict):
                raise invalid_argument(f"* {name}: request is not specified\n", "request")
            if kind == "embed":
                check_embed_request(model, request, name)
            else:
                self.state.responder.check(request)
            item["request"] = request
        except ApiError as error:
            item["error"] = _item_error(error)
        return item

    def _file_items(
        self, file_name: str, model: ModelInfo, kind: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        file_id = file_name.removeprefix("files/")
        self.state.files.get(file_id)
        try:
            text = self.state.files.data[file_id].decode("utf-8")
        except UnicodeDecodeError:
            return [], "invalid_input"
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                parsed = orjson.loads(line)
            except orjson.JSONDecodeError:
                error = invalid_argument(f"Line {number}: invalid JSON.")
                items.append(
                    {"key": None, "metadata": None, "request": None, "error": _item_error(error)}
                )
                continue
            if not isinstance(parsed, dict):
                error = invalid_argument(f"Line {number}: expected a JSON object.")
                items.append(
                    {"key": None, "metadata": None, "request": None, "error": _item_error(error)}
                )
                continue
            key = parsed.get("key")
            items.append(
                self._item(pick(parsed, "request"), None if key is None else str(key), model, kind)
            )
        if not any(item["request"] is not None for item in items):
            return items, "invalid_input"
        return items, None

    # -- lifecycle --------------------------------------------------------------------------

    def progress(self, record: dict[str, Any], now: float) -> tuple[str, int, float]:
        """(state, processed requests, last change time) at `now`, for a non-finished record."""
        total = len(record["items"])
        created = record["created_at"]
        started = created + record["pending_s"]
        deadline = created + record["expiry_s"]
        per = record["per_request_s"]
        finish = started if record["fail_mode"] == "invalid_input" else started + total * per
        if finish > deadline and now >= deadline:
            return "EXPIRED", self._processed(record, deadline), deadline
        if now < started:
            return "PENDING", 0, created
        if now >= finish:
            return ("FAILED" if record["fail_mode"] else "SUCCEEDED"), total, finish
        done = self._processed(record, now)
        return "RUNNING", done, started + done * per

    @staticmethod
    def _processed(record: dict[str, Any], now: float) -> int:
        started = record["created_at"] + record["pending_s"]
        per = record["per_request_s"]
        total = len(record["items"])
        if now <= started:
            return 0
        return total if per <= 0 else min(total, int((now - started) / per))

    def refresh(self, record: dict[str, Any]) -> tuple[str, int, float]:
        if record["terminal"]:
            return record["terminal"], record["processed"], record["end_time"]
        status, processed, changed = self.progress(record, self.state.clock.now())
        if status in TERMINAL:
            self._finish(record, status, processed, changed)
        return status, processed, changed

    def refresh_all(self) -> None:
        for record in list(self.batches.values()):
            if not record["terminal"]:
                self.refresh(record)

    def _finish(self, record: dict[str, Any], status: str, processed: int, when: float) -> None:
        record["terminal"] = status
        record["processed"] = processed
        record["end_time"] = when
        if status == "SUCCEEDED":
            self._results(record)
        elif status == "FAILED":
            record["error"] = (
                {
                    "code": 3,
                    "message": f"The input file {record['input_file']} is not a valid JSONL file of batch requests.",
                }
                if record["fail_mode"] == "invalid_input"
                else {"code": 13, "message": "Batch failed due to an internal error."}
            )
        elif status == "EXPIRED":
            record["error"] = {"code": 4, "message": _EXPIRED_MESSAGE}
        self._persist(record)
        if status in EVENTS:
            self.state.webhooks.emit_batch_event(EVENTS[status], record)

    def _results(self, record: dict[str, Any]) -> None:
        results = []
        for item in record["items"]:
            error = item["error"]
            response = None
            if error is None:
                try:
                    model_name = pick(item["request"], "model") or record["model"]
                    model = lookup(model_name)
                    if model is None:
                        raise model_not_found(
                            model_id(model_name), record["version"], "generateContent"
                        )
                    if record.get("kind") == "embed":
                        values, tokens = embed(self.state, model, item["request"])
                        response = {"embedding": {"values": values}, "tokenCount": int64(tokens)}
                    else:
                        prepared = self.state.responder.prepare(model, item["request"])
                        response = self.state.responder.respond(prepared)
                except ApiError as failure:
                    error = item["error"] = _item_error(failure)
            results.append((item, response, error))
        if record["input_file"] is None:
            inlined = []
            for item, response, error in results:
                entry: dict[str, Any] = (
                    {"response": response}
                    if error is None
                    else {"error": {"code": _rpc(error), "message": error["message"]}}
                )
                if item["metadata"] is not None:
                    entry["metadata"] = item["metadata"]
                inlined.append(entry)
            record["output"] = {"inlinedResponses": {"inlinedResponses": inlined}}
            return
        lines = []
        for item, response, error in results:
            line: dict[str, Any] = {"response": response} if error is None else {"error": error}
            if item["key"] is not None:
                line["key"] = item["key"]
            lines.append(orjson.dumps(line))
        output_id = f"batch-{record['id']}"
        self.state.files.add(
            output_id,
            b"\n".join(lines) + b"\n",
            "application/jsonl",
            base=record["base"],
            version=record["version"],
            display_name=output_id,
            generated=True,
        )
        record["output"] = {"responsesFile": f"files/{output_id}"}

    def cancel(self, name: str) -> None:
        record = self.get(name)
        status, processed, _ = self.refresh(record)
        if status == "CANCELLED":
            return
        if status in TERMINAL:
            raise failed_precondition(
                f"Batch {record['name']} is already in a terminal state (BATCH_STATE_{status}) "
                "and cannot be cancelled."
            )
        record["terminal"] = "CANCELLED"
        record["processed"] = processed
        record["end_time"] = self.state.clock.now()
        self._persist(record)

    def get(self, name: str) -> dict[str, Any]:
        record = self.batches.get(name.removeprefix("batches/"))
        if record is None:
            raise not_found(f"Batch {name} not found.")
        return record

    def delete(self, name: str) -> None:
        record = self.get(name)
        del self.batches[record["id"]]
        if self.state.persistence is not None:
            self.state.persistence.delete("batch", record["id"])

    # -- wire shape -------------------------------------------------------------------------

    def operation(self, record: dict[str, Any], *, for_list: bool = False) -> dict[str, Any]:
        status, processed, changed = self.refresh(record)
        items = record["items"]
        done_items = items[:processed]
        failed = sum(1 for item in done_items if item["error"] is not None)
        stats = {"requestCount": int64(len(items))}
        if status == "SUCCEEDED" or processed:
            if processed - failed:
                stats["successfulRequestCount"] = int64(processed - failed)
            if failed:
                stats["failedRequestCount"] = int64(failed)
        if len(items) - processed and status not in TERMINAL:
            stats["pendingRequestCount"] = int64(len(items) - processed)
        embeds = record.get("kind") == "embed"
        metadata: dict[str, Any] = {
            "@type": EMBED_META_TYPE if embeds else META_TYPE,
            "model": record["model"],
            "displayName": record["display_name"],
        }
        if record["input_file"]:
            metadata["inputConfig"] = {"fileName": record["input_file"]}
        metadata |= {
            "createTime": rfc3339(record["created_at"]),
            "updateTime": rfc3339(changed),
        }
        if status in TERMINAL:
            metadata["endTime"] = rfc3339(record["end_time"])
        metadata |= {"batchStats": stats, "state": f"BATCH_STATE_{status}", "name": record["name"]}
        output = record["output"]
        if output is not None and for_list and "inlinedResponses" in output:
            output = None  # the real list omits inlined responses
        if output is not None:
            metadata["output"] = output
        body: dict[str, Any] = {"name": record["name"], "metadata": metadata}
        if status in TERMINAL:
            body["done"] = True
        if output is not None:
            body["response"] = {"@type": EMBED_OUTPUT_TYPE if embeds else OUTPUT_TYPE, **output}
        if record["error"] is not None:
            body["error"] = record["error"]
        return body


def _rpc(error: dict[str, Any]) -> int:
    return RPC_CODES.get(error.get("status", ""), 2)


@api_route("batchGenerateContent")
async def create_batch(request: Request, state: EmulatorState, entry: dict) -> Response:
    model_name = request.path_params["target"].rpartition(":")[0]
    entry["model"] = model_id(model_name)
    body = json_object(await json_body(request), _REQUEST)
    record = state.batches.create(
        model_name, body, request.path_params["version"], base_url(request)
    )
    return json_response(state.batches.operation(record))


@api_route("asyncBatchEmbedContent")
async def create_embed_batch(request: Request, state: EmulatorState, entry: dict) -> Response:
    model_name = request.path_params["target"].rpartition(":")[0]
    entry["model"] = model_id(model_name)
    body = json_object(await json_body(request), "AsyncBatchEmbedContentRequest")
    record = state.batches.create(
        model_name, body, request.path_params["version"], base_url(request), kind="embed"
    )
    return json_response(state.batches.operation(record))


@api_route("batches.get")
async def get_batch(request: Request, state: EmulatorState, entry: dict) -> Response:
    record = state.batches.get(request.path_params["batch"])
    entry["model"] = model_id(record["model"])
    return json_response(state.batches.operation(record))


@api_route("batches.list")
async def list_batches(request: Request, state: EmulatorState, entry: dict) -> Response:
    records = sorted(state.batches.batches.values(), key=lambda r: r["created_at"], reverse=True)
    chunk, token = page(records, request.query_params, default_size=50, max_size=1000)
    body: dict[str, Any] = {}
    if chunk:
        body["operations"] = [state.batches.operation(r, for_list=True) for r in chunk]
    if token:
        body["nextPageToken"] = token
    return json_response(body)


@api_route("batches.cancel")
async def cancel_batch(request: Request, state: EmulatorState, entry: dict) -> Response:
    state.batches.cancel(request.path_params["batch"].rpartition(":")[0])
    return json_response({})


@api_route("batches.delete")
async def delete_batch(request: Request, state: EmulatorState, entry: dict) -> Response:
    state.batches.delete(request.path_params["batch"])
    return json_response({})
