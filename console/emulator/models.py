"""The model catalogue: realistic metadata, limits and defaults for every emulated model."""

from __future__ import annotations

from dataclasses import dataclass

_TEXT_METHODS = (
    "generateContent",
    "countTokens",
    "createCachedContent",
    "batchGenerateContent",
)
_IMAGE_METHODS = ("generateContent", "countTokens", "batchGenerateContent")


@dataclass(frozen=True)
class ModelInfo:
    """One model as the emulator serves it; `family` drives cache minimums and pricing tiers."""

    model_id: str
    display_name: str
    description: str
    version: str
    family: str  # "pro", "flash", "flash-lite" or "image"
    input_token_limit: int = 1_048_576
    output_token_limit: int = 65_536
    thinking: bool = True
    # 2.5 Pro and the 3.x Pro models cannot switch thinking off (a budget of 0 is ignored).
    thinking_required: bool = False
    image_output: bool = False
    implicit_caching: bool = True
    temperature: float = 1.0
    top_p: float = 0.95
    top_k: int = 64
    max_temperature: float = 2.0
    methods: tuple[str, ...] = _TEXT_METHODS
    # Defaults for the per-model quota (paid tier, generous) and the explicit-cache minimum.
    rpm: int = 10_000
    tpm: int = 8_000_000
    rpd: int = 0  # 0 = unlimited
    cache_min_tokens: int = 1024

    @property
    def name(self) -> str:
        return f"models/{self.model_id}"

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
            "temperature": self.temperature,
            "topP": self.top_p,
            "topK": self.top_k,
            "maxTemperature": self.max_temperature,
        }
        if self.thinking:
            body["thinking"] = True
        return body


CATALOGUE: dict[str, ModelInfo] = {
    m.model_id: m
    for m in (
        ModelInfo(
            "gemini-2.5-pro",
            "Gemini 2.5 Pro",
            "Stable release (June 17th, 2025) of Gemini 2.5 Pro",
            "2.5",
            "pro",
            thinking_required=True,
            rpm=2_000,
            cache_min_tokens=4096,
        ),
        ModelInfo(
            "gemini-2.5-flash",
            "Gemini 2.5 Flash",
            "Stable version of Gemini 2.5 Flash, our mid-size multimodal model that supports "
            "up to 1 million tokens, released in June of 2025.",
            "001",
            "flash",
        ),
        ModelInfo(
            "gemini-2.5-flash-lite",
            "Gemini 2.5 Flash-Lite",
            "Stable version of Gemini 2.5 Flash-Lite, released in July of 2025",
            "001",
            "flash-lite",
            rpm=30_000,
            tpm=30_000_000,
        ),
        ModelInfo(
            "gemini-2.0-flash",
            "Gemini 2.0 Flash",
            "Gemini 2.0 Flash",
            "2.0",
            "flash",
            output_token_limit=8192,
            thinking=False,
            implicit_caching=False,
            top_k=40,
            rpm=30_000,
            tpm=30_000_000,
        ),
        ModelInfo(
            "gemini-2.5-flash-image",
            "Nano Banana",
            "Gemini 2.5 Flash Image",
            "2.0",
            "image",
            input_token_limit=32_768,
            output_token_limit=32_768,
            thinking=False,
            image_output=True,
            implicit_caching=False,
            methods=_IMAGE_METHODS,
            rpm=5_000,
            tpm=5_000_000,
        ),
        ModelInfo(
            "gemini-3-pro-preview",
            "Gemini 3 Pro Preview",
            "Gemini 3 Pro Preview",
            "3-pro-preview-11-2025",
            "pro",
            thinking_required=True,
            rpm=1_000,
            tpm=4_000_000,
            cache_min_tokens=4096,
        ),
        ModelInfo(
            "gemini-3-flash-preview",
            "Gemini 3 Flash Preview",
            "Gemini 3 Flash Preview",
            "3-flash-preview-12-2025",
            "flash",
            rpm=2_000,
            tpm=4_000_000,
        ),
        ModelInfo(
            "gemini-3.1-pro",
            "Gemini 3.1 Pro",
            "Gemini 3.1 Pro",
            "3.1",
            "pro",
            thinking_required=True,
            rpm=1_000,
            tpm=4_000_000,
            cache_min_tokens=4096,
        ),
        ModelInfo(
            "gemini-3.5-flash",
            "Gemini 3.5 Flash",
            "Gemini 3.5 Flash",
            "3.5",
            "flash",
            rpm=2_000,
            tpm=4_000_000,
        ),
        ModelInfo(
            "gemini-3.1-flash-lite",
            "Gemini 3.1 Flash-Lite",
            "Gemini 3.1 Flash-Lite",
            "3.1",
            "flash-lite",
            rpm=4_000,
            tpm=4_000_000,
        ),
    )
}


def model_id(name: str) -> str:
    """`models/gemini-2.5-flash` or `gemini-2.5-flash` -> `gemini-2.5-flash`."""
    return name[7:] if name.startswith("models/") else name


def lookup(name: str) -> ModelInfo | None:
    return CATALOGUE.get(model_id(name))
