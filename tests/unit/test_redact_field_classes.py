"""Format classes read off the field corpus's read half (issue 12, second structured pass):
national identifiers of many countries in prose and SQL dumps, URL-encoded values, connection
strings, Markdown tables. Each value here is made up for the test, not copied from the corpus."""

from __future__ import annotations

import pytest

from console.services.redact import Redactor


def found(text: str) -> list[tuple[str, str, str | None]]:
    return [(f.type.value, text[f.start : f.end], f.kind) for f in Redactor(engine="structured").find(text)]


# (words before, identifier, kind): each only reaches the checker through the scan.
NAMED_IN_PROSE = [
    ("our records show HETU ", "131052-308T", "fi_hetu"),
    ("our records show HETU ", "131052A308T", "fi_hetu"),
    ("our records show PPS Number ", "6433435F", "ie_pps"),
    ("Identification on file: Cartão de Cidadão ", "00000000 0 ZZ4", "pt_cc"),
    ("Identification on file: rodné číslo ", "710319/2745", "cz_rc"),
    ("our records show Rijksregisternummer ", "85.07.30-033.28", "be_nn"),
    ("AHV-Nr. ", "756.9217.0769.85", "ch_ssn"),
    ("RUT ", "12.531.909-2", "cl_rut"),
    ("Identification on file: PESEL ", "44051401359", "pl_pesel"),
    ("our records show 個人番号 ", "6214 9832 0257", "jp_mynumber"),
    ("Identification on file: ΑΜΚΑ ", "01013099997", "gr_amka"),
    ("PAN: ", "ACUPA7085R", "in_pan"),
    ("National Insurance number: ", "AB 12 34 56 C", "gb_nino"),
    ("NINO ", "AB123456C", "gb_nino"),
]


@pytest.mark.parametrize(("before", "value", "kind"), NAMED_IN_PROSE)
def test_an_identifier_named_in_prose_is_masked_whole(before, value, kind):
    assert found(f"Please bring your ID card; {before}{value}.\nThanks") == [
        ("national_id", value, kind)
    ]


@pytest.mark.parametrize(
    ("value", "kind"),
    [("X-2482300-W", "es_nie"), ("X2482300W", "es_nie"), ("BOXW310820HNERXN09", "mx_curp")],
)
def test_capital_led_identifiers_with_a_check_need_no_cue(value, kind):
    assert found(f"Customer {value} moved.") == [("national_id", value, kind)]


@pytest.mark.parametrize(
    "text",
    [
        "Order ID: 44051401359 shipped.",  # a valid PESEL, but "ID:" is an order number's word
        "Product code ACUPA7085R is back in stock.",  # PAN's layout without its word
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
        "NIE X2482300A is a typo.",  # fails NIE's check letter
    ],
)
def test_look_alikes_are_kept(text):
    assert [f for f in found(text) if f[0] == "national_id"] == []


SQL = (
    "INSERT INTO `customers` (`id`, `full_name`, `phone`, `national_id`, `created_at`) VALUES\n"
    "(1,'Ann, Lee','11.2306.2341','ACUPA7085R','2025-01-16 12:06:44'),\n"
    "(2,'Bo','21 81 55 07','131052-308T','2025-01-17 08:00:00');"
)


def test_an_sql_insert_column_names_its_values():
    assert found(SQL) == [
        ("phone", "11.2306.2341", None),
        ("national_id", "ACUPA7085R", "in_pan"),
        ("phone", "21 81 55 07", None),
        ("national_id", "131052-308T", "fi_hetu"),
    ]


def test_a_column_of_another_name_is_not_a_cue():
    sql = SQL.replace("`phone`", "`ref`").replace("`national_id`", "`sku`")
    assert [f for f in found(sql) if f[0] in ("phone", "national_id")] == []


def test_url_encoded_email_phone_and_card_in_a_form_body():
    body = (
        "first_name=Ann&email=ann.lee%2Bnews%40example.com&phone=%2B45+34+41+00+28"
        "&card_number=4111+1111+1111+1111&ts=1780210993&qty=12345678"
    )
    assert found(body) == [
        ("email", "ann.lee%2Bnews%40example.com", None),
        ("phone", "%2B45+34+41+00+28", "form_field"),
        ("card", "4111+1111+1111+1111", "visa"),
    ]


def test_an_encoded_address_keeps_the_pseudonym_of_the_plain_one():
    redactor = Redactor(mode="pseudonym")
    masked = redactor.redact("to=ann%40example.com and ann@example.com").text
    assert masked == "to=[EMAIL_1] and [EMAIL_1]"


def test_a_connection_string_host_address_and_a_password_with_a_hash():
    text = "DATABASE_URL = 'postgresql://app_rw:Pa#ssW0rd99@10.3.57.86:5432/orders'"
    assert found(text) == [
        ("secret", "Pa#ssW0rd99", "url_password"),
        ("ip", "10.3.57.86", "ipv4"),
    ]


def test_a_markdown_table_phone_column():
    table = (
        "| Name | E-mail | Phone | City |\n|---|---|---|---|\n"
        "| Alf | alf@example.dk | 32 14 39 83 | Aarhus |\n"
    )
    assert ("phone", "32 14 39 83", "csv_column") in found(table)


def test_a_markdown_table_column_of_another_name_is_not_a_phone():
    table = "| Name | Units | City |\n|---|---|---|\n| Alf | 32 14 39 83 | Aarhus |\n"
    assert [f for f in found(table) if f[0] == "phone"] == []


def test_a_slack_app_token():
    token = "xapp-1-64481541954-958954181947-0j0OiuQb4DUj6mcsmZIyk97c"
    assert found(f"the key for staging: {token}\n") == [("secret", token, "slack_token")]


@pytest.mark.parametrize("number", ["352673915579", "091932235373"])
def test_a_tracking_number_is_not_a_phone(number):
    assert found(f"Delivery update\n\nTracking number: {number}\nOrder: ORD-1") == []


def test_the_telephone_sign_names_a_phone_number():
    assert found("Holstgade 7\n1409 Roskilde\n☎ 34 45 54 47\n") [-1:] == [
        ("phone", "34 45 54 47", None)
    ]
