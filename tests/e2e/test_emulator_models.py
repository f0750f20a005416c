"""Models, generateContent, streaming and countTokens through the real SDK (sync and async)."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import httpx
import pytest
from google import genai
from google.genai import errors, types

from console.emulator.models import CATALOGUE


def test_models_list_pages_through_every_model(genai_client: genai.Client) -> None:
    pager = genai_client.models.list(config={"page_size": 3})
    assert len(pager.page) == 3
    names = [m.name for m in pager]
    assert len(names) == len(CATALOGUE) and len(set(names)) == len(CATALOGUE) >= 20
    for wanted in (
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-2.0-flash",
        "gemini-2.5-flash-image",
        "gemini-3.5-flash",
    ):
        assert f"models/{wanted}" in names


def test_models_get_has_realistic_metadata(genai_client: genai.Client) -> None:
    model = genai_client.models.get(model="gemini-2.5-flash")
    assert model.name == "models/gemini-2.5-flash"
    assert model.input_token_limit == 1_048_576 and model.output_token_limit == 65_536
    assert model.thinking is True
    assert "generateContent" in model.supported_actions
    assert "createCachedContent" in model.supported_actions


def test_unknown_model_is_404_not_found(genai_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(model="gemini-9-ultra", contents="hi")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"
    assert "models/gemini-9-ultra is not found for API version v1" in caught.value.message


def test_same_request_same_answer_and_consistent_usage(genai_client: genai.Client) -> None:
    first = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents="What is a cache?"
    )
    second = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents="What is a cache?"
    )
    other = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents="What is a batch?"
    )
    assert first.text == second.text != other.text
    usage = first.usage_metadata
    assert usage.prompt_token_count == 4  # 16 characters at 4 characters per token
    assert usage.candidates_token_count == -(-len(first.text) // 4)
    assert usage.thoughts_token_count and usage.thoughts_token_count > 0
    assert usage.total_token_count == (
        usage.prompt_token_count + usage.candidates_token_count + usage.thoughts_token_count
    )
    assert first.candidates[0].finish_reason == types.FinishReason.STOP
    assert first.model_version == "gemini-2.5-flash"
    assert first.sdk_http_response.headers["x-gemini-service-tier"] == "standard"


def test_thinking_budget_zero_turns_thinking_off_only_where_allowed(
    genai_client: genai.Client,
) -> None:
    off = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_budget=0))
    flash = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents="hi", config=off
    )
    pro = genai_client.models.generate_content(model="gemini-2.5-pro", contents="hi", config=off)
    old = genai_client.models.generate_content(model="gemini-2.0-flash", contents="hi")
    assert flash.usage_metadata.thoughts_token_count is None
    assert pro.usage_metadata.thoughts_token_count > 0  # Pro cannot switch thinking off
    assert old.usage_metadata.thoughts_token_count is None


def test_include_thoughts_returns_a_thought_part(genai_client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=128)
    )
    response = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents="hi", config=config
    )
    parts = response.candidates[0].content.parts
    assert parts[0].thought is True and parts[1].thought is None
    assert 0 < response.usage_metadata.thoughts_token_count <= 128


def test_max_output_tokens_truncates_with_max_tokens(genai_client: genai.Client) -> None:
    config = types.GenerateContentConfig(max_output_tokens=3)
    response = genai_client.models.generate_content(
        model="gemini-2.5-flash-lite", contents="hi", config=config
    )
    assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert response.usage_metadata.candidates_token_count == 3


def test_json_schema_output_is_valid_json_of_that_shape(genai_client: genai.Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "count": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    }
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_json_schema=schema
    )
    response = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents="x", config=config
    )
    value = json.loads(response.text)
    assert isinstance(value["name"], str) and isinstance(value["count"], int)
    assert all(isinstance(t, str) for t in value["tags"])


def test_automatic_function_calling_round_trip(genai_client: genai.Client) -> None:
    calls = []

    def get_weather(city: str) -> str:
        """Weather for a city."""
        calls.append(city)
        return "sunny"

    config = types.GenerateContentConfig(tools=[get_weather])
    response = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents="weather?", config=config
    )
    assert len(calls) == 1 and isinstance(calls[0], str)
    assert response.text and response.automatic_function_calling_history


def test_image_model_returns_a_real_png(genai_client: genai.Client) -> None:
    response = genai_client.models.generate_content(
        model="gemini-2.5-flash-image", contents="a red fox"
    )
    images = [p.inline_data for p in response.candidates[0].content.parts if p.inline_data]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    data = images[0].data
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (64, 64)
    idat_len = struct.unpack(">I", data[33:37])[0]
    assert len(zlib.decompress(data[41 : 41 + idat_len])) == 64 * (1 + 64 * 3)
    details = {
        d.modality.value: d.token_count for d in response.usage_metadata.candidates_tokens_details
    }
    assert details["IMAGE"] == 1290


def test_stream_chunks_join_to_the_unary_text(genai_client: genai.Client) -> None:
    unary = genai_client.models.generate_content(model="gemini-2.5-flash", contents="stream me")
    chunks = list(
        genai_client.models.generate_content_stream(model="gemini-2.5-flash", contents="stream me")
    )
    assert len(chunks) >= 3
    assert "".join(c.text for c in chunks) == unary.text
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[0].candidates[0].finish_reason is None
    assert chunks[-1].usage_metadata.total_token_count == unary.usage_metadata.total_token_count
    assert all(c.sdk_http_response.headers["x-gemini-service-tier"] == "standard" for c in chunks)


def test_stream_wire_has_no_done_marker(emulator_url: str) -> None:
    response = httpx.post(
        f"{emulator_url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        headers={"x-goog-api-key": "k"},
        json={"contents": [{"parts": [{"text": "hi"}]}]},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [e for e in response.text.split("\r\n\r\n") if e]
    assert all(e.startswith("data: {") for e in events) and "[DONE]" not in response.text


def test_count_tokens(genai_client: genai.Client) -> None:
    result = genai_client.models.count_tokens(
        model="gemini-2.5-flash", contents="hello world, twenty chars"
    )
    assert result.total_tokens == 7


async def test_async_client_generate_stream_count_list(genai_client: genai.Client) -> None:
    aio = genai_client.aio
    response = await aio.models.generate_content(model="gemini-2.5-flash", contents="async hi")
    sync = genai_client.models.generate_content(model="gemini-2.5-flash", contents="async hi")
    assert response.text == sync.text
    chunks = [
        c
        async for c in await aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents="async hi"
        )
    ]
    assert "".join(c.text for c in chunks) == sync.text
    assert (
        await aio.models.count_tokens(model="gemini-2.5-flash", contents="abcd")
    ).total_tokens == 1
    names = [m.name async for m in await aio.models.list(config={"page_size": 4})]
    assert len(names) == len(CATALOGUE)


def test_every_api_version_and_query_key(emulator_url: str) -> None:
    for version in ("v1", "v1beta", "v1alpha"):
        response = httpx.get(f"{emulator_url}/{version}/models/gemini-2.5-flash?key=abc")
        assert response.status_code == 200 and response.json()["name"] == "models/gemini-2.5-flash"
    assert httpx.get(f"{emulator_url}/v9/models?key=abc").status_code == 404


def test_beta_client_works_too(beta_client: genai.Client) -> None:
    assert beta_client.models.generate_content(model="gemini-2.0-flash", contents="hi").text


def _post(url: str, body: object, key: str | None = "k") -> httpx.Response:
    headers = {"x-goog-api-key": key} if key is not None else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        f"{url}/v1beta/models/gemini-2.5-flash:generateContent", headers=headers, content=content
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "contents"),
        ({"contents": [{"parts": []}]}, "contents[0].parts"),
        ({"contents": [{"parts": [{"text": 12}]}]}, "contents[0].parts[0].text"),
        (
            {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"temperature": "hot"}},
            "generation_config.temperature",
        ),
        (
            {
                "contents": [{"parts": [{"text": "x"}]}],
                "generation_config": {"max_output_tokens": 1.5},
            },
            "generation_config.max_output_tokens",
        ),
        ({"contents": [{"parts": [{"text": "x"}]}], "serviceTier": "gold"}, "service_tier"),
        ({"contents": [{"role": "robot", "parts": [{"text": "x"}]}]}, "contents[0].role"),
    ],
)
def test_malformed_bodies_are_400_naming_the_field(
    emulator_url: str, body: dict, field: str
) -> None:
    response = _post(emulator_url, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error["code"] == 400
    assert field in error["message"]
    assert error["details"][0]["fieldViolations"][0]["field"] == field


def test_invalid_json_is_400(emulator_url: str) -> None:
    response = _post(emulator_url, b"{not json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Invalid JSON payload received.")


def test_snake_case_request_fields_are_accepted(emulator_url: str) -> None:
    body = {
        "contents": [{"parts": [{"text": "x"}]}],
        "system_instruction": {"parts": [{"text": "sys"}]},
        "generation_config": {"max_output_tokens": 2, "thinking_config": {"thinking_budget": 0}},
        "service_tier": "SERVICE_TIER_FLEX",
    }
    response = _post(emulator_url, body)
    assert response.status_code == 200
    assert response.headers["x-gemini-service-tier"] == "flex"
    assert response.json()["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert response.json()["usageMetadata"]["promptTokenCount"] == 2


def test_missing_key_is_403_and_bad_key_is_api_key_invalid(emulator_url: str) -> None:
    missing = _post(emulator_url, {"contents": [{"parts": [{"text": "x"}]}]}, key=None)
    assert missing.status_code == 403
    assert missing.json()["error"]["status"] == "PERMISSION_DENIED"
    bad = _post(emulator_url, {"contents": [{"parts": [{"text": "x"}]}]}, key="invalid")
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["details"][0]["reason"] == "API_KEY_INVALID"


@pytest.mark.parametrize("emulator_config", [{"accepted_keys": ["good"]}], indirect=True)
def test_accepted_keys_are_enforced(emulator_url: str) -> None:
    client = genai.Client(api_key="other", http_options=types.HttpOptions(base_url=emulator_url))
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert (
        caught.value.code == 400
        and caught.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    )
    good = genai.Client(api_key="good", http_options=types.HttpOptions(base_url=emulator_url))
    assert good.models.generate_content(model="gemini-2.5-flash", contents="hi").text


def test_inline_image_and_file_parts_count_tokens(genai_client: genai.Client) -> None:
    image = types.Part.from_bytes(data=base64.b64decode("iVBORw0KGgo="), mime_type="image/png")
    response = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents=[image, "what is it"]
    )
    details = {
        d.modality.value: d.token_count for d in response.usage_metadata.prompt_tokens_details
    }
    assert details == {"IMAGE": 258, "TEXT": 3}


def test_tuned_models_list_is_empty(genai_client: genai.Client) -> None:
    assert list(genai_client.models.list(config={"query_base": False})) == []


def test_candidate_count_gives_distinct_candidates(genai_client: genai.Client) -> None:
    config = types.GenerateContentConfig(candidate_count=2)
    response = genai_client.models.generate_content(
        model="gemini-2.5-flash", contents="two", config=config
    )
    first, second = response.candidates
    assert (first.index, second.index) == (0, 1)
    assert first.content.parts[0].text != second.content.parts[0].text
