"""Typed settings: env (GEMOPS_*, `__` nesting), a TOML file, and the Gemini API key as a secret."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, SecretStr
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
    # Paid tier-1 style figures; the facts file's published examples for the 3.x names.
    return {
        "gemini-2.5-pro": LimitSpec(rpm=150, tpm=2_000_000, rpd=10_000),
        "gemini-2.5-flash": LimitSpec(rpm=1_000, tpm=1_000_000, rpd=10_000),
        "gemini-2.5-flash-lite": LimitSpec(rpm=4_000, tpm=4_000_000, rpd=None),
        "gemini-2.0-flash": LimitSpec(rpm=2_000, tpm=4_000_000, rpd=None),
        "gemini-2.5-flash-image": LimitSpec(rpm=500, tpm=500_000, rpd=2_000),
        "gemini-3.5-flash": LimitSpec(rpm=2_000, tpm=4_000_000, rpd=None),
        "gemini-3.1-pro": LimitSpec(rpm=1_000, tpm=4_000_000, rpd=None),
        "gemini-3.1-flash-lite": LimitSpec(rpm=4_000, tpm=4_000_000, rpd=None),
    }


class LimitsSettings(BaseModel):
    models: dict[str, LimitSpec] = Field(default_factory=_default_model_limits)
    # Priority has its own limits, by default 0.3x the standard ones.
    tier_scale: dict[str, float] = Field(
        default_factory=lambda: {"flex": 1.0, "standard": 1.0, "priority": 0.3}
    )
    # Exact figures for one (model, tier), winning over the scaled ones.
    overrides: dict[str, dict[str, LimitSpec]] = Field(default_factory=dict)
    fallback: LimitSpec = LimitSpec(rpm=60, tpm=250_000, rpd=None)

    def for_call(self, model: str, tier: str) -> LimitSpec:
        model = model.removeprefix("models/")
        if tier in self.overrides.get(model, {}):
            return self.overrides[model][tier]
        base = self.models.get(model) or self._by_prefix(model) or self.fallback
        scale = self.tier_scale.get(tier, 1.0)
        return LimitSpec(
            rpm=max(1, int(base.rpm * scale)),
            tpm=max(1, int(base.tpm * scale)),
            rpd=None if base.rpd is None else max(1, int(base.rpd * scale)),
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
