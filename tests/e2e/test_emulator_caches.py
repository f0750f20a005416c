"""Explicit context caches and implicit prefix caching through the real SDK."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from google import genai
from google.genai import errors, types

from console.emulator import EmulatorServer
from tests.e2e.conftest import long_text

DOC = long_text(1200)  # above the 1,024-token Flash minimum, below Pro's 4,096


def _create(client: genai.Client, model: str = "gemini-2.5-flash", **config) -> types.CachedContent:
    config = {"contents": [DOC], "system_instruction": "You are terse.", **config}
    return client.caches.create(model=model, config=types.CreateCachedContentConfig(**config))


def test_create_below_minimum_is_400_with_counts(genai_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        genai_client.caches.create(model="gemini-2.5-flash", config={"contents": ["short"]})
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.message == (
        "Cached content is too small. total_token_count=2, min_total_token_count=1024"
    )
    with pytest.raises(errors.ClientError) as pro:
        _create(genai_client, "gemini-2.5-pro")
    assert "min_total_token_count=4096" in pro.value.message


def test_create_get_update_delete(genai_client: genai.Client, emulator: EmulatorServer) -> None:
    cache = _create(genai_client, display_name="handbook", ttl="600s")
    assert cache.name.startswith("cachedContents/") and len(cache.name.split("/")[1]) == 12
    assert cache.model == "models/gemini-2.5-flash" and cache.display_name == "handbook"
    assert cache.usage_metadata.total_token_count == -(-len(DOC) // 4) + 4
    assert (cache.expire_time - cache.create_time).total_seconds() == pytest.approx(600, abs=0.01)
    same = genai_client.caches.get(name=cache.name)
    assert same.name == cache.name and same.expire_time == cache.expire_time
    longer = genai_client.caches.update(name=cache.name, config={"ttl": "7200s"})
    assert (longer.expire_time - longer.update_time).total_seconds() == pytest.approx(
        7200, abs=0.01
    )
    when = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    fixed = genai_client.caches.update(name=cache.name.split("/")[1], config={"expire_time": when})
    assert fixed.expire_time == when
    genai_client.caches.delete(name=cache.name)
    with pytest.raises(errors.ClientError) as caught:
        genai_client.caches.get(name=cache.name)
    assert caught.value.code == 403 and caught.value.status == "PERMISSION_DENIED"


def test_default_ttl_is_one_hour_and_caches_expire(
    genai_client: genai.Client, emulator: EmulatorServer
) -> None:
    cache = _create(genai_client)
    assert (cache.expire_time - cache.create_time).total_seconds() == pytest.approx(3600, abs=0.01)
    emulator.clock.advance(3599)
    assert genai_client.caches.get(name=cache.name).name == cache.name
    emulator.clock.advance(2)
    with pytest.raises(errors.ClientError):
        genai_client.caches.get(name=cache.name)
    assert list(genai_client.caches.list()) == []
    with pytest.raises(errors.ClientError):
        genai_client.models.generate_content(
            model="gemini-2.5-flash", contents="q", config={"cached_content": cache.name}
        )


def test_list_pages(genai_client: genai.Client) -> None:
    names = {_create(genai_client, display_name=f"c{i}").name for i in range(5)}
    pager = genai_client.caches.list(config={"page_size": 2})
    assert len(pager.page) == 2
    assert {c.name for c in pager} == names


def test_generate_with_cache_reports_cached_tokens(genai_client: genai.Client) -> None:
    cache = _create(genai_client)
    tokens = cache.usage_metadata.total_token_count
    response = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents="summarise it", config={"cached_content": cache.name}
    )
    usage = response.usage_metadata
    assert usage.cached_content_token_count == tokens
    assert usage.prompt_token_count == tokens + 3  # includes the cached tokens
    assert usage.cache_tokens_details[0].token_count == tokens


def test_cache_for_another_model_is_rejected(genai_client: genai.Client) -> None:
    cache = _create(genai_client)
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(
            model="gemini-2.5-flash-lite", contents="q", config={"cached_content": cache.name}
        )
    assert caught.value.code == 400
    assert (
        "models/gemini-2.5-flash-lite" in caught.value.message
        and "models/gemini-2.5-flash)" in caught.value.message
    )


def test_cache_with_system_instruction_in_request_is_rejected(genai_client: genai.Client) -> None:
    cache = _create(genai_client)
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(
            model="gemini-2.5-flash",
            contents="q",
            config={"cached_content": cache.name, "system_instruction": "again"},
        )
    assert "CachedContent can not be used" in caught.value.message


def test_patch_rejects_bad_ttl(emulator_url: str, genai_client: genai.Client) -> None:
    cache = _create(genai_client)
    response = httpx.patch(
        f"{emulator_url}/v1beta/{cache.name}", headers={"x-goog-api-key": "k"}, json={"ttl": "soon"}
    )
    assert response.status_code == 400 and "ttl" in response.json()["error"]["message"]


def test_implicit_caching_reports_a_repeated_long_prefix(genai_client: genai.Client) -> None:
    def ask(question: str):
        return genai_client.models.generate_content(
            model="gemini-2.5-flash", contents=[DOC, question]
        )

    first = ask("first question?")
    second = ask("another question?")
    assert first.usage_metadata.cached_content_token_count is None
    assert second.usage_metadata.cached_content_token_count == -(-len(DOC) // 4)
    short = [
        genai_client.models.generate_content(model="gemini-2.5-flash", contents=["tiny", q])
        for q in "ab"
    ]
    assert short[1].usage_metadata.cached_content_token_count is None  # below the minimum


async def test_async_cache_lifecycle(genai_client: genai.Client) -> None:
    aio = genai_client.aio.caches
    cache = await aio.create(model="gemini-2.5-flash", config={"contents": [DOC], "ttl": "60s"})
    assert (await aio.get(name=cache.name)).name == cache.name
    assert [c.name async for c in await aio.list()] == [cache.name]
    updated = await aio.update(name=cache.name, config={"ttl": "120s"})
    assert updated.expire_time > cache.expire_time
    await aio.delete(name=cache.name)
    assert [c async for c in await aio.list()] == []
