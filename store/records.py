"""Detached read models handed to callers: plain frozen dataclasses, safe across threads."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

R = TypeVar("R")


def record_from(cls: type[R], row: Any) -> R:
    """Copy a table row (or a mapping) into a record of the same field names."""
    if isinstance(row, dict):
        return cls(**{f.name: row.get(f.name) for f in fields(cls)})  # type: ignore[arg-type]
    return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class CachedContent:
    name: str
    display_name: str
    model: str
    total_tokens: int
    created_at: float | None
    updated_at: float | None
    expires_at: float | None
    gone_at: float | None
    synced_at: float


@dataclass(frozen=True, slots=True)
class RemoteFile:
    name: str
    display_name: str
    mime_type: str
    size_bytes: int
    state: str
    source: str
    uri: str
    download_uri: str
    sha256: str
    created_at: float | None
    expires_at: float | None
    gone_at: float | None
    synced_at: float


@dataclass(frozen=True, slots=True)
class BatchJob:
    name: str
    display_name: str
    model: str
    state: str
    created_at: float | None
    updated_at: float | None
    ended_at: float | None
    state_since: float | None
    request_count: int
    succeeded_count: int
    failed_count: int
    pending_count: int
    input_file: str | None
    responses_file: str | None
    drop_file_id: int | None
    results_path: str | None
    results_written_at: float | None
    error: str | None
    gone_at: float | None
    synced_at: float

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_BATCH_STATES


TERMINAL_BATCH_STATES = frozenset(
    {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}
)


@dataclass(frozen=True, slots=True)
class DropFile:
    id: int
    content_hash: str
    name: str
    path: str
    route: str
    step: str
    request_count: int
    done_requests: int
    remote_file: str | None
    batch_name: str | None
    error: str | None
    claimed_at: float
    updated_at: float
    finished_at: float | None
    owner: str | None = None
    lease_until: float = 0.0


@dataclass(frozen=True, slots=True)
class DropEvent:
    id: int
    drop_file_id: int | None
    at: float
    kind: str
    path: str
    detail: str


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    id: int
    at: float
    model: str
    operation: str
    tier_asked: str
    tier_served: str | None
    prompt_tokens: int
    cached_tokens: int
    candidate_tokens: int
    thought_tokens: int
    total_tokens: int
    latency_ms: float
    status: int
    error: str | None
    attempt: int
    cost: float
    standard_cost: float
    batch: bool
    source: str
    cached_content: str | None
    prefix_hash: str | None
    request_key: str | None


@dataclass(frozen=True, slots=True)
class TierRun:
    id: int
    created_at: float
    finished_at: float | None
    model: str
    prompt: str
    tiers: str
    runs_per_tier: int
    run_order: str
    concurrency: int
    retry_flex: bool
    status: str
    timeouts: str = ""
    note: str | None = None
    # True only when the user asked to keep the prompt as typed (`--keep-prompt`).
    prompt_kept: bool = False


@dataclass(frozen=True, slots=True)
class TierSample:
    id: int
    run_id: int
    tier_asked: str
    seq: int
    ok: bool
    status: int
    tier_served: str | None
    latency_ms: float
    prompt_tokens: int
    output_tokens: int
    thought_tokens: int
    total_tokens: int
    cost: float
    error: str | None
    at: float
    cached_tokens: int = 0
    standard_cost: float = 0.0
    attempts: int = 1
    api_latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Interaction:
    id: int
    at: float
    model: str
    tier: str
    source: str
    prompt_tokens: int
    output_tokens: int
    thought_tokens: int
    cost: float
    system_instruction: str | None
    contents_json: str
    response_text: str
    labels: dict[str, str]


@dataclass(frozen=True, slots=True)
class SyncState:
    resource: str
    last_attempt_at: float | None
    last_success_at: float | None
    last_error: str | None
    last_error_at: float | None
    last_duration_ms: float | None
    consecutive_errors: int


@dataclass(frozen=True, slots=True)
class Overview:
    """Counts for the overview pane, read in one round trip."""

    active_caches: int
    cached_tokens: int
    running_batches: int
    batches_total: int
    files: int
    drop_files: int
    calls_today: int
    spend_today: float
    savings_today: float
    interactions: int
    tier_runs: int


@dataclass(frozen=True, slots=True)
class SpendRow:
    group: str
    calls: int
    errors: int
    prompt_tokens: int
    cached_tokens: int
    output_tokens: int
    cost: float
    standard_cost: float

    @property
    def savings(self) -> float:
        return self.standard_cost - self.cost


@dataclass(frozen=True, slots=True)
class CallWindow:
    """What one (model, tier) did in a window: for the limits pane's gauges."""

    model: str
    tier: str
    requests: int
    prompt_tokens: int
    quota_errors: int
    unavailable: int


@dataclass(frozen=True, slots=True)
class HitRate:
    """Cache hits for a group of calls: implicit (automatic) or explicit (cachedContents)."""

    group: str
    kind: str
    calls: int
    prompt_tokens: int
    cached_tokens: int
    saved: float

    @property
    def rate(self) -> float:
        return self.cached_tokens / self.prompt_tokens if self.prompt_tokens else 0.0


@dataclass(frozen=True, slots=True)
class InteractionFilter:
    """Which logged interactions a view or an export covers; every given criterion must hold.

    `labels` are (key, value) pairs, all required; `models` and `sources` match any listed;
    `since` is inclusive and `until` exclusive (UTC Unix seconds); `text` is a substring of the
    sanitized prompt or response.
    """

    labels: tuple[tuple[str, str], ...] = ()
    models: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: float | None = None
    until: float | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class InteractionTotals:
    """Count, tokens and cost of the interactions a filter covers."""

    count: int
    prompt_tokens: int
    output_tokens: int
    thought_tokens: int
    cost: float


@dataclass(frozen=True, slots=True)
class CacheUsage:
    """What the ledger says about one explicit cache: the successful calls that used it."""

    name: str
    calls: int
    prompt_tokens: int
    cached_tokens: int
    # Cached tokens of calls over the long-context threshold (a dearer input rate there).
    long_cached_tokens: int
    cost: float
    last_used_at: float | None


@dataclass(frozen=True, slots=True)
class HitGroup:
    """Ledger sums behind a hit rate, split by model so savings can be priced per model."""

    group: str
    kind: str
    model: str
    calls: int
    prompt_tokens: int
    cached_tokens: int
    long_cached_tokens: int
    last_at: float | None
