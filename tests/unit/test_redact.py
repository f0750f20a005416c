"""PII redaction: each entity type, its look-alikes, overlaps, pseudonyms, streaming, the corpus."""

from __future__ import annotations

import importlib.util
import io
import json

import pytest

from console.services.redact import (
    EntityType,
    Finding,
    Redactor,
    redact,
    redact_lines,
    redact_stream,
)
from tests.bench.redact import CORPUS, TYPES, load_corpus, misses, ours, score


def found(text: str) -> list[tuple[str, str]]:
    """(type, exact text) of every finding."""
    return [(f.type.value, text[f.start : f.end]) for f in Redactor().redact(text).findings]


def assert_only(text: str, etype: str, value: str) -> None:
    assert found(text) == [(etype, value)], text


# --- positives: the value is found with its exact span ------------------------------------------

EMAILS = [
    "alice.smith@example.com",
    "a.b+billing@mail.example.org",
    "Maria.Mueller@Societe.FR",
    "j_doe-99@uni.ac.uk",
    "x%y@sub.domain.co.jp",
]

PHONES = [
    ("+14155552671", "US"),
    ("+1 415-555-2671", "US"),
    ("(415) 555-2671", "US"),
    ("415-555-2671", "US"),
    ("415.555.2671", "US"),
    ("1-650-253-0000", "US"),
    ("+44 20 7946 0958", "GB"),
    ("020 7946 0958", "GB"),
    ("0161 496 0000", "GB"),
    ("+49 30 901820", "DE"),
    ("030 901820", "DE"),
    ("+49 (0)30 1234567", "DE"),
    ("089/1234567", "DE"),
    ("+33 1 42 68 53 00", "FR"),
    ("01 42 68 53 00", "FR"),
    ("01.42.68.53.00", "FR"),
    ("+61 2 9374 4000", "AU"),
    ("+81 3-1234-5678", "JP"),
]

CARDS = [
    ("4111 1111 1111 1111", "visa"),
    ("4111-1111-1111-1111", "visa"),
    ("4111111111111111", "visa"),
    ("5555 5555 5555 4444", "mastercard"),
    ("2221 0000 0000 0009", "mastercard"),
    ("3782 822463 10005", "amex"),
    ("378282246310005", "amex"),
    ("6011 1111 1111 1117", "discover"),
    ("3530 1113 3330 0000", "jcb"),
    ("3056 930902 5904", "diners"),
]

IBANS = [
    ("DE89 3704 0044 0532 0130 00", "DE"),
    ("DE89370400440532013000", "DE"),
    ("GB82 WEST 1234 5698 7654 32", "GB"),
    ("FR14 2004 1010 0505 0001 3M02 606", "FR"),
    ("NL91ABNA0417164300", "NL"),
    ("BE68 5390 0754 7034", "BE"),
    ("CH93 0076 2011 6238 5295 7", "CH"),
]

IPS = [
    ("192.168.1.20", "ipv4"),
    ("10.0.0.5", "ipv4"),
    ("8.8.8.8", "ipv4"),
    ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ipv6"),
    ("2001:db8::8a2e:370:7334", "ipv6"),
    ("fe80::1ff:fe23:4567:890a", "ipv6"),
    ("::1", "ipv6"),
    ("::ffff:192.0.2.128", "ipv6"),
    ("FE80::0202:B3FF:FE1E:8329", "ipv6"),
]

SECRETS = [
    ("AIzaSyA-1234567890abcdefghijklmnopqrstu", "google_api_key"),
    ("AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
    ("ASIAY34FZKBOKMUTVV7A", "aws_access_key"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github_token"),
    ("gho_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "github_token"),
    ("github_pat_11ABCDEFG0123456789abc_" + "x" * 59, "github_token"),
    ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack_token"),
    ("xoxp-1234-5678-abcdefghij", "slack_token"),
    ("sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL", "openai_key"),
    ("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_-Zz", "openai_key"),
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "jwt",
    ),
]


@pytest.mark.parametrize("email", EMAILS)
def test_finds_emails(email: str) -> None:
    assert_only(f"Write to {email}, thanks.", "email", email)


@pytest.mark.parametrize(("phone", "region"), PHONES)
def test_finds_phones_in_international_and_national_formats(phone: str, region: str) -> None:
    text = f"Call me on {phone} tomorrow."
    findings = Redactor().redact(text).findings
    assert [(f.type, text[f.start : f.end], f.kind) for f in findings] == [
        (EntityType.PHONE, phone, region)
    ]


def test_default_region_decides_plain_national_numbers() -> None:
    assert found("ring 020 7946 0958") == [("phone", "020 7946 0958")]
    assert Redactor(default_region="GB").redact("ring 020 7946 0958").findings[0].kind == "GB"


@pytest.mark.parametrize(("card", "brand"), CARDS)
def test_finds_luhn_valid_cards(card: str, brand: str) -> None:
    text = f"Card: {card}."
    findings = Redactor().redact(text).findings
    assert [(text[f.start : f.end], f.kind) for f in findings] == [(card, brand)]
    assert findings[0].type is EntityType.CARD


def test_card_followed_by_another_number_keeps_the_card() -> None:
    assert found("paid with 4111 1111 1111 1111 234 times") == [("card", "4111 1111 1111 1111")]


@pytest.mark.parametrize("ssn", ["123-45-6789", "001-01-0001", "899-99-9999", "665-12-3456"])
def test_finds_ssns(ssn: str) -> None:
    assert_only(f"SSN {ssn} on file", "ssn", ssn)


@pytest.mark.parametrize(("iban", "country"), IBANS)
def test_finds_mod97_valid_ibans(iban: str, country: str) -> None:
    text = f"Wire it to {iban} today."
    findings = Redactor().redact(text).findings
    assert [(text[f.start : f.end], f.kind) for f in findings] == [(iban, country)]


def test_iban_stops_at_its_country_length() -> None:
    assert found("to BE68 5390 0754 7034 ABCD now") == [("iban", "BE68 5390 0754 7034")]


@pytest.mark.parametrize(("ip", "kind"), IPS)
def test_finds_ip_addresses(ip: str, kind: str) -> None:
    text = f"from {ip}, then"
    findings = Redactor().redact(text).findings
    assert [(text[f.start : f.end], f.kind) for f in findings] == [(ip, kind)]


def test_ip_with_port_and_in_brackets() -> None:
    assert found("http://10.1.2.3:8080/") == [("ip", "10.1.2.3")]
    assert found("http://[2001:db8::1]:8080/") == [("ip", "2001:db8::1")]


@pytest.mark.parametrize(("secret", "kind"), SECRETS)
def test_finds_secrets(secret: str, kind: str) -> None:
    text = f"key = '{secret}'"
    findings = Redactor().redact(text).findings
    assert [(text[f.start : f.end], f.kind) for f in findings] == [(secret, kind)]
    assert findings[0].type is EntityType.SECRET


PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL\n"
    "bm90IGEgcmVhbCBrZXkgYnV0IGl0IGxvb2tzIGxpa2Ugb25lIHRvIHRoZSByZWRh\n"
    "-----END RSA PRIVATE KEY-----"
)


def test_masks_a_whole_pem_private_key_block() -> None:
    text = f"my key:\n{PEM}\ndoes not load"
    result = Redactor().redact(text)
    assert result.text == "my key:\n[SECRET_REDACTED]\ndoes not load"
    assert result.findings == [Finding(EntityType.SECRET, 8, 8 + len(PEM), "private_key")]


def test_an_unterminated_pem_block_is_masked_to_the_end() -> None:
    text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
    assert Redactor().redact(text).text == "[SECRET_REDACTED]\n"


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgres://admin:S3cr3t!@db.example.com:5432/app", "S3cr3t!"),
        ("redis://:hunter2@cache.local:6379", "hunter2"),
        ("https://bob:pa:ss@example.com/x", "pa:ss"),
    ],
)
def test_masks_only_the_password_of_a_url(url: str, password: str) -> None:
    text = f"DSN {url} here"
    assert found(text) == [("secret", password)]
    assert redact(text) == f"DSN {url.replace(password, '[SECRET_REDACTED]')} here"


# --- negatives: look-alikes stay ----------------------------------------------------------------

LOOK_ALIKES = [
    "2024-03-15",
    "15/03/2024",
    "03/15/2024",
    "15.03.2024",
    "2024-03-15T12:30:45Z",
    "12:30:45",
    "16:9",
    "version 1.2.3.4",
    "v10.0.19041",
    "Windows 10.0.19045.3803",
    "2.31.0",
    "ORD-12345678",
    "#12345678",
    "INV-2024-000123",
    "$1,234.56",
    "€2.499,00",
    "1,234,567",
    "4111 1111 1111 1112",
    "4111111111111112",
    "DE00 3704 0044 0532 0130 00",
    "GB00WEST12345698765432",
    "000-12-3456",
    "666-12-3456",
    "912-34-5678",
    "123-00-4567",
    "123-45-0000",
    "978-3-16-148410-0",
    "ISBN 0-306-40615-2",
    "123e4567-e89b-12d3-a456-426614174000",
    "9fceb02d0ae598e95dc970b74767f19372d61af8",
    "1Z999AA10123456784",
    "9400 1000 0000 0000 0000 00",
    "999.999.999.999",
    "256.1.1.1",
    "00:1A:2B:3C:4D:5E",
    "std::vector",
    "a::b",
    "94103-1234",
    "12345678",
    "(123) 456-7890",
    "37.774929, -122.419416",
    "sk-learn",
    "task-force-for-the-long-weekend-planning",
    "AKIA",
    "ghp_short",
    "user@localhost",
    "@alice",
    "https://example.com:8443/path?a=b",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_leaves_look_alikes_alone(text: str) -> None:
    wrapped = f"Noted: {text} (see above)."
    assert found(wrapped) == [], wrapped


# --- overlaps and neighbours -------------------------------------------------------------------


def test_url_credentials_host_is_not_an_email_but_a_later_email_is() -> None:
    text = "https://bob:pa55word@mail.example.com/login?user=bob@example.com"
    assert found(text) == [("secret", "pa55word"), ("email", "bob@example.com")]


def test_card_next_to_phone() -> None:
    text = "card 4111 1111 1111 1111 (415) 555-2671"
    assert found(text) == [("card", "4111 1111 1111 1111"), ("phone", "(415) 555-2671")]
    text = "4111111111111111,+14155552671"
    assert found(text) == [("card", "4111111111111111"), ("phone", "+14155552671")]


def test_invalid_card_digits_are_not_read_as_phones() -> None:
    assert found("tracking 9400 1234 0011 5059 5898 37 ok") == []


def test_every_type_in_one_text_with_correct_spans() -> None:
    values = [
        ("email", "ines.rossi@example.com"),
        ("phone", "+44 20 7946 0958"),
        ("card", "5555-5555-5555-4444"),
        ("ssn", "123-45-6789"),
        ("iban", "DE89 3704 0044 0532 0130 00"),
        ("ip", "203.0.113.45"),
        ("secret", "AKIAIOSFODNN7EXAMPLE"),
    ]
    text = "; ".join(f"{etype}: {value}" for etype, value in values)
    result = Redactor().redact(text)
    assert [(f.type.value, text[f.start : f.end]) for f in result.findings] == values
    assert result.text == "; ".join(f"{etype}: [{etype.upper()}_REDACTED]" for etype, _ in values)


def test_text_without_pii_is_returned_unchanged() -> None:
    text = "Please summarise the attached notes in 3 bullet points by 17:00."
    result = Redactor().redact(text)
    assert result.text is text
    assert result.findings == []


def test_non_ascii_text_keeps_its_offsets() -> None:
    text = "Grüße an José — schreib an josé.garcía@example.com oder jose@example.com ☺"
    assert found(text) == [
        ("name", "José"),  # a greeting's name: masked since names are (issue 12)
        ("email", "josé.garcía@example.com"),
        ("email", "jose@example.com"),
    ]


# --- findings never carry the value --------------------------------------------------------------


def test_finding_holds_no_value() -> None:
    finding = Redactor().redact("mail alice@example.com").findings[0]
    assert "alice" not in repr(finding)
    assert not hasattr(finding, "value")
    assert finding.as_dict() == {"type": "email", "start": 5, "end": 22, "kind": None}


# --- pseudonyms ---------------------------------------------------------------------------------


def test_pseudonyms_are_consistent_within_an_interaction() -> None:
    redactor = Redactor(mode="pseudonym")
    system = redactor.redact("Operator: alice@example.com, +1 415-555-2671").text
    turn = redactor.redact("Ask ALICE@example.com or bob@example.com; call (415) 555-2671").text
    response = redactor.redact("I emailed bob@example.com.").text
    assert system == "Operator: [EMAIL_1], [PHONE_1]"
    assert turn == "Ask [EMAIL_1] or [EMAIL_2]; call [PHONE_1]"
    assert response == "I emailed [EMAIL_2]."


def test_pseudonyms_normalise_cards_and_ips() -> None:
    redactor = Redactor(mode="pseudonym")
    text = "4111 1111 1111 1111 = 4111-1111-1111-1111; 2001:db8::1 = 2001:0DB8:0:0:0:0:0:1"
    assert redactor.redact(text).text == "[CARD_1] = [CARD_1]; [IP_1] = [IP_1]"


def test_new_interaction_restarts_numbering() -> None:
    redactor = Redactor(mode="pseudonym")
    assert redactor.redact("a@example.com b@example.com").text == "[EMAIL_1] [EMAIL_2]"
    redactor.new_interaction()
    assert redactor.redact("b@example.com").text == "[EMAIL_1]"


def test_scopes_are_independent_interactions() -> None:
    redactor = Redactor(mode="pseudonym")
    with redactor.scope() as first, redactor.scope() as second:
        assert first.redact("x@example.com y@example.com").text == "[EMAIL_1] [EMAIL_2]"
        assert second.redact("y@example.com").text == "[EMAIL_1]"
        assert first.redact("y@example.com").text == "[EMAIL_2]"
    assert redactor.redact("y@example.com").text == "[EMAIL_1]"


def test_token_mode_is_the_default_and_redactor_repr_is_safe() -> None:
    assert redact("mail a@example.com now") == "mail [EMAIL_REDACTED] now"
    redactor = Redactor(mode="pseudonym")
    redactor.redact("secret@example.com")
    assert "secret" not in repr(redactor)


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        Redactor(mode="hash")  # type: ignore[arg-type]


# --- lines and streams --------------------------------------------------------------------------


def test_redact_lines_masks_a_pem_block_spread_over_lines() -> None:
    lines = ["before\n", *(line + "\n" for line in PEM.splitlines()), "after a@example.com\n"]
    results = list(redact_lines(lines))
    assert [r.text for r in results] == [
        "before\n",
        "[SECRET_REDACTED]\n",
        "[SECRET_REDACTED]\n",
        "[SECRET_REDACTED]\n",
        "[SECRET_REDACTED]\n",
        "after [EMAIL_REDACTED]\n",
    ]
    assert all(r.findings[0].kind == "private_key" for r in results[1:5])
    pseudonymised = list(redact_lines(lines, Redactor(mode="pseudonym")))
    assert [r.text for r in pseudonymised[1:5]] == ["[SECRET_1]\n"] * 4
    assert pseudonymised[5].text == "after [EMAIL_1]\n"


def test_redact_stream_writes_text() -> None:
    infile = io.StringIO("call 415-555-2671\nnothing here\nmail a@example.com\n")
    outfile = io.StringIO()
    count = redact_stream(infile, outfile, as_json=False, mode="token")
    assert count == 2
    assert outfile.getvalue() == "call [PHONE_REDACTED]\nnothing here\nmail [EMAIL_REDACTED]\n"


def test_redact_stream_writes_one_json_object_per_line() -> None:
    infile = io.StringIO("mail a@example.com\r\nagain a@example.com or b@example.com\nplain")
    outfile = io.StringIO()
    count = redact_stream(infile, outfile, as_json=True, mode="pseudonym")
    records = [json.loads(line) for line in outfile.getvalue().splitlines()]
    assert count == 3
    assert records == [
        {
            "text": "mail [EMAIL_1]",
            "findings": [{"type": "email", "start": 5, "end": 18, "kind": None}],
        },
        {
            "text": "again [EMAIL_1] or [EMAIL_2]",
            "findings": [
                {"type": "email", "start": 6, "end": 19, "kind": None},
                {"type": "email", "start": 23, "end": 36, "kind": None},
            ],
        },
        {"text": "plain", "findings": []},
    ]


def test_redact_stream_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="mode"):
        redact_stream(io.StringIO(""), io.StringIO(), as_json=False, mode="blur")


# --- the labelled corpus ------------------------------------------------------------------------


def test_corpus_file_is_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS.with_name("make_corpus.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.make_corpus() == load_corpus()


@pytest.fixture(scope="module")
def corpus_scores() -> dict[str, dict[str, float]]:
    return score(ours(), load_corpus())


@pytest.mark.parametrize("etype", TYPES)
def test_corpus_precision_and_recall(etype: str, corpus_scores: dict) -> None:
    row = corpus_scores[etype]
    assert row["gold"] >= 150, row
    wrong = [m for m in misses(ours(), load_corpus()) if m[1] == etype][:5]
    assert row["precision"] >= 0.99, (row, wrong)
    assert row["recall"] >= 0.99, (row, wrong)


def test_corpus_labels_point_at_their_values() -> None:
    for record in load_corpus()[:300]:
        for entity in record["entities"]:
            value = record["text"][entity["start"] : entity["end"]]
            assert value and value == value.strip(), (record["id"], entity)
