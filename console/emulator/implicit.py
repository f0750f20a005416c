"""Implicit caching: a repeated long prompt prefix is reported as `cachedContentTokenCount`."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

_MAX_PREFIXES = 20_000


class ImplicitCache:
    """Remembers hashes of prompt prefixes (part by part) for a short TTL, per model.

    A request's prefix chain is h_i = H(h_{i-1} + part_i). The longest chain entry seen before,
    with at least the model's minimum tokens, is the cached part of the new request.
    """

    def __init__(self) -> None:
        self.prefixes: OrderedDict[bytes, float] = OrderedDict()

    def match_and_record(
        self,
        model: str,
        segments: list[tuple[bytes, int]],
        minimum: int,
        now: float,
        ttl: float,
    ) -> int:
        digest = model.encode()
        cumulative = 0
        cached = 0
        fresh: list[bytes] = []
        for serialized, tokens in segments:
            digest = hashlib.blake2b(digest + serialized, digest_size=16).digest()
            cumulative += tokens
            if cumulative < minimum:
                continue
            expires = self.prefixes.get(digest)
            if expires is not None and expires > now:
                cached = cumulative
            fresh.append(digest)
        for key in fresh:
            self.prefixes[key] = now + ttl
            self.prefixes.move_to_end(key)
        while len(self.prefixes) > _MAX_PREFIXES:
            self.prefixes.popitem(last=False)
        return cached

    def clear(self) -> None:
        self.prefixes.clear()
