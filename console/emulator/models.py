"""The model catalogue, loaded from `catalogue.toml`: limits, features and defaults per model."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from importlib import resources


@dataclass(frozen=True)
class ModelInfo:
    """One model as the emulator serves it; `family` drives cache minimums and pricing tiers."""

    model_id: str
    display_name: str
    description: str
    version: str
    family: str  # "pro", "flash", "flash-lite", "image", "tts" or "embedding"
    kind: str = "text"  # "text", "image", "tts" or "embedding"
    input_token_limit: int = 1_048_576
    output_token_limit: int = 65_536
    caching: bool = True
    implicit_caching: bool = True
    logprobs: bool = False
    thinking: bool = True
    # 2.5 Pro and the 3.x Pro models cannot switch thinking off (a budget of 0 is ignored).
    thinking_required: bool = False
    batch: bool = True
    embeddings: bool = False
    tts: bool = False
    image: bool = False
    embedding_dimensions: int = 0
    temperature: float = 1.0
    top_p: float = 0.95
    top_k: int = 64
    max_temperature: float = 2.0
    # Defaults for the per-model quota (paid tier, generous) and the explicit-cache minimum.
    rpm: int = 10_000
    tpm: int = 8_000_000
    rpd: int = 0  # 0 = unlimited
    cache_min_tokens: int = 1024
    alias_of: str | None = None

    @property
    def name(self) -> str:
        return f"models/{self.model_id}"

    @property
    def image_output(self) -> bool:
        return self.image

    @property
    def serves_as(self) -> str:
        """The id answers carry in `modelVersion` (an alias answers as its target)."""
        return self.alias_of or self.model_id

    @property
    def methods(self) -> tuple[str, ...]:
        if self.embeddings:
            out = ["embedContent", "countTokens"]
            if self.batch:
                out.append("asyncBatchEmbedContent")
            return tuple(out)
        out = ["generateContent", "countTokens"]
        if self.caching:
            out.append("createCachedContent")
        if self.batch:
            out.append("batchGenerateContent")
        return tuple(out)

    def resource(self) -> dict:
        """The Model resource exactly as `GET /v1beta/models/{id}` returns it."""
        body = {
            "name": self.name,
            "baseModelId": self.model_id,
            "version": self.version,
            "displayName": self.display_name,
            "description": self.description,
            "inputTokenLimit": self.input_token_limit,
            "outputTokenLimit": self.output_token_limit,
            "supportedGenerationMethods": list(self.methods),
        }
        if not self.embeddings:
            body |= {
                "temperature": self.temperature,
                "topP": self.top_p,
                "topK": self.top_k,
                "maxTemperature": self.max_temperature,
            }
        if self.thinking:
            body["thinking"] = True
        return body


_FIELDS = {f.name for f in fields(ModelInfo)} - {"model_id"}


def load_catalogue(text: str) -> dict[str, ModelInfo]:
    """Parse the catalogue TOML; unknown keys and dangling aliases are errors, not surprises."""
    data = tomllib.loads(text)
    defaults = data.get("defaults", {})
    raw: dict[str, dict] = data.get("models", {})
    out: dict[str, ModelInfo] = {}
    for model_id, entry in raw.items():
        merged = dict(defaults)
        target = entry.get("alias_of")
        if target is not None:
            if target not in raw or "alias_of" in raw[target]:
                raise ValueError(f"catalogue: {model_id} aliases unknown model {target}")
            merged |= raw[target]
        merged |= entry
        unknown = set(merged) - _FIELDS
        if unknown:
            raise ValueError(f"catalogue: {model_id} has unknown keys {sorted(unknown)}")
        out[model_id] = ModelInfo(model_id=model_id, **merged)
    return out


CATALOGUE: dict[str, ModelInfo] = load_catalogue(
    resources.files("console.emulator").joinpath("catalogue.toml").read_text("utf-8")
)


def model_id(name: str) -> str:
    """`models/gemini-2.5-flash` or `gemini-2.5-flash` -> `gemini-2.5-flash`."""
    return name[7:] if name.startswith("models/") else name


def lookup(name: str) -> ModelInfo | None:
    return CATALOGUE.get(model_id(name))
