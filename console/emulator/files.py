"""Files API: the resumable upload protocol, get / list / delete / download, 48 h expiry."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from console.emulator.api import api_route, json_body, json_object
from console.emulator.errors import (
    ApiError,
    already_exists,
    invalid_argument,
    not_found,
    permission_denied,
)
from console.emulator.schema import CREATE_FILE_REQUEST, REGISTER_FILES_REQUEST, check_fields
from console.emulator.wire import int64, json_response, new_id, page, pick, rfc3339

if TYPE_CHECKING:
    from console.emulator.state import EmulatorState

CHUNK_GRANULARITY = 8 * 1024 * 1024
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
_FILE_PATH = re.compile(r"^/(?:v1|v1beta|v1alpha)/files/([a-z0-9-]+)$")
# Hosts whose `/{v}/files/{id}` URIs name this emulator's files: itself on loopback, and the
# real service's host (programs written for the API keep its URIs).
_OWN_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "generativelanguage.googleapis.com"})
# The API reads public YouTube videos from a URL; the emulator counts them as video.
_YOUTUBE_HOSTS = frozenset({"www.youtube.com", "youtube.com", "m.youtube.com", "youtu.be"})
_GCS = re.compile(r"^gs://[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]/.+$")

# What the Files API stores: media, text, PDF and the structured-text types (`jsonl` on its own
# is accepted too, as the Batch API cookbook uploads it). Anything else is "Unsupported MIME type".
_MIME_PREFIXES = ("image/", "audio/", "video/", "text/")
_MIME_TYPES = frozenset(
    {
        "jsonl",
        "application/pdf",
        "application/json",
        "application/jsonl",
        "application/x-ndjson",
        "application/octet-stream",
        "application/xml",
        "application/rtf",
        "application/javascript",
        "application/x-javascript",
        "application/x-python",
        "application/x-python-code",
        "application/x-typescript",
        "application/x-sh",
        "application/sql",
        "application/x-ipynb+json",
    }
)


def supported_mime(mime: str) -> bool:
    base = mime.split(";", 1)[0].strip().lower()
    return base in _MIME_TYPES or (
        base.startswith(_MIME_PREFIXES) and len(base.split("/", 1)[1]) > 0
    )


def unsupported_uri(uri: str) -> ApiError:
    return invalid_argument(f"Invalid or unsupported file uri: {uri}")


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
        self.registered: dict[str, str] = {}  # gs:// URI -> file id

    def load(self) -> None:
        store = self.state.persistence
        if store is None:
            return
        for resource in store.load("file"):
            file_id = resource["name"].split("/", 1)[1]
            self.files[file_id] = resource
            self.data[file_id] = store.get_blob(resource["name"]) or b""
            if resource.get("source") == "REGISTERED":
                self.registered[resource["uri"]] = file_id

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
        registered: str | None = None,
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
            "uri": registered or f"{base}/{version}/files/{file_id}",
            "state": "ACTIVE",
            "source": "REGISTERED" if registered else "GENERATED" if generated else "UPLOADED",
        }
        if generated:
            resource["downloadUri"] = (
                f"{base}/download/{version}/files/{file_id}:download?alt=media"
            )
        resource["_expires_at"] = expires
        self.files[file_id] = resource
        self.data[file_id] = data
        if registered:
            self.registered[registered] = file_id
        self._persist(file_id)
        return resource

    def delete(self, file_id: str) -> None:
        self.get(file_id)
        resource = self.files.pop(file_id)
        self.data.pop(file_id, None)
        if resource.get("source") == "REGISTERED":
            self.registered.pop(resource["uri"], None)
        if self.state.persistence is not None:
            self.state.persistence.delete("file", resource["name"])
            self.state.persistence.delete_blob(resource["name"])

    def resolve_uri(self, uri: str) -> tuple[str, int] | None:
        """A fileData URI -> (mime type, size) of a live file; None for a YouTube URL.

        400 for a URI the emulator does not know (gs:// not registered, foreign hosts), 403
        for one of its own file URIs whose file is gone, as on the real API.
        """
        if not isinstance(uri, str) or not uri:
            raise unsupported_uri(str(uri))
        if uri.startswith("gs://"):
            registered = self.registered.get(uri)
            if registered is None:
                raise unsupported_uri(uri)
            resource = self.get(registered)
            return resource["mimeType"], int(resource["sizeBytes"])
        parts = urlsplit(uri)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise unsupported_uri(uri)
        if host in _YOUTUBE_HOSTS:
            return None
        match = _FILE_PATH.match(parts.path)
        if match is None:
            raise unsupported_uri(uri)
        file_id = match.group(1)
        known = self.files.get(file_id)
        if host not in _OWN_HOSTS and (known is None or known["uri"] != uri):
            raise unsupported_uri(uri)
        resource = self.get(file_id)
        return resource["mimeType"], int(resource["sizeBytes"])

    def register(self, uris: list[str], *, version: str) -> list[dict[str, Any]]:
        """`files:register`: gs:// objects become REGISTERED files that fileData can name."""
        out = []
        for i, uri in enumerate(uris):
            if not isinstance(uri, str) or not _GCS.match(uri):
                raise invalid_argument(
                    f"* RegisterFilesRequest.uris[{i}]: Invalid Cloud Storage URI: {uri}. "
                    "It must look like gs://bucket/object.\n",
                    f"uris[{i}]",
                )
        for uri in uris:
            file_id = self.registered.get(uri)
            if (
                file_id is not None
                and file_id in self.files
                and not self.expired(self.files[file_id])
            ):
                out.append(self.files[file_id])
                continue
            file_id = new_id()
            mime = mimetypes.guess_type(uri)[0] or "application/octet-stream"
            resource = self.add(file_id, b"", mime, base="", version=version, registered=uri)
            out.append(resource)
        return out

    def purge(self) -> None:
        for file_id, resource in list(self.files.items()):
            if self.expired(resource):
                self.delete(file_id)

    def clear(self) -> None:
        self.files.clear()
        self.data.clear()
        self.sessions.clear()
        self.registered.clear()


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
    check_fields(body, CREATE_FILE_REQUEST)
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
    if not supported_mime(mime):
        raise invalid_argument(f"Unsupported MIME type: {mime}", "file.mime_type")
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


_OVERLOADED = "API key for authentication is used with other authentication credentials."


@api_route("files.register")
async def register_files(request: Request, state: EmulatorState, entry: dict) -> Response:
    """`POST /{v}/files:register`. With a Developer API key alone the gs:// objects are
    registered; the SDK also sends the OAuth token it requires, and the API refuses a key
    mixed with other credentials (OVERLOADED_CREDENTIALS)."""
    if request.headers.get("authorization"):
        raise ApiError(
            401,
            _OVERLOADED,
            "UNAUTHENTICATED",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "OVERLOADED_CREDENTIALS",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        )
    body = json_object(await json_body(request), "RegisterFilesRequest")
    check_fields(body, REGISTER_FILES_REQUEST)
    uris = pick(body, "uris")
    if not isinstance(uris, list) or not uris:
        raise invalid_argument("* RegisterFilesRequest.uris: uris must not be empty\n", "uris")
    resources = state.files.register(uris, version=request.path_params["version"])
    return json_response({"files": [public(r) for r in resources]})
