"""Emulator fidelity (issue 13): what the real API rejects, compresses, catalogues and embeds,
driven through the unmodified SDK, sync and async."""

from __future__ import annotations

import base64
import io
import json
import warnings

import httpx
import pytest
from google import genai
from google.auth.credentials import Credentials
from google.genai import errors, types

from console.emulator import EmulatorServer
from console.emulator.models import CATALOGUE

FLASH = "gemini-2.5-flash"


def _client(url: str, **http: object) -> genai.Client:
    return genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=url, **http))


def _error(caught: pytest.ExceptionInfo) -> errors.APIError:
    return caught.value


# -- unknown fields ----------------------------------------------------------------------


def test_count_tokens_rejects_an_unknown_top_level_field(emulator_url: str) -> None:
    client = _client(
        emulator_url, extra_body={"systemInstruction": {"parts": [{"text": "be brief"}]}}
    )
    with pytest.raises(errors.ClientError) as caught:
        client.models.count_tokens(model=FLASH, contents="hello")
    error = _error(caught)
    assert error.code == 400 and error.status == "INVALID_ARGUMENT"
    assert error.message == (
        'Invalid JSON payload received. Unknown name "systemInstruction": Cannot find field.'
    )


async def test_async_unknown_nested_field_is_named_with_its_path(emulator_url: str) -> None:
    client = _client(emulator_url, extra_body={"generationConfig": {"bogusKnob": 1}})
    with pytest.raises(errors.ClientError) as caught:
        await client.aio.models.generate_content(model=FLASH, contents="hi")
    assert _error(caught).code == 400
    assert "Unknown name \"bogusKnob\" at 'generation_config'" in _error(caught).message
    bad_part = _client(
        emulator_url,
        extra_body={"contents": [{"role": "user", "parts": [{"text": "x", "colour": "red"}]}]},
    )
    with pytest.raises(errors.ClientError) as caught:
        await bad_part.aio.models.count_tokens(model=FLASH, contents="hi")
    assert "at 'contents[0].parts[0]'" in _error(caught).message


def test_every_field_the_sdk_sends_is_accepted(genai_client: genai.Client) -> None:
    def lookup_weather(city: str) -> str:
        """Weather for a city."""
        return "sunny"

    config = types.GenerateContentConfig(
        system_instruction="Be brief.",
        temperature=0.3,
        top_p=0.9,
        top_k=20,
        candidate_count=2,
        max_output_tokens=200,
        stop_sequences=["\n\n"],
        presence_penalty=0.1,
        frequency_penalty=0.1,
        seed=7,
        response_mime_type="text/plain",
        safety_settings=[
            types.SafetySetting(
                category=types.HarmCategory.HARM_CATEGORY_HARASSMENT,
                threshold=types.HarmBlockThreshold.BLOCK_ONLY_HIGH,
            )
        ],
        thinking_config=types.ThinkingConfig(thinking_budget=128, include_thoughts=True),
        media_resolution=types.MediaResolution.MEDIA_RESOLUTION_LOW,
        labels={"team": "ops"},
        service_tier="flex",
    )
    answer = genai_client.models.generate_content(model=FLASH, contents="hello", config=config)
    assert len(answer.candidates) == 2
    tools = types.GenerateContentConfig(
        tools=[lookup_weather],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(mode="AUTO")
        ),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    called = genai_client.models.generate_content(
        model=FLASH, contents="weather in Oslo?", config=tools
    )
    assert called.function_calls and called.function_calls[0].name == "lookup_weather"
    image = types.Part.from_bytes(data=b"\x89PNG....", mime_type="image/png")
    assert genai_client.models.count_tokens(model=FLASH, contents=[image, "what?"]).total_tokens


async def test_async_cache_and_batch_bodies_are_strict_too(emulator_url: str) -> None:
    client = _client(emulator_url, extra_body={"colour": "red"})
    with pytest.raises(errors.ClientError) as caught:
        await client.aio.caches.create(
            model=FLASH, config={"contents": ["x " * 3000], "ttl": "60s"}
        )
    assert 'Unknown name "colour"' in _error(caught).message
    with pytest.raises(errors.ClientError) as caught:
        await client.aio.batches.create(
            model=FLASH, src=[{"contents": [{"parts": [{"text": "q"}], "role": "user"}]}]
        )
    assert _error(caught).code == 400 and 'Unknown name "colour"' in _error(caught).message


# -- models: unknown methods and versions are 404 ----------------------------------------


def test_delete_and_update_on_models_are_404_in_the_json_shape(
    genai_client: genai.Client,
) -> None:
    for call in (
        lambda: genai_client.models.delete(model="gemini-2.5-flash"),
        lambda: genai_client.models.delete(model="tunedModels/generate-num-9598"),
        lambda: genai_client.models.update(
            model="tunedModels/generate-num-9598", config={"display_name": "x"}
        ),
        lambda: genai_client.models.update(model="gemini-2.5-flash", config={"description": "x"}),
        lambda: genai_client.models.get(
            model="gemini-2.5-flash", config={"http_options": {"api_version": "v9"}}
        ),
    ):
        with pytest.raises(errors.ClientError) as caught:
            call()
        assert _error(caught).code == 404 and _error(caught).status == "NOT_FOUND"


async def test_async_delete_model_is_404(genai_client: genai.Client, emulator_url: str) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await genai_client.aio.models.delete(model="models/1071206899942162432")
    assert _error(caught).code == 404
    with pytest.raises(errors.ClientError) as caught:
        await genai_client.aio.models.delete(
            model="tunedModels/generate-num-888",
            config={"http_options": {"api_version": "test_api_version"}},
        )
    assert _error(caught).code == 404
    raw = httpx.put(f"{emulator_url}/v1beta/cachedContents/x", headers={"x-goog-api-key": "k"})
    assert raw.status_code == 404 and raw.json()["error"]["status"] == "NOT_FOUND"


# -- cachedContent names -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["batchPredictionJobs/123", "projects/p/locations/us-central1/cachedContents/abc"]
)
def test_malformed_cached_content_name_is_400(genai_client: genai.Client, name: str) -> None:
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(
            model=FLASH, contents="hi", config={"cached_content": name}
        )
    assert _error(caught).code == 400 and _error(caught).status == "INVALID_ARGUMENT"
    assert name in _error(caught).message


async def test_async_well_formed_missing_cache_is_403(genai_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await genai_client.aio.models.generate_content(
            model=FLASH, contents="hi", config={"cached_content": "cachedContents/nosuchcache"}
        )
    assert _error(caught).code == 403 and _error(caught).status == "PERMISSION_DENIED"
    with pytest.raises(errors.ClientError) as caught:
        await genai_client.aio.models.generate_content(
            model=FLASH, contents="hi", config={"cached_content": "batchPredictionJobs/1"}
        )
    assert _error(caught).code == 400


# -- logprobs ----------------------------------------------------------------------------


def test_logprobs_rules_and_results(genai_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(
            model="gemini-2.0-flash", contents="hi", config={"logprobs": 3}
        )
    assert _error(caught).code == 400
    assert "response_logprobs" in _error(caught).message
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(
            model=FLASH, contents="hi", config={"response_logprobs": True}
        )
    assert _error(caught).message == "Logprobs is not enabled for models/gemini-2.5-flash"
    answer = genai_client.models.generate_content(
        model="gemini-2.0-flash", contents="hi", config={"response_logprobs": True, "logprobs": 3}
    )
    candidate = answer.candidates[0]
    chosen = candidate.logprobs_result.chosen_candidates
    assert "".join(c.token for c in chosen) == answer.text
    assert all(c.log_probability <= 0 for c in chosen)
    assert [len(t.candidates) for t in candidate.logprobs_result.top_candidates] == [3] * len(
        chosen
    )
    assert candidate.avg_logprobs == pytest.approx(
        sum(c.log_probability for c in chosen) / len(chosen), abs=1e-5
    )


async def test_async_logprobs_not_enabled_for_3x(genai_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await genai_client.aio.models.generate_content(
            model="gemini-3.1-pro-preview", contents="hi", config={"response_logprobs": True}
        )
    assert _error(caught).message == "Logprobs is not enabled for models/gemini-3.1-pro-preview"
    ok = await genai_client.aio.models.generate_content(
        model="gemini-2.0-flash-001", contents="hi", config={"response_logprobs": True}
    )
    assert ok.candidates[0].logprobs_result.chosen_candidates
    assert not ok.candidates[0].logprobs_result.top_candidates


# -- fileData URIs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "gs://generativeai-downloads/images/scones.jpg",
        "https://upload.wikimedia.org/wikipedia/commons/4/4d/Cat.jpg",
        "https://example.com/v1beta/files/abc123",
    ],
)
def test_unknown_file_uris_are_400(genai_client: genai.Client, uri: str) -> None:
    part = types.Part.from_uri(file_uri=uri, mime_type="image/jpeg")
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(model=FLASH, contents=[part, "what is this?"])
    assert _error(caught).code == 400
    assert _error(caught).message == f"Invalid or unsupported file uri: {uri}"


async def test_async_own_file_uris_work_and_deleted_ones_are_403(
    genai_client: genai.Client,
) -> None:
    aio = genai_client.aio
    uploaded = await aio.files.upload(
        file=io.BytesIO(b"x" * 400), config={"mime_type": "text/plain"}
    )
    answer = await aio.models.generate_content(model=FLASH, contents=[uploaded, "sum"])
    assert answer.usage_metadata.prompt_token_count == 100 + 1
    video = types.Part.from_uri(
        file_uri="https://www.youtube.com/watch?v=9hE5-98ZeCg", mime_type="video/mp4"
    )
    assert (await aio.models.count_tokens(model=FLASH, contents=[video, "x"])).total_tokens
    await aio.files.delete(name=uploaded.name)
    with pytest.raises(errors.ClientError) as caught:
        await aio.models.generate_content(model=FLASH, contents=[uploaded, "sum"])
    assert _error(caught).code == 403


# -- files: MIME types and files:register -------------------------------------------------


def test_upload_with_an_unsupported_mime_type_is_400(genai_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        genai_client.files.upload(
            file=io.BytesIO(b"PK\x03\x04"), config={"mime_type": "application/x-msdownload"}
        )
    assert _error(caught).code == 400
    assert _error(caught).message == "Unsupported MIME type: application/x-msdownload"
    assert genai_client.files.upload(
        file=io.BytesIO(b"%PDF-1.4"), config={"mime_type": "application/pdf"}
    ).name.startswith("files/")


class _Token(Credentials):
    """OAuth credentials that never refresh: what `register_files(auth=...)` requires."""

    def __init__(self) -> None:
        super().__init__()
        self.token = "ya29.test-token"

    @property
    def expired(self) -> bool:
        return False

    @property
    def valid(self) -> bool:
        return True

    def refresh(self, request) -> None:  # pragma: no cover - never called
        pass


async def test_async_unsupported_mime_type_is_400(genai_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await genai_client.aio.files.upload(
            file=io.BytesIO(b"x"), config={"mime_type": "application/vnd.ms-excel"}
        )
    assert _error(caught).code == 400 and "Unsupported MIME type" in _error(caught).message


def test_files_register_as_the_api_answers_a_developer_key(genai_client: genai.Client) -> None:
    uri = "gs://my-bucket/docs/report.pdf"
    with pytest.raises(errors.ClientError) as caught:
        genai_client.files.register_files(auth=_Token(), uris=[uri])
    assert _error(caught).code == 401 and _error(caught).status == "UNAUTHENTICATED"
    assert "API key for authentication is used with other" in _error(caught).message
    # The key alone (the SDK's own request without the OAuth header) registers the object.
    registered = genai_client.files._register_files(uris=[uri])
    (file,) = registered.files
    assert file.uri == uri and file.source == types.FileSource.REGISTERED
    assert file.mime_type == "application/pdf"
    part = types.Part.from_uri(file_uri=uri, mime_type="application/pdf")
    assert genai_client.models.generate_content(model=FLASH, contents=[part, "summarise"]).text
    with pytest.raises(errors.ClientError) as caught:
        genai_client.files._register_files(uris=["https://example.com/x.pdf"])
    assert _error(caught).code == 400


async def test_async_files_register(genai_client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await genai_client.aio.files.register_files(auth=_Token(), uris=["gs://bkt/o.txt"])
    assert _error(caught).code == 401
    registered = await genai_client.aio.files._register_files(uris=["gs://bkt/o.txt"])
    assert registered.files[0].mime_type == "text/plain"


# -- gzip --------------------------------------------------------------------------------


def test_gzip_when_asked_plain_otherwise(genai_client: genai.Client, emulator_url: str) -> None:
    url = f"{emulator_url}/v1beta/models"
    packed = httpx.get(url, headers={"x-goog-api-key": "k", "accept-encoding": "gzip"})
    plain = httpx.get(url, headers={"x-goog-api-key": "k", "accept-encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert packed.json() == plain.json()  # httpx decompressed it
    pager = genai_client.models.list()
    assert pager.sdk_http_response.headers.get("content-encoding") == "gzip"


async def test_async_sdk_reads_gzipped_answers(genai_client: genai.Client) -> None:
    answer = await genai_client.aio.models.generate_content(
        model=FLASH, contents="write a long answer " * 50
    )
    # The SDK's async client is httpx or aiohttp (when installed); aiohttp keeps header case.
    headers = {k.lower(): v for k, v in (answer.sdk_http_response.headers or {}).items()}
    assert headers.get("content-encoding") == "gzip"
    assert answer.text
    chunks = [
        c
        async for c in await genai_client.aio.models.generate_content_stream(
            model=FLASH, contents="stream"
        )
    ]
    assert "".join(c.text for c in chunks)  # event streams stay uncompressed and readable


# -- the catalogue -----------------------------------------------------------------------

NAMED = [
    "gemini-3.1-pro-preview",
    "gemini-3-pro-preview",
    "gemini-3-flash-preview",
    "gemini-3.1-flash-lite-preview",
    "gemini-3.5-flash",
    "gemini-3.1-pro",
    "gemini-3.1-flash-lite",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.0-flash",
    "gemini-2.0-flash-001",
    "gemini-2.5-flash-preview-tts",
    "gemini-2.5-pro-preview-tts",
    "gemini-2.5-flash-image",
    "gemini-3-pro-image-preview",
    "gemini-embedding-001",
    "text-embedding-004",
    "gemini-flash-latest",
    "gemini-pro-latest",
    "gemini-flash-lite-latest",
]


def test_catalogue_serves_the_current_names(genai_client: genai.Client) -> None:
    listed = {m.name for m in genai_client.models.list(config={"page_size": 1000})}
    assert {f"models/{n}" for n in NAMED} <= listed
    embed = genai_client.models.get(model="gemini-embedding-001")
    assert embed.input_token_limit == 2048
    assert embed.supported_actions == ["embedContent", "countTokens", "asyncBatchEmbedContent"]
    tts = genai_client.models.get(model="gemini-2.5-flash-preview-tts")
    assert tts.input_token_limit == 8192 and "createCachedContent" not in tts.supported_actions
    alias = genai_client.models.generate_content(model="gemini-flash-latest", contents="hi")
    assert alias.model_version == CATALOGUE["gemini-flash-latest"].alias_of
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.generate_content(model="gemini-embedding-001", contents="hi")
    assert _error(caught).code == 404


async def test_async_tts_returns_pcm_audio(genai_client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        response_modalities=["AUDIO"],
        speech_config=types.SpeechConfig(
            voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name="Kore")
            )
        ),
    )
    answer = await genai_client.aio.models.generate_content(
        model="gemini-2.5-flash-preview-tts",
        contents="Say cheerfully: have a wonderful day!",
        config=config,
    )
    blob = answer.candidates[0].content.parts[0].inline_data
    assert blob.mime_type == "audio/L16;codec=pcm;rate=24000"
    assert len(blob.data) % 2 == 0 and len(blob.data) >= 24_000  # at least half a second
    details = answer.usage_metadata.candidates_tokens_details
    assert details[0].modality == types.MediaModality.AUDIO
    with pytest.raises(errors.ClientError) as caught:
        await genai_client.aio.models.generate_content(
            model="gemini-2.5-flash-preview-tts",
            contents="hi",
            config={"response_modalities": ["TEXT"]},
        )
    assert _error(caught).code == 400


# -- embeddings --------------------------------------------------------------------------


def test_embed_content_as_the_sdk_sends_it(genai_client: genai.Client) -> None:
    out = genai_client.models.embed_content(
        model="gemini-embedding-001",
        contents=["What is your name?", "What is your favorite color?"],
        config={"output_dimensionality": 64, "task_type": "SEMANTIC_SIMILARITY"},
    )
    assert [len(e.values) for e in out.embeddings] == [64, 64]
    again = genai_client.models.embed_content(
        model="gemini-embedding-001",
        contents=["What is your name?"],
        config={"output_dimensionality": 64, "task_type": "SEMANTIC_SIMILARITY"},
    )
    assert again.embeddings[0].values == out.embeddings[0].values
    assert out.embeddings[0].values != out.embeddings[1].values
    full = genai_client.models.embed_content(model="gemini-embedding-001", contents="x")
    assert len(full.embeddings[0].values) == 3072
    assert sum(v * v for v in full.embeddings[0].values) == pytest.approx(1.0, abs=1e-4)
    old = genai_client.models.embed_content(model="text-embedding-004", contents="x")
    assert len(old.embeddings[0].values) == 768
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.embed_content(
            model="text-embedding-004", contents="x", config={"output_dimensionality": 1024}
        )
    assert _error(caught).code == 400
    with pytest.raises(errors.ClientError) as caught:
        genai_client.models.embed_content(model=FLASH, contents="x")
    assert _error(caught).code == 404


def test_rest_embed_content(emulator_url: str) -> None:
    answer = httpx.post(
        f"{emulator_url}/v1beta/models/gemini-embedding-001:embedContent",
        headers={"x-goog-api-key": "k"},
        json={"content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 8},
    )
    assert answer.status_code == 200 and len(answer.json()["embedding"]["values"]) == 8
    bad = httpx.post(
        f"{emulator_url}/v1beta/models/gemini-embedding-001:embedContent",
        headers={"x-goog-api-key": "k"},
        json={"content": {"parts": [{"text": "hello"}]}, "dimensions": 8},
    )
    assert bad.status_code == 400 and 'Unknown name "dimensions"' in bad.json()["error"]["message"]


async def test_async_embed_content(genai_client: genai.Client) -> None:
    out = await genai_client.aio.models.embed_content(
        model="gemini-embedding-001", contents=["a", "b", "c"], config={"output_dimensionality": 16}
    )
    assert [len(e.values) for e in out.embeddings] == [16, 16, 16]


TIMING = {"batch": {"pending_s": 1, "per_request_s": 1}}


@pytest.mark.parametrize("emulator_config", [TIMING], indirect=True)
def test_embeddings_batch_inline(genai_client: genai.Client, emulator: EmulatorServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = genai_client.batches.create_embeddings(
            model="gemini-embedding-001",
            src={
                "inlined_requests": {
                    "contents": ["first text", "second text"],
                    "config": {"output_dimensionality": 32},
                }
            },
            config={"display_name": "embeds"},
        )
    assert job.state == types.JobState.JOB_STATE_PENDING and job.display_name == "embeds"
    emulator.clock.advance(5)
    done = genai_client.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    results = done.dest.inlined_embed_content_responses
    assert [len(r.response.embedding.values) for r in results] == [32, 32]
    direct = genai_client.models.embed_content(
        model="gemini-embedding-001", contents="first text", config={"output_dimensionality": 32}
    )
    assert results[0].response.embedding.values == direct.embeddings[0].values


@pytest.mark.parametrize("emulator_config", [TIMING], indirect=True)
async def test_async_embeddings_batch_from_a_file(
    genai_client: genai.Client, emulator: EmulatorServer
) -> None:
    aio = genai_client.aio
    lines = [
        {"key": "k1", "request": {"content": {"parts": [{"text": "alpha"}]}}},
        {
            "key": "k2",
            "request": {"content": {"parts": [{"text": "beta"}]}, "output_dimensionality": 4},
        },
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    uploaded = await aio.files.upload(file=io.BytesIO(data), config={"mime_type": "jsonl"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = await aio.batches.create_embeddings(
            model="gemini-embedding-001", src={"file_name": uploaded.name}
        )
    emulator.clock.advance(5)
    done = await aio.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    out = (await aio.files.download(file=done.dest.file_name)).decode().splitlines()
    rows = {row["key"]: row["response"] for row in map(json.loads, out)}
    assert len(rows["k1"]["embedding"]["values"]) == 3072
    assert len(rows["k2"]["embedding"]["values"]) == 4 and rows["k2"]["tokenCount"] == "1"
    with pytest.raises(errors.ClientError):
        await aio.batches.create(model="gemini-embedding-001", src=uploaded.name)


def test_image_model_still_draws(genai_client: genai.Client) -> None:
    answer = genai_client.models.generate_content(
        model="gemini-3-pro-image-preview", contents="a red square"
    )
    data = next(p.inline_data.data for p in answer.candidates[0].content.parts if p.inline_data)
    assert base64.b64encode(data)[:4] == base64.b64encode(b"\x89PNG")[:4]
