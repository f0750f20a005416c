"""Files API: byte-exact resumable uploads (multi-chunk too), get/list/download/delete, expiry."""

from __future__ import annotations

import base64
import hashlib
import io
import os

import httpx
import pytest
from google import genai
from google.genai import errors, types

from console.emulator import EmulatorServer

CHUNK = 8 * 1024 * 1024


def test_upload_get_download_delete(genai_client: genai.Client, tmp_path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello files api\n")
    uploaded = genai_client.files.upload(file=path, config={"display_name": "notes"})
    assert uploaded.name.startswith("files/") and uploaded.display_name == "notes"
    assert uploaded.mime_type == "text/plain" and uploaded.size_bytes == 16
    assert uploaded.state == types.FileState.ACTIVE and uploaded.source == types.FileSource.UPLOADED
    digest = hashlib.sha256(b"hello files api\n").hexdigest().encode()
    assert uploaded.sha256_hash == base64.b64encode(digest).decode()
    assert (uploaded.expiration_time - uploaded.create_time).total_seconds() == pytest.approx(
        48 * 3600
    )
    assert genai_client.files.get(name=uploaded.name).uri == uploaded.uri
    assert genai_client.files.download(file=uploaded.name) == b"hello files api\n"
    genai_client.files.delete(name=uploaded.name)
    with pytest.raises(errors.ClientError) as caught:
        genai_client.files.get(name=uploaded.name)
    assert caught.value.code == 403 and caught.value.status == "PERMISSION_DENIED"


def test_upload_larger_than_one_chunk_round_trips(
    genai_client: genai.Client, control: httpx.Client, tmp_path
) -> None:
    data = os.urandom(2 * CHUNK + 5)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    uploaded = genai_client.files.upload(
        file=path, config={"mime_type": "application/octet-stream"}
    )
    assert uploaded.size_bytes == len(data)
    assert genai_client.files.download(file=uploaded.name) == data
    log = control.get("/requests").json()["requests"]
    chunks = [r for r in log if r["operation"] == "files.upload_chunk"]
    assert [r["status"] for r in chunks] == [200, 200, 200]
    assert all("key" not in r["query"] for r in log)


def test_upload_with_name_and_conflict(genai_client: genai.Client) -> None:
    buffer = io.BytesIO(b'{"a": 1}\n')
    uploaded = genai_client.files.upload(
        file=buffer, config={"name": "my-input", "mime_type": "jsonl"}
    )
    assert uploaded.name == "files/my-input" and uploaded.mime_type == "jsonl"
    with pytest.raises(errors.ClientError) as caught:
        genai_client.files.upload(
            file=io.BytesIO(b"x"), config={"name": "my-input", "mime_type": "text/plain"}
        )
    assert caught.value.code == 409


def test_upload_url_is_built_from_host(emulator_url: str) -> None:
    response = httpx.post(
        f"{emulator_url}/upload/v1beta/files",
        headers={
            "x-goog-api-key": "k",
            "X-Goog-Upload-Protocol": "resumable",
            "X-Goog-Upload-Command": "start",
            "X-Goog-Upload-Header-Content-Length": "3",
            "X-Goog-Upload-Header-Content-Type": "text/plain",
        },
        json={"file": {"display_name": "raw"}},
    )
    assert response.status_code == 200
    url = response.headers["x-goog-upload-url"]
    assert url.startswith(f"{emulator_url}/upload/v1beta/files?upload_id=")
    part = httpx.post(
        url, headers={"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0"}, content=b"ab"
    )
    assert part.headers["x-goog-upload-status"] == "active"
    wrong = httpx.post(
        url,
        headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"},
        content=b"c",
    )
    assert wrong.status_code == 400 and wrong.headers["x-goog-upload-status"] == "active"
    final = httpx.post(
        url,
        headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "2"},
        content=b"c",
    )
    assert final.headers["x-goog-upload-status"] == "final"
    file = final.json()["file"]
    assert (
        file["sizeBytes"] == "3"
        and file["mimeType"] == "text/plain"
        and file["displayName"] == "raw"
    )
    rest = httpx.get(f"{emulator_url}/download/v1beta/{file['name']}:download?alt=media&key=k")
    assert rest.content == b"abc"
    missing = httpx.post(url, headers={"X-Goog-Upload-Command": "upload"}, content=b"x")
    assert missing.status_code == 404 and missing.headers["x-goog-upload-status"] == "cancelled"


def test_list_pages_and_files_expire_after_48h(
    genai_client: genai.Client, emulator: EmulatorServer
) -> None:
    names = {
        genai_client.files.upload(
            file=io.BytesIO(f"f{i}".encode()), config={"mime_type": "text/plain"}
        ).name
        for i in range(5)
    }
    pager = genai_client.files.list(config={"page_size": 2})
    assert len(pager.page) == 2
    assert {f.name for f in pager} == names
    emulator.clock.advance(48 * 3600 + 1)
    assert list(genai_client.files.list()) == []
    with pytest.raises(errors.ClientError):
        genai_client.files.get(name=next(iter(names)))


def test_file_parts_are_usable_in_prompts(genai_client: genai.Client) -> None:
    uploaded = genai_client.files.upload(
        file=io.BytesIO(b"x" * 400), config={"mime_type": "text/plain"}
    )
    response = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents=[uploaded, "sum"]
    )
    assert response.usage_metadata.prompt_token_count == 100 + 1


async def test_async_upload_and_download(genai_client: genai.Client) -> None:
    data = os.urandom(CHUNK + 1)
    aio = genai_client.aio.files
    uploaded = await aio.upload(
        file=io.BytesIO(data), config={"mime_type": "application/octet-stream"}
    )
    assert uploaded.size_bytes == len(data)
    assert await aio.download(file=uploaded.name) == data
    assert [f.name async for f in await aio.list()] == [uploaded.name]
    await aio.delete(name=uploaded.name)
