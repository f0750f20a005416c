"""The optional NER tier: a spaCy pipeline's PERSON and place entities, on top of the rules.

Installed with `pip install "gemops[ner]"` plus a spaCy model package (en_core_web_sm by
default; GEMOPS_REDACTION_NER_MODEL names another). Imported only when `redaction.engine =
"ner"` is chosen, so the default engine never pays for spaCy.
"""

from __future__ import annotations

import os
from collections.abc import Callable

DEFAULT_MODEL = "en_core_web_sm"
_LABELS = {"PERSON": "name", "PER": "name", "FAC": "address", "LOC": "address"}


class NerUnavailable(RuntimeError):
    """The NER tier was asked for but spaCy or its model is not installed."""


def load(model: str | None = None) -> Callable[[str], list[tuple[int, int, str]]]:
    model = model or os.environ.get("GEMOPS_REDACTION_NER_MODEL", DEFAULT_MODEL)
    try:
        import spacy
    except ImportError as error:
        raise NerUnavailable(
            'redaction engine "ner" needs spaCy: pip install "gemops[ner]" and a model such as '
            f"{DEFAULT_MODEL} (or use engine \"default\")"
        ) from error
    try:
        nlp = spacy.load(model, disable=["lemmatizer", "parser", "tagger"])
    except OSError as error:
        raise NerUnavailable(
            f'redaction engine "ner": spaCy model {model!r} is not installed '
            f"(pip install {model}, or set GEMOPS_REDACTION_NER_MODEL)"
        ) from error

    def entities(text: str) -> list[tuple[int, int, str]]:
        return [
            (ent.start_char, ent.end_char, _LABELS[ent.label_])
            for ent in nlp(text).ents
            if ent.label_ in _LABELS
        ]

    return entities
