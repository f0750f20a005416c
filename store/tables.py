"""SQLModel table classes, and nothing else. Times are UTC Unix seconds (REAL): sortable, zone-free."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, text
from sqlmodel import Field, SQLModel


class CachedContentRow(SQLModel, table=True):
    __tablename__ = "cached_contents"

    name: str = Field(primary_key=True)
    display_name: str = ""
    model: str
    total_tokens: int = 0
    created_at: float | None = None
    updated_at: float | None = None
    expires_at: float | None = None
    # Set when a sync no longer sees it remotely; rows are kept for the ledger's history.
    gone_at: float | None = None
    synced_at: float


class RemoteFileRow(SQLModel, table=True):
    __tablename__ = "remote_files"

    name: str = Field(primary_key=True)
    display_name: str = ""
    mime_type: str = ""
    size_bytes: int = 0
    state: str = ""
    source: str = ""
    uri: str = ""
    download_uri: str = ""
    sha256: str = ""
    created_at: float | None = None
    expires_at: float | None = None
    gone_at: float | None = None
    synced_at: float


class DropFileRow(SQLModel, table=True):
    __tablename__ = "drop_files"

    id: int | None = Field(default=None, primary_key=True)
    # The claim: a file's content is submitted at most once, whatever its name or path.
    content_hash: str = Field(unique=True)
    name: str
    path: str
    route: str
    step: str
    request_count: int = 0
    done_requests: int = 0
    remote_file: str | None = None
    batch_name: str | None = None
    error: str | None = None
    claimed_at: float
    updated_at: float
    finished_at: float | None = None
    # The watcher working on it (host:pid:nonce) until `lease_until`; after that anyone may.
    owner: str | None = None
    lease_until: float = 0.0


class DropEventRow(SQLModel, table=True):
    __tablename__ = "drop_events"

    id: int | None = Field(default=None, primary_key=True)
    drop_file_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("drop_files.id", ondelete="SET NULL"), nullable=True),
    )
    at: float = Field(index=True)
    kind: str
    path: str
    detail: str = ""


class BatchJobRow(SQLModel, table=True):
    __tablename__ = "batch_jobs"

    name: str = Field(primary_key=True)
    display_name: str = ""
    model: str = ""
    state: str
    created_at: float | None = None
    updated_at: float | None = None
    ended_at: float | None = None
    # When the state last changed as seen by sync: "time in state" and stuck-PENDING flags.
    state_since: float | None = None
    request_count: int = 0
    succeeded_count: int = 0
    failed_count: int = 0
    pending_count: int = 0
    input_file: str | None = None
    responses_file: str | None = None
    drop_file_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("drop_files.id", ondelete="SET NULL"), nullable=True),
    )
    results_path: str | None = None
    results_written_at: float | None = None
    error: str | None = None
    gone_at: float | None = None
    synced_at: float
    # Who is writing the results now, and until when (store/repos/batches.py take_results).
    results_owner: str | None = None
    results_lease_until: float | None = None


class LedgerEntry(SQLModel, table=True):
    """One row per API call attempt: what was asked, what served it, what it cost."""

    __tablename__ = "ledger"
    __table_args__ = (
        Index("ix_ledger_model_tier_at", "model", "tier_asked", "at"),
        # A job's batch result is booked once per request key, whoever writes its results.
        Index("ux_ledger_batch_result_key", "request_key", unique=True,
              sqlite_where=text("operation = 'batch_result'"),
              postgresql_where=text("operation = 'batch_result'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: float = Field(index=True)
    model: str
    operation: str
    tier_asked: str = "standard"
    tier_served: str | None = None
    prompt_tokens: int = 0
    cached_tokens: int = 0
    candidate_tokens: int = 0
    thought_tokens: int = 0
    total_tokens: int = 0
    latency_ms: float = 0.0
    status: int = 200
    error: str | None = None
    attempt: int = 1
    cost: float = 0.0
    standard_cost: float = 0.0
    batch: bool = False
    source: str = "console"
    cached_content: str | None = None
    # Implicit-cache grouping: a hash of the request's leading content (system + first turn).
    prefix_hash: str | None = None
    request_key: str | None = None


class TierRunRow(SQLModel, table=True):
    __tablename__ = "tier_runs"

    id: int | None = Field(default=None, primary_key=True)
    created_at: float
    finished_at: float | None = None
    model: str
    prompt: str
    tiers: str = "flex,standard,priority"
    runs_per_tier: int = 5
    run_order: str = "interleaved"
    concurrency: int = 1
    retry_flex: bool = False
    status: str = "running"
    # JSON {tier: seconds}: flex needs far longer than the others.
    timeouts: str = ""
    # Why a run stopped early ("stopped by the user", an error), shown beside its status.
    note: str | None = None
    # The prompt is stored redacted unless the user asked to keep it as typed.
    prompt_kept: bool = False


class TierSampleRow(SQLModel, table=True):
    __tablename__ = "tier_samples"
    __table_args__ = (
        Index("ux_tier_samples_run_sample", "run_id", "tier_asked", "seq", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("tier_runs.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    tier_asked: str
    seq: int
    ok: bool
    status: int = 200
    tier_served: str | None = None
    latency_ms: float = 0.0
    prompt_tokens: int = 0
    output_tokens: int = 0
    thought_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0
    error: str | None = None
    at: float
    cached_tokens: int = 0
    # What the same tokens cost on standard: "cost vs standard" without token noise.
    standard_cost: float = 0.0
    attempts: int = 1
    # The gateway's HTTP time of the last attempt; latency_ms is the caller's wall time.
    api_latency_ms: float | None = None


class InteractionRow(SQLModel, table=True):
    """A logged prompt/response pair, redacted before it was ever written."""

    __tablename__ = "interactions"

    id: int | None = Field(default=None, primary_key=True)
    at: float = Field(index=True)
    model: str
    tier: str = "standard"
    source: str
    prompt_tokens: int = 0
    output_tokens: int = 0
    thought_tokens: int = 0
    cost: float = 0.0
    system_instruction: str | None = None
    contents_json: str
    response_text: str = ""


class InteractionLabelRow(SQLModel, table=True):
    __tablename__ = "interaction_labels"
    __table_args__ = (Index("ix_interaction_labels_kv", "key", "value"),)

    interaction_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
        )
    )
    key: str = Field(primary_key=True)
    value: str


class SyncStateRow(SQLModel, table=True):
    __tablename__ = "sync_state"

    resource: str = Field(primary_key=True)
    last_attempt_at: float | None = None
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    last_duration_ms: float | None = None
    consecutive_errors: int = 0


class MetaRow(SQLModel, table=True):
    __tablename__ = "app_meta"

    key: str = Field(primary_key=True)
    value: str


class CallInFlightRow(SQLModel, table=True):
    """A call the gateway is about to send (write-ahead): removed in the transaction that books
    its answer in the ledger. One left by a process that died is booked as interrupted."""

    __tablename__ = "calls_in_flight"

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(index=True)
    at: float
    model: str
    operation: str
    tier_asked: str = "standard"
    source: str = "console"
    request_key: str | None = None
    attempt: int = 1
    prompt_tokens: int = 0
    estimated_cost: float = 0.0


class QualityScoreRow(SQLModel, table=True):
    """The judge model's verdict on one logged interaction (it saw only the redacted text)."""

    __tablename__ = "quality_scores"
    __table_args__ = (Index("ix_quality_scores_answered", "answered_at", "model", "labels"),)

    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("interactions.id", ondelete="CASCADE"), nullable=False,
            unique=True,
        )
    )
    at: float
    answered_at: float
    source: str
    model: str
    # The interaction's labels as sorted "k=v" pairs joined by ",".
    labels: str = ""
    judge_model: str
    judge_tier: str
    status: str
    accuracy: int | None = None
    tone: int | None = None
    hallucination: bool | None = None
    reason: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0


class QualityCounterRow(SQLModel, table=True):
    __tablename__ = "quality_counters"

    group_key: str = Field(primary_key=True)
    seen: int = 0


class BatchRecreationRow(SQLModel, table=True):
    """A stuck job cancelled and submitted again: one row per old job, so never twice."""

    __tablename__ = "batch_recreations"
    __table_args__ = (Index("ux_batch_recreations_new", "new_name", unique=True),)

    old_name: str = Field(primary_key=True)
    new_name: str | None = None
    drop_file_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("drop_files.id", ondelete="SET NULL"), nullable=True),
    )
    step: str
    reason: str = ""
    error: str | None = None
    at: float
    finished_at: float | None = None


class WebhookDeliveryRow(SQLModel, table=True):
    """A webhook delivery that was handled (acted on, or deliberately ignored)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_handled_at", "handled_at"),)

    webhook_id: str = Field(primary_key=True)
    handled_at: float
    event: str = ""
    outcome: str = ""


class QuotaBudgetRow(SQLModel, table=True):
    """One shared rate budget: a (project, model) quota, or a tier's cap on it (`model@tier`).
    Every gemops process on this store reserves its requests here."""

    __tablename__ = "quota_budgets"

    project: str = Field(primary_key=True)
    scope: str = Field(primary_key=True)
    seq: int = 0  # requests reserved so far (numbers the sliding log's events)
    tat: float = 0.0  # GCRA theoretical arrival time for requests
    token_tat: float = 0.0  # and for input tokens
    cool_until: float = 0.0  # the server's last retryDelay ends here
    day: str = ""  # the Pacific day `day_count` counts
    day_count: int = 0
    touched_at: float = 0.0


class QuotaEventRow(SQLModel, table=True):
    """A reserved request in a sliding-log budget: when it was sent, then answered."""

    __tablename__ = "quota_events"
    __table_args__ = (Index("ix_quota_events_at", "project", "scope", "at"),)

    project: str = Field(primary_key=True)
    scope: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    at: float
    tokens: int = 0
