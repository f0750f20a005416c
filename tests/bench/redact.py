"""Redaction throughput (MB/s) and quality against a naive four-regex sanitizer, on the PII corpus."""

from __future__ import annotations

import importlib.util
import json
import random
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from console.services.redact import Redactor
from tests.bench._harness import BenchResult

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "pii" / "corpus.jsonl"
TYPES = ("email", "phone", "card", "ssn", "iban", "ip", "secret")
BENCH_MB = 24
# Plain sentences after each corpus record: about one entity (and one look-alike) per 1.3 KB.
PROSE_PER_RECORD = 12
TARGET_MB_S = 20.0

# A span finder: text -> [(type, start, end)].
Detector = Callable[[str], Iterable[tuple[str, int, int]]]


def load_corpus(path: Path = CORPUS) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def ours() -> Detector:
    redactor = Redactor()
    return lambda text: ((f.type.value, f.start, f.end) for f in redactor.redact(text).findings)


# The sanitizer people write first: four regexes, applied one after another.
NAIVE_PATTERNS = {
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "phone": re.compile(r"\(?\b\d{3}\)?[-.\s]?\d{3}[-.\s]?\d{4}\b"),
    "card": re.compile(r"\b(?:\d{4}[- ]?){3}\d{4}\b"),
    "ssn": re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),
}


def naive_sanitize(text: str) -> str:
    for name, pattern in NAIVE_PATTERNS.items():
        text = pattern.sub(f"[{name.upper()}_REDACTED]", text)
    return text


def naive() -> Detector:
    def detect(text: str) -> list[tuple[str, int, int]]:
        return [
            (name, m.start(), m.end())
            for name, pattern in NAIVE_PATTERNS.items()
            for m in pattern.finditer(text)
        ]

    return detect


def score(detect: Detector, records: list[dict]) -> dict[str, dict[str, float]]:
    """Exact-span precision and recall per entity type (a span off by one character is a miss)."""
    tp = dict.fromkeys(TYPES, 0)
    predicted = dict.fromkeys(TYPES, 0)
    gold = dict.fromkeys(TYPES, 0)
    for record in records:
        expected = {(e["type"], e["start"], e["end"]) for e in record["entities"]}
        found = set(detect(record["text"]))
        for etype, _, _ in expected:
            gold[etype] += 1
        for item in found:
            predicted[item[0]] += 1
            tp[item[0]] += item in expected
    return {
        etype: {
            "precision": round(tp[etype] / predicted[etype], 4) if predicted[etype] else 1.0,
            "recall": round(tp[etype] / gold[etype], 4) if gold[etype] else 1.0,
            "gold": gold[etype],
            "predicted": predicted[etype],
        }
        for etype in TYPES
    }


def misses(detect: Detector, records: list[dict]) -> list[tuple[str, str, str]]:
    """(verdict, type, snippet) for every false negative and false positive: for debugging."""
    out = []
    for record in records:
        text = record["text"]
        expected = {(e["type"], e["start"], e["end"]) for e in record["entities"]}
        found = set(detect(text))
        out += [("missed", t, text[s:e]) for t, s, e in expected - found]
        out += [("spurious", t, text[s:e]) for t, s, e in found - expected]
    return out


def prose_sentences() -> list[str]:
    """The corpus generator's plain sentences (with their numbers, times and capitals)."""
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS.with_name("make_corpus.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.FILLER)


def bench_text(
    records: list[dict], megabytes: float = BENCH_MB, prose_per_record: int = 0
) -> tuple[str, float]:
    """Corpus records shuffled and repeated into one document, and its entities per KB.

    The corpus alone is far denser than real traffic (an entity or a look-alike every ~180
    characters); `prose_per_record` plain sentences after each record dilute it.
    """
    rng = random.Random(8)
    records = list(records)
    prose = prose_sentences() if prose_per_record else []
    target = megabytes * 1_000_000
    chunks: list[str] = []
    size = entities = 0
    while size < target:
        rng.shuffle(records)
        for record in records:
            piece = [record["text"], *(rng.choice(prose) for _ in range(prose_per_record))]
            chunks.extend(piece)
            size += sum(len(c) + 1 for c in piece)
            entities += len(record["entities"])
    text = "\n".join(chunks)
    return text, round(1000 * entities / len(text), 2)


def throughput(fn: Callable[[str], object], text: str, repeats: int = 3) -> float:
    """MB/s over `text` (best of `repeats`), fed in 64 KiB pieces as a log writer would."""
    pieces = [text[i : i + 65536] for i in range(0, len(text), 65536)]
    size = len(text.encode("utf-8")) / 1e6
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for piece in pieces:
            fn(piece)
        best = min(best, time.perf_counter() - started)
    return size / best


def run() -> BenchResult:
    records = load_corpus()
    redactor = Redactor()
    text, per_kb = bench_text(records, prose_per_record=PROSE_PER_RECORD)
    ours_mb_s = throughput(redactor.redact, text)
    naive_mb_s = throughput(naive_sanitize, text, repeats=1)
    dense, dense_per_kb = bench_text(records, megabytes=BENCH_MB / 2)
    dense_mb_s = throughput(redactor.redact, dense)
    quality = {"ours": score(ours(), records), "naive": score(naive(), records)}
    for name, table in quality.items():
        cells = [f"{t} P={row['precision']:.3f} R={row['recall']:.3f}" for t, row in table.items()]
        print(f"{name:>5}: " + "  ".join(cells))
    print(f"dense corpus alone ({dense_per_kb} entities/KB): {dense_mb_s:.2f} MB/s")
    return BenchResult(
        name="redact",
        value=ours_mb_s,
        unit="MB/s",
        baseline=naive_mb_s,
        baseline_label="naive 4-regex",
        target=f">= {TARGET_MB_S:.0f} MB/s",
        extra={
            "text_mb": round(len(text) / 1e6, 1),
            "entities_per_kb": per_kb,
            "dense_mb_s": round(dense_mb_s, 2),
            "dense_entities_per_kb": dense_per_kb,
            "quality": quality,
        },
    )
