"""Issue 12: the misses named in the issue, names and addresses, the engine setting, corpora."""

from __future__ import annotations

import io
import sys

import pytest

from console.services.redact import ENGINES, Redactor, redact_stream
from console.settings import Settings
from tests.bench.redact import INDEPENDENT, load_corpus, ours, score_full


def found(text: str, engine: str = "default") -> list[tuple[str, str]]:
    return [(f.type.value, text[f.start : f.end]) for f in Redactor(engine=engine).find(text)]


AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    "line",
    [
        f"aws_secret_access_key = {AWS_SECRET}",
        f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}",
        f'aws_secret_access_key: "{AWS_SECRET}"',
        f"export AWS_SECRET_ACCESS_KEY='{AWS_SECRET}'",
        f'{{"SecretAccessKey": "{AWS_SECRET}"}}',
        f"Aws_Secret_Access_Key   =   {AWS_SECRET}",
    ],
)
def test_aws_secret_access_keys_are_masked(line: str) -> None:
    assert found(line, "structured") == [("secret", AWS_SECRET)]


JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"Authorization: Bearer {JWT}", JWT),
        ("Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
         "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."),
        ("authorization: bearer 0a1b2c3d4e5f6a7b8c9d0e1f", "0a1b2c3d4e5f6a7b8c9d0e1f"),
    ],
)
def test_bearer_tokens_are_masked(header: str, token: str) -> None:
    assert found(header, "structured") == [("secret", token)]


def test_config_numbers_next_to_secret_words_stay() -> None:
    assert found("max_output_tokens=1024, temperature=0.2, token_budget: 32768") == []


@pytest.mark.parametrize(
    ("text", "ssn"),
    [
        ("SSN 652501414 on the form", "652501414"),
        ("social security: 869 97 1434", "869 97 1434"),
        ("the applicant wrote 652501414 in the ID field", "652501414"),
    ],
)
def test_ssns_without_dashes_next_to_context_words(text: str, ssn: str) -> None:
    assert found(text, "structured") == [("ssn", ssn)]


@pytest.mark.parametrize(
    "text", ["order 652501414 shipped", "at 1718900000 the job ended", "ticket 869 97 1434"]
)
def test_order_ids_and_timestamps_without_context_stay(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("call me at (11) 2358-8056", "(11) 2358-8056"),
        ("tel 081231 00026", "081231 00026"),
        ("phone: 810 14 00 58", "810 14 00 58"),
        ("reach me on +44 7700 900531", "+44 7700 900531"),
        ("reach me on 07700 900531", "07700 900531"),
    ],
)
def test_phone_numbers_in_national_and_fictional_formats(text: str, phone: str) -> None:
    assert found(text, "structured") == [("phone", phone)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("CPF 123.456.789-09", "123.456.789-09"),
        ("my DNI is 12345678Z", "12345678Z"),
        ("codice fiscale RSSMRA85T10A562S", "RSSMRA85T10A562S"),
        ("BSN 111222333", "111222333"),
    ],
)
def test_national_ids_checked_by_stdnum(text: str, value: str) -> None:
    assert found(text, "structured") == [("national_id", value)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Hi Maria, thanks for the update.", ["Maria"]),
        ("Best regards,\nJohn Smith", ["John Smith"]),
        ("I spoke with Krzysztof Wójcik about it.", ["Krzysztof Wójcik"]),
        ("The ticket is assigned to Priya.", ["Priya"]),
        ("My name is Anne-Marie Dubois.", ["Anne-Marie Dubois"]),
        ("[10:32] Lucas Moreau: my parcel is late", ["Lucas Moreau"]),
        ("Please ask Mr. Okafor to sign.", ["Okafor"]),
    ],
)
def test_person_names(text: str, names: list[str]) -> None:
    assert [v for t, v in found(text) if t == "name"] == names


@pytest.mark.parametrize(
    "text",
    [
        "Draft a reply. Summarize the thread.",
        "Use Gemini Flash for JSON output on Monday.",
        "Google Cloud Storage and Vertex AI, version 2.5.1.",
        "Translate the Release Notes for North America.",
    ],
)
def test_hard_negatives_are_not_names(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Ship to 221B Baker Street, London NW1 6XE please.", "221B Baker Street, London NW1 6XE"),
        ("1600 Amphitheatre Parkway, Mountain View, CA 94043", None),
        ("Lieferadresse: Hauptstraße 5, 10115 Berlin.", "Hauptstraße 5, 10115 Berlin"),
        ("Send it to 12 rue de la Paix, 75002 Paris.", "12 rue de la Paix, 75002 Paris"),
        ("Dirección: Calle Mayor 5, 28013 Madrid", "Calle Mayor 5, 28013 Madrid"),
        ("Via Roma 10, 00184 Roma", None),
        ("Keizersgracht 123, 1015 CJ Amsterdam", None),
        ("Rua Augusta, 1500 - Consolação, São Paulo - SP, 01304-001", None),
    ],
)
def test_street_addresses(text: str, address: str | None) -> None:
    hits = [v for t, v in found(text) if t == "address"]
    assert hits == [address or text]


def test_structured_engine_leaves_names_and_addresses() -> None:
    assert found("Hi Maria, ship to 221B Baker Street.", "structured") == []


def test_engine_setting_and_choices() -> None:
    assert Settings().redaction.engine == "default"
    assert set(ENGINES) == {"default", "structured", "ner"}
    with pytest.raises(ValueError, match="engine"):
        Redactor(engine="magic")


def test_ner_engine_without_the_extra_fails_clearly(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "spacy", None)  # as if spaCy were not installed
    with pytest.raises(RuntimeError, match=r'gemops\[ner\]'):
        Redactor(engine="ner")
    with pytest.raises(RuntimeError, match="spaCy"):
        redact_stream(io.StringIO("x"), io.StringIO(), as_json=False, engine="ner")


def test_ner_engine_adds_model_entities(monkeypatch) -> None:
    from console.services.redaction import ner

    monkeypatch.setattr(ner, "load", lambda model=None: lambda text: [(0, 3, "name")])
    assert found("Zed reported it.", "ner")[0] == ("name", "Zed")


def test_stream_blocks_keep_a_private_key_masked_across_blocks() -> None:
    lines = ["-----BEGIN PRIVATE KEY-----\n"] + ["QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n"] * 50_000
    lines.append("-----END PRIVATE KEY-----\nmail a@example.com\n")
    out = io.StringIO()
    redact_stream(io.StringIO("".join(lines)), out, as_json=False)
    assert "QUJD" not in out.getvalue()
    assert out.getvalue().endswith("[EMAIL_REDACTED]\n")


@pytest.fixture(scope="module")
def independent_scores() -> dict:
    return score_full(ours(), load_corpus(INDEPENDENT))


def test_independent_corpus_is_scored_and_not_vacuous(independent_scores: dict) -> None:
    # Floors well below the measured figures (docs/redaction.md): they catch a regression,
    # they are not the targets, which the report states as met or not.
    assert independent_scores["email"]["recall"] >= 0.99
    assert independent_scores["secret"]["recall"] >= 0.99
    assert independent_scores["name"]["recall"] >= 0.80
    assert independent_scores["hard_negatives"]["kept"] >= 0.97
    assert independent_scores["name"]["gold"] >= 2000


def test_stream_blocks_are_whole_lines_and_match_line_by_line_redaction(monkeypatch) -> None:
    from console.services import redact
    from console.services.redact import _blocks, redact_lines

    text = "call +44 20 7946 0958\nno newline at first" * 3 + "\nDear Maria Silva,\nend"
    with monkeypatch.context() as patch:
        patch.setattr(redact, "BLOCK_CHARS", 16)
        blocks = list(_blocks(io.StringIO(text), "\n"))
    assert "".join(blocks) == text
    assert all(b.endswith("\n") for b in blocks[:-1]) and len(blocks) > 2
    for mode in ("token", "pseudonym"):
        out = io.StringIO()
        count = redact_stream(io.StringIO(text), out, as_json=False, mode=mode)
        results = list(redact_lines(list(_blocks(io.StringIO(text), "\n")), Redactor(mode=mode)))
        assert out.getvalue() == "".join(r.text for r in results)
        assert count == sum(len(r.findings) for r in results) >= 4


def test_holdout_corpus_is_scored_and_not_vacuous() -> None:
    # Held out from tuning: these floors only catch a broken corpus or a collapse of the
    # detector; the measured figures (docs/redaction.md) are read, never tuned towards.
    from tests.bench.redact import HOLDOUT

    scores = score_full(ours(), load_corpus(HOLDOUT))
    assert scores["name"]["gold"] >= 3000 and scores["address"]["gold"] >= 500
    assert scores["email"]["recall"] >= 0.99
    assert scores["hard_negatives"]["total"] >= 2500 and scores["hard_negatives"]["kept"] >= 0.97
