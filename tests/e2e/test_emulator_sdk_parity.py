"""Differences google-genai's own test suite found (`python -m tests.sdk_suite`), each checked
here through the unmodified SDK, sync and async."""

from __future__ import annotations

import gzip

import httpx
import pytest
from google import genai
from google.genai import errors

FLASH = "gemini-2.5-flash"


def _lower(headers: dict[str, str] | None) -> dict[str, str]:
    # The async client is httpx or aiohttp (when installed); aiohttp keeps the header's case.
    return {k.lower(): v for k, v in (headers or {}).items()}


# -- gzip on every JSON answer, a two-byte `{}` included -------------------------------------


def test_tiny_answers_are_gzipped_when_asked(emulator_url: str) -> None:
    url = f"{emulator_url}/v1beta/tunedModels"
    with httpx.Client(headers={"x-goog-api-key": "k"}) as client:
        packed = client.get(url, headers={"accept-encoding": "gzip"})
        plain = client.get(url, headers={"accept-encoding": "identity"})
    assert packed.status_code == plain.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(_raw_body(url, "gzip")) == b"{}"
    assert "content-encoding" not in plain.headers
    assert plain.content == b"{}"


def _raw_body(url: str, encoding: str) -> bytes:
    """The body as sent, before httpx undoes the compression."""
    with (
        httpx.Client(headers={"x-goog-api-key": "k", "accept-encoding": encoding}) as client,
        client.stream("GET", url) as response,
    ):
        return b"".join(response.iter_raw())


def test_sdk_sees_gzip_on_an_empty_tuned_models_page(genai_client: genai.Client) -> None:
    pager = genai_client.models.list(config={"page_size": 3, "query_base": False})
    assert len(pager) == 0
    assert _lower(pager.sdk_http_response.headers).get("content-encoding") == "gzip"


async def test_async_sdk_sees_gzip_on_an_empty_tuned_models_page(
    genai_client: genai.Client,
) -> None:
    pager = await genai_client.aio.models.list(config={"page_size": 3, "query_base": False})
    assert len(pager) == 0
    assert _lower(pager.sdk_http_response.headers).get("content-encoding") == "gzip"


def test_small_error_answers_are_gzipped_too(genai_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        genai_client.files.get(name="files/doesnotexist1")
    assert caught.value.code == 403
    headers = _lower(dict(caught.value.response.headers))
    assert headers.get("content-encoding") == "gzip"


# -- logprobs without responseLogprobs: the API's wording --------------------------------------


def test_logprobs_without_response_logprobs_says_so(genai_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(model=FLASH, contents="hi", config={"logprobs": 0})
    assert caught.value.code == 400
    assert "response_logprobs is true" in caught.value.message


async def test_async_logprobs_without_response_logprobs_says_so(
    genai_client: genai.Client,
) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await genai_client.aio.models.generate_content(
            model=FLASH, contents="hi", config={"logprobs": 0}
        )
    assert caught.value.code == 400
    assert "response_logprobs is true" in caught.value.message
