"""Files API: the resumable upload protocol, get / list / delete / download, 48 h expiry."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from console.emulator.api import api_route, json_body
from console.emulator.errors import (
    already_exists,
    invalid_argument,
    not_found,
    permission_denied,
)
from console.emulator.wire import int64, json_response, new_id, page, pick, rfc3339

if TYPE_CHECKING:
    from console.emulator.state import EmulatorState

CHUNK_GRANULARITY = 8 * 1024 * 1024
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
_URI_ID = re.compile(r"files/([a-z0-9-]+)")


@dataclass
class UploadSession:
    upload_id: str
    file_id: str
    display_name: str | None
    mime_type: str
    size: int
    base_url: str
    version: str
    buffer: bytearray = field(default_factory=bytearray)


def base_url(request: Request) -> str:
    """Scheme and Host exactly as the client reached us (the SDK uses upload URLs verbatim)."""
    host = request.headers.get("host") or request.url.netloc
    return f"{request.url.scheme}://{host}"


class FileStore:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.files: dict[str, dict[str, Any]] = {}
        self.data: dict[str, bytes] = {}
        self.sessions: dict[str, UploadSession] = {}

    def load(self) -> None:
        store = self.state.persistence
        if store is None:
            return
        for resource in store.load("file"):
            file_id = resource["name"].split("/", 1)[1]
            self.files[file_id] = resource
            self.data[file_id] = store.get_blob(resource["name"]) or b""

    def _persist(self, file_id: str) -> None:
        store = self.state.persistence
        if store is not None:
            resource = self.files[file_id]
            store.put("file", resource["name"], resource)
            store.put_blob(resource["name"], self.data[file_id])

    def expired(self, resource: dict[str, Any]) -> bool:
        return resource["_expires_at"] <= self.state.clock.now()

    def get(self, file_id: str) -> dict[str, Any]:
        resource = self.files.get(file_id)
        if resource is None or self.expired(resource):
            raise permission_denied(
                f"You do not have permission to access the File {file_id} or it may not exist."
            )
        return resource

    def add(
        self,
        file_id: str,
        data: bytes,
        mime_type: str,
        *,
        base: str,
        version: str,
        display_name: str | None = None,
        generated: bool = False,
    ) -> dict[str, Any]:
        now = self.state.clock.now()
        expires = now + self.state.config.file_ttl_s
        resource: dict[str, Any] = {"name": f"files/{file_id}"}
        if display_name:
            resource["displayName"] = display_name
        resource |= {
            "mimeType": mime_type,
            "sizeBytes": int64(len(data)),
            "createTime": rfc3339(now),
            "updateTime": rfc3339(now),
            "expirationTime": rfc3339(expires),
            # The real API sends base64 of the hex digest, not of the raw digest.
            "sha256Hash": base64.b64encode(hashlib.sha256(data).hexdigest().encode()).decode(),
            "uri": f"{base}/{version}/files/{file_id}",
            "state": "ACTIVE",
            "source": "GENERATED" if generated else "UPLOADED",
        }
        if generated:
            resource["downloadUri"] = (
                f"{base}/download/{version}/files/{file_id}:download?alt=media"
            )
        resource["_expires_at"] = expires
        self.files[file_id] = resource
        self.data[file_id] = data
        self._persist(file_id)
        return resource

    def delete(self, file_id: str) -> None:
        self.get(file_id)
        resource = self.files.pop(file_id)
        self.data.pop(file_id, None)
        if self.state.persistence is not None:
            self.state.persistence.delete("file", resource["name"])
            self.state.persistence.delete_blob(resource["name"])

    def resolve_uri(self, uri: str) -> tuple[str, int] | None:
        """A fileData URI (or name) -> (mime type, size), for token counting."""
        match = _URI_ID.search(uri)
        resource = self.files.get(match.group(1)) if match else None
        if resource is None:
            return None
        return resource["mimeType"], int(resource["sizeBytes"])

    def purge(self) -> None:
        for file_id, resource in list(self.files.items()):
            if self.expired(resource):
                self.delete(file_id)

    def clear(self) -> None:
        self.files.clear()
        self.data.clear()
        self.sessions.clear()


def public(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if not k.startswith("_")}


def _upload_status(status: str) -> dict[str, str]:
    return {"x-goog-upload-status": status}


async def upload(request: Request) -> Response:
    """`POST /upload/{v}/files`: a session start, or (with `upload_id`) one chunk."""
    if "upload_id" in request.query_params:
        return await upload_chunk(request)
    return await upload_start(request)


@api_route("files.upload")
async def upload_start(request: Request, state: EmulatorState, entry: dict) -> Response:
    protocol = request.headers.get("x-goog-upload-protocol", "")
    command = request.headers.get("x-goog-upload-command", "")
    if protocol.lower() != "resumable" or command.lower() != "start":
        raise invalid_argument(
            "Only the resumable upload protocol is supported: send "
            "X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.",
            "X-Goog-Upload-Command",
        )
    body = await json_body(request, required=False)
    meta = pick(body, "file", {}) if isinstance(body, dict) else {}
    if not isinstance(meta, dict):
        raise invalid_argument(
            'Invalid JSON payload received. Expected an object for "file".', "file"
        )
    size_header = request.headers.get("x-goog-upload-header-content-length")
    size = pick(meta, "sizeBytes", size_header)
    try:
        size = int(size) if size is not None else None
    except ValueError:
        raise invalid_argument(
            f"Invalid value at 'file.size_bytes' (TYPE_INT64), {size!r}", "file.size_bytes"
        ) from None
    if size is None or size < 0:
        raise invalid_argument(
            "Upload size is required: X-Goog-Upload-Header-Content-Length", "file.size_bytes"
        )
    if size > 2 * 1024**3:
        raise invalid_argument("File size exceeds the 2 GB limit.", "file.size_bytes")
    mime = pick(meta, "mimeType") or request.headers.get("x-goog-upload-header-content-type")
    if not mime:
        raise invalid_argument("* File.mime_type: mime_type is not specified\n", "file.mime_type")
    name = pick(meta, "name")
    if name:
        file_id = name.removeprefix("files/")
        if not _NAME.match(file_id):
            raise invalid_argument(
                f"Invalid file name: {name}. A name contains lowercase alphanumeric characters "
                "or dashes (-) and cannot begin or end with a dash.",
                "file.name",
            )
        if file_id in state.files.files and not state.files.expired(state.files.files[file_id]):
            raise already_exists(f"File with name files/{file_id} already exists.")
    else:
        file_id = new_id()
    version = request.path_params["version"]
    upload_id = new_id(40)
    base = base_url(request)
    state.files.sessions[upload_id] = UploadSession(
        upload_id, file_id, pick(meta, "displayName"), mime, size, base, version
    )
    url = f"{base}/upload/{version}/files?upload_id={upload_id}&upload_protocol=resumable"
    headers = {
        "x-goog-upload-url": url,
        "x-goog-upload-status": "active",
        "x-goog-upload-chunk-granularity": str(CHUNK_GRANULARITY),
        "x-goog-upload-control-url": url,
    }
    return Response(b"", 200, headers, media_type="text/plain; charset=utf-8")


# Chunks carry no API key: the session id in the URL is the credential.
@api_route("files.upload_chunk", auth=False)
async def upload_chunk(request: Request, state: EmulatorState, entry: dict) -> Response:
    session = state.files.sessions.get(request.query_params["upload_id"])
    if session is None:
        error = not_found("Upload session not found or already finalized.")
        error.headers = _upload_status("cancelled")
        raise error
    command = {
        c.strip().lower() for c in request.headers.get("x-goog-upload-command", "").split(",")
    }
    if command & {"cancel"}:
        state.files.sessions.pop(session.upload_id, None)
        return json_response({}, 200, _upload_status("cancelled"))
    if command & {"query"}:
        return Response(
            b"",
            200,
            {
                "x-goog-upload-status": "active",
                "x-goog-upload-size-received": str(len(session.buffer)),
            },
        )
    offset = request.headers.get("x-goog-upload-offset")
    chunk = await request.body()
    if offset is not None and int(offset) != len(session.buffer):
        error = invalid_argument(
            f"Invalid upload offset {offset}; expected {len(session.buffer)}.",
            "X-Goog-Upload-Offset",
        )
        error.headers = _upload_status("active")
        raise error
    session.buffer += chunk
    if len(session.buffer) > session.size:
        state.files.sessions.pop(session.upload_id, None)
        error = invalid_argument(
            f"Received {len(session.buffer)} bytes, more than the declared {session.size}.",
            "X-Goog-Upload-Header-Content-Length",
        )
        error.headers = _upload_status("cancelled")
        raise error
    if "finalize" not in command:
        return Response(b"", 200, _upload_status("active"))
    state.files.sessions.pop(session.upload_id, None)
    if len(session.buffer) != session.size:
        error = invalid_argument(
            f"Upload finalized with {len(session.buffer)} bytes; {session.size} were declared.",
            "X-Goog-Upload-Header-Content-Length",
        )
        error.headers = _upload_status("cancelled")
        raise error
    resource = state.files.add(
        session.file_id,
        bytes(session.buffer),
        session.mime_type,
        base=session.base_url,
        version=session.version,
        display_name=session.display_name,
    )
    return json_response({"file": public(resource)}, 200, _upload_status("final"))


@api_route("files.get")
async def get_file(request: Request, state: EmulatorState, entry: dict) -> Response:
    target = request.path_params["file"]
    if ":" in target:
        file_id, _, action = target.partition(":")
        if action != "download":
            raise not_found(f"Method not found: {action}")
        return _download(request, state, file_id)
    return json_response(public(state.files.get(target)))


@api_route("files.download")
async def download_file(request: Request, state: EmulatorState, entry: dict) -> Response:
    file_id = request.path_params["file"].partition(":")[0]
    return _download(request, state, file_id)


def _download(request: Request, state: EmulatorState, file_id: str) -> Response:
    if request.query_params.get("alt") != "media":
        raise invalid_argument("Downloads need alt=media.", "alt")
    resource = state.files.get(file_id)
    return Response(state.files.data[file_id], 200, media_type=resource["mimeType"])


@api_route("files.list")
async def list_files(request: Request, state: EmulatorState, entry: dict) -> Response:
    alive = [r for r in state.files.files.values() if not state.files.expired(r)]
    alive.sort(key=lambda r: r["createTime"], reverse=True)
    chunk, token = page(alive, request.query_params, default_size=10, max_size=100)
    body: dict[str, Any] = {}
    if chunk:
        body["files"] = [public(r) for r in chunk]
    if token:
        body["nextPageToken"] = token
    return json_response(body)


@api_route("files.delete")
async def delete_file(request: Request, state: EmulatorState, entry: dict) -> Response:
    state.files.delete(request.path_params["file"])
    return json_response({})
