"""Redaction quality on the three labelled corpora (held-out first), and `gemops redact` throughput as a whole process.

Quality: exact-span precision/recall per structured type; names and addresses count as masked
when >= 90 % of their characters (a title such as "Mr." aside) are inside findings of their type;
hard negatives are kept when no finding touches them. Throughput: `gemops redact` on a 16 MB
file, start-up included, against a naive four-regex sanitizer run as a process the same way
(same input, same number of runs, best of each); wall and CPU (user+sys) seconds both recorded,
and `gemops redact -j 1` (one process) beside the default (a scanning process per CPU).
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from console.services.forked import available_cpus
from console.services.redact import Redactor
from tests.bench._harness import BenchResult

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "pii" / "corpus.jsonl"
INDEPENDENT = CORPUS.parents[1] / "pii_independent" / "corpus.jsonl"
# Held out: generated once by its own design, scored here, its misses never read nor tuned on.
HOLDOUT = CORPUS.parents[1] / "pii_holdout" / "corpus.jsonl"
TYPES = ("email", "phone", "card", "ssn", "iban", "ip", "secret")
ALL_TYPES = (*TYPES, "national_id", "name", "address")
SPAN_TYPES = ("name", "address")
PROCESS_MB = 16
RUNS = 3
BENCH_MB = 24
# Plain sentences after each corpus record: about two entities (and as many look-alikes) per KB,
# the input the target is set on. A support or chat log is sparser: the "realistic" figure is
# measured beside it with 80 sentences per record (about 0.4 entities per KB).
PROSE_PER_RECORD = 12
REALISTIC_PROSE_PER_RECORD = 80
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
            if item[0] in predicted:
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


_TITLE = re.compile(r"^(?:Mr|Mrs|Ms|Dr)\.? ")


def _covered(spans: list[tuple[int, int]], start: int, end: int, text: str) -> float:
    chars = [i for i in range(start, end) if not text[i].isspace()]
    if not chars:
        return 1.0
    inside = sum(any(s <= i < e for s, e in spans) for i in chars)
    return inside / len(chars)


def score_full(detect: Detector, records: list[dict]) -> dict[str, dict[str, float]]:
    """Every type: exact spans for structured ones, character coverage for names/addresses;
    plus a "hard_negatives" row (kept = untouched by any finding)."""
    tp = dict.fromkeys(ALL_TYPES, 0)
    hit = dict.fromkeys(ALL_TYPES, 0)
    predicted = dict.fromkeys(ALL_TYPES, 0)
    gold = dict.fromkeys(ALL_TYPES, 0)
    negatives = kept = 0
    for record in records:
        text = record["text"]
        found = [f for f in detect(text) if f[0] in predicted]
        by_type: dict[str, list[tuple[int, int]]] = {}
        for t, s, e in found:
            by_type.setdefault(t, []).append((s, e))
        exact = {(e["type"], e["start"], e["end"]) for e in record["entities"]}
        for entity in record["entities"]:
            t, s, e = entity["type"], entity["start"], entity["end"]
            gold[t] += 1
            if t in SPAN_TYPES:
                title = _TITLE.match(text[s:e])
                s += title.end() if title else 0
                hit[t] += _covered(by_type.get(t, []), s, e, text) >= 0.9
            else:
                hit[t] += (t, s, e) in exact and (s, e) in by_type.get(t, [])
        gold_spans: dict[str, list[tuple[int, int]]] = {}
        for entity in record["entities"]:
            gold_spans.setdefault(entity["type"], []).append((entity["start"], entity["end"]))
        for t, s, e in found:
            predicted[t] += 1
            if t in SPAN_TYPES:
                tp[t] += _covered(gold_spans.get(t, []), s, e, text) >= 0.5
            else:
                tp[t] += (t, s, e) in exact
        for neg in record["negatives"]:
            negatives += 1
            kept += not any(s < neg["end"] and neg["start"] < e for _, s, e in found)
    table = {
        t: {
            "precision": round(tp[t] / predicted[t], 4) if predicted[t] else 1.0,
            "recall": round(hit[t] / gold[t], 4) if gold[t] else 1.0,
            "gold": gold[t],
            "predicted": predicted[t],
        }
        for t in ALL_TYPES
        if gold[t]
    }
    table["hard_negatives"] = {"kept": round(kept / negatives, 4) if negatives else 1.0,
                               "total": negatives}
    return table


def markdown(table: dict[str, dict[str, float]]) -> str:
    rows = ["| type | gold | recall | precision |", "|---|---:|---:|---:|"]
    for t, row in table.items():
        if t == "hard_negatives":
            continue
        rows.append(f"| {t} | {row['gold']} | {row['recall']:.3f} | {row['precision']:.3f} |")
    neg = table["hard_negatives"]
    rows.append(f"| hard negatives kept | {neg['total']} | {neg['kept']:.3f} | |")
    return "\n".join(rows)


NAIVE_SCRIPT = """
import re, sys
P = [re.compile(p) for p in (
    r"[\\w.+-]+@[\\w-]+\\.[\\w.-]+",
    r"\\(?\\b\\d{3}\\)?[-.\\s]?\\d{3}[-.\\s]?\\d{4}\\b",
    r"\\b(?:\\d{4}[- ]?){3}\\d{4}\\b",
    r"\\b\\d{3}-\\d{2}-\\d{4}\\b")]
out = sys.stdout
for line in sys.stdin:
    for p in P:
        line = p.sub("[REDACTED]", line)
    out.write(line)
"""


def _process_seconds(argv: list[str], path: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of one process reading `path` on stdin, output discarded."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with path.open("rb") as stdin:
        subprocess.run(argv, stdin=stdin, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def process_throughput(tmp: Path, prose_per_record: int = PROSE_PER_RECORD) -> dict[str, float]:
    import shutil
    import sys

    records = load_corpus() + load_corpus(INDEPENDENT)
    text, per_kb = bench_text(records, megabytes=PROCESS_MB, prose_per_record=prose_per_record)
    path = tmp / f"redact-input-{prose_per_record}.txt"
    path.write_text(text, encoding="utf-8")
    mb = path.stat().st_size / 1e6
    gemops = shutil.which("gemops", path=str(Path(sys.executable).parent)) or "gemops"
    sides = {"gemops": [gemops, "redact"], "gemops_one_process": [gemops, "redact", "-j", "1"],
             "naive": [sys.executable, "-c", NAIVE_SCRIPT]}
    best = {name: (float("inf"), float("inf")) for name in sides}
    for _ in range(RUNS):  # interleaved, so both sides see the same machine load
        for name, argv in sides.items():
            wall, cpu = _process_seconds(argv, path)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return {
        "input_mb": round(mb, 2),
        "entities_per_kb": per_kb,
        "runs": RUNS,
        "gemops_wall_mb_s": round(mb / best["gemops"][0], 2),
        "gemops_cpu_mb_s": round(mb / best["gemops"][1], 2),
        "gemops_one_process_wall_mb_s": round(mb / best["gemops_one_process"][0], 2),
        "gemops_one_process_cpu_mb_s": round(mb / best["gemops_one_process"][1], 2),
        "cpus": available_cpus(),
        "naive_wall_mb_s": round(mb / best["naive"][0], 2),
        "naive_cpu_mb_s": round(mb / best["naive"][1], 2),
    }


def run() -> BenchResult:
    import tempfile

    quality = {
        # The field-accuracy figure: nothing was tuned on this corpus.
        "holdout_corpus": score_full(ours(), load_corpus(HOLDOUT)),
        # Its misses were read while format classes were fixed: optimistic.
        "independent_corpus_used_while_fixing_format_classes": score_full(
            ours(), load_corpus(INDEPENDENT)
        ),
        # Written alongside the detector: a regression check.
        "project_corpus": score_full(ours(), load_corpus()),
    }
    for name, table in quality.items():
        print(f"\n{name}\n{markdown(table)}")
    with tempfile.TemporaryDirectory() as tmp:
        figures = process_throughput(Path(tmp))
        realistic = process_throughput(Path(tmp), REALISTIC_PROSE_PER_RECORD)
    print(figures)
    print("realistic density:", realistic)
    figures["realistic_density"] = realistic
    return BenchResult(
        name="redact",
        # Wall time is what a user waits for; `gemops redact` scans on every CPU it may use
        # (cpus), and the one-process and CPU-time figures are beside it.
        value=figures["gemops_wall_mb_s"],
        unit=f"MB/s (gemops redact, whole process, wall time, {figures['cpus']} CPUs)",
        baseline=figures["naive_wall_mb_s"],
        baseline_label="naive 4-regex process",
        target=f">= {TARGET_MB_S:.0f} MB/s",
        extra={"process": figures, "quality": quality},
    )
