"""Typed settings: env (GEMOPS_*, `__` nesting), a TOML file, and the Gemini API key as a secret."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from console import paths

TIERS = ("flex", "standard", "priority")


class Mode(StrEnum):
    LIVE = "LIVE"
    EMULATOR = "EMULATOR"


class GeminiSettings(BaseModel):
    # An explicit base URL points the SDK at another endpoint (e.g. a standalone emulator).
    base_url: str | None = None
    api_version: str | None = None
    default_model: str = "gemini-2.5-flash"
    timeout_s: float = 60.0
    # Flex requests may queue for minutes; the docs advise client timeouts of 600 s or more.
    flex_timeout_s: float = 900.0


class LimitSpec(BaseModel):
    rpm: int
    tpm: int
    rpd: int | None = None


def _default_model_limits() -> dict[str, LimitSpec]:
    # The paid-tier figures of the emulator's catalogue (console/emulator/models.py), which
    # follow the facts file's published examples; RPD None = unlimited.
    return {
        "gemini-2.5-pro": LimitSpec(rpm=2_000, tpm=8_000_000),
        "gemini-2.5-flash": LimitSpec(rpm=10_000, tpm=8_000_000),
        "gemini-2.5-flash-lite": LimitSpec(rpm=30_000, tpm=30_000_000),
        "gemini-2.0-flash": LimitSpec(rpm=30_000, tpm=30_000_000),
        "gemini-2.5-flash-image": LimitSpec(rpm=5_000, tpm=5_000_000),
        "gemini-3-pro-preview": LimitSpec(rpm=1_000, tpm=4_000_000),
        "gemini-3-flash-preview": LimitSpec(rpm=2_000, tpm=4_000_000),
        "gemini-3.5-flash": LimitSpec(rpm=2_000, tpm=4_000_000),
        "gemini-3.1-pro": LimitSpec(rpm=1_000, tpm=4_000_000),
        "gemini-3.1-flash-lite": LimitSpec(rpm=4_000, tpm=4_000_000),
    }


QUOTA_MODELS = ("auto", "sliding-log", "token-bucket", "bounded")


class LimitsSettings(BaseModel):
    """One budget per (project, model), shared by every gemops process using the same store.

    `quota_model` says how the server counts, so the limiter can use the burst it allows:
    `sliding-log` (any 60 s may hold a minute's quota), `token-bucket` (continuous refill, a
    burst of `burst_fraction` of the minute), `bounded` (unknown: a burst of `burst_fraction`
    but never more than RPM in any 60 s — safe against both), `auto` (the embedded emulator's
    model; `bounded` against the live API).
    """

    models: dict[str, LimitSpec] = Field(default_factory=_default_model_limits)
    # Per-tier caps as a share of the (project, model) budget; every tier draws on that budget.
    # Priority is not capped by default: the API serves priority calls above its own limit
    # as standard rather than refusing them.
    tier_share: dict[str, float] = Field(
        default_factory=lambda: {"flex": 1.0, "standard": 1.0, "priority": 1.0}
    )
    # Exact figures for one (model, tier), winning over the shared ones as that tier's cap.
    overrides: dict[str, dict[str, LimitSpec]] = Field(default_factory=dict)
    fallback: LimitSpec = LimitSpec(rpm=60, tpm=250_000, rpd=None)
    quota_model: str = Field(default="auto", pattern="^(auto|sliding-log|token-bucket|bounded)$")
    burst_fraction: float = Field(default=0.1, ge=0.0, le=1.0)
    # Names the budget; None = derived from the API key and endpoint (a key is one project).
    project: str | None = None

    def for_model(self, model: str) -> LimitSpec:
        model = model.removeprefix("models/")
        return self.models.get(model) or self._by_prefix(model) or self.fallback

    def for_call(self, model: str, tier: str) -> LimitSpec:
        """The cap one tier may draw from the model's budget."""
        model = model.removeprefix("models/")
        if tier in self.overrides.get(model, {}):
            return self.overrides[model][tier]
        base = self.for_model(model)
        share = self.tier_share.get(tier, 1.0)
        return LimitSpec(
            rpm=max(1, int(base.rpm * share)),
            tpm=max(1, int(base.tpm * share)),
            rpd=None if base.rpd is None else max(1, int(base.rpd * share)),
        )

    def _by_prefix(self, model: str) -> LimitSpec | None:
        matches = [name for name in self.models if model.startswith(name)]
        return self.models[max(matches, key=len)] if matches else None


class PricesSettings(BaseModel):
    # A TOML price table merged over the published defaults (new models need no code change).
    file: Path | None = None


class DropSettings(BaseModel):
    folder: Path | None = None
    # Below this many requests a file in the drop folder root runs concurrently on standard.
    batch_threshold: int = 10
    concurrency: int = 8
    debounce_ms: int = 50
    settle_ms: int = 200
    # On a shared (PostgreSQL) store: how long a watcher's claim on a file lasts without its
    # heartbeat; then another watcher takes the file up from its recorded step.
    lease_s: float = 60.0


class SyncSettings(BaseModel):
    interval_s: float = 10.0
    # While any batch is running the loop ticks faster.
    fast_interval_s: float = 3.0
    max_backoff_s: float = 120.0
    stuck_pending_s: float = 6 * 3600.0


class LoggingSettings(BaseModel):
    enabled: bool = False
    sample_every: int = 1
    labels: dict[str, str] = Field(default_factory=dict)
    redaction: str = "token"


class RedactionSettings(BaseModel):
    # "default" (rules + name gazetteer), "structured" (no names/addresses), "ner" (the extra).
    engine: str = "default"


class StoreSettings(BaseModel):
    # A SQLAlchemy URL (e.g. PostgreSQL for a team); None means the local SQLite file.
    url: str | None = None
    path: Path | None = None


def _seconds(value: Any) -> Any:
    """'6h', '30m', '45s', '2d' or a number of seconds."""
    if isinstance(value, str):
        text = value.strip().lower()
        units = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    return value


DEFAULT_RUBRIC = """\
You are a strict reviewer of an AI assistant's answer. Read the conversation and the answer.
Score accuracy (1-5: is every statement correct and responsive to the question?), tone (1-5:
is it clear, polite and appropriate?) and decide whether the answer hallucinates (states facts
that are not supported by the conversation or common knowledge, invents sources, names or
numbers). Placeholders such as [EMAIL_REDACTED] or [PERSON_1] stand for redacted values and
are never an error. Give a one-sentence reason."""


class QualitySettings(BaseModel):
    """The judge model: every Nth logged answer per (source, labels) is scored."""

    enabled: bool = True
    sample_every: int = 100
    judge_model: str = "gemini-2.5-flash-lite"
    # flex (default) or batch halve the judge's cost; standard answers fastest.
    judge_tier: Literal["flex", "standard", "batch"] = "flex"
    # Thinking tokens are billed as output; a rubric score needs none (None: the model's default).
    judge_thinking_budget: int | None = 0
    rubric: str = DEFAULT_RUBRIC
    # A text file with the rubric; wins over `rubric` when set.
    rubric_file: Path | None = None
    alert_hallucination_rate: float = 0.05
    # The rate is taken over this window, once at least `alert_min_judged` answers are in it.
    alert_window: float = 86_400.0
    alert_min_judged: int = 10
    alert_command: str | None = None
    alert_url: str | None = None

    _window = field_validator("alert_window", mode="before")(_seconds)

    def rubric_text(self) -> str:
        if self.rubric_file is not None:
            return self.rubric_file.expanduser().read_text(encoding="utf-8").strip()
        return self.rubric


class BudgetSettings(BaseModel):
    """Daily spend limits in USD (UTC days); None or absent means no limit."""

    daily_usd: float | None = None
    # "key=value" -> USD a day for calls carrying that label.
    per_label: dict[str, float] = Field(default_factory=dict)
    # model name -> USD a day.
    per_model: dict[str, float] = Field(default_factory=dict)
    # Output tokens assumed for a request that sets no maxOutputTokens (for the estimate).
    assumed_output_tokens: int = 1024


class BatchesSettings(BaseModel):
    # A job PENDING longer than this is stuck ('6h', '30m' or seconds); None: sync.stuck_pending_s.
    stuck_after: float | None = None
    # "alert" flags it; "recreate" cancels it and submits the same content again, once.
    on_stuck: Literal["alert", "recreate"] = "alert"

    _stuck = field_validator("stuck_after", mode="before")(_seconds)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GEMOPS_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    # Same precedence as the SDK: GOOGLE_API_KEY, then GEMINI_API_KEY.
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GOOGLE_API_KEY", "GEMINI_API_KEY", "GEMOPS_API_KEY"),
    )
    gemini: GeminiSettings = Field(default_factory=GeminiSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    prices: PricesSettings = Field(default_factory=PricesSettings)
    drop: DropSettings = Field(default_factory=DropSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    budget: BudgetSettings = Field(default_factory=BudgetSettings)
    batches: BatchesSettings = Field(default_factory=BatchesSettings)
    redaction: RedactionSettings = Field(default_factory=RedactionSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then the environment, then the TOML file.
        toml = TomlConfigSettingsSource(settings_cls, toml_file=paths.config_file())
        return (init_settings, env_settings, toml)

    @property
    def mode(self) -> Mode:
        return Mode.LIVE if self.api_key and self.api_key.get_secret_value() else Mode.EMULATOR

    @property
    def db_path(self) -> Path:
        return (self.store.path or paths.default_db_path()).expanduser()

    @property
    def store_url(self) -> str:
        return self.store.url or f"sqlite:///{self.db_path}"

    @property
    def drop_dir(self) -> Path:
        return (self.drop.folder or paths.default_drop_dir()).expanduser()


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
