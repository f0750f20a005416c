"""Explicit context caches (`cachedContents`): create / get / list / patch / delete, TTL expiry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from console.emulator.api import api_route, json_body, json_object
from console.emulator.errors import ApiError, invalid_argument, model_not_found, permission_denied
from console.emulator.models import lookup, model_id
from console.emulator.schema import CACHED_CONTENT, check_fields
from console.emulator.validation import check_content
from console.emulator.wire import (
    has,
    json_response,
    new_id,
    page,
    parse_duration,
    parse_time,
    pick,
    rfc3339,
    snake,
)

if TYPE_CHECKING:
    from console.emulator.state import EmulatorState

_REQUEST = "CreateCachedContentRequest"


def _not_found() -> ApiError:
    return permission_denied("CachedContent not found (or permission denied)")


def cache_id(name: str) -> str:
    return name.removeprefix("cachedContents/")


class CacheStore:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.caches: dict[str, dict[str, Any]] = {}

    def load(self) -> None:
        if self.state.persistence is not None:
            for record in self.state.persistence.load("cache"):
                self.caches[cache_id(record["name"])] = record

    def _persist(self, record: dict[str, Any]) -> None:
        if self.state.persistence is not None:
            self.state.persistence.put("cache", record["name"], record)

    def get(self, name: str) -> dict[str, Any]:
        record = self.caches.get(cache_id(name))
        if record is None or record["_expires_at"] <= self.state.clock.now():
            raise _not_found()
        return record

    def _expiry(self, body: dict, now: float, path: str) -> float | None:
        ttl, expire = pick(body, "ttl"), pick(body, "expireTime")
        if ttl is not None and expire is not None:
            raise invalid_argument(
                f"* {_REQUEST}.{path}expiration: only one of ttl and expire_time may be set\n",
                f"{path}expiration",
            )
        if ttl is not None:
            seconds = parse_duration(ttl)
            if seconds is None:
                raise invalid_argument(
                    f"Invalid value at '{path}ttl' (type.googleapis.com/google.protobuf.Duration), "
                    f'"{ttl}"',
                    f"{path}ttl",
                )
            if seconds <= 0:
                raise invalid_argument(
                    f"* {_REQUEST}.{path}ttl: ttl must be positive\n", f"{path}ttl"
                )
            return now + seconds
        if expire is not None:
            try:
                stamp = parse_time(str(expire))
            except ValueError:
                raise invalid_argument(
                    f"Invalid value at '{path}expire_time' (type.googleapis.com/google.protobuf."
                    f'Timestamp), "{expire}"',
                    f"{path}expire_time",
                ) from None
            if stamp <= now:
                raise invalid_argument(
                    f"* {_REQUEST}.{path}expire_time: expire_time must be in the future\n",
                    f"{path}expire_time",
                )
            return stamp
        return None

    def create(self, body: dict, version: str) -> dict[str, Any]:
        state = self.state
        name = pick(body, "model")
        if not name or not isinstance(name, str):
            raise invalid_argument(
                f"* {_REQUEST}.cached_content.model: model is not specified\n", "model"
            )
        model = lookup(name)
        if model is None or "createCachedContent" not in model.methods:
            raise model_not_found(model_id(name), version, "createCachedContent")
        contents = pick(body, "contents", [])
        if not isinstance(contents, list):
            raise invalid_argument(
                "Invalid value at 'cached_content.contents' (TYPE_MESSAGE)", "contents"
            )
        for i, content in enumerate(contents):
            check_content(content, f"contents[{i}]", _REQUEST)
        system = pick(body, "systemInstruction")
        if system is not None:
            check_content(system, "system_instruction", _REQUEST, need_parts=False)
        tokens = state.counter.request(body).total
        minimum = state.config.cache_minimum(model.model_id)
        if tokens < minimum:
            raise invalid_argument(
                f"Cached content is too small. total_token_count={tokens}, "
                f"min_total_token_count={minimum}"
            )
        now = state.clock.now()
        expires = self._expiry(body, now, "") or now + state.config.default_cache_ttl_s
        display = pick(body, "displayName", "")
        record = {
            "name": f"cachedContents/{new_id()}",
            "model": model.name,
            "createTime": rfc3339(now),
            "updateTime": rfc3339(now),
            "expireTime": rfc3339(expires),
            "displayName": display,
            "usageMetadata": {"totalTokenCount": tokens},
            "_expires_at": expires,
            "_content": {
                k: pick(body, k)
                for k in ("contents", "systemInstruction", "tools", "toolConfig")
                if has(body, k)
            },
        }
        self.caches[cache_id(record["name"])] = record
        self._persist(record)
        return record

    def update(self, name: str, body: dict, mask: str | None) -> dict[str, Any]:
        record = self.get(name)
        now = self.state.clock.now()
        if mask:
            fields = {f.strip() for f in mask.split(",")}
            allowed = {"ttl", "expireTime", "expire_time"}
            if fields - allowed:
                raise invalid_argument(
                    "Only the expiration (ttl or expire_time) can be updated.", "update_mask"
                )
            wanted = {snake(f) for f in fields}
            body = {k: v for k, v in body.items() if snake(k) in wanted}
        expires = self._expiry(body, now, "")
        if expires is None:
            raise invalid_argument(
                "* UpdateCachedContentRequest.cached_content.expiration: ttl or expire_time "
                "must be set\n",
                "expiration",
            )
        record["_expires_at"] = expires
        record["expireTime"] = rfc3339(expires)
        record["updateTime"] = rfc3339(now)
        self._persist(record)
        return record

    def delete(self, name: str) -> None:
        record = self.get(name)
        del self.caches[cache_id(record["name"])]
        if self.state.persistence is not None:
            self.state.persistence.delete("cache", record["name"])

    def purge(self) -> None:
        now = self.state.clock.now()
        for key, record in list(self.caches.items()):
            if record["_expires_at"] <= now:
                del self.caches[key]
                if self.state.persistence is not None:
                    self.state.persistence.delete("cache", record["name"])


def public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


@api_route("cachedContents.create")
async def create_cache(request: Request, state: EmulatorState, entry: dict) -> Response:
    body = json_object(await json_body(request), "CachedContent")
    check_fields(body, CACHED_CONTENT)
    record = state.caches.create(body, request.path_params["version"])
    entry["model"] = record["model"].removeprefix("models/")
    return json_response(public(record))


@api_route("cachedContents.get")
async def get_cache(request: Request, state: EmulatorState, entry: dict) -> Response:
    return json_response(public(state.caches.get(request.path_params["cache"])))


@api_route("cachedContents.list")
async def list_caches(request: Request, state: EmulatorState, entry: dict) -> Response:
    now = state.clock.now()
    alive = [public(r) for r in state.caches.caches.values() if r["_expires_at"] > now]
    chunk, token = page(alive, request.query_params, default_size=100, max_size=1000)
    body: dict[str, Any] = {}
    if chunk:
        body["cachedContents"] = chunk
    if token:
        body["nextPageToken"] = token
    return json_response(body)


@api_route("cachedContents.patch")
async def patch_cache(request: Request, state: EmulatorState, entry: dict) -> Response:
    body = json_object(await json_body(request), "CachedContent")
    check_fields(body, CACHED_CONTENT)
    mask = request.query_params.get("updateMask") or request.query_params.get("update_mask")
    record = state.caches.update(request.path_params["cache"], body, mask)
    return json_response(public(record))


@api_route("cachedContents.delete")
async def delete_cache(request: Request, state: EmulatorState, entry: dict) -> Response:
    state.caches.delete(request.path_params["cache"])
    return json_response({})
