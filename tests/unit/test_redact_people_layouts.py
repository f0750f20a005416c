"""Issue 12, fourth pass: names and addresses in the layouts of pasted records (ticket headers,
CRM notes, chat exports, vCards, form bodies, Markdown tables, bullet lists, sign-offs in other
languages) and the postcode-and-city lines of more countries; with the look-alikes each class
must leave alone. The examples are made up for these tests."""

from __future__ import annotations

import pytest

from console.services.redact import Redactor
from console.services.redaction import people


def found(text: str, etype: str) -> list[str]:
    return [text[f.start : f.end] for f in Redactor().find(text) if f.type.value == etype]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # Ticket and CRM cues, with an initial, a surname in capitals or everything in capitals.
        ("Requester: T. Okonkwo-Varga <tov@example.org>\nChannel: email", ["T. Okonkwo-Varga"]),
        ("2025-03-02 - Follow-up: HALVORSRUD Signe (CFO, ext 12)", ["HALVORSRUD Signe"]),
        ("2025-03-02 - Meeting w/ B. Thistlewood (procurement)", ["B. Thistlewood"]),
        ("Spoke with ORIEL BRACKWATER about the renewal.", ["ORIEL BRACKWATER"]),
        ("Name of taxpayer: QUENBY THISTLEWOOD\nSSN: 123-45-6789", ["QUENBY THISTLEWOOD"]),
        ("DELIVER TO\nBRACKWATER Oriel\n", ["BRACKWATER Oriel"]),
        # Chat exports: mentions, speaker lines with a 12-hour time, dated speakers.
        ("Hilary Thistlewood  9:41 AM\n@Oriel Brackwater can you check the quota?",
         ["Hilary Thistlewood", "Oriel Brackwater"]),
        ("[14/08/2025 20:07] Ορέστης Βλαχογιάννης: on it", ["Ορέστης Βλαχογιάννης"]),
        # Japanese names after a cue, in a mention and after a sign-off.
        ("- [ ] update runbook — owner: 佐々木春香\n", ["佐々木春香"]),
        ("ok\n@山本 一郎 can you check?", ["山本 一郎"]),
        ("Cheers,\n山本 一郎\n", ["山本 一郎"]),
        # Sign-offs of other languages, with or without a comma and a blank line.
        ("Thanks for the help.\n\nMvh\nØrnulv\n", ["Ørnulv"]),
        ("Yours sincerely,\n\nΑνδρομάχη Ζαχαρίου\nClient Relations\n", ["Ανδρομάχη Ζαχαρίου"]),
        # A given name alone on a message's last line.
        ("The checklist is updated.\n\nMargarethe\n", ["Margarethe"]),
        # Lists of people: bold labels, bullets, items of every form.
        ("**Attendees:** Oriel Brackwater, 山本 一郎, S. Thistlewood, QUENBY VARDY, VARDY Ines\n",
         ["Oriel Brackwater", "山本 一郎", "S. Thistlewood", "QUENBY VARDY", "VARDY Ines"]),
        ("Attendees:\n- Oriel Brackwater (Legal)\n- Ανδρομάχη Ζαχαρίου (Support)\n\n## Notes",
         ["Oriel Brackwater", "Ανδρομάχη Ζαχαρίου"]),
        # Surname first with its particles; Japanese display names.
        ("Requester: de la Fuente, Oriel <ob@example.org>", ["de la Fuente, Oriel"]),
        ('{"user": {"display_name": "山本 一郎"}}', ["山本 一郎"]),
        ("From: 山本 一郎 <ichiro@example.org>", ["山本 一郎"]),
        # Dutch and Italian titles in a greeting: the name is what follows them.
        ("Dear Meneer Brackwater,\n\nYour card is ready.", ["Brackwater"]),
        ("Dear Sig.ra Brackwater,\n", ["Brackwater"]),
        # "binti" between the names.
        ("Requester: Nurul binti Zakaria <nz@example.org>", ["Nurul binti Zakaria"]),
    ],
)
def test_name_layouts(text: str, names: list[str]) -> None:
    assert found(text, "name") == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # Greek and Cyrillic given names of the gazetteer, with no cue at all.
        ("Commit 46386d9 has the checklist.\n\nΟρέστης Κρεμμύδας\n", ["Ορέστης Κρεμμύδας"]),
        ("Вчера звонила Анастасия Кузнецова.", ["Анастасия Кузнецова"]),
    ],
)
def test_names_of_other_scripts(text: str, names: list[str]) -> None:
    assert found(text, "name") == names


def test_other_scripts_stay_out_of_the_main_automaton() -> None:
    # Their names anchor through an automaton of their own, built only for text in their script.
    assert "Ορέστης" in people.given_names() and "Ορέστης" not in people.anchor_given()
    assert people.anchors("Ορέστης Κρεμμύδας")[0] == [0]


def test_vcard_names_and_address() -> None:
    text = (
        "BEGIN:VCARD\nVERSION:3.0\nN:Brackwater;Oriel;;;\nFN:Oriel Brackwater\n"
        "ADR;TYPE=HOME:;;Tulpstraat 5;3309 NX Terschelling;NL\nEND:VCARD\n"
    )
    assert found(text, "name") == ["Brackwater", "Oriel", "Oriel Brackwater"]
    assert found(text, "address") == ["Tulpstraat 5;3309 NX Terschelling"]
    # "N:" outside a vCard is anything.
    assert found("Totals\nN: 42 rows\n", "name") == []


def test_form_fields() -> None:
    text = "first_name=Jo%C3%A3o&last_name=Brackwater&street=Rua+Augusta+15%2C+Lisboa&x=1"
    assert found(text, "name") == ["Jo%C3%A3o", "Brackwater"]
    assert found(text, "address") == ["Rua+Augusta+15%2C+Lisboa"]


def test_markdown_table_name_column() -> None:
    text = (
        "| Name | E-mail | City |\n|---|---|---|\n"
        "| A. Thistlewood | a@example.org | Bergen |\n"
        "| MOURA Oriel | m@example.org | Porto |\n"
        "| 伊藤直人 | i@example.org | Tokyo |\n"
    )
    assert found(text, "name") == ["A. Thistlewood", "MOURA Oriel", "伊藤直人"]


def test_sql_insert_name_column() -> None:
    text = (
        "INSERT INTO `customers` (`id`, `full_name`, `email`) VALUES\n"
        "(1,'Oriel Brackwater','ob@example.org'),\n"
        "(2,'山本 一郎','yi@example.org'),\n"
        "(3,'O''Brien, Quenby',NULL);\n"
        "SELECT `full_name` FROM `customers`;\n"
    )
    assert found(text, "name") == ["Oriel Brackwater", "山本 一郎", "O''Brien, Quenby"]


@pytest.mark.parametrize(
    "text",
    [
        "EMPLOYEE ONBOARDING FORM\n",  # a cue word in capitals before a heading
        "Patient Services\n",  # a department under a signature
        "Summarize:\n---\nPatient name: none given\n",  # a Markdown rule is no signature's "--"
        "GET /subscribe?email=Margarethe_roe%40example.org HTTP/1.1",  # a form value's mailbox
        "Draft the reply @ 10 AM\nSummarize the notes.",
        "Build finished  10:32 AM\nDeploy Bot  10:33 AM\n",  # chat lines of no person
        "| Plan | Price |\n|---|---|\n| Gemini Flash | 10 |\n",  # a table without a name column
    ],
)
def test_layout_look_alikes_are_kept(text: str) -> None:
    assert found(text, "name") == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        # Postcode and city on the next line: DK, PL, PT, SE, GR, AR, TR, FI.
        ("Ship to:\nAna Lee\nHolstgade 12, 2. tv.\n1409 Roskilde\n",
         "Holstgade 12, 2. tv.\n1409 Roskilde"),
        ("ul. Kwiatowa 43\n81-172 Lublin\n", "ul. Kwiatowa 43\n81-172 Lublin"),
        ("Avenida do Mar, 675, 8.º Esq.\n4789-356 Porto\n",
         "Avenida do Mar, 675, 8.º Esq.\n4789-356 Porto"),
        ("Storgatan 26 lgh 1102\n682 62  VÄSTERÅS\n", "Storgatan 26 lgh 1102\n682 62  VÄSTERÅS"),
        ("Ερμού 153\n105 63 Αθήνα\n", "Ερμού 153\n105 63 Αθήνα"),
        ("Calle 79 N° 104\n(3676) Salta\n", "Calle 79 N° 104\n(3676) Salta"),
        ("Akasya Sok. No: 125/24\n32175 Kadıköy/İstanbul\n",
         "Akasya Sok. No: 125/24\n32175 Kadıköy/İstanbul"),
        ("Koivukuja 25 B 6\n91557 Tampere\n", "Koivukuja 25 B 6\n91557 Tampere"),
        # After a comma, inline: CO, CZ.
        ("Ship it to Cra. 56A # 75-48 Int. 4, 767318 Bogotá D.C. today",
         "Cra. 56A # 75-48 Int. 4, 767318 Bogotá D.C."),
        ("they're at Vaňková 1638/56, 254 54 Plzeň if anyone is nearby",
         "Vaňková 1638/56, 254 54 Plzeň"),
        # A country letter before the code (LI), a French "ter", a Dutch "-II".
        ("My address is Feldstrasse 24, FL-9486 Triesen.", "Feldstrasse 24, FL-9486 Triesen"),
        ("they're at 213 ter avenue Brun, 54936 RENNES now", "213 ter avenue Brun, 54936 RENNES"),
        ("they're at Kerkstraat 1226-II, 1468 VG Deventer now",
         "Kerkstraat 1226-II, 1468 VG Deventer"),
        # Argentine units and a CPA code on the next line; an Indian flat with commas between.
        ("Av. Navarro 1110, piso 3 depto B\nC1459NQK CABA\nTel: 011",
         "Av. Navarro 1110, piso 3 depto B\nC1459NQK CABA"),
        ("visit at Flat 165, Shenoy Residency, Barad Layout, Hyderabad 416411\n",
         "Flat 165, Shenoy Residency, Barad Layout, Hyderabad 416411"),
        # Canadian and Irish postcodes after the city.
        ("1288 Fox Crescent, Sherbrooke SK  S8H 6J4.", "1288 Fox Crescent, Sherbrooke SK  S8H 6J4"),
        ("17 Meara Avenue, Galway, W94 6V50.", "17 Meara Avenue, Galway, W94 6V50"),
    ],
)
def test_postcode_and_city_lines(text: str, address: str) -> None:
    assert found(text, "address") == [address]


@pytest.mark.parametrize(
    "text",
    [
        "Gemini Flash 2\n2025 Roadmap\n",  # a year under a product name
        "It shipped on March 3, 2025 Maria said.",  # a year after a date's comma
        "Items: 1 x Pixel 8\n2 Cases\n",  # a count under a line that is not a street
        "Step 3\n1500 Users\n",  # a street needs a name that is no common word
    ],
)
def test_postcode_look_alikes_are_kept(text: str) -> None:
    assert found(text, "address") == []
