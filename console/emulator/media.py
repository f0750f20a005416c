"""Synthesised media for the TTS models: real 24 kHz, 16-bit mono PCM, as the API returns."""

from __future__ import annotations

import base64
import math
import random
import struct

SAMPLE_RATE = 24_000
AUDIO_MIME = f"audio/L16;codec=pcm;rate={SAMPLE_RATE}"
# Audio output is billed at 25 tokens per second; speech runs at about 15 characters a second.
AUDIO_TOKENS_PER_SECOND = 25
CHARS_PER_SECOND = 15.0
MAX_SECONDS = 30.0


def speech(text: str, rng: random.Random) -> tuple[dict, int]:
    """(an inlineData part holding PCM for `text`, its output tokens); a tone stands in for words."""
    seconds = min(MAX_SECONDS, max(0.5, len(text) / CHARS_PER_SECOND))
    frequency = 180 + rng.randrange(120)
    period = max(1, SAMPLE_RATE // frequency)
    cycle = struct.pack(
        f"<{period}h",
        *(int(8000 * math.sin(2 * math.pi * i / period)) for i in range(period)),
    )
    samples = int(seconds * SAMPLE_RATE)
    pcm = (cycle * (samples // period + 1))[: samples * 2]
    part = {"inlineData": {"mimeType": AUDIO_MIME, "data": base64.b64encode(pcm).decode()}}
    return part, math.ceil(seconds * AUDIO_TOKENS_PER_SECOND)
