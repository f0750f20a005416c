"""Deterministic log probabilities for a candidate's text (`responseLogprobs: true`)."""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

_TOKEN = re.compile(r"\s*\S+")
_ALTERNATIVES = ("the", "a", "and", "of", "to", "in", "is", "it", "that", "for")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text) or [text]


def logprobs_result(candidate: dict[str, Any], top: int) -> tuple[float, dict[str, Any]]:
    """(avgLogprobs, logprobsResult) for the candidate's text; the same text, the same numbers."""
    text = "".join(p.get("text", "") for p in candidate["content"]["parts"] if not p.get("thought"))
    rng = random.Random(hashlib.blake2b(text.encode(), digest_size=8).digest())
    chosen: list[dict[str, Any]] = []
    tops: list[dict[str, Any]] = []
    for token in _tokens(text):
        value = -round(rng.random() ** 3 * 2.5, 6)
        token_id = rng.randrange(256_000)
        chosen.append({"token": token, "tokenId": token_id, "logProbability": value})
        if top:
            others: list[dict[str, Any]] = [
                {
                    "token": " " + rng.choice(_ALTERNATIVES),
                    "tokenId": rng.randrange(256_000),
                    "logProbability": round(value - 0.5 - rng.random() * 4, 6),
                }
                for _ in range(top - 1)
            ]
            others.sort(key=lambda c: c["logProbability"], reverse=True)
            tops.append({"candidates": [chosen[-1], *others]})
    result: dict[str, Any] = {"chosenCandidates": chosen}
    if top:
        result = {"topCandidates": tops, **result}
    average = sum(c["logProbability"] for c in chosen) / len(chosen)
    return round(average, 6), result
