"""The gateway's records are built in one place from either shape: the SDK's typed objects
and raw wire JSON give the same record (and so the same mirror row)."""

from __future__ import annotations

from datetime import UTC, datetime

from google.genai import types

from console.services.remote import RemoteBatch, RemoteCache, RemoteFile

T0 = datetime(2026, 9, 21, 12, 0, tzinfo=UTC)
WIRE_T0 = "2026-09-21T12:00:00Z"


def test_a_cache_is_the_same_record_from_the_sdk_and_from_the_wire():
    sdk = types.CachedContent(
        name="cachedContents/c", display_name="handbook", model="models/gemini-2.5-pro",
        usage_metadata=types.CachedContentUsageMetadata(total_token_count=5000),
        create_time=T0, update_time=T0, expire_time=T0)
    wire = {"name": "cachedContents/c", "displayName": "handbook",
            "model": "models/gemini-2.5-pro", "usageMetadata": {"totalTokenCount": 5000},
            "createTime": WIRE_T0, "updateTime": WIRE_T0, "expireTime": WIRE_T0}
    assert RemoteCache.from_sdk(sdk) == RemoteCache.from_json(wire)
    assert RemoteCache.from_sdk(sdk).row()["model"] == "gemini-2.5-pro"


def test_a_file_is_the_same_record_from_the_sdk_and_from_the_wire():
    sdk = types.File(
        name="files/f", display_name="in.jsonl", mime_type="application/jsonl", size_bytes=42,
        state=types.FileState.ACTIVE, source=types.FileSource.UPLOADED, uri="https://x/files/f",
        sha256_hash="abc", create_time=T0, expiration_time=T0)
    wire = {"name": "files/f", "displayName": "in.jsonl", "mimeType": "application/jsonl",
            "sizeBytes": "42", "state": "ACTIVE", "source": "UPLOADED",
            "uri": "https://x/files/f", "sha256Hash": "abc", "createTime": WIRE_T0,
            "expirationTime": WIRE_T0}
    assert RemoteFile.from_sdk(sdk) == RemoteFile.from_json(wire)
    assert RemoteFile.from_sdk(sdk).row()["state"] == "ACTIVE"


def test_a_created_batch_from_the_sdk_is_completed_by_its_submitter():
    sdk = types.BatchJob(name="batches/b", display_name="nightly",
                         state=types.JobState.JOB_STATE_PENDING, create_time=T0)
    created = RemoteBatch.from_sdk(sdk).submitted(request_count=3, model="gemini-2.5-flash")
    wire = RemoteBatch.from_json({"name": "batches/b", "metadata": {
        "displayName": "nightly", "state": "BATCH_STATE_PENDING", "model": "models/gemini-2.5-flash",
        "createTime": WIRE_T0, "updateTime": WIRE_T0,
        "batchStats": {"requestCount": "3", "pendingRequestCount": "3"}}})
    assert created == wire
    row = created.row()
    assert "inlined_responses" not in row and row["updated_at"] == T0.timestamp()


def test_inlined_responses_travel_with_the_record_but_not_into_the_row():
    item = {"response": {"candidates": []}, "metadata": {"key": "q1"}}
    remote = RemoteBatch.from_json({"name": "batches/b", "metadata": {
        "state": "BATCH_STATE_SUCCEEDED",
        "output": {"inlinedResponses": {"inlinedResponses": [item]}}}})
    assert remote.inlined_responses == (item,) and remote.state == "JOB_STATE_SUCCEEDED"
    assert set(remote.row()) == {
        "name", "display_name", "model", "state", "created_at", "updated_at", "ended_at",
        "request_count", "succeeded_count", "failed_count", "pending_count", "input_file",
        "responses_file", "error"}
