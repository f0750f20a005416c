"""Batch API: inline and file batches through every state, stats, results, cancel and delete."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from google import genai
from google.genai import errors, types

from console.emulator import EmulatorServer

# Two seconds pending, then one request per second.
TIMING = {"batch": {"pending_s": 2, "per_request_s": 1}}


def _inline(n: int) -> list[dict]:
    return [
        {
            "contents": [{"parts": [{"text": f"question {i}"}], "role": "user"}],
            "metadata": {"key": f"r{i}"},
        }
        for i in range(n)
    ]


def _raw(emulator_url: str, name: str) -> dict:
    return httpx.get(f"{emulator_url}/v1beta/{name}", headers={"x-goog-api-key": "k"}).json()


@pytest.mark.parametrize("emulator_config", [TIMING], indirect=True)
def test_inline_batch_lifecycle_to_succeeded(
    genai_client: genai.Client, emulator: EmulatorServer, emulator_url: str
) -> None:
    job = genai_client.batches.create(
        model="gemini-2.5-flash", src=_inline(3), config={"display_name": "three"}
    )
    assert job.name.startswith("batches/") and len(job.name.split("/")[1]) == 36
    assert job.state == types.JobState.JOB_STATE_PENDING and job.display_name == "three"
    assert job.model == "models/gemini-2.5-flash"
    raw = _raw(emulator_url, job.name)
    assert raw["metadata"]["batchStats"] == {"requestCount": "3", "pendingRequestCount": "3"}
    assert raw["metadata"]["state"] == "BATCH_STATE_PENDING" and "done" not in raw

    emulator.clock.advance(3.5)  # running, one request done
    assert genai_client.batches.get(name=job.name).state == types.JobState.JOB_STATE_RUNNING
    stats = _raw(emulator_url, job.name)["metadata"]["batchStats"]
    assert stats == {"requestCount": "3", "successfulRequestCount": "1", "pendingRequestCount": "2"}

    emulator.clock.advance(2)
    done = genai_client.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED and done.done
    assert done.end_time is not None
    responses = done.dest.inlined_responses
    assert [r.metadata for r in responses] == [{"key": "r0"}, {"key": "r1"}, {"key": "r2"}]
    direct = genai_client.models.generate_content(model="gemini-2.5-flash", contents="question 1")
    assert responses[1].response.text == direct.text  # same request, same answer
    raw = _raw(emulator_url, job.name)
    assert raw["done"] is True
    assert raw["response"]["inlinedResponses"] == raw["metadata"]["output"]["inlinedResponses"]
    assert raw["metadata"]["batchStats"] == {"requestCount": "3", "successfulRequestCount": "3"}


@pytest.mark.parametrize("emulator_config", [TIMING], indirect=True)
def test_file_batch_results_file_with_per_line_errors(
    genai_client: genai.Client, emulator: EmulatorServer, emulator_url: str
) -> None:
    lines = [
        json.dumps({"key": "a", "request": {"contents": [{"parts": [{"text": "alpha"}]}]}}),
        "{this is not json",
        json.dumps({"key": "c", "request": {"contents": [{"parts": [{"text": 5}]}]}}),
        json.dumps(
            {
                "key": "d",
                "request": {
                    "contents": [{"parts": [{"text": "delta"}]}],
                    "generation_config": {"max_output_tokens": 2},
                },
            }
        ),
    ]
    src = genai_client.files.upload(
        file=io.BytesIO("\n".join(lines).encode()), config={"mime_type": "jsonl"}
    )
    job = genai_client.batches.create(model="gemini-2.5-flash", src=src.name)
    emulator.clock.advance(2 + 4)
    done = genai_client.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    batch_id = job.name.split("/")[1]
    assert done.dest.file_name == f"files/batch-{batch_id}"
    raw = _raw(emulator_url, job.name)
    assert raw["response"]["responsesFile"] == done.dest.file_name
    assert raw["metadata"]["batchStats"] == {
        "requestCount": "4",
        "successfulRequestCount": "2",
        "failedRequestCount": "2",
    }
    output = genai_client.files.get(name=done.dest.file_name)
    assert output.source == types.FileSource.GENERATED and output.download_uri
    results = [
        json.loads(line) for line in genai_client.files.download(file=output).decode().splitlines()
    ]
    assert [r.get("key") for r in results] == ["a", None, "c", "d"]
    assert results[0]["response"]["candidates"][0]["content"]["parts"][0]["text"]
    assert (
        results[1]["error"]["status"] == "INVALID_ARGUMENT"
        and "Line 2" in results[1]["error"]["message"]
    )
    assert "contents[0].parts[0].text" in results[2]["error"]["message"]
    assert results[3]["response"]["candidates"][0]["finishReason"] == "MAX_TOKENS"


@pytest.mark.parametrize(
    "emulator_config",
    [{"batch": {"pending_s": 1, "per_request_s": 1, "fail_rate": 1.0}}],
    indirect=True,
)
def test_batch_failure_mode_ends_failed(
    genai_client: genai.Client, emulator: EmulatorServer, emulator_url: str
) -> None:
    job = genai_client.batches.create(model="gemini-2.5-flash", src=_inline(2))
    emulator.clock.advance(3)
    assert genai_client.batches.get(name=job.name).state == types.JobState.JOB_STATE_FAILED
    raw = _raw(emulator_url, job.name)
    assert raw["done"] is True and raw["error"]["code"] == 13 and "output" not in raw["metadata"]


@pytest.mark.parametrize("emulator_config", [TIMING], indirect=True)
def test_invalid_input_file_ends_failed(
    genai_client: genai.Client, emulator: EmulatorServer, emulator_url: str
) -> None:
    src = genai_client.files.upload(
        file=io.BytesIO(b"\xff\xfe binary"), config={"mime_type": "jsonl"}
    )
    job = genai_client.batches.create(model="gemini-2.5-flash", src=src.name)
    assert job.state == types.JobState.JOB_STATE_PENDING
    emulator.clock.advance(2)
    assert genai_client.batches.get(name=job.name).state == types.JobState.JOB_STATE_FAILED
    assert "not a valid JSONL" in _raw(emulator_url, job.name)["error"]["message"]


@pytest.mark.parametrize("emulator_config", [TIMING], indirect=True)
def test_cancel_running_batch(genai_client: genai.Client, emulator: EmulatorServer) -> None:
    job = genai_client.batches.create(model="gemini-2.5-flash", src=_inline(5))
    emulator.clock.advance(3.5)
    genai_client.batches.cancel(name=job.name)
    cancelled = genai_client.batches.get(name=job.name)
    assert cancelled.state == types.JobState.JOB_STATE_CANCELLED and cancelled.done
    emulator.clock.advance(100)
    assert genai_client.batches.get(name=job.name).state == types.JobState.JOB_STATE_CANCELLED
    genai_client.batches.cancel(name=job.name)  # cancelling twice is harmless


@pytest.mark.parametrize(
    "emulator_config", [{"batch": {"pending_s": 3600, "per_request_s": 30000}}], indirect=True
)
def test_unfinished_batch_expires_after_48h(
    genai_client: genai.Client, emulator: EmulatorServer, emulator_url: str
) -> None:
    job = genai_client.batches.create(model="gemini-2.5-flash", src=_inline(10))
    emulator.clock.advance(47 * 3600)
    assert genai_client.batches.get(name=job.name).state == types.JobState.JOB_STATE_RUNNING
    emulator.clock.advance(3600)
    expired = genai_client.batches.get(name=job.name)
    assert expired.state == types.JobState.JOB_STATE_EXPIRED and expired.done
    raw = _raw(emulator_url, job.name)
    assert raw["error"]["message"] == "Batch has not been processed within the 48h timeframe."
    with pytest.raises(errors.ClientError) as caught:
        genai_client.batches.cancel(name=job.name)
    assert caught.value.code == 400 and caught.value.status == "FAILED_PRECONDITION"


def test_list_pages_and_delete(genai_client: genai.Client, emulator: EmulatorServer) -> None:
    names = [
        genai_client.batches.create(model="gemini-2.5-flash", src=_inline(1)).name for _ in range(5)
    ]
    pager = genai_client.batches.list(config={"page_size": 2})
    assert len(pager.page) == 2
    assert [j.name for j in pager] == names[::-1]  # newest first
    genai_client.batches.delete(name=names[0])
    assert names[0] not in [j.name for j in genai_client.batches.list()]
    with pytest.raises(errors.ClientError) as caught:
        genai_client.batches.get(name=names[0])
    assert caught.value.code == 404


def test_list_omits_inlined_responses(genai_client: genai.Client, emulator: EmulatorServer) -> None:
    job = genai_client.batches.create(model="gemini-2.5-flash", src=_inline(1))
    emulator.clock.advance(10)
    listed = next(iter(genai_client.batches.list()))
    assert listed.state == types.JobState.JOB_STATE_SUCCEEDED and listed.dest is None
    assert genai_client.batches.get(name=job.name).dest.inlined_responses


def test_inline_errors_have_string_details_or_none(
    genai_client: genai.Client, emulator: EmulatorServer, emulator_url: str
) -> None:
    body = {
        "batch": {
            "inputConfig": {
                "requests": {
                    "requests": [
                        {
                            "request": {"contents": [{"parts": [{"text": "ok"}]}]},
                            "metadata": {"key": "good", "n": 3},
                        },
                        {"request": {"contents": []}, "metadata": {"key": "bad"}},
                    ]
                }
            }
        }
    }
    created = httpx.post(
        f"{emulator_url}/v1beta/models/gemini-2.5-flash:batchGenerateContent",
        headers={"x-goog-api-key": "k"},
        json=body,
    ).json()
    emulator.clock.advance(10)
    job = genai_client.batches.get(name=created["name"])
    good, bad = job.dest.inlined_responses
    assert good.response.text and good.error is None
    assert good.metadata == {"key": "good", "n": "3"}  # echoed as the strings the SDK expects
    assert bad.error.code == 3 and "contents" in bad.error.message and bad.error.details is None


def test_batch_validation(emulator_url: str, genai_client: genai.Client) -> None:
    url = f"{emulator_url}/v1beta/models/gemini-2.5-flash:batchGenerateContent"
    response = httpx.post(
        url, headers={"x-goog-api-key": "k"}, json={"batch": {"displayName": "x"}}
    )
    assert response.status_code == 400 and "input_config" in response.json()["error"]["message"]
    with pytest.raises(errors.ClientError) as caught:
        genai_client.batches.create(model="gemini-0-nope", src=_inline(1))
    assert caught.value.code == 404


async def test_async_batch_lifecycle(genai_client: genai.Client, emulator: EmulatorServer) -> None:
    aio = genai_client.aio.batches
    job = await aio.create(model="gemini-2.5-flash-image", src=_inline(2))
    emulator.clock.advance(60)
    done = await aio.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    parts = done.dest.inlined_responses[0].response.candidates[0].content.parts
    assert any(p.inline_data and p.inline_data.mime_type == "image/png" for p in parts)
    assert [j.name async for j in await aio.list()] == [job.name]
    await aio.delete(name=job.name)
