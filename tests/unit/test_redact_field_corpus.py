"""The field corpus (fixtures/pii_field) is the held-out one: nothing is tuned on it. These
checks catch a broken corpus or a collapse of the detector, not a figure to tune towards."""

from __future__ import annotations

from itertools import pairwise

from tests.bench.redact import ALL_TYPES, FIELD, load_corpus, ours, score_full


def test_labels_are_whole_and_never_overlap() -> None:
    for record in load_corpus(FIELD):
        text = record["text"]
        spans = sorted((e["start"], e["end"], e["type"]) for e in record["entities"])
        for (_, e1, t), (s2, _, _) in pairwise(spans):
            assert e1 <= s2, (record["id"], t)
        for start, end, etype in spans:
            assert etype in ALL_TYPES and 0 <= start < end <= len(text)
            value = text[start:end]
            assert value == value.strip(), (record["id"], etype)
        for negative in record["negatives"]:
            assert not any(s < negative["end"] and negative["start"] < e for s, e, _ in spans)


def test_field_corpus_is_scored_and_not_vacuous() -> None:
    scores = score_full(ours(), load_corpus(FIELD))
    assert set(ALL_TYPES) <= set(scores)
    assert scores["name"]["gold"] >= 2500 and scores["address"]["gold"] >= 500
    assert scores["email"]["recall"] >= 0.8
    assert scores["hard_negatives"]["total"] >= 5000 and scores["hard_negatives"]["kept"] >= 0.95
