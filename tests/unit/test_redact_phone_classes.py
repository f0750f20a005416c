"""Phone classes read off the phone corpus's read half (fixtures/pii_phones, even ids; issue 12):
numbers a phone plan accepts that are orders', customers', articles' or versions' numbers, and
phone numbers the detector missed or cut short. Each value here is made up for the test, not
copied from the corpus."""

from __future__ import annotations

import pytest

from console.services.redact import Redactor


def found(text: str) -> list[tuple[str, str]]:
    return [(f.type.value, text[f.start : f.end]) for f in Redactor(engine="structured").find(text)]


def phones(text: str) -> list[str]:
    return [value for etype, value in found(text) if etype == "phone"]


# -- hard negatives: a phone plan accepts the digits, the words around them say otherwise -----

NAMED_NOT_PHONES = [
    "Customer ID: 417 2280 93",
    "Nr klienta: 528193047",
    "Klienta Nr. 87215590",
    "Kliendi nr: 714902337105",
    "Kundenr. 806-2213-47",
    "Klantnr. 742 885 193320",
    "N° client: 6184 230 517",
    "N.º de cliente: 744 8120 935",
    "Zamówienie nr 3571 842 660",
    "Pasūtījums Nr. 3917284055",
    "Užsakymo Nr. 55812064",
    "Pöntun nr. 7712049331",
    "Commande n° 61-28-44-93-05-17",
    "Sąskaita 58-12-77-04-31",
    "Tracking number: 702 5518 663904",
    'Invoice: 6120 771503',
    '{"order_ref": "330-714-982"}',
    '{"customer_id": "911 402 6637"}',
    "IBAN/Acc.: 7712.40.55019",
]


@pytest.mark.parametrize("text", NAMED_NOT_PHONES)
def test_a_number_named_as_an_order_or_customer_number_is_not_a_phone(text):
    assert phones(f"Tel. +48 22 612 34 56\n{text}\n") == ["+48 22 612 34 56"]


@pytest.mark.parametrize(
    "text",
    [
        "Ref: 7205 415 555 2671",  # the groups after the first are not a number of their own
        "Ticket: 22 91 06 41 55 79 08",
        "Order no. 93 06 12 34 56 78",
    ],
)
def test_the_tail_of_a_longer_grouped_number_is_not_a_phone(text):
    assert phones(text) == []


def test_a_phone_right_after_a_card_is_still_found():
    text = "Card 4000-4133-5133-8519 0161 747 2960."
    assert found(text) == [("card", "4000-4133-5133-8519"), ("phone", "0161 747 2960")]


def test_a_version_under_a_version_key_is_not_a_phone():
    assert phones('{"phone": "+49 30 901820", "app_version": "10.0.22631.4317"}') == [
        "+49 30 901820"
    ]


def test_a_coordinate_near_a_phone_word_is_not_a_phone():
    assert phones("☎ +31 20 123 4567\nGPS 52.37403, 104.88969\n") == ["+31 20 123 4567"]


def test_a_phone_written_with_one_dot_is_still_a_phone():
    assert phones("Mobile: 041.2345678") == ["041.2345678"]


def test_an_article_number_is_neither_a_card_nor_a_phone():
    assert found("  3 × EAN 5901234123457  12,40 zł\nISBN 978-3-16-148410-0\n") == []


def test_a_brazilian_postcode_is_not_a_phone():
    assert phones('{"callback": "(11) 2345-6789", "postcode": "01310-100"}') == ["(11) 2345-6789"]


@pytest.mark.parametrize(
    "table",
    [
        "id,name,mobile,order_id\n1,Ann Lee,+1 415 555 2671,4850-6753\n",
        "| Name | Contact | Order no. |\n|---|---|---|\n| Ann Lee | +1 415 555 2671 | 212 555 0143 |\n",
    ],
)
def test_a_number_under_an_order_column_is_not_a_phone(table):
    assert phones(table) == ["+1 415 555 2671"]


def test_customer_id_names_no_national_identifier():
    assert found("Customer ID: 8937862\nRef. 51913559\n") == []


def test_a_csv_field_after_a_phone_is_not_its_decimal_part():
    # '42,63' reads like a decimal; the groups after it say it is the next field.
    assert phones("3,Jonas Hof,0301 323 42,63 67 92 89 017 01,x\n") == ["0301 323 42"]
    assert phones("2,Réka Farkas,06 30 123 4567,74-66-13-23-43,x\n")[0] == "06 30 123 4567"


# -- phone words of more languages: a national number without its country code is masked -----

CUED_IN_OTHER_LANGUAGES = [
    ("Llámame al ", "622 18 40 97", " esta tarde."),
    ("Zvani man uz ", "22 418 905", "."),
    ("Πάρε με στο ", "97 40 18 22", "."),
    ("Appelle-moi au ", "621 840 977", " si besoin."),
    ("Zavolej mi na ", "602 418 905", "."),
    ("Liga-me para o ", "916 402 118", "."),
    ("Helista mulle numbril ", "52 418 905", "."),
    ("Zadzwoń do mnie pod numer ", "601 402 118", "."),
    ("有事打", "6140 2118", "搵我。"),
    ("Tālr.: ", "67 418 905", "\n"),
    ("Sími: ", "520-40-18", "\n"),
    ("Farsími: ", "662 4018", "\n"),
    ("Faks: ", "224189054", "\n"),
    ("Kom.: ", "601 402 118", "\n"),
    ("Mobil: ", "41-84-09-77", "\n"),
    ("Τηλ.: ", "24 418905", "\n"),
    ("Kontakt:\n- Kari Lie — ", "41 84 09 77", "\n"),
    ('{"msisdn": "', "622 18 40 97", '"}'),
]


@pytest.mark.parametrize(("before", "value", "after"), CUED_IN_OTHER_LANGUAGES)
def test_a_national_number_after_a_phone_word_of_another_language(before, value, after):
    assert phones(before + value + after) == [value]


@pytest.mark.parametrize("text", ["Numer przesyłki: 6873 1747 20", "Viðskiptanr. 6162 3997"])
def test_a_shipment_or_customer_number_after_a_numer_word_is_not_a_phone(text):
    assert phones(text) == []


# -- columns: a header that says how to reach someone, in more languages ----------------------

@pytest.mark.parametrize("header", ["Contact", "Contacto", "Kontakt", "Reach", "Tlf", "Tālr", "Sími",
                                    "Επικοινωνία"])
def test_a_number_under_a_contact_column_of_a_markdown_table(header):
    table = f"| Name | {header} | Order no. |\n|---|---|---|\n| Kari Lie | 41 84 09 77 | 7712049 |\n"
    assert phones(table) == ["41 84 09 77"]


def test_a_contact_id_column_is_not_a_phone_column():
    # (Rows far enough below the header that its words are no cue of their own.)
    rows = "".join(f"| Kari Lie Nordmann-Haugen {i} | 4184097{i} | 2024 |\n" for i in range(3))
    table = "| Name | Contact ID | Date |\n|---|---|---|\n" + rows
    assert phones(table) == []


def test_quoted_commas_do_not_hide_a_csv_phone_column():
    # The amounts' decimal commas are inside quotes: each row still has the header's columns.
    csv = (
        "id,name,contact,order_id,amount\n"
        '1,Kari Lie,41 84 09 77,7712049331,"€5,08"\n'
        '2,Ola Nor,92 40 18 22,5512049331,"€1 925,62"\n'
    )
    assert phones(csv) == ["41 84 09 77", "92 40 18 22"]


# -- a call abroad without separators, and the text of a tel: link -----------------------------

@pytest.mark.parametrize("value", ["0046701234567", "0048601402118", "0034622184097"])
def test_a_compact_call_abroad_that_is_a_valid_number(value):
    assert phones(f"- Kari Lie — {value}\n") == [value]


@pytest.mark.parametrize("value", ["0012345678", "0099812345678", "0000123456789"])
def test_a_compact_00_run_that_is_no_valid_number_is_not_a_phone(value):
    assert phones(f"- id {value}\n") == []


def test_the_text_of_a_tel_link_is_a_phone():
    html = '<p><a href="tel:+47-41-84-09-77">41840977</a></p>'
    assert phones(html) == ["+47-41-84-09-77", "41840977"]


# -- no phone word: a national number of a country whose '+' numbers are written nearby --------

def test_a_signature_line_of_the_same_country_as_an_international_number():
    text = "Kind regards\nInês Costa\nHalcyon Lda.\n+351 912 352 411\n21 345 6789\n"
    assert phones(text) == ["+351 912 352 411", "21 345 6789"]


def test_a_contact_list_mixing_international_and_national_numbers():
    text = "- Kari Lie — +47 41 84 09 77\n- Ola Berg — 92401822\n- Per Dahl: 22-40-18-22\n"
    assert phones(text) == ["+47 41 84 09 77", "92401822", "22-40-18-22"]


def test_without_an_international_number_nearby_a_bare_national_number_is_left():
    assert phones("- Ola Berg — 92401822\n") == []


@pytest.mark.parametrize(
    "line",
    [
        "Population 2 311 206",  # thousands of a count
        "Value recorded: 531-00-1578",  # an SSN's shape, never anything else
        "# pinned 1602198377",  # a ten-digit epoch time alone on its line
        "Tiket: 388483411",
        "Sendungsnummer: 671670543",
        "Re: 47-16-531-53",
    ],
)
def test_a_nearby_international_number_does_not_make_these_phones(line):
    assert phones(f"Kari Lie, +48 22 612 34 56\n{line}\n") == ["+48 22 612 34 56"]


# -- second round: phones by their layout, with no phone word and no '+' number near them ------

LAID_OUT_PHONES = [
    # a contact block's one-letter or short label, at a line's start or after a column gap
    ("Jan Kowalczyk\nM 603 118 274  T 22 615 40 91\n", "603 118 274"),
    ("Jan Kowalczyk\nM 603 118 274  T 22 615 40 91\n", "22 615 40 91"),
    ("Ingrid Berg\nMob. 4471 2231\n", "4471 2231"),
    ("Pia Holm\nM 42.71.18.93\n", "42.71.18.93"),
    # four dotted pairs in a CSV phone column
    ("id,name,phone\n7,Pia Holm,42.71.18.93\n", "42.71.18.93"),
    # an SMS gateway's log: a time stamp, the direction, the number
    ('2024-11-03T08:14:55Z FROM 7813904452 len=31 "Your PIN is 5521"\n', "7813904452"),
    ("20241103T081455 -> 4471823390 len=12\n", "4471823390"),
    ("2024-11-03 08:14:55 <- 61739022 len=8\n", "61739022"),
    # a chat message that is the number alone
    ("[10:41] Sanna Virtanen: 40 713 2291\n", "40 713 2291"),
    # (four pairs with dots: an IPv4 address with a group of three stays an address)
    ("[08h05] Kofi Mensah: 44.81.37.70\n", "44.81.37.70"),
    # alone on its line under a signature's name and company
    ("Med vennlig hilsen\nKari Lunde\nFjelltopp AS\n917 44 302\n", "917 44 302"),
    ("--\nNiamh Byrne\nBrightwater Ltd\n87 614 2290\n", "87 614 2290"),
    # a phone word a few words back on the same line
    ("  callback asked for by 41798812345 at noon\n", "41798812345"),
]


@pytest.mark.parametrize(("text", "phone"), LAID_OUT_PHONES)
def test_a_number_laid_out_as_a_phone_is_one(text: str, phone: str) -> None:
    assert phone in phones(text)


LAID_OUT_NOT_PHONES = [
    # a direction without a time stamp leading its line, and a lower-case 'to' (a transfer)
    "job 4471823390 -> 5512009871 done\n",
    "2024-11-03 08:14 transferred 300 EUR to 44718233\n",
    # a one-letter label glued to a time or inside a word
    "2024-11-03T61739022\n",
    "DATA 61739022\n",
    # a run without separators alone on a signature's line, or a count
    "Kari Lunde\nFjelltopp AS\n91744302\n",
    "Kari Lunde\nFjelltopp AS\n1 234 567\n",
    # a digit on the lines above: not a signature
    "Invoice 4471\nFjelltopp AS\n917 44 302\n",
    # a chat message with more than the number, an order's number in a chat
    "[10:41] Sanna Virtanen: box 40 713 2291 arrived\n",
    "[10:41] Sanna Virtanen: order no. 40 713 2291\n",
    # a phone word with a number between it and the run
    "call 2 of 5, session 41798812345\n",
]


@pytest.mark.parametrize("text", LAID_OUT_NOT_PHONES)
def test_a_number_not_laid_out_as_a_phone_is_not_one(text: str) -> None:
    assert not phones(text)


def test_a_luhn_valid_order_number_is_not_a_card() -> None:
    # 4000 0000 0000 0002 passes Luhn: named an order's number, it is not a card.
    assert found("Order no. 4000000000000002") == []
    assert found("Card no. 4000000000000002") == [("card", "4000000000000002")]


def test_an_address_in_a_csv_host_column_stays_an_address() -> None:
    assert found("id,host\n7,42.71.18.93\n") == [("ip", "42.71.18.93")]


@pytest.mark.parametrize(("text", "phone"), [
    ("2025-03-18 — Follow-up: A. Tyczka (IT lead, 800 128 246)\n", "800 128 246"),
    ("Spoke with Inga Holm (procurement, 21 81 55 07) about the renewal.", "21 81 55 07"),
    ("Meeting w/ ZELMA POULSEN (CFO, 34 41 81 15)", "34 41 81 15"),
])
def test_a_number_closing_a_persons_aside_is_a_phone(text: str, phone: str) -> None:
    assert phones(text) == [phone]


@pytest.mark.parametrize("text", [
    "Invoice (March, 4021 3378 90) was paid",
    "Acme Corp (invoice, 4021 3378 90)",
    "Jan Nowak (order no, 4021 3378 90)",
    "the table (Q3, 21 81 55 07)",
])
def test_an_aside_that_is_no_persons_contact_keeps_its_number(text: str) -> None:
    assert phones(text) == []
