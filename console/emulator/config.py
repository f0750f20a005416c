"""Emulator settings: quotas, tier latency, batch timing, cache minimums, faults, keys."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.emulator.models import CATALOGUE

TIERS = ("flex", "standard", "priority")
# How the emulator counts RPM / TPM (console/emulator/quotas.py).
QUOTA_MODELS = ("sliding-log", "token-bucket")


@dataclass
class ModelQuota:
    """Per-model limits; 0 means unlimited. TPM counts input (prompt) tokens, as Gemini does."""

    rpm: int = 0
    tpm: int = 0
    rpd: int = 0


@dataclass
class TierLatency:
    """Added latency per request: `base_s` plus a uniform random `0..jitter_s`."""

    base_s: float = 0.0
    jitter_s: float = 0.0


@dataclass
class BatchTiming:
    """How a batch advances on the emulator clock."""

    pending_s: float = 1.0  # time spent in PENDING before RUNNING
    per_request_s: float = 0.05  # processing time per request while RUNNING
    expiry_s: float = 48 * 3600.0  # unfinished after this long -> EXPIRED
    fail_rate: float = 0.0  # chance a batch ends FAILED instead of SUCCEEDED


@dataclass
class FaultProfile:
    """Injected trouble for API routes (never the `/_emulator/` control routes).

    `error_rates` maps an HTTP status (429, 500, 503, 504, ...) to the chance that a request
    gets that error instead of being served. `stream_error_rate` is the chance that a streamed
    response breaks after its first chunk with an in-stream `{"error": ...}` event.
    `operations`, when set, limits the faults to those operations (e.g. `generateContent`).
    """

    error_rates: dict[int, float] = field(default_factory=dict)
    latency_spike_rate: float = 0.0
    latency_spike_s: float = 0.0
    drop_connection_rate: float = 0.0
    stream_error_rate: float = 0.0
    operations: list[str] | None = None

    @property
    def active(self) -> bool:
        return bool(
            any(self.error_rates.values())
            or self.latency_spike_rate
            or self.drop_connection_rate
            or self.stream_error_rate
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultProfile:
        profile = cls()
        _merge(profile, data, "faults")
        return profile

    @classmethod
    def from_toml(cls, path: str | Path) -> FaultProfile:
        data = tomllib.loads(Path(path).read_text())
        return cls.from_dict(data.get("faults", data))

    def to_dict(self) -> dict[str, Any]:
        body = dataclasses.asdict(self)
        body["error_rates"] = {str(k): v for k, v in self.error_rates.items()}
        return body


def _default_quotas() -> dict[str, ModelQuota]:
    return {m.model_id: ModelQuota(m.rpm, m.tpm, m.rpd) for m in CATALOGUE.values()}


def _default_cache_minimums() -> dict[str, int]:
    return {m.model_id: m.cache_min_tokens for m in CATALOGUE.values()}


def _zero_latency() -> dict[str, TierLatency]:
    return {tier: TierLatency() for tier in TIERS}


@dataclass
class EmulatorConfig:
    """Everything tunable. The defaults are fast (no latency) and generous (paid-tier quotas).

    Token counts are estimated as `ceil(characters / chars_per_token)`; 4 characters per token
    is Google's own rule of thumb for English text.
    """

    quotas: dict[str, ModelQuota] = field(default_factory=_default_quotas)
    quotas_enabled: bool = True
    # How RPM / TPM are enforced (console/emulator/quotas.py): "sliding-log" admits a whole
    # minute's quota at once; "token-bucket" refills continuously and allows a burst of only
    # `quota_burst_fraction` of the minute's quota.
    quota_model: str = "sliding-log"
    quota_burst_fraction: float = 0.1
    priority_limit_fraction: float = 0.3
    tier_latency: dict[str, TierLatency] = field(default_factory=_zero_latency)
    flex_shed_rate: float = 0.0
    # Flex is shed with 503 while more than this many requests are in flight (0 = never).
    flex_max_in_flight: int = 256
    batch: BatchTiming = field(default_factory=BatchTiming)
    cache_min_tokens: dict[str, int] = field(default_factory=_default_cache_minimums)
    # Implicit caching uses the explicit minimums unless a model is listed here.
    implicit_cache_min_tokens: dict[str, int] = field(default_factory=dict)
    implicit_cache_ttl_s: float = 300.0
    default_cache_ttl_s: float = 3600.0
    file_ttl_s: float = 48 * 3600.0
    chars_per_token: float = 4.0
    faults: FaultProfile = field(default_factory=FaultProfile)
    state_path: str | None = None
    accepted_keys: set[str] | None = None
    webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2)
    webhook_timeout_s: float = 5.0
    # Signs deliveries to per-batch `webhookConfig.uris`, which have no registered secret.
    dynamic_webhook_secret: str = "whsec_ZW11bGF0b3ItZHluYW1pYy13ZWJob29rLXNlY3JldA=="
    request_log_size: int = 5000
    tick_interval_s: float = 0.05
    seed: int | None = None

    @classmethod
    def realistic(cls) -> EmulatorConfig:
        """Latencies and timings shaped like the published tier comparison (facts file)."""
        return cls(
            tier_latency={
                "flex": TierLatency(base_s=1.8, jitter_s=2.7),
                "standard": TierLatency(base_s=1.8, jitter_s=1.5),
                "priority": TierLatency(base_s=2.0, jitter_s=0.42),
            },
            batch=BatchTiming(pending_s=120.0, per_request_s=2.0),
            webhook_retry_delays=(5.0, 30.0, 120.0, 600.0, 3600.0, 4 * 3600.0, 12 * 3600.0),
        )

    def quota_for(self, model_id: str) -> ModelQuota:
        return self.quotas.get(model_id) or ModelQuota()

    def cache_minimum(self, model_id: str) -> int:
        return self.cache_min_tokens.get(model_id, 1024)

    def implicit_cache_minimum(self, model_id: str) -> int:
        return self.implicit_cache_min_tokens.get(model_id, self.cache_minimum(model_id))

    def update(self, data: dict[str, Any]) -> None:
        """Apply a partial settings dict (TOML table or `PATCH /_emulator/config` body)."""
        _merge(self, data, "config")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmulatorConfig:
        base = cls.realistic() if data.get("preset") == "realistic" else cls()
        base.update({k: v for k, v in data.items() if k != "preset"})
        return base

    @classmethod
    def from_toml(cls, path: str | Path) -> EmulatorConfig:
        return cls.from_dict(tomllib.loads(Path(path).read_text()))

    def to_dict(self) -> dict[str, Any]:
        body = dataclasses.asdict(self)
        body["faults"] = self.faults.to_dict()
        body["accepted_keys"] = None if self.accepted_keys is None else sorted(self.accepted_keys)
        body["webhook_retry_delays"] = list(self.webhook_retry_delays)
        body.pop("dynamic_webhook_secret")
        return body


# Dict-valued fields whose values are dataclasses, so a partial table merges into each entry.
_NESTED_MAPS = {"quotas": ModelQuota, "tier_latency": TierLatency}


def _merge(target: Any, data: dict[str, Any], where: str) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a table/object")
    fields = {f.name: f for f in dataclasses.fields(target)}
    for key, value in data.items():
        if key not in fields:
            raise ValueError(f"unknown setting {where}.{key}")
        current = getattr(target, key)
        path = f"{where}.{key}"
        if key in _NESTED_MAPS and isinstance(current, dict):
            if not isinstance(value, dict):
                raise ValueError(f"{path} must be a table/object")
            for name, entry in value.items():
                item = current.get(name) or _NESTED_MAPS[key]()
                _merge(item, entry, f"{path}.{name}")
                current[name] = item
        elif dataclasses.is_dataclass(current):
            _merge(current, value, path)
        else:
            setattr(target, key, _coerce(key, current, value, path))


def _coerce(key: str, current: Any, value: Any, path: str) -> Any:
    if key == "error_rates":
        return {int(k): float(v) for k, v in dict(value).items()}
    if key == "accepted_keys":
        return None if value is None else {str(v) for v in value}
    if key == "webhook_retry_delays":
        return tuple(float(v) for v in value)
    if key in ("cache_min_tokens", "implicit_cache_min_tokens"):
        return {**current, **{str(k): int(v) for k, v in dict(value).items()}}
    if key == "quota_model" and value not in QUOTA_MODELS:
        raise ValueError(f"{path} must be one of {', '.join(QUOTA_MODELS)}, not {value!r}")
    if value is None or current is None:
        return value
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{path} must be true or false")
        return value
    if isinstance(current, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{path} must be a number")
        return type(current)(value)
    return value
