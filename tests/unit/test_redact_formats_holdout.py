"""Format families found while reading fixtures/pii_holdout's misses (issue 12): one test per
family, with values of our own rather than the corpus's."""

from __future__ import annotations

import pytest

from console.services.redact import Redactor


def found(text: str, engine: str = "structured") -> list[tuple[str, str]]:
    return [(f.type.value, text[f.start : f.end]) for f in Redactor(engine=engine).find(text)]


# --- CSV exports ------------------------------------------------------------------------------


def test_a_comma_after_a_number_starts_the_next_csv_field() -> None:
    # The next field (an IP, an IPv6, a date) is not a continuation of the number.
    row = "81,Ines Moura,ines@example.org,+49 1512 3456789,198.51.100.7,04.11.2024"
    assert found(row) == [
        ("email", "ines@example.org"),
        ("phone", "+49 1512 3456789"),
        ("ip", "198.51.100.7"),
    ]
    row = "82,Jan Kowal,jan@example.org,+48 22 123 45 67,2001:db8:aa:1::17,05.11.2024"
    assert ("phone", "+48 22 123 45 67") in found(row)
    assert ("ip", "2001:db8:aa:1::17") in found(row)


def test_a_field_after_a_numeric_field_is_read() -> None:
    assert found("id,ip\n40312,203.0.113.58\n") == [("ip", "203.0.113.58")]


@pytest.mark.parametrize(
    ("table", "phones"),
    [
        (
            "user_id,display_name,phone_number,plan\n"
            "7,Ana,612 34 56 78,pro\n"
            "8,Ben,21 234 5678,free\n",
            ["612 34 56 78", "21 234 5678"],
        ),
        ("id;Name;Telefon;Ort\n1;Eva;\"0711 1234567\";Ulm\n", ["0711 1234567"]),
        ("id\tmobile\tcity\n3\t40 61 23 45\tOslo\n", ["40 61 23 45"]),
        ("ref, customer, Tel.\nA-1, Lee, 0912 345 678\n", ["0912 345 678"]),
    ],
)
def test_numbers_in_a_csv_column_headed_phone(table: str, phones: list[str]) -> None:
    assert [value for kind, value in found(table) if kind == "phone"] == phones


def test_numbers_in_other_csv_columns_stay() -> None:
    table = "id,amount,qty\n1,612 345 678,3\n2,21 234 5678,4\n"
    assert found(table) == []


# --- phone numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["00 44 20 7946 0321", "0049 30 12345678", "011 33 1 42 68 53 00", "0011 61 2 9876 5432"],
)
def test_numbers_dialled_from_abroad(number: str) -> None:
    assert found(f"Bitte rufen Sie {number} an.") == [("phone", number)]


@pytest.mark.parametrize("text", ["batch 0012345678 archived", "ref 00 1 234 5678 noted"])
def test_ids_after_00_and_local_only_lengths_stay(text: str) -> None:
    # A bare digit run, and '+1 234 5678' (no area code) are not whole numbers dialled abroad.
    assert found(text) == []


def test_an_011_number_that_is_not_a_call_abroad_is_read_as_national() -> None:
    # Buenos Aires: area code 011.
    assert found("Oficina 011 4321-9876 de lunes a viernes") == [("phone", "011 4321-9876")]


@pytest.mark.parametrize("number", ["(06 1) 345 6789", "(0-612) 98765", "(0-5) 212 3456"])
def test_a_trunk_prefix_inside_the_area_code_brackets(number: str) -> None:
    assert found(f"Mobile: {number}") == [("phone", number)]


@pytest.mark.parametrize("number", ["01 987654321", "081234 56789"])
def test_long_groups_after_a_trunk_zero(number: str) -> None:
    # Vienna's one-digit area code before nine digits; an Indian mobile after its trunk 0.
    assert found(f"The desk is on {number} today.") == [("phone", number)]


@pytest.mark.parametrize("number", ["(21) 3456-7890", "(4) 3456 7890", "8 (495) 123-45-67"])
def test_an_area_code_in_brackets_is_a_phone_number_by_its_look(number: str) -> None:
    assert found(f"Atendimento {number} em horário comercial") == [("phone", number)]


@pytest.mark.parametrize("text", ["published (2021) 3456 7890", "(123) 456-7890"])
def test_years_in_brackets_and_impossible_north_american_numbers_stay(text: str) -> None:
    assert found(f"Noted: {text}.") == []


@pytest.mark.parametrize(
    ("text", "number"),
    [("Tlf. 33.12.45.67", "33.12.45.67"), ("Ph: 0412 987 654", "0412 987 654"),
     ("Mob: 555-0148", "555-0148")],
)
def test_abbreviated_phone_words(text: str, number: str) -> None:
    assert found(text) == [("phone", number)]


def test_four_pairs_of_digits_after_a_phone_word_are_a_phone_number() -> None:
    assert found("telefon 40.61.23.45") == [("phone", "40.61.23.45")]
    assert found("gateway 40.61.23.45") == [("ip", "40.61.23.45")]


def test_japanese_postcodes_are_not_phone_numbers() -> None:
    assert found("〒150-0041 東京都渋谷区神南1-2-3") == []
    assert found("送付先 160-0022 新宿区") == []


# --- cards and identifiers --------------------------------------------------------------------


def test_a_luhn_valid_number_called_a_card_is_a_card_in_any_layout() -> None:
    # 2799… lies outside every issuer range we list; the word says what it is.
    assert found("charged to card 2799000000000001.") == [("card", "2799000000000001")]
    assert found("reference 2799000000000001.") == []


def test_cards_grouped_with_dots() -> None:
    assert found("card 5105.1051.0510.5100 exp") == [("card", "5105.1051.0510.5100")]


@pytest.mark.parametrize("card", ["2200 0000 0000 0004", "8100 0000 0000 0002"])
def test_mir_and_rupay_cards(card: str) -> None:
    assert found(f"paid {card} ok") == [("card", card)]


def test_an_id_word_makes_a_valid_phone_number_the_identifier() -> None:
    # A CPF without punctuation is also a valid Italian landline number.
    assert found("CPF 03982597986") == [("national_id", "03982597986")]
    assert found("tel 03982597986") == [("phone", "03982597986")]


# --- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("DB_PASSWORD=Zq!8#vLm%2pQ", "Zq!8#vLm%2pQ"),
        ("REDIS_PASSWORD=KwpRtXbnQzLmVy", "KwpRtXbnQzLmVy"),
        ("SMTP_PASS=Gr&en-Lamp7", "Gr&en-Lamp7"),
        ('{"password": "purple monkey dishwasher"}', "purple monkey dishwasher"),
        ("Server=sql1;User Id=app;Password=Wx9;k2LmQ!;Encrypt=true", "Wx9;k2LmQ!"),
        ("GET /login?user=eve&pwd=f00Bar-baz42&next=/home", "f00Bar-baz42"),
    ],
)
def test_password_values_with_any_character(line: str, value: str) -> None:
    assert found(line) == [("secret", value)]


@pytest.mark.parametrize(
    "line",
    [
        'password: "${DB_PASSWORD}"',
        "password=<your-password>",
        "DB_PASSWORD=********",
        "api_key=YOUR_API_KEY_HERE",
        "client_secret: my-service-secret",
        "bypass=enabled-for-tests",
        "password: required",
    ],
)
def test_placeholders_and_words_under_secret_keys_stay(line: str) -> None:
    assert found(line) == []


def test_words_under_token_keys_stay_but_any_password_is_masked() -> None:
    # A token needs a digit to look random; a password is masked whatever it looks like.
    assert found("session_token: NotAvailableYet") == []
    assert found("db_password: NotAvailableYet") == [("secret", "NotAvailableYet")]


def test_azure_account_keys() -> None:
    line = "DefaultEndpointsProtocol=https;AccountKey=dGhpcyBpcyBub3QgYSByZWFsIGtleQ==;x=y"
    assert found(line) == [("secret", "dGhpcyBpcyBub3QgYSByZWFsIGtleQ==")]


@pytest.mark.parametrize(
    ("header", "credentials"),
    [
        ("Authorization: Basic YWxpY2U6d29uZGVybGFuZDEy", "YWxpY2U6d29uZGVybGFuZDEy"),
        ("authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
         "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"),
    ],
)
def test_basic_and_token_authorization_headers(header: str, credentials: str) -> None:
    assert found(f"curl -H '{header}' https://api.example.net") == [("secret", credentials)]


def test_openpgp_private_key_blocks() -> None:
    block = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBGZ0\n=Ab12\n-----END PGP PRIVATE KEY BLOCK-----"
    assert found(f"key:\n{block}\nthanks") == [("secret", block)]


def test_token_as_a_word_after_a_colon_stays() -> None:
    assert found("Status: token verificationpending for now") == []


@pytest.mark.parametrize(
    "token",
    [
        "sk_live_51HqLyjWDarjtT1zdp7dcXYZ",
        "rk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "hf_kLmNoPqRsTuVwXyZaBcDeFgHiJkLmNoPq1",
        "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "glpat-xY12zW34vU56tS78rQ90",
    ],
)
def test_tokens_with_an_issuer_prefix(token: str) -> None:
    assert found(f"leaked {token} in the log") == [("secret", token)]


def test_prefix_words_without_a_token_stay() -> None:
    assert found("the sk_live_ and hf_ prefixes; my_sk_live_4eC39HqLyjWDarjtT1zdp7dc") == []
